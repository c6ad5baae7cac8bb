"""Stored text keeps every glyph; the search key folds width, kana, variants and IVS."""

from __future__ import annotations

import pytest

from shared.text.normalize import (
    is_katakana,
    normalize_stored,
    search_key,
    strip_variation_selectors,
    to_fullwidth_katakana,
    to_halfwidth_alnum,
)

KATSU_IVS = "\u845b\U000e0100"  # 葛󠄀 (葛 + VS17)
TSUCHI_YOSHI = "\U00020bb7"  # 𠮷


def test_stored_keeps_ivs_and_non_bmp() -> None:
    """normalize_stored keeps 葛󠄀 (U+845B U+E0100) and 𠮷 exactly, only trimming outer spaces."""
    assert normalize_stored(f"　{KATSU_IVS}飾 ") == f"{KATSU_IVS}飾"
    assert normalize_stored(f"{TSUCHI_YOSHI}田") == f"{TSUCHI_YOSHI}田"
    assert len(normalize_stored(KATSU_IVS)) == 2


def test_stored_is_nfc_without_compatibility_folding() -> None:
    """Stored text is NFC (composed kana) but full-width and half-width forms are not folded."""
    assert normalize_stored("か\u3099") == "が"
    assert normalize_stored("ＡＢＣ") == "ＡＢＣ"
    assert normalize_stored("髙橋") == "髙橋"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("髙﨑 ﾀﾛｳ", "高崎たろう"),
        (f"{KATSU_IVS}飾", "葛飾"),
        (f"{TSUCHI_YOSHI}田", "吉田"),
        ("ＹＡＭＡＤＡ", "yamada"),
        ("サイトウ", "さいとう"),
        ("齋藤", "斎藤"),
        ("渡邊", "渡辺"),
        ("キョウコ", "きようこ"),
        ("ジョン・スミス", "じよんすみす"),
    ],
)
def test_search_key_folds(a: str, b: str) -> None:
    """Two spellings of one name share a search key (width, kana, small kana, variants, IVS, 中黒)."""
    assert search_key(a) == search_key(b)


def test_search_key_keeps_different_names_apart() -> None:
    """Names that differ in a real character keep different keys."""
    assert search_key("高橋") != search_key("高椅")
    assert search_key("さとう") != search_key("さいとう")


def test_helpers() -> None:
    """Kana and width helpers convert as the フリガナ and number fields need."""
    assert to_fullwidth_katakana("ﾔﾏﾀﾞ たろう") == "ヤマダ タロウ"
    assert to_halfwidth_alnum("ＡＢ１２３") == "AB123"
    assert is_katakana("ヤマダ　タロウ")
    assert not is_katakana("山田")
    assert strip_variation_selectors(KATSU_IVS) == "葛"
