"""Synthetic OCR templates: vendor-style layout families and the per-municipality layouts derived
from them, plus the card fronts.

No real 転出証明書 samples exist in the project, so each municipality's template is *derived*: it
takes one of three vendor-style families (``grid`` 罫線表, ``split`` 2列表, ``stacked`` 見出し付き枠),
prints the issuer's name, shifts the print by a few millimetres, picks the 地紋 colour and, in
``grid``, the order of the 本籍 rows. Every derived template says ``synthetic: true``; a real
deployment replaces it from a real sample with the template designer.

Regenerate the files with ``python -m client.core.ocr.families form_templates/ocr``.
"""

from __future__ import annotations

import hashlib
import sys
from datetime import date
from pathlib import Path

import yaml

from shared.codes.municipalities import Municipality, all_municipalities, find_municipality
from shared.schemas.ocr_template import (
    Anchor,
    Box,
    DocumentType,
    Layout,
    OcrTemplate,
    PrintedText,
    ReadingSettings,
    ReferenceImage,
    Rule,
    Zone,
    ZoneType,
)

#: A5 landscape at 300 dpi.
PAGE_W, PAGE_H = 2480, 1748
FAMILIES = ("grid", "split", "stacked")
SECURITY_COLOURS = ("#b8e0c0", "#bcd4f0", "#f0c8d8", "#e8dcb0", "#c8c8f0")
DIGITS = "0123456789"
DATE_CHARS = "0123456789明治大正昭和平成令和元年月日"
VERSION = "2021-01"

#: field → (label, type, path in the 異動届)
MOVE_OUT_FIELDS: dict[str, tuple[str, ZoneType, str | None]] = {
    "name": ("氏名", ZoneType.name, "persons[0].family_name"),
    "name_kana": ("フリガナ", ZoneType.kana, "persons[0].family_name_kana"),
    "birth_date": ("生年月日", ZoneType.date, "persons[0].birth_date"),
    "sex": ("性別", ZoneType.sex, "persons[0].sex"),
    "relationship": ("続柄", ZoneType.relationship, "persons[0].relationship"),
    "resident_code": ("住民票コード", ZoneType.resident_code, "persons[0].resident_code"),
    "old_address": ("住所", ZoneType.address, "old_address"),
    "householder": ("世帯主", ZoneType.name, "old_householder"),
    "destination": ("転出先", ZoneType.address, "destination"),
    "moved_on": ("転出予定日", ZoneType.date, "moved_on"),
    "domicile": ("本籍", ZoneType.address, "persons[0].domicile"),
    "register_head": ("筆頭者", ZoneType.name, "persons[0].register_head"),
}


#: Types printed in Latin letters (read with the ``eng`` model).
LATIN = {ZoneType.roman_name, ZoneType.residence_card_number}


def _reading(kind: ZoneType) -> ReadingSettings:
    if kind in (
        ZoneType.resident_code,
        ZoneType.my_number,
        ZoneType.digits,
        ZoneType.postal_code,
        ZoneType.license_number,
    ):
        return ReadingSettings(language="jpn", psm=7, whitelist=DIGITS + "-")
    if kind is ZoneType.sex:
        return ReadingSettings(language="jpn", psm=10)  # one character
    return ReadingSettings(language="jpn", psm=7)


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


class _Sheet:
    """Collects printed text, rules and zones while a family lays out one page."""

    def __init__(
        self, dx: int, dy: int, fields: dict[str, tuple[str, ZoneType, str | None]] | None = None
    ) -> None:
        self.dx, self.dy = dx, dy
        self.fields: dict[str, tuple[str, ZoneType, str | None]] = dict(fields or MOVE_OUT_FIELDS)
        self.printed: list[PrintedText] = []
        self.rules: list[Rule] = []
        self.zones: list[Zone] = []
        self.anchors: list[Anchor] = []

    def text(self, text: str, x: int, y: int, size: int, anchor: str | None = None) -> None:
        width = max(size, int(len(text) * size * 1.02))
        box = Box(x=x + self.dx, y=y + self.dy, width=width, height=int(size * 1.25))
        self.printed.append(PrintedText(text=text, box=box, size=size))
        if anchor:
            self.anchors.append(Anchor(name=anchor, kind="text", box=box, text=text))

    def rule(self, x1: int, y1: int, x2: int, y2: int, width: int = 3) -> None:
        self.rules.append(
            Rule(x1=x1 + self.dx, y1=y1 + self.dy, x2=x2 + self.dx, y2=y2 + self.dy, width=width)
        )

    def rect(self, x1: int, y1: int, x2: int, y2: int, width: int = 3) -> None:
        self.rule(x1, y1, x2, y1, width)
        self.rule(x1, y2, x2, y2, width)
        self.rule(x1, y1, x1, y2, width)
        self.rule(x2, y1, x2, y2, width)

    def zone(self, field: str, x: int, y: int, w: int, h: int) -> None:
        label, kind, _ = self.fields[field]
        box = Box(x=x + self.dx, y=y + self.dy, width=w, height=h)
        reading = ReadingSettings(language="eng", psm=7) if kind in LATIN else _reading(kind)
        self.zones.append(Zone(field=field, label=label, type=kind, box=box, reading=reading, required=True))

    def mapping(self) -> dict[str, str]:
        return {
            f: path
            for f, (_, _, path) in self.fields.items()
            if path and any(z.field == f for z in self.zones)
        }


