"""Supervisor tab 保存期限と削除: the retention classes (years per document class, editable with
「設定の管理」), the plan of what has expired (counts per class and the list), an explicit
confirmation, the purge on the server and the deletion records. Every call runs in a worker; the
server audits the change of a class (old and new years), the plan and the purge."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client.app.context import AppContext
from shared.api_records import (
    DOCUMENT_CLASS_LABELS,
    RETENTION_MAX_YEARS,
    RETENTION_MIN_YEARS,
    PurgeJobDetail,
    PurgeJobRead,
    RetentionClassRead,
)
from shared.permissions import Permission

from ...worker import error_text, run_in_background

SCOPE_LABELS = {"reception": "受付ごと", "documents": "文書だけ", "eform": "電子申請"}
JOB_STATUS_LABELS = {"planned": "確認待ち", "running": "実行中 (再実行で完了)", "done": "完了"}


def _allowed(ctx: AppContext, permission: Permission) -> bool:
    """What the logged-in user may do; without user details the server alone decides."""
    has = getattr(ctx.session, "has", None)
    return bool(has(permission)) if callable(has) else True


def _table(headers: list[str], stretch: int) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.horizontalHeader().setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    return table


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.setItem(r, c, QTableWidgetItem(value))
    table.resizeColumnsToContents()


class PurgeTab(QWidget):
    """保存区分 | 削除の計画と実行 | 削除の記録."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.classes: list[RetentionClassRead] = []
        self.spins: list[QSpinBox] = []
        self.detail: PurgeJobDetail | None = None
        self.jobs: list[PurgeJobRead] = []
        may_edit = _allowed(ctx, Permission.settings_manage)
        may_purge = _allowed(ctx, Permission.record_purge)
        # The three parts scroll together: on the counter PC's 1366×768 they are taller than the tab.
        body = QWidget()
        layout = QVBoxLayout(body)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QScrollArea.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll_area)

        # -- retention classes ------------------------------------------------------------------
        box = QGroupBox(
            "保存区分 (文書の種類ごとの保存年数、受付日から。電子申請は完了・取下げ・不受理の日から)"
        )
        box_layout = QVBoxLayout(box)
        self.class_table = _table(["文書の種類", "保存年数", "既定", "最終変更"], 3)
        self.class_table.setMinimumHeight(245)
        box_layout.addWidget(self.class_table)
        row = QHBoxLayout()
        self.load_button = QPushButton("保存区分を表示")
        self.load_button.clicked.connect(self.load_classes)
        self.save_button = QPushButton("保存年数を変更")
        self.save_button.clicked.connect(self.save_classes)
        self.save_button.setEnabled(may_edit)
        note = "法令上の最低保存期間は1年です (住民基本台帳法施行令第34条)。"
        if not may_edit:
            note += " 変更には「設定の管理」の権限が必要です。"
        self.class_note = QLabel(note)
        for w in (self.load_button, self.save_button, self.class_note):
            row.addWidget(w)
        row.addStretch(1)
        box_layout.addLayout(row)
        layout.addWidget(box, 3)
        self.may_edit = may_edit

        # -- plan, confirmation, run ------------------------------------------------------------
        plan_box = QGroupBox("期限切れの削除")
        plan_layout = QVBoxLayout(plan_box)
        row = QHBoxLayout()
        self.plan_button = QPushButton("削除対象の一覧を作成")
        self.plan_button.clicked.connect(self.plan)
        self.plan_button.setEnabled(may_purge)
        self.summary = QLabel("一覧はまだありません。")
        self.summary.setWordWrap(True)
        row.addWidget(self.plan_button)
        row.addWidget(self.summary, 1)
        plan_layout.addLayout(row)
        splitter = QSplitter()
        self.count_table = _table(["文書の種類", "件数"], 0)
        self.item_table = _table(
            ["受付番号・申請番号", "受付日・完了日", "削除の範囲", "文書", "文書の種類", "結果"], 4
        )
        splitter.addWidget(self.count_table)
        splitter.addWidget(self.item_table)
        splitter.setSizes([220, 640])
        plan_layout.addWidget(splitter, 1)
        row = QHBoxLayout()
        self.confirm = QCheckBox("一覧の内容を確認しました。元に戻せないことを理解して削除します")
        self.confirm.setEnabled(False)
        self.confirm.toggled.connect(self._update_run_button)
        self.run_button = QPushButton("削除を実行")
        self.run_button.setEnabled(False)
        self.run_button.setStyleSheet("QPushButton:enabled { color: #b00020; font-weight: bold }")
        self.run_button.clicked.connect(self.run)
        row.addWidget(self.confirm, 1)
        row.addWidget(self.run_button)
        plan_layout.addLayout(row)
        layout.addWidget(plan_box, 3)

        # -- deletion records -------------------------------------------------------------------
        records_box = QGroupBox("削除の記録")
        records_layout = QVBoxLayout(records_box)
        self.job_table = _table(
            ["作成日時", "作成者", "対象 (受付日)", "件数", "状態", "実行日時", "実行者"], 2
        )
        self.job_table.cellActivated.connect(lambda r, _c: self.open_job(r))
        self.job_table.cellDoubleClicked.connect(lambda r, _c: self.open_job(r))
        records_layout.addWidget(self.job_table)
        self.records_button = QPushButton("記録を表示")
        self.records_button.clicked.connect(self.load_jobs)
        self.records_button.setEnabled(may_purge)
        records_layout.addWidget(self.records_button)
        layout.addWidget(records_box, 2)

        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        self.message = QLabel()
        layout.addWidget(self.message)
        self.scroll_area.setWidget(body)

    def _failed(self, exc: BaseException) -> None:
        self.plan_button.setEnabled(_allowed(self.ctx, Permission.record_purge))
        self.error.setText(error_text(exc))
        self._update_run_button()

    def _call(self, fn: Any, on_result: Any) -> None:
        self.error.clear()
        self.message.clear()

        def call() -> Any:
            with self.ctx.api() as api:
                return fn(api)

        run_in_background(call, on_result=on_result, on_error=self._failed)

    # -- retention classes ----------------------------------------------------------------------

    def load_classes(self) -> None:
        self._call(lambda api: api.retention_classes(), self._show_classes)

    def _show_classes(self, classes: list[RetentionClassRead]) -> None:
        self.classes = classes
        self.spins = []
        self.class_table.setRowCount(len(classes))
        for r, c in enumerate(classes):
            self.class_table.setItem(r, 0, QTableWidgetItem(c.label))
            spin = QSpinBox()
            spin.setRange(RETENTION_MIN_YEARS, RETENTION_MAX_YEARS)
            spin.setSuffix(" 年")
            spin.setValue(c.years)
            spin.setEnabled(self.may_edit)
            self.class_table.setCellWidget(r, 1, spin)
            self.spins.append(spin)
            self.class_table.setItem(r, 2, QTableWidgetItem(f"{c.default_years} 年"))
            changed = f"{c.updated_at:%Y-%m-%d %H:%M} {c.updated_by}" if c.updated_at else "既定のまま"
            self.class_table.setItem(r, 3, QTableWidgetItem(changed))
        self.class_table.resizeColumnsToContents()
        self.class_table.resizeRowsToContents()

    def set_years(self, label: str, years: int) -> None:
        """Set the spin box of the class shown as ``label`` (what a user does by hand)."""
        for c, spin in zip(self.classes, self.spins, strict=True):
            if c.label == label:
                spin.setValue(years)
                return
        raise KeyError(label)

    def save_classes(self) -> None:
        """Send every changed class, one request each; the server refuses below 1 year."""
        changes = [
            (c.document_class, spin.value())
            for c, spin in zip(self.classes, self.spins, strict=True)
            if spin.value() != c.years
        ]
        if not changes:
            self.message.setText("変更はありません。")
            return

        def send(api: Any) -> list[RetentionClassRead]:
            for cls, years in changes:
                api.update_retention(cls, years)
            return list(api.retention_classes())

        def done(classes: list[RetentionClassRead]) -> None:
            self._show_classes(classes)
            names = "、".join(DOCUMENT_CLASS_LABELS[cls] for cls, _ in changes)
            self.message.setText(f"保存年数を変更しました: {names}")

        self._call(send, done)

    # -- plan and run ---------------------------------------------------------------------------

    def plan(self) -> None:
        self.plan_button.setEnabled(False)
        self.confirm.setChecked(False)
        self._call(lambda api: api.purge_plan(), self._show_detail)

    def _show_detail(self, detail: PurgeJobDetail) -> None:
        self.detail = detail
        self.plan_button.setEnabled(_allowed(self.ctx, Permission.record_purge))
        job = detail.job
        status = JOB_STATUS_LABELS.get(job.status, job.status)
        text = (
            f"受付日 {job.cutoff} より前の受付 {detail.receptions} 件を受付ごと、"
            f"{detail.documents_only} 件の受付から期限切れの文書だけ、"
            f"完了・取下げ・不受理から保存期間を過ぎた電子申請 {detail.eforms} 件を添付ファイルごと削除します"
            f" (全 {job.item_count} 件、{status})。"
        )
        if job.status == "done":
            text = (
                f"削除済み: {detail.deleted} 件 (対象外 {detail.skipped} 件)。"
                f"{job.executed_at:%Y-%m-%d %H:%M} {job.executed_by} が実行。"
                if job.executed_at
                else f"削除済み: {detail.deleted} 件"
            )
        if job.item_count == 0:
            text = "保存期限を過ぎた受付・文書・電子申請はありません。"
        if len(detail.items) < job.item_count:
            text += f" (一覧は先頭 {len(detail.items)} 件を表示)"
        self.summary.setText(text)
        _fill(self.count_table, [[c.label, str(c.count)] for c in detail.by_class])
        rows = []
        for i in detail.items:
            if i.skipped_reason:
                result = i.skipped_reason
            elif i.blobs_deleted_at:
                result = f"削除 {i.blobs_deleted_at:%Y-%m-%d %H:%M}"
            else:
                result = "未実行"
            kinds = "、".join(DOCUMENT_CLASS_LABELS[c] for c in i.classes) or "(文書なし)"
            rows.append(
                [
                    i.reception_number,
                    i.business_date.isoformat(),
                    SCOPE_LABELS.get(i.scope, i.scope),
                    str(i.documents),
                    kinds,
                    result,
                ]
            )
        _fill(self.item_table, rows)
        runnable = job.status != "done" and job.item_count > 0
        self.confirm.setText(
            f"一覧の {job.item_count} 件を確認しました。元に戻せないことを理解して削除します"
            if runnable
            else "確認する一覧がありません"
        )
        self.confirm.setChecked(False)
        self.confirm.setEnabled(runnable and _allowed(self.ctx, Permission.record_purge))
        self._update_run_button()

    def _update_run_button(self) -> None:
        d = self.detail
        self.run_button.setEnabled(
            d is not None and d.job.status != "done" and d.job.item_count > 0 and self.confirm.isChecked()
        )

    def run(self) -> None:
        """Delete the confirmed list (the server checks the count again)."""
        d = self.detail
        if d is None or not self.confirm.isChecked():
            self.error.setText("削除の前に一覧を確認し、確認欄にチェックを入れてください。")
            return
        job_id, count = d.job.id, d.job.item_count
        self.run_button.setEnabled(False)
        self.confirm.setEnabled(False)

        def done(detail: PurgeJobDetail) -> None:
            self._show_detail(detail)
            self.load_jobs()
            self.message.setText(
                f"削除しました: {detail.deleted} 件 (対象外 {detail.skipped} 件)。記録は下の表に残ります。"
            )

        self._call(lambda api: api.purge_run(job_id, count), done)

    # -- records --------------------------------------------------------------------------------

    def load_jobs(self) -> None:
        self._call(lambda api: api.purge_jobs(), self._show_jobs)

    def _show_jobs(self, jobs: list[PurgeJobRead]) -> None:
        self.jobs = jobs
        _fill(
            self.job_table,
            [
                [
                    f"{j.planned_at:%Y-%m-%d %H:%M}",
                    j.planned_by,
                    f"{j.cutoff} より前",
                    str(j.item_count),
                    JOB_STATUS_LABELS.get(j.status, j.status),
                    f"{j.executed_at:%Y-%m-%d %H:%M}" if j.executed_at else "",
                    j.executed_by or "",
                ]
                for j in jobs
            ],
        )

    def open_job(self, row: int) -> None:
        if not 0 <= row < len(self.jobs):
            return
        job_id = self.jobs[row].id
        self._call(lambda api: api.purge_job(job_id), self._show_detail)
