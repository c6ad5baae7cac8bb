"""基本4情報 of a JPKI 署名用電子証明書.

JPKI puts them in the subjectAltName as ``otherName`` entries under the arc
``1.2.392.200149.8.5.5`` (J-LIS 証明書プロファイル): ``.1`` 氏名 and ``.5`` 住所 as UTF8String,
``.2`` / ``.6`` their 代替文字 (characters outside JIS), ``.3`` 性別 (``1`` 男, ``2`` 女, ``3`` その他
or 不明) and ``.4`` 生年月日 as PrintableString ``EYYYYMMDD`` (E = 元号 digit, then the Gregorian
date). The subject CN of the certificate is an opaque serial, not the name.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

ARC = "1.2.392.200149.8.5.5"
OID_NAME = ObjectIdentifier(f"{ARC}.1")
OID_NAME_SUBSTITUTE = ObjectIdentifier(f"{ARC}.2")
OID_GENDER = ObjectIdentifier(f"{ARC}.3")
OID_BIRTH = ObjectIdentifier(f"{ARC}.4")
OID_ADDRESS = ObjectIdentifier(f"{ARC}.5")
OID_ADDRESS_SUBSTITUTE = ObjectIdentifier(f"{ARC}.6")

GENDER_LABELS = {"1": "男", "2": "女", "3": "その他"}

_UTF8, _PRINTABLE = 0x0C, 0x13


@dataclass(frozen=True)
class FourInfo:
    """氏名, 生年月日 (ISO date or the raw value when incomplete), 性別 code, 住所."""

    name: str
    birth_date: str
    gender: str
    address: str

    @property
    def gender_label(self) -> str:
        return GENDER_LABELS.get(self.gender, "不明")

    def as_dict(self) -> dict[str, str]:
        return {**asdict(self), "gender_label": self.gender_label}


def _tlv(tag: int, value: bytes) -> bytes:
    if len(value) < 0x80:
        return bytes([tag, len(value)]) + value
    length = len(value).to_bytes((len(value).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + value


def _untlv(data: bytes) -> tuple[int, bytes]:
    """The tag and content of one DER TLV (the otherName value as cryptography hands it)."""
    if len(data) < 2:
        raise ValueError("short")
    tag, first = data[0], data[1]
    if first < 0x80:
        start, length = 2, first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or len(data) < 2 + n:
            raise ValueError("length")
        start, length = 2 + n, int.from_bytes(data[2 : 2 + n], "big")
    if start + length != len(data):
        raise ValueError("trailing")
    return tag, data[start : start + length]


def four_info_names(info: FourInfo) -> list[x509.GeneralName]:
    """The SAN entries a JPKI signing certificate carries for ``info`` (used by the test PKI)."""
    birth = info.birth_date.replace("-", "")
    era = "5" if birth >= "20190501" else "4" if birth >= "19890108" else "3"
    return [
        x509.OtherName(OID_NAME, _tlv(_UTF8, info.name.encode())),
        x509.OtherName(OID_GENDER, _tlv(_PRINTABLE, info.gender.encode())),
        x509.OtherName(OID_BIRTH, _tlv(_PRINTABLE, f"{era}{birth}".encode())),
        x509.OtherName(OID_ADDRESS, _tlv(_UTF8, info.address.encode())),
    ]


def _birth(raw: str) -> str:
    digits = raw[1:] if len(raw) == 9 else raw
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8])).isoformat()
    except ValueError:
        return raw  # 日付の一部が不詳 (00) のときは証明書の値のまま


def four_info_of(cert: x509.Certificate) -> FourInfo | None:
    """The 4情報 in the certificate's SAN, or None when it carries none (not a 署名用 certificate)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    found: dict[str, str] = {}
    for other in san.get_values_for_type(x509.OtherName):
        try:
            _tag, value = _untlv(other.value)
            text = value.decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            continue
        found.setdefault(other.type_id.dotted_string, text)
    name, birth = found.get(OID_NAME.dotted_string), found.get(OID_BIRTH.dotted_string)
    gender, address = found.get(OID_GENDER.dotted_string), found.get(OID_ADDRESS.dotted_string)
    if name is None or birth is None or gender is None or address is None:
        return None
    return FourInfo(name=name, birth_date=_birth(birth), gender=gender, address=address)
