"""The ``qt`` printer plugin for real, offscreen: the rendered forms drawn on a QPrinter whose output
is a PDF file (the same QPainter → QPrinter path a CUPS or spooler job takes), read back with pypdf
and poppler: page count, paper size and orientation, ink where the form has ink."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PIL import Image, ImageChops, ImageFilter
from pypdf import PdfReader

from client.app.main import create_application
from client.core.print.service import PrintedForm, print_forms
from client.devices.printers.registry import registry
from client.ui.qt_print import PageSpec, QtPrinter, WindowsSpoolerPrinter, pdf_pages
from shared.errors import DeviceError
from shared.models.movement_notice import MovementNotice
from tests.client.print.pdfcheck import pdftoppm

pytestmark = pytest.mark.ui

SHOTS = Path(os.environ.get("MADOGUCHI_SCREENSHOT_DIR", tempfile.gettempdir()))
MM_PER_PT = 25.4 / 72


@pytest.fixture(autouse=True)
def app() -> None:
    create_application()


def page_mm(reader: PdfReader, index: int) -> tuple[float, float]:
    box = reader.pages[index].mediabox
    return float(box.width) * MM_PER_PT, float(box.height) * MM_PER_PT


def form(forms: list[PrintedForm], layout_id: str) -> PrintedForm:
    return next(f for f in forms if f.layout_id == layout_id)


def ink_fraction(image: Image.Image) -> float:
    grey = image.convert("L")
    dark = sum(grey.histogram()[:160])
    return dark / (grey.width * grey.height)


def test_registry_gives_the_qt_plugins() -> None:
    """qt and windows-spooler are the Qt implementation (no stub left)."""
    assert registry.get("qt") is QtPrinter
    assert registry.get("windows-spooler") is WindowsSpoolerPrinter


@pytest.mark.parametrize(
    ("layout_id", "paper", "size_mm"),
    [
        ("movement-notice", "A3", (420, 297)),  # A3 landscape
        ("seal-certificate-request", "B5", (182, 257)),  # JIS B5
        ("resident-record-request", "A4", (210, 297)),
    ],
)
def test_qt_printer_prints_the_form_on_its_paper(
    tmp_path: Path, forms: list[PrintedForm], layout_id: str, paper: str, size_mm: tuple[int, int]
) -> None:
    """Each page goes to the QPrinter on the layout's paper and orientation; the printed page has
    the form's ink in the same places as the PDF rendered by the client."""
    printed = form(forms, layout_id)
    assert pdf_pages(printed.pdf)[0].paper() == paper
    printer = QtPrinter(output_folder=tmp_path / "out", dpi=100)
    assert printer.check().ok
    job = printer.print_pdf(printed.pdf, title=printed.label)
    out = Path(job.location or "")
    assert out.is_file() and out.parent == tmp_path / "out"
    reader = PdfReader(out)
    source = PdfReader(io.BytesIO(printed.pdf))
    assert len(reader.pages) == len(source.pages)
    w, h = page_mm(reader, 0)
    assert abs(w - size_mm[0]) < 1.5 and abs(h - size_mm[1]) < 1.5, (w, h)
    # pixels: the printed page is not blank, and its ink lies where the original's does
    original = tmp_path / "original.pdf"
    original.write_bytes(printed.pdf)
    got = Image.open(pdftoppm(out, tmp_path / "got", dpi=50)).convert("L")
    want = Image.open(pdftoppm(original, tmp_path / "want", dpi=50)).convert("L")
    assert abs(got.width - want.width) <= 1 and abs(got.height - want.height) <= 1  # Qt rounds to points
    got = got.resize(want.size)
    assert ink_fraction(got) > 0.01
    assert abs(ink_fraction(got) - ink_fraction(want)) < 0.02
    # same strokes in the same places (blurred: the two rasterisations anti-alias hairlines apart)
    diff = ImageChops.difference(got.filter(ImageFilter.BoxBlur(2)), want.filter(ImageFilter.BoxBlur(2)))
    assert sum(diff.histogram()[64:]) / (got.width * got.height) < 0.01
    shifted = ImageChops.difference(
        ImageChops.offset(got, 0, 8).filter(ImageFilter.BoxBlur(2)), want.filter(ImageFilter.BoxBlur(2))
    )
    assert sum(shifted.histogram()[64:]) > 3 * sum(diff.histogram()[64:])  # the check can fail
    if layout_id == "movement-notice":
        got.save(SHOTS / "madoguchi_qt_printed_notice.png")


