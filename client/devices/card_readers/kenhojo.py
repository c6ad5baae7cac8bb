"""The マイナンバーカード 券面事項入力補助AP protocol, independent of the transport.

APDUs (ISO 7816-4 short APDUs; D_ocr_cards.md §5.1, A_kakanai_madoguchi.md §4.3):
SELECT AP ``00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 08`` → SELECT EF 0011 (PIN) → remaining tries
``00 20 00 80`` (``63 Cx``) → VERIFY ``00 20 00 80 04 <PIN ASCII>`` → SELECT EF 0001 (個人番号,
``D0 0C <12 digits>``) and EF 0002 (基本4情報: ``FF 20`` with ``DF 22`` 氏名, ``DF 23`` 住所,
``DF 24`` 生年月日 YYYYMMDD, ``DF 25`` 性別, UTF-8) → READ BINARY ``00 B0 hi lo Le``.

PIN rules: a PIN that is not 4 digits never reaches the card; one call makes at most one VERIFY
(the resident re-enters the PIN for another try); the message says how many tries remain, and a
locked PIN says where to get it reset.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from shared.errors import DeviceError, InvalidInput

from .base import CardFaceInfo

#: transmit(apdu) → (data, sw1, sw2), as pyscard's ``CardConnection.transmit``.
Transmit = Callable[[list[int]], tuple[list[int], int, int]]

KENHOJO_AID = [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08]
EF_MY_NUMBER = (0x00, 0x01)
EF_BASIC_INFO = (0x00, 0x02)
EF_PIN = (0x00, 0x11)


class CardPinError(DeviceError):
    """Wrong or locked 券面事項入力補助用暗証番号; ``remaining`` tries (0: locked)."""

    code = "card.pin_mismatch"

    def __init__(self, message: str, *, code: str, remaining: int) -> None:
        super().__init__(message, code=code, details=[{"remaining": remaining}])
        self.remaining = remaining


def _locked() -> CardPinError:
    return CardPinError(
        "暗証番号がロックされています。お住まいの市区町村の窓口で暗証番号の初期化が必要です。",
        code="card.pin_locked",
        remaining=0,
    )


class KenhojoSession:
    """One conversation with a card through ``transmit``."""

    def __init__(self, transmit: Transmit) -> None:
        self._transmit = transmit

    def _send(self, apdu: list[int], what: str) -> tuple[list[int], int, int]:
        data, sw1, sw2 = self._transmit(apdu)
        if (sw1, sw2) == (0x6A, 0x82) or (sw1, sw2) == (0x6A, 0x86):
            raise DeviceError(
                "マイナンバーカードではないか、カードを読み取れません。カードを置き直してください。",
                code="card.not_my_number_card",
            )
        return data, sw1, sw2

    def _ok(self, apdu: list[int], what: str) -> list[int]:
        data, sw1, sw2 = self._send(apdu, what)
        if (sw1, sw2) != (0x90, 0x00):
            raise DeviceError(
                f"カードの読み取りに失敗しました（{what}: {sw1:02X}{sw2:02X}）。カードを置き直してください。",
                code="card.read_failed",
            )
        return data

    def select_application(self) -> None:
        self._ok([0x00, 0xA4, 0x04, 0x0C, len(KENHOJO_AID), *KENHOJO_AID], "AP選択")

    def select_file(self, fid: tuple[int, int]) -> None:
        self._ok([0x00, 0xA4, 0x02, 0x0C, 0x02, *fid], "EF選択")

    def remaining_tries(self) -> int:
        """Tries left for the PIN (the PIN EF must be selected); no try is used."""
        _, sw1, sw2 = self._send([0x00, 0x20, 0x00, 0x80], "残り回数")
        if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
            return sw2 & 0x0F
        if (sw1, sw2) in ((0x69, 0x84), (0x69, 0x83)):
            return 0
        if (sw1, sw2) == (0x90, 0x00):
            return 3  # already verified in this session
        raise DeviceError("カードの暗証番号の状態を確認できません。", code="card.read_failed")

    def verify(self, pin: str) -> None:
        """One VERIFY. Raises :class:`CardPinError` with the tries left."""
        if not re.fullmatch(r"\d{4}", pin):
            raise InvalidInput("暗証番号は4桁の数字で入力してください。", code="card.pin_format")
        self.select_file(EF_PIN)
        if self.remaining_tries() == 0:
            raise _locked()
        _, sw1, sw2 = self._send([0x00, 0x20, 0x00, 0x80, 0x04, *pin.encode("ascii")], "照合")
        if (sw1, sw2) == (0x90, 0x00):
            return
        if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
            left = sw2 & 0x0F
            if left == 0:
                raise _locked()
            raise CardPinError(
                f"暗証番号が違います。あと{left}回間違えるとロックされます。",
                code="card.pin_mismatch",
                remaining=left,
            )
        if (sw1, sw2) in ((0x69, 0x84), (0x69, 0x83)):
            raise _locked()
        raise DeviceError(f"暗証番号を照合できません（{sw1:02X}{sw2:02X}）。", code="card.read_failed")

    def read_binary(self) -> bytes:
        """The selected EF: the BER header first, then the rest in chunks of ≤ 255 bytes."""
        head = bytes(self._ok([0x00, 0xB0, 0x00, 0x00, 0x07], "読取"))
        total = _tlv_total_length(head)
        data = bytearray(head[: min(len(head), total)])
        while len(data) < total:
            chunk = min(255, total - len(data))
            offset = len(data)
            data += bytes(self._ok([0x00, 0xB0, offset >> 8, offset & 0xFF, chunk], "読取"))
        return bytes(data)

    def read_face_info(self, pin: str, *, with_my_number: bool = True) -> CardFaceInfo:
        """SELECT → VERIFY (one try) → 基本4情報 (+ 個人番号)."""
        self.select_application()
        self.verify(pin)
        self.select_file(EF_BASIC_INFO)
        items = dict(_tlv_items(_tlv_value(self.read_binary())))
        my_number = None
        if with_my_number:
            self.select_file(EF_MY_NUMBER)
            my_number = _tlv_value(self.read_binary()).decode("ascii")
        birth = items[0xDF24].decode("ascii")
        return CardFaceInfo(
            name=items[0xDF22].decode("utf-8"),
            address=items[0xDF23].decode("utf-8"),
            birth_date=date(int(birth[:4]), int(birth[4:6]), int(birth[6:8])),
            sex=items[0xDF25].decode("ascii"),
            my_number=my_number,
            synthetic=False,
        )


def _tag_and_length(data: bytes, i: int) -> tuple[int, int, int]:
    """(tag, length, index of the value) of the BER object starting at ``data[i]``."""
    tag = data[i]
    i += 1
    if tag & 0x1F == 0x1F:
        tag = (tag << 8) | data[i]
        i += 1
    length = data[i]
    i += 1
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[i : i + count], "big")
        i += count
    return tag, length, i


def _tlv_total_length(head: bytes) -> int:
    _, length, start = _tag_and_length(head, 0)
    return start + length


def _tlv_value(data: bytes) -> bytes:
    _, length, start = _tag_and_length(data, 0)
    return data[start : start + length]


def _tlv_items(data: bytes) -> list[tuple[int, bytes]]:
    out = []
    i = 0
    while i < len(data):
        tag, length, start = _tag_and_length(data, i)
        out.append((tag, data[start : start + length]))
        i = start + length
    return out


def tlv(tag: int, value: bytes) -> bytes:
    """Encode one BER object (used by the software card)."""
    tag_bytes = tag.to_bytes(2 if tag > 0xFF else 1, "big")
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    elif n <= 0xFF:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82]) + n.to_bytes(2, "big")
    return tag_bytes + length + value