def _grid(sheet: _Sheet, issuer: str, domicile_first: bool) -> None:
    """Vendor A: title centred, one row per item with the label column on the left."""
    sheet.text("転出証明書", 1040, 60, 84, anchor="title")
    order = ["name", "name_kana", "birth_date", "sex", "relationship", "resident_code"]
    tail = ["old_address", "householder", "destination", "moved_on"]
    koseki = ["domicile", "register_head"]
    order += koseki + tail if domicile_first else tail + koseki
    x0, x1, xl, y0, rh = 140, 2340, 520, 200, 100
    sheet.rect(x0, y0, x1, y0 + rh * len(order), 4)
    sheet.rule(xl, y0, xl, y0 + rh * len(order))
    for i, field in enumerate(order):
        y = y0 + i * rh
        if i:
            sheet.rule(x0, y, x1, y)
        sheet.text(MOVE_OUT_FIELDS[field][0], x0 + 30, y + 24, 48)
        sheet.zone(field, xl + 16, y + 10, x1 - xl - 32, rh - 20)
    sheet.text("上記のとおり転出を証明します。", 200, y0 + rh * len(order) + 30, 44)
    sheet.text(f"{issuer}長", 1300, y0 + rh * len(order) + 110, 60, anchor="issuer")


def _split(sheet: _Sheet, issuer: str) -> None:
    """Vendor B: title left, issuer top right, two items per row where they are short."""
    sheet.text("転 出 証 明 書", 140, 50, 80, anchor="title")
    sheet.text(f"{issuer}長", 1380, 80, 52, anchor="issuer")
    rows: list[tuple[str, str | None]] = [
        ("name", "sex"),
        ("name_kana", "relationship"),
        ("birth_date", "resident_code"),
        ("old_address", None),
        ("householder", None),
        ("destination", None),
        ("moved_on", None),
        ("domicile", None),
        ("register_head", None),
    ]
    x0, x1, xl, xm, xml, y0, rh = 120, 2360, 420, 1500, 1800, 230, 116
    sheet.rect(x0, y0, x1, y0 + rh * len(rows), 5)
    for i, (left, right) in enumerate(rows):
        y = y0 + i * rh
        if i:
            sheet.rule(x0, y, x1, y)
        sheet.rule(xl, y, xl, y + rh)
        sheet.text(MOVE_OUT_FIELDS[left][0], x0 + 24, y + 32, 46)
        if right is None:
            sheet.zone(left, xl + 16, y + 12, x1 - xl - 32, rh - 24)
            continue
        sheet.rule(xm, y, xm, y + rh)
        sheet.rule(xml, y, xml, y + rh)
        sheet.zone(left, xl + 16, y + 12, xm - xl - 32, rh - 24)
        sheet.text(MOVE_OUT_FIELDS[right][0], xm + 20, y + 32, 46)
        sheet.zone(right, xml + 16, y + 12, x1 - xml - 32, rh - 24)
    sheet.text("この証明書は転入の届出の際に提出してください。", 140, y0 + rh * len(rows) + 40, 42)


def _stacked(sheet: _Sheet, issuer: str) -> None:
    """Vendor C: each item in its own box with a small caption above the value."""
    sheet.text("転出証明書", 980, 70, 96, anchor="title")
    rows = [
        ["name", "name_kana"],
        ["birth_date", "sex", "relationship"],
        ["resident_code", "moved_on"],
        ["old_address"],
        ["destination"],
        ["householder", "register_head"],
        ["domicile"],
    ]
    widths = {1: [2200], 2: [1100, 1100], 3: [1000, 500, 700]}
    x0, y0, rh = 140, 230, 160
    for i, row in enumerate(rows):
        y = y0 + i * rh
        x = x0
        for field, w in zip(row, widths[len(row)], strict=True):
            sheet.rect(x, y, x + w, y + rh - 14, 3)
            sheet.text(MOVE_OUT_FIELDS[field][0], x + 14, y + 8, 32)
            sheet.zone(field, x + 14, y + 58, w - 28, rh - 80)
            x += w
    sheet.text(f"{issuer}長", 140, y0 + rh * len(rows) + 50, 60, anchor="issuer")
    sheet.text("（転出証明書）", 1800, y0 + rh * len(rows) + 60, 44)