def test_qt_printer_copies_and_mixed_papers(tmp_path: Path, notice: MovementNotice) -> None:
    """print_forms through qt with 2 copies: every form twice, each on its own paper."""
    printer = QtPrinter(output_folder=tmp_path / "out", dpi=72)
    jobs = print_forms(notice, printer, ["movement-notice", "seal-certificate-request"], copies=2)
    assert len(jobs) == 2
    notice_pdf = PdfReader(jobs[0][1].location or "")
    b5_pdf = PdfReader(jobs[1][1].location or "")
    pages = len(PdfReader(io.BytesIO(jobs[0][0].pdf)).pages)
    assert len(notice_pdf.pages) == 2 * pages  # the PDF "printer" has no copy count: sent twice
    assert all(abs(page_mm(notice_pdf, i)[0] - 420) < 1.5 for i in range(len(notice_pdf.pages)))
    assert len(b5_pdf.pages) == 2 and abs(page_mm(b5_pdf, 1)[0] - 182) < 1.5


def test_unknown_printer_is_refused_in_japanese(forms: list[PrintedForm]) -> None:
    """A printer name the OS does not know: printer.not_found, the name in the message."""
    printer = QtPrinter(printer="存在しないプリンター")
    with pytest.raises(DeviceError) as caught:
        printer.print_pdf(forms[0].pdf, title="住民異動届")
    assert caught.value.error_code == "printer.not_found"
    assert "「存在しないプリンター」が見つかりません" in caught.value.message
    result = printer.check()
    assert not result.ok and "見つかりません" in result.message


def test_broken_and_non_pdf_input_is_refused(tmp_path: Path) -> None:
    """Not a PDF, or a damaged one: a Japanese error and nothing written."""
    printer = QtPrinter(output_folder=tmp_path / "out")
    with pytest.raises(DeviceError, match="PDFではありません"):
        printer.print_pdf(b"hello", title="x")
    with pytest.raises(DeviceError, match="壊れています") as caught:
        printer.print_pdf(b"%PDF-1.4\n" + os.urandom(2000), title="x")
    assert caught.value.error_code == "printer.broken_pdf"
    assert not list((tmp_path / "out").glob("*.pdf"))


def test_missing_rasteriser_is_named(
    tmp_path: Path, forms: list[PrintedForm], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without pdftoppm (and without QtPdf) the message says which package to install."""
    monkeypatch.setattr("client.ui.qt_print._qtpdf_available", lambda: False)
    printer = QtPrinter(output_folder=tmp_path / "out", pdftoppm="no-such-pdftoppm")
    with pytest.raises(DeviceError, match="poppler-utils") as caught:
        printer.print_pdf(forms[0].pdf, title="x")
    assert caught.value.error_code == "printer.rasteriser_missing"


def test_windows_spooler_is_windows_only_here() -> None:
    """On Linux the windows-spooler id says to use qt or cups; it never pretends to print."""
    printer = WindowsSpoolerPrinter()
    if os.name == "nt":  # pragma: no cover - the suite runs on Linux
        pytest.skip("Windows")
    assert not printer.check().ok
    with pytest.raises(DeviceError, match="Windows でだけ") as caught:
        printer.print_pdf(b"%PDF-1.4\n", title="x")
    assert caught.value.error_code == "printer.not_available"


def test_page_spec_names_papers() -> None:
    """A page is matched to A4 / A3 / JIS B5 in either orientation, otherwise it is custom."""
    assert PageSpec(297, 210).paper() == "A4" and PageSpec(297, 210).landscape
    assert PageSpec(257.2, 181.9).paper() == "B5"
    assert PageSpec(100, 148).paper() is None
