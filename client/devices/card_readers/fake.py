"""Fake card reader: returns canned, clearly synthetic 券面事項 (no real person)."""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.errors import DeviceError
from shared.plugins import CheckResult
from shared.text.checkdigit import my_number_check_digit

from .base import CardFaceInfo, CardReader
from .registry import registry

_BODY = "12345678901"
SYNTHETIC_MY_NUMBER = f"{_BODY}{my_number_check_digit(_BODY)}"


@registry.register
class FakeCardReader(CardReader):
    """Settings: ``pin`` (the PIN it accepts, default 1234)."""

    plugin_id = "fake"
    label = "テスト用カードリーダー（架空の券面事項）"
    is_fake = True

    def __init__(self, pin: str = "1234", **settings: Any) -> None:
        super().__init__(**settings)
        self.pin = pin

    def read_face_info(self, pin: str) -> CardFaceInfo:
        if pin != self.pin:
            raise DeviceError("暗証番号が違います。", code="card.pin_mismatch")
        return CardFaceInfo(
            name="試験　花子",
            address="茨城県下妻市本城町二丁目22番地",
            birth_date=date(1980, 4, 1),
            sex="2",
            my_number=SYNTHETIC_MY_NUMBER,
            synthetic=True,
        )

    def check(self) -> CheckResult:
        return CheckResult(True, "テスト用カードリーダーです（架空のデータを返します）。")
