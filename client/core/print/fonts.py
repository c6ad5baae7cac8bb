"""IPAmj明朝 for reportlab, with ideographic variation sequences (IVS) drawn as the font defines them.

reportlab reads only the plain cmap of a TrueType font, so ``葛`` + VS (U+E0102) would print as the
default 葛 followed by a .notdef box. The font's own IVS table (cmap format 14, 33 selectors and
11,474 sequences in IPAmj明朝 005.01) says which glyph each sequence means, exactly what HarfBuzz
picks when it shapes the sequence. :class:`MjFont` therefore

1. reads that table with fontTools (≈0.3 s, once per process; nothing is written to disk),
2. gives every sequence a private-use code point U+F0000 + i in reportlab's in-memory cmap, pointing
   at the sequence's glyph (the same glyph id HarfBuzz picks),
3. rewrites each text to those code points before drawing (:meth:`MjFont.encode`), and
4. writes the ToUnicode map of every embedded subset so that a private-use code point maps back to
   its true sequence: text extracted from the PDF (pdftotext, pypdf, copy and paste) equals the
   stored string. Characters outside the BMP (𠮷) are written as UTF-16 surrogate pairs, which
   reportlab's own map gets wrong.

A character the font has no glyph for, or a variation sequence it does not define, raises
:class:`~client.core.print.errors.UnprintableText` with the character and its code: the form is
never printed with a substitute glyph.

The font is embedded as a subset (reportlab's TrueType subsets of ≤ 256 glyphs). The IPA Font
License v1.0 allows embedding in documents.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics, ttfonts

from .errors import FontMissing, UnprintableText

#: Where Debian's ``fonts-ipamj-mincho`` puts the font.
DEFAULT_FONT_PATHS = (
    Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf"),
    Path("/usr/share/fonts/opentype/ipamj/ipamjm.ttf"),
    Path("C:/Windows/Fonts/ipamjm.ttf"),
)
FONT_ENV = "MADOGUCHI_IPAMJ_FONT"
PUA_START = 0xF0000
_VS = "\ufe00-\ufe0f\U000e0100-\U000e01ef"
_SEQUENCE = re.compile(f"(.)([{_VS}])", re.DOTALL)
_LONE_VS = re.compile(f"[{_VS}]")

#: private-use code point → the true sequence, for every MjFont loaded in this process.
_PUA_TEXT: dict[int, str] = {}


def find_font() -> Path:
    """The IPAmj明朝 file: ``MADOGUCHI_IPAMJ_FONT``, the Debian path, or what fontconfig knows."""
    configured = os.environ.get(FONT_ENV)
    if configured:
        if Path(configured).is_file():
            return Path(configured)
        raise FontMissing()
    for path in DEFAULT_FONT_PATHS:
        if path.is_file():
            return path
    fc_match = shutil.which("fc-match")
    if fc_match:
        found = subprocess.run(  # noqa: S603 - fixed program and arguments
            [fc_match, "-f", "%{file}", "IPAmj明朝"], capture_output=True, text=True, check=False
        ).stdout
        if found.endswith("ipamjm.ttf") and Path(found).is_file():
            return Path(found)
    raise FontMissing()


@dataclass(frozen=True)
class Variant:
    """One ideographic variation sequence the font defines."""

    base: str
    selector: str
    glyph: str  # the font's glyph name: IPAmj names glyphs by MJ文字図形名 (mj022335)
    pua: int

    @property
    def text(self) -> str:
        return self.base + self.selector


@dataclass(frozen=True)
class VariantTable:
    """The font's IVS table as reportlab needs it."""

    variants: dict[str, Variant]  # sequence text → Variant
    glyph_ids: dict[int, int]  # private-use code point → glyph id
    widths: dict[int, float]  # private-use code point → advance in 1/1000 em


def read_variants(path: Path) -> VariantTable:
    """Read the font's cmap format 14 with fontTools.

    Sequences are numbered in (selector, base) order so that a private-use code point is stable
    for one font file. Default sequences (drawn with the base glyph) are included too: their text
    must still extract as the sequence.
    """
    from fontTools.ttLib import TTFont as FtFont

    font = FtFont(str(path), lazy=True)
    best = font.getBestCmap()
    table = next((t for t in font["cmap"].tables if t.format == 14), None)
    units = int(font["head"].unitsPerEm)
    hmtx = font["hmtx"]
    variants: dict[str, Variant] = {}
    gids: dict[int, int] = {}
    widths: dict[int, float] = {}
    if table is not None:
        pairs = sorted((vs, base, glyph) for vs, entries in table.uvsDict.items() for base, glyph in entries)
        for i, (vs, base, glyph) in enumerate(pairs):
            name = glyph if glyph is not None else best.get(base)
            if name is None:
                continue
            v = Variant(chr(base), chr(vs), name, PUA_START + i)
            variants[v.text] = v
            gids[v.pua] = font.getGlyphID(name)
            widths[v.pua] = hmtx[name][0] * 1000 / units
    font.close()
    return VariantTable(variants, gids, widths)


