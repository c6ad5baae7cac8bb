"""Paths into a pydantic model, as templates and layouts write them: ``persons[].family_name``.

A path is field names joined by ``.``; a list field is followed by ``[]`` (any/each element) or
``[N]`` (one element, N ≥ 0). :func:`check_model_path` says whether a path names a field of the
model, so that a template cannot point at a field that does not exist.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any, Union

from pydantic import BaseModel

_PART = re.compile(r"^(?P<name>[a-z_][a-z0-9_]*)(?P<index>\[\d*\])?$")


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and Optional (X | None) around a type."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


def check_model_path(model: type[BaseModel], path: str) -> str | None:
    """None if ``path`` names a field of ``model``; otherwise a Japanese reason."""
    current: Any = model
    parts = path.split(".")
    for i, part in enumerate(parts):
        m = _PART.match(part)
        if m is None:
            return f"項目の指定「{path}」の形式が正しくありません（例: persons[].family_name）。"
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return f"項目の指定「{path}」の「{'.'.join(parts[:i])}」には下位の項目がありません。"
        field = current.model_fields.get(m["name"])
        if field is None:
            return f"項目の指定「{path}」の「{m['name']}」は{current.__name__}にありません。"
        annotation = _unwrap(field.annotation)
        is_list = typing.get_origin(annotation) is list
        if m["index"] is not None:
            if not is_list:
                return f"項目の指定「{path}」の「{m['name']}」は一覧ではないので[]は付けられません。"
            annotation = _unwrap(typing.get_args(annotation)[0])
        elif is_list and i < len(parts) - 1:
            return f"項目の指定「{path}」の「{m['name']}」は一覧です。[] または [番号] を付けてください。"
        current = annotation
    return None