def move_out_certificate(municipality: Municipality) -> OcrTemplate:
    """The synthetic 転出証明書 template of one municipality."""
    h = _hash(municipality.lg_code)
    family = FAMILIES[h % 3]
    dx, dy = (h >> 4) % 61 - 30, (h >> 12) % 41 - 20
    sheet = _Sheet(dx, dy)
    issuer = municipality.full_name
    if family == "grid":
        _grid(sheet, issuer, domicile_first=bool((h >> 20) & 1))
    elif family == "split":
        _split(sheet, issuer)
    else:
        _stacked(sheet, issuer)
    return OcrTemplate(
        doc_type=DocumentType.move_out_certificate,
        issuer=municipality.lg_code,
        version=VERSION,
        label=f"転出証明書（{issuer}・合成）",
        valid_from=date(2021, 1, 1),
        synthetic=True,
        reference=ReferenceImage(width=PAGE_W, height=PAGE_H, dpi=300),
        anchors=sheet.anchors,
        layout=Layout(
            family=family,
            printed=sheet.printed,
            rules=sheet.rules,
            security_pattern=SECURITY_COLOURS[(h >> 24) % len(SECURITY_COLOURS)],
        ),
        zones=sheet.zones,
        mapping=sheet.mapping(),
    )


#: 下妻市 (the customer of spec 000) first, then every third municipality: > 500 issuers.
def derived_issuers() -> list[Municipality]:
    shimotsuma = find_municipality("082104")
    chosen = [m for i, m in enumerate(all_municipalities()) if i % 3 == 0]
    if shimotsuma is not None and shimotsuma not in chosen:
        chosen.insert(0, shimotsuma)
    return chosen


CARD_W, CARD_H = 1011, 638


def my_number_card() -> OcrTemplate:
    """マイナンバーカード表面 (layout simplified; synthetic)."""
    sheet = _Sheet(0, 0)
    sheet.rect(6, 6, CARD_W - 6, CARD_H - 6, 4)
    sheet.text("個人番号カード", 40, 24, 40, anchor="title")
    fields: list[tuple[str, str, ZoneType, str | None, tuple[int, int, int, int]]] = [
        ("name", "氏名", ZoneType.name, "persons[0].family_name", (150, 100, 560, 64)),
        ("address", "住所", ZoneType.address, "new_address", (150, 190, 620, 56)),
        ("birth_date", "生年月日", ZoneType.date, "persons[0].birth_date", (220, 300, 400, 50)),
        ("sex", "性別", ZoneType.sex, "persons[0].sex", (700, 300, 90, 50)),
        ("expiry", "有効期限", ZoneType.date, None, (220, 390, 400, 50)),
    ]
    for field, label, kind, _, (x, y, w, h) in fields:
        sheet.text(label, 40 if x < 300 else x - 110, y + 10, 30)
        sheet.zones.append(
            Zone(
                field=field,
                label=label,
                type=kind,
                box=Box(x=x, y=y, width=w, height=h),
                reading=_reading(kind),
                required=True,
            )
        )
    sheet.rect(790, 90, 980, 330, 2)
    sheet.text("写真", 850, 190, 36)
    sheet.text("日本国", 40, 560, 34)
    return OcrTemplate(
        doc_type=DocumentType.my_number_card,
        issuer="j-lis",
        version=VERSION,
        label="マイナンバーカード表面（合成）",
        valid_from=date(2016, 1, 1),
        synthetic=True,
        reference=ReferenceImage(width=CARD_W, height=CARD_H, dpi=300),
        anchors=sheet.anchors,
        layout=Layout(family="card", printed=sheet.printed, rules=sheet.rules, security_pattern="#f0d8e0"),
        zones=sheet.zones,
        mapping={f: p for f, _, _, p, _ in fields if p},
    )


