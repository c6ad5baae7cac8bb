"""A software マイナンバーカード: answers the 券面事項入力補助AP APDUs like a card, with a PIN counter
and lockout. Synthetic data only. Used by tests directly (``transmit``) and behind pcscd through
vsmartcard's ``vicc`` (tests marked ``pcsc``), so the protocol code runs unchanged in both."""

from __future__ import annotations

import socket
import struct
import threading
from dataclasses import dataclass, field

from .kenhojo import EF_BASIC_INFO, EF_MY_NUMBER, EF_PIN, KENHOJO_AID, tlv

OK = (0x90, 0x00)


@dataclass
class SoftwareMynaCard:
    pin: str = "1234"
    tries: int = 3
    name: str = "試験　花子"
    address: str = "茨城県下妻市本城町二丁目22番地"
    birth: str = "19830307"
    sex: str = "2"
    my_number: str = "123456789018"
    _selected_ap: bool = False
    _selected_ef: tuple[int, int] | None = None
    _verified: bool = False
    log: list[list[int]] = field(default_factory=list)

    def files(self) -> dict[tuple[int, int], bytes]:
        basic = tlv(
            0xFF20,
            tlv(0xDF21, bytes.fromhex("00010203"))
            + tlv(0xDF22, self.name.encode())
            + tlv(0xDF23, self.address.encode())
            + tlv(0xDF24, self.birth.encode())
            + tlv(0xDF25, self.sex.encode()),
        )
        return {EF_MY_NUMBER: tlv(0xD0, self.my_number.encode()), EF_BASIC_INFO: basic}

    def transmit(self, apdu: list[int]) -> tuple[list[int], int, int]:
        self.log.append(list(apdu))
        data, sw = self._execute(apdu)
        return data, sw[0], sw[1]

    def _execute(self, apdu: list[int]) -> tuple[list[int], tuple[int, int]]:
        _, ins, p1, p2 = apdu[:4]
        body = apdu[5 : 5 + apdu[4]] if len(apdu) > 5 else []
        if ins == 0xA4 and p1 == 0x04:
            self._selected_ap = body == KENHOJO_AID
            self._selected_ef, self._verified = None, False
            return [], OK if self._selected_ap else (0x6A, 0x82)
        if ins == 0xA4 and p1 == 0x02:
            fid = (body[0], body[1])
            if not self._selected_ap or (fid not in self.files() and fid != EF_PIN):
                return [], (0x6A, 0x82)
            self._selected_ef = fid
            return [], OK
        if ins == 0x20:
            if self._selected_ef != EF_PIN:
                return [], (0x69, 0x86)
            if self.tries == 0:
                return [], (0x69, 0x84)
            if len(apdu) == 4:
                return [], (0x63, 0xC0 | self.tries)
            if bytes(body).decode("ascii", "replace") == self.pin:
                self.tries, self._verified = 3, True
                return [], OK
            self.tries -= 1
            return [], (0x63, 0xC0 | self.tries)
        if ins == 0xB0:
            if self._selected_ef not in self.files():
                return [], (0x69, 0x86)
            if not self._verified:
                return [], (0x69, 0x82)
            content = self.files()[self._selected_ef]
            offset = (p1 << 8) | p2
            return list(content[offset : offset + apdu[4]]), OK
        return [], (0x6D, 0x00)


ATR = bytes.fromhex("3b8a800191e565012345678900")


def serve_vpcd(card: SoftwareMynaCard, host: str = "127.0.0.1", port: int = 35963) -> socket.socket:
    """Insert ``card`` into vsmartcard's ``vpcd`` reader (pcscd driver) and answer it from a daemon
    thread until the returned socket is closed. vpcd frames: 2-byte length + payload; a 1-byte
    payload is a control (0 off, 1 on, 2 reset, 4 ATR?), anything else a command APDU."""
    sock = socket.create_connection((host, port), timeout=5)
    sock.settimeout(None)

    def receive(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError
            data += chunk
        return data

    def send(payload: bytes) -> None:
        sock.sendall(struct.pack(">H", len(payload)) + payload)

    def run() -> None:
        try:
            while True:
                (length,) = struct.unpack(">H", receive(2))
                payload = receive(length)
                if length == 1:
                    if payload[0] == 4:
                        send(ATR)
                    continue
                data, sw1, sw2 = card.transmit(list(payload))
                send(bytes([*data, sw1, sw2]))
        except (ConnectionError, OSError):
            return

    threading.Thread(target=run, daemon=True, name="vpcd-card").start()
    return sock
