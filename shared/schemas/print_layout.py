"""Schema of ``form_templates/print/<id>.yaml`` (print layouts of forms and certificates)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from shared.errors import invalid
from shared.schemas._common import FIELD_NAME, SLUG, _check_path, _Data

PAPER_MM: dict[str, tuple[float, float]] = {"A4": (210, 297), "A3": (297, 420), "B5": (182, 257)}


class Font(_Data):
    family: str = Field("IPAmj明朝", description="every printed form uses IPAmj明朝 (DESIGN §3)")
    size_pt: float = Field(10.5, gt=0, le=72)


class PrintField(_Data):
    """One printed item: a value from the data (``source``) or a fixed ``text``."""

    name: str = Field(pattern=FIELD_NAME)
    source: str | None = Field(None, description="path in the data model (persons[0].family_name)")
    text: str | None = Field(None, description="fixed text printed as is")
    x_mm: float = Field(ge=0)
    y_mm: float = Field(ge=0)
    width_mm: float = Field(gt=0)
    height_mm: float = Field(gt=0)
    font_size_pt: float | None = Field(None, gt=0, le=72)
    align: Literal["left", "center", "right"] = "left"
    vertical: bool = False
    format: Literal["text", "wareki", "date", "digits", "checkbox"] = "text"
    shrink_to_fit: bool = True

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.source is None) == (self.text is None):
            raise invalid("layout.source_or_text", "source と text のどちらか一方だけを指定してください。")
        return self


class PrintLayout(_Data):
    """``form_templates/print/<id>.yaml``."""

    id: str = Field(pattern=SLUG, description="= the file name")
    label: str = Field(description="帳票名")
    example: bool = Field(False, description="a first example, not a form in use")
    paper: Literal["A4", "A3", "B5"] = "A4"
    orientation: Literal["portrait", "landscape"] = "portrait"
    font: Font = Field(default_factory=Font)
    data_model: Literal["movement_notice"] = "movement_notice"
    fields: list[PrintField] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        w, h = PAPER_MM[self.paper]
        if self.orientation == "landscape":
            w, h = h, w
        names = [f.name for f in self.fields]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise invalid("layout.duplicate_field", "項目名が重複しています: {names}", names=", ".join(dupes))
        for f in self.fields:
            if f.x_mm + f.width_mm > w or f.y_mm + f.height_mm > h:
                raise invalid(
                    "layout.outside_paper", "項目「{field}」が用紙の外にはみ出しています。", field=f.name
                )
            if f.source is not None:
                _check_path(self.data_model, f.source)
        return self
