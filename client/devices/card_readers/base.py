"""The card reader contract (券面事項入力補助AP of the マイナンバーカード)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.plugins import Plugin


@dataclass(frozen=True)
class CardFaceInfo:
    """券面事項: the four basic items and the 個人番号. ``synthetic`` marks invented test data."""

    name: str
    address: str
    birth_date: date
    sex: str  # "1" 男 / "2" 女, as shared.models.movement_notice.Sex
    my_number: str | None
    synthetic: bool


class CardReader(Plugin):
    def __init__(self, **settings: Any) -> None:
        self.settings = settings

    def read_face_info(self, pin: str) -> CardFaceInfo:
        """Read the 券面事項 with the 券面事項入力補助用 PIN (4 digits)."""
        raise NotImplementedError
