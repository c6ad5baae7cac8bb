"""The マイナンバーカード 券面事項入力補助AP reader: protocol against a software card, and the PC/SC path.

(Kept beside the OCR tests: the card is the other way the counter reads a resident's document.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date

import pytest

from client.devices.card_readers.kenhojo import CardPinError, KenhojoSession
from client.devices.card_readers.registry import registry
from client.devices.card_readers.software_card import SoftwareMynaCard, serve_vpcd
from shared.errors import DeviceError, InvalidInput
from tests.conftest import need


def _verifies(card: SoftwareMynaCard) -> int:
    return sum(1 for apdu in card.log if apdu[1] == 0x20 and len(apdu) > 4)


def test_reads_basic_four_and_my_number() -> None:
    """With the right PIN the four basic items and the 個人番号 are read and decoded."""
    card = SoftwareMynaCard()
    info = KenhojoSession(card.transmit).read_face_info("1234")
    assert (info.name, info.address, info.sex) == ("試験　花子", "茨城県下妻市本城町二丁目22番地", "2")
    assert info.birth_date == date(1983, 3, 7) and info.my_number == "123456789018"


def test_long_address_is_read_in_chunks() -> None:
    """A 基本4情報 file longer than 255 bytes is read in several READ BINARY commands."""
    card = SoftwareMynaCard(address="北海道" + "長い町名" * 40 + "1番地　" + "方書" * 20)
    info = KenhojoSession(card.transmit).read_face_info("1234")
    assert info.address == card.address
    assert sum(1 for apdu in card.log if apdu[1] == 0xB0) > 3


def test_wrong_pin_says_tries_left_and_uses_one_try() -> None:
    """A wrong PIN costs exactly one try, and the message says how many remain."""
    card = SoftwareMynaCard()
    with pytest.raises(CardPinError) as caught:
        KenhojoSession(card.transmit).read_face_info("9999")
    assert caught.value.remaining == 2 and "あと2回" in caught.value.message
    assert _verifies(card) == 1 and card.tries == 2


def test_lockout_after_three_wrong_pins() -> None:
    """The third wrong PIN locks the card; then even the right PIN is not sent to the card."""
    card = SoftwareMynaCard()
    for _ in range(2):
        with pytest.raises(CardPinError):
            KenhojoSession(card.transmit).read_face_info("0000")
    with pytest.raises(CardPinError) as caught:
        KenhojoSession(card.transmit).read_face_info("0000")
    assert caught.value.error_code == "card.pin_locked"
    sent = _verifies(card)
    with pytest.raises(CardPinError) as again:
        KenhojoSession(card.transmit).read_face_info("1234")
    assert again.value.error_code == "card.pin_locked" and "初期化" in again.value.message
    assert _verifies(card) == sent


def test_malformed_pin_never_reaches_the_card() -> None:
    """A PIN that is not 4 digits is refused before any APDU is sent."""
    card = SoftwareMynaCard()
    with pytest.raises(InvalidInput):
        KenhojoSession(card.transmit).verify("12a4")
    assert card.log == []


def test_other_card_is_named() -> None:
    """A card without the 券面事項入力補助AP gives a clear message instead of a status word."""

    def other_card(apdu: list[int]) -> tuple[list[int], int, int]:
        return [], 0x6A, 0x82

    with pytest.raises(DeviceError) as caught:
        KenhojoSession(other_card).read_face_info("1234")
    assert caught.value.error_code == "card.not_my_number_card"


def test_pcsc_plugin_is_registered_and_checks() -> None:
    """The pcsc plugin is in the registry, and check() answers in Japanese whether or not a reader exists."""
    assert "pcsc" in registry.ids()
    result = registry.create("pcsc").check()
    assert result.message.endswith("。")


@pytest.fixture
def vpcd_card() -> Iterator[SoftwareMynaCard]:
    """The software card inserted into vsmartcard's vpcd reader of a running pcscd."""
    card = SoftwareMynaCard()
    try:
        sock = serve_vpcd(card)
    except OSError:
        need("pcscd with vsmartcard-vpcd is not running (see docs/ocr.md)")
    time.sleep(1.0)  # pcscd polls the reader for the inserted card
    try:
        yield card
    finally:
        sock.close()
        time.sleep(0.5)


@pytest.mark.pcsc
def test_pcsc_reads_the_software_card_through_pcscd(vpcd_card: SoftwareMynaCard) -> None:
    """Through pcscd + pyscard the plugin reads the card, and a wrong PIN reports the tries left."""
    reader = registry.create("pcsc", reader="Virtual PCD")
    assert reader.check().ok
    info = reader.read_face_info("1234")
    assert info.name == vpcd_card.name and info.my_number == vpcd_card.my_number
    with pytest.raises(CardPinError) as caught:
        reader.read_face_info("1111")
    assert caught.value.remaining == 2
