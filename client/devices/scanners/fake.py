"""Fake scanner: returns the image files of a folder as if they had just been scanned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.plugins import CheckResult

from .base import ScannedPage, Scanner
from .registry import registry

IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
}


@registry.register
class FakeScanner(Scanner):
    """Settings: ``folder`` (the images to return, in name order)."""

    plugin_id = "fake"
    label = "テスト用スキャナー（フォルダーの画像）"
    is_fake = True

    def __init__(self, folder: str | Path | None = None, **settings: Any) -> None:
        super().__init__(**settings)
        self.folder = Path(folder) if folder else None

    def _images(self) -> list[Path]:
        if self.folder is None or not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_TYPES)

    def scan(self) -> list[ScannedPage]:
        return [ScannedPage(p, IMAGE_TYPES[p.suffix.lower()]) for p in self._images()]

    def check(self) -> CheckResult:
        if self.folder is None:
            return CheckResult(
                True, "テスト用スキャナーです（画像フォルダー未設定のため空の結果を返します）。"
            )
        if not self.folder.is_dir():
            return CheckResult(False, f"画像フォルダーが見つかりません: {self.folder}")
        return CheckResult(
            True, f"テスト用スキャナーです（画像 {len(self._images())} 件）。", {"folder": str(self.folder)}
        )
