"""The Qt-free kanji index: readings, radicals, strokes, codes, variants and IVS."""

from __future__ import annotations

from pathlib import Path

from PIL import ImageChops

from client.core.kanji.glyphs import glyph_image, raqm_available
from client.core.kanji.index import KanjiIndex


def _chars(found: list) -> list[str]:  # type: ignore[type-arg]
    return [k.char for k in found]


def test_finds_taka_from_reading(kanji_index: KanjiIndex) -> None:
    """Reading たか (a prefix, hiragana or katakana) finds 髙 and 高."""
    for reading in ("たか", "タカ"):
        chars = _chars(kanji_index.search(reading=reading))
        assert "髙" in chars and "高" in chars


def test_finds_taka_from_its_common_variant(kanji_index: KanjiIndex) -> None:
    """Typing 高 offers 高 and its variant 髙 (Unihan variants)."""
    assert _chars(kanji_index.search(code="高")) == ["高", "髙"]


def test_finds_taka_from_ten_strokes(kanji_index: KanjiIndex) -> None:
    """10 total strokes finds 髙 (counted as its radical 高), alone and with radical 189."""
    assert "髙" in _chars(kanji_index.search(strokes=10, limit=5000))
    assert _chars(kanji_index.search(strokes=10, radical=189)) == ["高", "髙"]


def test_finds_tsuchi_yoshi(kanji_index: KanjiIndex) -> None:
    """𠮷 (U+20BB7, outside the BMP) is found from 吉, from its code, and by radical 30 + 3 strokes."""
    assert "𠮷" in _chars(kanji_index.search(code="吉"))
    assert _chars(kanji_index.search(code="U+20BB7"))[0] == "𠮷"
    assert "𠮷" in _chars(kanji_index.search(radical=30, residual=3))


def test_katsu_has_ipamj_variation_sequences(kanji_index: KanjiIndex) -> None:
    """葛 lists the seven IVS IPAmj明朝 defines (E0102–E0108) with their MJ文字図形名; none is E0100."""
    katsu = kanji_index.get("葛")
    assert katsu is not None
    texts = {s.text: s.glyph for s in katsu.sequences}
    assert texts["葛\U000e0102"] == "mj022335"
    assert {s.selector for s in katsu.sequences} == set(range(0xE0102, 0xE0109))
    assert "葛\U000e0100" not in texts


def test_finds_by_mj_glyph_name(kanji_index: KanjiIndex) -> None:
    """An MJ文字図形名 (MJ022335) finds the character it is a variant of."""
    assert _chars(kanji_index.search(code="MJ022335")) == ["葛"]


def test_nothing_for_nothing(kanji_index: KanjiIndex) -> None:
    """No criteria, or a code that is not a kanji, gives no result rather than everything."""
    assert kanji_index.search() == []
    assert kanji_index.search(code="abc") == []


def test_index_is_reused_and_rebuilt_only_when_stale(kanji_index: KanjiIndex) -> None:
    """Opening the index again reuses the file (same inode) while the sources are unchanged."""
    before = Path(kanji_index.path).stat().st_ino
    again = KanjiIndex(kanji_index.path)
    again.close()
    assert Path(kanji_index.path).stat().st_ino == before


def test_glyph_images_show_the_variant() -> None:
    """Pillow+RAQM draws 葛+E0102 differently from plain 葛 (what the screen shows instead of Qt text)."""
    assert raqm_available()
    plain = glyph_image("葛", 64)
    variant = glyph_image("葛\U000e0102", 64)
    assert ImageChops.difference(plain, variant).getbbox() is not None
