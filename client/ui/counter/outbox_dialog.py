"""送信失敗の確認: what the server refused for good (a reception or a document), from the counter.

The clerk sees each refusal with the server's Japanese message, and either sends it again (再送,
e.g. after a supervisor fixed a permission) or discards it (破棄…). A discard asks first and offers
to save the submission (JSON) and its documents to a folder before anything goes; every 再送 and
破棄 is recorded in the outbox's local log (``outbox_log``: who, when, the message, where it was
saved, the submission's content), shown under the list. Menu 受付 → 送信失敗の確認… (Ctrl+Shift+F).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client.core.outbox import Outbox, OutboxFile, OutboxItem
from shared.api_records import DOCUMENT_CLASS_LABELS, DocumentClass
from shared.errors import MadoguchiError

ACTION_LABELS = {"discard": "破棄", "retry": "再送"}
TARGET_LABELS = {"reception": "受付", "document": "書類"}
SAVE_AND_DISCARD = "保存してから破棄"
DISCARD_ONLY = "保存せずに破棄"


def _local(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def describe(entry: OutboxItem | OutboxFile) -> str:
    """One line naming the refused thing: the reception's first person, or the document."""
    if isinstance(entry, OutboxItem):
        notice = entry.payload.get("notice", {}) if isinstance(entry.payload, dict) else {}
        persons = notice.get("persons") or [{}]
        who = "　".join(x for x in (persons[0].get("family_name"), persons[0].get("given_name")) if x)
        return f"受付の登録（{who or '氏名なし'}）"
    try:
        label = DOCUMENT_CLASS_LABELS.get(DocumentClass(entry.document_class), entry.document_class)
    except ValueError:
        label = entry.document_class
    return f"書類 {label}「{entry.filename}」"


