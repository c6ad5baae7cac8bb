"""Draw a template: a blank reference image for registration, or a filled document for tests.

Templates made from real samples carry a scan (``reference.image``); the synthetic ones carry their
static print (``layout``) and are drawn here in IPAmj明朝 with Pillow (RAQM applies IVS, so 葛󠄀 is
drawn as its variant glyph). Images are RGB ``numpy`` arrays in reference pixels.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from shared.errors import DeviceError
from shared.schemas.ocr_template import OcrTemplate, Zone

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/ipamj/ipamjm.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-mincho.ttf",
    "C:/Windows/Fonts/ipamjm.ttf",
)


@cache
def font_path() -> Path:
    """The IPAmj明朝 file (``MADOGUCHI_IPAMJ_FONT`` overrides the usual places)."""
    for candidate in (os.environ.get("MADOGUCHI_IPAMJ_FONT"), *FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise DeviceError(
        "IPAmj明朝のフォントが見つかりません。fonts-ipamj-mincho をインストールしてください。",
        code="ocr.font_missing",
    )


@cache
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path()), size, layout_engine=ImageFont.Layout.RAQM)


def value_size(zone: Zone) -> int:
    """Character height used to print a value into a zone."""
    return max(18, int(zone.box.height * 0.62))


def draw_security_pattern(image: Image.Image, colour: str, seed: int = 0) -> None:
    """A light 地紋: fine interleaved waves in one colour over the whole page."""
    draw = ImageDraw.Draw(image)
    rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    width, height = image.size
    step = 14
    phase = seed % 17
    for y0 in range(-step, height + step, step):
        points = [(x, y0 + 5 * math.sin((x + phase * 9 + y0) / 23.0)) for x in range(0, width + 8, 8)]
        draw.line(points, fill=rgb, width=2)


def render(
    template: OcrTemplate,
    values: Mapping[str, str] | None = None,
    *,
    security_pattern: bool = False,
    seed: int = 0,
) -> np.ndarray:
    """The template's page as RGB pixels; ``values`` (field → text) are printed into their zones."""
    if template.layout is None:
        return _reference_scan(template)
    ref = template.reference
    page = Image.new("RGB", (ref.width, ref.height), "white")
    if security_pattern and template.layout.security_pattern:
        draw_security_pattern(page, template.layout.security_pattern, seed)
    draw = ImageDraw.Draw(page)
    for rule in template.layout.rules:
        draw.line([(rule.x1, rule.y1), (rule.x2, rule.y2)], fill=(0, 0, 0), width=rule.width)
    for printed in template.layout.printed:
        draw.text((printed.box.x, printed.box.y), printed.text, font=font(printed.size), fill=(0, 0, 0))
    zones = {z.field: z for z in template.zones}
    for field, text in (values or {}).items():
        zone = zones[field]
        size = value_size(zone)
        while size > 12 and text_width(text, size) > zone.box.width - 16:
            size -= 2  # long values are printed smaller, as issuers do
        top = zone.box.y + (zone.box.height - size) // 2 - size // 10
        draw.text((zone.box.x + 8, top), text, font=font(size), fill=(20, 20, 20))
    return np.asarray(page)


def _reference_scan(template: OcrTemplate) -> np.ndarray:
    source = template.reference.image
    if source is None:
        raise DeviceError(
            "テンプレートに基準画像も様式もないため位置合わせができません。テンプレートを作り直してください。",
            code="ocr.no_reference",
        )
    with Image.open(source) as im:
        rgb = im.convert("RGB").resize((template.reference.width, template.reference.height))
    return np.asarray(rgb)


def text_width(text: str, size: int) -> int:
    """Width in px of ``text`` at ``size`` (used to lay out the printed labels)."""
    return int(font(size).getlength(text))


def anchor_image(template: OcrTemplate, name: str) -> np.ndarray | None:
    """The anchor's printed content as greyscale pixels (rendered from the layout, or cut from
    the sample scan), trimmed to the ink; None when the template has no such anchor."""
    anchor = next((a for a in template.anchors if a.name == name), None)
    if anchor is None:
        return None
    b = anchor.box
    if template.layout is not None:
        printed = next((p for p in template.layout.printed if p.box == b), None)
        if printed is None:
            return None
        canvas = Image.new("L", (b.width + 20, b.height + 20), 255)
        ImageDraw.Draw(canvas).text((10, 10), printed.text, font=font(printed.size), fill=0)
        grey = np.asarray(canvas)
    else:
        grey = np.asarray(Image.fromarray(_reference_scan(template)).convert("L"))[
            b.y : b.y + b.height, b.x : b.x + b.width
        ]
    ys, xs = np.nonzero(grey < 200)
    if not len(xs):
        return None
    return np.ascontiguousarray(grey[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1])
