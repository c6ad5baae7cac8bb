"""Parse and validate what OCR read in one zone, by the zone's type.

Tesseract's confidence does not flag wrong characters (太郎→太朗 at 98, D_ocr_cards.md §1.7): the
validators here (和暦, check digits, code tables, the municipality list) are the safety net, and
every name still needs the clerk's confirmation against the scan crop.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from shared.codes.countries import all_countries, find_country_by_name
from shared.codes.municipalities import all_municipalities, all_prefectures
from shared.codes.relationship import normalize_relationship
from shared.codes.residence_status import all_statuses, find_status
from shared.errors import InvalidInput
from shared.schemas.ocr_template import ZoneType
from shared.text.checkdigit import normalize_my_number, normalize_resident_code
from shared.text.normalize import is_katakana, to_fullwidth_katakana
from shared.text.wareki import parse_date

from .glyph_check import KANA_KANJI
from .towns import KE_NOTE, check_town, fold_ke, posted_cities
from .variants import ADDRESS_OLD_FORMS

_CJK_SPACE = re.compile(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])")


@dataclass(frozen=True)
class Parsed:
    """The text to show, the value for the data model, and why validation failed (None: valid)."""

    text: str
    value: str | None
    problem: str | None = None
    note: str | None = None  # e.g. a correction the clerk must confirm
    #: The note only asks to check a reading that no rule changed (a 町域 missing from the postal
    #: data: 住居表示 and postal 町域 differ in places); a repair leaves this False.
    unchanged: bool = False


def tidy(text: str) -> str:
    """One line, NFC, no spaces between Japanese characters (Tesseract puts some in)."""
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    return _CJK_SPACE.sub("", text)


#: Types where one gap is meaningful: 氏　名, フリガナ, 住所　方書.
SPACED = {ZoneType.name, ZoneType.kana, ZoneType.address}


def spaced(raw: str) -> str:
    """Keep a single gap as the 全角 space (氏　名, 住所　方書); more gaps are Tesseract noise."""
    parts = unicodedata.normalize("NFC", raw).split()
    return "　".join(parts) if len(parts) == 2 else "".join(parts)


def comparable(text: str) -> str:
    """The form two readings are compared in: NFKC, no spaces at all."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).replace("　", "")


def parse(kind: ZoneType, raw: str, field: str | None = None) -> Parsed:
    """Interpret ``raw`` OCR text as a value of ``kind`` (a ``text`` zone by the grammar of its
    ``field`` name in :data:`TEXT_GRAMMARS`, if it has one)."""
    text = tidy(raw)
    if kind in SPACED:
        text = spaced(raw)
    if not text:
        return Parsed("", None, "読み取れませんでした。")
    parser = _PARSERS.get(kind, _plain)
    if kind is ZoneType.text and field in TEXT_GRAMMARS:
        parser = TEXT_GRAMMARS[field]
    try:
        return parser(text)
    except InvalidInput as exc:
        return Parsed(text, None, exc.message)


def _plain(text: str) -> Parsed:
    return Parsed(text, text)


def _is_katakana_char(char: str) -> bool:
    return "\u30a1" <= char <= "\u30fa" or char == "ー"


