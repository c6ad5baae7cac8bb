"""The counter screen and its station (no server): 読取 with the station profile's OCR setting;
logout and a change of clerk empty the screen, and drafts stay with the clerk who typed them."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

pytest.importorskip("PySide6")

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFontMetrics, QInputMethodEvent
from PySide6.QtWidgets import QApplication, QComboBox, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from client.app.context import AppContext, build_context
from client.app.main import create_application
from client.app.settings import ClientSettings, default_station_dir
from client.core.auth import Session
from client.core.ocr.canvas_fill import CanvasFill
from client.core.ocr.engines.base import OcrEngine, OcrResult, ReadRequest
from client.core.ocr.engines.registry import registry as ocr_registry
from client.core.ocr.routing import Engines
from client.ui.counter.draft_keeper import SCREEN
from client.ui.counter.move_in import MoveInForm
from client.ui.login import LoginDialog
from client.ui.main_window import MainWindow
from client.ui.widgets.form_canvas import COMBO_CHROME_PX
from client.ui.worker import wait_for_background
from shared.api import UserInfo

pytestmark = pytest.mark.ui

PAGE = Path(__file__).resolve().parents[1] / "data" / "ocr" / "fixed" / "page0000.jpg"
SHOTS = Path(os.environ.get("MADOGUCHI_SCREENSHOT_DIR", tempfile.gettempdir()))
TRUTH = json.loads(PAGE.with_suffix(".json").read_text(encoding="utf-8"))["fields"]


def station_dir(folder: Path, **changes: Any) -> Path:
    """A copy of the counter station profile with ``changes``."""
    profile = yaml.safe_load((default_station_dir() / "counter.yaml").read_text(encoding="utf-8"))
    profile.update(changes)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "counter.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    return folder


def user(username: str = "demo", display_name: str = "試験 職員", *permissions: str) -> UserInfo:
    return UserInfo(
        id=uuid.uuid4(),
        lg_code="082104",
        username=username,
        display_name=display_name,
        permissions=["mode.counter", *permissions],
        groups=[],
    )


@pytest.fixture
def make_ctx(client_settings: ClientSettings) -> Iterator[Any]:
    made: list[AppContext] = []

    def build(stations: Path | None = None, username: str = "demo") -> AppContext:
        create_application()
        settings = client_settings.model_copy(update={"station_dir": stations or default_station_dir()})
        ctx = build_context(settings)
        ctx.session = Session("http://127.0.0.1:9", "token", None, user(username))
        made.append(ctx)
        return ctx

    yield build
    wait_for_background(10000)
    for ctx in made:
        ctx.close()


class RecordingEngine(OcrEngine):
    """The real Tesseract engine, counting its calls (stands for the one engine a station forces)."""

    plugin_id = "recording"
    label = "記録用"

    def __init__(self) -> None:
        super().__init__()
        self.inner = ocr_registry.create("tesseract")
        self.calls = 0

    def read(self, image: np.ndarray, request: ReadRequest) -> OcrResult:
        self.calls += 1
        return self.inner.read(image, request)


def test_reading_uses_the_engines_given_to_the_screen(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """読取 reads with the screen's engines (the station's), never the process's routed default."""
    import client.core.ocr.pipeline as pipeline

    def no_default() -> Engines:
        raise AssertionError("the routed default engines were used")

    monkeypatch.setattr(pipeline, "shared_engines", no_default)
    create_application()
    engine = RecordingEngine()
    form = MoveInForm(engines=Engines.single(engine))
    qtbot.addWidget(form)
    page = tmp_path / PAGE.name
    shutil.copy(PAGE, page)
    with qtbot.waitSignal(form.reading_finished, timeout=120_000):
        form.read_file(page)
    assert "読み取りました" in form.scan_status.text(), form.scan_status.text()
    assert engine.calls > 5  # every zone of the 転出証明書 went to the forced engine
    assert form.fields["persons.0.birth_date"].text() == TRUTH["birth_date"]


