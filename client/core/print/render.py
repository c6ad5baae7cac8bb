"""Render a print layout (``form_templates/print/<id>.yaml``) filled from a 住民異動届 into PDF.

Qt-free; reportlab draws, IPAmj明朝 (see :mod:`client.core.print.fonts`) is the only font and is
embedded as a subset. One page per ``max_rows`` persons when the layout has rows (異動者 5人目から
continue on a second sheet). Dates print in 和暦 where the layout asks for it.

The story of :func:`render_layout`: page size → for each page: rules, fixed fields, data fields,
rows → save. Every text goes through :meth:`MjFont.encode`, so a character the font cannot draw
stops the rendering with a Japanese error naming the field.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from shared.models.movement_notice import Address, MovementNotice
from shared.schemas.print_layout import PrintField, PrintLayout, PrintRows, Rule
from shared.text.wareki import format_wareki

from .fonts import MjFont, mj_font

_PART = re.compile(r"^(?P<name>[a-z_][a-z0-9_]*)(?:\[(?P<index>\d*)\])?$")
CAPTION_PT = 6.0
MIN_PT = 5.0


def resolve(obj: Any, path: str) -> Any:
    """The value at ``path`` (``persons[0].family_name``); ``[]`` gives the list of values."""
    current: Any = obj
    for i, part in enumerate(path.split(".")):
        m = _PART.match(part)
        if m is None or current is None:
            return None
        current = getattr(current, m["name"], None)
        if m["index"] is None or current is None:
            continue
        if m["index"] == "":
            rest = ".".join(path.split(".")[i + 1 :])
            return [resolve(item, rest) if rest else item for item in current]
        index = int(m["index"])
        current = current[index] if index < len(current) else None
    return current


def is_true(value: Any) -> bool:
    """A ``print_when`` value: a list is true when any element is."""
    if isinstance(value, list):
        return any(is_true(v) for v in value)
    return bool(value)


def applies(layout: PrintLayout, notice: MovementNotice) -> bool:
    """Whether the form is printed for this notice (``kinds`` and ``print_when`` of the layout)."""
    if layout.kinds and notice.kind.value not in layout.kinds:
        return False
    return layout.print_when is None or is_true(resolve(notice, layout.print_when))


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "有" if value else ""
    if hasattr(value, "value") and hasattr(value, "name"):  # an Enum
        label = getattr(value, "label", None)
        return str(label if isinstance(label, str) else value.value)
    if isinstance(value, date):
        return format_wareki(value)
    if isinstance(value, Address):
        return value.one_line()
    if isinstance(value, BaseModel):
        return ""
    return str(value)


def field_text(field: PrintField, data: Any) -> str:
    """What ``field`` prints for ``data`` (the notice, or one element of a row's list)."""
    if field.text is not None:
        return field.text
    values = [resolve(data, p) for p in field.paths()]
    value = values[0]
    match field.format:
        case "wareki":
            return format_wareki(value) if isinstance(value, date) else _plain(value)
        case "date":
            return f"{value.year}年{value.month}月{value.day}日" if isinstance(value, date) else ""
        case "checkbox":
            raw = getattr(value, "value", value)
            checked = str(raw) == field.equals if field.equals is not None else bool(value)
            return field.mark if checked else ""
        case "label":
            raw = getattr(value, "value", value)
            return (field.labels or {}).get("" if raw is None else str(raw), "")
        case "address":
            return value.one_line() if isinstance(value, Address) else _plain(value)
    return field.separator.join(t for t in (_plain(v) for v in values) if t)


class _Page:
    """One page being drawn: converts mm from the top-left into reportlab points."""

    def __init__(self, canvas: Canvas, font: MjFont, height_mm: float, size_pt: float) -> None:
        self.c = canvas
        self.font = font
        self.height_mm = height_mm
        self.size_pt = size_pt

    def y(self, y_mm: float) -> float:
        return float((self.height_mm - y_mm) * mm)

    def rule(self, rule: Rule, dx: float = 0, dy: float = 0) -> None:
        self.c.setLineWidth(rule.line_width_pt)
        x, y = rule.x_mm + dx, rule.y_mm + dy
        if rule.kind == "box":
            self.c.rect(x * mm, self.y(y + rule.height_mm), rule.width_mm * mm, rule.height_mm * mm)
        else:
            self.c.line(x * mm, self.y(y), (x + rule.width_mm) * mm, self.y(y + rule.height_mm))

    def text(self, field: PrintField, text: str, dx: float = 0, dy: float = 0) -> None:
        x, y = field.x_mm + dx, field.y_mm + dy
        w, h = field.width_mm, field.height_mm
        if field.border:
            self.c.setLineWidth(0.6)
            self.c.rect(x * mm, self.y(y + h), w * mm, h * mm)
        top_pad = 0.0
        if field.caption:
            cap = self.font.encode(field.caption, what=field.name)
            self.c.setFont(self.font.name, CAPTION_PT)
            self.c.drawString((x + 0.8) * mm, self.y(y) - CAPTION_PT - 0.6, cap)
            top_pad = (CAPTION_PT + 1.5) / mm
        if not text:
            return
        encoded = self.font.encode(text, what=field.name)
        size = field.font_size_pt or self.size_pt
        if field.vertical:
            self._vertical(encoded, size, x, y + top_pad, w, h - top_pad)
            return
        if field.format == "digits":
            self._digits(encoded, size, x, y + top_pad, w, h - top_pad)
            return
        lines = encoded.split("\n")
        pad = 1.0 * mm
        avail = w * mm - 2 * pad
        widest = max(self.font.width(line, size) for line in lines)
        if field.shrink_to_fit and widest > avail:
            size = max(MIN_PT, size * avail / widest)
        line_h = size * 1.15
        block = line_h * len(lines)
        inner_top = self.y(y) - top_pad * mm
        inner_h = (h - top_pad) * mm
        first_baseline = inner_top - (inner_h - block) / 2 - size * 0.88
        self.c.setFont(self.font.name, size)
        for i, line in enumerate(lines):
            baseline = first_baseline - i * line_h
            if field.align == "center":
                self.c.drawCentredString((x + w / 2) * mm, baseline, line)
            elif field.align == "right":
                self.c.drawRightString((x + w) * mm - pad, baseline, line)
            else:
                self.c.drawString(x * mm + pad, baseline, line)

    def _digits(self, encoded: str, size: float, x: float, y: float, w: float, h: float) -> None:
        cell = w / max(len(encoded), 1)
        size = min(size, cell * mm * 0.9)
        self.c.setFont(self.font.name, size)
        baseline = self.y(y) - (h * mm - size) / 2 - size * 0.88
        for i, ch in enumerate(encoded):
            self.c.drawCentredString((x + cell * (i + 0.5)) * mm, baseline, ch)

    def _vertical(self, encoded: str, size: float, x: float, y: float, w: float, h: float) -> None:
        size = min(size, h * mm / max(len(encoded), 1))
        self.c.setFont(self.font.name, size)
        for i, ch in enumerate(encoded):
            self.c.drawCentredString((x + w / 2) * mm, self.y(y) - size * (i + 0.88), ch)


def _pages(layout: PrintLayout, notice: MovementNotice) -> int:
    pages = 1
    for rows in layout.rows:
        items = resolve(notice, rows.source) or []
        pages = max(pages, -(-len(items) // rows.max_rows))
    return pages


def _draw_rows(page: _Page, rows: PrintRows, items: Sequence[Any]) -> None:
    for i in range(rows.max_rows):
        dx, dy = rows.step_x_mm * i, rows.step_y_mm * i
        for rule in rows.rules:
            page.rule(rule, dx, dy)
        item = items[i] if i < len(items) else None
        for field in rows.fields:
            text = field.text if field.text is not None else (field_text(field, item) if item else "")
            page.text(field, text or "", dx, dy)


def render_layout(layout: PrintLayout, notice: MovementNotice, *, font: MjFont | None = None) -> bytes:
    """The PDF of ``layout`` filled from ``notice``."""
    font = font or mj_font()
    width_mm, height_mm = layout.page_mm()
    out = io.BytesIO()
    canvas = Canvas(
        out,
        pagesize=(width_mm * mm, height_mm * mm),
        initialFontName=font.name,
        initialFontSize=layout.font.size_pt,
        pageCompression=1,
    )
    canvas.setTitle(layout.label)
    canvas.setAuthor("Madoguchi")
    canvas.setCreator("Madoguchi client.core.print")
    for page_no in range(_pages(layout, notice)):
        page = _Page(canvas, font, height_mm, layout.font.size_pt)
        for rule in layout.rules:
            page.rule(rule)
        for field in layout.fields:
            page.text(field, field_text(field, notice))
        for rows in layout.rows:
            items = list(resolve(notice, rows.source) or [])
            _draw_rows(page, rows, items[page_no * rows.max_rows : (page_no + 1) * rows.max_rows])
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def all_texts(layout: PrintLayout, notice: MovementNotice) -> Iterable[str]:
    """Every non-empty text the layout prints for ``notice`` (for tests and previews)."""
    for field in layout.fields:
        text = field_text(field, notice)
        if text:
            yield text
    for rows in layout.rows:
        for item in resolve(notice, rows.source) or []:
            for field in rows.fields:
                text = field_text(field, item)
                if text:
                    yield text