def _is_kanji(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf" or char in "々〆"


def kana_kanji_swaps(text: str) -> str:
    """A name with the kanji and katakana that print alike (八/ハ, 口/ロ, 卜/ト …) put back by their
    neighbours: a kanji of the pair next to katakana is the katakana (加藤卜メ → 加藤トメ), a
    katakana of the pair with only kanji beside it is the kanji (山ロ → 山口)."""
    to_kanji = {kana: kanji for kanji, kana in KANA_KANJI.items()}
    chars = list(text)
    for i, char in enumerate(text):
        beside = [text[j] for j in (i - 1, i + 1) if 0 <= j < len(text) and text[j] not in "　 "]
        if char in KANA_KANJI and any(_is_katakana_char(c) for c in beside):
            chars[i] = KANA_KANJI[char]
        elif char in to_kanji and beside and all(_is_kanji(c) for c in beside):
            chars[i] = to_kanji[char]
    return "".join(chars)


def _name(text: str) -> Parsed:
    fixed = kana_kanji_swaps(text)
    if fixed != text:
        return Parsed(fixed, fixed, note="カタカナと漢字の取り違えを補正しました。確認してください。")
    return Parsed(text, text)


def _kana(text: str) -> Parsed:
    kana = to_fullwidth_katakana(text).replace(" ", "　")
    if not is_katakana(kana.replace("　", "")):
        return Parsed(kana, None, "フリガナにカタカナ以外の文字があります。")
    return Parsed(kana, kana)


_DAY_END = re.compile(r"(月\d{1,2})(?:[H日口曰目]|)[^\d]*$")


_ERAS = {"明": "明治", "大": "大正", "昭": "昭和", "平": "平成", "令": "令和"}
_ERA_MISREAD = re.compile(r"^([明大昭平令])([^治正和成\d元])(?=(?:元|\d{1,2})年)")


def _date(text: str) -> Parsed:
    """和暦/西暦; a last 日 that OCR lost or misread (H, 口, 曰) is restored from the date grammar;
    an era whose first character is read right and second wrong (令利, 昭利) is the one era that
    starts so, with a note to confirm."""
    text = _DAY_END.sub(r"\1日", text)
    try:
        return Parsed(text, parse_date(text).isoformat())
    except InvalidInput:
        fixed = _ERA_MISREAD.sub(lambda m: _ERAS[m.group(1)], text)
        if fixed == text:
            raise
    return Parsed(fixed, parse_date(fixed).isoformat(), note="元号を補正しました。確認してください。")


def _digits_only(text: str) -> str:
    return re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", text))


def _resident_code(text: str) -> Parsed:
    return Parsed(text, normalize_resident_code(_digits_only(text)))


def _my_number(text: str) -> Parsed:
    return Parsed(text, normalize_my_number(_digits_only(text)))


_LICENSE_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def license_check_digit(first_ten: str) -> int:
    """運転免許証番号 digit 11 as unofficial sources describe it (D_ocr_cards.md §1.8): weights
    5 4 3 2 7 6 5 4 3 2, 11 − the remainder mod 11, its last digit. No official spec was found."""
    total = sum(int(d) * w for d, w in zip(first_ten, _LICENSE_WEIGHTS, strict=True))
    return (11 - total % 11) % 10


def _license_number(text: str) -> Parsed:
    """12 digits; a check digit that does not agree is a note to confirm, not a refusal (the rule
    is unofficial)."""
    digits = _digits_only(text)
    if len(digits) != 12:
        return Parsed(text, None, "運転免許証の番号は12桁の数字です。")
    if license_check_digit(digits[:10]) != int(digits[10]):
        return Parsed(digits, digits, note="免許証番号の検査数字が一致しません。券面と照合してください。")
    return Parsed(digits, digits)


def _postal_code(text: str) -> Parsed:
    digits = _digits_only(text)
    if len(digits) != 7:
        return Parsed(text, None, "郵便番号は7桁の数字です。")
    return Parsed(text, f"{digits[:3]}-{digits[3:]}")


def _sex(text: str) -> Parsed:
    if text in ("男", "女"):
        return Parsed(text, "1" if text == "男" else "2")
    return Parsed(text, None, "性別は「男」か「女」です。")


def _relationship(text: str) -> Parsed:
    return Parsed(text, normalize_relationship(text))


#: A 丁目 OCR broke (三目, 三日, 三丁日): only before the 番地 number or at the end, since real
#: 町域 hold 日 after a numeral (四日市, 二日町, 一日市場).
_CHOME = re.compile(r"(?<=[一二三四五六七八九十])(?:[」上下]?[目日]|丁[目日月])(?=[0-9０-９]|$)")


def is_real_place(address: str) -> bool:
    """The 都道府県 + (郡) 市区町村 are known and the 町域 is one of Japan Post's (or the postal data
    lists none for the municipality)."""
    parts = split_address(address)
    if parts is None:
        return False
    prefecture, municipality, rest, _ = parts
    if "郡" in municipality and (prefecture, municipality) not in posted_cities():
        return False
    return check_town(prefecture, _GUN_PREFIX.sub("", municipality), rest)[1] in (None, KE_NOTE)


_OLD_FORMS = str.maketrans(ADDRESS_OLD_FORMS)


def _address(text: str) -> Parsed:
    """住所: 丁目 restored where OCR broke it, old forms folded when that makes it a real place, the
    都道府県+市区町村 checked against the code table and corrected when it is one or two characters
    off a single known name."""
    main, gap, building = text.replace(" ", "　").partition("　")
    main = _CHOME.sub("丁目", main)
    notes = []
    folded = main.translate(_OLD_FORMS)
    if folded != main and is_real_place(folded) and not is_real_place(main):
        main = folded
        notes.append("旧字体を住所の表記に直しました。確認してください。")
    parts = split_address(main)
    if parts is None:
        fixed = correct_municipality(main)
        if fixed is None:
            return Parsed(main + gap + building, None, "住所の都道府県・市区町村が一覧と一致しません。")
        main = fixed
        notes.append("市区町村名を一覧の表記に補正しました。確認してください。")
        parts = split_address(main)
    repaired = bool(notes)
    if parts is not None and parts[2].startswith("郡"):  # 多摩市郡瑞穂町: 西多摩郡 misread
        return Parsed(main + gap + building, None, "住所の都道府県・市区町村が一覧と一致しません。")
    if parts is not None:
        prefecture, municipality, rest, _ = parts
        gun = posted_gun(prefecture, municipality)
        if gun != municipality:
            main = main.replace(municipality, gun, 1)
            municipality = gun
            notes.append("郡名を郵便番号データの表記に補正しました。確認してください。")
            repaired = True
        town_rest, town_note = check_town(prefecture, _GUN_PREFIX.sub("", municipality), rest)
        if town_note is not None:
            main = main[: len(main) - len(rest)] + town_rest
            notes.append(town_note)
            repaired = repaired or fold_ke(town_rest) != fold_ke(rest)  # ケ/ヶ alone: 要確認
    text = main + gap + building
    note = " ".join(notes) or None
    if not _plausible_block(main):
        return Parsed(text, None, "住所の番地・号の表記が読み取れません。", note)
    return Parsed(text, text, note=note, unchanged=note is not None and not repaired)


_GUN_PREFIX = re.compile(r"^.{1,4}郡")


def posted_gun(prefecture: str, municipality: str) -> str:
    """``municipality`` (郡 + 町村, as read) with its 郡 as Japan Post writes it when the 郡 read is
    not one (為珠郡能登町 → 鳳珠郡能登町) and exactly one 郡 of the prefecture has that 町村."""
    if "郡" not in municipality or (prefecture, municipality) in posted_cities():
        return municipality
    town = _GUN_PREFIX.sub("", municipality)
    found = {
        city
        for pref, city in posted_cities()
        if pref == prefecture and city.endswith("郡" + town) and _GUN_PREFIX.sub("", city) == town
    }
    return next(iter(found)) if len(found) == 1 else municipality


#: Five digits, or four not followed by 番 (rural 番地 reach 2823番地; 1711号 lost its 番).
_LONG_NUMBER = re.compile(r"\d{5,}|\d{4}(?!\d|番)")
_GO_WITHOUT_BAN = re.compile(r"^[^番]*\d+号")
#: Between two numbers of a 番地 only 番, 番地, 号, 地割, の, ノ or a dash stand (17縣11 is a misread 番).
_BETWEEN_NUMBERS = re.compile(r"\d(?!番地|地割)[^\d番号のノ之\-‐－−ー]\d")


#: 17番11 at the end: a 号 was lost (番地 numbers are written 17番地11, not 17番11).
_BAN_THEN_NUMBER = re.compile(r"\d番\d+$")


def _plausible_block(address: str) -> bool:
    """番地・号 as addresses write them: no number of five digits, nor of four unless a 番 follows
    (a lost 番 joins two),
    no 号 without a 番 before it (12番3号, 456番地, 7-8 are fine), nothing else between two numbers."""
    return not (
        _LONG_NUMBER.search(address)
        or _BETWEEN_NUMBERS.search(address)
        or _BAN_THEN_NUMBER.search(address)
        or ("号" in address and "番" not in address and _GO_WITHOUT_BAN.search(address))
    )


@cache
def _municipality_names() -> tuple[str, ...]:
    return tuple(m.full_name for m in all_municipalities())


def correct_municipality(address: str) -> str | None:
    """Replace a misread 都道府県+市区町村 prefix by the one known name it is closest to
    (difflib ratio ≥ 0.75 and 0.05 ahead of the next name)."""
    best: list[tuple[float, str, int]] = []  # the two best (ratio, name, length read)
    for name in _municipality_names():
        for length in (len(name) - 1, len(name), len(name) + 1):
            matcher = difflib.SequenceMatcher(None, address[:length], name, autojunk=False)
            # Upper bounds first: a name that cannot reach 0.70 can neither be chosen (0.75) nor
            # make the choice ambiguous (within 0.05 of it); most of the 1,741 stop here.
            if matcher.real_quick_ratio() < 0.70 or matcher.quick_ratio() < 0.70:
                continue
            ratio = matcher.ratio()
            if ratio >= 0.70:
                best.append((ratio, name, length))
    scored: dict[str, tuple[float, int]] = {}
    for ratio, name, length in best:
        if ratio > scored.get(name, (0.0, 0))[0]:
            scored[name] = (ratio, length)
    ranked = sorted(scored.items(), key=lambda item: -item[1][0])
    if not ranked:
        return None
    name, (ratio, length) = ranked[0]
    runner_up = ranked[1][1][0] if len(ranked) > 1 else 0.0
    if ratio < 0.75 or ratio - runner_up < 0.05:  # not close enough, or ambiguous (鴨川市/市川市)
        return None
    return name + address[length:]


def _roman_name(text: str) -> Parsed:
    name = " ".join(unicodedata.normalize("NFKC", text).upper().replace(",", " ").split())
    name = name.strip("\"'“”‘’.,:;|_-` ")
    if not re.fullmatch(r"[A-Z][A-Z .'-]*", name):
        return Parsed(name, None, "ローマ字氏名に英字以外の文字があります。")
    return Parsed(name, name)


def _residence_card_number(text: str) -> Parsed:
    number = re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{8}[A-Z]{2}", number):
        return Parsed(number, None, "在留カード等の番号は英字2桁・数字8桁・英字2桁です。")
    return Parsed(number, number)


def _nationality(text: str) -> Parsed:
    """国籍・地域 by its Japanese name; a misread name is corrected when one is clearly closest."""
    country = find_country_by_name(text)
    if country is not None:
        return Parsed(text, country.alpha_2)
    names = {c.name_ja: c for c in all_countries()}
    name = closest(text, names)
    if name is None:
        return Parsed(text, None, "国籍・地域が一覧にありません。")
    return Parsed(name, names[name].alpha_2, note="国籍・地域を一覧の表記に補正しました。確認してください。")


def closest(text: str, names: Iterable[str], *, minimum: float = 0.6, margin: float = 0.1) -> str | None:
    """The one name ``text`` is clearly closest to (similarity ≥ minimum, ahead of the next by margin)."""
    ranked = sorted(((difflib.SequenceMatcher(None, text, n).ratio(), n) for n in names), reverse=True)
    if not ranked or ranked[0][0] < minimum or (len(ranked) > 1 and ranked[0][0] - ranked[1][0] < margin):
        return None
    return ranked[0][1]


def _residence_status(text: str) -> Parsed:
    status = find_status(text)
    if status is not None:
        return Parsed(status.name_ja, status.name_ja)
    name = closest(text, (s.name_ja for s in all_statuses()))
    if name is None:
        return Parsed(text, None, "在留資格が一覧にありません。")
    return Parsed(name, name, note="在留資格を一覧の表記に補正しました。確認してください。")


_PERIOD = re.compile(r"^(?=.)(?:[1-9]\d?年)?(?:[1-9]\d?月)?(?:[1-9]\d?日)?$")


def _period_of_stay(text: str) -> Parsed:
    """在留期間 as the card prints it: 年, 月 and 日 counts (5年, 1年3月, 90日), or 無期限
    (永住者). A number lost between them (1年3月 → 1年月) fails."""
    text = unicodedata.normalize("NFKC", text).replace(" ", "")
    if text in ("無期限", "定めなし") or _PERIOD.match(text):
        return Parsed(text, text)
    return Parsed(text, None, "在留期間は「5年」「1年3月」「90日」の形です。")


_KOSEKI_CHILD = re.compile(r"^(?:長|[二三四五六七八九]|十[一二三四五六七八九]?)[男女]$")


def _koseki_relationship(text: str) -> Parsed:
    """戸籍の続柄 of a child: 長男, 二女, 十一男 …; 養子・養女; 男・女 (older entries of a child
    born outside marriage); 子."""
    if _KOSEKI_CHILD.match(text) or text in ("養子", "養女", "男", "女", "子"):
        return Parsed(text, text)
    return Parsed(text, None, "戸籍の続柄（長男・二女など）として読み取れません。")


def _municipality_name(text: str) -> Parsed:
    """A 都道府県+市区町村 name alone (転出元市区町村), checked against the code table and
    corrected like an address's."""
    text = text.replace("　", "")
    names = set(_municipality_names())
    if text in names:
        return Parsed(text, text)
    fixed = correct_municipality(text)
    if fixed is None or fixed not in names:
        return Parsed(text, None, "市区町村名が一覧と一致しません。")
    return Parsed(fixed, fixed, note="市区町村名を一覧の表記に補正しました。確認してください。")


#: Grammars of ``text`` zones by the zone's field name (free text has none).
TEXT_GRAMMARS = {
    "period": _period_of_stay,
    "koseki_relationship": _koseki_relationship,
    "from_municipality": _municipality_name,
}


def has_grammar(kind: ZoneType, field: str) -> bool:
    """Whether a reading of this zone can be told wrong (and is worth reading again)."""
    return kind is not ZoneType.text or field in TEXT_GRAMMARS


_PARSERS = {
    ZoneType.roman_name: _roman_name,
    ZoneType.residence_card_number: _residence_card_number,
    ZoneType.nationality: _nationality,
    ZoneType.residence_status: _residence_status,
    ZoneType.name: _name,
    ZoneType.kana: _kana,
    ZoneType.date: _date,
    ZoneType.resident_code: _resident_code,
    ZoneType.my_number: _my_number,
    ZoneType.postal_code: _postal_code,
    ZoneType.license_number: _license_number,
    ZoneType.sex: _sex,
    ZoneType.relationship: _relationship,
    ZoneType.address: _address,
}


def split_address(text: str) -> tuple[str, str, str, str] | None:
    """(都道府県, 市区町村, rest, lg_code) when the address starts with a known municipality."""
    for prefecture in all_prefectures():
        if not text.startswith(prefecture.name):
            continue
        rest = text[len(prefecture.name) :]
        candidates = [m for m in all_municipalities() if m.prefecture == prefecture.name]
        for m in sorted(candidates, key=lambda m: -len(m.name)):
            if rest.startswith(m.name):
                return prefecture.name, m.name, rest[len(m.name) :], m.lg_code
            gun = re.match(r"^(.{1,4}郡)" + re.escape(m.name), rest)
            if gun:
                return prefecture.name, gun.group(1) + m.name, rest[gun.end() :], m.lg_code
    return None
