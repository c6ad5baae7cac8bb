"""The document canvas: the 住民異動届 drawn as the paper form, every field edited in place.

What is drawn and where the editors go comes from :mod:`client.core.canvas` (itself from the print
layout the form is printed with), so the screen and the printed sheet never disagree. The editors
are ordinary ``QLineEdit`` / ``QComboBox`` / ``QCheckBox`` children placed on the boxes (keyboard,
input methods, the phrase picker and 漢字検索 work as anywhere else).

- Zoom: :meth:`FormCanvas.set_zoom` (1.0 = the paper's size at 96 dpi).
- Machine-filled fields (読取, register prefill) are tinted by confidence — 高 green, 要確認 yellow,
  低 red — until the clerk edits them; hovering or focusing such a field shows the scan crop.
- Validation messages appear in red under their box.
- IVS: Qt on Linux drops variation selectors when drawing, so a field whose text holds one shows
  the text drawn by Pillow/RAQM in IPAmj明朝 (:func:`client.core.kanji.glyphs.text_image`) while it
  does not have the focus; the editor's text stays the true sequence.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from PIL.ImageQt import ImageQt
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontDatabase,
    QFontMetrics,
    QImage,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QCheckBox, QComboBox, QFrame, QLabel, QLineEdit, QVBoxLayout, QWidget

from client.core.canvas import (
    CHECKED,
    TINT_LABELS,
    CanvasField,
    CanvasModel,
    Rect,
    Tint,
    tint_for,
    unused_for,
)
from client.core.kanji.glyphs import has_variation_selector, text_image
from client.core.reception import wareki_hint

from .fields import ERROR_STYLE

#: Screen pixels per millimetre at zoom 1.0 (96 dpi).
PX_PER_MM = 96 / 25.4
PT_TO_MM = 25.4 / 72
TINTS: dict[Tint, QColor] = {
    "high": QColor(214, 240, 214),
    "check": QColor(255, 240, 180),
    "low": QColor(255, 208, 200),
}
ERROR_COLOUR = QColor(176, 0, 32)
#: A box the chosen procedure does not use: light grey hatching (still editable).
UNUSED_BRUSH = QBrush(QColor(200, 200, 200), Qt.BrushStyle.BDiagPattern)
FOCUS_COLOUR = QColor(30, 100, 220)
DESK_COLOUR = QColor(200, 204, 210)
INK = QColor(40, 40, 40)
#: Largest editor height (mm): a tall box gets a line-sized editor, not a giant one.
MAX_EDITOR_MM = 10.0
CROP_MAX_PX = 560
#: Captions print at 6.5 pt; on screen they stay legible whatever the zoom.
CAPTION_MIN_PX = 9
CAPTION_INK = QColor(70, 70, 90)


#: Pixels a fixed-choice box needs besides its text (drop-down arrow and padding of CANVAS_STYLE).
COMBO_CHROME_PX = 14


@cache
def paper_font_family() -> str:
    """IPAmj明朝 registered with Qt (what the printed form uses); the default family without it."""
    try:
        from client.core.print.fonts import find_font

        font_id = QFontDatabase.addApplicationFont(str(find_font()))
    except Exception:
        return QFont().family()
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    return families[0] if families else QFont().family()


def fit_font(label: QLabel) -> None:
    """Shrink the label's font until its text fits its width (a date hint in a narrow box)."""
    height = label.height()
    if height <= 0 or label.width() <= 0:
        return
    font = label.font()
    size = max(8, round(height * 0.62))
    font.setPixelSize(size)
    width = QFontMetrics(font).horizontalAdvance(label.text())
    if width > label.width() - 4 and width > 0:
        font.setPixelSize(max(7, int(size * (label.width() - 4) / width)))
    label.setFont(font)


