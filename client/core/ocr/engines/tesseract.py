"""Tesseract through ``tesserocr``: the model stays loaded (≈ 35 ms per field instead of ≈ 300 ms
for a new ``tesseract`` process per call, D_ocr_cards.md §0).

One ``PyTessBaseAPI`` is kept per (language, psm). ``tessdata`` is looked up in
``settings["tessdata"]``, ``TESSDATA_PREFIX`` and the Debian / Windows install folders.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from shared.errors import DeviceError
from shared.plugins import CheckResult

from .base import OcrEngine, OcrResult, ReadRequest
from .registry import registry

TESSDATA_CANDIDATES = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "C:/Program Files/Tesseract-OCR/tessdata",
)
LANGUAGES = {"jpn": "jpn", "jpn_vert": "jpn_vert", "eng": "eng", "digits": "jpn"}


def find_tessdata(explicit: str | None = None) -> Path | None:
    """The first folder holding ``jpn.traineddata``."""
    for candidate in (explicit, os.environ.get("TESSDATA_PREFIX"), *TESSDATA_CANDIDATES):
        if candidate and (Path(candidate) / "jpn.traineddata").is_file():
            return Path(candidate)
    return None


@registry.register
class TesseractEngine(OcrEngine):
    """Settings: ``tessdata`` (folder with the ``.traineddata`` files)."""

    plugin_id = "tesseract"
    label = "Tesseract OCR（tesserocr）"

    def __init__(self, tessdata: str | None = None, **settings: Any) -> None:
        super().__init__(**settings)
        self.tessdata = find_tessdata(tessdata)
        self._apis: dict[tuple[str, int], Any] = {}

    def check(self) -> CheckResult:
        """Installed and usable: tesserocr imports, tessdata has jpn, the version is known."""
        try:
            import tesserocr
        except ImportError:
            return CheckResult(
                False, "tesserocr がインストールされていません。クライアントを再インストールしてください。"
            )
        if self.tessdata is None:
            return CheckResult(False, "Tesseract の日本語データ (jpn.traineddata) が見つかりません。")
        _, languages = tesserocr.get_languages(str(self.tessdata))
        version = tesserocr.tesseract_version().split()[1]
        return CheckResult(
            True,
            f"Tesseract {version} を利用できます。",
            {"version": version, "tessdata": str(self.tessdata), "languages": ",".join(sorted(languages))},
        )

    def _api(self, language: str, psm: int) -> Any:
        key = (language, psm)
        api = self._apis.get(key)
        if api is None:
            import tesserocr

            if self.tessdata is None:
                raise DeviceError(
                    "Tesseract の日本語データが見つかりません。管理者に連絡してください。",
                    code="ocr.engine_missing",
                )
            try:
                api = tesserocr.PyTessBaseAPI(
                    path=str(self.tessdata), lang=LANGUAGES[language], psm=psm, oem=tesserocr.OEM.LSTM_ONLY
                )
            except RuntimeError as exc:
                raise DeviceError(
                    f"Tesseract の言語データ「{language}」を読み込めません。", code="ocr.language_missing"
                ) from exc
            api.SetVariable("user_defined_dpi", "300")
            self._apis[key] = api
        return api

    def read(self, image: np.ndarray, request: ReadRequest) -> OcrResult:
        from PIL import Image

        api = self._api(request.language, request.psm)
        api.SetVariable("tessedit_char_whitelist", request.whitelist or "")
        api.SetImage(Image.fromarray(image))
        api.Recognize()
        text = api.GetUTF8Text().strip()
        confidence = api.MeanTextConf() / 100.0
        return OcrResult(text, max(0.0, confidence))

    def close(self) -> None:
        for api in self._apis.values():
            api.End()
        self._apis.clear()
