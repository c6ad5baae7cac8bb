"""Schema of ``form_templates/eforms/<slug>.yaml`` (online procedure definitions)."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from shared.errors import invalid
from shared.schemas._common import FIELD_NAME, SLUG, _Data


class EformFieldType(StrEnum):
    text = "text"
    textarea = "textarea"
    number = "number"
    date = "date"
    email = "email"
    tel = "tel"
    postal_code = "postal_code"
    address = "address"
    select = "select"
    radio = "radio"
    checkbox = "checkbox"
    file = "file"


class Option(_Data):
    value: str = Field(min_length=1)
    label: str = Field(min_length=1)


class EformField(_Data):
    name: str = Field(pattern=FIELD_NAME)
    label: str = Field(min_length=1)
    type: EformFieldType
    required: bool = False
    help: str | None = None
    options: list[Option] = Field(default_factory=list, description="for select / radio / checkbox")
    max_length: int | None = Field(None, gt=0)
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _options(self) -> Self:
        needs = self.type in (EformFieldType.select, EformFieldType.radio)
        if needs and not self.options:
            raise invalid(
                "eform.options_required",
                "選択肢の項目「{field}」に options を指定してください。",
                field=self.name,
            )
        if self.options and self.type not in (
            EformFieldType.select,
            EformFieldType.radio,
            EformFieldType.checkbox,
        ):
            raise invalid(
                "eform.options_not_allowed", "項目「{field}」には options は指定できません。", field=self.name
            )
        return self


class EformProcedure(_Data):
    """``form_templates/eforms/<slug>.yaml``: a first version of an online procedure form."""

    slug: str = Field(pattern=SLUG, description="= the file name; the procedure's URL part")
    title: str = Field(min_length=1, description="手続名")
    description: str = Field("", description="説明 (shown above the form)")
    example: bool = Field(False, description="a first example, not a procedure in use")
    fields: list[EformField] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        names = [f.name for f in self.fields]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise invalid("eform.duplicate_field", "項目名が重複しています: {names}", names=", ".join(dupes))
        return self
