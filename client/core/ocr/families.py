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
MOVE_OUT_FIELDS: dict[str, tuple[str, ZoneType, str]] = {
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


def _reading(kind: ZoneType) -> ReadingSettings:
    if kind in (ZoneType.resident_code, ZoneType.my_number, ZoneType.digits, ZoneType.postal_code):
        return ReadingSettings(language="jpn", psm=7, whitelist=DIGITS + "-")
    if kind is ZoneType.sex:
        return ReadingSettings(language="jpn", psm=10)  # one character
    return ReadingSettings(language="jpn", psm=7)


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


class _Sheet:
    """Collects printed text, rules and zones while a family lays out one page."""

    def __init__(self, dx: int, dy: int) -> None:
        self.dx, self.dy = dx, dy
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
        label, kind, _ = MOVE_OUT_FIELDS[field]
        box = Box(x=x + self.dx, y=y + self.dy, width=w, height=h)
        self.zones.append(
            Zone(field=field, label=label, type=kind, box=box, reading=_reading(kind), required=True)
        )


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
        mapping={field: path for field, (_, _, path) in MOVE_OUT_FIELDS.items()},
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


def all_templates() -> list[OcrTemplate]:
    return [move_out_certificate(m) for m in derived_issuers()] + [my_number_card(), residence_card()]


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
