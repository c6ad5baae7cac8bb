"""The counter's parts used together, offscreen against a live server with an imported register:
the 保存用の書類 belong to the reception on screen (shown on it, discarded from it, cleared with
クリア and at logout); 住記から入力 switches the canvas to the procedure chosen and puts a foreign
resident's name where the canvas has it; the supervisor's tabs fit the counter PC's 1366×768; and
one reception from end to end through the keyboard (Ctrl+J 転居 → Ctrl+G into 方書 → Ctrl+Enter →
the reception on the server). Screenshots go to ``MADOGUCHI_SCREENSHOT_DIR`` as madoguchi_together_*.png.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from client.app.context import AppContext
from client.core.api import ApiClient
from client.ui.counter.attachments import AttachmentsDialog
from client.ui.counter.prefill import PrefillDialog
from client.ui.main_window import MainWindow
from client.ui.supervisor.panel import SupervisorPanel
from client.ui.widgets.phrases import PhrasePicker
from shared.api import LoginRequest
from shared.api_counter import PhraseScope, PhraseWrite
from shared.models.movement_notice import MovementKind
from tests.client import test_counter_aids_ui as aids
from tests.conftest import LiveServer

pytestmark = pytest.mark.ui

SHOTS = Path(os.environ.get("MADOGUCHI_SCREENSHOT_DIR", tempfile.gettempdir()))
CTRL = Qt.KeyboardModifier.ControlModifier
#: The aids tests' server with the register imported, and the clerk logged in to it.
live_server = aids.live_server
ctx = aids.ctx
type_text = aids.type_text


def _window(qtbot: QtBot, ctx: AppContext) -> MainWindow:
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    return window


def _focus(qtbot: QtBot, window: MainWindow, widget: QLineEdit) -> None:
    window.activateWindow()
    widget.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget)


def _modal(qtbot: QtBot, kind: type) -> QLineEdit:
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), kind), timeout=5000)
    return QApplication.activeModalWidget()  # type: ignore[return-value]


def _png(path: Path) -> Path:
    image = QImage(120, 80, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.white)
    assert image.save(str(path))
    return path


def test_documents_belong_to_the_reception_on_screen(qtbot: QtBot, ctx: AppContext, tmp_path: Path) -> None:
    """The screen shows how many 保存用の書類 wait; its button opens them, where one is discarded;
    クリア discards the rest with the reception; documents added then are gone after logout."""
    window = _window(qtbot, ctx)
    form = window.counter
    assert form is not None
    window.documents.clear()
    window._update_documents_label()
    assert form.documents_button.text() == "保存用の書類（Ctrl+Shift+D）"
    first = window.documents.add_file(_png(tmp_path / "委任状.png"), "power_of_attorney")
    window.documents.add_file(_png(tmp_path / "免許証.png"), "identity_document")
    window._update_documents_label()
    assert form.documents_button.text() == "保存用の書類 2件（Ctrl+Shift+D）"
    window.keyring_label.setText(
        "安全な保存先（キーリング）が使えないため、ログイン情報はメモリ上にのみ保持しています。"
    )
    qtbot.wait(50)
    button = form.documents_button
    assert button.width() >= button.fontMetrics().horizontalAdvance(button.text())  # not clipped

    def fits(label: QLabel) -> bool:
        return label.isVisible() and label.width() >= label.fontMetrics().horizontalAdvance(label.text())

    # not pushed off the status bar (the sync worker sets 送信待ち at any moment: once laid out)
    for label in (window.outbox_label, window.documents_label):
        qtbot.waitUntil(lambda label=label: fits(label), timeout=5000)
        assert label.geometry().right() <= window.statusBar().width()
    window.grab().save(str(SHOTS / "madoguchi_together_documents_on_screen.png"))

    def discard_first() -> None:
        dialog = _modal(qtbot, AttachmentsDialog)
        assert isinstance(dialog, AttachmentsDialog) and dialog.table.rowCount() == 2
        dialog.table.selectRow(0)
        dialog.remove_button.click()
        assert dialog.table.rowCount() == 1 and "削除しました" in dialog.message.text()
        dialog.accept()

    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, discard_first)
    form.documents_button.click()
    assert [d.id for d in window.documents.all()] != [first.id] and len(window.documents.all()) == 1
    assert form.documents_button.text() == "保存用の書類 1件（Ctrl+Shift+D）"

    form.clear_button.click()
    assert window.documents.all() == []
    assert form.documents_button.text() == "保存用の書類（Ctrl+Shift+D）"
    assert window.documents_label.text() == ""

    window.documents.add_file(_png(tmp_path / "旅券.png"), "identity_document")
    window._update_documents_label()
    relogin: list[bool] = []
    window.relogin = lambda: relogin.append(True)  # type: ignore[method-assign]
    window.logout()
    qtbot.waitUntil(lambda: bool(relogin), timeout=10000)
    assert window.documents.all() == []
    assert form.documents_button.text() == "保存用の書類（Ctrl+Shift+D）"


def test_prefill_switches_the_canvas_to_the_procedure(qtbot: QtBot, ctx: AppContext) -> None:
    """From the 転入 the screen opens with, Ctrl+J → 転居 (the dialog's default): the canvas is a
    転居 with its documents; a foreign resident (世帯主変更) is 外国人 with the ローマ字氏名 in its box,
    and the register address in 住所 (新住所's row)."""
    window = _window(qtbot, ctx)
    form = window.counter
    assert form is not None and form.kind() == MovementKind.move_in.value
    # a value read by 読取 before (tinted, with its source) must keep its mark through the prefill
    form.fill(
        {"notifier.identity_document": "運転免許証"},
        "運転免許証（読取）",
        {"notifier.identity_document": 0.7},
    )
    phone = form.fields["notifier.phone"].editor
    assert isinstance(phone, QLineEdit)
    _focus(qtbot, window, phone)
    qtbot.keyClick(phone, Qt.Key.Key_J, CTRL)
    dialog = _modal(qtbot, PrefillDialog)
    assert isinstance(dialog, PrefillDialog) and dialog.selected_kind() is MovementKind.move_within
    type_text(dialog.name, "たかはた", qtbot)
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.results.rowCount() == 1, timeout=10000)
    qtbot.keyClick(dialog.results, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.household_list.count() == 1, timeout=10000)
    qtbot.keyClick(dialog.household_list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert form.kind() == MovementKind.move_within.value
    assert set(form.documents()) == {"identity", "my_number_card"}  # not the 転出証明書 of a 転入
    assert form.fields["old_address.town"].text() == "長塚"
    assert form.fields["old_address.town"].source == "住民記録"  # marked as coming from the register
    assert form.fields["notifier.phone"].source is None  # not touched
    assert form.fields["notifier.identity_document"].source == "運転免許証（読取）"
    assert form.canvas.model.field("old_address.town") is not None

    _focus(qtbot, window, phone)
    qtbot.keyClick(phone, Qt.Key.Key_J, CTRL)
    dialog = _modal(qtbot, PrefillDialog)
    assert isinstance(dialog, PrefillDialog)
    dialog.kind.setCurrentIndex(dialog.kind.findData(MovementKind.householder_change.value))
    qtbot.keyClicks(dialog.name, "SMITH")
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.results.rowCount() == 1, timeout=10000)
    qtbot.keyClick(dialog.results, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.household_list.count() == 1, timeout=10000)
    qtbot.keyClick(dialog.household_list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    values = form.raw_values()
    assert values["kind"] == MovementKind.householder_change.value
    assert values["new_address.town"] == "長塚" and values["new_address.block_number"] == "6"
    smith = next(i for i in range(len(form.persons)) if values[f"persons.{i}.roman_name"] == "SMITH JOHN")
    assert values[f"persons.{smith}.is_foreign"] == "1"
    window.grab().save(str(SHOTS / "madoguchi_together_prefill_householder_change.png"))


def test_supervisor_tabs_fit_the_counter_pc(qtbot: QtBot, ctx: AppContext, live_server: LiveServer) -> None:
    """At 1366×768 the supervisor's screen fits (the OCR template designer is a tab, not a second
    panel under the tabs), and the designer speaks Japanese."""
    user, password = live_server.supervisor
    ctx.login(live_server.lg_code, user, password)
    panel = SupervisorPanel(ctx)
    qtbot.addWidget(panel)
    # 768 minus the title bar, menu, mode toolbar, status bar and the taskbar
    assert panel.minimumSizeHint().height() <= 600, panel.minimumSizeHint()
    panel.resize(1366, 600)
    panel.show()
    tabs = [panel.records.tabText(i) for i in range(panel.records.count())]
    assert "読取テンプレート" in tabs and "語句登録（共通）" in tabs
    panel.records.setCurrentWidget(panel.designer)
    combo = panel.designer.doc_type
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert "転出証明書" in labels and not any(label.isascii() for label in labels)
    for i in range(panel.records.count()):
        panel.records.setCurrentIndex(i)
        qtbot.wait(50)
        panel.grab().save(str(SHOTS / f"madoguchi_together_supervisor_{i}.png"))


def test_tenkyo_by_keyboard_from_register_to_server(
    qtbot: QtBot, ctx: AppContext, live_server: LiveServer, tmp_path: Path
) -> None:
    """Ctrl+J 転居 for 髙橋 一郎 from the register, the new address typed, Ctrl+G puts a phrase in 方書,
    Ctrl+Enter: the reception arrives on the server as a 転居 with the register's 従前の住所."""
    key = f"k{uuid.uuid4().hex[:4]}"
    with ctx.api() as api:
        api.create_phrase(
            PhraseScope.user, PhraseWrite(reading="ぐりーんはいつ", text="グリーンハイツ203号", key=key)
        )
    window = _window(qtbot, ctx)
    form = window.counter
    assert form is not None
    moved = form.fields["moved_on"].editor
    assert isinstance(moved, QLineEdit)
    _focus(qtbot, window, moved)
    qtbot.keyClick(moved, Qt.Key.Key_J, CTRL)
    dialog = _modal(qtbot, PrefillDialog)
    assert isinstance(dialog, PrefillDialog)
    type_text(dialog.name, "たかはし　いち", qtbot)
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.results.rowCount() == 1, timeout=10000)
    qtbot.keyClick(dialog.results, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.household_list.count() == 3, timeout=10000)
    qtbot.keyClick(dialog.household_list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert form.kind() == MovementKind.move_within.value

    _focus(qtbot, window, moved)
    qtbot.keyClicks(moved, "R8.11.1")
    for part, text in (
        ("prefecture", "茨城県"),
        ("municipality", "下妻市"),
        ("town", "下妻乙"),
        ("block_number", "1-2"),
    ):
        editor = form.fields[f"new_address.{part}"].editor
        assert isinstance(editor, QLineEdit)
        _focus(qtbot, window, editor)
        type_text(editor, text, qtbot)
    building = form.fields["new_address.building"].editor
    assert isinstance(building, QLineEdit)
    _focus(qtbot, window, building)
    qtbot.keyClick(building, Qt.Key.Key_G, CTRL)
    picker = _modal(qtbot, PhrasePicker)
    assert isinstance(picker, PhrasePicker)
    qtbot.waitUntil(lambda: any(p.key == key for p in picker.items), timeout=10000)
    qtbot.keyClicks(picker.query, key)
    qtbot.keyClick(picker.query, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not picker.isVisible())
    assert building.text() == "グリーンハイツ203号"
    window.grab().save(str(SHOTS / "madoguchi_together_tenkyo_before_send.png"))

    _focus(qtbot, window, building)
    qtbot.keyClick(building, Qt.Key.Key_P, CTRL)  # 印刷 before 送信
    qtbot.waitUntil(lambda: "印刷しました" in window.statusBar().currentMessage(), timeout=60000)
    window.documents.add_file(_png(tmp_path / "本人確認書類.png"), "identity_document")
    window._update_documents_label()
    _focus(qtbot, window, building)
    qtbot.keyClick(building, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: window.last_key is not None, timeout=20000)
    assert form.form_error.text() == ""
    assert window.documents.all() == [] and form.documents_button.text() == "保存用の書類（Ctrl+Shift+D）"
    # The reception, then its documents; on a loaded machine a send may time out and wait for its
    # retry, so run again (as if the back-off had passed) until nothing is due, a few times at most.
    later = time.time() + 3600
    for _ in range(5):
        ctx.worker.run_once(now=later)
        if not ctx.outbox.due(later) and not ctx.outbox.due_files(later, limit=1):
            break
    item = ctx.outbox.get_by_key(window.last_key)
    assert item is not None and item.reception_number, item
    with ApiClient(live_server.url, timeout=60) as admin:
        user, password = live_server.supervisor
        admin.login(LoginRequest(lg_code=live_server.lg_code, username=user, password=password))
        found = admin.search_receptions(reception_number=item.reception_number)
        reception = admin.get_reception(found.items[0].id)
        attachments = admin.list_attachments(reception.id)
    notice = reception.notice
    assert "identity_document" in {a.document_class.value for a in attachments}, attachments
    assert reception.kind is MovementKind.move_within
    assert notice.new_address is not None and notice.new_address.building == "グリーンハイツ203号"
    assert notice.old_address is not None and notice.old_address.town == "本城町"
    assert notice.persons[0].family_name == "髙橋" and notice.persons[0].given_name == "一郎"


def test_documents_only_from_the_counter_screen(
    qtbot: QtBot, ctx: AppContext, live_server: LiveServer
) -> None:
    """Ctrl+Shift+D opens the reception's documents on the counter's screen only: not on the
    supervisor's tabs, and never in kiosk mode (residents)."""
    from client.app.wiring import load_station

    ctx.station = load_station(ctx.settings.station_dir, "supervisor")
    user, password = live_server.supervisor
    ctx.login(live_server.lg_code, user, password)
    window = _window(qtbot, ctx)
    assert isinstance(window.stack.currentWidget(), SupervisorPanel)
    assert not window.documents_action.isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_D, CTRL | Qt.KeyboardModifier.ShiftModifier)
    window.open_documents()  # even called directly: nothing opens
    assert QApplication.activeModalWidget() is None
    window.mode_box.setCurrentIndex(window.mode_box.findText("窓口"))
    assert window.documents_action.isEnabled()

    ctx.station = load_station(ctx.settings.station_dir, "kiosk")
    kiosk = _window(qtbot, ctx)
    assert kiosk.mode_box.currentText() == "キオスク" and kiosk.counter is None
    assert not kiosk.documents_action.isEnabled()
    kiosk.open_documents()
    assert QApplication.activeModalWidget() is None


def test_documents_of_a_previous_session_follow_its_draft(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path
) -> None:
    """After a killed session: 破棄する on the draft question discards the documents scanned for
    that reception too; with no draft the documents are kept and the clerk is told they are there."""
    from client.core.documents import ReceptionDocuments
    from client.ui.counter.draft_keeper import SCREEN
    from tests.client.test_draft_restore import answer_dialog

    left = ReceptionDocuments(ctx.settings.data_dir / "pending_documents")
    left.clear()
    left.add_file(_png(tmp_path / "委任状.png"), "power_of_attorney")
    assert ctx.session is not None  # drafts belong to the clerk who typed them
    ctx.drafts.save(SCREEN, {"persons.0.family_name": "前回"}, username=ctx.session.user.username)
    seen: list[str] = []
    answer_dialog(seen, QMessageBox.StandardButton.No)
    window = _window(qtbot, ctx)
    qtbot.waitUntil(lambda: bool(seen), timeout=10000)
    qtbot.waitUntil(lambda: window.documents.all() == [], timeout=5000)
    assert window.counter is not None and window.counter.fields["persons.0.family_name"].text() == ""

    left.add_file(_png(tmp_path / "旅券.png"), "identity_document")
    second = _window(qtbot, ctx)
    qtbot.waitUntil(lambda: "1件残っています" in second.statusBar().currentMessage(), timeout=5000)
    assert len(second.documents.all()) == 1
    assert second.counter is not None and second.counter.documents_button.text().startswith(
        "保存用の書類 1件"
    )


def test_window_starts_inside_the_screen(qtbot: QtBot, ctx: AppContext) -> None:
    """The window's first size is within the screen's free area (it was a fixed 1100×900, taller
    than the counter PC's 1366×768), and the counter's screen fits in 1366×(768 less the taskbar)."""
    from client.ui.main_window import FRAME_ALLOWANCE, initial_size

    window = MainWindow(ctx)
    qtbot.addWidget(window)
    free = window.screen().availableGeometry()
    width, height = initial_size(window)
    assert height <= free.height() - FRAME_ALLOWANCE[1] and width <= free.width() - FRAME_ALLOWANCE[0]
    assert window.height() <= max(height, window.minimumSizeHint().height())
    assert window.counter is not None
    hint = window.minimumSizeHint()
    assert hint.width() <= 1366 - FRAME_ALLOWANCE[0] and hint.height() <= 728 - FRAME_ALLOWANCE[1], hint


def test_ctrl_k_reaches_typed_choices_and_says_where_it_cannot(qtbot: QtBot) -> None:
    """Ctrl+K in 続柄 (a choice the clerk may type) inserts into it; on a check box it says it needs
    a text box instead of opening a search whose answer would go nowhere."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QComboBox

    from client.app.main import create_application
    from client.ui.counter.move_in import MoveInForm
    from client.ui.widgets.kanji_search import KanjiSearch

    create_application()
    form = MoveInForm()
    qtbot.addWidget(form)
    form.resize(1366, 700)
    form.show()
    form.activateWindow()
    qtbot.waitActive(form)
    box = form.fields["persons.0.insurance.national_pension"].editor
    box.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is box)
    qtbot.keyClick(box, Qt.Key.Key_K, CTRL)
    assert QApplication.activeModalWidget() is None
    assert "文字を入力する欄" in form.form_error.text()

    relationship = form.fields["persons.0.relationship"].editor
    assert isinstance(relationship, QComboBox) and relationship.isEditable()
    relationship.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() in (relationship, relationship.lineEdit()))
    seen: list[str] = []

    def choose() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, KanjiSearch):
            QTimer.singleShot(50, choose)
            return
        seen.append("open")
        dialog.chosen.emit("髙")
        dialog.accept()

    QTimer.singleShot(0, choose)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_K, CTRL)
    assert seen == ["open"]
    assert relationship.currentText().endswith("髙")
