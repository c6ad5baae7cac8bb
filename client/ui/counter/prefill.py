"""住記から入力 (Ctrl+J): find a resident in the imported 住民記録 and fill the counter form.

Keyboard from start to end: type 氏名・フリガナ and/or 生年月日 (和暦 or 西暦) and/or part of the
住所, Enter searches and puts the cursor in the results; ↑/↓ choose, Enter takes the resident and
lists his household with him ticked (Space ticks the others), Enter again fills the form. Esc
closes without changing anything. The form's values come from
:func:`client.core.prefill.prefill_values` for the chosen procedure (転居, 転出, 世帯主変更,
職権記載) and are merged into what is already typed (:func:`client.core.prefill.merge_values`).
Every search and household look-up is audited on the server.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client.app.context import AppContext
from client.core.prefill import PREFILL_KINDS, display_name, merge_values, prefill_values
from shared.api_counter import ResidentHit
from shared.errors import MadoguchiError
from shared.models.movement_notice import MovementKind
from shared.text.wareki import format_wareki, parse_date

from ..widgets.fields import ErrorLabel
from ..worker import error_text, run_in_background

PREFILL_SHORTCUT = "Ctrl+J"  # 住記 (jūki)
#: Where the prefilled values came from, as the canvas shows it on hover.
REGISTER_SOURCE = "住民記録"
SEX_LABELS = {"1": "男", "2": "女"}
COLUMNS = ["氏名", "フリガナ", "生年月日", "性別", "続柄", "住所"]


class PrefillTarget(Protocol):
    """What the dialog needs of the counter form (``MoveInForm`` and its successors)."""

    def raw_values(self) -> dict[str, str]: ...

    def restore_values(self, values: dict[str, str]) -> None: ...

    def set_kind(self, kind: str) -> None: ...


def _address(hit: ResidentHit) -> str:
    main = hit.address or "".join(
        p for p in (hit.prefecture, hit.municipality, hit.town, hit.block_number) if p
    )
    return f"{main}　{hit.building}" if hit.building else main


class PrefillDialog(QDialog):
    """Search → choose → household → fill. :meth:`values` is the form's new raw values."""

    def __init__(
        self,
        search: Callable[[str | None, date | None, str | None], list[ResidentHit]],
        household: Callable[[str], list[ResidentHit]],
        parent: QWidget | None = None,
        *,
        kind: MovementKind = MovementKind.move_within,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"住記から入力（{PREFILL_SHORTCUT}）")
        self.resize(860, 600)
        self._search = search
        self._household = household
        self.hits: list[ResidentHit] = []
        self.members: list[ResidentHit] = []
        self.picked: ResidentHit | None = None

        self.kind = QComboBox()
        for k in PREFILL_KINDS:
            self.kind.addItem(k.label, k.value)
        self.kind.setCurrentIndex(max(self.kind.findData(kind.value), 0))
        self.name = QLineEdit()
        self.name.setPlaceholderText("氏名またはフリガナ（前方一致。例: たかはし、高橋 一）")
        self.name.setMaxLength(200)
        self.birth = QLineEdit()
        self.birth.setPlaceholderText("例: 昭和45年5月5日、S45.5.5、1970-05-05")
        self.birth.setMaxLength(30)
        self.address = QLineEdit()
        self.address.setPlaceholderText("住所・方書の一部（例: 本城町、ハイツ）")
        self.address.setMaxLength(200)
        self.search_button = QPushButton("検索")
        self.search_button.setAutoDefault(False)
        grid = QGridLayout()
        for row, (label, widget) in enumerate(
            (
                ("届出の種類", self.kind),
                ("氏名・フリガナ", self.name),
                ("生年月日", self.birth),
                ("住所", self.address),
            )
        ):
            caption = QLabel(label)
            caption.setBuddy(widget)
            grid.addWidget(caption, row, 0)
            grid.addWidget(widget, row, 1)
        grid.addWidget(self.search_button, 3, 2)
        grid.setColumnStretch(1, 1)

        self.results = QTableWidget(0, len(COLUMNS))
        self.results.setHorizontalHeaderLabels(COLUMNS)
        self.results.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.setTabKeyNavigation(False)
        self.results.verticalHeader().hide()
        self.results.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.results.installEventFilter(self)
        self.results.itemDoubleClicked.connect(lambda _i: self.pick_current())

        self.household_label = QLabel("世帯員（入力する人にチェック。Spaceで切り替え、Enterで入力）")
        self.household_list = QListWidget()
        self.household_list.installEventFilter(self)
        self.as_notifier = QCheckBox("選んだ住民を届出人（本人）にする")
        self.as_notifier.setChecked(True)
        self.status = QLabel()
        self.error = ErrorLabel(self)
        self.fill_button = QPushButton("フォームに入力（Enter）")
        self.fill_button.setAutoDefault(False)
        self.fill_button.setEnabled(False)
        cancel = QPushButton("閉じる（Esc）")
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addWidget(self.results, 3)
        layout.addWidget(self.household_label)
        layout.addWidget(self.household_list, 2)
        bottom = QHBoxLayout()
        bottom.addWidget(self.as_notifier)
        bottom.addStretch(1)
        bottom.addWidget(cancel)
        bottom.addWidget(self.fill_button)
        layout.addLayout(bottom)

        for edit in (self.name, self.birth, self.address):
            edit.returnPressed.connect(self.search)
        self.search_button.clicked.connect(self.search)
        self.fill_button.clicked.connect(self.fill)
        self.name.setFocus()

    # -- keyboard ----------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if watched is self.results:
                    self.pick_current()
                    return True
                if watched is self.household_list:
                    self.fill()
                    return True
        return super().eventFilter(watched, event)

    # -- search ------------------------------------------------------------------------------

    def selected_kind(self) -> MovementKind:
        return MovementKind(self.kind.currentData())

    def search(self) -> None:
        """Run the search off the UI thread; the answer fills the table and takes the focus."""
        name = self.name.text().strip() or None
        address = self.address.text().strip() or None
        born: date | None = None
        if self.birth.text().strip():
            try:
                born = parse_date(self.birth.text())
            except MadoguchiError as exc:
                self.error.show_messages([f"生年月日: {exc.message}"])
                self.birth.setFocus()
                return
        if not (name or address or born):
            self.error.show_messages(["氏名（フリガナ）・生年月日・住所のいずれかを入力してください。"])
            self.name.setFocus()
            return
        self.error.show_messages([])
        self.status.setText("検索しています…")
        self.search_button.setEnabled(False)
        run_in_background(self._search, name, born, address, on_result=self._found, on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.search_button.setEnabled(True)
        self.status.setText("")
        self.error.show_messages([error_text(exc)])

    def _found(self, hits: list[ResidentHit]) -> None:
        self.search_button.setEnabled(True)
        self.hits = hits
        self.results.setRowCount(len(hits))
        for row, hit in enumerate(hits):
            values = [
                display_name(hit),
                hit.name_kana or "",
                format_wareki(hit.birth_date),
                SEX_LABELS.get(hit.sex, hit.sex),
                hit.relationship or "",
                _address(hit),
            ]
            for col, value in enumerate(values):
                self.results.setItem(row, col, QTableWidgetItem(value))
        self.results.resizeColumnsToContents()
        self.results.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        if hits:
            more = "（50件まで表示。条件を足して絞り込んでください）" if len(hits) >= 50 else ""
            self.status.setText(f"{len(hits)}件見つかりました{more}。↑↓で選び、Enterで世帯を表示します。")
            self.results.selectRow(0)
            self.results.setFocus()
        else:
            self.status.setText("該当する住民がいません。条件を変えてください。")
            self.name.setFocus()

    # -- household ---------------------------------------------------------------------------

    def pick_current(self) -> None:
        row = self.results.currentRow()
        if not 0 <= row < len(self.hits):
            return
        self.picked = self.hits[row]
        self.error.show_messages([])
        self.status.setText("世帯員を読み込んでいます…")
        run_in_background(
            self._household, self.picked.atena_number, on_result=self._show_household, on_error=self._failed
        )

    def _show_household(self, members: list[ResidentHit]) -> None:
        picked = self.picked
        if picked is None:
            return
        if not any(m.atena_number == picked.atena_number for m in members):
            members = [picked, *members]
        self.members = members
        self.household_list.clear()
        for m in members:
            item = QListWidgetItem(
                f"{display_name(m)}　{m.relationship or '続柄なし'}　{format_wareki(m.birth_date)}"
            )
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if m.atena_number == picked.atena_number else Qt.CheckState.Unchecked
            )
            self.household_list.addItem(item)
        index = next(i for i, m in enumerate(members) if m.atena_number == picked.atena_number)
        self.household_list.setCurrentRow(index)
        self.household_list.setFocus()
        self.fill_button.setEnabled(True)
        self.status.setText(
            f"世帯員 {len(members)}人。Spaceでチェックを切り替え、Enterでフォームに入力します。"
        )

    def chosen(self) -> list[ResidentHit]:
        """The ticked household members, the picked resident first, then in household order."""
        ticked = [
            m
            for i, m in enumerate(self.members)
            if self.household_list.item(i).checkState() == Qt.CheckState.Checked
        ]
        ticked.sort(key=lambda m: self.picked is None or m.atena_number != self.picked.atena_number)
        return ticked

    def values(self) -> dict[str, str]:
        """The form's raw values for the chosen procedure and persons."""
        persons = self.chosen()
        notifier = self.picked if self.as_notifier.isChecked() and self.picked in persons else None
        return prefill_values(self.selected_kind(), persons, notifier=notifier)

    def fill(self) -> None:
        if not self.members:
            return
        if not self.chosen():
            self.error.show_messages(["入力する世帯員にチェックを付けてください（Spaceで切り替え）。"])
            return
        self.accept()