def residence_card() -> OcrTemplate:
    """在留カード表面 (layout simplified; synthetic). The chip is the authoritative source when a
    reader is present; the face gives the card number the chip needs."""
    sheet = _Sheet(0, 0)
    sheet.rect(6, 6, CARD_W - 6, CARD_H - 6, 4)
    sheet.text("在留カード", 40, 20, 44, anchor="title")
    sheet.text("番号", 600, 28, 26)
    fields: list[tuple[str, str, ZoneType, str | None, tuple[int, int, int, int], str]] = [
        (
            "card_number",
            "番号",
            ZoneType.residence_card_number,
            "persons[0].residence_card_number",
            (660, 14, 330, 56),
            "eng",
        ),
        ("name", "氏名", ZoneType.roman_name, "persons[0].roman_name", (130, 90, 640, 56), "eng"),
        ("birth_date", "生年月日", ZoneType.date, "persons[0].birth_date", (170, 160, 330, 48), "jpn"),
        ("sex", "性別", ZoneType.sex, "persons[0].sex", (580, 160, 80, 48), "jpn"),
        (
            "nationality",
            "国籍・地域",
            ZoneType.nationality,
            "persons[0].nationality",
            (190, 220, 420, 48),
            "jpn",
        ),
        ("address", "住居地", ZoneType.address, "old_address", (130, 280, 660, 52), "jpn"),
        (
            "status",
            "在留資格",
            ZoneType.residence_status,
            "persons[0].residence_status",
            (170, 350, 620, 52),
            "jpn",
        ),
        ("period", "在留期間", ZoneType.text, "persons[0].period_of_stay", (170, 420, 300, 48), "jpn"),
        ("expiry", "満了日", ZoneType.date, "persons[0].stay_expiry_date", (560, 420, 330, 48), "jpn"),
    ]
    for field, label, kind, _, (x, y, w, h), language in fields:
        if field != "card_number":
            sheet.text(label, 24 if x < 300 else x - 80, y + 12, 24)
        reading = _reading(kind) if language == "jpn" else ReadingSettings(language="eng", psm=7)
        sheet.zones.append(
            Zone(
                field=field,
                label=label,
                type=kind,
                box=Box(x=x, y=y, width=w, height=h),
                reading=reading,
                required=True,
            )
        )
    sheet.rect(800, 90, 985, 330, 2)
    sheet.text("写真", 860, 190, 34)
    sheet.text("法務大臣", 40, 560, 30)
    return OcrTemplate(
        doc_type=DocumentType.residence_card,
        issuer="isa",
        version=VERSION,
        label="在留カード表面（合成）",
        valid_from=date(2012, 7, 9),
        synthetic=True,
        reference=ReferenceImage(width=CARD_W, height=CARD_H, dpi=300),
        anchors=sheet.anchors,
        layout=Layout(
            family="residence-card", printed=sheet.printed, rules=sheet.rules, security_pattern="#d8e8c8"
        ),
        zones=sheet.zones,
        mapping={f: p for f, _, _, p, _, _ in fields if p},
    )


# ---------------------------------------------------------------------------------------------
# Further documents (issue 3): 転出証明書に準ずる証明書, 転出証明書情報 (特例転入), 戸籍全部事項証明書,
# 戸籍の附票の写し, 特別永住者証明書, 運転免許証. Layouts follow the items in the research notes
# (A_kakanai_madoguchi §3–4, C_koseki_konbini §1.2 and §1.5); the print itself is invented.

#: A4 portrait at 300 dpi.
A4_W, A4_H = 2480, 3508

EQUIVALENT_FIELDS: dict[str, tuple[str, ZoneType, str | None]] = {
    **MOVE_OUT_FIELDS,
    "removed_on": ("消除日", ZoneType.date, None),
}

INFO_FIELDS: dict[str, tuple[str, ZoneType, str | None]] = {
    "from_municipality": ("転出元市区町村", ZoneType.text, None),
    "name": ("氏名", ZoneType.name, "persons[0].family_name"),
    "birth_date": ("出生の年月日", ZoneType.date, "persons[0].birth_date"),
    "sex": ("男女の別", ZoneType.sex, "persons[0].sex"),
    "relationship": ("続柄", ZoneType.relationship, "persons[0].relationship"),
    "householder": ("世帯主氏名", ZoneType.name, "old_householder"),
    "resident_code": ("住民票コード", ZoneType.resident_code, "persons[0].resident_code"),
    "my_number": ("個人番号", ZoneType.my_number, "persons[0].my_number"),
    "old_address": ("住所", ZoneType.address, "old_address"),
    "destination": ("転出先", ZoneType.address, "destination"),
    "moved_on": ("転出の予定年月日", ZoneType.date, "moved_on"),
    "domicile": ("本籍", ZoneType.address, "persons[0].domicile"),
    "register_head": ("筆頭者", ZoneType.name, "persons[0].register_head"),
}

KOSEKI_FIELDS: dict[str, tuple[str, ZoneType, str | None]] = {
    "domicile": ("本籍", ZoneType.address, "persons[0].domicile"),
    "register_head": ("氏名", ZoneType.name, "persons[0].register_head"),
    "given_name": ("名", ZoneType.name, "persons[0].given_name"),
    "birth_date": ("生年月日", ZoneType.date, "persons[0].birth_date"),
    "father": ("父", ZoneType.name, None),
    "mother": ("母", ZoneType.name, None),
    "koseki_relationship": ("続柄", ZoneType.text, None),
    "birth_place": ("出生地", ZoneType.address, None),
}

