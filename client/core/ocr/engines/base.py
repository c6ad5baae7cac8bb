"""The OCR engine contract: text of one image zone with a confidence."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.plugins import Plugin


@dataclass(frozen=True)
class OcrResult:
    text: str
    confidence: float  # 0.0–1.0


class OcrEngine(Plugin):
    def __init__(self, **settings: Any) -> None:
        self.settings = settings

    def recognize(self, image: Path, *, language: str = "jpn") -> OcrResult:
        raise NotImplementedError
