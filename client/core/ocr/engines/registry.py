"""Registry of OCR engines; lists every module holding an implementation."""

from __future__ import annotations

from shared.plugins import Registry

from .base import OcrEngine

registry: Registry[OcrEngine] = Registry(
    "ocr_engine",
    modules=[
        "client.core.ocr.engines.fake",
        "client.core.ocr.engines.tesseract",
        "client.core.ocr.engines.ppocr",
    ],
)

#: The engine the pipeline uses unless the station profile names another.
DEFAULT_ENGINE = "tesseract"
