"""Scanner plugins: SANE end to end through libsane's ``pnm`` (a real image file) and ``test``
(feeder, jams) backends, and the folder a network scanner drops its files into."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from client.core.documents import ReceptionDocuments
from client.devices.scanners.folder import FolderScanner
from client.devices.scanners.registry import registry
from client.devices.scanners.sane import SaneScanner
from shared.errors import DeviceError, InvalidInput
from tests.conftest import sigpipe_ignored

pytest.importorskip("sane")

ROOT = Path(__file__).resolve().parents[2]


def page_image(seed: int = 0) -> Image.Image:
    """A synthetic A6-ish page: frame, lines and a box (no personal data)."""
    image = Image.new("L", (413, 583), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 392, 562), outline=0, width=3)
    for i in range(8):
        draw.line((40, 80 + i * 50 + seed, 370, 80 + i * 50 + seed), fill=60, width=2)
    draw.rectangle((250, 30, 380, 70), fill=120)
    return image


@pytest.fixture
def sane_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Only SANE's pnm and test backends (no network probing), through SANE_CONFIG_DIR."""
    conf = tmp_path / "sane.d"
    conf.mkdir()
    (conf / "dll.conf").write_text("pnm\ntest\n", encoding="ascii")
    (conf / "test.conf").write_text("number_of_devices 1\n", encoding="ascii")
    monkeypatch.setenv("SANE_CONFIG_DIR", str(conf))
    yield conf


def test_registry_lists_sane_and_folder() -> None:
    assert {"fake", "sane", "folder"} <= set(registry.ids())
    assert registry.get("sane") is SaneScanner and registry.get("folder") is FolderScanner


def test_sane_scans_a_real_file_end_to_end(sane_config: Path, tmp_path: Path) -> None:
    """pnm backend: the page image handed to libsane comes back pixel for pixel, as a PNG page
    that goes into the reception's documents."""
    source = tmp_path / "page.pgm"
    page_image().save(source)
    scanner = registry.create(
        "sane", device="pnm:0", options={"filename": str(source)}, output_dir=str(tmp_path / "out")
    )
    pages = scanner.scan()
    assert len(pages) == 1 and pages[0].media_type == "image/png"
    with Image.open(pages[0].path) as got:
        assert got.size == (413, 583) and got.mode == "L"
        assert ImageChops.difference(got, page_image()).getbbox() is None
    docs = ReceptionDocuments(tmp_path / "pending")
    doc = docs.add_scan(scanner, "power_of_attorney")
    assert doc.media_type == "image/png" and doc.pages == 1
    assert Image.open(io.BytesIO(docs.data(doc.id))).size == (413, 583)


def test_sane_feeder_scans_every_sheet(sane_config: Path, tmp_path: Path) -> None:
    """test backend with its document feeder (ten sheets): one page per sheet, then the end."""
    scanner = SaneScanner(
        device="test:0", source="Automatic Document Feeder", resolution=50, output_dir=tmp_path / "out"
    )
    assert scanner.uses_feeder()
    pages = scanner.scan()
    assert len(pages) == 10 and len({p.path for p in pages}) == 10
    assert all(p.path.is_file() and p.dpi == 50 for p in pages)


@pytest.mark.parametrize(
    ("option", "code", "words"),
    [
        ("status-jammed", "scanner.jammed", "紙詰まり"),
        ("status-coveropen", "scanner.cover_open", "カバーが開いています"),
        ("status-nodocs", "scanner.no_documents", "原稿がセットされていません"),
    ],
)
def test_sane_device_states_are_japanese_errors(
    sane_config: Path, tmp_path: Path, option: str, code: str, words: str
) -> None:
    """The pnm backend's simulated jam, open cover and empty feeder become clear Japanese errors."""
    source = tmp_path / "page.pgm"
    page_image().save(source)
    scanner = SaneScanner(
        device="pnm:0", options={"filename": str(source), option: True}, output_dir=tmp_path
    )
    with pytest.raises(DeviceError) as info:
        scanner.scan()
    assert info.value.error_code == code and words in info.value.message


NO_DEVICE = """
import json
from client.devices.scanners.sane import SaneScanner
from shared.errors import DeviceError
scanner = SaneScanner(output_dir=".")
result = scanner.check()
try:
    scanner.scan()
    code = None
except DeviceError as exc:
    code = exc.error_code
print(json.dumps({"ok": result.ok, "message": result.message, "code": code,
                  "missing": SaneScanner(device="pnm:7").check().message}))
"""


