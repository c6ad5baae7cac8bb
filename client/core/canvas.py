"""The document canvas (帳票キャンバス), Qt-free: the 住民異動届 as the clerk sees it on screen.

:func:`build_canvas` reads the print layout (``form_templates/print/movement-notice.yaml``, the
same data the form is printed from) and derives what the counter screen draws and edits:

- the decorations of the paper form (its ruled lines and boxes, fixed texts, captions), page by
  page (異動者 beyond ``max_rows`` continue on a further sheet, as when printed);
- the editable fields (:class:`CanvasField`): each box of the layout that prints data becomes one
  or more fields keyed by the dotted names of the counter's raw values (``new_address.town``,
  ``persons.0.family_name``); a box printing several values (氏 + 名) or an address is split into
  one field per part;
- the fields of the notice that the paper form does not print (個人番号, the items of foreign
  residents), placed in a band under the sheets (欄外), one line per 異動者;
- the Tab order: the paper form read as it is written — the form line by line, top to bottom and
  left to right; inside the table of 異動者 row by row, column by column and top to bottom within
  a column (フリガナ before 氏名); parts of a split box left to right; then the 欄外 band.

Positions are in millimetres from the top-left of the canvas (sheet 1 at the origin).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from shared.models.movement_notice import MOVEMENT_KIND_LABELS, MovementKind
from shared.schemas.print_layout import PrintField, PrintLayout

#: The print layout the counter's canvas is drawn from.
NOTICE_LAYOUT_ID = "movement-notice"
#: Gap between sheets and before the 欄外 band (mm).
PAGE_GAP_MM = 8.0
#: Height of a caption printed in the top-left corner of a box (mm); editors start under it.
CAPTION_MM = 3.2
#: One 欄外 line per 異動者 (mm).
EXTRA_ROW_MM = 15.0
EXTRA_HEAD_MM = 8.0

V = TypeVar("V")
FieldKind = Literal["text", "date", "choice", "editable_choice", "check"]
Choice = tuple[str, str]

#: A choice is (label, stored value); the empty choice stores "" — never None, because PySide6
#: 6.12 on CPython 3.11 drops a reference to None each time it hands a None item value back.
#: Japanese label of each last part of a raw key (shown in messages and to screen readers).
PART_LABELS: dict[str, str] = {
    "kind": "届出の種類",
    "notified_on": "届出日",
    "moved_on": "異動日",
    "name": "届出人 氏名",
    "standing": "届出人の資格",
    "phone": "連絡先電話番号",
    "identity_document": "本人確認書類",
    "postal_code": "郵便番号",
    "prefecture": "都道府県",
    "municipality": "市区町村",
    "town": "町字",
    "block_number": "番地号",
    "building": "方書",
    "new_householder": "新世帯主",
    "old_householder": "旧世帯主",
    "whole_household": "世帯の全部・一部",
    "confirmation_number": "確認番号",
    "memo": "備考",
    "family_name": "氏",
    "given_name": "名",
    "family_name_kana": "フリガナ（氏）",
    "given_name_kana": "フリガナ（名）",
    "birth_date": "生年月日",
    "sex": "性別",
    "relationship": "続柄",
    "resident_code": "住民票コード",
    "domicile": "本籍",
    "register_head": "筆頭者",
    "national_health_insurance": "国保",
    "long_term_care": "介護",
    "national_pension": "年金",
    "child_allowance": "児童手当",
    "my_number": "個人番号",
    "is_foreign": "外国人住民",
    "roman_name": "ローマ字氏名",
    "nationality": "国籍・地域",
    "residence_category": "区分（法30条の45）",
    "residence_status": "在留資格",
    "period_of_stay": "在留期間",
    "stay_expiry_date": "満了日",
    "residence_card_number": "在留カード等の番号",
}
GROUP_LABELS = {"new_address": "新住所", "old_address": "従前の住所", "destination": "転出先"}

#: Address parts as the standard stores them, and their share of the address box: line 1
#: 都道府県・市区町村・町字・番地号, line 2 方書 (郵便番号 has its own box on the form).
ADDRESS_LINE_1: tuple[tuple[str, float], ...] = (
    ("prefecture", 0.14),
    ("municipality", 0.22),
    ("town", 0.34),
    ("block_number", 0.30),
)
RELATIONSHIPS: tuple[Choice, ...] = tuple(
    (r, r) for r in ("世帯主", "妻", "夫", "子", "父", "母", "子の妻", "子の子", "同居人", "縁故者")
)
#: "選択" (not "（選択）"): the 性別 box is about 8 mm wide, 33 px at 80 % zoom.
SEXES: tuple[Choice, ...] = (("選択", ""), ("男", "1"), ("女", "2"))
RESIDENCE_CATEGORIES: tuple[Choice, ...] = (
    ("", ""),
    ("中長期在留者", "mid_long_term"),
    ("特別永住者", "special_permanent"),
    ("一時庇護許可者", "temporary_refuge"),
    ("仮滞在許可者", "provisional_stay"),
    ("経過滞在者", "transitional_stay"),
)
FOREIGN: tuple[Choice, ...] = (("日本人", ""), ("外国人", "1"))
CHECKED = "1"

#: The 欄外 band: items of a 異動者 the paper form does not print, with their widths (mm).
EXTRA_PARTS: tuple[tuple[str, FieldKind, float], ...] = (
    ("my_number", "text", 40),
    ("is_foreign", "choice", 26),
    ("roman_name", "text", 62),
    ("nationality", "text", 24),
    ("residence_category", "choice", 40),
    ("residence_status", "text", 58),
    ("period_of_stay", "text", 22),
    ("stay_expiry_date", "date", 42),
    ("residence_card_number", "text", 40),
)
EXTRA_HANDLE_MM = 20.0

#: 持参書類: what the resident is expected to bring for each 届出の種類 (the screen's check list).
DOCUMENTS: dict[str, str] = {
    "identity": "本人確認書類",
    "move_out_certificate": "転出証明書",
    "my_number_card": "マイナンバーカード",
    "residence_card": "在留カード等",
    "passport": "旅券",
    "power_of_attorney": "委任状",
    "family_register": "戸籍謄本等",
}
EXPECTED_DOCUMENTS: dict[MovementKind, tuple[str, ...]] = {
    MovementKind.move_in: ("identity", "move_out_certificate", "my_number_card"),
    MovementKind.move_in_special: ("identity", "my_number_card"),
    MovementKind.move_in_from_abroad: ("identity", "passport", "family_register"),
    MovementKind.move_within: ("identity", "my_number_card"),
    MovementKind.move_out: ("identity",),
    MovementKind.householder_change: ("identity",),
    MovementKind.household_split: ("identity",),
    MovementKind.household_merge: ("identity",),
    MovementKind.ex_officio: (),
}
#: Boxes a procedure leaves empty (greyed on the canvas, still editable): the 転出先 is only for
#: 転出, the 新住所 not for it; the 住民票コード column is printed 「転入のみ」.
_MOVE_INS = (MovementKind.move_in, MovementKind.move_in_special)


def unused_for(kind: str, key: str) -> bool:
    """Whether the field ``key`` is one the procedure ``kind`` does not use (a hint, not a rule)."""
    k = MovementKind(kind)
    if key.startswith("destination."):
        return k is not MovementKind.move_out
    if key.startswith("new_address."):
        return k is MovementKind.move_out
    if key.endswith(".resident_code") and key.startswith("persons."):
        return k not in _MOVE_INS
    return False


KIND_CHOICES: tuple[Choice, ...] = tuple((MOVEMENT_KIND_LABELS[k], k.value) for k in MovementKind)


@dataclass(frozen=True)
class Rect:
    """A box in mm from the canvas's top-left."""

    x: float
    y: float
    w: float
    h: float

    def shifted(self, dx: float = 0.0, dy: float = 0.0) -> Rect:
        return Rect(self.x + dx, self.y + dy, self.w, self.h)

    def overlaps(self, other: Rect) -> bool:
        """More than half of the smaller box lies inside the other."""
        ox = min(self.x + self.w, other.x + other.w) - max(self.x, other.x)
        oy = min(self.y + self.h, other.y + other.h) - max(self.y, other.y)
        if ox <= 0 or oy <= 0:
            return False
        return ox * oy > 0.5 * min(self.w * self.h, other.w * other.h)

    def contains(self, other: Rect) -> bool:
        e = 0.01
        return (
            other.x >= self.x - e
            and other.y >= self.y - e
            and other.x + other.w <= self.x + self.w + e
            and other.y + other.h <= self.y + self.h + e
        )


