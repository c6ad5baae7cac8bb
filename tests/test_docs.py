"""Documentation that is generated from code stays current."""

from __future__ import annotations

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GEN = runpy.run_path(str(ROOT / "docs" / "gen_settings.py"))


def test_settings_doc_is_current() -> None:
    """docs/settings.md equals what the settings docstrings render (python docs/gen_settings.py)."""
    assert GEN["DOC_PATH"].read_text(encoding="utf-8") == GEN["render_all"]()


def test_every_setting_documented() -> None:
    """No settings field lacks its explanation."""
    rows = [line for line in GEN["render_all"]().splitlines() if line.startswith("| `MADOGUCHI_")]
    assert rows and all(not line.rstrip().endswith("|  |") for line in rows)