class MjFont:
    """IPAmj明朝 registered with reportlab under :attr:`name`, with its IVS usable."""

    name = "IPAmjMincho"

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or find_font()
        self.ttf = ttfonts.TTFont(self.name, str(self.path))
        table = read_variants(self.path)
        self.variants = table.variants
        face = self.ttf.face
        for v in self.variants.values():
            face.charToGlyph[v.pua] = table.glyph_ids[v.pua]
            face.charWidths[v.pua] = table.widths[v.pua]
            _PUA_TEXT[v.pua] = v.text
        pdfmetrics.registerFont(self.ttf)

    def variants_of(self, base: str) -> list[Variant]:
        """Every sequence the font defines on ``base``, in selector order."""
        return [v for v in self.variants.values() if v.base == base]

    def has_glyph(self, char: str) -> bool:
        return ord(char) in self.ttf.face.charToGlyph

    def encode(self, text: str, *, what: str = "") -> str:
        """``text`` with each variation sequence replaced by its private-use code point.

        Raises :class:`UnprintableText` for a character without a glyph or a sequence the font
        does not define; ``what`` names the field in the message (氏名, 住所 …).
        """
        text = unicodedata.normalize("NFC", text)

        def sequence(m: re.Match[str]) -> str:
            v = self.variants.get(m.group(0))
            if v is None:
                raise _unprintable(what, text, m.group(0), variant=True)
            return chr(v.pua)

        encoded = _SEQUENCE.sub(sequence, text)
        lone = _LONE_VS.search(encoded)
        if lone:
            raise _unprintable(what, text, lone.group(0), variant=True)
        for ch in encoded:
            if ch not in "\n\t" and not self.has_glyph(ch):
                raise _unprintable(what, text, ch)
        return encoded

    def width(self, encoded: str, size: float) -> float:
        """Width in points of text already :meth:`encode`-d."""
        return float(pdfmetrics.stringWidth(encoded, self.name, size))


def _code(chars: str) -> str:
    return "+".join(f"U+{ord(c):04X}" for c in chars)


def _unprintable(what: str, text: str, chars: str, *, variant: bool = False) -> UnprintableText:
    where = f"{what}「{text}」" if what else f"「{text}」"
    if variant:
        message = (
            f"{where}の「{chars}」（{_code(chars)}）はIPAmj明朝にない異体字の指定です。"
            "漢字検索で字形を選び直してください。"
        )
    else:
        message = (
            f"{where}の「{chars}」（{_code(chars)}）はIPAmj明朝で印字できません。"
            "文字を確認するか、外字として登録してください。"
        )
    return UnprintableText(message, details=[{"character": chars, "code": _code(chars), "field": what}])


def _utf16_hex(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


def make_to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap, with correct UTF-16 for non-BMP characters and IVS.

    Installed in place of :func:`reportlab.pdfbase.ttfonts.makeToUnicodeCMap`; for BMP characters
    outside the private-use range it writes exactly what reportlab writes.
    """
    entries = [f"<{i:02X}> <{_utf16_hex(_PUA_TEXT.get(code) or chr(code))}>" for i, code in enumerate(subset)]
    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            "/CIDSystemInfo",
            f"<< /Registry ({fontname})",
            f"/Ordering ({fontname})",
            "/Supplement 0",
            ">> def",
            f"/CMapName /{fontname} def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            f"<00> <{len(subset) - 1:02X}>",
            "endcodespacerange",
            f"{len(subset)} beginbfchar",
            *entries,
            "endbfchar",
            "endcmap",
            "CMapName currentdict /CMap defineresource pop",
            "end",
            "end",
        ]
    )


ttfonts.makeToUnicodeCMap = make_to_unicode_cmap

_lock = threading.Lock()
_loaded: MjFont | None = None


def mj_font() -> MjFont:
    """The process-wide :class:`MjFont` (loaded on first use: ≈0.5 s for the 46 MB font)."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = MjFont()
        return _loaded
