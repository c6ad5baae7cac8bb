"""保存用の書類 (documents scanned for storage) of the reception on screen: a small dialog.

The clerk chooses the kind (委任状, 本人確認書類 …), presses 読み取り (the station's scanner plugin,
every page in the feeder becomes one document) or adds a file, and sees the list. The work is
:class:`client.core.documents.ReceptionDocuments` (Qt-free); scanning runs off the UI thread and
every refusal is shown in Japanese. The documents go with the next 送信 of the reception.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client.core.documents import STORAGE_CLASSES, PendingDocument, ReceptionDocuments
from client.devices.scanners.base import Scanner
from shared.api_records import DOCUMENT_CLASS_LABELS

from ..worker import error_text, run_in_background


def _size_text(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{max(1, size // 1000)} KB"


class AttachmentsDialog(QDialog):
    """Add, list and remove the documents kept for the current reception."""

    def __init__(
        self, documents: ReceptionDocuments, scanner: Scanner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.documents = documents
        self.scanner = scanner
        self.setWindowTitle("保存用の書類（この受付に添付）")
        self.resize(640, 360)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "委任状・本人確認書類など、保存だけする書類を読み取ります。受付の送信と一緒に保存されます。"
            )
        )
        row = QHBoxLayout()
        row.addWidget(QLabel("書類の種類:"))
        self.class_box = QComboBox()
        for cls in STORAGE_CLASSES:
            self.class_box.addItem(DOCUMENT_CLASS_LABELS[cls], cls.value)
        row.addWidget(self.class_box)
        self.scan_button = QPushButton("読み取り")
        self.scan_button.clicked.connect(self.scan)
        self.file_button = QPushButton("ファイルから追加…")
        self.file_button.clicked.connect(self.add_file_dialog)
        row.addWidget(self.scan_button)
        row.addWidget(self.file_button)
        row.addStretch(1)
        layout.addLayout(row)

        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["種類", "ファイル名", "ページ", "大きさ"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout.addWidget(self.table, 1)

        self.message = QLabel()
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        bottom = QHBoxLayout()
        self.remove_button = QPushButton("選択した書類を削除")
        self.remove_button.clicked.connect(self.remove_selected)
        close = QPushButton("閉じる")
        close.clicked.connect(self.accept)
        bottom.addWidget(self.remove_button)
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout.addLayout(bottom)
        self._docs: list[PendingDocument] = []
        self.refresh()

    def chosen_class(self) -> str:
        return str(self.class_box.currentData())

    def refresh(self) -> None:
        self._docs = self.documents.all()
        self.table.setRowCount(len(self._docs))
        for i, doc in enumerate(self._docs):
            values = [doc.class_label, doc.filename, str(doc.pages), _size_text(doc.size)]
            for col, value in enumerate(values):
                self.table.setItem(i, col, QTableWidgetItem(value))

    def _show(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet("color: #b00020;" if error else "")
        self.message.setText(text)

    def _busy(self, busy: bool) -> None:
        for button in (self.scan_button, self.file_button, self.remove_button):
            button.setEnabled(not busy)

    def scan(self) -> None:
        """Scan off the UI thread; the new document appears in the list."""
        self._busy(True)
        self._show("読み取っています…")
        run_in_background(
            self.documents.add_scan,
            self.scanner,
            self.chosen_class(),
            on_result=self._added,
            on_error=self._failed,
        )

    def add_file(self, path: str) -> None:
        try:
            self._added(self.documents.add_file(path, self.chosen_class()))
        except Exception as exc:
            self._failed(exc)

    def add_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "書類のファイルを選択", "", "書類 (*.pdf *.jpg *.jpeg *.png *.tif *.tiff);;すべて (*)"
        )
        if path:
            self.add_file(path)

    def _added(self, doc: PendingDocument) -> None:
        self._busy(False)
        self.refresh()
        self._show(f"追加しました: {doc.class_label}「{doc.filename}」（{doc.pages}ページ）")

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        self._show(error_text(exc), error=True)

    def remove_selected(self) -> None:
        rows = sorted({index.row() for index in self.table.selectedIndexes()})
        for row in rows:
            self.documents.remove(self._docs[row].id)
        self.refresh()
        if rows:
            self._show(f"{len(rows)}件の書類を削除しました。")