#: Parts of a person's name the form may lack (a foreign resident's), shown if they were dropped.
NAME_PARTS = {"roman_name": "ローマ字氏名", "name_kana": "フリガナ（外国人）"}


def unplaced_names(values: dict[str, str], form_values: dict[str, str]) -> str:
    """The name parts in ``values`` the form has no field for, as Japanese labels ('' if none)."""
    dropped = []
    for key, value in values.items():
        head, _, rest = key.partition(".")
        part = rest.partition(".")[2]
        if head == "persons" and part in NAME_PARTS and value and key not in form_values:
            dropped.append(f"{NAME_PARTS[part]}「{value}」")
    return "、".join(dropped)


def open_prefill(ctx: AppContext, form: PrefillTarget, parent: QWidget) -> PrefillDialog:
    """The dialog for ``form``; on OK the values are merged into the form (nothing typed is lost)."""

    def search(name: str | None, born: date | None, address: str | None) -> list[ResidentHit]:
        with ctx.api() as api:
            return api.search_residents(name=name, birth_date=born, address=address)

    def household(atena: str) -> list[ResidentHit]:
        with ctx.api() as api:
            return api.resident_household(atena)

    current: dict[str, Any] = form.raw_values()
    wanted = str(current.get("kind") or "")
    kind = MovementKind(wanted) if wanted in {k.value for k in PREFILL_KINDS} else MovementKind.move_within
    dialog = PrefillDialog(search, household, parent, kind=kind)

    def done(result: int) -> None:
        if result != QDialog.DialogCode.Accepted:
            return
        values = dialog.values()
        # the procedure first, as if the clerk chose it (the documents expected for it are ticked)
        form.set_kind(dialog.selected_kind().value)
        current = form.raw_values()
        merged = merge_values(current, values)
        fill = getattr(form, "fill", None)
        if callable(fill):
            # only what changes, marked 住民記録: what was typed or read (with its tint) stays as is
            fill({k: v for k, v in merged.items() if current.get(k) != v}, REGISTER_SOURCE, overwrite=True)
        else:
            form.restore_values(merged)
        missing = unplaced_names(values, form.raw_values())
        if missing and isinstance(parent, QMainWindow):
            parent.statusBar().showMessage(
                f"この画面には欄がないため入力していません: {missing}。手で入力してください。", 30000
            )

    dialog.finished.connect(done)
    return dialog
