"""管理者 tab (placeholder): the outbox and each plugin's check() result."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client.app.context import AppContext
from client.app.wiring import FAMILY_LABELS, PluginStatus, check_all
from client.core.outbox import STATE_LABELS, Outbox, OutboxFile, OutboxItem
from shared.api_counter import PhraseScope
from shared.api_records import DOCUMENT_CLASS_LABELS, DocumentClass
from shared.permissions import Permission

from ..widgets.phrases import PhraseManager
from ..worker import error_text, run_in_background
from .designer import TemplateDesigner
from .records import RecordsPanel


def outbox_rows(outbox: Outbox) -> list[OutboxItem | OutboxFile]:
    """Each reception of the outbox followed by its documents (newest reception first)."""
    rows: list[OutboxItem | OutboxFile] = []
    for item in outbox.items():
        rows.append(item)
        rows.extend(outbox.files_of(item.client_key))
    return rows


class SupervisorPanel(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._outbox_rows: list[OutboxItem | OutboxFile] = []
        layout = QVBoxLayout(self)
        # この端末 (outbox, devices) is the first tab, so that the panel fits 1366×768.
        station = QWidget()
        station_layout = QVBoxLayout(station)
        top = QHBoxLayout()
        top.addWidget(QLabel(f"端末: {ctx.settings.terminal_id}（{ctx.station.label}）"))
        top.addStretch(1)
        self.refresh_button = QPushButton("再読込")
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button)
        station_layout.addLayout(top)

        outbox_bar = QHBoxLayout()
        outbox_bar.addWidget(QLabel("送信待ち（アウトボックス）: 受付と、└ 印の行はその書類"))
        outbox_bar.addStretch(1)
        self.retry_button = QPushButton("選択した行を再送")
        self.retry_button.clicked.connect(self.retry_selected)
        outbox_bar.addWidget(self.retry_button)
        station_layout.addLayout(outbox_bar)
        self.outbox_table = QTableWidget(0, 6)
        self.outbox_table.setHorizontalHeaderLabels(
            ["番号", "種類", "状態", "送信回数", "受付番号", "エラー"]
        )
        self.outbox_table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        station_layout.addWidget(self.outbox_table, 2)

        station_layout.addWidget(QLabel("機器・プラグインの状態"))
        self.plugin_table = QTableWidget(0, 4)
        self.plugin_table.setHorizontalHeaderLabels(["種類", "プラグイン", "状態", "説明"])
        self.plugin_table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        station_layout.addWidget(self.plugin_table, 1)
        self.error = QLabel()
        station_layout.addWidget(self.error)
        self.records = RecordsPanel(ctx)
        self.records.insertTab(0, station, "この端末（送信待ち・機器）")
        self.records.setCurrentIndex(0)
        if ctx.session is not None and ctx.session.has(Permission.phrase_manage):
            self.records.addTab(PhraseManager(ctx, PhraseScope.office), "語句登録（共通）")
        # テンプレート設計 (OCR) as a tab: below the tabs the panel would not fit a 1366×768 screen
        self.designer = TemplateDesigner()
        self.records.addTab(self.designer, "読取テンプレート")
        layout.addWidget(self.records, 1)
        self.refresh()

    def refresh(self) -> None:
        run_in_background(outbox_rows, self.ctx.outbox, on_result=self._show_outbox, on_error=self._failed)
        run_in_background(check_all, self.ctx.devices, on_result=self._show_plugins, on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.error.setText(error_text(exc))

    def _show_outbox(self, rows: list[OutboxItem | OutboxFile]) -> None:
        self._outbox_rows = rows
        self.outbox_table.setRowCount(len(rows))
        for row, entry in enumerate(rows):
            if isinstance(entry, OutboxItem):
                values = [
                    str(entry.id),
                    "受付の登録" if entry.kind == "reception.create" else entry.kind,
                    STATE_LABELS.get(entry.state, entry.state),
                    str(entry.attempts),
                    entry.reception_number or "",
                    entry.last_error or "",
                ]
            else:
                label = DOCUMENT_CLASS_LABELS.get(DocumentClass(entry.document_class), entry.document_class)
                values = [
                    "",
                    f"└ {label}「{entry.filename}」",
                    STATE_LABELS.get(entry.state, entry.state),
                    str(entry.attempts),
                    "",
                    entry.last_error or "",
                ]
            for col, value in enumerate(values):
                self.outbox_table.setItem(row, col, QTableWidgetItem(value))

    def retry_selected(self) -> None:
        """再送: make the selected failed or waiting rows (receptions or documents) due now."""
        chosen = sorted({index.row() for index in self.outbox_table.selectedIndexes()})
        outbox = self.ctx.outbox
        for row in chosen:
            entry = self._outbox_rows[row]
            if isinstance(entry, OutboxItem):
                outbox.retry_now(entry.id)
            else:
                outbox.retry_file_now(entry.id)
        self.ctx.worker.wake()
        self.refresh()

    def _show_plugins(self, statuses: list[PluginStatus]) -> None:
        self.plugin_table.setRowCount(len(statuses))
        for row, st in enumerate(statuses):
            name = f"{st.label}（{st.plugin_id}）" + ("［テスト用］" if st.is_fake else "")
            values = [
                FAMILY_LABELS.get(st.family, st.family),
                name,
                "正常" if st.result.ok else "異常",
                st.result.message,
            ]
            for col, value in enumerate(values):
                self.plugin_table.setItem(row, col, QTableWidgetItem(value))