@dataclass(frozen=True)
class CanvasField:
    """One editable item: its raw key, where its editor goes, what kind of editor."""

    key: str
    label: str
    rect: Rect
    kind: FieldKind = "text"
    choices: tuple[Choice, ...] = ()
    max_length: int = 200
    font_pt: float = 11.0
    align: Literal["left", "center", "right"] = "left"
    person: int | None = None
    on_paper: bool = True
    #: The box of the paper form the field belongs to (a split box's parts share it).
    box: Rect | None = None


@dataclass(frozen=True)
class Decoration:
    """Something drawn, not edited: a sheet, a ruled box or line, a fixed text, a caption."""

    kind: Literal["sheet", "box", "line", "text", "caption"]
    rect: Rect
    text: str = ""
    font_pt: float = 11.0
    line_width_pt: float = 0.6
    align: Literal["left", "center", "right"] = "left"
    vertical: bool = False


@dataclass(frozen=True)
class KindBox:
    """A 届出の種類 box of the form: marked when the notice is of this kind."""

    kind: str
    rect: Rect
    mark: str


@dataclass
class CanvasModel:
    """Everything the canvas draws and edits for a notice with ``persons`` 異動者."""

    width_mm: float
    height_mm: float
    sheet_mm: tuple[float, float]
    sheets: int
    persons: int
    fields: list[CanvasField]
    decorations: list[Decoration]
    kind_boxes: list[KindBox]
    #: Where each 異動者's handle (the 欄外 label with its 削除 button) goes.
    person_handles: list[Rect] = field(default_factory=list)

    def field(self, key: str) -> CanvasField:
        return next(f for f in self.fields if f.key == key)

    def keys(self) -> list[str]:
        """Raw keys in Tab order."""
        return [f.key for f in self.fields]


