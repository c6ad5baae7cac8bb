"""印刷 from the main window: Ctrl+P renders the forms and sends them to the station's printer."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

pytest.importorskip("PySide6")

from pypdf import PdfReader
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from client.app.context import AppContext, build_context
from client.app.main import create_application
from client.app.settings import ClientSettings, default_station_dir
from client.core.auth import Session
from client.ui.counter.draft_keeper import SCREEN
from client.ui.counter.move_in import MoveInForm
from client.ui.main_window import MainWindow
from client.ui.worker import wait_for_background
from shared.api import UserInfo
from tests.client.forms import move_in_form

pytestmark = pytest.mark.ui

WindowFor = Callable[[Path], MainWindow]


def station_with_printer(folder: Path, printer: str, settings: dict[str, object]) -> Path:
    """A copy of the counter station profile whose printer is ``printer`` with ``settings``."""
    profile = yaml.safe_load((default_station_dir() / "counter.yaml").read_text(encoding="utf-8"))
    profile["printer"] = printer
    profile["settings"] = {"printer": settings}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "counter.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    return folder


def make_ctx(client_settings: ClientSettings, station_dir: Path) -> AppContext:
    """A context on ``station_dir`` with a clerk logged in (no server: sending is never started)."""
    create_application()
    ctx = build_context(client_settings.model_copy(update={"station_dir": station_dir}))
    user = UserInfo(
        id=uuid.uuid4(),
        lg_code="082104",
        username="demo",
        display_name="試験 職員",
        permissions=["mode.counter"],
        groups=[],
    )
    ctx.session = Session("http://127.0.0.1:9", "token", None, user)
    return ctx


@pytest.fixture
def window_for(qtbot: QtBot, client_settings: ClientSettings) -> Iterator[WindowFor]:
    made: list[AppContext] = []

    def build(station_dir: Path) -> MainWindow:
        ctx = make_ctx(client_settings, station_dir)
        made.append(ctx)
        window = MainWindow(ctx)
        qtbot.addWidget(window)
        window.show()
        window.activateWindow()
        qtbot.waitActive(window)
        return window

    yield build
    wait_for_background(10000)
    for ctx in made:
        ctx.close()


def fill(form: MoveInForm) -> None:
    data = move_in_form()
    form.fields["moved_on"].set_text(data["moved_on"])
    form.fields["notifier.name"].set_text(data["notifier"]["name"])
    for prefix in ("new_address", "old_address"):
        for part, value in data[prefix].items():
            form.fields[f"{prefix}.{part}"].set_text(value)
    for part, value in data["persons"][0].items():
        form.persons[0].fields[part].set_text(value)


def press_ctrl_p(qtbot: QtBot, form: MoveInForm) -> None:
    editor = form.fields["persons.0.family_name"].editor
    editor.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is editor, timeout=5000)
    qtbot.keyClick(editor, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)


def test_ctrl_p_prints_every_form_to_the_station_printer(
    qtbot: QtBot, tmp_path: Path, window_for: WindowFor
) -> None:
    """Ctrl+P on a filled form: PDFs from the station's pdf-file printer, the name in their text."""
    out = tmp_path / "printed"
    window = window_for(station_with_printer(tmp_path / "stations", "pdf-file", {"folder": str(out)}))
    form = window.counter
    assert form is not None
    fill(form)
    press_ctrl_p(qtbot, form)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("印刷しました"), timeout=60000)
    pdfs = sorted(out.glob("*.pdf"))
    assert pdfs and window.statusBar().currentMessage() == f"印刷しました（{len(pdfs)}件）"
    assert form.print_button.isEnabled()
    texts = ["".join(page.extract_text() or "" for page in PdfReader(p).pages) for p in pdfs]
    assert all("試験" in t for t in texts), texts
    assert window.ctx.outbox.items() == []  # printed, not submitted


def test_ctrl_p_through_the_qt_printer_on_the_worker_thread(
    qtbot: QtBot, tmp_path: Path, window_for: WindowFor
) -> None:
    """The station's printer is ``qt`` (its output a PDF file here): Ctrl+P draws each form on a
    QPrinter off the UI thread; every page of the output has the resident's name."""
    out = tmp_path / "qt-printed"
    station = station_with_printer(tmp_path / "stations", "qt", {"output_folder": str(out), "dpi": 150})
    window = window_for(station)
    form = window.counter
    assert form is not None
    fill(form)
    press_ctrl_p(qtbot, form)
    qtbot.waitUntil(
        lambda: window.statusBar().currentMessage().startswith(("印刷しました", "印刷でき")), timeout=60000
    )
    pdfs = sorted(out.glob("*.pdf"))
    assert pdfs and window.statusBar().currentMessage() == f"印刷しました（{len(pdfs)}件）"
    for pdf in pdfs:
        assert len(PdfReader(pdf).pages) >= 1


def test_printer_error_is_shown_in_japanese(qtbot: QtBot, tmp_path: Path, window_for: WindowFor) -> None:
    """A printer that cannot print puts its Japanese message in the status bar; the input stays."""
    window = window_for(station_with_printer(tmp_path / "stations", "pdf-file", {}))
    form = window.counter
    assert form is not None
    fill(form)
    press_ctrl_p(qtbot, form)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("印刷でき"), timeout=60000)
    assert window.statusBar().currentMessage() == (
        "印刷できませんでした: PDFの保存先フォルダーが設定されていません。"
    )
    assert form.print_button.isEnabled() and form.fields["persons.0.family_name"].text() == "試験"


def test_main_window_offers_the_draft_after_login(
    qtbot: QtBot, tmp_path: Path, client_settings: ClientSettings, window_for: WindowFor
) -> None:
    """A draft left in the data directory is offered when the window opens; 復元する fills the form."""
    ctx = make_ctx(client_settings, default_station_dir())
    ctx.drafts.save(
        SCREEN, {"persons.0.family_name": "葛\U000e0100城", "persons.0.my_number": "12"}, username="demo"
    )
    ctx.close()
    asked: list[str] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        asked.append(box.text())
        box.button(QMessageBox.StandardButton.Yes).click()

    QTimer.singleShot(0, answer)
    window = window_for(default_station_dir())
    form = window.counter
    assert form is not None
    qtbot.waitUntil(lambda: form.fields["persons.0.family_name"].text() == "葛\U000e0100城", timeout=10000)
    assert asked == ["前回の入力途中の届出があります。復元しますか？"]
    assert form.fields["persons.0.my_number"].text() == "12"
