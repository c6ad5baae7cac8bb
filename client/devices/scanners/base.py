"""The scanner contract."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.plugins import Plugin


@dataclass(frozen=True)
class ScannedPage:
    """One scanned page as an image file on disk."""

    path: Path
    media_type: str
    dpi: int | None = None


class Scanner(Plugin):
    """Scans the documents lying in the feeder and returns one image per page."""

    def __init__(self, **settings: Any) -> None:
        self.settings = settings

    def scan(self) -> list[ScannedPage]:
        raise NotImplementedError
