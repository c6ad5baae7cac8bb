"""The glyph check (``glyph_check.py``): 異体字 of names re-decided against drawings of each form
in several fonts, only on strong agreeing evidence.

The lines here are drawn in IPAex明朝 or Noto Serif CJK JP, not in IPAmj明朝 (the font of the
synthetic test documents), so a pass does not come from comparing IPAmj with itself."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from client.core.ocr import glyph_check, image
from client.core.ocr.engines.base import OcrEngine, OcrResult, ReadRequest
from client.core.ocr.pipeline import UNCHANGED_NOTE_CONFIDENCE, read_zone
from client.core.ocr.variants import variant_note
from shared.schemas.ocr_template import Box, ReadingSettings, Zone, ZoneType
from tests.conftest import need

FONTS = {f.name: f for f in glyph_check.installed_fonts()}
NOT_IPAMJ = [name for name in FONTS if "IPAmj" not in name]


@pytest.fixture(autouse=True)
def _three_fonts() -> None:
    """Skipped on a developer's machine without the fonts; a failure in the test command."""
    if len(FONTS) < 3:
        need("fonts-ipamj-mincho, fonts-ipaexfont-mincho and fonts-noto-cjk are needed")


def _line(text: str, font_name: str, size: int = 42, blur: float = 0.0) -> np.ndarray:
    """``text`` printed black on white in the named font, as a cleaned one-line crop."""
    spec = FONTS[font_name]
    canvas = Image.new("L", (size * (len(text) + 2), size * 2), 255)
    ImageDraw.Draw(canvas).text(
        (size, size // 2), text, font=ImageFont.truetype(spec.path, size, index=spec.index), fill=20
    )
    grey = np.asarray(canvas)
    if blur:
        grey = np.asarray(cv2.GaussianBlur(grey, (0, 0), blur), dtype=np.uint8)
    crop, _ = image.clean_zone_pair(grey)
    return image.resize(crop, image.enlargement(crop))


@pytest.mark.parametrize("font_name", NOT_IPAMJ)
@pytest.mark.parametrize(
    ("printed", "read"),
    [("山﨑", "山崎"), ("渡邊", "渡辺"), ("濱田", "浜田"), ("恵子", "惠子"), ("齋藤", "斉藤")],
)
def test_folded_variant_is_restored_from_the_print(printed: str, read: str, font_name: str) -> None:
    """The engine's common form is replaced by the form the page prints, in a font other than
    the test documents' IPAmj明朝."""
    text, decisions = glyph_check.check_part(read, _line(printed, font_name))
    assert text == printed
    assert glyph_check.change_note(decisions) is not None


def test_a_font_drawing_a_form_its_own_way_is_not_decided() -> None:
    """髙 printed in IPAex明朝 is recognised; Noto Serif draws 髙's ladder so that the IPA fonts
    rank 高 and 髙 alike: the fonts disagree, so the reading stays 高 (for the clerk)."""
    assert glyph_check.check_part("高橋", _line("髙橋", "IPAex明朝"))[0] == "髙橋"
    text, decisions = glyph_check.check_part("高橋", _line("髙橋", "Noto Serif CJK JP"))
    assert text == "高橋" and glyph_check.change_note(decisions) is None


@pytest.mark.parametrize("font_name", NOT_IPAMJ)
@pytest.mark.parametrize("printed", ["高橋", "渡辺", "浜田", "斎藤", "山崎"])
def test_common_form_printed_stays(printed: str, font_name: str) -> None:
    """A page printing the common form keeps it: no change and no change note."""
    text, decisions = glyph_check.check_part(printed, _line(printed, font_name))
    assert text == printed
    assert glyph_check.change_note(decisions) is None


def test_weak_evidence_changes_nothing() -> None:
    """The check refuses when the evidence is weak: one font only (however clear the print), a
    character that is not the set at all (田 read as 高), a print blurred into a blot, and a
    crop whose ink cannot be cut into the read number of characters."""
    one_font = (FONTS["IPAex明朝"],)
    assert glyph_check.check_part("高橋", _line("髙橋", "IPAex明朝"), one_font)[0] == "高橋"
    text, decisions = glyph_check.check_part("高橋", _line("田橋", "IPAex明朝"))
    assert text == "高橋" and [d.chosen for d in decisions] == [None]
    assert glyph_check.check_part("高橋", _line("髙橋", "IPAex明朝", size=16, blur=3.0))[0] == "高橋"
    assert glyph_check.check_part("高橋", _line("髙", "IPAex明朝"))[0] == "高橋"


IVS_MJ, IVS_AJ1 = "葛\U000e0102", "葛\U000e0100"  # the same form (人 inside) in two collections


def test_ivs_form_is_decided_by_the_fonts_drawing_its_selector() -> None:
    """葛 printed in its IVS form (here Noto's and IPAex's 葛󠄀, not IPAmj明朝): with IPAmj明朝 among
    the fonts the Moji_Joho sequence 葛󠄂 (listed first) is taken; without it, the Adobe-Japan1
    sequence 葛󠄀 that IPAex明朝 and Noto draw; the common form printed stays 葛."""
    for font_name in NOT_IPAMJ:
        printed = _line(IVS_AJ1 + "西", font_name)
        text, decisions = glyph_check.check_part("葛西", printed)
        assert text == IVS_MJ + "西", font_name
        assert glyph_check.change_note(decisions) is not None
        assert (
            glyph_check.check_part("葛西", printed, tuple(FONTS[n] for n in NOT_IPAMJ))[0] == IVS_AJ1 + "西"
        )
        text, decisions = glyph_check.check_part("葛西", _line("葛西", font_name))
        assert text == "葛西" and glyph_check.change_note(decisions) is None, font_name
    assert [f.name for f in FONTS.values() if glyph_check.draws_selector(IVS_MJ, f)] == ["IPAmj明朝"]


def test_ivs_form_without_a_font_drawing_a_selector_is_only_noted() -> None:
    """A sequence no configured font draws (葛 + VS20: every font here draws the base for it) is never
    decided, however clearly the page prints a form of its own: the clerk note stays."""
    unknown = "葛\U000e0103"
    fonts = tuple(FONTS.values())
    assert not any(glyph_check.draws_selector(unknown, f) for f in fonts)
    cells = glyph_check.cut_characters(_line(IVS_AJ1 + "西", "IPAex明朝"), 2)
    assert cells is not None
    assert glyph_check.decide(cells[0], ("葛", unknown), fonts)[0] is None
    assert glyph_check.decide(cells[0], ("葛", IVS_AJ1), fonts)[0] == IVS_AJ1  # the same cell, drawn
    note = variant_note("葛西　一郎")
    assert note is not None and IVS_MJ in note


def test_variant_file_refuses_a_character_in_two_sets(tmp_path: Path) -> None:
    bad = tmp_path / "variant_sets.yaml"
    bad.write_text("sets:\n  - [高, 髙]\n  - [髙, 高]\nfonts: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="異体字の組"):
        glyph_check.variant_table(bad)


class Answers(OcrEngine):
    """Reads every crop as ``answer`` (the engine folding 邊 to 辺)."""

    plugin_id = "answers"

    def __init__(self, answer: str) -> None:
        super().__init__()
        self.answer = answer

    def read(self, image: np.ndarray, request: ReadRequest) -> OcrResult:
        return OcrResult(self.answer, 0.98)


def test_a_changed_name_is_capped_and_says_what_was_read() -> None:
    """In the pipeline: the change is 要確認 (confidence capped), the note names it, and the
    engine's reading is kept in ``read_as``."""
    line = _line("渡邊", "Noto Serif CJK JP", size=56)
    page = np.full((200, 600, 3), 255, np.uint8)
    h, w = min(line.shape[0], 150), min(line.shape[1], 500)
    page[30 : 30 + h, 30 : 30 + w] = cv2.cvtColor(line[:h, :w], cv2.COLOR_GRAY2RGB)
    zone = Zone(
        field="name",
        type=ZoneType.name,
        box=Box(x=20, y=20, width=540, height=170),
        reading=ReadingSettings(),
    )
    result = read_zone(page, zone, Answers("渡辺"))
    assert result.text == "渡邊" and result.value == "渡邊" and result.read_as == "渡辺"
    assert result.confidence <= UNCHANGED_NOTE_CONFIDENCE
    assert result.note is not None and "「辺」を「邊」" in result.note and result.needs_confirmation
