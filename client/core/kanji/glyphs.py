"""Glyph images of IPAmj明朝 drawn by Pillow with RAQM (HarfBuzz), which applies IVS.

Qt 6.12 on Linux drops the variation selector when it draws text, so a screen that must show the
variant a name holds (the kanji search, the form canvas) shows these images instead, while the
string it inserts or stores is the true sequence.
"""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, features

from client.core.print.fonts import find_font


def raqm_available() -> bool:
    """Whether this Pillow has RAQM (the wheels bundle it); without it IVS are not applied."""
    return bool(features.check("raqm"))


@lru_cache(maxsize=8)
def _font(size_px: int) -> ImageFont.FreeTypeFont:
    engine = ImageFont.Layout.RAQM if raqm_available() else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(find_font()), size_px, layout_engine=engine)


@lru_cache(maxsize=4096)
def glyph_image(text: str, size_px: int = 48) -> Image.Image:
    """``text`` (one character or sequence) black on transparent, ``size_px`` square."""
    image = Image.new("RGBA", (size_px, size_px), (255, 255, 255, 0))
    font = _font(int(size_px * 0.86))
    draw = ImageDraw.Draw(image)
    draw.text((size_px / 2, size_px / 2), text, font=font, fill=(0, 0, 0, 255), anchor="mm")
    return image


#: Variation selectors: VS1–VS16 (U+FE00–FE0F) and the ideographic VS17–VS256 (U+E0100–E01EF).
def has_variation_selector(text: str) -> bool:
    """Whether ``text`` holds a variation selector (IVS), which Qt on Linux would not draw."""
    return any("\ufe00" <= c <= "\ufe0f" or "\U000e0100" <= c <= "\U000e01ef" for c in text)


@lru_cache(maxsize=512)
def text_image(
    text: str, height_px: int, size_px: int | None = None, colour: tuple[int, int, int] = (0, 0, 0)
) -> Image.Image:
    """A line of ``text`` with IVS applied, ``height_px`` high, characters ``size_px`` (default
    0.78 of the height), on transparent (for a form field)."""
    height_px = max(8, height_px)
    font = _font(max(6, size_px or int(height_px * 0.78)))
    width = max(1, int(font.getlength(text)) + 4)
    image = Image.new("RGBA", (width, height_px), (255, 255, 255, 0))
    ImageDraw.Draw(image).text((2, height_px / 2), text, font=font, fill=(*colour, 255), anchor="lm")
    return image
