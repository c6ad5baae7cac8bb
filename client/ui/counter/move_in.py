"""The counter's reception screen (窓口受付): the 住民異動届 on the document canvas.

One screen for every 届出の種類 (転入, 特例転入, 国外転入, 転居, 転出, 世帯主変更, 世帯分離・合併,
職権記載): the clerk chooses the procedure and ticks the documents the resident brought, then fills
the notice on :class:`~client.ui.widgets.form_canvas.FormCanvas`, the form as printed. 異動者 are
added and removed (a household); more than four continue on a second sheet, as on paper.

Keyboard: the Tab order is the paper form's (see :mod:`client.core.canvas`); Enter moves to the
next field; Ctrl+Enter submits from anywhere; Ctrl+P prints; Ctrl+K opens 漢字検索 for the focused
field; F2 reads the documents in the station's scanner, Ctrl+O reads an image file; Ctrl++ / Ctrl+-
/ Ctrl+0 zoom. Reading (読取) runs the OCR pipeline off the UI thread and pastes the values into
the canvas, tinted by confidence with the scan crop on hover; a page that cannot be read gives its
Japanese reason and changes nothing typed.

Validation is the shared model's (:func:`client.core.reception.build_notice`); each error appears
under its box and nothing typed is cleared on error. :meth:`MoveInForm.fill` is the one way other
parts of the app (register prefill, OCR) put values in.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from client.core.canvas import (
    DOCUMENTS,
    EXPECTED_DOCUMENTS,
    KIND_CHOICES,
    build_canvas,
    documents_text,
    move_person,
    nest,
    notice_layout,
    person_keys,
)
from client.core.outbox import OutboxItem
from client.core.reception import NoticeInvalid, build_notice, today_wareki
from client.devices.scanners.base import Scanner
from shared.models.movement_notice import MovementKind, MovementNotice
from shared.text.wareki import format_wareki

from ..widgets.fields import ErrorLabel
from ..widgets.flow import FlowLayout
from ..widgets.form_canvas import BoxField, FormCanvas
from ..worker import error_text, run_in_background

if TYPE_CHECKING:
    from client.core.ocr.routing import Engines

#: Most 異動者 on one notice (the model's limit).
MAX_PERSONS = 20
ZOOMS = (0.5, 0.67, 0.8, 1.0, 1.25, 1.5, 2.0)
#: 80 %: the A3 sheet about as wide as the counter window.
DEFAULT_ZOOM = 0.8
DEFAULT_KIND = MovementKind.move_in.value
#: Kinds for which the 転出証明書's 転出先 is the new address in this municipality.
MOVE_IN_KINDS = {MovementKind.move_in.value, MovementKind.move_in_special.value}
#: Editors lie on the paper: no frames or fills of their own (the canvas paints tints and focus).
CANVAS_STYLE = (
    "QLineEdit { background: transparent; border: none; }"
    " QComboBox { background: transparent; border: 1px dotted #999; padding: 0 1px; }"
    " QComboBox::drop-down { width: 9px; border: none; }"
    " QComboBox::down-arrow { width: 6px; height: 6px; }"
)
DESTINATION_NOTE = "転出証明書の転出先（予定）から写しました。新住所と同じか確認してください。"


class PersonEntry:
    """One 異動者 on the canvas: its fields (by part name) and its 削除 button in the 欄外."""

    def __init__(self, index: int, remove_button: QPushButton) -> None:
        self.index = index
        self.fields: dict[str, BoxField] = {}
        self.remove_button = remove_button

    def title(self) -> str:
        return f"異動者 {self.index + 1}"

    def values(self) -> dict[str, str]:
        return {name: f.text() for name, f in self.fields.items()}


class MoveInForm(QWidget):
    """The reception screen. ``submitted(notice)`` is emitted with a validated notice."""

    submitted = Signal(object)
    #: 印刷 (Ctrl+P): a validated notice to print before it is submitted or confirmed; the app
    #: wires it to client.core.print.service.print_forms off the UI thread.
    print_requested = Signal(object)
    #: Something the clerk sees changed (a field's text, a person added or removed, a fill): the
    #: draft keeper (client.ui.counter.draft_keeper) saves the raw values a moment later.
    edited = Signal()
    #: The form was emptied (クリア, or after a successful submit): the draft is forgotten.
    cleared = Signal()
    #: A 読取 finished: the list of (page, message) problems (empty when every page was read).
    reading_finished = Signal(object)
    #: 保存用の書類 (Ctrl+Shift+D): the window opens the documents of this reception.
    documents_requested = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        scanner: Scanner | None = None,
        engines: Engines | None = None,
    ) -> None:
        super().__init__(parent)
        self.opened_at = datetime.now(UTC)
        self.scanner = scanner
        #: The station's OCR engines (``Devices.ocr``: routed, or the one engine the station
        #: profile forces); None: the process's routed engines (a form outside the app).
        self.engines = engines
        self.layout_spec = notice_layout()
        self.persons: list[PersonEntry] = []
        self.fields: dict[str, BoxField] = {}
        self.reading = False
        #: Bumped by reset_screen: a reading started before it is not pasted (another clerk's screen).
        self._generation = 0
        self._reading_generation = 0
        self._loading = False
        self._wired: set[int] = set()

        outer = QVBoxLayout(self)
        head = QHBoxLayout()
        title = QLabel("住民異動届")
        title.setStyleSheet("font-size: 18pt; font-weight: bold;")
        head.addWidget(title)
        kind_caption = QLabel("届出の種類")
        self.kind_box = QComboBox()
        for label, value in KIND_CHOICES:
            self.kind_box.addItem(label, value)
        self.kind_box.setAccessibleName("届出の種類")
        kind_caption.setBuddy(self.kind_box)
        head.addWidget(kind_caption)
        head.addWidget(self.kind_box)
        head.addSpacing(12)
        head.addWidget(QLabel("持参書類:"), 0, Qt.AlignmentFlag.AlignTop)
        # the check boxes wrap to a second line on a narrow window (1024 px) instead of widening it
        self.documents_panel = QWidget()
        flow = FlowLayout(self.documents_panel)
        self.document_boxes: dict[str, QCheckBox] = {}
        for doc_id, label in DOCUMENTS.items():
            box = QCheckBox(label)
            self.document_boxes[doc_id] = box
            flow.addWidget(box)
        head.addWidget(self.documents_panel, 1)
        outer.addLayout(head)

        tools = QHBoxLayout()
        self.scan_button = QPushButton("読取（F2）")
        self.scan_button.setToolTip("スキャナーの書類を読み取って届出に写します")
        self.file_button = QPushButton("画像ファイルから読取（Ctrl+O）")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(160)
        self.progress.hide()
        self.scan_status = QLabel("")
        self.scan_status.setWordWrap(True)
        self.scan_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.zoom_box = QComboBox()
        for z in ZOOMS:
            self.zoom_box.addItem(f"{round(z * 100)}%", z)
        self.zoom_box.setAccessibleName("表示倍率")
        tools.addWidget(self.scan_button)
        tools.addWidget(self.file_button)
        tools.addWidget(self.progress)
        tools.addWidget(self.scan_status, 1)
        self.documents_button = QPushButton()
        self.documents_button.setToolTip(
            "委任状・本人確認書類など保存だけする書類。この受付の送信と一緒に保存され、クリアで破棄されます"
        )
        self.documents_button.clicked.connect(self.documents_requested.emit)
        self.show_documents_count(0)
        tools.addWidget(self.documents_button)
        zoom_caption = QLabel("倍率")
        zoom_caption.setBuddy(self.zoom_box)
        tools.addWidget(zoom_caption)
        tools.addWidget(self.zoom_box)
        outer.addLayout(tools)

        self.form_error = ErrorLabel(self)
        outer.addWidget(self.form_error)

        self.canvas = FormCanvas(build_canvas(self.layout_spec, 1))
        self.canvas.setStyleSheet(CANVAS_STYLE)
        self.canvas.field_edited.connect(self._on_field_edited)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidget(self.canvas)
        self.scroll_area.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        outer.addWidget(self.scroll_area, 1)

        buttons = QHBoxLayout()
        self.add_person_button = QPushButton("異動者を追加")
        self.clear_button = QPushButton("クリア")
        self.submit_button = QPushButton("送信（Ctrl+Enter）")
        self.submit_button.setAutoDefault(True)
        self.submit_button.setDefault(True)
        self.print_button = QPushButton("印刷（Ctrl+P）")
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

        self.add_person_button.clicked.connect(lambda: self.add_person())
        self.clear_button.clicked.connect(self.clear)
        self.submit_button.clicked.connect(self.submit)
        self.print_button.clicked.connect(self.request_print)
        self.scan_button.clicked.connect(self.read_scanner)
        self.file_button.clicked.connect(self.open_image_file)
        self.kind_box.currentIndexChanged.connect(self._on_kind_changed)
        self.zoom_box.currentIndexChanged.connect(
            lambda _i: self.set_zoom(float(self.zoom_box.currentData()))
        )
        for box in self.document_boxes.values():
            box.toggled.connect(self._emit_edited)

        shortcuts: dict[str, Callable[[], object]] = {
            "Ctrl+Return": self.submit,
            "Ctrl+Enter": self.submit,
            "Ctrl+P": self.request_print,
            "Ctrl+K": self.open_kanji_search,
            "F2": self.read_scanner,
            "Ctrl+O": self.open_image_file,
            "Ctrl++": lambda: self.step_zoom(1),
            "Ctrl+=": lambda: self.step_zoom(1),
            "Ctrl+-": lambda: self.step_zoom(-1),
            "Ctrl+0": lambda: self.zoom_box.setCurrentIndex(ZOOMS.index(1.0)),
        }
        for seq, slot in shortcuts.items():
            shortcut = QShortcut(QKeySequence(seq), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.kanji_index: Any = None  # client.core.kanji.index.KanjiIndex, opened on first Ctrl+K

        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)

        self._set_persons(1)
        self.zoom_box.setCurrentIndex(ZOOMS.index(DEFAULT_ZOOM))
        self._set_kind_defaults(DEFAULT_KIND)
        self._loading = True
        self.fields["notified_on"].set_text(today_wareki())
        self.fields["notifier.standing"].set_text("self")
        self._loading = False

    # -- procedure, documents, zoom ----------------------------------------------------------

    def kind(self) -> str:
        return str(self.kind_box.currentData())

    def set_kind(self, kind: str) -> None:
        idx = self.kind_box.findData(kind)
        if idx >= 0:
            self.kind_box.setCurrentIndex(idx)

    def _on_kind_changed(self, _index: int) -> None:
        self.canvas.set_kind(self.kind())
        if not self._loading:
            self._set_documents(EXPECTED_DOCUMENTS[MovementKind(self.kind())])
            self._emit_edited()

    def _set_kind_defaults(self, kind: str) -> None:
        self._loading = True
        try:
            self.set_kind(kind)
            self.canvas.set_kind(self.kind())
            self._set_documents(EXPECTED_DOCUMENTS[MovementKind(self.kind())])
        finally:
            self._loading = False

    def documents(self) -> list[str]:
        """The documents ticked as brought (ids of :data:`client.core.canvas.DOCUMENTS`)."""
        return [d for d, box in self.document_boxes.items() if box.isChecked()]

    def _set_documents(self, documents: Any) -> None:
        chosen = set(documents)
        for doc_id, box in self.document_boxes.items():
            box.blockSignals(True)
            box.setChecked(doc_id in chosen)
            box.blockSignals(False)

    def show_documents_count(self, count: int) -> None:
        """How many 保存用の書類 wait for this reception's 送信 (on the screen's button)."""
        shortcut = "Ctrl+Shift+D"
        self.documents_button.setText(
            f"保存用の書類 {count}件（{shortcut}）" if count else f"保存用の書類（{shortcut}）"
        )
        font = self.documents_button.font()
        font.setBold(bool(count))  # a font, not a style sheet: the button's size follows the text
        self.documents_button.setFont(font)

    def set_zoom(self, zoom: float) -> None:
        self.canvas.set_zoom(zoom)
        for person in self.persons:
            self.canvas.place_handle(person.remove_button, person.index)

    def step_zoom(self, step: int) -> None:
        idx = min(max(self.zoom_box.currentIndex() + step, 0), len(ZOOMS) - 1)
        self.zoom_box.setCurrentIndex(idx)

    # -- persons -----------------------------------------------------------------------------

    def _set_persons(self, count: int) -> None:
        count = max(1, min(MAX_PERSONS, count))
        while len(self.persons) > count:
            entry = self.persons.pop()
            entry.remove_button.hide()
            entry.remove_button.deleteLater()
        while len(self.persons) < count:
            button = QPushButton("削除", self.canvas)
            entry = PersonEntry(len(self.persons), button)
            button.setAccessibleName(f"異動者{entry.index + 1}を削除")
            button.clicked.connect(lambda _=False, e=entry: self.remove_person(e))
            self.persons.append(entry)
        self.canvas.set_model(build_canvas(self.layout_spec, count))
        self.fields = dict(self.canvas.fields)
        for entry in self.persons:
            prefix = f"persons.{entry.index}."
            entry.fields = {k.removeprefix(prefix): f for k, f in self.fields.items() if k.startswith(prefix)}
            entry.remove_button.setEnabled(count > 1)
            self.canvas.place_handle(entry.remove_button, entry.index)
        self._wire()
        self._set_tab_order()

    def add_person(self) -> PersonEntry | None:
        """Another 異動者 (a row of the table; the fifth starts a second sheet)."""
        if len(self.persons) >= MAX_PERSONS:
            self.form_error.show_messages([f"異動者は{MAX_PERSONS}人までです。"])
            return None
        self._set_persons(len(self.persons) + 1)
        entry = self.persons[-1]
        editor = entry.fields["family_name"].editor
        editor.setFocus()
        self.scroll_area.ensureWidgetVisible(editor)
        self._emit_edited()
        return entry

    def remove_person(self, entry: PersonEntry) -> None:
        """Remove one 異動者; those after it move up a row (values, tints and crops with them)."""
        if len(self.persons) <= 1 or entry not in self.persons:
            return
        removed = entry.index
        states: list[dict[str, Any]] = []
        for person in self.persons:
            if person.index != removed:
                states.append({part: f.state() for part, f in person.fields.items()})
        self._set_persons(len(self.persons) - 1)
        for person, state in zip(self.persons, states, strict=True):
            for part, value in state.items():
                if part in person.fields:
                    person.fields[part].apply_state(value)
        self._emit_edited()

    def focus_order(self) -> list[QWidget]:
        """Every focusable input in order: the procedure, the documents, 読取, the canvas in the
        paper form's order (each 異動者's 削除 after its 欄外 line), the buttons."""
        order: list[QWidget] = [
            self.kind_box,
            *self.document_boxes.values(),
            self.scan_button,
            self.file_button,
            self.documents_button,
        ]
        last_of_person: dict[int, str] = {}
        for key, field in self.fields.items():
            if field.spec.person is not None and not field.spec.on_paper:
                last_of_person[field.spec.person] = key
        for key, field in self.fields.items():
            order.append(field.editor)
            person = field.spec.person
            if person is not None and last_of_person.get(person) == key:
                order.append(self.persons[person].remove_button)
        order += [
            self.add_person_button,
            self.clear_button,
            self.print_button,
            self.submit_button,
            self.zoom_box,
        ]
        return order

    def _set_tab_order(self) -> None:
        for a, b in itertools.pairwise(self.focus_order()):
            QWidget.setTabOrder(a, b)

    def _wire(self) -> None:
        for field in self.fields.values():
            editor = field.editor
            if id(editor) in self._wired:
                continue
            self._wired.add(id(editor))
            if isinstance(editor, QLineEdit):
                editor.textChanged.connect(self._emit_edited)
            elif isinstance(editor, QComboBox):
                editor.currentIndexChanged.connect(self._emit_edited)
                editor.editTextChanged.connect(self._emit_edited)
            elif isinstance(editor, QCheckBox):
                editor.toggled.connect(self._emit_edited)

    def _emit_edited(self, *_: object) -> None:
        if not self._loading:
            self.edited.emit()

    def _on_field_edited(self, _key: str) -> None:
        self.edited.emit()

    def _on_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is not None and self.canvas.isAncestorOf(new):
            self.scroll_area.ensureWidgetVisible(new, 40, 60)

    # -- data --------------------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        """What the clerk typed, as the nested strings :func:`build_notice` expects."""
        data = nest({k: f.text() for k, f in self.fields.items()}, len(self.persons))
        data["kind"] = self.kind()
        data.setdefault("notifier", {})
        return data

    def raw_values(self) -> dict[str, str]:
        """Every field's text exactly as it stands, valid or not, by dotted name (for the draft);
        with the procedure (``kind``) and the documents brought (``documents``)."""
        out = {"kind": self.kind(), "documents": documents_text(self.documents())}
        out.update({name: field.text() for name, field in self.fields.items()})
        return out

    def restore_values(self, values: Mapping[str, str]) -> None:
        """Put saved :meth:`raw_values` back: the procedure, documents, persons, every field."""
        self._loading = True
        try:
            if "kind" in values:
                self.set_kind(values["kind"])
                self.canvas.set_kind(self.kind())
            if "documents" in values:
                self._set_documents(d for d in values["documents"].split(",") if d)
            wanted = 1 + max(person_keys(values), default=0)
            self._set_persons(wanted)
            for name, field in self.fields.items():
                if name in values:
                    field.set_text(values[name])
                    field.clear_fill()
        finally:
            self._loading = False
        self.show_errors({})

    def is_blank(self) -> bool:
        """Nothing typed yet: only the defaults (転入, its documents, today's 届出日, 本人) and one
        empty person."""
        if len(self.persons) != 1 or self.kind() != DEFAULT_KIND:
            return False
        if set(self.documents()) != set(EXPECTED_DOCUMENTS[MovementKind(DEFAULT_KIND)]):
            return False
        defaults = {"notified_on": today_wareki(), "notifier.standing": "self"}
        return all(field.text() == defaults.get(name, "") for name, field in self.fields.items())

    def fill(
        self,
        values: Mapping[str, str],
        source: str,
        confidences: Mapping[str, float] | None = None,
        crops: Mapping[str, QImage | bytes] | None = None,
        notes: Mapping[str, str] | None = None,
        *,
        overwrite: bool = False,
    ) -> list[str]:
        """Put ``values`` (raw keys → text, as :meth:`raw_values`) into the canvas, marked as coming
        from ``source`` (「転出証明書（…）」, 「住民記録」): tinted by ``confidences`` (0–1; none: no
        tint) and with ``crops`` (PNG/JPEG bytes or QImage) shown on hover. Persons are added as the
        keys need. A field the clerk has typed in is kept unless ``overwrite``. ``kind`` and
        ``documents`` keys set the procedure and documents. Returns the keys not filled (unknown, or
        kept)."""
        confidences = confidences or {}
        crops = crops or {}
        notes = notes or {}
        skipped: list[str] = []
        decoded: dict[int, QImage] = {}
        self._loading = True
        try:
            if values.get("kind"):
                self.set_kind(values["kind"])
                self.canvas.set_kind(self.kind())
            if "documents" in values:
                self._set_documents(set(self.documents()) | {d for d in values["documents"].split(",") if d})
            wanted = 1 + max(person_keys(values), default=-1)
            if wanted > len(self.persons):
                self._set_persons(min(wanted, MAX_PERSONS))
            for key, value in values.items():
                if key in ("kind", "documents"):
                    continue
                field = self.fields.get(key)
                if field is None:
                    skipped.append(key)
                    continue
                typed = field.text() not in ("", self._default(key)) and field.source is None
                if typed and not overwrite and field.text() != value:
                    skipped.append(key)
                    continue
                field.set_text(value)
                crop = crops.get(key)
                if isinstance(crop, bytes):  # one decode per image (an address's parts share one)
                    crop = decoded.setdefault(id(crop), QImage.fromData(crop))
                field.set_filled(source, confidences.get(key), crop, notes.get(key))
        finally:
            self._loading = False
        self.edited.emit()
        return skipped

    def _default(self, key: str) -> str:
        return {"notified_on": today_wareki(), "notifier.standing": "self"}.get(key, "")

    def show_errors(self, errors: Mapping[str, list[str]]) -> None:
        """Show each message under its box; a group's message (新住所, 異動者1) under the group's
        first field; the rest at the top."""
        placed: dict[str, list[str]] = {}
        rest: list[str] = []
        for path, messages in errors.items():
            if path in self.fields:
                placed.setdefault(path, []).extend(messages)
                continue
            first = next((k for k in self.fields if path and k.startswith(path + ".")), None)
            if first is not None:
                placed.setdefault(first, []).extend(messages)
            else:
                rest.extend(messages)
        for name, field in self.fields.items():
            field.set_errors(placed.get(name, []))
        if errors:
            rest.insert(0, "入力内容に誤りがあります。赤く表示された項目を確認してください。")
        self.form_error.show_messages(rest)
        first_field = next((f for n, f in self.fields.items() if n in placed), None)
        if first_field is not None:
            first_field.editor.setFocus()
            self.scroll_area.ensureWidgetVisible(first_field.error, 40, 20)
            self.scroll_area.ensureWidgetVisible(first_field.editor, 40, 20)

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

        target: QWidget | None = self.focusWidget()
        if isinstance(target, QComboBox) and target.isEditable():  # 続柄 and the other typed choices
            target = target.lineEdit()
        if not isinstance(target, QLineEdit) or target.isReadOnly():
            self.form_error.show_messages(["漢字検索は文字を入力する欄で使えます（Ctrl+K）。"])
            return
        if self.kanji_index is None:
            self.kanji_index = KanjiIndex()
        dialog = KanjiSearch(self.kanji_index, self)
        dialog.chosen.connect(target.insert)
        dialog.exec()
        target.setFocus()

    def clear(self) -> None:
        """Empty the form for the next resident (after a successful enqueue); the draft is forgotten
        (``cleared``)."""
        self.reset_screen(keep_last=True)
        self.cleared.emit()

    def reset_screen(self, *, keep_last: bool = False) -> None:
        """Empty everything the screen shows of a resident — fields, persons, tints and crops,
        messages, the last reception's line — without announcing ``cleared`` (logout or another
        clerk: the draft stays the previous clerk's)."""
        self._loading = True
        try:
            self._set_persons(1)
            for field in self.fields.values():
                field.set_text("")
                field.clear_fill()
            self.fields["notified_on"].set_text(today_wareki())
            self.fields["notifier.standing"].set_text("self")
            self._set_kind_defaults(DEFAULT_KIND)
        finally:
            self._loading = False
        self.show_errors({})
        self.scan_status.setText("")
        self.canvas.show_crop(None)
        if not keep_last:
            self.last_reception.setText("")
        self._generation += 1
        self.opened_at = datetime.now(UTC)
        self.fields["notified_on"].editor.setFocus()

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

    # -- 読取 ----------------------------------------------------------------------------------

    def read_scanner(self) -> None:
        """読取 (F2): scan the documents in the station's scanner and read them, off the UI thread."""
        if self.reading:
            return
        if self.scanner is None:
            self._show_scan_problems(
                [
                    (
                        "",
                        "この端末にはスキャナーが設定されていません。「画像ファイルから読取」を使ってください。",
                    )
                ]
            )
            return
        self._start_reading("スキャンしています…")
        run_in_background(
            _scan_and_read,
            self.scanner,
            self.engines,
            on_result=self._pages_read,
            on_error=self._reading_failed,
        )

    def open_image_file(self) -> None:
        """読取 from an image file (Ctrl+O): choose the file, then as :meth:`read_file`."""
        if self.reading:
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "読み取る画像", "", "画像 (*.png *.jpg *.jpeg *.tif *.tiff);;すべてのファイル (*)"
        )
        if path:
            self.read_file(Path(path))

    def read_file(self, path: Path) -> None:
        """Read one image file off the UI thread and paste it into the canvas."""
        if self.reading:
            return
        self._start_reading(f"読み取っています…（{path.name}）")
        run_in_background(
            _read_pages, [path], self.engines, on_result=self._pages_read, on_error=self._reading_failed
        )

    def _start_reading(self, message: str) -> None:
        self.reading = True
        self._reading_generation = self._generation
        self.scan_button.setEnabled(False)
        self.file_button.setEnabled(False)
        self.progress.show()
        self.scan_status.setStyleSheet("")
        self.scan_status.setText(message)

    def _finish_reading(self) -> None:
        self.reading = False
        self.scan_button.setEnabled(True)
        self.file_button.setEnabled(True)
        self.progress.hide()

    def _pages_read(self, pages: list[tuple[str, Any]]) -> None:
        from client.core.ocr.canvas_fill import CanvasFill

        self._finish_reading()
        if self._reading_generation != self._generation:
            return  # read for a screen since emptied (logout): never pasted into the next one
        problems: list[tuple[str, str]] = []
        done: list[str] = []
        for name, outcome in pages:
            if isinstance(outcome, CanvasFill):
                self.paste_reading(outcome)
                done.append(outcome.source)
            else:
                problems.append((name, str(outcome)))
        if not pages:
            problems.append(
                ("", "スキャナーから画像が届きませんでした。書類を置いてもう一度読み取ってください。")
            )
        if problems:
            self._show_scan_problems(problems, done)
        else:
            self.scan_status.setStyleSheet("color: #1b5e20;")
            self.scan_status.setText(
                "読み取りました: " + "、".join(done) + "。色の付いた項目を書類と照らして確認してください。"
            )
        self.reading_finished.emit(problems)

    def _reading_failed(self, exc: BaseException) -> None:
        self._finish_reading()
        if self._reading_generation != self._generation:
            return
        problems = [("", error_text(exc))]
        self._show_scan_problems(problems)
        self.reading_finished.emit(problems)

    def _show_scan_problems(self, problems: list[tuple[str, str]], done: list[str] | None = None) -> None:
        lines = [f"{name}: {message}" if name else message for name, message in problems]
        if done:
            lines.insert(0, "読み取りました: " + "、".join(done))
        self.scan_status.setStyleSheet("color: #b00020;")
        self.scan_status.setText("\n".join(lines))

    def paste_reading(self, reading: Any) -> list[str]:
        """Put one read page (:class:`client.core.ocr.canvas_fill.CanvasFill`) into the canvas: a
        second resident's document goes to the next 異動者; for 転入 the 転出証明書's 転出先 goes to an
        empty 新住所 (to be confirmed), not to the 転出先 box."""
        values = dict(reading.values)
        confidences = dict(reading.confidences)
        crops = dict(reading.crops)
        notes = dict(reading.notes)
        incoming = values.get("persons.0.family_name") or values.get("persons.0.roman_name")
        if incoming:
            target = None
            for person in self.persons:
                current = person.fields["family_name"].text() or person.fields["roman_name"].text()
                if not current or current == incoming:
                    target = person.index
                    break
            if target is None:
                target = len(self.persons)
            if target:
                values = move_person(values, 0, target)
                confidences = move_person(confidences, 0, target)
                crops = move_person(crops, 0, target)
                notes = move_person(notes, 0, target)
        move_in = self.kind() in MOVE_IN_KINDS and reading.doc_type == "move_out_certificate"
        if move_in:
            # the 転出先 of the 転出証明書 is where the resident said they would live here: the
            # 新住所 to confirm (a 転入 leaves the 転出先 box of the form empty)
            new_empty = all(f.text() == "" for k, f in self.fields.items() if k.startswith("new_address."))
            for key in [k for k in values if k.startswith("destination.")]:
                value, confidence = values.pop(key), confidences.pop(key, 0.0)
                crop, _ = crops.pop(key, None), notes.pop(key, None)
                if not new_empty:
                    continue
                new_key = "new_address." + key.removeprefix("destination.")
                values[new_key] = value
                confidences[new_key] = min(confidence, 0.84)
                if crop is not None:
                    crops[new_key] = crop
                notes[new_key] = DESTINATION_NOTE
        return self.fill(values, reading.source, confidences, crops, notes)


def _read_pages(paths: list[Path], engines: Engines | None = None) -> list[tuple[str, Any]]:
    """Read each page with ``engines`` (worker thread); a page that fails gives its Japanese
    message, not an error."""
    from client.core.ocr.canvas_fill import read_for_canvas
    from shared.errors import MadoguchiError

    out: list[tuple[str, Any]] = []
    for path in paths:
        try:
            out.append((Path(path).name, read_for_canvas(path, engine=engines)))
        except MadoguchiError as exc:
            out.append((Path(path).name, exc.message))
    return out


def _scan_and_read(scanner: Scanner, engines: Engines | None = None) -> list[tuple[str, Any]]:
    """Scan (the plugin may block on the hardware) and read every page, on a worker thread."""
    return _read_pages([page.path for page in scanner.scan()], engines)