class OutboxDialog(QDialog):
    """The failed submissions and documents of this terminal, with 再送 and 破棄…."""

    def __init__(
        self,
        outbox: Outbox,
        *,
        username: Callable[[], str | None],
        wake: Callable[[], None] = lambda: None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.outbox = outbox
        self.username = username
        self.wake = wake
        #: Asks where to save before a discard (a folder dialog; tests replace it).
        self.choose_folder: Callable[[], str] = lambda: QFileDialog.getExistingDirectory(
            self, "破棄する前に保存するフォルダー"
        )
        self.entries: list[OutboxItem | OutboxFile] = []
        self.setWindowTitle("送信失敗の確認 — Madoguchi")
        self.resize(900, 560)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel("サーバーが受け付けなかった送信です。内容を確認し、再送するか破棄してください。")
        )
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["日時", "内容", "送信回数", "エラー"])
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self._selected)
        layout.addWidget(self.table, 2)
        self.detail = QPlainTextEdit()
        self.detail.setReadOnly(True)
        self.detail.setPlaceholderText("行を選ぶとエラーの内容が表示されます。")
        self.detail.setMaximumHeight(110)
        layout.addWidget(self.detail)
        buttons = QHBoxLayout()
        self.message = QLabel()
        self.message.setWordWrap(True)
        buttons.addWidget(self.message, 1)
        self.retry_button = QPushButton("再送")
        self.save_button = QPushButton("フォルダーに保存…")
        self.discard_button = QPushButton("破棄…")
        self.close_button = QPushButton("閉じる")
        for button in (self.retry_button, self.save_button, self.discard_button, self.close_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("破棄・再送の記録（この端末）"))
        self.log_table = QTableWidget(0, 5)
        self.log_table.setHorizontalHeaderLabels(["日時", "操作", "職員", "保存先", "エラー"])
        self.log_table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.log_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout.addWidget(self.log_table, 1)
        self.retry_button.clicked.connect(self.retry_selected)
        self.save_button.clicked.connect(self.save_selected)
        self.discard_button.clicked.connect(self.discard_selected)
        self.close_button.clicked.connect(self.accept)
        self.refresh()

    # -- contents ------------------------------------------------------------------------------

    def refresh(self) -> None:
        self.entries = self.outbox.failed()
        self.table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            values = [_local(entry.created_at), describe(entry), str(entry.attempts), entry.last_error or ""]
            for col, value in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()  # 日時 and 内容 whole; エラー takes the rest
        log = self.outbox.log()
        self.log_table.setRowCount(len(log))
        for row, e in enumerate(log):
            values = [
                _local(e.at),
                f"{TARGET_LABELS.get(e.target, e.target)}を{ACTION_LABELS.get(e.action, e.action)}",
                e.username or "",
                e.saved_to or ("（保存なし）" if e.action == "discard" else ""),
                e.error or "",
            ]
            for col, value in enumerate(values):
                self.log_table.setItem(row, col, QTableWidgetItem(value))
        self.log_table.resizeColumnsToContents()
        if self.entries:
            self.table.selectRow(0)
        else:
            self.detail.setPlainText("送信失敗はありません。")
        self._selected()

    def selected(self) -> OutboxItem | OutboxFile | None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        return self.entries[min(rows)] if rows else None

    def _selected(self) -> None:
        entry = self.selected()
        for button in (self.retry_button, self.save_button, self.discard_button):
            button.setEnabled(entry is not None)
        if entry is None:
            return
        lines = [
            describe(entry),
            f"サーバーの回答: {entry.last_error or '（なし）'}",
            f"エラーコード: {entry.error_code or '（なし）'}　送信回数: {entry.attempts}",
        ]
        if isinstance(entry, OutboxItem):
            docs = self.outbox.files_of(entry.client_key)
            if docs:
                lines.append("一緒に送る書類: " + "、".join(f.filename for f in docs))
        self.detail.setPlainText("\n".join(lines))

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet("color: #b00020;" if error else "color: #1b5e20;")
        self.message.setText(text)

    # -- actions -------------------------------------------------------------------------------

    def retry_selected(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        self.outbox.retry(entry, username=self.username())
        self.wake()
        self._say(f"再送します: {describe(entry)}")
        self.refresh()

    def _save(self, entry: OutboxItem | OutboxFile) -> Path | None:
        folder = self.choose_folder()
        if not folder:
            return None
        try:
            return self.outbox.export(entry, Path(folder))
        except Exception as exc:  # OSError, a damaged local copy …: told, nothing discarded
            self._say(
                f"保存できませんでした（{folder}）: {type(exc).__name__}。破棄は行いません。", error=True
            )
            raise _Abort from exc

    def save_selected(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        try:
            out = self._save(entry)
        except _Abort:
            return
        if out is not None:
            self._say(f"保存しました: {out}")

    def confirm_box(self, entry: OutboxItem | OutboxFile) -> QMessageBox:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("送信失敗の破棄 — Madoguchi")
        box.setText(f"{describe(entry)} を破棄しますか？")
        box.setInformativeText(
            "破棄するとサーバーには送られません（記録はこの端末に残ります）。"
            "破棄する前に、届出の内容と書類をフォルダーに保存できます。"
        )
        box.addButton(SAVE_AND_DISCARD, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(DISCARD_ONLY, QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton("キャンセル", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(cancel)
        return box

    def discard_selected(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        box = self.confirm_box(entry)
        box.exec()
        clicked = box.clickedButton()
        choice = clicked.text() if clicked is not None else ""
        if choice not in (SAVE_AND_DISCARD, DISCARD_ONLY):
            self._say("破棄しませんでした。")
            return
        saved: Path | None = None
        if choice == SAVE_AND_DISCARD:
            try:
                saved = self._save(entry)
            except _Abort:
                return
            if saved is None:
                self._say("保存先が選ばれなかったため、破棄しませんでした。")
                return
        try:
            self.outbox.discard(entry, username=self.username(), saved_to=saved)
        except MadoguchiError as exc:
            self._say(exc.message, error=True)
            self.refresh()
            return
        self._say(f"破棄しました: {describe(entry)}" + (f"（保存先: {saved}）" if saved else ""))
        self.refresh()


class _Abort(Exception):
    """Saving failed: the clerk has been told; nothing is discarded."""
