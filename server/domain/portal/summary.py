"""What a resident (and staff) read back: each entered value as text, labelled, in form order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.schemas.eform import EformField, EformFieldType, EformProcedure
from shared.text.wareki import format_wareki

T = EformFieldType


@dataclass(frozen=True)
class Item:
    label: str
    value: str
    anchor: str
    path: str


def display(f: EformField, value: Any, files: Mapping[str, Any]) -> str:
    """A clean value as text (option labels, 和暦 dates, file names; 個人番号 never)."""
    if value in (None, "", []):
        return "（未入力）"
    if f.type == T.my_number:
        return "入力済み（表示しません）"
    if f.type in (T.select, T.radio):
        return next((o.label for o in f.options if o.value == value), str(value))
    if f.type == T.checkbox:
        labels = {o.value: o.label for o in f.options}
        return "、".join(labels.get(v, "はい" if v == "on" else v) for v in value)
    if f.type == T.date:
        d = date.fromisoformat(value)
        return format_wareki(d) if f.wareki else f"{d.year}年{d.month}月{d.day}日"
    if f.type == T.file:
        stored = files.get(str(value))
        return getattr(stored, "filename", "添付あり")
    return str(value)


def summary_of(definition: EformProcedure, values: Mapping[str, Any], files: Mapping[str, Any]) -> list[Item]:
    """Visible fields with their values (hidden ones are absent from ``values``)."""
    items: list[Item] = []
    for f in definition.fields:
        if f.type == T.heading or f.name not in values:
            continue
        if f.type == T.group:
            for i, item in enumerate(values[f.name]):
                for c in f.fields:
                    if c.name in item:
                        path = f"{f.name}.{i}.{c.name}"
                        items.append(
                            Item(
                                f"{f.label} {i + 1}件目 {c.label}",
                                display(c, item[c.name], files),
                                "f-" + path.replace(".", "-"),
                                path,
                            )
                        )
            continue
        items.append(Item(f.label, display(f, values[f.name], files), f"f-{f.name}", f.name))
    return items
