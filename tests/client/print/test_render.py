"""Printed forms read back: fonts, text, IVS glyphs, pages, errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageStat
from pypdf import PdfReader
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from client.core.print.errors import UnprintableText
from client.core.print.fonts import MjFont
from client.core.print.layouts import get_layout, load_layouts
from client.core.print.render import all_texts, render_layout
from client.core.print.service import PrintedForm, forms_for, render_forms
from shared.models.movement_notice import MovementNotice
from tests.client.print.pdfcheck import ink_box, pdffonts, pdftoppm, pdftotext
from tests.client.print.samples import KATSU_IVS, household

REQUIRED = {
    "movement-notice",
    "resident-record-request",
    "seal-certificate-request",
    "nhi-notice",
    "child-allowance-claim",
    "ltc-address-change",
}


def _write(tmp_path: Path, form: PrintedForm) -> Path:
    path = tmp_path / f"{form.layout_id}.pdf"
    path.write_bytes(form.pdf)
    return path


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_household_move_in_prints_all_six_forms(forms: list[PrintedForm]) -> None:
    """A 転入 of an insured household with a child and an elder prints the 異動届 and five other forms."""
    assert {f.layout_id for f in forms} == REQUIRED
    assert forms[0].layout_id == "movement-notice"


def test_fonts_embedded_as_ipamj_subsets(tmp_path: Path, forms: list[PrintedForm]) -> None:
    """Every form uses only IPAmj明朝, embedded, subset, with a ToUnicode map."""
    for form in forms:
        fonts = pdffonts(_write(tmp_path, form))
        assert fonts, form.layout_id
        for font in fonts:
            assert re.fullmatch(r"[A-Z]{6}\+IPAmjMincho", font["name"]), (form.layout_id, font)
            assert (font["emb"], font["sub"], font["uni"]) == ("yes", "yes", "yes"), (form.layout_id, font)


def test_every_field_text_extracts(tmp_path: Path, forms: list[PrintedForm], notice: MovementNotice) -> None:
    """Every text a layout prints (names with IVS, 和暦 dates, addresses, codes) comes back from pdftotext."""
    for form in forms:
        extracted = _squeeze(pdftotext(_write(tmp_path, form), raw=True))
        for text in all_texts(get_layout(form.layout_id), notice):
            assert _squeeze(text) in extracted, (form.layout_id, text)


def test_ivs_name_extracts_as_stored_string(tmp_path: Path, forms: list[PrintedForm]) -> None:
    """The name 葛+U+E0102 西 extracts as exactly that sequence (pdftotext and pypdf), not as PUA."""
    path = _write(tmp_path, forms[0])
    name = f"{KATSU_IVS}西"
    assert name in pdftotext(path)
    pypdf_text = PdfReader(path).pages[0].extract_text()
    assert name in pypdf_text
    assert "𠮷太郎" in pypdf_text
    assert not re.search("[\U000f0000-\U000ffffd]", pypdf_text)


def _pdf_glyph(text: str, font: MjFont, tmp_path: Path, name: str) -> Image.Image:
    path = tmp_path / f"{name}.pdf"
    canvas = Canvas(str(path), pagesize=(60 * mm, 60 * mm), initialFontName=font.name)
    canvas.setFont(font.name, 120)
    canvas.drawString(10 * mm, 15 * mm, font.encode(text))
    canvas.save()
    return ink_box(Image.open(pdftoppm(path, tmp_path / name, dpi=150)))


def _raqm_glyph(text: str, font: MjFont) -> Image.Image:
    pil_font = ImageFont.truetype(str(font.path), 250, layout_engine=ImageFont.Layout.RAQM)
    image = Image.new("L", (400, 400), 255)
    ImageDraw.Draw(image).text((50, 50), text, font=pil_font, fill=0)
    return ink_box(image)


def _distance(a: Image.Image, b: Image.Image) -> float:
    size = (96, 96)
    diff = ImageChops.difference(a.resize(size), b.resize(size))
    return float(ImageStat.Stat(diff).mean[0])


def test_ivs_draws_the_glyph_harfbuzz_picks(tmp_path: Path, font: MjFont) -> None:
    """葛+E0102 in the PDF looks like HarfBuzz's (Pillow+RAQM) rendering of the sequence, not the plain 葛."""
    assert font.variants[KATSU_IVS].glyph == "mj022335"
    printed = _pdf_glyph(KATSU_IVS, font, tmp_path, "ivs")
    plain_printed = _pdf_glyph("葛", font, tmp_path, "plain")
    harfbuzz_variant = _raqm_glyph(KATSU_IVS, font)
    harfbuzz_plain = _raqm_glyph("葛", font)
    assert _distance(harfbuzz_variant, harfbuzz_plain) > 3  # the two glyphs really differ
    assert _distance(printed, harfbuzz_variant) < _distance(printed, harfbuzz_plain) / 2
    assert _distance(plain_printed, harfbuzz_plain) < _distance(plain_printed, harfbuzz_variant) / 2