def test_main_window_gives_the_station_ocr_setting_to_the_canvas(
    qtbot: QtBot, tmp_path: Path, make_ctx: Any
) -> None:
    """A station profile forcing ``ocr_engine: fake``: the counter's canvas reads with that engine
    alone (a routed station gets the routed table)."""
    ctx = make_ctx(station_dir(tmp_path / "stations", ocr_engine="fake"))
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    form = window.counter
    assert form is not None and form.engines is ctx.devices.ocr
    engines = form.engines
    assert engines is not None and engines.engine_ids() == ["fake"]
    assert [e.plugin_id for e in engines.all()] == ["fake"]
    routed = make_ctx(station_dir(tmp_path / "routed", ocr_engine="routed"))
    window2 = MainWindow(routed)
    qtbot.addWidget(window2)
    routed_ocr: Engines = routed.devices.ocr
    assert window2.counter is not None and window2.counter.engines is routed_ocr
    assert routed_ocr.engine_ids() and routed_ocr.engine_ids() != ["fake"]


def commit(widget: QWidget, text: str) -> None:
    """Japanese text as the input method commits it."""
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def close_login_dialog(closed: list[str]) -> None:
    """Cancel the login dialog a logout opens (modal) once it shows (polled by timers: a waiting
    loop here would sit under the dialog's own exec())."""
    dialog = QApplication.activeModalWidget()
    if not isinstance(dialog, LoginDialog):
        QTimer.singleShot(20, lambda: close_login_dialog(closed))
        return
    closed.append(dialog.windowTitle())
    dialog.reject()


def answer_restore(answers: list[str], button: QMessageBox.StandardButton) -> None:
    box = QApplication.activeModalWidget()
    if not isinstance(box, QMessageBox):
        QTimer.singleShot(20, lambda: answer_restore(answers, button))
        return
    answers.append(box.text())
    box.button(button).click()


def test_logout_empties_the_screen_and_keeps_the_draft_for_its_clerk(
    qtbot: QtBot, tmp_path: Path, make_ctx: Any
) -> None:
    """Clerk A types a resident and logs out: the screen is empty before the login dialog shows
    (fields, persons, the last line); A's input is A's draft. Clerk B logs in: nothing offered,
    nothing shown, B cannot load it. A logs in again: asked, 復元する puts everything back."""
    ctx = make_ctx(username="clerk-a")
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    form = window.counter
    keeper = window.draft_keeper
    assert form is not None and keeper is not None
    editor = form.fields["persons.0.family_name"].editor
    editor.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is editor, timeout=5000)
    commit(editor, "前住民")
    form.add_person()
    form.fields["persons.1.family_name"].set_text("前住民")
    form.last_reception.setText("受付番号: 20261130-0001（前住民　一郎）")
    typed = form.raw_values()

    closed: list[str] = []
    QTimer.singleShot(0, lambda: close_login_dialog(closed))
    window.logout()
    # emptied at once, before the login dialog (which shows over the window) appears
    assert form.fields["persons.0.family_name"].text() == "" and len(form.persons) == 1
    assert form.last_reception.text() == "" and form.is_blank()
    qtbot.waitUntil(lambda: closed == ["ログイン — Madoguchi"] and keeper.idle, timeout=10000)
    assert ctx.session is None
    draft = ctx.drafts.load(SCREEN, username="clerk-a")
    assert draft is not None and draft.values == typed
    assert ctx.drafts.load(SCREEN, username="clerk-b") is None and ctx.drafts.load(SCREEN) is None

    asked: list[str] = []
    QTimer.singleShot(0, lambda: answer_restore(asked, QMessageBox.StandardButton.Yes))
    ctx.session = Session("http://127.0.0.1:9", "token", None, user("clerk-b", "別の 職員"))
    window.refresh_session()
    qtbot.wait(300)
    assert asked == [] and form.is_blank() and window.screen_owner == "clerk-b"
    commit(form.fields["notifier.name"].editor, "次の届出人")
    qtbot.waitUntil(
        lambda: keeper.idle and ctx.drafts.load(SCREEN, username="clerk-b") is not None, timeout=5000
    )
    window.grab().save(str(SHOTS / "madoguchi_counter_after_switch.png"))

    # clerk A again (B's input goes to B's draft): A is asked about A's draft only
    ctx.session = Session("http://127.0.0.1:9", "token", None, user("clerk-a"))
    window.refresh_session()
    qtbot.waitUntil(lambda: form.fields["persons.0.family_name"].text() == "前住民", timeout=10000)
    assert asked == ["前回の入力途中の届出があります。復元しますか？"]
    assert form.raw_values() == typed
    b_draft = ctx.drafts.load(SCREEN, username="clerk-b")
    assert b_draft is not None and b_draft.values["notifier.name"] == "次の届出人"


