"""OCR fixtures: the shipped templates and the real Tesseract engine, loaded once per session."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from client.core.ocr.engines.base import OcrEngine
from client.core.ocr.pipeline import shared_engine
from client.core.ocr.templates import TemplateStore, default_store

FIXED = Path(__file__).resolve().parents[2] / "data" / "ocr" / "fixed"


@dataclass(frozen=True)
class Page:
    """One page of the fixed set and its truth."""

    path: Path
    truth: dict[str, object]

    @property
    def fields(self) -> dict[str, str]:
        return self.truth["fields"]  # type: ignore[return-value]


def fixed_pages() -> list[Page]:
    return [
        Page(p, json.loads(p.with_suffix(".json").read_text(encoding="utf-8")))
        for p in sorted(FIXED.glob("*.jpg"))
    ]


@pytest.fixture(scope="session")
def store() -> TemplateStore:
    return default_store()


@pytest.fixture(scope="session")
def engine() -> OcrEngine:
    engine = shared_engine()
    check = engine.check()
    assert check.ok, check.message  # real Tesseract is part of the client, not optional
    return engine
