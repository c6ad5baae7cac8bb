"""CSV export of applications with chosen columns and readable (Japanese) headers.

UTF-8 with BOM (Excel opens it correctly) or Shift_JIS (CP932, for older tools); characters that
CP932 cannot hold (variation selectors, rare kanji) become 〓 rather than failing the export.
個人番号 is never exported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from server.domain.portal.summary import display
from shared.schemas.eform import APPLICANT_FIELD as SCHEMA_APPLICANT_FIELD
from shared.schemas.eform import EformFieldType, EformProcedure

BASE_COLUMNS: dict[str, str] = {
    "reference": "申請番号",
    "status": "状態",
    "applicant_type": "申請者の属性",
    "submitted_at": "申請日時",
    "email": "メールアドレス",
    "amount": "決済金額",
}


APPLICANT_TYPE_LABELS = {"individual": "個人", "corporation": "法人", "group": "団体"}
#: The field in which the applicant chose 個人 / 法人 / 団体 (the builder's APPLICANT_FIELD).
APPLICANT_FIELD = SCHEMA_APPLICANT_FIELD


def applicant_type_of(definition: EformProcedure, values: Mapping[str, Any]) -> str | None:
    """個人 / 法人 / 団体 of one application (see ``EformProcedure.applicant_type_of``)."""
    kind = definition.applicant_type_of(values)
    return kind.value if kind is not None else None


@dataclass(frozen=True)
class Row:
    base: Mapping[str, Any]
    values: Mapping[str, Any]
    files: Mapping[str, Any]


def columns_of(definition: EformProcedure) -> dict[str, str]:
    """Every exportable column: id → header."""
    cols = dict(BASE_COLUMNS)
    for f in definition.fields:
        if f.type in (EformFieldType.heading, EformFieldType.my_number):
            continue
        cols[f"f.{f.name}"] = f.label
    return cols


def _cell(definition: EformProcedure, column: str, row: Row) -> str:
    if not column.startswith("f."):
        value = row.base.get(column)
        return "" if value is None else str(value)
    f = definition.field(column[2:])
    if f is None or f.name not in row.values:
        return ""
    value = row.values[f.name]
    if f.type == EformFieldType.group:
        parts = []
        for item in value:
            parts.append(" / ".join(display(c, item[c.name], row.files) for c in f.fields if c.name in item))
        return "；".join(parts)
    return display(f, value, row.files)


def to_csv(definition: EformProcedure, columns: Iterable[str], rows: Iterable[Row], encoding: str) -> bytes:
    """The CSV bytes: ``utf-8`` (with BOM) or ``sjis`` (CP932)."""
    known = columns_of(definition)
    chosen = [c for c in columns if c in known] or list(known)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([known[c] for c in chosen])
    for row in rows:
        writer.writerow([_cell(definition, c, row) for c in chosen])
    text = out.getvalue()
    if encoding == "sjis":
        return "".join(_cp932(ch) for ch in text).encode("cp932")
    return ("\ufeff" + text).encode("utf-8")


def _cp932(ch: str) -> str:
    if "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef":
        return ""
    try:
        ch.encode("cp932")
    except UnicodeEncodeError:
        return "〓"
    return ch
