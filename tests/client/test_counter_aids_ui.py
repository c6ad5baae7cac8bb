"""Offscreen Qt tests of the counter's input aids: the phrase picker (filter, Enter inserts at the
cursor, Esc cancels, length limit, offline copy), the phrase screens, and 住記から入力 against a
live server with an imported CSV register, all through the keyboard. Screenshots go to
``MADOGUCHI_SCREENSHOT_DIR`` (default: the temp dir) as madoguchi_phrase_*.png / madoguchi_prefill*.png."""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from client.app.context import AppContext, build_context
from client.app.main import create_application
from client.app.settings import ClientSettings
from client.core.api import ApiClient
from client.core.phrases import PhraseBook
from client.ui.counter.prefill import PrefillDialog
from client.ui.main_window import MainWindow
from client.ui.supervisor.panel import SupervisorPanel
from client.ui.widgets.phrases import PhraseManager, PhraseManagerDialog, PhrasePicker
from client.ui.worker import wait_for_background
from shared.api_counter import PhraseCategory, PhraseRead, PhraseScope, PhraseWrite
from tests.conftest import LiveServer, start_live_server

pytestmark = pytest.mark.ui

SHOTS = Path(os.environ.get("MADOGUCHI_SCREENSHOT_DIR", tempfile.gettempdir()))

HEAD = (
    "宛名番号,世帯番号,住民種別,住民状態,氏_日本人,名_日本人,氏名_外国人ローマ字,氏名_フリガナ,性別,生年月日,"
    "続柄表記,世帯主氏名,住所_郵便番号,住所_都道府県,住所_市区郡町村名,住所_町字,住所_番地号表記,住所_方書"
)
NAGATSUKA = "304-0067,茨城県,下妻市,長塚"
HONJO = "304-8501,茨城県,下妻市,本城町,2-22,本城ハイツ101"
ROWS = [
    f"100001,5001,1,1,髙橋,一郎,,タカハシ イチロウ,1,1970-05-05,世帯主,髙橋　一郎,{HONJO}",
    f"100002,5001,1,1,髙橋,花子,,タカハシ ハナコ,2,1972-06-06,妻,髙橋　一郎,{HONJO}",
    f"100003,5001,1,1,髙橋,次郎,,タカハシ ジロウ,1,2005-01-10,子,髙橋　一郎,{HONJO}",
    f"100004,5002,1,1,高畑,三郎,,タカハタ サブロウ,1,1980-03-03,世帯主,高畑　三郎,{NAGATSUKA},5,",
    f"100005,5003,2,1,,,SMITH JOHN,スミス ジョン,1,1985-07-07,世帯主,SMITH JOHN,{NAGATSUKA},6,",
]
REGISTER = "\r\n".join([HEAD, *ROWS]) + "\r\n"


def type_text(target: QWidget, text: str, qtbot: QtBot) -> None:
    """ASCII as key clicks; Japanese as the IME's committed text (QTest cannot click non-ASCII keys)."""
    for ascii_run, chunk in ((k, "".join(g)) for k, g in groupby(text, key=str.isascii)):
        if ascii_run:
            qtbot.keyClicks(target, chunk)
        else:
            event = QInputMethodEvent()
            event.setCommitString(chunk)
            QApplication.sendEvent(target, event)


def phrase(
    text: str, reading: str, key: str | None = None, scope: PhraseScope = PhraseScope.user
) -> PhraseRead:
    return PhraseRead(
        id=uuid.uuid4(),
        scope=scope,
        reading=reading,
        key=key,
        text=text,
        category=PhraseCategory.other,
        version=1,
        updated_at=datetime.now(UTC),
        updated_by="demo",
    )


BOOK = PhraseBook(
    [
        phrase("本城ハイツ101号室", "ほんじょうはいつ", "hh"),
        phrase("本城町二丁目", "ほんじょうちょう", scope=PhraseScope.office),
        phrase("長塚グリーンタウン", "ながつか", "ng"),
        phrase("転入届の受付済み（本人確認書類: 運転免許証）", "てんにゅう", scope=PhraseScope.office),
    ]
)


def target_edit(qtbot: QtBot, text: str, cursor: int, max_length: int = 200) -> QLineEdit:
    edit = QLineEdit()
    edit.setMaxLength(max_length)
    edit.setText(text)
    edit.setCursorPosition(cursor)
    qtbot.addWidget(edit)
    return edit


