"""The glyph check of 異体字 on its own, leave one font out: ``python -m bench.ocr.glyphs --lines 200``.

The synthetic pages are printed in IPAmj明朝, one of the fonts the check compares with. Here name
lines (half with a 異体字: 髙橋, 山﨑, 渡邊, 濱田, 齋藤, 恵子 …; half with the common form) are printed
in **each** font of ``variant_sets.yaml`` in turn, degraded as a scanner would (200/300 dpi, blur,
noise, JPEG), read by the name engine (PP-OCR) and checked twice: with every font, and with every
font **but the one the line was printed in** — the second is the figure for a document printed in
a font the check does not have. Prints, per printing font and font set: names right before and
after, characters changed, helped (wrong → right) and harmed (right → wrong). Never asserts.
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

VARIANT_NAMES = ["髙橋", "山﨑", "渡邊", "濱田", "齋藤", "澤田", "德永", "嶋田", "櫻井", "𠮷田", "渡邉"]
COMMON_NAMES = ["高橋", "山崎", "渡辺", "浜田", "斎藤", "沢田", "徳永", "島田", "桜井", "吉田", "中村"]
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
            family = rng.choice(VARIANT_NAMES if rng.random() < 0.5 else COMMON_NAMES)
            truth = f"{family}　{rng.choice(GIVEN)}"
            if any(ord(c) > 0xFFFF for c in truth) and glyph_check.glyph("𠮷", printed_in) is None:
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
                t["lines"] += 1
                t["right before"] += read == truth
                t["right after"] += checked == truth
                t["changed"] += checked != read
                t["helped"] += checked != read and checked == truth
                t["harmed"] += checked != read and read == truth
                if args.show and checked != read and checked != truth:
                    print(f"  {printed_in.name} {label}: {truth} read {read} → {checked}")
        glyph_check.FONT_NAMES = None
        for label, t in tally.items():
            print(
                f"printed in {printed_in.name:<18} checked with {label:<26} lines {t['lines']}: right "
                f"{t['right before']} → {t['right after']}; changed {t['changed']}, helped {t['helped']}, "
                f"harmed {t['harmed']}"
            )


if __name__ == "__main__":
    main()
