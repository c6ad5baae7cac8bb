"""語句登録 on the screen: the phrase picker (Ctrl+G) and the screens that manage phrases.

:class:`PhrasePicker` pops up over the counter form. Typing filters by 略号, 読み or the text
itself; ↑/↓ move in the list; Enter inserts the phrase at the cursor of the field that had focus
(replacing a selection, as typing would); Esc closes without touching the field. It opens with the
local copy at once and replaces it with the server's list when that arrives, so it works offline.
A phrase that would not fit the field's length limit is not cut off: the picker says so instead.

:class:`PhraseManager` lists one list (the clerk's own, or the office's for a supervisor with
``phrase.manage``) with a form to add, change and delete; every server call runs off the UI thread
and each refusal is shown in Japanese beside the form, keeping what was typed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from client.app.context import AppContext
from client.core.phrases import PhraseBook, cache_path, fetch, filter_phrases, load_cache, save_cache
from shared.api_counter import (
    PHRASE_CATEGORY_LABELS,
    PHRASE_SCOPE_LABELS,
    PhraseCategory,
    PhraseRead,
    PhraseScope,
    PhraseWrite,
)
from shared.errors import InvalidInput, describe_validation_errors

from ..worker import error_text, run_in_background
from .fields import ErrorLabel

PHRASE_SHORTCUT = "Ctrl+G"  # 語句 (goku); Ctrl+P 印刷, Ctrl+K 漢字検索, Ctrl+Enter 送信 are taken
COLUMNS = ["語句", "読み", "略号", "分類", "区分"]


def insert_text(target: QWidget | None, text: str) -> str | None:
    """Insert ``text`` at the cursor of ``target``; None on success, else the Japanese reason."""
    if isinstance(target, QComboBox) and target.isEditable():
        target = target.lineEdit()
    if isinstance(target, QLineEdit):
        if target.isReadOnly():
            return "この欄には入力できません。"
        kept = len(target.text()) - len(target.selectedText())
        if kept + len(text) > target.maxLength():
            return f"この欄は{target.maxLength()}文字までのため、語句を入れられません（入力はそのままです）。"
        target.insert(text)
        return None
    if isinstance(target, (QPlainTextEdit, QTextEdit)) and not target.isReadOnly():
        target.insertPlainText(text)
        return None
    return "語句を入れる入力欄を選んでから開いてください。"


def _fill_table(table: QTableWidget, items: list[PhraseRead]) -> None:
    table.setRowCount(len(items))
    for row, p in enumerate(items):
        values = [
            p.text,
            p.reading,
            p.key or "",
            PHRASE_CATEGORY_LABELS[p.category],
            PHRASE_SCOPE_LABELS[p.scope],
        ]
        for col, value in enumerate(values):
            cell = QTableWidgetItem(value)
            cell.setToolTip(p.text)
            table.setItem(row, col, cell)


def _table() -> QTableWidget:
    table = QTableWidget(0, len(COLUMNS))
    table.setHorizontalHeaderLabels(COLUMNS)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for col in range(1, len(COLUMNS)):
        header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
    return table


class PhrasePicker(QDialog):
    """Type to filter, ↑/↓ to move, Enter to insert, Esc to cancel. ``chosen(text)`` on Enter."""

    chosen = Signal(str)

    def __init__(
        self,
        book: PhraseBook | None,
        parent: QWidget | None = None,
        *,
        target: QWidget | None = None,
        load: Callable[[], PhraseBook] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"語句の挿入（{PHRASE_SHORTCUT}）")
        self.resize(640, 420)
        self.target = target
        self.items: list[PhraseRead] = []
        self.shown: list[PhraseRead] = []
        self.query = QLineEdit()
        self.query.setPlaceholderText("読み・略号・語句の一部を入力（↑↓で選択、Enterで挿入、Escで閉じる）")
        self.table = _table()
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing always goes to the filter
        self.status = QLabel()
        self.error = ErrorLabel(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.query)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        self.query.textChanged.connect(self.refilter)
        self.query.installEventFilter(self)
        self.table.itemDoubleClicked.connect(lambda _item: self.insert_current())
        self.set_book(book)
        if load is not None:
            run_in_background(load, on_result=self.set_book, on_error=self._load_failed)
        self.query.setFocus()

    # -- data ------------------------------------------------------------------------------

    def set_book(self, book: PhraseBook | None) -> None:
        """Show ``book`` (keeping the filter and, if still there, the current phrase)."""
        if book is None:
            self.status.setText("語句を読み込んでいます…")
            return
        current = self.current()
        self.items = list(book.items)
        self.refilter()
        if current is not None:
            for row, p in enumerate(self.shown):
                if p.id == current.id:
                    self.table.selectRow(row)
        if book.offline:
            self.error.show_messages(
                [f"サーバーに接続できないため、保存済みの語句を表示しています（{book.problem}）"]
            )
        else:
            self.error.show_messages([])

    def _load_failed(self, exc: BaseException) -> None:
        if not self.items:
            self.status.setText("")
            self.error.show_messages([f"語句を読み込めません: {error_text(exc)}"])

    def refilter(self) -> None:
        self.shown = filter_phrases(self.items, self.query.text())
        _fill_table(self.table, self.shown)
        if self.shown:
            self.table.selectRow(0)
        if not self.items:
            self.status.setText("登録された語句はありません。「語句の登録」から追加できます。")
        else:
            self.status.setText(f"{len(self.shown)}件 / {len(self.items)}件")

    def current(self) -> PhraseRead | None:
        row = self.table.currentRow()
        return self.shown[row] if 0 <= row < len(self.shown) else None

    # -- keyboard --------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.query and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                step = {
                    Qt.Key.Key_Down: 1,
                    Qt.Key.Key_Up: -1,
                    Qt.Key.Key_PageDown: 10,
                    Qt.Key.Key_PageUp: -10,
                }
                if self.shown:
                    row = min(max(self.table.currentRow() + step[Qt.Key(key)], 0), len(self.shown) - 1)
                    self.table.selectRow(row)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.insert_current()
                return True
        return super().eventFilter(watched, event)

    def insert_current(self) -> None:
        phrase = self.current()
        if phrase is None:
            self.error.show_messages(["挿入する語句がありません。読みを変えてください。"])
            return
        if self.target is not None:
            problem = insert_text(self.target, phrase.text)
            if problem is not None:
                self.error.show_messages([problem])
                return
        self.chosen.emit(phrase.text)
        self.accept()


def phrase_cache_file(ctx: AppContext) -> Path | None:
    session = ctx.session
    if session is None:
        return None
    return cache_path(
        ctx.settings.data_dir, ctx.settings.server_url, session.user.lg_code, session.user.username
    )


def phrase_loader(ctx: AppContext) -> Callable[[], PhraseBook]:
    """Download the phrases (in a worker) and keep the local copy; falls back to the copy."""
    path = phrase_cache_file(ctx)

    def load() -> PhraseBook:
        if path is None:
            raise InvalidInput("ログインしてください。", code="auth.required")
        with ctx.api() as api:
            return fetch(api, path)

    return load


def open_phrase_picker(ctx: AppContext, parent: QWidget) -> PhrasePicker:
    """The picker for the widget that has focus now (the field to insert into)."""
    target = QApplication.focusWidget()
    path = phrase_cache_file(ctx)
    cached = load_cache(path) if path is not None else None
    book = PhraseBook(cached.items, cached.can_manage_office) if cached is not None else None
    picker = PhrasePicker(book, parent, target=target, load=phrase_loader(ctx))
    if target is not None:  # just under the field, like an input method's candidate list
        picker.move(target.mapToGlobal(QPoint(0, target.height())))

    def back_to_field(_result: int) -> None:
        if target is not None:  # the clerk goes on typing where he was
            target.activateWindow()
            target.setFocus()

    picker.finished.connect(back_to_field)
    return picker


class PhraseManager(QWidget):
    """One list of phrases with a form: 新規 (clear the form), 登録・保存, 削除, 再読込."""

    changed = Signal()

    def __init__(self, ctx: AppContext, scope: PhraseScope, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.scope = scope
        self.items: list[PhraseRead] = []
        self.editing: PhraseRead | None = None
        title = "自分の語句" if scope is PhraseScope.user else "団体共通の語句（全職員が使えます）"
        self.heading = QLabel(title)
        self.heading.setStyleSheet("font-weight: bold;")
        self.count = QLabel()
        self.table = _table()
        self.table.currentCellChanged.connect(lambda row, *_: self._edit_row(row))
        self.text = QLineEdit()
        self.text.setMaxLength(400)
        self.text.setPlaceholderText("例: 〇〇マンション101号室、本城町二丁目、転入届の受付済")
        self.reading = QLineEdit()
        self.reading.setMaxLength(100)
        self.reading.setPlaceholderText("ひらがな（例: まんしょん）")
        self.key = QLineEdit()
        self.key.setMaxLength(20)
        self.key.setPlaceholderText("任意・半角英数字（例: m101）")
        self.category = QComboBox()
        for category in PhraseCategory:
            self.category.addItem(PHRASE_CATEGORY_LABELS[category], category.value)
        form = QFormLayout()
        form.addRow("語句", self.text)
        form.addRow("読み", self.reading)
        form.addRow("略号", self.key)
        form.addRow("分類", self.category)
        self.new_button = QPushButton("新規")
        self.save_button = QPushButton("登録")
        self.delete_button = QPushButton("削除")
        self.reload_button = QPushButton("再読込")
        self.new_button.clicked.connect(self.start_new)
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.delete)
        self.reload_button.clicked.connect(self.reload)
        buttons = QHBoxLayout()
        for button in (self.new_button, self.save_button, self.delete_button, self.reload_button):
            button.setAutoDefault(False)  # Enter in a field saves; it must not also press 新規
        for button in (self.new_button, self.save_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.reload_button)
        self.error = ErrorLabel(self)
        self.status = QLabel()
        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        head.addWidget(self.heading)
        head.addStretch(1)
        head.addWidget(self.count)
        layout.addLayout(head)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        for edit in (self.text, self.reading, self.key):
            edit.returnPressed.connect(self.save)
        self.start_new()
        self.reload()

    # -- server ----------------------------------------------------------------------------

    def _call(self, fn: Callable[[Any], Any], done: Callable[[Any], None]) -> None:
        def call() -> Any:
            with self.ctx.api() as api:
                return fn(api)

        self.error.show_messages([])
        run_in_background(call, on_result=done, on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        messages = [error_text(exc)]
        details = getattr(exc, "details", None) or []
        messages += [d["message"] for d in details if d.get("message") and d["message"] not in messages]
        self.error.show_messages(messages)

    def reload(self) -> None:
        self._call(lambda api: api.list_phrases(), self._show)

    def _show(self, phrases: Any) -> None:
        self.items = [p for p in phrases.items if p.scope is self.scope]
        _fill_table(self.table, self.items)
        self.count.setText(f"{len(self.items)}件")
        path = phrase_cache_file(self.ctx)
        if path is not None:  # the picker's local copy follows every change
            with contextlib.suppress(OSError):  # the copy is a convenience; the server has the list
                save_cache(path, phrases)
        if self.editing is not None:
            for row, p in enumerate(self.items):
                if p.id == self.editing.id:
                    self.table.selectRow(row)

    # -- form ------------------------------------------------------------------------------

    def _edit_row(self, row: int) -> None:
        if not 0 <= row < len(self.items):
            return
        p = self.items[row]
        self.editing = p
        self.text.setText(p.text)
        self.reading.setText(p.reading)
        self.key.setText(p.key or "")
        self.category.setCurrentIndex(max(self.category.findData(p.category.value), 0))
        self.save_button.setText("保存")
        self.delete_button.setEnabled(True)

    def start_new(self) -> None:
        self.editing = None
        self.table.clearSelection()
        for edit in (self.text, self.reading, self.key):
            edit.clear()
        self.category.setCurrentIndex(max(self.category.findData(PhraseCategory.other.value), 0))
        self.save_button.setText("登録")
        self.delete_button.setEnabled(False)
        self.text.setFocus()

    def body(self) -> PhraseWrite:
        """The form as a request body; a rule broken raises InvalidInput in Japanese."""
        from pydantic import ValidationError

        try:
            return PhraseWrite(
                text=self.text.text(),
                reading=self.reading.text(),
                key=self.key.text() or None,
                category=PhraseCategory(self.category.currentData()),
                version=self.editing.version if self.editing is not None else None,
            )
        except ValidationError as exc:
            details = describe_validation_errors(exc.errors(include_input=False))
            labels = {"text": "語句", "reading": "読み", "key": "略号", "category": "分類"}
            raise InvalidInput(
                "、".join(f"{labels.get(d['field'], d['field'])}: {d['message']}" for d in details),
                code="phrase.invalid",
            ) from None

    def save(self) -> None:
        try:
            body = self.body()
        except InvalidInput as exc:
            self.error.show_messages([exc.message])
            return
        editing = self.editing
        if editing is None:
            self._call(lambda api: api.create_phrase(self.scope, body), self._saved)
        else:
            self._call(lambda api: api.update_phrase(self.scope, editing.id, body), self._saved)

    def _saved(self, phrase: PhraseRead) -> None:
        self.status.setText(f"「{phrase.text}」を{'保存' if self.editing else '登録'}しました。")
        self.editing = phrase
        self.changed.emit()
        self.reload()

    def delete(self) -> None:
        editing = self.editing
        if editing is None:
            return
        self._call(lambda api: api.delete_phrase(self.scope, editing.id), lambda _r: self._deleted(editing))

    def _deleted(self, phrase: PhraseRead) -> None:
        self.status.setText(f"「{phrase.text}」を削除しました。")
        self.start_new()
        self.changed.emit()
        self.reload()


class PhraseManagerDialog(QDialog):
    """The clerk's 語句の登録: his own list (and, with ``phrase.manage``, the office's tab)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("語句の登録")
        self.resize(760, 560)
        layout = QVBoxLayout(self)
        self.own = PhraseManager(ctx, PhraseScope.user)
        layout.addWidget(self.own)
        close = QPushButton("閉じる")
        close.setAutoDefault(False)
        close.clicked.connect(self.accept)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)
