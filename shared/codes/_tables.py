"""Reading the code tables shipped in ``shared/codes/data/`` (TSV, ``#`` comment lines first)."""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources


@cache
def read_tsv(name: str) -> tuple[dict[str, str], ...]:
    """The rows of ``data/<name>`` as dicts keyed by the header line; comment lines are skipped."""
    text = resources.files("shared.codes").joinpath("data", name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    header = lines[0].split("\t")
    rows: list[dict[str, str]] = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(header):
            raise ValueError(f"{name}: data line {number} has {len(cells)} cells, expected {len(header)}")
        rows.append(dict(zip(header, cells, strict=True)))
    return tuple(rows)


def lookup_key(text: str) -> str:
    """NFKC, no spaces or 中黒: how a typed or OCR'd label is matched against a table's label."""
    s = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in s if ch not in " \u3000\t・･")
