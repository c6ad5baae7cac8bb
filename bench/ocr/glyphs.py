"""The glyph check of 異体字 on its own, leave one font out: ``python -m bench.ocr.glyphs --lines 200``.

The synthetic pages are printed in IPAmj明朝, one of the fonts the check compares with. Here name
lines (half with a 異体字: 髙橋, 山﨑, 渡邊, 濱田, 齋藤, 恵子 …; half with the common form) are printed
in **each** font of ``variant_sets.yaml`` in turn, degraded as a scanner would (200/300 dpi, blur,
noise, JPEG), read by the name engine (PP-OCR) and checked twice: with every font, and with every
font **but the one the line was printed in** — the second is the figure for a document printed in
a font the check does not have. Prints, per printing font and font set: names right before and
after, characters changed, helped (wrong → right) and harmed (right → wrong). Never asserts.

葛 in its IVS form is printed with the sequence the printing font draws (IPAmj明朝 葛󠄂, IPAex明朝 and
Noto 葛󠄀: the same form in two collections, counted alike); the lines of 葛西 and of its IVS form
are also counted apart.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import argparse
import random
from collections import Counter

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from client.core.ocr import glyph_check, image
from client.core.ocr.engines.base import ReadRequest
from client.core.ocr.pipeline import shared_engines
from shared.schemas.ocr_template import ZoneType

#: "葛*西": 葛 in its IVS form (人 inside, the JIS90 form), printed with the sequence the printing
#: font draws (IPAmj明朝 葛󠄂 of Moji_Joho, IPAex明朝 and Noto 葛󠄀 of Adobe-Japan1).
IVS_NAME = "葛*西"
FOLDED = ["髙橋", "山﨑", "渡邊", "濱田", "齋藤", "澤田", "德永", "嶋田", "櫻井", "𠮷田", "渡邉"]
VARIANT_NAMES = [*FOLDED, IVS_NAME]
COMMON_NAMES = ["高橋", "山崎", "渡辺", "浜田", "斎藤", "沢田", "徳永", "島田", "桜井", "吉田", "中村"]
COMMON_NAMES.append("葛西")


def _ivs_form(spec: glyph_check.FontSpec) -> str:
    """The sequence of 葛's IVS form that the font draws ("" when it draws none)."""
    members = glyph_check.set_of("葛") or ()
    return next((m for m in members if glyph_check.draws_selector(m, spec)), "")


def same_form(a: str, b: str) -> bool:
    """Equal up to the collection of an IVS: 葛󠄂 (Moji_Joho) and 葛󠄀 (Adobe-Japan1) are one form."""

    def key(text: str) -> str:
        return "".join("\U000e0100" if 0xE0100 <= ord(c) <= 0xE01EF else c for c in text)

    return key(a) == key(b)


GIVEN = ["恵子", "惠子", "花子", "太郎", "健太", "美咲", "一郎", "由美"]


def _scan(text: str, spec: glyph_check.FontSpec, rng: random.Random) -> np.ndarray:
    size = rng.choice((34, 40, 46))
    font = ImageFont.truetype(spec.path, size, index=spec.index)
    canvas = Image.new("L", (size * (len(text) + 3), size * 3), 255)
    ImageDraw.Draw(canvas).text((size, size), text, font=font, fill=20)
    grey = np.asarray(canvas)
    if rng.random() < 0.5:
        grey = cv2.resize(grey, None, fx=2 / 3, fy=2 / 3, interpolation=cv2.INTER_AREA)
    grey = cv2.GaussianBlur(grey, (0, 0), rng.uniform(0.3, 1.0))
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(4, 10), grey.shape)
    grey = np.clip(grey.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", grey, [cv2.IMWRITE_JPEG_QUALITY, rng.randrange(60, 86)])
    assert ok
    return np.asarray(cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE), dtype=np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=200, help="name lines per printing font")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--show", action="store_true", help="print the lines changed but not right")
    parser.add_argument("--family", default=None, help="only surnames holding this character (e.g. 葛)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    engine = shared_engines().for_type(ZoneType.name)
    fonts = glyph_check.installed_fonts()
    print("fonts:", ", ".join(f.name for f in fonts))
    for printed_in in fonts:
        rng = random.Random(args.seed)
        others = tuple(f for f in fonts if f != printed_in)
        tally: dict[str, Counter[str]] = {"all fonts": Counter(), "without the printing font": Counter()}
        for _ in range(args.lines):
            variants, common = VARIANT_NAMES, COMMON_NAMES
            if args.family:
                variants = [n for n in variants if args.family in n] or variants
                common = [n for n in common if args.family in n] or common
            family = rng.choice(variants if rng.random() < 0.5 else common)
            truth = f"{family}　{rng.choice(GIVEN)}"
            if family == IVS_NAME:
                if not _ivs_form(printed_in):
                    continue  # the font cannot print it
                truth = truth.replace("葛*", _ivs_form(printed_in))
            if "𠮷" in truth and glyph_check.glyph("𠮷", printed_in) is None:
                continue  # the font cannot print it
            crop, _ = image.clean_zone_pair(_scan(truth, printed_in, rng))
            crop = image.resize(crop, image.enlargement(crop))
            cut = image.gap_column(crop)
            pieces = [crop] if cut is None else [crop[:, :cut], crop[:, cut:]]
            request = ReadRequest(language="jpn", psm=7)
            read = "　".join(engine.read(p, request).text.replace(" ", "") for p in pieces)
            for label, use in (("all fonts", fonts), ("without the printing font", others)):
                glyph_check.FONT_NAMES = tuple(f.name for f in use)
                checked, _ = glyph_check.check_name(crop, read)
                t = tally[label]
                right_before, right_after = same_form(read, truth), same_form(checked, truth)
                t["lines"] += 1
                t["right before"] += right_before
                t["right after"] += right_after
                t["changed"] += checked != read
                t["helped"] += checked != read and right_after and not right_before
                t["harmed"] += checked != read and right_before and not right_after
                if "葛" in truth:
                    t["葛 lines" if truth.startswith("葛西") else "葛 IVS lines"] += 1
                    t["葛 IVS right" if not truth.startswith("葛西") else "葛 right"] += right_after
                if args.show and checked != read and not right_after:
                    print(f"  {printed_in.name} {label}: {truth} read {read} → {checked}")
        glyph_check.FONT_NAMES = None
        for label, t in tally.items():
            print(
                f"printed in {printed_in.name:<18} checked with {label:<26} lines {t['lines']}: right "
                f"{t['right before']} → {t['right after']}; changed {t['changed']}, helped {t['helped']}, "
                f"harmed {t['harmed']}; 葛 lines {t['葛 lines']} right after {t['葛 right']}, "
                f"葛-IVS lines {t['葛 IVS lines']} right after {t['葛 IVS right']}"
            )


if __name__ == "__main__":
    main()
