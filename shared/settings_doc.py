"""Render a pydantic-settings class as a Markdown table: the operator's reference of every setting.

Both the server's and the client's settings keep their documentation in field docstrings
(``use_attribute_docstrings=True``); ``docs/gen_settings.py`` writes ``docs/settings.md`` from them
and a test keeps it current.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined


def _default(field: Any) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
        if not isinstance(value, list | dict | tuple):
            return "(自動: 端末ごとに決まる)"
    elif field.default is PydanticUndefined:
        return "(必須)"
    else:
        value = field.default
    if value in ("", None):
        return "(空)"
    return f"`{value}`"


def render_class(title: str, cls: type[BaseModel], prefix: str) -> str:
    lines = [f"## {title}", "", "| 環境変数 | 既定値 | 説明 |", "|---|---|---|"]
    for name, field in cls.model_fields.items():
        text = " ".join((field.description or "").split()).replace("|", "\\|")
        lines.append(f"| `{prefix}{name.upper()}` | {_default(field)} | {text} |")
    return "\n".join(lines) + "\n"
