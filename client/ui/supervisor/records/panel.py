"""Records screens of the supervisor mode: search receptions, open one, reprint its documents,
and see the backup status. Every call runs in a worker; the server audits each search and view."""

from __future__ import annotations

import tempfile
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from client.app.context import AppContext
from shared.api_records import (
    DOCUMENT_CLASS_LABELS,
    BackupStatus,
    ReceptionPage,
    ReceptionRecord,
    SortKey,
)
from shared.models.movement_notice import MovementKind

from ...worker import error_text, run_in_background
from .purge import PurgeTab
from .reports import ReportsTab

KIND_LABELS: dict[str, str] = {
    MovementKind.move_in.value: "転入",
    MovementKind.move_in_special.value: "特例転入",
    MovementKind.move_in_from_abroad.value: "国外転入",
    MovementKind.move_within.value: "転居",
    MovementKind.move_out.value: "転出",
    MovementKind.householder_change.value: "世帯主変更",
    MovementKind.household_split.value: "世帯分離",
    MovementKind.household_merge.value: "世帯合併",
    MovementKind.ex_officio.value: "職権記載",
}
STATUS_LABELS = {"received": "受付済", "confirmed": "確定", "cancelled": "取消"}
SORT_LABELS = {
    SortKey.reception_number: "受付番号",
    SortKey.created_at: "登録日時",
    SortKey.kind: "届出の種類",
    SortKey.status: "状態",
}
PAGE_SIZE = 50