def test_each_form_page_renders_to_png_with_ink(tmp_path: Path, forms: list[PrintedForm]) -> None:
    """pdftoppm renders page 1 of each form at the layout's paper size with text and rules on it."""
    sizes = {"A4": (210, 297), "A3": (420, 297), "B5": (182, 257)}
    for form in forms:
        png = pdftoppm(_write(tmp_path, form), tmp_path / form.layout_id, dpi=50)
        image = Image.open(png)
        w_mm, h_mm = sizes[get_layout(form.layout_id).paper]
        assert abs(image.width - w_mm / 25.4 * 50) <= 2, form.layout_id
        assert abs(image.height - h_mm / 25.4 * 50) <= 2, form.layout_id
        assert ImageStat.Stat(image.convert("L")).mean[0] < 250, form.layout_id


def test_more_persons_than_rows_continue_on_a_second_page(tmp_path: Path, font: MjFont) -> None:
    """Six persons on the 4-row 住民異動届 give two pages; the fifth person is on page 2."""
    notice = household(6)
    path = tmp_path / "six.pdf"
    path.write_bytes(render_layout(get_layout("movement-notice"), notice, font=font))
    assert len(PdfReader(path).pages) == 2
    assert "髙子3" in _squeeze(pdftotext(path, page=2))  # the 5th person of household(6)


def test_forms_follow_kind_and_flags(font: MjFont) -> None:
    """A 転出 without insurance flags prints only the 住民異動届; the 国保 form needs an insured person."""
    out = household(1, kind="move_out", destination={"prefecture": "大阪府", "municipality": "大阪市北区"})
    for p in out.persons:
        p.insurance.national_health_insurance = False
        p.insurance.national_pension = False
    assert [lay.id for lay in forms_for(out)] == ["movement-notice"]


def test_unprintable_character_is_a_japanese_error(font: MjFont) -> None:
    """A name with a character IPAmj明朝 lacks stops printing with the field, character and code named."""
    notice = household(1)
    notice.persons[0].given_name = "太\ue000郎"
    with pytest.raises(UnprintableText) as caught:
        render_forms(notice, ["movement-notice"])
    message = caught.value.message
    assert "U+E000" in message and "印字できません" in message and "name" in message
    assert caught.value.error_code == "print.unsupported_character"


def test_undefined_variation_sequence_is_an_error_not_the_base_glyph(font: MjFont) -> None:
    """葛+U+E0100 (Adobe-Japan1, not defined in IPAmj明朝) is refused, never printed as plain 葛."""
    notice = household(1)
    notice.persons[0].family_name = "葛\U000e0100西"
    with pytest.raises(UnprintableText) as caught:
        render_forms(notice, ["movement-notice"])
    assert "U+845B+U+E0100" in caught.value.message
    assert "異体字" in caught.value.message


def test_all_layouts_in_the_folder_load() -> None:
    """Every YAML layout validates and the six required forms are there."""
    assert set(load_layouts()) >= REQUIRED
