"""The kanji search dialog, offscreen, driven by the keyboard."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from client.core.kanji.index import KanjiIndex
from client.ui.widgets.kanji_search import TEXT_ROLE, KanjiSearch

pytestmark = pytest.mark.ui


def _shown(dialog: KanjiSearch) -> list[str]:
    return [dialog.results.item(i).data(TEXT_ROLE) for i in range(dialog.results.count())]


def test_reading_search_and_insert_by_enter(qtbot: QtBot, kanji_index: KanjiIndex) -> None:
    """Typing たか, Enter, picking 髙 and Enter emits 髙."""
    dialog = KanjiSearch(kanji_index)
    qtbot.addWidget(dialog)
    dialog.query.insert("たか")  # as the IME commits it (QTest types ASCII only)
    qtbot.keyClick(dialog.query, Qt.Key.Key_Return)
    assert "髙" in _shown(dialog)
    dialog.results.setCurrentRow(_shown(dialog).index("髙"))
    with qtbot.waitSignal(dialog.chosen) as got:
        qtbot.keyClick(dialog.results, Qt.Key.Key_Return)
    assert got.args == ["髙"]


def test_variants_are_images_and_insert_the_true_sequence(qtbot: QtBot, kanji_index: KanjiIndex) -> None:
    """葛 shows seven IVS variants as distinct glyph images; choosing MJ022335 emits 葛+U+E0102, not PUA."""
    dialog = KanjiSearch(kanji_index)
    qtbot.addWidget(dialog)
    dialog.query.insert("葛")
    qtbot.keyClick(dialog.query, Qt.Key.Key_Return)
    assert dialog.variants.count() == 7
    images = [dialog.variants.item(i).icon().pixmap(48, 48).toImage() for i in range(7)]
    assert len({bytes(img.constBits()) for img in images}) == 7  # seven different drawings
    row = [dialog.variants.item(i).data(TEXT_ROLE) for i in range(7)].index("葛\U000e0102")
    dialog.variants.setCurrentRow(row)
    with qtbot.waitSignal(dialog.chosen) as got:
        qtbot.keyClick(dialog.variants, Qt.Key.Key_Return)
    assert got.args == ["葛\U000e0102"]


def test_radical_and_strokes_search(qtbot: QtBot, kanji_index: KanjiIndex) -> None:
    """部首 30 + 3 strokes lists 𠮷 among the results."""
    dialog = KanjiSearch(kanji_index)
    qtbot.addWidget(dialog)
    dialog.radical.setValue(30)
    dialog.residual.setValue(3)
    dialog.search()
    assert "𠮷" in _shown(dialog)
