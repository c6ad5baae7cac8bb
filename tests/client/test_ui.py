"""Offscreen Qt tests of the client with a live server: login, 転入 by keyboard, delivery, errors."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from itertools import groupby
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from client.app.context import AppContext, build_context
from client.app.main import create_application, run
from client.app.settings import ClientSettings
from client.app.wiring import load_station
from client.core.auth import MEMORY_ONLY_NOTICE, TokenStore
from client.core.outbox import State
from client.ui.counter.move_in import MoveInForm
from client.ui.kiosk.panel import KioskPanel
from client.ui.login import LoginDialog
from client.ui.main_window import MainWindow
from client.ui.settings_dialog import SettingsDialog
from client.ui.supervisor.panel import SupervisorPanel
from client.ui.worker import wait_for_background
from tests.client.forms import VALID_MY_NUMBER, VALID_RESIDENT_CODE
from tests.conftest import LiveServer, start_live_server

pytestmark = pytest.mark.ui

#: Screenshots for a human to look at (default the system temp dir, i.e. /tmp/madoguchi_counter*.png).
SHOTS = Path(os.environ.get("MADOGUCHI_SCREENSHOT_DIR", tempfile.gettempdir()))
SCREENSHOT = SHOTS / "madoguchi_counter.png"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for this module (no test here stops it); overrides the per-test fixture."""
    srv = start_live_server(tmp_path_factory.mktemp("ui") / "server")
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def ctx(client_settings: ClientSettings, live_server: LiveServer) -> Iterator[AppContext]:
    create_application()
    settings = client_settings.model_copy(
        update={"server_url": live_server.url, "sync_poll_interval_s": 0.2, "sync_backoff_base_s": 0.2}
    )
    context = build_context(settings)
    context.worker.start()
    try:
        yield context
    finally:
        wait_for_background(5000)
        context.close()


def login_by_keyboard(qtbot: QtBot, ctx: AppContext, live_server: LiveServer) -> None:
    dialog = LoginDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitActive(dialog)
    assert dialog.lg_code.text() == "082104"
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.username, timeout=5000)
    qtbot.keyClicks(dialog.username, live_server.clerk[0])
    qtbot.keyClick(dialog.username, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is dialog.password
    qtbot.keyClicks(dialog.password, live_server.clerk[1])
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.session is not None, timeout=15000)
    assert ctx.session is not None and ctx.session.user.username == "demo"


def show_active(qtbot: QtBot, window: QWidget) -> None:
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)