FUHYO_FIELDS: dict[str, tuple[str, ZoneType, str | None]] = {
    "domicile": ("本籍", ZoneType.address, "persons[0].domicile"),
    "register_head": ("筆頭者", ZoneType.name, "persons[0].register_head"),
    "name": ("氏名", ZoneType.name, "persons[0].family_name"),
    "birth_date": ("生年月日", ZoneType.date, "persons[0].birth_date"),
    "sex": ("性別", ZoneType.sex, "persons[0].sex"),
    "resident_code": ("住民票コード", ZoneType.resident_code, "persons[0].resident_code"),
    "address": ("住所", ZoneType.address, "old_address"),
    "address_since": ("住所を定めた年月日", ZoneType.date, None),
}

SPECIAL_PERMANENT_FIELDS: dict[str, tuple[str, ZoneType, str | None]] = {
    "card_number": ("番号", ZoneType.residence_card_number, "persons[0].residence_card_number"),
    "name": ("氏名", ZoneType.roman_name, "persons[0].roman_name"),
    "birth_date": ("生年月日", ZoneType.date, "persons[0].birth_date"),
    "sex": ("性別", ZoneType.sex, "persons[0].sex"),
    "nationality": ("国籍・地域", ZoneType.nationality, "persons[0].nationality"),
    "address": ("住居地", ZoneType.address, "old_address"),
    "expiry": ("有効期間の満了日", ZoneType.date, None),
}

LICENSE_FIELDS: dict[str, tuple[str, ZoneType, str | None]] = {
    "name": ("氏名", ZoneType.name, "persons[0].family_name"),
    "birth_date": ("生年月日", ZoneType.date, "persons[0].birth_date"),
    "address": ("住所", ZoneType.address, "old_address"),
    "issued_on": ("交付", ZoneType.date, None),
    "expiry": ("有効期限", ZoneType.date, None),
    "license_number": ("番号", ZoneType.license_number, None),
}


def municipal_issuers() -> list[Municipality]:
    """Issuers of the 準ずる証明書, 戸籍 and 附票 templates: 下妻市 and every 15th municipality."""
    shimotsuma = find_municipality("082104")
    chosen = [m for i, m in enumerate(all_municipalities()) if i % 15 == 7]
    if shimotsuma is not None and shimotsuma not in chosen:
        chosen.insert(0, shimotsuma)
    return chosen


def _municipal(
    doc_type: DocumentType,
    municipality: Municipality,
    sheet: _Sheet,
    family: str,
    size: tuple[int, int],
    label: str,
    valid_from: date,
) -> OcrTemplate:
    return OcrTemplate(
        doc_type=doc_type,
        issuer=municipality.lg_code,
        version=VERSION,
        label=f"{label}（{municipality.full_name}・合成）",
        valid_from=valid_from,
        synthetic=True,
        reference=ReferenceImage(width=size[0], height=size[1], dpi=300),
        anchors=sheet.anchors,
        layout=Layout(
            family=family,
            printed=sheet.printed,
            rules=sheet.rules,
            security_pattern=SECURITY_COLOURS[
                (_hash(municipality.lg_code + family) >> 24) % len(SECURITY_COLOURS)
            ],
        ),
        zones=sheet.zones,
        mapping=sheet.mapping(),
    )


def move_out_certificate_equivalent(municipality: Municipality) -> OcrTemplate:
    """転出証明書に準ずる証明書: issued after the 住民票 was removed (転出後14日経過・職権消除); a
    two-column table with the 消除日 and the sentence naming it as the document for the 転入届."""
    h = _hash("equivalent" + municipality.lg_code)
    sheet = _Sheet((h >> 4) % 41 - 20, (h >> 12) % 31 - 15, EQUIVALENT_FIELDS)
    sheet.text("転出証明書に準ずる証明書", 620, 50, 76, anchor="title")
    rows = [
        ("name", "name_kana"),
        ("birth_date", "sex"),
        ("relationship", "resident_code"),
        ("old_address", None),
        ("householder", "removed_on"),
        ("destination", None),
        ("moved_on", "register_head"),
        ("domicile", None),
    ]
    x0, x1, xl, xm, xr, y0, rh = 110, 2370, 400, 1320, 1620, 180, 120
    sheet.rect(x0, y0, x1, y0 + rh * len(rows), 6)
    sheet.rect(x0 + 10, y0 + 10, x1 - 10, y0 + rh * len(rows) - 10, 2)
    for i, (left, right) in enumerate(rows):
        y = y0 + i * rh
        if i:
            sheet.rule(x0, y, x1, y, 2)
        sheet.rule(xl, y, xl, y + rh, 2)
        sheet.text(EQUIVALENT_FIELDS[left][0], x0 + 30, y + 36, 44)
        if right is None:
            sheet.zone(left, xl + 18, y + 14, x1 - xl - 46, rh - 28)
            continue
        sheet.rule(xm, y, xm, y + rh, 2)
        sheet.rule(xr, y, xr, y + rh, 2)
        sheet.zone(left, xl + 18, y + 14, xm - xl - 36, rh - 28)
        sheet.text(EQUIVALENT_FIELDS[right][0], xm + 20, y + 36, 44)
        sheet.zone(right, xr + 18, y + 14, x1 - xr - 46, rh - 28)
    bottom = y0 + rh * len(rows)
    sheet.text("上記の者は転出届に基づき住民票を消除したことを証明します。", 150, bottom + 40, 42)
    sheet.text("転入届の際に転出証明書に代えて提出してください。", 150, bottom + 100, 42)
    sheet.text(f"{municipality.full_name}長", 1500, bottom + 190, 58, anchor="issuer")
    return _municipal(
        DocumentType.move_out_certificate_equivalent,
        municipality,
        sheet,
        "equivalent",
        (PAGE_W, PAGE_H),
        "転出証明書に準ずる証明書",
        date(2021, 1, 1),
    )