class IvsLineEdit(QLineEdit):
    """A line edit that shows text holding IVS as IPAmj明朝 draws it (Pillow/RAQM) while unfocused."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ivs_view = QLabel(self)
        self.ivs_view.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.ivs_view.setAutoFillBackground(True)
        self.ivs_view.hide()
        self.ivs_pixmap: QPixmap | None = None
        self.textChanged.connect(self._refresh)

    def shows_variants(self) -> bool:
        """Whether the Pillow-drawn text is what the clerk sees now."""
        return self.ivs_view.isVisible()

    def _refresh(self, *_: object) -> None:
        text = self.text()
        if not has_variation_selector(text) or self.hasFocus():
            self.ivs_view.hide()
            return
        rect = self.contentsRect()
        height = max(8, rect.height() - 2)
        size = self.font().pixelSize()
        image = text_image(text, height, size if size > 0 else None)
        self.ivs_pixmap = QPixmap.fromImage(ImageQt(image))
        self.ivs_view.setPixmap(self.ivs_pixmap)
        self.ivs_view.setGeometry(rect)
        align = self.alignment() & Qt.AlignmentFlag.AlignHorizontal_Mask
        self.ivs_view.setAlignment(align | Qt.AlignmentFlag.AlignVCenter)
        palette = self.ivs_view.palette()
        palette.setColor(self.ivs_view.backgroundRole(), self.palette().color(self.backgroundRole()))
        self.ivs_view.setPalette(palette)
        self.ivs_view.show()

    def set_background(self, colour: QColor) -> None:
        palette = self.ivs_view.palette()
        palette.setColor(self.ivs_view.backgroundRole(), colour)
        self.ivs_view.setPalette(palette)

    def focusInEvent(self, event: object) -> None:
        super().focusInEvent(event)  # type: ignore[arg-type]
        self.ivs_view.hide()

    def focusOutEvent(self, event: object) -> None:
        super().focusOutEvent(event)  # type: ignore[arg-type]
        self._refresh()

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._refresh()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._refresh()


class ErrorNote(QLabel):
    """A red message under a box of the canvas, hidden while empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(ERROR_STYLE + " background: #fff4f4; border: 1px solid #b00020; padding: 1px 3px;")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_messages(self, messages: Sequence[str]) -> None:
        self.setText("\n".join(messages))
        self.setVisible(bool(messages))
        if messages:
            self.adjustSize()
            self.raise_()