def type_text(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """ASCII as key clicks; Japanese as the IME's committed text (QTest cannot click non-ASCII keys)."""
    target = widget.lineEdit() if isinstance(widget, QComboBox) and widget.isEditable() else widget
    for ascii_run, chunk in ((k, "".join(g)) for k, g in groupby(text, key=str.isascii)):
        if ascii_run:
            qtbot.keyClicks(target, chunk)
        else:
            event = QInputMethodEvent()
            event.setCommitString(chunk)
            QApplication.sendEvent(target, event)


def type_into(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """Type ``text`` into the focused widget, then Tab to the next field."""
    if text:
        if isinstance(widget, QComboBox) and not widget.isEditable():
            qtbot.keyClick(widget, Qt.Key.Key_Down)
        else:
            type_text(qtbot, widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Tab)


def fill_form_by_keyboard(qtbot: QtBot, form: MoveInForm, my_number: str) -> None:
    """Fill the canvas field after field with Tab, checking that Tab goes in the canvas's order."""
    values = {
        "notified_on": "",  # keep today's default
        "moved_on": "R6.4.1",
        "notifier.name": "試験　太郎",
        "notifier.standing": "",
        "notifier.phone": "0296-43-2111",
        "new_address.prefecture": "茨城県",
        "new_address.municipality": "下妻市",
        "new_address.town": "本城町二丁目",
        "new_address.block_number": "22番地",
        "new_address.postal_code": "3040067",
        "old_address.prefecture": "東京都",
        "old_address.municipality": "千代田区",
        "old_address.town": "千代田",
        "old_address.block_number": "1番1号",
        "old_address.postal_code": "1000001",
        "persons.0.family_name_kana": "シケン",
        "persons.0.given_name_kana": "タロウ",
        "persons.0.family_name": "試験",
        "persons.0.given_name": "太郎",
        "persons.0.birth_date": "昭和55年4月1日",
        "persons.0.sex": "男",
        "persons.0.relationship": "世帯主",
        "persons.0.resident_code": VALID_RESIDENT_CODE,
        "persons.0.my_number": my_number,
    }
    form.fields["notified_on"].editor.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.fields["notified_on"].editor, timeout=5000)
    for name, field in form.fields.items():
        editor = field.editor
        assert QApplication.focusWidget() is editor, f"Tab order broken before {name}"
        type_into(qtbot, editor, values.get(name, ""))


def test_login_fill_submit_and_see_reception_number(
    qtbot: QtBot, ctx: AppContext, live_server: LiveServer
) -> None:
    """Log in by keyboard, fill the 転入 form by keyboard, Ctrl+Enter; the 受付番号 appears once delivered."""
    login_by_keyboard(qtbot, ctx, live_server)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    show_active(qtbot, window)
    form = window.counter
    assert form is not None and window.stack.currentWidget() is form
    fill_form_by_keyboard(qtbot, form, VALID_MY_NUMBER)
    assert form.fields["persons.0.birth_date"].hint is not None
    assert form.fields["persons.0.birth_date"].hint.text() == "昭和55年4月1日（1980-04-01）"
    form.grab().save(str(SCREENSHOT))
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "受付番号" in form.last_reception.text(), timeout=20000)
    item = ctx.outbox.items()[0]
    assert item.state == State.delivered and item.reception_number in form.last_reception.text()
    # 受付番号 days are Japanese business days: at 15:00 UTC the server is already on the next date.
    jst_today = datetime.now(ZoneInfo("Asia/Tokyo")).strftime("%Y%m%d")
    assert item.reception_number.startswith(jst_today)
    qtbot.waitUntil(lambda: window.outbox_label.text() == "送信待ち 0件", timeout=60000)
    assert form.fields["persons.0.family_name"].text() == ""  # cleared for the next resident
    window.grab().save(str(SHOTS / "madoguchi_counter_delivered.png"))


def test_bad_my_number_shows_error_beside_field_and_keeps_input(
    qtbot: QtBot, ctx: AppContext, live_server: LiveServer
) -> None:
    """A wrong 個人番号 check digit shows the Japanese error under that field; nothing typed is lost."""
    login_by_keyboard(qtbot, ctx, live_server)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    show_active(qtbot, window)
    form = window.counter
    assert form is not None
    fill_form_by_keyboard(qtbot, form, "123456789012")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    field = form.fields["persons.0.my_number"]
    assert field.error.isVisible()
    assert field.error.text() == "個人番号の検査用数字が一致しません。番号を確認してください。"
    assert field.text() == "123456789012"
    assert form.fields["persons.0.family_name"].text() == "試験"
    assert form.fields["new_address.town"].text() == "本城町二丁目"
    assert not form.fields["persons.0.family_name"].error.isVisible()
    assert QApplication.focusWidget() is field.editor
    assert ctx.outbox.stats().pending == 0 and ctx.outbox.items() == []
    form.grab().save(str(SHOTS / "madoguchi_counter_error.png"))


def test_modes_follow_station_and_permissions(qtbot: QtBot, ctx: AppContext, live_server: LiveServer) -> None:
    """The clerk on a counter station gets only 窓口; the supervisor on a supervisor station gets both."""
    login_by_keyboard(qtbot, ctx, live_server)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    assert [window.mode_box.itemText(i) for i in range(window.mode_box.count())] == ["窓口"]
    user, password = live_server.supervisor
    ctx.station = load_station(ctx.settings.station_dir, "supervisor")
    ctx.login(live_server.lg_code, user, password)
    window.refresh_session()
    assert [window.mode_box.itemText(i) for i in range(window.mode_box.count())] == ["管理者", "窓口"]
    assert isinstance(window.stack.currentWidget(), SupervisorPanel)