def part_label(key: str) -> str:
    """``persons.1.family_name`` → 「異動者2 氏」; ``new_address.town`` → 「新住所 町字」."""
    parts = key.split(".")
    last = PART_LABELS.get(parts[-1], parts[-1])
    if parts[0] == "persons" and len(parts) > 2 and parts[1].isdigit():
        return f"異動者{int(parts[1]) + 1} {last}"
    if parts[0] in GROUP_LABELS and len(parts) > 1:
        return f"{GROUP_LABELS[parts[0]]} {last}"
    return last


def _key(path: str) -> str:
    """A layout path (``insurance.national_health_insurance``) as a raw key."""
    return re.sub(r"\[(\d+)\]", r".\1", path)


def _inner(pf: PrintField, rect: Rect) -> Rect:
    top = CAPTION_MM if pf.caption else 0.0
    pad = 0.5
    return Rect(rect.x + pad, rect.y + top + pad, rect.w - 2 * pad, rect.h - top - 2 * pad)


def _fields_of(pf: PrintField, rect: Rect, prefix: str, person: int | None) -> list[CanvasField]:
    """The editable fields one box of the layout holds (none for fixed text and kind boxes)."""
    if pf.text is not None or (pf.format == "checkbox" and pf.equals is not None):
        return []
    inner = _inner(pf, rect)
    size = pf.font_size_pt or 11.0

    def make(path: str, r: Rect, kind: FieldKind = "text", **kw: object) -> CanvasField:
        key = prefix + _key(path)
        return CanvasField(
            key=key,
            label=part_label(key),
            rect=r,
            kind=kind,
            font_pt=size,
            person=person,
            box=rect,
            **kw,  # type: ignore[arg-type]
        )

    if pf.format == "address" and pf.source is not None:
        line_h = inner.h / 2
        out = []
        x = inner.x
        for part, share in ADDRESS_LINE_1:
            w = inner.w * share
            out.append(make(f"{pf.source}.{part}", Rect(x, inner.y, w, line_h), max_length=100))
            x += w
        out.append(make(f"{pf.source}.building", Rect(inner.x, inner.y + line_h, inner.w, line_h)))
        return out
    if pf.sources:
        w = inner.w / len(pf.sources)
        return [
            make(path, Rect(inner.x + i * w, inner.y, w, inner.h), max_length=100)
            for i, path in enumerate(pf.sources)
        ]
    assert pf.source is not None
    last = pf.source.split(".")[-1]
    if pf.format in ("wareki", "date"):
        return [make(pf.source, inner, "date", max_length=30, align=pf.align)]
    if pf.format == "checkbox":
        return [make(pf.source, inner, "check", align="center")]
    if pf.format == "label":
        labels = pf.labels or {}
        choices: tuple[Choice, ...] = tuple((label, value) for value, label in labels.items())
        if last == "sex":
            choices = SEXES
        elif last != "standing":
            choices = (("", ""), *choices)
        return [make(pf.source, inner, "choice", choices=choices, align=pf.align)]
    if last == "relationship":
        return [make(pf.source, inner, "editable_choice", choices=RELATIONSHIPS, align=pf.align)]
    max_length = 20 if last in ("phone", "postal_code", "resident_code", "confirmation_number") else 200
    return [make(pf.source, inner, "text", max_length=max_length, align=pf.align)]


