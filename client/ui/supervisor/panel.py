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
from client.core.outbox import STATE_LABELS, OutboxItem
from shared.api_counter import PhraseScope
from shared.permissions import Permission

from ..widgets.phrases import PhraseManager
from ..worker import error_text, run_in_background
from .designer import TemplateDesigner
from .records import RecordsPanel


class SupervisorPanel(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel(f"端末: {ctx.settings.terminal_id}（{ctx.station.label}）"))
        top.addStretch(1)
        self.refresh_button = QPushButton("再読込")
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button)
        layout.addLayout(top)

        layout.addWidget(QLabel("送信待ち（アウトボックス）"))
        self.outbox_table = QTableWidget(0, 6)
        self.outbox_table.setHorizontalHeaderLabels(
            ["番号", "種類", "状態", "送信回数", "受付番号", "エラー"]
        )
        self.outbox_table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.outbox_table, 2)

        layout.addWidget(QLabel("機器・プラグインの状態"))
        self.plugin_table = QTableWidget(0, 4)
        self.plugin_table.setHorizontalHeaderLabels(["種類", "プラグイン", "状態", "説明"])
        self.plugin_table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.plugin_table, 1)
        self.error = QLabel()
        layout.addWidget(self.error)
        self.records = RecordsPanel(ctx)
        if ctx.session is not None and ctx.session.has(Permission.phrase_manage):
            self.records.addTab(PhraseManager(ctx, PhraseScope.office), "語句登録（共通）")
        layout.addWidget(self.records, 4)
        layout.addWidget(TemplateDesigner(), 3)  # テンプレート設計 (OCR)
        self.refresh()

    def refresh(self) -> None:
        run_in_background(self.ctx.outbox.items, on_result=self._show_outbox, on_error=self._failed)
        run_in_background(check_all, self.ctx.devices, on_result=self._show_plugins, on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.error.setText(error_text(exc))

    def _show_outbox(self, items: list[OutboxItem]) -> None:
        self.outbox_table.setRowCount(len(items))
        for row, item in enumerate(items):
            values = [
                str(item.id),
                "受付の登録" if item.kind == "reception.create" else item.kind,
                STATE_LABELS.get(item.state, item.state),
                str(item.attempts),
                item.reception_number or "",
                item.last_error or "",
            ]
            for col, value in enumerate(values):
                self.outbox_table.setItem(row, col, QTableWidgetItem(value))

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
