"""The 転入 screen's draft, offscreen: debounced and focus-change saves, clear, the restore dialog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from client.app.main import create_application
from client.core.draft import DraftStore
from client.ui.counter.draft_keeper import QUESTION, SCREEN, DraftKeeper, offer_restore
from client.ui.counter.move_in import MoveInForm

pytestmark = pytest.mark.ui


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DraftStore]:
    create_application()
    box = DraftStore(tmp_path / "drafts.sqlite3")
    try:
        yield box
    finally:
        box.close()


def commit_text(widget: QWidget, text: str) -> None:
    """Japanese text as the IME commits it."""
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def answer_dialog(seen: list[str], button: QMessageBox.StandardButton) -> None:
    """Click ``button`` of the next modal message box, remembering its text."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.append(box.text())
        box.button(button).click()

    QTimer.singleShot(0, click)


def test_typing_is_saved_after_a_pause_raw_and_invalid(qtbot: QtBot, store: DraftStore) -> None:
    """What the clerk types, invalid text included, reaches the store a moment after the last key."""
    form = MoveInForm()
    qtbot.addWidget(form)
    keeper = DraftKeeper(form, store, debounce_ms=50)
    qtbot.keyClicks(form.fields["persons.0.my_number"].editor, "12345")
    commit_text(form.fields["persons.0.family_name"].editor, "葛\U000e0100城")
    qtbot.keyClicks(form.fields["moved_on"].editor, "R6.13.")
    qtbot.waitUntil(lambda: keeper.idle and store.load(SCREEN) is not None, timeout=5000)
    draft = store.load(SCREEN)
    assert draft is not None
    assert draft.values["persons.0.my_number"] == "12345"
    assert draft.values["persons.0.family_name"] == "葛\U000e0100城"
    assert draft.values["moved_on"] == "R6.13."


def test_focus_change_saves_without_waiting_for_the_pause(qtbot: QtBot, store: DraftStore) -> None:
    """Leaving a field saves at once, even when the debounce would wait much longer."""
    form = MoveInForm()
    qtbot.addWidget(form)
    form.show()
    form.activateWindow()
    qtbot.waitActive(form)
    keeper = DraftKeeper(form, store, debounce_ms=3_600_000)
    name = form.fields["notifier.name"].editor
    name.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is name, timeout=5000)
    commit_text(name, "試験　太郎")
    assert keeper.timer.isActive()
    qtbot.keyClick(name, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: keeper.idle and store.load(SCREEN) is not None, timeout=5000)
    draft = store.load(SCREEN)
    assert draft is not None and draft.values["notifier.name"] == "試験　太郎"


def test_clear_forgets_the_draft(qtbot: QtBot, store: DraftStore) -> None:
    """クリア (and the clear after a successful submit) removes the draft from the store."""
    form = MoveInForm()
    qtbot.addWidget(form)
    keeper = DraftKeeper(form, store, debounce_ms=50)
    qtbot.keyClicks(form.fields["notifier.phone"].editor, "0296")
    qtbot.waitUntil(lambda: keeper.idle and store.load(SCREEN) is not None, timeout=5000)
    qtbot.mouseClick(form.clear_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: keeper.idle, timeout=5000)
    assert store.load(SCREEN) is None


def test_restore_dialog_puts_every_field_back(qtbot: QtBot, store: DraftStore) -> None:
    """The Japanese question appears; 復元する restores persons, combos and raw text exactly."""
    first = MoveInForm()
    qtbot.addWidget(first)
    first.add_person()
    values = {
        "moved_on": "R6.4",
        "notifier.standing": "agent",
        "new_address.town": "本城町二丁目",
        "persons.0.family_name": "葛\U000e0100城",
        "persons.0.sex": "2",
        "persons.0.relationship": "同居人の子",
        "persons.0.my_number": "12345",
        "persons.1.given_name": "花子",
        "persons.1.relationship": "子",
    }
    for name, value in values.items():
        first.fields[name].set_text(value)
    expected = first.raw_values()
    store.save(SCREEN, expected)

    form = MoveInForm()
    qtbot.addWidget(form)
    seen: list[str] = []
    answer_dialog(seen, QMessageBox.StandardButton.Yes)
    assert offer_restore(form, store) is True
    assert seen == [QUESTION] and QUESTION == "前回の入力途中の届出があります。復元しますか？"
    assert len(form.persons) == 2
    assert form.raw_values() == expected
    assert form.fields["persons.0.sex"].editor.currentText() == "女"  # type: ignore[attr-defined]


def test_discarding_forgets_the_draft(qtbot: QtBot, store: DraftStore) -> None:
    """破棄する leaves the form empty and removes the draft, so the question is not asked again."""
    store.save(SCREEN, {"persons.0.family_name": "試験"})
    form = MoveInForm()
    qtbot.addWidget(form)
    seen: list[str] = []
    answer_dialog(seen, QMessageBox.StandardButton.No)
    assert offer_restore(form, store) is False
    assert seen == [QUESTION]
    assert form.fields["persons.0.family_name"].text() == "" and store.load(SCREEN) is None


def test_no_draft_no_question(qtbot: QtBot, store: DraftStore) -> None:
    """Without a draft nothing is asked."""
    form = MoveInForm()
    qtbot.addWidget(form)
    assert offer_restore(form, store) is False
