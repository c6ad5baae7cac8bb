"""Registry of OCR engines; lists every module holding an implementation."""

from __future__ import annotations

from shared.plugins import Registry

from .base import OcrEngine

registry: Registry[OcrEngine] = Registry("ocr_engine", modules=["client.core.ocr.engines.fake"])
