"""Schema of ``form_templates/print/<id>.yaml`` (print layouts of forms and certificates).

A layout is the paper form as data (spec 000 ⑥): the paper size, the ruled boxes and fixed
captions of the printed form, and the fields filled from the data model. Positions are in
millimetres from the top-left corner of the paper. A changed form or paper size is an edit of the
YAML file, never of code.

- :class:`PrintField` — one printed item: a value from the data (``source`` or ``sources``) or a
  fixed ``text``; ``border`` draws its box and ``caption`` the small printed label in its corner.
- :class:`Rule` — a ruled line or box of the form (罫線).
- :class:`PrintRows` — the repeated rows of a table (異動者 1–4): fields and rules whose ``source``
  is relative to one element of a list; more elements than ``max_rows`` print on further pages.
- ``kinds`` / ``print_when`` — for which notices the form is printed (e.g. 国民健康保険 異動届
  only when somebody moving is insured).
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from shared.errors import invalid
from shared.schemas._common import FIELD_NAME, SLUG, _check_path, _Data

PAPER_MM: dict[str, tuple[float, float]] = {"A4": (210, 297), "A3": (297, 420), "B5": (182, 257)}

#: Values of ``MovementNotice.kind`` a layout can list in ``kinds``.
MOVEMENT_KINDS = (
    "move_in",
    "move_in_special",
    "move_in_from_abroad",
    "move_within",
    "move_out",
    "householder_change",
    "household_split",
    "household_merge",
    "ex_officio",
)
MovementKindName = Literal[
    "move_in",
    "move_in_special",
    "move_in_from_abroad",
    "move_within",
    "move_out",
    "householder_change",
    "household_split",
    "household_merge",
    "ex_officio",
]


class Font(_Data):
    family: str = Field("IPAmj明朝", description="every printed form uses IPAmj明朝 (DESIGN §3)")
    size_pt: float = Field(10.5, gt=0, le=72)


class Rule(_Data):
    """A ruled box (``box``) or a straight line from (x, y) to (x + width, y + height) (``line``)."""

    kind: Literal["box", "line"] = "box"
    x_mm: float = Field(ge=0)
    y_mm: float = Field(ge=0)
    width_mm: float = Field(ge=0)
    height_mm: float = Field(ge=0)
    line_width_pt: float = Field(0.6, gt=0, le=5)


class PrintField(_Data):
    """One printed item: a value from the data (``source`` / ``sources``) or a fixed ``text``."""

    name: str = Field(pattern=FIELD_NAME)
    source: str | None = Field(None, description="path in the data model (persons[0].family_name)")
    sources: list[str] | None = Field(
        None, min_length=1, description="several paths printed joined by ``separator`` (氏 + 名)"
    )
    separator: str = Field("　", description="between the values of ``sources``")
    text: str | None = Field(None, description="fixed text printed as is")
    caption: str | None = Field(None, description="small label printed in the top-left corner of the box")
    border: bool = Field(False, description="draw the field's box")
    x_mm: float = Field(ge=0)
    y_mm: float = Field(ge=0)
    width_mm: float = Field(gt=0)
    height_mm: float = Field(gt=0)
    font_size_pt: float | None = Field(None, gt=0, le=72)
    align: Literal["left", "center", "right"] = "left"
    vertical: bool = False
    format: Literal["text", "wareki", "date", "digits", "checkbox", "label", "address"] = Field(
        "text",
        description=(
            "text: as stored; wareki: 和暦 date (令和6年4月1日); date: 西暦 (2024年4月1日); digits: one "
            "character per equal cell across the width; checkbox: ``mark`` when the value is true or "
            "equals ``equals``; label: the value looked up in ``labels``; address: an address on one line"
        ),
    )
    equals: str | None = Field(None, description="checkbox: checked when the value equals this")
    mark: str = Field("レ", description="checkbox: what is printed when checked")
    labels: dict[str, str] | None = Field(None, description="label: stored value → printed text")
    shrink_to_fit: bool = True

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        given = [v for v in (self.source, self.sources, self.text) if v is not None]
        if len(given) != 1:
            raise invalid(
                "layout.source_or_text", "source・sources・text のどれか一つだけを指定してください。"
            )
        if self.format == "label" and not self.labels:
            raise invalid("layout.labels_required", "format: label には labels を指定してください。")
        return self

    def paths(self) -> list[str]:
        """The data paths this field reads."""
        if self.source is not None:
            return [self.source]
        return list(self.sources or [])


class PrintRows(_Data):
    """Repeated rows of a table: row ``i`` is drawn shifted by ``i`` × (step_x_mm, step_y_mm)."""

    name: str = Field(pattern=FIELD_NAME)
    source: str = Field(description="the list in the data model (persons)")
    max_rows: int = Field(ge=1, le=50, description="rows on one page; more elements go on further pages")
    step_x_mm: float = 0
    step_y_mm: float = 0
    fields: list[PrintField] = Field(min_length=1, description="``source`` relative to one element")
    rules: list[Rule] = Field(default_factory=list)


class PrintLayout(_Data):
    """``form_templates/print/<id>.yaml``."""

    id: str = Field(pattern=SLUG, description="= the file name")
    label: str = Field(description="帳票名")
    department: str | None = Field(None, description="担当課 (市民課, 保険年金課 …)")
    example: bool = Field(False, description="a first example, not a form in use")
    paper: Literal["A4", "A3", "B5"] = "A4"
    orientation: Literal["portrait", "landscape"] = "portrait"
    font: Font = Field(default_factory=Font)
    data_model: Literal["movement_notice"] = "movement_notice"
    kinds: list[MovementKindName] = Field(
        default_factory=list, description="届出の種類 for which the form is printed (empty: all)"
    )
    print_when: str | None = Field(
        None, description="a path whose value must be true (with [] any element) for the form to be printed"
    )
    rules: list[Rule] = Field(default_factory=list)
    fields: list[PrintField] = Field(min_length=1)
    rows: list[PrintRows] = Field(default_factory=list)

    def page_mm(self) -> tuple[float, float]:
        """(width, height) of the page in mm, after orientation."""
        w, h = PAPER_MM[self.paper]
        return (h, w) if self.orientation == "landscape" else (w, h)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        w, h = self.page_mm()
        names = [f.name for f in self.fields] + [r.name for r in self.rows]
        names += [f"{r.name}.{f.name}" for r in self.rows for f in r.fields]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise invalid("layout.duplicate_field", "項目名が重複しています: {names}", names=", ".join(dupes))

        def inside(name: str, x: float, y: float, fw: float, fh: float) -> None:
            if x + fw > w + 0.01 or y + fh > h + 0.01:
                raise invalid(
                    "layout.outside_paper", "項目「{field}」が用紙の外にはみ出しています。", field=name
                )

        for f in self.fields:
            inside(f.name, f.x_mm, f.y_mm, f.width_mm, f.height_mm)
            for path in f.paths():
                _check_path(self.data_model, path)
        for i, r in enumerate(self.rules):
            inside(f"rules[{i}]", r.x_mm, r.y_mm, r.width_mm, r.height_mm)
        for rows in self.rows:
            _check_path(self.data_model, f"{rows.source}[]")
            dx, dy = rows.step_x_mm * (rows.max_rows - 1), rows.step_y_mm * (rows.max_rows - 1)
            for f in rows.fields:
                inside(f"{rows.name}.{f.name}", f.x_mm + dx, f.y_mm + dy, f.width_mm, f.height_mm)
                for path in f.paths():
                    _check_path(self.data_model, f"{rows.source}[].{path}")
            for i, r in enumerate(rows.rules):
                inside(f"{rows.name}.rules[{i}]", r.x_mm + dx, r.y_mm + dy, r.width_mm, r.height_mm)
        if self.print_when is not None:
            _check_path(self.data_model, self.print_when)
        return self