class SearchTab(QWidget):
    """Criteria, a paged result table and the opened reception with its documents."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.page = 1
        self.total = 0
        self.capped = False
        self.full_page = False
        self.current: ReceptionRecord | None = None
        layout = QVBoxLayout(self)

        grid = QGridLayout()
        self.name = QLineEdit(placeholderText="漢字・カナ・ローマ字")
        self.birth_date = QLineEdit(placeholderText="1980-04-01")
        self.date_from = QLineEdit(placeholderText="受付日 から")
        self.date_to = QLineEdit(placeholderText="受付日 まで")
        self.reception_number = QLineEdit(placeholderText="20261122-0001")
        self.confirmation_number = QLineEdit()
        self.kind = QComboBox()
        self.kind.addItem("すべて", "")
        for value, label in KIND_LABELS.items():
            self.kind.addItem(label, value)
        self.status = QComboBox()
        self.status.addItem("すべて", "")
        for value, label in STATUS_LABELS.items():
            self.status.addItem(label, value)
        self.clerk = QLineEdit(placeholderText="ログインID")
        self.terminal = QLineEdit(placeholderText="端末ID")
        self.sort = QComboBox()
        for key, label in SORT_LABELS.items():
            self.sort.addItem(label, key.value)
        self.descending = QCheckBox("新しい順")
        self.descending.setChecked(True)
        fields: list[tuple[str, QWidget]] = [
            ("氏名", self.name),
            ("生年月日", self.birth_date),
            ("受付日", self.date_from),
            ("〜", self.date_to),
            ("受付番号", self.reception_number),
            ("確認番号", self.confirmation_number),
            ("届出の種類", self.kind),
            ("状態", self.status),
            ("職員", self.clerk),
            ("端末", self.terminal),
            ("並び順", self.sort),
            ("", self.descending),
        ]
        for index, (label, widget) in enumerate(fields):
            row, col = divmod(index, 4)
            grid.addWidget(QLabel(label), row, col * 2)
            grid.addWidget(widget, row, col * 2 + 1)
        layout.addLayout(grid)
        for line in (self.name, self.birth_date, self.reception_number, self.confirmation_number):
            line.returnPressed.connect(self.search)

        buttons = QHBoxLayout()
        self.search_button = QPushButton("検索")
        self.search_button.clicked.connect(self.search)
        self.prev_button = QPushButton("前へ")
        self.prev_button.clicked.connect(lambda: self._go(self.page - 1))
        self.next_button = QPushButton("次へ")
        self.next_button.clicked.connect(lambda: self._go(self.page + 1))
        self.page_label = QLabel()
        self.scope_label = QLabel()
        for w in (self.search_button, self.prev_button, self.next_button, self.page_label, self.scope_label):
            buttons.addWidget(w)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        splitter = QSplitter()
        self.table = QTableWidget(0, 8)
        self.table.setHorizontalHeaderLabels(
            ["受付番号", "受付日", "種類", "状態", "氏名", "職員", "端末", "添付"]
        )
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.cellActivated.connect(lambda row, _col: self.open_row(row))
        self.table.cellDoubleClicked.connect(lambda row, _col: self.open_row(row))
        splitter.addWidget(self.table)
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        self.detail = QTextBrowser()
        detail_layout.addWidget(self.detail, 2)
        detail_layout.addWidget(QLabel("添付文書"))
        self.attachments = QListWidget()
        self.attachments.itemActivated.connect(self.open_attachment)
        detail_layout.addWidget(self.attachments, 1)
        self.open_button = QPushButton("PDFを開く (再印刷)")
        self.open_button.clicked.connect(lambda: self.open_attachment(self.attachments.currentItem()))
        detail_layout.addWidget(self.open_button)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 3)  # the list is what the supervisor reads first
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        layout.addWidget(self.error)
        self.ids: list[str] = []
        self.last_pdf: Path | None = None
        self._update_pager()

    # -- search ------------------------------------------------------------------------------

    def criteria(self) -> dict[str, Any]:
        return {
            "name": self.name.text().strip(),
            "birth_date": self.birth_date.text().strip(),
            "date_from": self.date_from.text().strip(),
            "date_to": self.date_to.text().strip(),
            "reception_number": self.reception_number.text().strip(),
            "confirmation_number": self.confirmation_number.text().strip(),
            "kind": self.kind.currentData(),
            "status": self.status.currentData(),
            "clerk": self.clerk.text().strip(),
            "terminal_id": self.terminal.text().strip(),
            "sort": self.sort.currentData(),
            "descending": "true" if self.descending.isChecked() else "false",
            "page_size": PAGE_SIZE,
        }

    def search(self) -> None:
        self._go(1)

    def _go(self, page: int) -> None:
        if page < 1:
            return
        self.error.clear()
        criteria = {**self.criteria(), "page": page}

        def call() -> ReceptionPage:
            with self.ctx.api() as api:
                return api.search_receptions(**criteria)

        self.search_button.setEnabled(False)
        run_in_background(call, on_result=self._show_page, on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.search_button.setEnabled(True)
        self.error.setText(error_text(exc))

    def _show_page(self, result: ReceptionPage) -> None:
        self.search_button.setEnabled(True)
        self.page, self.total = result.page, result.total
        self.capped, self.full_page = result.total_capped, len(result.items) == result.page_size
        self.scope_label.setText("（自分の受付のみ）" if result.limited_to_own else "")
        self.table.setRowCount(len(result.items))
        self.ids = [str(item.id) for item in result.items]
        for row, item in enumerate(result.items):
            values = [
                item.reception_number,
                item.business_date.isoformat(),
                KIND_LABELS.get(item.kind.value, item.kind.value),
                STATUS_LABELS.get(item.status.value, item.status.value),
                "、".join(item.names),
                item.clerk,
                item.terminal_id or "",
                str(item.attachment_count),
            ]
            for col, value in enumerate(values):
                cell = QTableWidgetItem(value)
                cell.setToolTip(value)  # a household's names may be longer than the column
                self.table.setItem(row, col, cell)
        # The numbers and dates are read whole; the names column takes the rest.
        for col in (0, 1, 2, 3, 5, 6, 7):
            self.table.resizeColumnToContents(col)
        self._update_pager()

    def _update_pager(self) -> None:
        pages = max(1, -(-self.total // PAGE_SIZE))
        self.prev_button.setEnabled(self.page > 1)
        if self.capped:  # the server stopped counting: more pages while pages come back full
            self.page_label.setText(f"{self.page} ページ（{self.total} 件以上）")
            self.next_button.setEnabled(self.full_page)
            return
        self.page_label.setText(f"{self.page} / {pages} ページ（全 {self.total} 件）")
        self.next_button.setEnabled(self.page < pages)

    # -- one reception -----------------------------------------------------------------------

    def open_row(self, row: int) -> None:
        if not 0 <= row < len(self.ids):
            return
        reception_id = self.ids[row]

        def call() -> ReceptionRecord:
            with self.ctx.api() as api:
                return api.reception_record(reception_id)

        run_in_background(call, on_result=self._show_record, on_error=self._failed)

    def _show_record(self, record: ReceptionRecord) -> None:
        self.current = record
        r = record.reception
        notice = r.notice
        lines = [
            f"<h3>受付番号 {r.reception_number}</h3>",
            f"<p>届出の種類: {KIND_LABELS.get(r.kind.value, r.kind.value)}　"
            f"状態: {STATUS_LABELS.get(r.status.value, r.status.value)}　"
            f"端末: {escape(r.terminal_id or '')}</p>",
            f"<p>届出日: {notice.notified_on}　異動日: {notice.moved_on or ''}　"
            f"届出人: {escape(notice.notifier.name)}"
            + (f"　確認番号: {escape(notice.confirmation_number)}" if notice.confirmation_number else "")
            + "</p>",
        ]
        # The addresses the notice has (a 転入 its new and former one, a 転出 where to), as on the form.
        addresses = [
            ("新住所", notice.new_address),
            ("従前の住所", notice.old_address),
            ("転出先", notice.destination),
        ]
        shown = [(label, a.one_line()) for label, a in addresses if not a.is_empty()]
        if shown:
            lines.append("<p>" + "<br>".join(f"{label}: {escape(text)}" for label, text in shown) + "</p>")
        lines += [
            "<table border='1' cellspacing='0' cellpadding='3'><tr><th>氏名</th><th>フリガナ</th>"
            "<th>生年月日</th><th>続柄</th><th>個人番号</th></tr>",
        ]
        for person, state in zip(notice.persons, r.my_number_state, strict=False):
            name = (
                " ".join(x for x in (person.family_name, person.given_name) if x) or person.roman_name or ""
            )
            kana = (
                " ".join(x for x in (person.family_name_kana, person.given_name_kana) if x)
                or person.name_kana
                or ""
            )
            number = person.my_number or {"absent": "なし", "masked": "（権限なし）"}.get(state.value, "")
            cells = [name, kana, str(person.birth_date), str(person.relationship), number]
            lines.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
        lines.append("</table>")
        self.detail.setHtml("".join(lines))
        self.attachments.clear()
        for att in record.attachments:
            label = DOCUMENT_CLASS_LABELS.get(att.document_class, att.document_class.value)
            item = QListWidgetItem(
                f"{label}　{att.filename}　{att.page_count} ページ　保存期限 {att.retain_until}"
            )
            item.setData(256, str(att.id))
            self.attachments.addItem(item)
        if record.attachments:
            self.attachments.setCurrentRow(0)

    def open_attachment(self, item: QListWidgetItem | None) -> None:
        """Fetch the verified PDF and open it in the system viewer (print from there)."""
        if item is None:
            return
        attachment_id = str(item.data(256))

        def call() -> Path:
            with self.ctx.api() as api:
                data = api.attachment_pdf(attachment_id)
            folder = Path(tempfile.mkdtemp(prefix="madoguchi-pdf-"))
            path = folder / f"{attachment_id}.pdf"
            path.write_bytes(data)
            return path

        run_in_background(call, on_result=self._opened, on_error=self._failed)

    def _opened(self, path: Path) -> None:
        self.last_pdf = path
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class BackupTab(QWidget):
    """Last successful backup, its age and the generations kept."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.last = QLabel("—")
        self.age = QLabel("—")
        self.schedule = QLabel("—")
        self.scheduled = QLabel("—")
        self.scheduled_message = QLabel("")
        form.addRow("最終成功", self.last)
        form.addRow("経過時間", self.age)
        form.addRow("自動実行", self.schedule)
        form.addRow("最後の自動バックアップ", self.scheduled)
        form.addRow("結果", self.scheduled_message)
        layout.addLayout(form)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["世代", "作成日時", "容量"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.refresh_button = QPushButton("状態を取得")
        self.refresh_button.clicked.connect(self.refresh)
        layout.addWidget(self.refresh_button)
        self.error = QLabel()
        layout.addWidget(self.error)

    def refresh(self) -> None:
        def call() -> BackupStatus:
            with self.ctx.api() as api:
                return api.backup_status()

        run_in_background(call, on_result=self._show, on_error=lambda e: self.error.setText(error_text(e)))

    def _show(self, state: BackupStatus) -> None:
        self.error.clear()
        self.last.setText(f"{state.last_success:%Y-%m-%d %H:%M} (UTC)" if state.last_success else "なし")
        if state.age_hours is None:
            self.age.setText("バックアップがありません")
        else:
            warn = "　⚠ 24時間以上前です" if state.age_hours > 24 else ""
            self.age.setText(f"{state.age_hours} 時間{warn}")
        self.schedule.setText(state.schedule or "—")
        run = state.last_scheduled
        if run is None:
            self.scheduled.setText("まだ実行されていません")
            self.scheduled_message.clear()
            self.scheduled.setStyleSheet("")
        else:
            result = {"success": "成功", "failed": "失敗", "running": "実行中"}.get(run.status, run.status)
            self.scheduled.setText(
                f"{run.period} {result} (開始 {run.started_at:%Y-%m-%d %H:%M} UTC、{run.attempts} 回目)"
            )
            self.scheduled_message.setText(run.message)
            self.scheduled.setStyleSheet("color: #b00020" if run.status == "failed" else "")
        self.table.setRowCount(len(state.backups))
        for row, info in enumerate(state.backups):
            values = [info.name, f"{info.created_at:%Y-%m-%d %H:%M}", f"{info.size_bytes / 1_000_000:.1f} MB"]
            for col, value in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(value))


class RecordsPanel(QTabWidget):
    """The records area of the supervisor mode: 受付の検索, 運用報告, バックアップ and 保存期限と削除."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search_tab = SearchTab(ctx)
        self.backup_tab = BackupTab(ctx)
        self.reports_tab = ReportsTab(ctx)
        self.purge_tab = PurgeTab(ctx)
        self.addTab(self.search_tab, "受付の検索")
        self.addTab(self.reports_tab, "運用報告")
        self.addTab(self.backup_tab, "バックアップ")
        self.addTab(self.purge_tab, "保存期限と削除")
