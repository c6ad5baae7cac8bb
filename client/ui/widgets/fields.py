"""Input widgets that show their own Japanese error beside the field and never clear the input."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from client.core.reception import wareki_hint

ERROR_STYLE = "color: #b00020;"
INVALID_STYLE = "border: 2px solid #b00020;"


class ErrorLabel(QLabel):
    """A red line of text, hidden while empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(ERROR_STYLE)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_messages(self, messages: Sequence[str]) -> None:
        self.setText("\n".join(messages))
        self.setVisible(bool(messages))


class Field(QWidget):
    """An input (line edit or combo box) with its error label underneath."""

    def __init__(self, editor: QWidget, hint: QLabel | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.hint = hint
        self.error = ErrorLabel(self)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(1)
        box.addWidget(editor)
        if hint is not None:
            box.addWidget(hint)
        box.addWidget(self.error)
        self.setFocusProxy(editor)

    def text(self) -> str:
        if isinstance(self.editor, QComboBox):
            if self.editor.isEditable():
                return self.editor.currentText()
            data = self.editor.currentData()
            return "" if data is None else str(data)
        if isinstance(self.editor, QLineEdit):
            return self.editor.text()
        return ""

    def set_text(self, value: str) -> None:
        if isinstance(self.editor, QComboBox):
            idx = self.editor.findData(value)
            if idx < 0:
                idx = self.editor.findText(value)
            if idx >= 0:
                self.editor.setCurrentIndex(idx)
            elif self.editor.isEditable():
                self.editor.setEditText(value)
        elif isinstance(self.editor, QLineEdit):
            self.editor.setText(value)

    def set_errors(self, messages: Sequence[str]) -> None:
        self.error.show_messages(messages)
        self.editor.setStyleSheet(INVALID_STYLE if messages else "")
        self.editor.setToolTip("\n".join(messages))


def line_field(placeholder: str = "", *, max_length: int = 200, password: bool = False) -> Field:
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setMaxLength(max_length)
    if password:
        edit.setEchoMode(QLineEdit.EchoMode.Password)
    return Field(edit)


def date_field(placeholder: str = "例: 令和6年4月1日、R6.4.1、2024-04-01") -> Field:
    """A date typed in 和暦 or 西暦; the hint under it shows how it was read."""
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setMaxLength(30)
    hint = QLabel()
    hint.setStyleSheet("color: #555;")
    field = Field(edit, hint)
    edit.textChanged.connect(lambda text: hint.setText(wareki_hint(text)))
    return field


def combo_field(choices: Sequence[tuple[str, str | None]], *, editable: bool = False) -> Field:
    """Choices as (label, value); value None is the empty 「選択してください」 entry."""
    combo = QComboBox()
    combo.setEditable(editable)
    for label, value in choices:
        combo.addItem(label, value)
    if editable:
        combo.setCurrentIndex(-1)
        combo.setEditText("")
    return Field(combo)


ADDRESS_PARTS: tuple[tuple[str, str, str], ...] = (
    ("postal_code", "郵便番号", "例: 304-0067"),
    ("prefecture", "都道府県", "例: 茨城県"),
    ("municipality", "市区町村", "例: 下妻市"),
    ("town", "町字", "例: 本城町二丁目"),
    ("block_number", "番地号", "例: 22番地"),
    ("building", "方書", "例: 〇〇マンション101号室"),
)


class AddressBox(QGroupBox):
    """住所 in the standard's parts; ``fields`` maps each part name to its :class:`Field`."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.fields: dict[str, Field] = {}
        grid = QGridLayout(self)
        self.error = ErrorLabel(self)
        grid.addWidget(self.error, 0, 0, 1, 2)
        for row, (name, label, placeholder) in enumerate(ADDRESS_PARTS, start=1):
            field = line_field(placeholder, max_length=200 if name == "building" else 100)
            if name == "postal_code":
                field.editor.setMaximumWidth(160)
            caption = QLabel(label)
            caption.setBuddy(field.editor)
            grid.addWidget(caption, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(field, row, 1)
            self.fields[name] = field
        grid.setColumnStretch(1, 1)

    def values(self) -> dict[str, str]:
        return {name: f.text() for name, f in self.fields.items()}

    def focus_order(self) -> list[QWidget]:
        return [f.editor for f in self.fields.values()]