def move_out_certificate_info() -> OcrTemplate:
    """転出証明書情報: the 住基ネット CS printout the receiving municipality makes for a 特例転入
    (no paper certificate; the 転出元 sends the items). One national layout, printed in A4 portrait
    as "項目　値" lines under a header with the 転出元市区町村."""
    sheet = _Sheet(0, 0, INFO_FIELDS)
    sheet.text("転出証明書情報", 900, 120, 90, anchor="title")
    sheet.text("（特例転入・住民基本台帳ネットワークシステム）", 620, 250, 50)
    sheet.rule(150, 360, 2330, 360, 6)
    order = list(INFO_FIELDS)
    y0, rh = 420, 200
    for i, field in enumerate(order):
        y = y0 + i * rh
        sheet.text(f"{INFO_FIELDS[field][0]}", 170, y + 50, 46)
        sheet.rule(150, y + rh - 10, 2330, y + rh - 10, 2)
        sheet.zone(field, 760, y + 20, 1560, rh - 50)
    sheet.text("この情報は転出地市区町村から通知されたものです。", 170, y0 + rh * len(order) + 40, 40)
    return OcrTemplate(
        doc_type=DocumentType.move_out_certificate_info,
        issuer="cs",
        version=VERSION,
        label="転出証明書情報（特例転入・CS出力・合成）",
        valid_from=date(2016, 1, 1),
        synthetic=True,
        reference=ReferenceImage(width=A4_W, height=A4_H, dpi=300),
        anchors=sheet.anchors,
        layout=Layout(family="cs-printout", printed=sheet.printed, rules=sheet.rules),
        zones=sheet.zones,
        mapping=sheet.mapping(),
    )


def koseki_certificate(municipality: Municipality) -> OcrTemplate:
    """戸籍全部事項証明書 (computerised 横書き): 「(1の1)　全部事項証明」, the 本籍 and 筆頭者 氏名,
    the 戸籍事項 block and the first 戸籍に記録されている者 with 【名】【生年月日】【父】【母】【続柄】
    and 身分事項 出生 with 【出生地】; the 認証文 and the issuer at the foot."""
    h = _hash("koseki" + municipality.lg_code)
    sheet = _Sheet((h >> 4) % 41 - 20, (h >> 12) % 41 - 20, KOSEKI_FIELDS)
    sheet.text("（１の１）", 1500, 120, 44)
    sheet.text("全部事項証明", 1800, 120, 54, anchor="title")
    x0, x1, xl = 150, 2330, 640
    sheet.rect(x0, 220, x1, 3000, 4)
    sheet.text("本　　籍", x0 + 40, 260, 48)
    sheet.zone("domicile", xl, 240, x1 - xl - 30, 100)
    sheet.text("氏　　名", x0 + 40, 370, 48)
    sheet.zone("register_head", xl, 350, 1000, 100)
    sheet.rule(x0, 480, x1, 480, 3)
    sheet.text("戸籍事項", x0 + 40, 520, 48)
    sheet.text("戸籍改製", 420, 520, 44)
    sheet.text("【改製日】平成１３年２月３日", 800, 520, 44)
    sheet.text("【改製事由】平成６年法務省令第５１号附則第２条第１項による改製", 800, 590, 40)
    sheet.rule(x0, 680, x1, 680, 3)
    sheet.text("戸籍に記録されている者", x0 + 40, 720, 44)
    tags = [
        ("given_name", "【名】", 720),
        ("birth_date", "【生年月日】", 820),
        ("father", "【父】", 920),
        ("mother", "【母】", 1020),
        ("koseki_relationship", "【続柄】", 1120),
    ]
    for field, tag, y in tags:
        sheet.text(tag, 760, y + 20, 44)
        width = len(tag) * 46
        sheet.zone(field, 760 + width + 10, y, 900 if field != "koseki_relationship" else 400, 90)
    sheet.text("【配偶者区分】夫", 1820, 840, 40)
    sheet.rule(x0, 1240, x1, 1240, 3)
    sheet.text("身分事項", x0 + 40, 1280, 48)
    sheet.text("出　生", 420, 1280, 44)
    sheet.text("【出生日】", 760, 1280, 44)
    sheet.text("【出生地】", 760, 1380, 44)
    sheet.zone("birth_place", 1230, 1360, 1070, 90)
    sheet.text("【届出人】父", 760, 1480, 44)
    sheet.rule(x0, 1580, x1, 1580, 3)
    sheet.text("以下余白", 1900, 2900, 44)
    sheet.text("発行番号　第　　　号", x0, 3040, 40)
    sheet.text("これは、戸籍に記録されている事項の全部を証明した書面である。", 200, 3120, 46)
    sheet.text(f"{municipality.full_name}長", 1300, 3260, 60, anchor="issuer")
    return _municipal(
        DocumentType.koseki_certificate,
        municipality,
        sheet,
        "koseki-yoko",
        (A4_W, A4_H),
        "戸籍全部事項証明書",
        date(2013, 1, 1),
    )