def _decorations_of(pf: PrintField, rect: Rect, base_pt: float) -> list[Decoration]:
    out: list[Decoration] = []
    if pf.border:
        out.append(Decoration("box", rect))
    if pf.caption:
        out.append(
            Decoration("caption", Rect(rect.x + 0.8, rect.y + 0.3, rect.w - 1.6, CAPTION_MM), pf.caption)
        )
    if pf.text is not None and pf.text.strip():
        top = CAPTION_MM if pf.caption else 0.0
        out.append(
            Decoration(
                "text",
                Rect(rect.x, rect.y + top, rect.w, rect.h - top),
                pf.text,
                font_pt=pf.font_size_pt or base_pt,
                align=pf.align,
                vertical=pf.vertical,
            )
        )
    return out


def _paper_order(fields: list[CanvasField], column_wise: bool) -> list[CanvasField]:
    """Sort boxes as the form is read; the parts of one box keep their own order."""
    boxes: dict[Rect, list[CanvasField]] = {}
    for f in fields:
        boxes.setdefault(f.box or f.rect, []).append(f)
    if column_wise:
        ordered = sorted(boxes, key=lambda r: (round(r.x, 1), round(r.y, 1)))
    else:
        ordered = sorted(boxes, key=lambda r: (round(r.y, 1), round(r.x, 1)))
    return [f for r in ordered for f in boxes[r]]


