"""The kanji index: one SQLite file built on first use from this machine's data (see
:mod:`.sources`), cached in the client's data folder and rebuilt when a source file changes.

Only characters IPAmj明朝 can draw are indexed (the font's cmap), so whatever the search offers can
be printed. Each character carries:

- readings (音・訓・名乗り, hiragana; kanjidic and Unihan kJapaneseOn/Kun),
- 康熙部首 number and residual strokes (Unihan kRSUnicode, kanjidic B),
- total strokes, every count a source gives (Unihan kTotalStrokes, kanjidic S, and for a character
  that is its radical's own variant, the radical's count) — 髙 is 11 in Unihan and 10 as 高 is,
- variants (Unihan kSemanticVariant, kZVariant, kSpoofingVariant, kTraditionalVariant,
  kSimplifiedVariant, kCompatibilityVariant), so 高 finds 髙 and 吉 finds 𠮷,
- the ideographic variation sequences IPAmj明朝 defines on it, with their MJ文字図形名.

:func:`KanjiIndex.search` combines any of reading / radical / residual / total strokes / code; a
code is a character, ``U+9AD9``, ``9AD9``, ``845B E0102`` or an MJ文字図形名 (``MJ022335``).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from client.core.print.fonts import find_font, read_variants

from . import sources

SCHEMA_VERSION = 2
VARIANT_FIELDS = {
    "kSemanticVariant",
    "kZVariant",
    "kSpoofingVariant",
    "kTraditionalVariant",
    "kSimplifiedVariant",
    "kCompatibilityVariant",
    "kSpecializedSemanticVariant",
}
_CODE = re.compile(r"^(?:U\+)?([0-9A-F]{4,6})$", re.IGNORECASE)
_MJ = re.compile(r"^MJ\d{6}$", re.IGNORECASE)


@dataclass(frozen=True)
class Sequence:
    """An IVS IPAmj明朝 defines: the text to insert and the glyph's MJ文字図形名."""

    text: str
    glyph: str

    @property
    def selector(self) -> int:
        return ord(self.text[-1])


@dataclass
class Kanji:
    """One search result."""

    char: str
    radical: int | None
    residual: int | None
    strokes: list[int] = field(default_factory=list)
    readings: list[str] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)  # other characters (Unihan)
    sequences: list[Sequence] = field(default_factory=list)  # IVS of this character

    @property
    def code(self) -> str:
        return f"U+{ord(self.char):04X}"


def default_index_path() -> Path:
    """``<client data folder>/kanji/index-v<N>.sqlite3``."""
    from client.app.settings import default_data_dir

    return default_data_dir() / "kanji" / f"index-v{SCHEMA_VERSION}.sqlite3"


def _source_stamp(font: Path) -> str:
    files = [font, sources.KANJIDIC, *sorted(sources.UNIHAN_DIR.glob("Unihan_*"))]
    return ";".join(f"{p.name}:{p.stat().st_size}:{int(p.stat().st_mtime)}" for p in files if p.exists())


def _is_ideograph(cp: int) -> bool:
    return (
        0x3400 <= cp <= 0x9FFF
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x3FFFF
        or cp in (0x3005, 0x3006, 0x3007)
    )