def fuhyo_copy(municipality: Municipality) -> OcrTemplate:
    """戸籍の附票の写し (computerised 横書き; 令和4年以降 with 生年月日・男女の別, 令和6年以降 住民票コード
    on request): 本籍・筆頭者 at the top, then one person's 氏名, 住所, 住所を定めた年月日, 生年月日, 性別,
    住民票コード; the 認証文 and the issuer at the foot."""
    h = _hash("fuhyo" + municipality.lg_code)
    sheet = _Sheet((h >> 4) % 41 - 20, (h >> 12) % 41 - 20, FUHYO_FIELDS)
    sheet.text("戸籍の附票の写し", 860, 110, 80, anchor="title")
    x0, x1, xl = 150, 2330, 700
    sheet.rect(x0, 260, x1, 480, 4)
    sheet.rule(x0, 370, x1, 370, 2)
    sheet.rule(xl, 260, xl, 480, 2)
    sheet.text("本　　籍", x0 + 40, 290, 46)
    sheet.zone("domicile", xl + 20, 272, x1 - xl - 40, 88)
    sheet.text("筆　頭　者", x0 + 40, 400, 46)
    sheet.zone("register_head", xl + 20, 382, x1 - xl - 40, 88)
    rows = ["name", "address", "address_since", "birth_date", "sex", "resident_code"]
    y0, rh = 600, 120
    sheet.rect(x0, y0, x1, y0 + rh * len(rows), 4)
    sheet.rule(xl, y0, xl, y0 + rh * len(rows), 2)
    for i, field in enumerate(rows):
        y = y0 + i * rh
        if i:
            sheet.rule(x0, y, x1, y, 2)
        sheet.text(FUHYO_FIELDS[field][0], x0 + 30, y + 36, 42)
        width = x1 - xl - 40 if field in ("name", "address") else 900
        sheet.zone(field, xl + 20, y + 14, width, rh - 28)
    bottom = y0 + rh * len(rows)
    sheet.text("以下余白", 1900, bottom + 60, 42)
    sheet.text("これは、戸籍の附票の原本と相違ないことを証明する。", 200, 3000, 46)
    sheet.text(f"{municipality.full_name}長", 1300, 3180, 60, anchor="issuer")
    return _municipal(
        DocumentType.fuhyo_copy,
        municipality,
        sheet,
        "fuhyo-yoko",
        (A4_W, A4_H),
        "戸籍の附票の写し",
        date(2024, 5, 27),
    )


def _card(
    sheet: _Sheet,
    layout: list[tuple[str, tuple[int, int, int, int], int | None]],
    label_size: int = 24,
) -> None:
    """Zones at (x, y, w, h) with their label printed at ``label_x`` (None: no label)."""
    for field, (x, y, w, h), label_x in layout:
        if label_x is not None:
            sheet.text(sheet.fields[field][0], label_x, y + 12, label_size)
        sheet.zone(field, x, y, w, h)