def build_canvas(layout: PrintLayout, persons: int = 1) -> CanvasModel:
    """The canvas of ``layout`` for ``persons`` 異動者 (at least one)."""
    persons = max(1, persons)
    sheet_w, sheet_h = layout.page_mm()
    per_sheet = min((r.max_rows for r in layout.rows), default=persons) or persons
    sheets = max(1, -(-persons // per_sheet)) if layout.rows else 1
    base_pt = layout.font.size_pt
    decorations: list[Decoration] = []
    kind_boxes: list[KindBox] = []
    top_fields: list[CanvasField] = []
    row_fields: dict[int, list[CanvasField]] = {}
    spill: dict[int, list[str]] = {}

    for sheet in range(sheets):
        dy = sheet * (sheet_h + PAGE_GAP_MM)
        decorations.append(Decoration("sheet", Rect(0, dy, sheet_w, sheet_h)))
        for rule in layout.rules:
            r = Rect(rule.x_mm, rule.y_mm + dy, rule.width_mm, rule.height_mm)
            decorations.append(Decoration(rule.kind, r, line_width_pt=rule.line_width_pt))
        for pf in layout.fields:
            rect = Rect(pf.x_mm, pf.y_mm + dy, pf.width_mm, pf.height_mm)
            decorations += _decorations_of(pf, rect, base_pt)
            if pf.format == "checkbox" and pf.equals is not None:
                kind_boxes.append(KindBox(pf.equals, rect, pf.mark))
            elif sheet == 0:
                top_fields += _fields_of(pf, rect, "", None)
        for rows in layout.rows:
            for i in range(rows.max_rows):
                index = sheet * rows.max_rows + i
                rdx, rdy = rows.step_x_mm * i, rows.step_y_mm * i + dy
                for rule in rows.rules:
                    r = Rect(rule.x_mm + rdx, rule.y_mm + rdy, rule.width_mm, rule.height_mm)
                    decorations.append(Decoration(rule.kind, r, line_width_pt=rule.line_width_pt))
                placed: list[CanvasField] = []
                for pf in rows.fields:
                    rect = Rect(pf.x_mm + rdx, pf.y_mm + rdy, pf.width_mm, pf.height_mm)
                    if any(rect.overlaps(p.box or p.rect) for p in placed):
                        # a second item printed in the same box (ローマ字氏名 over 氏名): edited in the 欄外
                        spill.setdefault(index, []).extend(pf.paths())
                        continue
                    decorations += _decorations_of(pf, rect, base_pt)
                    if index < persons:
                        placed += _fields_of(pf, rect, f"{rows.source}.{index}.", index)
                if index < persons:
                    row_fields[index] = placed

    fields = _paper_order(top_fields, column_wise=False)
    for index in sorted(row_fields):
        fields += _paper_order(row_fields[index], column_wise=True)

    # 欄外: per person, the items the paper does not print
    y = sheets * (sheet_h + PAGE_GAP_MM)
    band_h = EXTRA_HEAD_MM + persons * EXTRA_ROW_MM + 2
    decorations.append(Decoration("sheet", Rect(0, y, sheet_w, band_h)))
    decorations.append(
        Decoration(
            "text",
            Rect(8, y, sheet_w - 16, EXTRA_HEAD_MM),
            "欄外（用紙に印刷しない項目）",
            font_pt=10,
        )
    )
    y += EXTRA_HEAD_MM
    handles: list[Rect] = []
    on_paper = {f.key for f in fields}
    for index in range(persons):
        x = 8.0
        handle = Rect(x, y, EXTRA_HANDLE_MM, EXTRA_ROW_MM)
        handles.append(handle)
        decorations.append(Decoration("box", handle))
        decorations.append(
            Decoration("caption", Rect(x + 0.8, y + 0.3, EXTRA_HANDLE_MM, CAPTION_MM), f"異動者{index + 1}")
        )
        x += EXTRA_HANDLE_MM
        for part, kind, width in EXTRA_PARTS:
            key = f"persons.{index}.{part}"
            rect = Rect(x, y, width, EXTRA_ROW_MM)
            x += width
            if key in on_paper:
                continue
            decorations.append(Decoration("box", rect))
            decorations.append(
                Decoration(
                    "caption", Rect(rect.x + 0.8, rect.y + 0.3, width - 1.6, CAPTION_MM), PART_LABELS[part]
                )
            )
            choices = {"is_foreign": FOREIGN, "residence_category": RESIDENCE_CATEGORIES}.get(part, ())
            fields.append(
                CanvasField(
                    key=key,
                    label=part_label(key),
                    rect=Rect(
                        rect.x + 0.5, rect.y + CAPTION_MM + 0.5, width - 1, EXTRA_ROW_MM - CAPTION_MM - 1
                    ),
                    kind=kind,
                    choices=choices,
                    max_length=30 if kind == "date" else 20 if part == "my_number" else 200,
                    font_pt=10.5,
                    person=index,
                    on_paper=False,
                    box=rect,
                )
            )
        y += EXTRA_ROW_MM
    return CanvasModel(
        width_mm=sheet_w,
        height_mm=y + 16,  # room for a message under the last line
        sheet_mm=(sheet_w, sheet_h),
        sheets=sheets,
        persons=persons,
        fields=fields,
        decorations=decorations,
        kind_boxes=kind_boxes,
        person_handles=handles,
    )


def notice_layout() -> PrintLayout:
    """The 住民異動届 print layout the canvas is drawn from."""
    from client.core.print.layouts import get_layout

    return get_layout(NOTICE_LAYOUT_ID)


# ---------------------------------------------------------------------------------------------
# Raw values ↔ the nested strings build_notice reads

PERSON_FLAGS = ("is_foreign",)
INSURANCE = "insurance."


def person_keys(values: Mapping[str, str]) -> set[int]:
    """The person indexes that appear in raw keys."""
    out: set[int] = set()
    for key in values:
        parts = key.split(".")
        if parts[0] == "persons" and len(parts) > 2 and parts[1].isdigit():
            out.add(int(parts[1]))
    return out


def nest(values: Mapping[str, str], persons: int) -> dict[str, object]:
    """Raw values (dotted keys, strings) → the nested dict :func:`client.core.reception.build_notice`
    validates. Check boxes become booleans; a person's ``is_foreign`` is true for ``"1"``."""
    out: dict[str, object] = {"persons": [{} for _ in range(persons)]}
    people: list[dict[str, object]] = out["persons"]  # type: ignore[assignment]
    for key, value in values.items():
        parts = key.split(".")
        if key in ("documents",):
            continue
        if parts[0] == "persons":
            if len(parts) < 3 or not parts[1].isdigit() or int(parts[1]) >= persons:
                continue
            person = people[int(parts[1])]
            rest = parts[2:]
            if rest[0] == "insurance" and len(rest) == 2:
                insurance = person.setdefault("insurance", {})
                assert isinstance(insurance, dict)
                insurance[rest[1]] = value == CHECKED
            elif rest[0] in PERSON_FLAGS:
                person[rest[0]] = value == CHECKED
            else:
                person[rest[0]] = value
            continue
        if key == "whole_household":
            out[key] = None if value == "" else value == "True"
            continue
        node: dict[str, object] = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            assert isinstance(child, dict)
            node = child
        node[parts[-1]] = value
    return out


def flatten(data: Mapping[str, object], prefix: str = "") -> dict[str, str]:
    """A nested partial notice (the OCR mapping's output) → raw keys and their strings."""
    out: dict[str, str] = {}
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{key}."))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, Mapping):
                    out.update(flatten(item, f"{key}.{i}."))
        elif isinstance(value, bool):
            out[key] = CHECKED if value else ""
        elif value is not None:
            out[key] = str(value)
    return out


# ---------------------------------------------------------------------------------------------
# How sure a machine-filled value is

Tint = Literal["high", "check", "low"]
#: Confidence from which a read value is shown as 高 (likely right) and from which as 要確認.
HIGH_CONFIDENCE = 0.85
CHECK_CONFIDENCE = 0.6
TINT_LABELS: dict[Tint, str] = {
    "high": "読取（確度 高）",
    "check": "読取（要確認）",
    "low": "読取（確度 低）",
}


def tint_for(confidence: float) -> Tint:
    """The tint of a machine-filled field: high ≥ 0.85 > check ≥ 0.6 > low."""
    if confidence >= HIGH_CONFIDENCE:
        return "high"
    if confidence >= CHECK_CONFIDENCE:
        return "check"
    return "low"


def move_person(values: Mapping[str, V], source: int, target: int) -> dict[str, V]:
    """Re-key one person's raw values from index ``source`` to ``target`` (other keys as they are)."""
    out: dict[str, V] = {}
    for key, value in values.items():
        parts = key.split(".")
        if parts[0] == "persons" and len(parts) > 2 and parts[1] == str(source):
            key = ".".join(["persons", str(target), *parts[2:]])
        out[key] = value
    return out


def documents_text(documents: Iterable[str]) -> str:
    """The expected documents as stored in the raw values (ids joined by commas, in table order)."""
    chosen = set(documents)
    return ",".join(d for d in DOCUMENTS if d in chosen)
