"""漢字検索 (kanji search) dialog: find a character by reading, radical + strokes, total strokes or
code, see its IVS variants as IPAmj明朝 draws them, insert it.

Qt 6.12 on Linux drops variation selectors when drawing text, so every character and variant is
shown as an image drawn by Pillow with RAQM (:mod:`client.core.kanji.glyphs`); the string emitted
by :attr:`KanjiSearch.chosen` is the true sequence (葛 + U+E0102), never a private-use stand-in.

Keyboard: type in 読み・コード, Tab to 部首 / 画数, Enter searches, arrows move in the results,
Enter on a result or a variant inserts it, Esc closes.
"""

from __future__ import annotations

from PIL.ImageQt import ImageQt
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from client.core.kanji.glyphs import glyph_image
from client.core.kanji.index import Kanji, KanjiIndex

ICON_PX = 48
TEXT_ROLE = Qt.ItemDataRole.UserRole


def glyph_icon(text: str, size_px: int = ICON_PX) -> QIcon:
    """An icon of ``text`` drawn with IVS applied."""
    return QIcon(QPixmap.fromImage(ImageQt(glyph_image(text, size_px))))


def _spin(maximum: int, special: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(0, maximum)
    box.setSpecialValueText(special)  # 0 = not used
    return box


class KanjiSearch(QDialog):
    """The dialog. ``chosen(text)`` is emitted with the character or sequence to insert."""

    chosen = Signal(str)

    def __init__(self, index: KanjiIndex, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("漢字検索")
        self.index = index
        self.query = QLineEdit()
        self.query.setPlaceholderText("読み（たか）・漢字（高）・コード（U+9AD9, MJ022335）")
        self.radical = _spin(214, "指定なし")
        self.residual = _spin(64, "指定なし")
        self.strokes = _spin(84, "指定なし")
        self.search_button = QPushButton("検索")
        self.status = QLabel()
        self.results = QListWidget()
        self.results.setViewMode(QListWidget.ViewMode.IconMode)
        self.results.setIconSize(QSize(ICON_PX, ICON_PX))
        self.results.setGridSize(QSize(ICON_PX + 16, ICON_PX + 16))
        self.results.setMovement(QListWidget.Movement.Static)
        self.detail = QLabel()
        self.variants = QListWidget()
        self.variants.setViewMode(QListWidget.ViewMode.IconMode)
        self.variants.setIconSize(QSize(ICON_PX, ICON_PX))
        self.variants.setGridSize(QSize(ICON_PX + 40, ICON_PX + 28))
        self.variants.setMovement(QListWidget.Movement.Static)
        self.insert_button = QPushButton("挿入")

        form = QFormLayout()
        form.addRow("読み・コード", self.query)
        row = QHBoxLayout()
        for label, box in (
            ("部首番号", self.radical),
            ("部首外画数", self.residual),
            ("総画数", self.strokes),
        ):
            caption = QLabel(label)
            caption.setBuddy(box)
            row.addWidget(caption)
            row.addWidget(box)
        row.addWidget(self.search_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.results, 3)
        layout.addWidget(self.detail)
        layout.addWidget(QLabel("異体字（IPAmj明朝の字形）"))
        layout.addWidget(self.variants, 2)
        layout.addWidget(self.insert_button, 0, Qt.AlignmentFlag.AlignRight)

        self.query.returnPressed.connect(self.search)
        self.search_button.clicked.connect(self.search)
        for box in (self.radical, self.residual, self.strokes):
            box.editingFinished.connect(self.search)
        self.results.currentItemChanged.connect(lambda cur, _prev: self.show_kanji(cur))
        self.results.itemActivated.connect(self._insert_item)
        self.variants.itemActivated.connect(self._insert_item)
        self.insert_button.clicked.connect(self.insert_current)

    def search(self) -> list[Kanji]:
        """Run the search from the inputs and show the results."""
        text = self.query.text().strip()
        is_reading = bool(text) and all("\u3040" <= c <= "\u30ff" or c == "ー" for c in text)
        found = self.index.search(
            reading=text if is_reading else None,
            code=None if is_reading or not text else text,
            radical=self.radical.value() or None,
            residual=self.residual.value() or None,
            strokes=self.strokes.value() or None,
        )
        self.results.clear()
        self.variants.clear()
        self.detail.clear()
        for kanji in found:
            item = QListWidgetItem(glyph_icon(kanji.char), "")
            item.setData(TEXT_ROLE, kanji.char)
            item.setToolTip(f"{kanji.char} {kanji.code} 総画数 {'/'.join(map(str, kanji.strokes))}")
            self.results.addItem(item)
        self.status.setText(f"{len(found)}件" if found else "見つかりません。条件を変えてください。")
        if found:
            self.results.setCurrentRow(0)
        return found

    def show_kanji(self, item: QListWidgetItem | None) -> None:
        """Show the details and the IVS variants of the current result."""
        self.variants.clear()
        if item is None:
            return
        kanji = self.index.get(item.data(TEXT_ROLE))
        if kanji is None:
            return
        self.detail.setText(
            f"{kanji.code}　部首 {kanji.radical} + {kanji.residual}画　総画数 "
            f"{'・'.join(map(str, kanji.strokes))}　読み {'、'.join(kanji.readings[:12])}"
        )
        for seq in kanji.sequences:
            variant = QListWidgetItem(
                glyph_icon(seq.text), f"{seq.glyph.upper()}\nE{seq.selector - 0xE0000:04X}"
            )
            variant.setData(TEXT_ROLE, seq.text)
            variant.setToolTip(f"{kanji.char} + U+{seq.selector:04X}（{seq.glyph.upper()}）")
            self.variants.addItem(variant)

    def insert_current(self) -> None:
        item = self.variants.currentItem() or self.results.currentItem()
        if item is not None:
            self._insert_item(item)

    def _insert_item(self, item: QListWidgetItem) -> None:
        self.chosen.emit(item.data(TEXT_ROLE))
        self.accept()
