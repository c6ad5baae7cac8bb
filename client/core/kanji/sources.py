"""The data the kanji index is built from, all read from this machine (nothing is downloaded).

====================  ====================================  ===================================
source                Debian package / file                 licence
====================  ====================================  ===================================
Unihan 15.0           ``unicode-data``:                     Unicode License (unicode.org/terms
                      /usr/share/unicode/Unihan_*.txt.bz2   _of_use); attribution kept in docs
CJKRadicals.txt       ``unicode-data``                      Unicode License
KANJIDIC (2022-08)    ``kanjidic``: /usr/share/edict/       EDRDG licence, CC BY-SA 3.0 —
                      kanjidic (EUC-JP)                     the built index is a derived work
IPAmj明朝 IVS table    ``fonts-ipamj-mincho``: ipamjm.ttf   IPA Font License v1.0
                      (cmap format 14, read by fontTools)
====================  ====================================  ===================================

Each reader yields plain tuples; :mod:`.index` puts them in SQLite.
"""

from __future__ import annotations

import bz2
import re
from collections.abc import Iterator
from pathlib import Path

import jaconv

UNIHAN_DIR = Path("/usr/share/unicode")
KANJIDIC = Path("/usr/share/edict/kanjidic")


def unihan_fields(names: set[str], folder: Path = UNIHAN_DIR) -> Iterator[tuple[int, str, str]]:
    """(code point, field, value) for the Unihan fields ``names``, from every Unihan_*.txt(.bz2)."""
    for path in sorted(folder.glob("Unihan_*.txt*")):
        opener = bz2.open if path.suffix == ".bz2" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                if not line.startswith("U+"):
                    continue
                code, field, value = line.rstrip("\n").split("\t", 2)
                if field in names:
                    yield int(code[2:], 16), field, value


def radical_chars(folder: Path = UNIHAN_DIR) -> dict[int, str]:
    """康熙部首番号 → the radical as a unified ideograph (1 → 一), from CJKRadicals.txt."""
    out: dict[int, str] = {}
    with open(folder / "CJKRadicals.txt", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip() or line.startswith("#"):
                continue
            number, _radical, unified = (p.strip() for p in line.split(";"))
            if number.isdigit():
                out[int(number)] = chr(int(unified, 16))
    return out


def romaji_to_hiragana(word: str) -> str:
    """Unihan writes Japanese readings in romaji (TAKAI); the index keeps hiragana."""
    return str(jaconv.alphabet2kana(word.lower()))


def kana_key(text: str) -> str:
    """A reading as searched: hiragana, without okurigana dots or affix marks."""
    return str(jaconv.kata2hira(text)).replace(".", "").replace("-", "")


_KANJIDIC_LINE = re.compile(r"^(\S) [0-9A-F]{4} ")


def kanjidic_entries(path: Path = KANJIDIC) -> Iterator[tuple[str, list[str], int | None, int | None]]:
    """(kanji, readings in hiragana with the stem before okurigana too, strokes, radical)."""
    with open(path, encoding="euc-jp", errors="replace") as fh:
        for line in fh:
            if not _KANJIDIC_LINE.match(line):
                continue
            head = line.split("{", 1)[0].split()
            kanji = head[0]
            strokes = radical = None
            readings: list[str] = []
            for token in head[2:]:
                if token.startswith("S") and token[1:].isdigit() and strokes is None:
                    strokes = int(token[1:])
                elif token.startswith("B") and token[1:].isdigit():
                    radical = int(token[1:])
                elif token.startswith("T") and token[1:].isdigit():
                    continue  # the name readings (名乗り, T1) follow: kept, names are what we search
                elif re.fullmatch(r"[\u3040-\u30ff.\-]+", token):
                    readings.append(kana_key(token))
                    if "." in token:
                        readings.append(kana_key(token.split(".")[0]))
            yield kanji, readings, strokes, radical
