"""転入 (move-in) entry by hand: the 住民異動届 as a keyboard-driven form.

Form order = Tab order. Enter in a field moves to the next one (as on the paper form), Ctrl+Enter
submits from anywhere, Enter on the 送信 button submits. Validation is the shared model's
(:func:`client.core.reception.build_notice`); each Japanese error appears beside its field and
nothing typed is cleared on error. A valid notice goes to the durable outbox (off the UI thread)
and the screen clears for the next resident; the last reception's state is shown at the bottom.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from client.core.outbox import OutboxItem
from client.core.reception import NoticeInvalid, build_notice, today_wareki
from shared.models.movement_notice import MovementKind, MovementNotice
from shared.text.wareki import format_wareki

from ..widgets.fields import AddressBox, ErrorLabel, Field, combo_field, date_field, line_field

STANDINGS: list[tuple[str, str | None]] = [
    ("本人", "self"),
    ("世帯主", "householder"),
    ("同一世帯員", "household_member"),
    ("代理人", "agent"),
]
SEXES: list[tuple[str, str | None]] = [("（選択）", None), ("男", "1"), ("女", "2")]
RELATIONSHIPS: list[tuple[str, str | None]] = [
    (r, r) for r in ("世帯主", "妻", "夫", "子", "父", "母", "子の妻", "子の子", "同居人", "縁故者")
]


class PersonBox(QGroupBox):
    """One 異動者."""

    PARTS: tuple[str, ...] = (
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "birth_date",
        "sex",
        "relationship",
        "resident_code",
        "my_number",
    )

    def __init__(
        self, index: int, on_remove: Callable[[PersonBox], None], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.fields: dict[str, Field] = {
            "family_name": line_field("氏", max_length=50),
            "given_name": line_field("名", max_length=50),
            "family_name_kana": line_field("シ（カタカナ）", max_length=100),
            "given_name_kana": line_field("メイ（カタカナ）", max_length=100),
            "birth_date": date_field("例: 昭和55年4月1日、R1.5.1"),
            "sex": combo_field(SEXES),
            "relationship": combo_field(RELATIONSHIPS, editable=True),
            "resident_code": line_field("11桁", max_length=20),
            "my_number": line_field("12桁", max_length=20),
        }
        labels = {
            "family_name": "氏",
            "given_name": "名",
            "family_name_kana": "フリガナ（氏）",
            "given_name_kana": "フリガナ（名）",
            "birth_date": "生年月日",
            "sex": "性別",
            "relationship": "続柄",
            "resident_code": "住民票コード",
            "my_number": "個人番号",
        }
        grid = QGridLayout(self)
        self.error = ErrorLabel(self)
        grid.addWidget(self.error, 0, 0, 1, 4)
        positions = {
            "family_name": (1, 0),
            "given_name": (1, 2),
            "family_name_kana": (2, 0),
            "given_name_kana": (2, 2),
            "birth_date": (3, 0),
            "sex": (3, 2),
            "relationship": (4, 0),
            "resident_code": (4, 2),
            "my_number": (5, 0),
        }
        for name in self.PARTS:
            row, col = positions[name]
            caption = QLabel(labels[name])
            caption.setBuddy(self.fields[name].editor)
            grid.addWidget(caption, row, col, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(self.fields[name], row, col + 1, Qt.AlignmentFlag.AlignTop)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.remove_button = QPushButton("この異動者を削除")
        self.remove_button.clicked.connect(lambda: on_remove(self))
        grid.addWidget(self.remove_button, 5, 3, Qt.AlignmentFlag.AlignRight)
        self.set_index(index)

    def set_index(self, index: int) -> None:
        self.setTitle(f"異動者 {index + 1}")

    def values(self) -> dict[str, str]:
        return {name: f.text() for name, f in self.fields.items()}

    def focus_order(self) -> list[QWidget]:
        return [self.fields[n].editor for n in self.PARTS] + [self.remove_button]


class MoveInForm(QWidget):
    """The 転入 screen. ``submitted(notice)`` is emitted with a validated notice."""

    submitted = Signal(object)
    #: 印刷 (Ctrl+P): a validated notice to print before it is submitted or confirmed; the app
    #: wires it to client.core.print.service.print_forms off the UI thread.
    print_requested = Signal(object)
    #: Something the clerk sees changed (a field's text, a person added or removed): the draft
    #: keeper (client.ui.counter.draft_keeper) saves the raw values a moment later.
    edited = Signal()
    #: The form was emptied (クリア, or after a successful submit): the draft is forgotten.
    cleared = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.opened_at = datetime.now(UTC)
        self.fields: dict[str, Field] = {}
        self.persons: list[PersonBox] = []
        self._enter_wired: set[int] = set()
        self._edit_wired: set[int] = set()

        outer = QVBoxLayout(self)
        title = QLabel("住民異動届（転入）")
        title.setStyleSheet("font-size: 18pt; font-weight: bold;")
        outer.addWidget(title)
        self.form_error = ErrorLabel(self)
        outer.addWidget(self.form_error)

        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        body = QWidget()
        self.body_layout = QVBoxLayout(body)
        self.scroll_area.setWidget(body)
        outer.addWidget(self.scroll_area, 1)

        # 届出日・異動日・届出人
        head = QGroupBox("届出")
        grid = QGridLayout(head)
        self.fields["notified_on"] = date_field()
        self.fields["notified_on"].set_text(today_wareki())
        self.fields["moved_on"] = date_field()
        self.fields["notifier.name"] = line_field("届出人の氏名")
        self.fields["notifier.standing"] = combo_field(STANDINGS)
        self.fields["notifier.phone"] = line_field("例: 0296-43-2111", max_length=20)
        placement = {
            "notified_on": ("届出日", 0, 0),
            "moved_on": ("異動日", 0, 2),
            "notifier.name": ("届出人", 1, 0),
            "notifier.standing": ("届出人の資格", 1, 2),
            "notifier.phone": ("連絡先電話番号", 2, 0),
        }
        for name, (label, row, col) in placement.items():
            caption = QLabel(label)
            caption.setBuddy(self.fields[name].editor)
            grid.addWidget(caption, row, col, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(self.fields[name], row, col + 1, Qt.AlignmentFlag.AlignTop)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.body_layout.addWidget(head)

        self.new_address = AddressBox("新住所")
        self.old_address = AddressBox("従前の住所")
        addresses = QHBoxLayout()
        for prefix, box in (("new_address", self.new_address), ("old_address", self.old_address)):
            for part, field in box.fields.items():
                self.fields[f"{prefix}.{part}"] = field
            addresses.addWidget(box)
        self.body_layout.addLayout(addresses)

        self.persons_group = QGroupBox("異動者")
        self.persons_layout = QVBoxLayout(self.persons_group)
        self.persons_error = ErrorLabel(self)
        self.persons_layout.addWidget(self.persons_error)
        self.body_layout.addWidget(self.persons_group)
        self.body_layout.addStretch(1)

        buttons = QHBoxLayout()
        self.add_person_button = QPushButton("異動者を追加")
        self.add_person_button.clicked.connect(self.add_person)
        self.clear_button = QPushButton("クリア")
        self.clear_button.clicked.connect(self.clear)
        self.submit_button = QPushButton("送信（Ctrl+Enter）")
        self.submit_button.setAutoDefault(True)
        self.submit_button.setDefault(True)
        self.submit_button.clicked.connect(self.submit)
        self.print_button = QPushButton("印刷（Ctrl+P）")
        self.print_button.clicked.connect(self.request_print)
        buttons.addWidget(self.add_person_button)
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.submit_button)
        outer.addLayout(buttons)

        self.last_reception = QLabel("")
        self.last_reception.setStyleSheet("font-size: 14pt; font-weight: bold;")
        self.last_reception.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.last_reception)

        for seq in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(seq), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.submit)
        extra: dict[str, Callable[[], object]] = {
            "Ctrl+P": self.request_print,
            "Ctrl+K": self.open_kanji_search,
        }
        for seq, slot in extra.items():
            shortcut = QShortcut(QKeySequence(seq), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.kanji_index: Any = None  # client.core.kanji.index.KanjiIndex, opened on first Ctrl+K

        self.add_person()

    # -- persons -----------------------------------------------------------------------------

    def add_person(self) -> PersonBox:
        box = PersonBox(len(self.persons), self.remove_person)
        self.persons.append(box)
        self.persons_layout.addWidget(box)
        self._reindex()
        box.fields["family_name"].editor.setFocus()
        self.edited.emit()
        return box

    def remove_person(self, box: PersonBox) -> None:
        if len(self.persons) <= 1:
            return
        self.persons.remove(box)
        self.persons_layout.removeWidget(box)
        box.deleteLater()
        self._reindex()
        self.edited.emit()

    def _reindex(self) -> None:
        for key in [k for k in self.fields if k.startswith("persons.")]:
            del self.fields[key]
        for i, box in enumerate(self.persons):
            box.set_index(i)
            box.remove_button.setEnabled(len(self.persons) > 1)
            for part, field in box.fields.items():
                self.fields[f"persons.{i}.{part}"] = field
        self._set_tab_order()

    def focus_order(self) -> list[QWidget]:
        """Every focusable input in form order (the Tab order)."""
        order: list[QWidget] = [
            self.fields[n].editor
            for n in ("notified_on", "moved_on", "notifier.name", "notifier.standing", "notifier.phone")
        ]
        order += self.new_address.focus_order() + self.old_address.focus_order()
        for box in self.persons:
            order += box.focus_order()
        order += [self.add_person_button, self.clear_button, self.print_button, self.submit_button]
        return order

    def _set_tab_order(self) -> None:
        order = self.focus_order()
        for a, b in itertools.pairwise(order):
            QWidget.setTabOrder(a, b)
        for widget in order:
            if isinstance(widget, QLineEdit) and id(widget) not in self._enter_wired:
                widget.returnPressed.connect(self._next_field)
                self._enter_wired.add(id(widget))
        for field in self.fields.values():
            editor = field.editor
            if id(editor) in self._edit_wired:
                continue
            self._edit_wired.add(id(editor))
            if isinstance(editor, QLineEdit):
                editor.textChanged.connect(self.edited)
            elif isinstance(editor, QComboBox):
                editor.currentIndexChanged.connect(self.edited)
                editor.editTextChanged.connect(self.edited)

    def _next_field(self) -> None:
        self.focusNextChild()

    # -- data --------------------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        """What the clerk typed, as the nested strings :func:`build_notice` expects."""
        return {
            "kind": MovementKind.move_in.value,
            "notified_on": self.fields["notified_on"].text(),
            "moved_on": self.fields["moved_on"].text(),
            "notifier": {
                "name": self.fields["notifier.name"].text(),
                "standing": self.fields["notifier.standing"].text(),
                "phone": self.fields["notifier.phone"].text(),
            },
            "new_address": self.new_address.values(),
            "old_address": self.old_address.values(),
            "persons": [box.values() for box in self.persons],
        }

    def raw_values(self) -> dict[str, str]:
        """Every field's text exactly as it stands, valid or not, by dotted name (for the draft)."""
        return {name: field.text() for name, field in self.fields.items()}

    def restore_values(self, values: dict[str, str]) -> None:
        """Put saved :meth:`raw_values` back: as many persons as were saved, every field's text."""
        wanted = 1 + max(
            (int(k.split(".")[1]) for k in values if k.startswith("persons.") and k.split(".")[1].isdigit()),
            default=0,
        )
        while len(self.persons) < wanted:
            self.add_person()
        for box in list(self.persons[wanted:]):
            self.remove_person(box)
        for name, field in self.fields.items():
            if name not in values:
                continue
            value = values[name]
            editor = field.editor
            if isinstance(editor, QComboBox) and not editor.isEditable() and value == "":
                editor.setCurrentIndex(max(editor.findData(None), 0))
            else:
                field.set_text(value)
        self.show_errors({})

    def is_blank(self) -> bool:
        """Nothing typed yet: only the defaults (today's 届出日, 本人) and one empty person."""
        if len(self.persons) != 1:
            return False
        defaults = {"notified_on": today_wareki(), "notifier.standing": STANDINGS[0][1] or ""}
        return all(field.text() == defaults.get(name, "") for name, field in self.fields.items())

    def show_errors(self, errors: dict[str, list[str]]) -> None:
        """Show each message beside its field; unknown paths go to the nearest group or the top."""
        for name, field in self.fields.items():
            field.set_errors(errors.get(name, []))
        group_errors: dict[str, list[str]] = {}
        rest: list[str] = []
        for path, messages in errors.items():
            if path in self.fields:
                continue
            if path in ("new_address", "old_address", "persons") or path.startswith("persons."):
                group_errors.setdefault(path, []).extend(messages)
            elif path.startswith(("new_address.", "old_address.")):
                group_errors.setdefault(path.split(".")[0], []).extend(messages)
            else:
                rest.extend(messages)
        self.new_address.error.show_messages(group_errors.get("new_address", []))
        self.old_address.error.show_messages(group_errors.get("old_address", []))
        self.persons_error.show_messages(group_errors.get("persons", []))
        for i, box in enumerate(self.persons):
            box.error.show_messages(
                [m for p, ms in group_errors.items() if p.startswith(f"persons.{i}") for m in ms]
            )
        if errors:
            rest.insert(0, "入力内容に誤りがあります。赤く表示された項目を確認してください。")
        self.form_error.show_messages(rest)
        first = next((f for n, f in self.fields.items() if n in errors), None)
        if first is not None:
            self.scroll_area.ensureWidgetVisible(first)
            first.editor.setFocus()

    def submit(self) -> MovementNotice | None:
        """Validate; on success emit ``submitted``; on failure show the errors, keep the input."""
        try:
            notice = build_notice(self.values())
        except NoticeInvalid as exc:
            self.show_errors(exc.by_field())
            return None
        self.show_errors({})
        self.submitted.emit(notice)
        return notice

    def request_print(self) -> MovementNotice | None:
        """Validate and emit ``print_requested`` (printable before submission); errors as for 送信."""
        try:
            notice = build_notice(self.values())
        except NoticeInvalid as exc:
            self.show_errors(exc.by_field())
            return None
        self.show_errors({})
        self.print_requested.emit(notice)
        return notice

    def open_kanji_search(self) -> None:
        """漢字検索 (Ctrl+K): insert the chosen character or IVS sequence into the focused field."""
        from client.core.kanji.index import KanjiIndex

        from ..widgets.kanji_search import KanjiSearch

        target = self.focusWidget()
        if self.kanji_index is None:
            self.kanji_index = KanjiIndex()
        dialog = KanjiSearch(self.kanji_index, self)
        if isinstance(target, QLineEdit):
            dialog.chosen.connect(target.insert)
        dialog.exec()

    def clear(self) -> None:
        """Empty the form for the next resident (after a successful enqueue)."""
        for name, field in self.fields.items():
            if not name.startswith("persons."):
                field.set_text("")
        self.fields["notified_on"].set_text(today_wareki())
        self.fields["notifier.standing"].editor.setCurrentIndex(0)  # type: ignore[attr-defined]
        for box in list(self.persons[1:]):
            self.remove_person(box)
        for field in self.persons[0].fields.values():
            field.set_text("")
        self.persons[0].fields["sex"].editor.setCurrentIndex(0)  # type: ignore[attr-defined]
        self.show_errors({})
        self.opened_at = datetime.now(UTC)
        self.fields["notified_on"].editor.setFocus()
        self.cleared.emit()

    def show_last(self, item: OutboxItem) -> None:
        """The state of the last submitted reception (送信待ち → 受付番号)."""
        notice = item.payload.get("notice", {})
        persons = notice.get("persons") or [{}]
        who = "　".join(x for x in (persons[0].get("family_name"), persons[0].get("given_name")) if x)
        if item.reception_number:
            self.last_reception.setText(f"受付番号: {item.reception_number}（{who}）")
        elif item.state == "failed":
            self.last_reception.setText(f"送信できませんでした（{who}）: {item.last_error}")
        else:
            when = ""
            if notice.get("notified_on"):
                when = format_wareki(datetime.fromisoformat(notice["notified_on"]).date())
            self.last_reception.setText(f"送信待ち（{who}、届出日 {when}）")
