"""The print layouts of ``form_templates/print/``, loaded and validated once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from shared.schemas.print_layout import PrintLayout
from shared.yamlfile import load_yaml

from .errors import LayoutNotFound

LAYOUT_DIR = Path(__file__).resolve().parents[3] / "form_templates" / "print"


@cache
def load_layouts(folder: Path = LAYOUT_DIR) -> dict[str, PrintLayout]:
    """Every layout in ``folder`` by id (examples included), validated by the schema."""
    layouts: dict[str, PrintLayout] = {}
    for path in sorted(folder.glob("*.yaml")):
        layout = PrintLayout.model_validate(load_yaml(path.read_text(encoding="utf-8")))
        layouts[layout.id] = layout
    return layouts


def get_layout(layout_id: str, folder: Path = LAYOUT_DIR) -> PrintLayout:
    try:
        return load_layouts(folder)[layout_id]
    except KeyError:
        raise LayoutNotFound(f"帳票の様式「{layout_id}」がありません。") from None