def special_permanent_resident_certificate() -> OcrTemplate:
    """特別永住者証明書表面 (layout simplified; synthetic): 氏名 in Latin letters, 生年月日 (西暦),
    性別, 国籍・地域, 住居地, 有効期間の満了日 and the number top right; no 在留資格."""
    sheet = _Sheet(0, 0, SPECIAL_PERMANENT_FIELDS)
    sheet.rect(6, 6, CARD_W - 6, CARD_H - 6, 4)
    sheet.rect(16, 16, CARD_W - 16, CARD_H - 16, 1)
    sheet.text("特別永住者証明書", 36, 26, 42, anchor="title")
    sheet.text("番号", 610, 34, 24)
    _card(
        sheet,
        [
            ("card_number", (670, 22, 320, 54), None),
            ("name", (130, 100, 640, 56), 30),
            ("birth_date", (170, 180, 330, 48), 30),
            ("sex", (600, 180, 80, 48), 540),
            ("nationality", (190, 250, 420, 48), 30),
            ("address", (130, 320, 660, 52), 30),
            ("expiry", (330, 470, 360, 48), 30),
        ],
    )
    sheet.rect(800, 100, 985, 340, 2)
    sheet.text("写真", 860, 200, 34)
    sheet.text("日本国政府", 40, 560, 30)
    return OcrTemplate(
        doc_type=DocumentType.special_permanent_resident_certificate,
        issuer="isa",
        version=VERSION,
        label="特別永住者証明書表面（合成）",
        valid_from=date(2012, 7, 9),
        synthetic=True,
        reference=ReferenceImage(width=CARD_W, height=CARD_H, dpi=300),
        anchors=sheet.anchors,
        layout=Layout(
            family="special-permanent", printed=sheet.printed, rules=sheet.rules, security_pattern="#e0d8f0"
        ),
        zones=sheet.zones,
        mapping=sheet.mapping(),
    )


def drivers_license() -> OcrTemplate:
    """運転免許証表面 (layout simplified; synthetic): 氏名 and 生年月日 on the first line, 住所, 交付,
    the 有効期限 band, the 12-digit 番号 (its 11th digit a check digit) and the 公安委員会 at the foot.
    No 性別 and no 本籍 (only in the chip since IC licences)."""
    sheet = _Sheet(0, 0, LICENSE_FIELDS)
    sheet.rect(6, 6, CARD_W - 6, CARD_H - 6, 4)
    sheet.text("氏名", 24, 34, 26)
    sheet.zone("name", 90, 20, 400, 56)
    sheet.zone("birth_date", 540, 20, 300, 56)
    sheet.text("生", 850, 34, 26)
    sheet.rule(12, 86, CARD_W - 12, 86, 2)
    sheet.text("住所", 24, 104, 26)
    sheet.zone("address", 90, 92, 900, 56)
    sheet.rule(12, 156, CARD_W - 12, 156, 2)
    sheet.text("交付", 24, 172, 26)
    sheet.zone("issued_on", 90, 160, 320, 50)
    sheet.rect(12, 222, 700, 292, 3)
    sheet.zone("expiry", 60, 230, 360, 54)
    sheet.text("まで有効", 440, 246, 30)
    sheet.text("免許の条件等", 24, 310, 24)
    sheet.text("番号", 24, 420, 28)
    sheet.zone("license_number", 100, 406, 420, 56)
    sheet.text("二・小・原", 24, 480, 24)
    sheet.text("他", 24, 520, 24)
    sheet.text("運転免許証", 300, 560, 44, anchor="title")
    sheet.text("公安委員会", 740, 570, 30)
    sheet.rect(740, 170, 985, 470, 2)
    sheet.text("写真", 830, 300, 34)
    return OcrTemplate(
        doc_type=DocumentType.drivers_license,
        issuer="npa",
        version=VERSION,
        label="運転免許証表面（合成）",
        valid_from=date(2007, 1, 4),
        synthetic=True,
        reference=ReferenceImage(width=CARD_W, height=CARD_H, dpi=300),
        anchors=sheet.anchors,
        layout=Layout(
            family="drivers-license", printed=sheet.printed, rules=sheet.rules, security_pattern="#d0e4f4"
        ),
        zones=sheet.zones,
        mapping=sheet.mapping(),
    )


def all_templates() -> list[OcrTemplate]:
    municipal = municipal_issuers()
    return (
        [move_out_certificate(m) for m in derived_issuers()]
        + [my_number_card(), residence_card()]
        + [move_out_certificate_equivalent(m) for m in municipal]
        + [move_out_certificate_info()]
        + [koseki_certificate(m) for m in municipal]
        + [fuhyo_copy(m) for m in municipal]
        + [special_permanent_resident_certificate(), drivers_license()]
    )


def template_path(root: Path, template: OcrTemplate) -> Path:
    return root / template.doc_type.value / template.issuer / f"{template.version}.yaml"


def write_all(root: Path) -> int:
    """Write every synthetic template under ``root`` (``form_templates/ocr``); returns the count."""
    templates = all_templates()
    for template in templates:
        path = template_path(root, template)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = template.model_dump(mode="json", exclude_defaults=True)
        path.write_text(
            "# 合成テンプレート: client/core/ocr/families.py が生成。実物の見本で置き換えること。\n"
            + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=200, default_flow_style=None),
            encoding="utf-8",
        )
    return len(templates)


if __name__ == "__main__":  # pragma: no cover
    print(write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "form_templates/ocr")))