# -- the picker on its own ---------------------------------------------------------------------


def test_picker_filters_and_enter_inserts_at_the_cursor(qtbot: QtBot) -> None:
    """Typing ホンジョウ (as the IME commits it) keeps the two 本城 phrases; ↓ Enter inserts the
    second at the cursor of the field, replacing nothing else; the dialog closes."""
    create_application()
    edit = target_edit(qtbot, "茨城県下妻市　方書", 6)
    picker = PhrasePicker(BOOK, target=edit)
    qtbot.addWidget(picker)
    picker.show()
    assert picker.table.rowCount() == 4
    type_text(picker.query, "ホンジョウ", qtbot)
    assert [p.text for p in picker.shown] == ["本城町二丁目", "本城ハイツ101号室"]  # ちょう < はいつ
    assert picker.status.text() == "2件 / 4件"
    picker.grab().save(str(SHOTS / "madoguchi_phrase_picker.png"))
    qtbot.keyClick(picker.query, Qt.Key.Key_Down)
    with qtbot.waitSignal(picker.chosen) as chosen:
        qtbot.keyClick(picker.query, Qt.Key.Key_Return)
    assert chosen.args == ["本城ハイツ101号室"]
    assert edit.text() == "茨城県下妻市本城ハイツ101号室　方書"
    assert edit.cursorPosition() == 6 + len("本城ハイツ101号室")
    assert picker.result() == PhrasePicker.DialogCode.Accepted


def test_picker_by_key_and_text_and_escape_cancels(qtbot: QtBot) -> None:
    """The 略号 ng finds its phrase first; 免許 finds text in the middle; Esc leaves the field alone."""
    create_application()
    edit = target_edit(qtbot, "そのまま", 2)
    picker = PhrasePicker(BOOK, target=edit)
    qtbot.addWidget(picker)
    picker.show()
    qtbot.keyClicks(picker.query, "ng")
    assert picker.current() is not None and picker.current().text == "長塚グリーンタウン"
    picker.query.clear()
    type_text(picker.query, "免許", qtbot)
    assert [p.reading for p in picker.shown] == ["てんにゅう"]
    picker.query.clear()
    qtbot.keyClicks(picker.query, "zzz")
    assert picker.shown == []
    qtbot.keyClick(picker.query, Qt.Key.Key_Return)  # nothing to insert: says so, stays open
    assert picker.isVisible() and "ありません" in picker.error.text()
    qtbot.keyClick(picker.query, Qt.Key.Key_Escape)
    assert picker.result() == PhrasePicker.DialogCode.Rejected and not picker.isVisible()
    assert edit.text() == "そのまま"


def test_picker_refuses_what_would_not_fit(qtbot: QtBot) -> None:
    """A phrase longer than the field's room is not cut off: the picker says so and stays open."""
    create_application()
    edit = target_edit(qtbot, "12345678", 8, max_length=10)
    picker = PhrasePicker(BOOK, target=edit)
    qtbot.addWidget(picker)
    picker.show()
    qtbot.keyClicks(picker.query, "hh")
    qtbot.keyClick(picker.query, Qt.Key.Key_Return)
    assert edit.text() == "12345678" and picker.isVisible()
    assert "10文字まで" in picker.error.text()


