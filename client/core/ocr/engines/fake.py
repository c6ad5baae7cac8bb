"""Fake OCR engine: returns the text of a ``.txt`` file next to the image (the test's truth), or
a fixed answer for zone images (settings ``answer``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from shared.plugins import CheckResult

from .base import OcrEngine, OcrResult, ReadRequest
from .registry import registry


@registry.register
class FakeOcrEngine(OcrEngine):
    plugin_id = "fake"
    label = "テスト用OCR（正解テキストを返す）"
    is_fake = True

    def __init__(self, answer: str = "", **settings: Any) -> None:
        super().__init__(**settings)
        self.answer = answer

    def read(self, image: np.ndarray, request: ReadRequest) -> OcrResult:
        return OcrResult(self.answer, 1.0 if self.answer else 0.0)

    def recognize(self, image: Path, *, language: str = "jpn") -> OcrResult:
        truth = image.with_suffix(".txt")
        if truth.is_file():
            return OcrResult(truth.read_text(encoding="utf-8").strip(), 1.0)
        return OcrResult("", 0.0)

    def check(self) -> CheckResult:
        return CheckResult(True, "テスト用OCRです（画像と同名の .txt を読みます）。")
