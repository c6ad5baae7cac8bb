"""Character forms the recognisers get wrong in a known, explainable way.

:data:`SIMPLIFIED_TO_JAPANESE` — PP-OCRv5 reads Japanese print but its character set is
Chinese-first, so a few Japanese characters come out in their simplified Chinese form (帯 → 带).
A character is mapped back only when it is outside JIS X 0208 (the character set the
certificates print their common forms in; a test checks this) *and* stands for exactly one
Japanese form. The same holds for the Taiwanese forms it outputs for a few (産 → 產, 内 → 內).
PP-OCR outputs traditional forms such as 榮 亞 as themselves, so 荣 亚 are left alone; ambiguous
ones stay as read too (历 could be 歴 or 暦, 泽 沢 or 澤, 滨 浜 or 濱, 龙 竜 or 龍) and fail
validation or go to the clerk.

:func:`variant_note` — both engines fold some 異体字 of names to the common form (髙 → 高,
﨑 → 崎; Tesseract's ``jpn`` model does not know 髙 﨑 邊 邉 德 𠮷 at all, PP-OCR outputs the common
form, neither outputs IVS). The sets are data (``variant_sets.yaml``). A name holding a member of
a set gets a note asking the clerk to compare it with the scan crop (names always need
confirmation anyway); :mod:`~client.core.ocr.glyph_check` re-decides the character only on strong
evidence from several fonts.
"""

from __future__ import annotations

from .glyph_check import set_of

SIMPLIFIED_TO_JAPANESE: dict[str, str] = {
    "带": "帯",
    "县": "県",
    "东": "東",
    "发": "発",
    "长": "長",
    "门": "門",
    "马": "馬",
    "鸟": "鳥",
    "岛": "島",
    "冈": "岡",
    "桥": "橋",
    "间": "間",
    "户": "戸",
    "见": "見",
    "过": "過",
    "乡": "郷",
    "关": "関",
    "宫": "宮",
    "爱": "愛",
    "转": "転",
    "证": "証",
    "书": "書",
    "务": "務",
    "续": "続",
    "妇": "婦",
    "丽": "麗",
    "别": "別",
    "华": "華",
    "绘": "絵",
    "纪": "紀",
    "树": "樹",
    "诚": "誠",
    "贵": "貴",
    "荫": "蔭",
    "產": "産",
    "內": "内",
    "綠": "緑",
    "鄉": "郷",
    "橫": "横",
    "俁": "俣",
}

#: Old forms PP-OCR outputs in place names that are inside JIS X 0208 (so real, and left alone
#: elsewhere): an address is folded with them only when that makes it a real place (the
#: municipality list and Japan Post's 町域) and the reading as it was is not.
ADDRESS_OLD_FORMS: dict[str, str] = {"豐": "豊", "穗": "穂", "溪": "渓", "龜": "亀", "瀨": "瀬", "濱": "浜"}
_TRANSLATE = str.maketrans(SIMPLIFIED_TO_JAPANESE)


def to_japanese(text: str) -> str:
    """``text`` with the unambiguous simplified Chinese forms replaced by the Japanese ones."""
    return text.translate(_TRANSLATE)


def variant_note(text: str) -> str | None:
    """A note for the clerk when ``text`` holds a character that may stand for another 異体字."""
    found = []
    for c in dict.fromkeys(text):
        members = set_of(c)
        if members is not None:
            others = "・".join(m for m in members if m != c)
            found.append(f"「{c}」は原本では「{others}」の場合があります")
    if not found:
        return None
    return "、".join(found) + "。スキャン画像と照合してください。"