# -- with a live server: shortcut on the counter window, offline copy, screens, prefill ---------


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server with the register imported (CSV, Shift_JIS, through the CLI)."""
    srv = start_live_server(tmp_path_factory.mktemp("aids") / "server")
    csv_file = srv.data_dir / "juki.csv"
    csv_file.write_bytes(REGISTER.encode("cp932"))
    import sys

    subprocess.run(
        [
            sys.executable,
            "-m",
            "server",
            "import",
            "residents",
            str(csv_file),
            "--lg-code",
            srv.lg_code,
            "--mode",
            "full",
        ],
        env=srv.env,
        check=True,
        capture_output=True,
    )
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def ctx(client_settings: ClientSettings, live_server: LiveServer) -> Iterator[AppContext]:
    create_application()
    settings = client_settings.model_copy(update={"server_url": live_server.url, "request_timeout_s": 3})
    context = build_context(settings)
    user, password = live_server.clerk
    context.login(live_server.lg_code, user, password)
    try:
        yield context
    finally:
        wait_for_background(5000)
        context.close()


def _window(qtbot: QtBot, ctx: AppContext) -> MainWindow:
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    return window


def _modal(kind: type) -> QWidget:
    widget = QApplication.activeModalWidget()
    assert isinstance(widget, kind), widget
    return widget


def test_ctrl_g_on_the_counter_inserts_into_the_focused_field_and_works_offline(
    qtbot: QtBot, ctx: AppContext, live_server: LiveServer
) -> None:
    """Office and own phrases from the server; Ctrl+G in 方書 of 新住所, type, Enter: inserted.
    With the server stopped, Ctrl+G offers the local copy and says it is offline."""
    with ApiClient(live_server.url, timeout=60) as admin:
        from shared.api import LoginRequest

        user, password = live_server.supervisor
        admin.login(LoginRequest(lg_code=live_server.lg_code, username=user, password=password))
        admin.create_phrase(
            PhraseScope.office, PhraseWrite(reading="ほんじょうはいつ", text="本城ハイツ101号室", key="hh")
        )
    with ctx.api() as api:
        api.create_phrase(PhraseScope.user, PhraseWrite(reading="ながつか", text="長塚グリーンタウン"))
    window = _window(qtbot, ctx)
    form = window.counter
    assert form is not None
    building = form.fields["new_address.building"].editor
    assert isinstance(building, QLineEdit)
    building.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is building)
    qtbot.keyClick(building, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    picker = _modal(PhrasePicker)
    qtbot.waitUntil(lambda: len(picker.items) == 2, timeout=10000)  # the server's list arrived
    assert picker.error.text() == "" or not picker.error.isVisible()
    qtbot.keyClicks(picker.query, "hh")
    qtbot.keyClick(picker.query, Qt.Key.Key_Return)
    assert building.text() == "本城ハイツ101号室"
    qtbot.waitUntil(lambda: QApplication.focusWidget() is building)

    town = form.fields["old_address.town"].editor
    assert isinstance(town, QLineEdit)
    town.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is town)
    live_server.stop()
    try:
        qtbot.keyClick(town, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
        picker = _modal(PhrasePicker)
        assert len(picker.items) == 2  # the local copy, at once
        qtbot.waitUntil(lambda: "保存済みの語句" in picker.error.text(), timeout=15000)
        type_text(picker.query, "ながつか", qtbot)
        picker.grab().save(str(SHOTS / "madoguchi_phrase_picker_offline.png"))
        qtbot.keyClick(picker.query, Qt.Key.Key_Return)
        assert town.text() == "長塚グリーンタウン"
    finally:
        live_server.start()


def test_phrase_screens_for_the_clerk_and_the_supervisor(
    qtbot: QtBot, ctx: AppContext, live_server: LiveServer
) -> None:
    """The clerk adds his own phrase by keyboard, a duplicate is refused in Japanese keeping the
    input; the supervisor tab manages the office list (shown only with phrase.manage)."""
    dialog = PhraseManagerDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    manager = dialog.own
    qtbot.waitUntil(lambda: manager.count.text().endswith("件"), timeout=10000)
    before = len(manager.items)
    manager.text.setFocus()
    type_text(manager.text, "下妻市役所本庁舎", qtbot)
    type_text(manager.reading, "しもつましやくしょ", qtbot)
    qtbot.keyClicks(manager.key, "hon")
    qtbot.keyClick(manager.key, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(manager.items) == before + 1, timeout=10000)
    assert "登録しました" in manager.status.text()
    manager.start_new()
    type_text(manager.text, "下妻市役所本庁舎", qtbot)
    type_text(manager.reading, "べつのよみ", qtbot)
    qtbot.keyClick(manager.reading, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "すでに登録" in manager.error.text(), timeout=10000)
    assert manager.text.text() == "下妻市役所本庁舎"  # nothing typed is lost
    manager.text.setText("改行\u202eなし")
    qtbot.keyClick(manager.text, Qt.Key.Key_Return)
    assert "制御文字" in manager.error.text()
    dialog.grab().save(str(SHOTS / "madoguchi_phrase_manager.png"))

    assert not any(isinstance(w, PhraseManager) for w in SupervisorPanel(ctx).findChildren(PhraseManager))
    user, password = live_server.supervisor
    ctx.login(live_server.lg_code, user, password)
    panel = SupervisorPanel(ctx)
    qtbot.addWidget(panel)
    office = panel.findChild(PhraseManager)
    assert isinstance(office, PhraseManager) and office.scope is PhraseScope.office
    qtbot.waitUntil(lambda: office.count.text().endswith("件"), timeout=10000)
    type_text(office.text, "本城町二丁目", qtbot)
    type_text(office.reading, "ほんじょうちょう", qtbot)
    qtbot.keyClick(office.reading, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "本城町二丁目" in [p.text for p in office.items], timeout=10000)
    row = [p.text for p in office.items].index("本城町二丁目")
    office.table.selectRow(row)
    assert office.save_button.text() == "保存"
    panel.records.setCurrentWidget(office)
    panel.resize(1000, 1400)
    office.grab().save(str(SHOTS / "madoguchi_phrase_office_tab.png"))
    office.delete_button.click()
    qtbot.waitUntil(lambda: "本城町二丁目" not in [p.text for p in office.items], timeout=10000)


def test_prefill_by_keyboard_fills_the_form_for_tenkyo(qtbot: QtBot, ctx: AppContext) -> None:
    """Ctrl+J on the counter; type たかはし, Enter; ↓ to 花子, Enter: her household with her ticked;
    ↓ Space ticks 一郎... Enter: the form has 従前の住所 from the register, 花子 and 一郎 as persons,
    and keeps the phone number typed before."""
    window = _window(qtbot, ctx)
    form = window.counter
    assert form is not None
    phone = form.fields["notifier.phone"].editor
    assert isinstance(phone, QLineEdit)
    phone.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is phone)
    qtbot.keyClicks(phone, "0296-43-2111")
    qtbot.keyClick(phone, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    dialog = _modal(PrefillDialog)
    assert dialog.selected_kind().label == "転居"
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.name)
    type_text(dialog.name, "たかはし", qtbot)
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.results.rowCount() == 3, timeout=10000)  # not 高畑
    assert QApplication.focusWidget() is dialog.results
    names = [dialog.results.item(r, 0).text() for r in range(3)]
    assert names == ["髙橋\u3000一郎", "髙橋\u3000次郎", "髙橋\u3000花子"]  # by フリガナ
    qtbot.keyClick(dialog.results, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.results, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.results, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.household_list.count() == 3, timeout=10000)
    assert QApplication.focusWidget() is dialog.household_list
    checked = [dialog.household_list.item(i).checkState() == Qt.CheckState.Checked for i in range(3)]
    assert checked == [False, True, False]  # 世帯主 一郎, 妻 花子 (picked), 子 次郎
    qtbot.keyClick(dialog.household_list, Qt.Key.Key_Up)
    qtbot.keyClick(dialog.household_list, Qt.Key.Key_Space)
    assert dialog.household_list.item(0).checkState() == Qt.CheckState.Checked
    dialog.grab().save(str(SHOTS / "madoguchi_prefill.png"))
    qtbot.keyClick(dialog.household_list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    values = form.raw_values()
    assert values["old_address.town"] == "本城町" and values["old_address.building"] == "本城ハイツ101"
    assert values["old_address.postal_code"] == "304-8501" and values["new_address.town"] == ""
    assert (values["persons.0.given_name"], values["persons.1.given_name"]) == ("花子", "一郎")
    assert values["persons.0.birth_date"] == "昭和47年6月6日" and values["persons.0.sex"] == "2"
    assert values["persons.1.relationship"] == "世帯主" and "persons.2.given_name" not in values
    assert (values["notifier.name"], values["notifier.phone"]) == ("髙橋\u3000花子", "0296-43-2111")
    window.grab().save(str(SHOTS / "madoguchi_prefill_form.png"))


def test_prefill_by_address_and_birth_date_for_tenshutsu_and_errors(qtbot: QtBot, ctx: AppContext) -> None:
    """転出 by 住所 + 生年月日 (和暦): the address goes to 従前の住所; a bad date and no criteria
    are refused in Japanese before any call; Esc leaves the form untouched."""
    window = _window(qtbot, ctx)
    form = window.counter
    assert form is not None
    before = form.raw_values()
    dialog = PrefillDialog(
        lambda n, b, a: ctx.api().search_residents(name=n, birth_date=b, address=a),
        lambda atena: ctx.api().resident_household(atena),
        window,
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    assert "いずれかを入力" in dialog.error.text()
    dialog.kind.setCurrentIndex(dialog.kind.findText("転出"))
    type_text(dialog.birth, "昭和55年2月30日", qtbot)
    qtbot.keyClick(dialog.birth, Qt.Key.Key_Return)
    assert "生年月日" in dialog.error.text() and dialog.results.rowCount() == 0
    dialog.birth.clear()
    qtbot.keyClicks(dialog.birth, "S55.3.3")
    type_text(dialog.address, "長塚", qtbot)
    qtbot.keyClick(dialog.address, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.results.rowCount() == 1, timeout=10000)
    qtbot.keyClick(dialog.results, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.household_list.count() == 1, timeout=10000)
    qtbot.keyClick(dialog.household_list, Qt.Key.Key_Return)
    values = dialog.values()
    assert values["old_address.town"] == "長塚" and values["persons.0.given_name"] == "三郎"
    assert not any(k.startswith("new_address.") for k in values)
    assert form.raw_values() == before  # this dialog was not wired to the form

    window2 = _window(qtbot, ctx)
    assert window2.counter is not None
    keep = window2.counter.raw_values()
    window2.counter.fields["notifier.phone"].editor.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window2.counter.fields["notifier.phone"].editor)
    qtbot.keyClick(
        window2.counter.fields["notifier.phone"].editor, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier
    )
    escaped = _modal(PrefillDialog)
    qtbot.keyClick(escaped.name, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not escaped.isVisible())
    assert window2.counter.raw_values() == keep


def test_aids_only_on_the_counter_form(qtbot: QtBot, ctx: AppContext, live_server: LiveServer) -> None:
    """In 管理者 mode the 入力補助 toolbar is hidden and Ctrl+G / Ctrl+J open nothing; in 窓口 they do."""
    from client.app.wiring import load_station

    ctx.station = load_station(ctx.settings.station_dir, "supervisor")
    user, password = live_server.supervisor
    ctx.login(live_server.lg_code, user, password)
    window = _window(qtbot, ctx)
    assert isinstance(window.stack.currentWidget(), SupervisorPanel)
    assert window.aids.isHidden() and not any(a.isEnabled() for a in window.aids.actions())
    qtbot.keyClick(window, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.activeModalWidget() is None
    window.mode_box.setCurrentIndex(window.mode_box.findText("窓口"))
    assert window.counter is not None and window.stack.currentWidget() is window.counter
    assert not window.aids.isHidden() and all(a.isEnabled() for a in window.aids.actions())


def test_prefill_of_a_foreign_resident_says_what_the_form_cannot_hold(qtbot: QtBot, ctx: AppContext) -> None:
    """SMITH JOHN by birth date: his 生年月日, 性別 and ローマ字氏名 (in the 欄外, 外国人 chosen) are
    filled; the フリガナ the canvas has no field for is named in the status bar instead of being
    dropped silently."""
    window = _window(qtbot, ctx)
    form = window.counter
    assert form is not None
    form.fields["notified_on"].editor.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.fields["notified_on"].editor)
    qtbot.keyClick(form.fields["notified_on"].editor, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    dialog = _modal(PrefillDialog)
    qtbot.keyClicks(dialog.birth, "1985-07-07")
    qtbot.keyClick(dialog.birth, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.results.rowCount() == 1, timeout=10000)
    assert dialog.results.item(0, 0).text() == "SMITH JOHN"
    qtbot.keyClick(dialog.results, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.household_list.count() == 1, timeout=10000)
    qtbot.keyClick(dialog.household_list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert form.raw_values()["persons.0.birth_date"] == "昭和60年7月7日"
    values = form.raw_values()
    assert (values["persons.0.roman_name"], values["persons.0.is_foreign"]) == ("SMITH JOHN", "1")
    assert "フリガナ（外国人）「スミス ジョン」" in window.statusBar().currentMessage()
    assert "ローマ字氏名" not in window.statusBar().currentMessage()
