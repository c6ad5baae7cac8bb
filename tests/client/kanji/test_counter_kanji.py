"""The 転入 screen's 漢字検索 shortcut (Ctrl+K), offscreen."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from client.core.kanji.index import KanjiIndex
from client.ui.counter.move_in import MoveInForm
from client.ui.widgets.kanji_search import TEXT_ROLE, KanjiSearch

pytestmark = pytest.mark.ui


def test_ctrl_k_inserts_the_ivs_sequence(qtbot: QtBot, kanji_index: KanjiIndex) -> None:
    """Ctrl+K in 氏 opens the kanji search; choosing 葛+E0102 inserts the true sequence into the field."""
    form = MoveInForm()
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    form.kanji_index = kanji_index
    editor = form.persons[0].fields["family_name"].editor
    editor.setFocus()

    def choose() -> None:
        dialog = next(
            w for w in QApplication.topLevelWidgets() if isinstance(w, KanjiSearch) and w.isVisible()
        )
        dialog.query.insert("葛")
        dialog.search()
        texts = [dialog.variants.item(i).data(TEXT_ROLE) for i in range(dialog.variants.count())]
        dialog.variants.setCurrentRow(texts.index("葛\U000e0102"))
        dialog.insert_current()

    QTimer.singleShot(200, choose)
    form.open_kanji_search()
    assert editor.text() == "葛\U000e0102"