def test_supervisor_panel_shows_plugin_checks(qtbot: QtBot, ctx: AppContext) -> None:
    """The supervisor placeholder lists the outbox rows and each device plugin's check() result."""
    from client.core.outbox import OutgoingDocument

    item = ctx.outbox.enqueue(
        "reception.create",
        {"client_key": "x"},
        documents=[OutgoingDocument("power_of_attorney", "委任状.png", b"x")],
    )
    [doc] = ctx.outbox.files_of(item.client_key)
    ctx.outbox.mark_file_failed(doc.id, "ファイルが壊れているため読み取れません。", "attachment.broken")
    panel = SupervisorPanel(ctx)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.outbox_table.rowCount() == 2, timeout=5000)
    assert panel.outbox_table.item(0, 2).text() == "送信待ち"
    assert panel.outbox_table.item(1, 1).text() == "└ 委任状「委任状.png」"
    assert (
        panel.outbox_table.item(1, 2).text() == "送信失敗"
        and "壊れて" in panel.outbox_table.item(1, 5).text()
    )
    panel.outbox_table.selectRow(1)
    panel.retry_selected()
    assert ctx.outbox.get_file(doc.id).state == "pending"  # type: ignore[union-attr]
    # One row per plugin of the station: scanner, printer, card reader and each routed OCR engine
    # (whose check loads its model, hence the longer wait).
    rows = len(ctx.devices.all())
    assert rows >= 5
    qtbot.waitUntil(lambda: panel.plugin_table.rowCount() == rows, timeout=60000)
    texts = [panel.plugin_table.item(r, 2).text() for r in range(rows)]
    assert texts == ["正常"] * rows
    assert "テスト用" in panel.plugin_table.item(0, 1).text()


def test_kiosk_toggles_language(qtbot: QtBot) -> None:
    """The kiosk placeholder switches between Japanese and English."""
    kiosk = KioskPanel()
    qtbot.addWidget(kiosk)
    assert kiosk.title.text() == "ようこそ"
    qtbot.mouseClick(kiosk.toggle, Qt.MouseButton.LeftButton)
    assert kiosk.title.text() == "Welcome" and kiosk.toggle.text() == "日本語"


def test_login_failure_shows_japanese_message(qtbot: QtBot, ctx: AppContext) -> None:
    """A wrong password shows the server's Japanese message and clears only the password."""
    dialog = LoginDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.username, "demo")
    qtbot.keyClicks(dialog.password, "wrong-password")
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.login_button.isEnabled() and dialog.error.isVisible(), timeout=15000)
    assert "パスワード" in dialog.error.text() and dialog.session is None
    assert dialog.username.text() == "demo" and dialog.password.text() == ""
    assert isinstance(dialog.password, QLineEdit)


def test_memory_only_token_is_announced(qtbot: QtBot, ctx: AppContext, live_server: LiveServer) -> None:
    """Without a usable keyring the status bar says in Japanese that the login is kept in memory only."""
    ctx.tokens = TokenStore(use_keyring=False)
    login_by_keyboard(qtbot, ctx, live_server)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    assert window.keyring_label.text() == MEMORY_ONLY_NOTICE
    assert window.outbox_label.text() in ("", "送信待ち 0件")


def test_kiosk_station_runs_full_screen(qtbot: QtBot, ctx: AppContext, live_server: LiveServer) -> None:
    """On the kiosk station a user with mode.kiosk gets the kiosk page, full screen."""
    ctx.station = load_station(ctx.settings.station_dir, "kiosk")
    login_by_keyboard(qtbot, ctx, live_server)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    assert isinstance(window.stack.currentWidget(), KioskPanel)
    assert window.isFullScreen()


def test_settings_dialog_saves_json(qtbot: QtBot, client_settings: ClientSettings) -> None:
    """The settings dialog validates and writes settings.json in the data directory."""
    dialog = SettingsDialog(client_settings)
    qtbot.addWidget(dialog)
    dialog.edits["request_timeout_s"].setText("abc")
    dialog.save()
    assert not dialog.error.isHidden() and "タイムアウト" in dialog.error.text()
    dialog.edits["request_timeout_s"].setText("7.5")
    dialog.edits["server_url"].setText("https://madoguchi.example.lg.jp")
    dialog.save()
    saved = json.loads((client_settings.data_dir / "settings.json").read_text(encoding="utf-8"))
    assert saved["server_url"] == "https://madoguchi.example.lg.jp" and saved["request_timeout_s"] == 7.5


def test_run_shows_login_and_cancel_exits(qtbot: QtBot, client_settings: ClientSettings) -> None:
    """The composition root starts, shows the login dialog first, and cancelling it exits with 0."""
    create_application()
    seen: list[str] = []

    def cancel_login() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(50, cancel_login)
            return
        seen.append(dialog.windowTitle())
        dialog.reject()  # type: ignore[attr-defined]

    QTimer.singleShot(50, cancel_login)
    assert run(client_settings) == 0
    assert seen == ["ログイン — Madoguchi"]