class BoxField:
    """One field of the canvas: its editor, date hint, error note and machine-fill state.

    The same interface as :class:`client.ui.widgets.fields.Field` (``editor``, ``hint``, ``error``,
    ``text()``, ``set_text()``, ``set_errors()``), so the screen's code and tests treat both alike.
    """

    def __init__(self, spec: CanvasField, canvas: FormCanvas) -> None:
        self.spec = spec
        self.canvas = canvas
        self.editor: QWidget = self._make_editor(spec, canvas)
        # asked once: PySide6 mis-counts the None that lineEdit() returns for a plain combo box,
        # which crashes the interpreter at exit when asked on every focus change
        editor = self.editor
        self.line: QLineEdit | None = (
            editor.lineEdit() if isinstance(editor, QComboBox) and editor.isEditable() else None
        )
        self.editor.setAccessibleName(spec.label)
        self.editor.setToolTip(spec.label)
        self.hint: QLabel | None = None
        if spec.kind == "date":
            self.hint = QLabel(canvas)
            self.hint.setStyleSheet("color: #555; background: transparent;")
            self.hint.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            editor = self.editor
            assert isinstance(editor, QLineEdit)
            editor.textChanged.connect(self._update_hint)
        self.error = ErrorNote(canvas)
        self.errors: list[str] = []
        self.tint: Tint | None = None
        self.confidence: float | None = None
        self.source: str | None = None
        self.note: str | None = None
        self.crop: QImage | None = None

    @staticmethod
    def _make_editor(spec: CanvasField, parent: QWidget) -> QWidget:
        if spec.kind in ("choice", "editable_choice"):
            combo = QComboBox(parent)
            combo.setEditable(spec.kind == "editable_choice")
            for label, value in spec.choices:
                combo.addItem(label, value)
            if combo.isEditable():
                combo.setCurrentIndex(-1)
                combo.setEditText("")
            return combo
        if spec.kind == "check":
            box = QCheckBox(parent)
            box.setStyleSheet(
                "QCheckBox { background: transparent; }"
                " QCheckBox::indicator { width: 12px; height: 12px; border: 1px solid #555;"
                " background: white; }"
                " QCheckBox::indicator:checked { background: #1e64dc; }"
                " QCheckBox::indicator:focus { border: 2px solid #1e64dc; }"
            )
            box.toggled.connect(lambda _checked: parent.update())
            return box
        edit = IvsLineEdit(parent)
        edit.setFrame(False)
        edit.setMaxLength(spec.max_length)
        align = {"left": Qt.AlignmentFlag.AlignLeft, "center": Qt.AlignmentFlag.AlignHCenter}.get(
            spec.align, Qt.AlignmentFlag.AlignRight
        )
        edit.setAlignment(align | Qt.AlignmentFlag.AlignVCenter)
        return edit

    def _update_hint(self, text: str) -> None:
        if self.hint is not None:
            self.hint.setText(wareki_hint(text))
            fit_font(self.hint)

    # -- the Field interface -------------------------------------------------------------------

    def text(self) -> str:
        editor = self.editor
        if isinstance(editor, QComboBox):
            if editor.isEditable():
                return editor.currentText()
            data = editor.currentData()
            return "" if data is None else str(data)
        if isinstance(editor, QCheckBox):
            return CHECKED if editor.isChecked() else ""
        if isinstance(editor, QLineEdit):
            return editor.text()
        return ""

    def set_text(self, value: str) -> None:
        editor = self.editor
        if isinstance(editor, QComboBox):
            idx = editor.findData(value)
            if idx < 0 and value:
                idx = editor.findText(value)
            if idx >= 0 and not (editor.isEditable() and value == ""):
                editor.setCurrentIndex(idx)
            elif editor.isEditable():
                editor.setCurrentIndex(-1)
                editor.setEditText(value)
        elif isinstance(editor, QCheckBox):
            editor.setChecked(value not in ("", "0", "False", "false"))
        elif isinstance(editor, QLineEdit):
            editor.setText(value)

    def set_errors(self, messages: Sequence[str]) -> None:
        self.errors = list(messages)
        self.error.show_messages(messages)
        self.editor.setToolTip("\n".join([self.spec.label, *messages, *self.fill_lines()]))
        self.canvas.update()

    # -- machine fill --------------------------------------------------------------------------

    def set_filled(
        self, source: str, confidence: float | None, crop: QImage | None, note: str | None = None
    ) -> None:
        """Mark the value as put in by ``source`` (tinted by ``confidence``, ``crop`` on hover)."""
        self.source = source
        self.confidence = confidence
        self.tint = tint_for(confidence) if confidence is not None else None
        self.crop = crop
        self.note = note
        self.editor.setToolTip("\n".join([self.spec.label, *self.errors, *self.fill_lines()]))
        self._paint_background()

    def clear_fill(self) -> None:
        """The clerk took over the value: no tint, no crop."""
        self.source = self.confidence = self.tint = self.crop = self.note = None
        self.editor.setToolTip("\n".join([self.spec.label, *self.errors]))
        self._paint_background()

    def confirm(self) -> None:
        """The clerk edited a machine-filled value: the tint goes, the scan crop stays to compare."""
        if self.tint is not None:
            self.tint = None
            self._paint_background()

    def fill_lines(self) -> list[str]:
        lines = []
        if self.source:
            how = TINT_LABELS[self.tint] if self.tint else "入力済み"
            conf = f" {self.confidence:.0%}" if self.confidence is not None else ""
            lines.append(f"{self.source}から{how}{conf}")
        if self.note:
            lines.append(self.note)
        return lines

    def _paint_background(self) -> None:
        if isinstance(self.editor, IvsLineEdit):
            self.editor.set_background(TINTS[self.tint] if self.tint else QColor("white"))
        self.canvas.update()

    def state(self) -> tuple[str, Tint | None, float | None, str | None, str | None, QImage | None]:
        return (self.text(), self.tint, self.confidence, self.source, self.note, self.crop)

    def apply_state(
        self, state: tuple[str, Tint | None, float | None, str | None, str | None, QImage | None]
    ) -> None:
        text, tint, confidence, source, note, crop = state
        self.set_text(text)
        if source is None:
            self.clear_fill()
        else:
            self.set_filled(source, confidence, crop, note)
            self.tint = tint
            self._paint_background()