def build(path: Path, font: Path | None = None) -> None:
    """Build the index at ``path`` (atomically: a half-built file never replaces a good one)."""
    from fontTools.ttLib import TTFont as FtFont

    font = font or find_font()
    ft = FtFont(str(font), lazy=True)
    in_font = {cp for cp in ft.getBestCmap() if _is_ideograph(cp)}
    ft.close()
    table = read_variants(font)

    radical: dict[int, int] = {}
    residual: dict[int, int] = {}
    strokes: dict[int, set[int]] = defaultdict(set)
    readings: dict[int, set[str]] = defaultdict(set)
    variants: dict[int, set[int]] = defaultdict(set)
    fields = {"kRSUnicode", "kTotalStrokes", "kJapaneseKun", "kJapaneseOn", *VARIANT_FIELDS}
    for cp, name, value in sources.unihan_fields(fields):
        if name == "kRSUnicode":
            first = value.split()[0]
            rad_text, res_text = first.split(".")
            radical[cp] = int(rad_text.rstrip("'\""))
            residual[cp] = int(res_text)
        elif name == "kTotalStrokes":
            strokes[cp].update(int(v) for v in value.split())
        elif name in ("kJapaneseKun", "kJapaneseOn"):
            readings[cp].update(sources.romaji_to_hiragana(v) for v in value.split())
        else:
            for v in value.split():
                variants[cp].add(int(v.split("<")[0][2:], 16))
    for kanji, kd_readings, kd_strokes, kd_radical in sources.kanjidic_entries():
        cp = ord(kanji)
        readings[cp].update(kd_readings)
        if kd_strokes:
            strokes[cp].add(kd_strokes)
        if kd_radical and cp not in radical:
            radical[cp] = kd_radical
    radical_strokes = {n: min(strokes.get(ord(c), {0})) for n, c in sources.radical_chars().items()}
    for cp, rad in radical.items():
        # A character that is its radical with nothing added (髙 = 高 + 0) is counted as the radical
        # is; other residual sums are not added (艹 is 3 or 4 strokes, its radical 艸 six).
        if residual.get(cp) == 0 and radical_strokes.get(rad):
            strokes[cp].add(radical_strokes[rad])

    tmp = path.with_suffix(".building")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE chars (cp INTEGER PRIMARY KEY, radical INTEGER, residual INTEGER);
        CREATE TABLE strokes (cp INTEGER, n INTEGER);
        CREATE TABLE readings (cp INTEGER, reading TEXT);
        CREATE TABLE variants (cp INTEGER, other INTEGER);
        CREATE TABLE sequences (cp INTEGER, text TEXT, glyph TEXT);
        """
    )
    db.executemany(
        "INSERT INTO chars VALUES (?, ?, ?)", ((cp, radical.get(cp), residual.get(cp)) for cp in in_font)
    )
    db.executemany(
        "INSERT INTO strokes VALUES (?, ?)", ((cp, n) for cp in in_font for n in strokes.get(cp, ()))
    )
    db.executemany(
        "INSERT INTO readings VALUES (?, ?)", ((cp, r) for cp in in_font for r in readings.get(cp, ()))
    )
    db.executemany(
        "INSERT INTO variants VALUES (?, ?)",
        ((cp, o) for cp in in_font for o in variants.get(cp, ()) if o in in_font and o != cp),
    )
    db.executemany(
        "INSERT INTO sequences VALUES (?, ?, ?)",
        ((ord(v.base), v.text, v.glyph) for v in table.variants.values() if ord(v.base) in in_font),
    )
    db.executescript(
        """
        CREATE INDEX strokes_n ON strokes (n, cp);
        CREATE INDEX strokes_cp ON strokes (cp);
        CREATE INDEX readings_cp ON readings (cp);
        CREATE INDEX readings_r ON readings (reading, cp);
        CREATE INDEX variants_cp ON variants (cp);
        CREATE INDEX sequences_cp ON sequences (cp);
        CREATE INDEX sequences_glyph ON sequences (glyph);
        CREATE INDEX chars_radical ON chars (radical, residual);
        """
    )
    db.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [("schema", str(SCHEMA_VERSION)), ("sources", _source_stamp(font)), ("font", str(font))],
    )
    db.commit()
    db.close()
    tmp.replace(path)


class KanjiIndex:
    """Read-only searches over the index file (built or rebuilt on open when needed)."""

    def __init__(self, path: Path | None = None, *, font: Path | None = None) -> None:
        self.path = path or default_index_path()
        font = font or find_font()
        if not self._current(font):
            build(self.path, font)
        self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()

    def _current(self, font: Path) -> bool:
        if not self.path.exists():
            return False
        try:
            with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as db:
                meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError:
            return False
        return meta.get("schema") == str(SCHEMA_VERSION) and meta.get("sources") == _source_stamp(font)

    def close(self) -> None:
        self.db.close()

    def _rows(self, sql: str, args: Iterable[object] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self.db.execute(sql, tuple(args)).fetchall()

    def search(
        self,
        *,
        reading: str | None = None,
        radical: int | None = None,
        residual: int | None = None,
        strokes: int | None = None,
        code: str | None = None,
        limit: int = 300,
    ) -> list[Kanji]:
        """Characters matching every criterion given; a reading matches as a prefix.

        ``code`` also accepts a character: the result is that character first, then its variants
        (高 → 高, 髙). Otherwise results are ordered by total strokes, then code point.
        """
        where: list[str] = []
        args: list[object] = []
        first: int | None = None
        if code:
            cps = self._code_points(code.strip())
            if not cps:
                return []
            first = cps[0]
            where.append(f"c.cp IN ({','.join('?' * len(cps))})")
            args += cps
        if reading:
            key = sources.kana_key(reading.strip())
            where.append("c.cp IN (SELECT cp FROM readings WHERE reading >= ? AND reading < ?)")
            args += [key, key + "\uffff"]
        if radical is not None:
            where.append("c.radical = ?")
            args.append(radical)
        if residual is not None:
            where.append("c.residual = ?")
            args.append(residual)
        if strokes is not None:
            where.append("c.cp IN (SELECT cp FROM strokes WHERE n = ?)")
            args.append(strokes)
        if not where:
            return []
        # Only the fixed clauses above are joined; every value is a bound parameter.
        clauses = " AND ".join(where)
        sql = (
            "SELECT c.cp, c.radical, c.residual, (SELECT MIN(n) FROM strokes s WHERE s.cp = c.cp) AS m "  # noqa: S608
            "FROM chars c WHERE " + clauses + " ORDER BY m IS NULL, m, c.cp LIMIT ?"
        )
        rows = self._rows(sql, [*args, limit])
        rows.sort(key=lambda r: r[0] != first)  # the character asked for by code comes first
        return [self._kanji(int(cp), rad, res) for cp, rad, res, _m in rows]

    def get(self, char: str) -> Kanji | None:
        rows = self._rows("SELECT cp, radical, residual FROM chars WHERE cp = ?", [ord(char[0])])
        return self._kanji(*rows[0]) if rows else None

    def _kanji(self, cp: int, radical: int | None, residual: int | None) -> Kanji:
        strokes = sorted(int(n) for (n,) in self._rows("SELECT DISTINCT n FROM strokes WHERE cp = ?", [cp]))
        readings = sorted(str(r) for (r,) in self._rows("SELECT reading FROM readings WHERE cp = ?", [cp]))
        variants = [chr(int(o)) for (o,) in self._rows("SELECT other FROM variants WHERE cp = ?", [cp])]
        seqs = [
            Sequence(str(t), str(g))
            for t, g in self._rows("SELECT text, glyph FROM sequences WHERE cp = ? ORDER BY text", [cp])
        ]
        return Kanji(chr(cp), radical, residual, strokes, readings, sorted(set(variants)), seqs)

    def _code_points(self, code: str) -> list[int]:
        if _MJ.match(code):
            rows = self._rows("SELECT cp FROM sequences WHERE glyph = ?", [code.lower()])
            return [int(r[0]) for r in rows]
        parts = code.replace(",", " ").split()
        if parts and all(_CODE.match(p) for p in parts):
            code = "".join(chr(int(p.upper().removeprefix("U+"), 16)) for p in parts)
        chars = [c for c in code if _is_ideograph(ord(c))]
        if not chars:
            return []
        first = ord(chars[0])
        others = [int(o) for (o,) in self._rows("SELECT other FROM variants WHERE cp = ?", [first])]
        return [first, *others]