def test_add_and_remove_persons_keeps_tab_order(qtbot: QtBot) -> None:
    """Adding a person appends its fields to the Tab order; removing renumbers; the last cannot go."""
    create_application()
    form = MoveInForm()
    qtbot.addWidget(form)
    form.show()
    assert not form.persons[0].remove_button.isEnabled()
    form.persons[0].fields["family_name"].set_text("一人目")
    second = form.add_person()
    assert second is not None
    second.fields["family_name"].set_text("二人目")
    assert second.title() == "異動者 2" and "persons.1.my_number" in form.fields
    order = form.focus_order()
    assert order.index(form.fields["persons.0.register_head"].editor) < order.index(
        second.fields["family_name"].editor
    )
    last_extra = form.fields["persons.0.residence_card_number"].editor
    assert last_extra.nextInFocusChain() is form.persons[0].remove_button
    form.remove_person(form.persons[0])
    assert len(form.persons) == 1 and form.persons[0].title() == "異動者 1"
    assert (
        form.fields["persons.0.family_name"].text() == "二人目" and "persons.1.family_name" not in form.fields
    )
    assert not form.persons[0].remove_button.isEnabled()


def test_enter_moves_to_next_field(qtbot: QtBot) -> None:
    """Enter in a field moves on like Tab (paper-form habit); it never submits half a form."""
    create_application()
    form = MoveInForm()
    qtbot.addWidget(form)
    show_active(qtbot, form)
    submitted: list[object] = []
    form.submitted.connect(submitted.append)
    family = form.fields["persons.0.family_name"].editor
    family.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is family, timeout=5000)
    qtbot.keyClick(family, Qt.Key.Key_Return)
    assert QApplication.focusWidget() is form.fields["persons.0.given_name"].editor
    sex = form.fields["persons.0.sex"].editor
    sex.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is sex, timeout=5000)
    qtbot.keyClick(sex, Qt.Key.Key_Return)  # a choice too: Enter moves on, it does not open or submit
    assert QApplication.focusWidget() is form.fields["persons.0.relationship"].editor
    assert submitted == []


def test_documents_for_storage_go_with_the_submission(
    qtbot: QtBot, ctx: AppContext, live_server: LiveServer, tmp_path: Path
) -> None:
    """保存用の書類: a three-page 委任状 scanned in the dialog (a text file refused in Japanese) is sent
    with the reception and its printed forms; all land on the server."""
    from PIL import Image

    from client.devices.scanners.fake import FakeScanner
    from client.ui.counter.attachments import AttachmentsDialog

    feeder = tmp_path / "feeder"
    feeder.mkdir()
    for i in range(3):
        Image.new("L", (200, 280), 40 * i + 60).save(feeder / f"p{i}.png")
    (tmp_path / "memo.txt").write_text("not a scan", encoding="utf-8")
    login_by_keyboard(qtbot, ctx, live_server)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    show_active(qtbot, window)
    dialog = AttachmentsDialog(window.documents, FakeScanner(folder=feeder), window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.class_box.currentText() == "委任状"
    qtbot.mouseClick(dialog.scan_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=10000)
    assert dialog.table.item(0, 0).text() == "委任状" and dialog.table.item(0, 2).text() == "3"
    dialog.add_file(str(tmp_path / "memo.txt"))
    assert "保存できない形式" in dialog.message.text() and dialog.table.rowCount() == 1
    dialog.grab().save(str(SHOTS / "madoguchi_documents_dialog.png"))
    dialog.accept()
    window._update_documents_label()
    assert window.documents_label.text() == "保存用の書類 1件（次の送信に添付）"
    show_active(qtbot, window)
    form = window.counter
    assert form is not None
    fill_form_by_keyboard(qtbot, form, VALID_MY_NUMBER)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "受付番号" in form.last_reception.text(), timeout=20000)
    item = ctx.outbox.items()[0]
    qtbot.waitUntil(
        lambda: all(f.state == State.delivered for f in ctx.outbox.files_of(item.client_key)), timeout=20000
    )
    classes = [f.document_class for f in ctx.outbox.files_of(item.client_key)]
    assert classes[0] == "notice_form" and classes[-1] == "power_of_attorney"
    assert window.documents.all() == [] and window.documents_label.text() == ""
    qtbot.waitUntil(lambda: window.outbox_label.text() == "送信待ち 0件", timeout=60000)
