"""The OCR engine contract: the text of one image zone with a confidence.

An engine separates "is it installed and usable" (:meth:`OcrEngine.check`, which names the version
and languages) from "run it" (:meth:`OcrEngine.read`). Engines keep their models loaded between
calls: the pipeline creates one engine per process and reads every zone through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shared.plugins import Plugin


@dataclass(frozen=True)
class OcrResult:
    """What an engine read in one zone."""

    text: str
    confidence: float  # 0.0–1.0


@dataclass(frozen=True)
class ReadRequest:
    """How to read one zone (from the template's ReadingSettings)."""

    language: str = "jpn"
    psm: int = 7
    whitelist: str | None = None


class OcrEngine(Plugin):
    #: The engine reads grey levels well (a neural recogniser): a zone that failed validation is
    #: read again from its grey crop before another engine is asked.
    reads_grey = False

    def __init__(self, **settings: Any) -> None:
        self.settings = settings

    def read(self, image: np.ndarray, request: ReadRequest) -> OcrResult:
        """Read a greyscale (uint8, black text on white) zone image."""
        raise NotImplementedError

    def recognize(self, image: Path, *, language: str = "jpn") -> OcrResult:
        """Read a whole image file as one block of text."""
        from PIL import Image

        with Image.open(image) as im:
            grey = np.asarray(im.convert("L"))
        return self.read(grey, ReadRequest(language=language, psm=6))