def test_a_change_of_clerk_rebuilds_the_supervisor_page(qtbot: QtBot, tmp_path: Path, make_ctx: Any) -> None:
    """The supervisor page is built with its user's permissions (語句登録（共通） needs phrase.manage):
    the next clerk at the same window gets a page built for them, not the previous one's tabs."""
    from client.ui.supervisor.panel import SupervisorPanel
    from client.ui.widgets.phrases import PhraseManager
    from shared.api import StationMode

    ctx = make_ctx(station_dir(tmp_path / "stations", modes=["counter", "supervisor"]), username="boss")
    ctx.session = Session(
        "http://127.0.0.1:9", "token", None, user("boss", "係長", "mode.supervisor", "phrase.manage")
    )
    window = MainWindow(ctx)
    qtbot.addWidget(window)

    def supervisor_page() -> SupervisorPanel:
        window.mode_box.setCurrentIndex(window.mode_box.findData(StationMode.supervisor.value))
        page = window.stack.currentWidget()
        assert isinstance(page, SupervisorPanel)
        return page

    first = supervisor_page()
    assert first.findChildren(PhraseManager)
    ctx.session = Session(
        "http://127.0.0.1:9", "token", None, user("clerk-b", "別の 職員", "mode.supervisor")
    )
    window.refresh_session()
    assert first not in window.pages.values()
    second = supervisor_page()
    assert second is not first and not second.findChildren(PhraseManager)
    wait_for_background(10000)


def test_a_reading_started_before_logout_is_not_pasted_after_it(qtbot: QtBot) -> None:
    """A 読取 finishing after the screen was emptied for another clerk puts nothing on it."""
    create_application()
    form = MoveInForm()
    qtbot.addWidget(form)
    form._start_reading("読み取っています…")
    form.reset_screen()
    fill = CanvasFill(source="転出証明書", values={"persons.0.family_name": "前住民"})
    form._pages_read([("page.jpg", fill)])
    assert form.fields["persons.0.family_name"].text() == "" and not form.reading


def test_counter_window_fits_1024_by_768_and_sex_placeholder_fits(qtbot: QtBot, make_ctx: Any) -> None:
    """At 1024×768 (less the frame) the counter window fits: the 持参書類 wrap to a second line,
    every button and box lies inside the window; at 80 % zoom the 性別 choice's text fits its box."""
    ctx = make_ctx()
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.resize(1024 - 16, 768 - 40)
    window.show()
    qtbot.waitExposed(window)
    form = window.counter
    assert form is not None
    assert window.minimumSizeHint().width() <= 1024 - 16
    assert window.width() == 1024 - 16
    right = window.width()
    for widget in [
        *form.document_boxes.values(),
        form.kind_box,
        form.scan_button,
        form.file_button,
        form.documents_button,
        form.zoom_box,
        form.submit_button,
        form.print_button,
        form.clear_button,
    ]:
        top_left = widget.mapTo(window, widget.rect().topLeft())
        assert widget.isVisible() and top_left.x() >= 0 and top_left.x() + widget.width() <= right, widget
    rows = {box.mapTo(window, box.rect().topLeft()).y() for box in form.document_boxes.values()}
    assert len(rows) == 2  # wrapped, not cut off
    assert form.zoom_box.currentText() == "80%"
    sex = form.fields["persons.0.sex"].editor
    assert isinstance(sex, QComboBox)
    metrics = QFontMetrics(sex.font())
    assert sex.currentText() == "選択"
    assert all(metrics.horizontalAdvance(sex.itemText(i)) + COMBO_CHROME_PX <= sex.width() for i in range(3))
    window.grab().save(str(SHOTS / "madoguchi_counter_1024x768.png"))
    window.resize(1366 - 16, 768 - 40)
    qtbot.waitUntil(
        lambda: len({b.mapTo(window, b.rect().topLeft()).y() for b in form.document_boxes.values()}) == 1
    )
