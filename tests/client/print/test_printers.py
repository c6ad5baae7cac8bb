"""Printer plugins: pdf-file, CUPS through lp, fake, and fake (qt / windows-spooler: test_qt_printer.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from client.core.print.service import PrintedForm, print_forms
from client.devices.printers.cups import CupsPrinter
from client.devices.printers.registry import registry
from shared.errors import DeviceError
from shared.models.movement_notice import MovementNotice

PDF = b"%PDF-1.4\n%test\n"


def test_registry_lists_every_printer_family() -> None:
    """pdf-file, cups, fake, qt and windows-spooler are registered under their stable ids."""
    assert {"pdf-file", "cups", "fake", "qt", "windows-spooler"} <= set(registry.ids())


def test_pdf_file_printer_saves_each_form(
    tmp_path: Path, notice: MovementNotice, forms: list[PrintedForm]
) -> None:
    """print_forms through pdf-file writes one PDF per form, before anything is submitted."""
    printer = registry.create("pdf-file", folder=tmp_path / "out")
    assert printer.check().ok
    jobs = print_forms(notice, printer)
    assert len(jobs) == len(forms)
    for form, job in jobs:
        assert job.location and Path(job.location).read_bytes() == form.pdf
    assert not list((tmp_path / "out").glob("*.part"))


def test_pdf_file_printer_without_folder_is_not_ready() -> None:
    """pdf-file without a folder says so in check() and refuses to print."""
    printer = registry.create("pdf-file")
    assert not printer.check().ok
    with pytest.raises(DeviceError, match="保存先フォルダー"):
        printer.print_pdf(PDF, title="x")


def _fake_lp(tmp_path: Path, exit_code: int = 0) -> Path:
    """An ``lp`` that records its arguments and standard input, answering like CUPS."""
    script = tmp_path / "lp"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{tmp_path}/args"\n'
        f'cat > "{tmp_path}/stdin"\n'
        f"if [ {exit_code} -ne 0 ]; then\n"
        f"  echo 'lp: The printer or class does not exist.' >&2; exit {exit_code}\n"
        "fi\n"
        "echo 'request id is VPDF-42 (1 file(s))'\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_cups_printer_sends_pdf_to_lp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """cups runs lp with queue, copies, title and media, the PDF on stdin, and returns CUPS's job id."""
    _fake_lp(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    printer = CupsPrinter(queue="VPDF", media="A3", options={"sides": "one-sided"})
    job = printer.print_pdf(PDF, title="住民異動届", copies=2)
    assert job.job_id == "VPDF-42"
    args = (tmp_path / "args").read_text(encoding="utf-8").splitlines()
    assert args == [
        "-d",
        "VPDF",
        "-n",
        "2",
        "-t",
        "住民異動届",
        "-o",
        "media=A3",
        "-o",
        "sides=one-sided",
        "--",
        "-",
    ]
    assert (tmp_path / "stdin").read_bytes() == PDF


def test_cups_printer_reports_a_refused_job_in_japanese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An lp failure becomes a DeviceError naming the queue and CUPS's reason."""
    _fake_lp(tmp_path, exit_code=1)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(DeviceError, match="「NOPE」に送れませんでした") as caught:
        CupsPrinter(queue="NOPE").print_pdf(PDF, title="x")
    assert caught.value.error_code == "printer.rejected"


def test_cups_check_without_lp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the lp command, check() says cups-client is missing."""
    monkeypatch.setenv("PATH", "/nonexistent")
    result = CupsPrinter(queue="VPDF").check()
    assert not result.ok and "cups-client" in result.message


def test_fake_printer_rejects_non_pdf(tmp_path: Path) -> None:
    """The fake printer stores PDFs and refuses anything else."""
    printer = registry.create("fake", folder=tmp_path)
    assert Path(printer.print_pdf(PDF, title="t").location or "").read_bytes() == PDF
    with pytest.raises(DeviceError):
        printer.print_pdf(b"not a pdf", title="t")
