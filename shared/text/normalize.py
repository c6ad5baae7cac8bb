"""Kana and width normalisation, and the search key for names.

Two different things, never to be confused:

- **Stored text** is kept as given, in NFC, with ideographic variation sequences (IVS, e.g.
  ``葛󠄀`` = 葛 + U+E0100) intact. :func:`normalize_stored` only does what cannot change a glyph.
- **Search keys** (:func:`search_key`) fold everything a clerk would consider "the same name":
  width (NFKC), hiragana/katakana, small kana, long-vowel marks, spaces, case, variation
  selectors and the common 異体字 listed in ``variants.tsv``. The key is stored in its own column
  and used only for matching.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources

import jaconv

_VARIATION_SELECTORS = {cp for cp in range(0xFE00, 0xFE10)} | {cp for cp in range(0xE0100, 0xE01F0)}
_SPACES = {" ", "\u3000", "\t", "\u00a0", "・", "･"}
_SMALL_KANA = str.maketrans("ぁぃぅぇぉっゃゅょゎゕゖ", "あいうえおつやゆよわかけ")


def normalize_stored(text: str) -> str:
    """NFC with IVS kept, and outer whitespace stripped. The form names are stored in."""
    return unicodedata.normalize("NFC", text).strip()


def to_fullwidth_katakana(text: str) -> str:
    """Half-width katakana and hiragana → full-width katakana (フリガナ fields)."""
    return jaconv.hira2kata(jaconv.h2z(text, kana=True, ascii=False, digit=False))


def to_hiragana(text: str) -> str:
    return jaconv.kata2hira(jaconv.h2z(text, kana=True, ascii=False, digit=False))


def to_halfwidth_alnum(text: str) -> str:
    """Full-width ASCII letters and digits → half-width (numbers, romaji)."""
    return jaconv.z2h(text, kana=False, ascii=True, digit=True)


def is_katakana(text: str) -> bool:
    """True if ``text`` is only full-width katakana, ー, and spaces."""
    return all(("\u30a1" <= ch <= "\u30fa") or ch in "ーヽヾ" or ch in _SPACES for ch in text)


def strip_variation_selectors(text: str) -> str:
    return "".join(ch for ch in text if ord(ch) not in _VARIATION_SELECTORS)


@lru_cache(maxsize=1)
def _variant_table() -> dict[int, str]:
    """異体字 → 代表字 from ``variants.tsv`` (one pair a line; see the file for sources)."""
    table: dict[int, str] = {}
    text = resources.files("shared.text").joinpath("variants.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        variant, standard = line.split("\t")[:2]
        table[ord(variant)] = standard
    return table


def search_key(text: str) -> str:
    """The key two spellings of one name share: ``髙﨑 ﾀﾛｳ`` and ``高崎たろう`` give the same key."""
    s = strip_variation_selectors(unicodedata.normalize("NFC", text))
    s = s.translate(_variant_table())
    s = unicodedata.normalize("NFKC", s)
    s = jaconv.kata2hira(s)
    s = s.translate(_SMALL_KANA)
    s = "".join(ch for ch in s if ch not in _SPACES and ch != "ー" and ch != "-")
    return s.casefold()