class FormCanvas(QWidget):
    """Draws a :class:`CanvasModel` and holds one :class:`BoxField` per field of it."""

    #: The clerk changed a value (typed, chose, ticked): key of the field.
    field_edited = Signal(str)

    def __init__(self, model: CanvasModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAutoFillBackground(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.model = model
        self.zoom = 1.0
        self.kind: str | None = None
        self.fields: dict[str, BoxField] = {}
        self.handles: list[QWidget] = []
        self.font_family = paper_font_family()
        # the scan crop of the field under the mouse or the focus, with where it came from
        self.crop_view = QFrame(self)
        self.crop_view.setObjectName("crop")
        self.crop_view.setStyleSheet("#crop { background: white; border: 2px solid #1e64dc; }")
        self.crop_view.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.crop_image = QLabel(self.crop_view)
        self.crop_text = QLabel(self.crop_view)
        self.crop_text.setStyleSheet("color: #333; font-size: 9pt;")
        self.crop_text.setWordWrap(True)
        box = QVBoxLayout(self.crop_view)
        box.setContentsMargins(3, 3, 3, 3)
        box.setSpacing(2)
        box.addWidget(self.crop_image)
        box.addWidget(self.crop_text)
        self.crop_view.hide()
        self.crop_key: str | None = None
        self._hovered: str | None = None
        self.set_model(model)

    # -- model and geometry --------------------------------------------------------------------

    def px(self, mm: float) -> int:
        return round(mm * PX_PER_MM * self.zoom)

    def rect_px(self, r: Rect) -> QRectF:
        s = PX_PER_MM * self.zoom
        return QRectF(r.x * s, r.y * s, r.w * s, r.h * s)

    def set_model(self, model: CanvasModel) -> None:
        """Show ``model``: fields whose key stays keep their editor (and value); others come and go."""
        self.model = model
        wanted = {f.key: f for f in model.fields}
        for key in [k for k in self.fields if k not in wanted]:
            field = self.fields.pop(key)
            for w in (field.editor, field.hint, field.error):
                if w is not None:
                    w.hide()
                    w.deleteLater()
        for key, spec in wanted.items():
            existing = self.fields.get(key)
            if existing is None:
                existing = BoxField(spec, self)
                self.fields[key] = existing
                self._watch(existing)
            existing.spec = spec
        # keep the dict in Tab order
        self.fields = {k: self.fields[k] for k in wanted}
        self.relayout()

    def _watch(self, field: BoxField) -> None:
        editor = field.editor
        editor.installEventFilter(self)
        key = field.spec.key

        def edited(*_: object) -> None:
            f = self.fields.get(key)
            if f is not None and f.editor is editor:
                f.confirm()
                self.field_edited.emit(key)

        if isinstance(editor, QLineEdit):
            editor.textEdited.connect(edited)
        elif isinstance(editor, QComboBox):
            editor.activated.connect(edited)
            line = editor.lineEdit() if editor.isEditable() else None
            if line is not None:
                line.textEdited.connect(edited)
                line.installEventFilter(self)
        elif isinstance(editor, QCheckBox):
            editor.clicked.connect(edited)

    def set_zoom(self, zoom: float) -> None:
        self.zoom = max(0.3, min(3.0, zoom))
        self.relayout()

    def relayout(self) -> None:
        self.setFixedSize(self.px(self.model.width_mm), self.px(self.model.height_mm))
        for field in self.fields.values():
            self._place(field)
        self._place_crop()
        self.update()

    def _place(self, field: BoxField) -> None:
        spec = field.spec
        r = self.rect_px(spec.rect)
        max_h = PX_PER_MM * self.zoom * MAX_EDITOR_MM
        editor = field.editor
        editor.show()  # a child made after the canvas was shown stays hidden (and out of Tab) otherwise
        font = QFont(self.font_family)
        if isinstance(editor, QCheckBox):
            # the tick box in the corner; the ○ the form prints is painted in the middle
            size = editor.sizeHint()
            editor.setGeometry(round(r.x() + 2), round(r.y() + 2), size.width() + 2, size.height() + 2)
            return
        h = min(r.height(), max_h)
        if spec.kind == "date" and field.hint is not None:
            hint_h = r.height() - h
            if hint_h >= 12:
                field.hint.setGeometry(
                    round(r.x()), round(r.y() + h), round(r.width()), round(min(hint_h, 20))
                )
                field.hint.setFont(QFont(font))
                fit_font(field.hint)
                field.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
                field.hint.show()
                y = r.y()
            else:
                field.hint.hide()
                y = r.y() + (r.height() - h) / 2
        else:
            y = r.y() + (r.height() - h) / 2
        wanted_px = spec.font_pt * PT_TO_MM * PX_PER_MM * self.zoom
        font.setPixelSize(max(8, round(min(wanted_px, h * 0.66))))
        if isinstance(editor, QComboBox) and not editor.isEditable():
            # a fixed choice in a narrow box (性別 at 80 %): its longest item must fit beside the arrow
            room = r.width() - COMBO_CHROME_PX
            widest = max((editor.itemText(i) for i in range(editor.count())), key=len, default="")
            width = QFontMetrics(font).horizontalAdvance(widest)
            if widest and width > room > 0:
                font.setPixelSize(max(7, int(font.pixelSize() * room / width)))
        editor.setFont(font)
        editor.setGeometry(round(r.x()), round(y), max(8, round(r.width())), max(8, round(h)))
        box = spec.box or spec.rect
        b = self.rect_px(box)
        field.error.setMaximumWidth(max(round(b.width()), self.px(70)))
        field.error.move(round(b.x()), round(b.y() + b.height() - 1))
        if field.errors:
            field.error.adjustSize()
            field.error.raise_()

    def place_handle(self, widget: QWidget, index: int) -> None:
        """Put a person's handle widget (its 削除 button) in its 欄外 box."""
        if index >= len(self.model.person_handles):
            widget.hide()
            return
        r = self.rect_px(self.model.person_handles[index])
        pad = self.px(3.6)
        widget.setGeometry(
            round(r.x() + 3), round(r.y() + pad), round(r.width() - 6), round(r.height() - pad - 3)
        )
        widget.show()

    def set_kind(self, kind: str) -> None:
        self.kind = kind
        self.update()

    # -- crops on hover / focus ------------------------------------------------------------------

    def key_of(self, widget: QObject) -> str | None:
        for key, field in self.fields.items():
            editor = field.editor
            if widget is editor or (field.line is not None and widget is field.line):
                return key
        return None

    def show_crop(self, key: str | None) -> None:
        """Show the scan crop of ``key`` under its box (hide with None or a field without crop)."""
        field = self.fields.get(key) if key else None
        if field is None or field.crop is None or field.crop.isNull():
            self.crop_key = None
            self.crop_view.hide()
            return
        pixmap = QPixmap.fromImage(field.crop)
        if pixmap.width() > CROP_MAX_PX:
            pixmap = pixmap.scaledToWidth(CROP_MAX_PX, Qt.TransformationMode.SmoothTransformation)
        self.crop_image.setPixmap(pixmap)
        self.crop_text.setText("\n".join(field.fill_lines()))
        self.crop_text.setMaximumWidth(max(pixmap.width(), 240))
        self.crop_view.adjustSize()
        self.crop_key = key
        self._place_crop()
        self.crop_view.show()
        self.crop_view.raise_()

    def _place_crop(self) -> None:
        if self.crop_key is None or self.crop_key not in self.fields:
            return
        spec = self.fields[self.crop_key].spec
        b = self.rect_px(spec.box or spec.rect)
        x = min(max(0, round(b.x())), max(0, self.width() - self.crop_view.width()))
        y = round(b.y() + b.height() + 2)
        if y + self.crop_view.height() > self.height():
            y = round(b.y() - self.crop_view.height() - 2)
        self.crop_view.move(x, max(0, y))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        etype = event.type()
        if etype in (QEvent.Type.Enter, QEvent.Type.FocusIn):
            key = self.key_of(watched)
            if etype == QEvent.Type.Enter:
                self._hovered = key
            if key is not None:
                self.show_crop(key)
            if etype == QEvent.Type.FocusIn:
                self.update()
        elif etype in (QEvent.Type.Leave, QEvent.Type.FocusOut):
            key = self.key_of(watched)
            if etype == QEvent.Type.Leave:
                self._hovered = None
            focused = self.focus_key()
            self.show_crop(
                self._hovered or (focused if focused != key or etype == QEvent.Type.Leave else None)
            )
            self.update()
        elif etype == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            plain = event.modifiers() in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
            popup_open = isinstance(watched, QComboBox) and watched.view().isVisible()
            enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            if plain and enter and not popup_open and isinstance(watched, QWidget):
                # Enter moves on like Tab, as on the paper form; it never submits half a form.
                watched.focusNextChild()
                return True
        return super().eventFilter(watched, event)

    def focus_key(self) -> str | None:
        for key, field in self.fields.items():
            editor = field.editor
            if editor.hasFocus() or (field.line is not None and field.line.hasFocus()):
                return key
        return None

    # -- painting --------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        p.fillRect(self.rect(), DESK_COLOUR)
        s = PX_PER_MM * self.zoom
        for d in self.model.decorations:
            r = self.rect_px(d.rect)
            if d.kind == "sheet":
                p.fillRect(r.translated(3, 3), QColor(150, 150, 160))
                p.fillRect(r, QColor("white"))
            elif d.kind == "box":
                p.setPen(QPen(INK, max(1.0, d.line_width_pt * PT_TO_MM * s)))
                p.drawRect(r)
            elif d.kind == "line":
                p.setPen(QPen(INK, max(1.0, d.line_width_pt * PT_TO_MM * s)))
                p.drawLine(QPointF(r.left(), r.top()), QPointF(r.right(), r.bottom()))
            elif d.kind == "caption":
                self._text(p, r, d.text, 6.5, "left", top=True, min_px=CAPTION_MIN_PX, colour=CAPTION_INK)
            elif d.kind == "text":
                self._text(p, r, d.text, d.font_pt, d.align, vertical=d.vertical)
        for kb in self.model.kind_boxes:
            if kb.kind == self.kind:
                self._text(p, self.rect_px(kb.rect), kb.mark, 14, "center", colour=QColor(20, 60, 160))
        focus = self.focus_key()
        for key, field in self.fields.items():
            r = self.rect_px(field.spec.rect)
            if field.tint is not None:
                p.fillRect(r, TINTS[field.tint])
            elif self.kind and unused_for(self.kind, key) and not field.text():
                p.fillRect(r, UNUSED_BRUSH)
            if field.errors:
                p.setPen(QPen(ERROR_COLOUR, 2))
                p.drawRect(r.adjusted(1, 1, -1, -1))
            if field.spec.kind == "check" and field.text():
                self._text(p, r, "○", field.spec.font_pt, "center")
            if key == focus:
                p.setPen(QPen(FOCUS_COLOUR, 2))
                p.drawRect(r.adjusted(1, 1, -1, -1))
        p.end()

    def _text(
        self,
        p: QPainter,
        r: QRectF,
        text: str,
        size_pt: float,
        align: str,
        *,
        top: bool = False,
        vertical: bool = False,
        colour: QColor = INK,
        min_px: int = 5,
    ) -> None:
        font = QFont(self.font_family)
        px = size_pt * PT_TO_MM * PX_PER_MM * self.zoom
        lines = text.split("\n")
        if vertical:
            px = min(px, r.height() / max(1, len(text)))
            text = "\n".join(text)
            lines = text.split("\n")
        font.setPixelSize(max(min_px, round(px)))
        p.setFont(font)
        metrics = p.fontMetrics()
        widest = max((metrics.horizontalAdvance(line) for line in lines), default=0)
        if widest > r.width() - 4 and widest > 0 and not vertical:
            font.setPixelSize(max(5, round(px * (r.width() - 4) / widest)))
            p.setFont(font)
        p.setPen(colour)
        flags = {"center": Qt.AlignmentFlag.AlignHCenter, "right": Qt.AlignmentFlag.AlignRight}.get(
            align, Qt.AlignmentFlag.AlignLeft
        )
        flags |= Qt.AlignmentFlag.AlignTop if top else Qt.AlignmentFlag.AlignVCenter
        p.drawText(r.adjusted(2, 0, -2, 0), int(flags), text)
