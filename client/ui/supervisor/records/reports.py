"""Supervisor tab 運用報告: one month or day of receptions by procedure, terminal, clerk and hour,
with the processing time; the PDF (charts) opens in the system viewer, the CSV is saved where the
user chooses. Every call runs in a worker; the server audits each report."""

from __future__ import annotations

import tempfile
from datetime import date
from html import escape
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from client.app.context import AppContext
from client.core.files import write_bytes_atomic
from shared.api_records import CountRow, OperationReport, ReportFormat, StoredReport

from ...worker import error_text, run_in_background


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f} 分"


def _table(title: str, rows: list[CountRow]) -> str:
    body = "".join(f"<tr><td>{escape(r.label)}</td><td align='right'>{r.count}</td></tr>" for r in rows)
    body = body or "<tr><td>(なし)</td></tr>"
    return f"<h3>{escape(title)}</h3><table border='1' cellpadding='3' cellspacing='0'>{body}</table>"


def report_html(report: OperationReport) -> str:
    """The report as the HTML the tab shows (tables; the charts are in the PDF)."""
    p = report.processing
    hours = [CountRow(key=str(h), label=f"{h:02d}時台", count=n) for h, n in enumerate(report.by_hour) if n]
    return (
        f"<h2>運用報告 {escape(report.municipality)} {report.date_from} 〜 {report.date_to}</h2>"
        f"<p>受付件数 {report.total} 件　処理時間 中央値 {_minutes(p.median_seconds)}・"
        f"90パーセンタイル {_minutes(p.p90_seconds)} (計測 {p.measured} 件)</p>"
        + _table("手続き別", report.by_kind)
        + _table("時間帯別 (日本時間)", hours)
        + _table("処理時間の分布", p.buckets)
        + _table("端末別", report.by_terminal)
        + _table("職員別", report.by_clerk)
    )


class ReportsTab(QWidget):
    """Period (YYYY-MM or YYYY-MM-DD), 表示, PDFを開く, CSVを保存."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.last_pdf: Path | None = None
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("期間 (年月 2026-11 または日付 2026-11-05)"))
        self.period = QLineEdit(f"{date.today():%Y-%m}")
        row.addWidget(self.period)
        self.show_button = QPushButton("表示")
        self.show_button.clicked.connect(self.load)
        self.pdf_button = QPushButton("PDFを開く (印刷)")
        self.pdf_button.clicked.connect(self.open_pdf)
        self.csv_button = QPushButton("CSVを保存…")
        self.csv_button.clicked.connect(lambda: self.save_csv())
        for button in (self.show_button, self.pdf_button, self.csv_button):
            row.addWidget(button)
        layout.addLayout(row)
        self.view = QTextBrowser()
        layout.addWidget(self.view, 1)
        stored = QHBoxLayout()
        stored.addWidget(QLabel("自動作成した月次報告"))
        self.stored = QComboBox()
        self.stored.setMinimumWidth(220)
        stored.addWidget(self.stored, 1)
        self.stored_refresh = QPushButton("一覧を取得")
        self.stored_refresh.clicked.connect(self.load_stored)
        self.stored_pdf = QPushButton("PDFを開く")
        self.stored_pdf.clicked.connect(self.open_stored_pdf)
        self.stored_csv = QPushButton("CSVを保存…")
        self.stored_csv.clicked.connect(lambda: self.save_stored_csv())
        for button in (self.stored_refresh, self.stored_pdf, self.stored_csv):
            stored.addWidget(button)
        layout.addLayout(stored)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        layout.addWidget(self.error)

    def _failed(self, exc: BaseException) -> None:
        self.error.setText(error_text(exc))

    def load(self) -> None:
        period = self.period.text().strip()
        self.error.clear()

        def call() -> OperationReport:
            with self.ctx.api() as api:
                return api.operation_report(period)

        run_in_background(call, on_result=lambda r: self.view.setHtml(report_html(r)), on_error=self._failed)

    def open_pdf(self) -> None:
        period = self.period.text().strip()
        self.error.clear()

        def call() -> Path:
            with self.ctx.api() as api:
                data = api.operation_report_file(period, ReportFormat.pdf)
            path = Path(tempfile.mkdtemp(prefix="madoguchi-report-")) / f"運用報告_{period}.pdf"
            path.write_bytes(data)
            return path

        run_in_background(call, on_result=self._opened, on_error=self._failed)

    def _opened(self, path: Path) -> None:
        self.last_pdf = path
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def save_csv(self, target: str | None = None) -> None:
        """Ask where to save (or use ``target``), then fetch and write the CSV."""
        period = self.period.text().strip()
        if not target:
            target, _ = QFileDialog.getSaveFileName(
                self, "CSVを保存", f"運用報告_{period}.csv", "CSV (*.csv)"
            )
        if not target:
            return
        path = Path(target)
        self.error.clear()

        def call() -> Path:
            with self.ctx.api() as api:
                data = api.operation_report_file(period, ReportFormat.csv)
            return write_bytes_atomic(path, data)

        run_in_background(
            call, on_result=lambda p: self.error.setText(f"保存しました: {p}"), on_error=self._failed
        )

    # -- reports the server's scheduler stored ---------------------------------------------------

    def load_stored(self) -> None:
        self.error.clear()

        def call() -> list[StoredReport]:
            with self.ctx.api() as api:
                return api.stored_reports()

        run_in_background(call, on_result=self._show_stored, on_error=self._failed)

    def _show_stored(self, reports: list[StoredReport]) -> None:
        self.stored.clear()
        for r in reports:
            self.stored.addItem(f"{r.period} (作成 {r.created_at:%Y-%m-%d %H:%M} UTC)", str(r.id))
        if not reports:
            self.error.setText("自動作成した報告はまだありません。")

    def _stored_file(self, fmt: ReportFormat, target: Path | None) -> None:
        report_id = self.stored.currentData()
        if not report_id:
            self.error.setText("報告を選んでください (「一覧を取得」)。")
            return
        period = self.stored.currentText().split(" ", 1)[0]
        self.error.clear()

        def call() -> Path:
            with self.ctx.api() as api:
                data = api.stored_report_file(report_id, fmt)
            path = target or Path(tempfile.mkdtemp(prefix="madoguchi-report-")) / f"運用報告_{period}.pdf"
            return write_bytes_atomic(path, data)

        if fmt is ReportFormat.pdf:
            run_in_background(call, on_result=self._opened, on_error=self._failed)
        else:
            run_in_background(
                call, on_result=lambda p: self.error.setText(f"保存しました: {p}"), on_error=self._failed
            )

    def open_stored_pdf(self) -> None:
        self._stored_file(ReportFormat.pdf, None)

    def save_stored_csv(self, target: str | None = None) -> None:
        if not target:
            target, _ = QFileDialog.getSaveFileName(self, "CSVを保存", "運用報告.csv", "CSV (*.csv)")
        if target:
            self._stored_file(ReportFormat.csv, Path(target))