def test_sane_without_device_says_so(tmp_path: Path) -> None:
    """No backend configured (a fresh process: libsane keeps its backends once loaded): check()
    is not ok and scan() says no scanner was found."""
    conf = tmp_path / "empty.d"
    conf.mkdir()
    (conf / "dll.conf").write_text("", encoding="ascii")
    env = {**os.environ, "SANE_CONFIG_DIR": str(conf)}
    proc = subprocess.run(
        [sys.executable, "-c", NO_DEVICE], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert not out["ok"] and "スキャナーが見つかりません" in out["message"]
    assert out["code"] == "scanner.no_device"
    assert "pnm:7" in out["missing"]


def test_sane_check_names_the_device(sane_config: Path) -> None:
    result = SaneScanner(device="pnm:0").check()
    assert result.ok and "PNM file reader" in result.message and "pnm:0" in result.details["devices"]
    assert SaneScanner(source="ADF Duplex").uses_feeder() and not SaneScanner(source="Flatbed").uses_feeder()


def test_sane_scan_and_check_leave_sigpipe_ignored(sane_config: Path, tmp_path: Path) -> None:
    """libsane's thread helper resets SIGPIPE to "terminate" when a sheet has been read: the plugin
    puts Python's "ignore" back, after every sheet, after a scan and after a check."""
    assert sigpipe_ignored()
    scanner = SaneScanner(
        device="test:0", source="Automatic Document Feeder", resolution=50, output_dir=tmp_path / "out"
    )
    assert len(scanner.scan()) == 10
    assert sigpipe_ignored()
    assert scanner.check().ok
    assert sigpipe_ignored()


SCAN_THEN_WRITE = """
import socket, threading
from client.devices.scanners.sane import SaneScanner
scanner = SaneScanner(device="test:0", source="Automatic Document Feeder", resolution=50, output_dir="out")
pages = []
worker = threading.Thread(target=lambda: pages.extend(scanner.scan()))  # as the terminal: off the UI thread
worker.start()
worker.join()
ours, theirs = socket.socketpair()
theirs.close()  # the other side hung up
try:
    ours.sendall(b"x" * 100_000)
except BrokenPipeError:
    print("BrokenPipeError", len(pages))
"""


def test_a_hung_up_connection_after_a_scan_is_an_error_not_the_end_of_the_terminal(
    sane_config: Path, tmp_path: Path
) -> None:
    """The consequence, in a fresh process: after a feeder scan on a worker thread, writing to a
    connection the other side closed raises BrokenPipeError; libsane's reset made it kill the
    process (SIGPIPE), as it killed the test run in the JPKI emulator's oversized-answer case."""
    proc = subprocess.run(
        [sys.executable, "-c", SCAN_THEN_WRITE],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.split() == ["BrokenPipeError", "10"]


CAUGHT_THEN_SCAN = """
import socket, threading
from client.app.main import catch_sigpipe
from client.devices.scanners.sane import SaneScanner
from tests.conftest import sigpipe_caught
catch_sigpipe()
scanner = SaneScanner(device="test:0", source="Automatic Document Feeder", resolution=50, output_dir="out")
seen = []
worker = threading.Thread(target=lambda: seen.append((len(scanner.scan()), sigpipe_caught())))
worker.start()
worker.join()
ours, theirs = socket.socketpair()
theirs.close()
try:
    ours.sendall(b"x" * 100_000)
except BrokenPipeError:
    print("BrokenPipeError", *seen[0])
"""


def test_the_terminal_catches_sigpipe_so_libsane_leaves_it_alone(sane_config: Path, tmp_path: Path) -> None:
    """The terminal catches SIGPIPE with a handler that does nothing (``catch_sigpipe`` at start):
    libsane resets only an *ignored* SIGPIPE, so after a feeder scan on a worker thread the handler is
    still installed in the kernel (no window between libsane's reset and the plugin's repair) and a
    write to a closed connection is still a BrokenPipeError."""
    proc = subprocess.run(
        [sys.executable, "-c", CAUGHT_THEN_SCAN],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.split() == ["BrokenPipeError", "10", "True"]


# ------------------------------------------------------------------------------------ folder


def png_bytes(seed: int = 0) -> bytes:
    out = io.BytesIO()
    page_image(seed).save(out, "PNG")
    return out.getvalue()


def test_folder_waits_for_a_file_being_written(tmp_path: Path) -> None:
    """A page written in two parts with a pause is taken only when complete, and moved aside."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    data = png_bytes()
    scanner = FolderScanner(folder=inbox, settle_seconds=0.3, timeout_seconds=30, poll_seconds=0.05)

    def write_slowly() -> None:
        with open(inbox / "scan0001.png", "wb") as fh:
            fh.write(data[: len(data) // 2])
            fh.flush()
            time.sleep(0.8)  # longer than settle_seconds: size and time stand still meanwhile
            fh.write(data[len(data) // 2 :])

    writer = threading.Thread(target=write_slowly)
    writer.start()
    try:
        pages = scanner.scan()
    finally:
        writer.join()
    assert len(pages) == 1 and pages[0].media_type == "image/png"
    assert pages[0].path.read_bytes() == data and pages[0].path.parent == inbox / "取込済"
    assert not (inbox / "scan0001.png").exists()


def test_folder_takes_pages_in_name_order_and_skips_temporary_names(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i in (2, 1, 3):
        (inbox / f"page{i}.png").write_bytes(png_bytes(i))
    (inbox / "page4.png.part").write_bytes(b"\x89PNG half")
    (inbox / ".hidden.png").write_bytes(png_bytes())
    scanner = FolderScanner(folder=inbox, settle_seconds=0.1, poll_seconds=0.05, timeout_seconds=10)
    pages = scanner.scan()
    assert [p.path.name for p in pages] == ["page1.png", "page2.png", "page3.png"]
    assert (inbox / "page4.png.part").exists() and (inbox / ".hidden.png").exists()
    # The same name again later is kept beside the first, never overwritten.
    (inbox / "page1.png").write_bytes(png_bytes(9))
    [again] = scanner.scan()
    assert again.path.name == "page1_1.png" and again.path.read_bytes() == png_bytes(9)


def test_folder_rejects_non_images_and_broken_files_with_a_message(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "scan.pdf").write_bytes(b"%PDF-1.7 not an image")
    (inbox / "memo.txt").write_text("hello", encoding="utf-8")
    (inbox / "broken.png").write_bytes(png_bytes()[:100])
    scanner = FolderScanner(
        folder=inbox, settle_seconds=0.1, broken_after_seconds=0.5, poll_seconds=0.05, timeout_seconds=3
    )
    with pytest.raises(InvalidInput) as info:
        scanner.scan()
    assert "画像ではない" in info.value.message and "壊れている" in info.value.message
    assert sorted(r.name for r in scanner.last_rejected) == ["broken.png", "memo.txt", "scan.pdf"]
    assert sorted(p.name for p in (inbox / "取込不可").iterdir()) == ["broken.png", "memo.txt", "scan.pdf"]
    # A good page next to a bad file: the page is taken, the reason for the other is kept.
    (inbox / "ok.png").write_bytes(png_bytes())
    (inbox / "notes.docx").write_bytes(b"PK\x03\x04")
    pages = scanner.scan()
    assert [p.path.name for p in pages] == ["ok.png"]
    assert [r.name for r in scanner.last_rejected] == ["notes.docx"]


def test_folder_timeout_and_check(tmp_path: Path) -> None:
    unset = FolderScanner()
    assert not unset.check().ok and "設定されていません" in unset.check().message
    missing = FolderScanner(folder=tmp_path / "nowhere")
    assert not missing.check().ok
    with pytest.raises(DeviceError, match="見つかりません"):
        missing.scan()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    scanner = FolderScanner(folder=inbox, timeout_seconds=0.3, poll_seconds=0.05)
    assert scanner.check().ok and "取り込み待ち 0 件" in scanner.check().message
    with pytest.raises(DeviceError) as info:
        scanner.scan()
    assert info.value.error_code == "scanner.folder_timeout" and "届きません" in info.value.message


# ------------------------------------------------------------------------------------ WIA


def test_wia_is_registered_and_maps_hresults_to_japanese() -> None:
    """WIA cannot run here (Linux): its HRESULT mapping and its "not available" path are tested."""
    from client.devices.scanners.wia import WiaScanner, hresult_error

    assert registry.get("wia") is WiaScanner and "未検証" in WiaScanner.label
    assert hresult_error(0x80210002).error_code == "scanner.jammed"
    assert "紙詰まり" in hresult_error(0x80210002 - 0x100000000).message  # signed as COM gives it
    assert hresult_error(0x80210016).error_code == "scanner.cover_open"
    assert "0x80212222" in hresult_error(0x80212222).message
    if sys.platform != "win32":
        result = WiaScanner().check()
        assert not result.ok and "Windows" in result.message
        with pytest.raises(DeviceError, match="Windows"):
            WiaScanner().scan()
