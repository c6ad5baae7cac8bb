"""The glyph check: is the printed character 高 or 髙? Re-decide a recognised character of a name
against drawings of each of its 異体字 (``variant_sets.yaml``) in more than one font.

Both recognisers fold some 異体字 to the common form (Tesseract's ``jpn`` does not know 髙 﨑 邊;
PP-OCR outputs 高 for 髙 and 惠 for 恵). Their confidence says nothing about it. Here the
reading of one part of a name (氏 or 名, already split at the gap) is cut into its characters —
the number of characters is known from the reading, the cuts are put at the emptiest columns
near even pitches — and each character that belongs to a variant set is compared with every
member of the set as drawn by each installed font (cropped to the ink, scaled to one size,
blurred; normalised correlation).

A member is taken only on **strong, agreeing evidence**: at least :data:`MIN_FONTS` fonts draw
every member, each font ranks the same member first, the cut character looks like the set at
all (score ≥ :data:`MIN_SCORE`) and the winner is ahead by at least :data:`MIN_MARGIN` on
average. Otherwise nothing changes (and the clerk note of :mod:`~client.core.ocr.variants`
stays). A changed character is a note and a capped confidence, never silent.

Honest limit: the synthetic test documents are printed in IPAmj明朝, one of the fonts compared
with; the benchmark also runs the check without that font (docs/ocr.md).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import yaml
from PIL import Image, ImageDraw, ImageFont

from .image import gap_column

VARIANT_FILE = Path(__file__).with_name("variant_sets.yaml")
#: Fonts that must draw every member of a set for the set to be checked.
MIN_FONTS = 2
#: The cut character must correlate at least this well with the best member in every font.
MIN_SCORE = 0.55
#: Mean lead of the winner over the runner-up (correlation points) needed to decide.
MIN_MARGIN = 0.04
#: … and its lead in each font: one font barely in favour is no vote (fonts draw 惠 apart).
MIN_FONT_MARGIN = 0.02
#: An IVS form (葛󠄂 against 葛) differs in a few strokes: its lead over the base character, on
#: average over the fonts drawing a sequence of the set, and in each of them (bench.ocr.glyphs:
#: printed 葛 never came within 0.03 of its IVS form in any of the three fonts).
MIN_IVS_MARGIN = 0.03
MIN_IVS_FONT_MARGIN = 0.005
#: Side of the square both the cut character and the drawn glyphs are scaled to.
CELL = 48
_DRAW_SIZE = 96


@dataclass(frozen=True)
class FontSpec:
    name: str
    path: str
    index: int = 0


@dataclass(frozen=True)
class Decision:
    """What the check said about one character of a reading."""

    position: int
    read: str
    chosen: str | None  # None: no decision (weak or disagreeing evidence)
    margin: float
    fonts: int


@cache
def variant_table(path: Path = VARIANT_FILE) -> tuple[tuple[tuple[str, ...], ...], tuple[FontSpec, ...]]:
    """The sets and the fonts of ``variant_sets.yaml``; a character may be in one set only."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    sets = tuple(tuple(str(m) for m in members) for members in data.get("sets", []))
    seen: set[str] = set()
    for members in sets:
        if len(members) < 2 or seen & set(members):
            raise ValueError(f"{path.name}: 異体字の組 {members} が不正です（2字以上、重複なし）。")
        seen |= set(members)
    fonts = tuple(
        FontSpec(str(f["name"]), str(f["path"]), int(f.get("index", 0))) for f in data.get("fonts", [])
    )
    return sets, fonts


def set_of(char: str) -> tuple[str, ...] | None:
    """The variant set holding ``char`` (a single code point), if any."""
    for members in variant_table()[0]:
        if char in members:
            return members
    return None


#: Names of the fonts to compare with (None: every font of the file that is installed); the
#: benchmark sets it (``--glyph-fonts``) to measure the check without IPAmj明朝.
FONT_NAMES: tuple[str, ...] | None = None


def installed_fonts() -> tuple[FontSpec, ...]:
    return tuple(
        f
        for f in variant_table()[1]
        if Path(f.path).is_file() and (FONT_NAMES is None or f.name in FONT_NAMES)
    )


@cache
def _font(spec: FontSpec) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(spec.path, _DRAW_SIZE, index=spec.index)


def normalise(ink: np.ndarray) -> np.ndarray | None:
    """Ink (float, 0 = paper) cropped to its box, scaled to CELL × CELL, blurred, zero mean, unit
    norm; None when there is no ink."""
    ys, xs = np.nonzero(ink > 0.25)
    if len(xs) == 0:
        return None
    box = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32)
    cell = cv2.resize(box, (CELL, CELL), interpolation=cv2.INTER_AREA)
    cell = cv2.GaussianBlur(cell, (0, 0), 1.2)
    cell -= cell.mean()
    norm = float(np.linalg.norm(cell))
    return cell / norm if norm > 0 else None


@cache
def glyph(char: str, spec: FontSpec) -> np.ndarray | None:
    """``char`` drawn by the font, normalised; None when the font lacks it (draws .notdef)."""
    drawn = _draw(char, spec)
    if drawn is None or (char != "\U0010fffd" and _same(drawn, _draw("\U0010fffd", spec))):
        return None
    return normalise(drawn)


#: Kanji → the katakana printed alike (the recognisers swap them: 加藤トメ read 加藤卜メ).
KANA_KANJI = {"八": "ハ", "口": "ロ", "卜": "ト", "力": "カ", "工": "エ", "夕": "タ", "二": "ニ", "匕": "ヒ"}


@cache
def similarity(a: str, b: str) -> float:
    """How alike two characters look in print: their glyphs' correlation, averaged over the check
    fonts drawing both (0.0 when none does). 阪/坂 0.50, 阪/谷 0.02. Kana and kanji printed alike
    (:data:`KANA_KANJI`: 八/ハ, 口/ロ) count as 1.0: scaled to one box, the smaller kana loses
    the likeness the eye sees."""
    if KANA_KANJI.get(a) == b or KANA_KANJI.get(b) == a:
        return 1.0
    scores = []
    for spec in installed_fonts():
        first, second = glyph(a, spec), glyph(b, spec)
        if first is not None and second is not None:
            scores.append(float((first * second).sum()))
    return float(np.mean(scores)) if scores else 0.0


def _draw(char: str, spec: FontSpec) -> np.ndarray | None:
    canvas = Image.new("L", (_DRAW_SIZE * 2, _DRAW_SIZE * 2), 0)
    ImageDraw.Draw(canvas).text((_DRAW_SIZE // 2, _DRAW_SIZE // 2), char, font=_font(spec), fill=255)
    pixels = np.asarray(canvas, np.float32) / 255.0
    return pixels if pixels.any() else None


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return a is not None and b is not None and a.shape == b.shape and bool(np.array_equal(a, b))


def cut_characters(clean: np.ndarray, count: int) -> list[np.ndarray] | None:
    """A cleaned one-line crop (black ink on white) of ``count`` characters cut into them: the
    cuts at the emptiest column within a third of a pitch of the even pitches. None when the
    pieces are implausible (a piece nearly empty or far narrower than the pitch)."""
    ink = (255 - clean.astype(np.float32)) / 255.0
    columns = (ink > 0.5).sum(axis=0)
    inked = np.nonzero(columns)[0]
    if count < 1 or len(inked) < count:
        return None
    left, right = int(inked[0]), int(inked[-1]) + 1
    pitch = (right - left) / count
    cuts = [left]
    for k in range(1, count):
        expected = left + k * pitch
        lo, hi = int(expected - pitch / 3), int(expected + pitch / 3) + 1
        window = columns[lo:hi]
        best = np.nonzero(window == window.min())[0] + lo
        cuts.append(int(best[np.argmin(np.abs(best - expected))]))
    cuts.append(right)
    pieces = [ink[:, a:b] for a, b in itertools.pairwise(cuts)]
    for piece in pieces:
        xs = np.nonzero((piece > 0.5).any(axis=0))[0]
        if len(xs) == 0 or xs[-1] - xs[0] + 1 < 0.3 * pitch:
            return None
    return pieces


def decide(
    cell: np.ndarray, members: tuple[str, ...], fonts: tuple[FontSpec, ...]
) -> tuple[str | None, float, int]:
    """(member chosen or None, mean margin, fonts used) for one cut character (ink, 0 = paper)."""
    observed = normalise(cell)
    if observed is None:
        return None, 0.0, 0
    if any(len(m) != 1 for m in members):
        return decide_ivs(observed, members, fonts)
    winners: list[str] = []
    margins: list[float] = []
    for spec in fonts:
        drawn = [glyph(m, spec) for m in members]
        if any(d is None for d in drawn):
            continue
        scores = sorted(
            ((float((observed * d).sum()), m) for d, m in zip(drawn, members, strict=True)), reverse=True
        )
        if scores[0][0] < MIN_SCORE:
            return None, 0.0, len(winners)
        winners.append(scores[0][1])
        margins.append(scores[0][0] - scores[1][0])
    if len(winners) < MIN_FONTS or len(set(winners)) != 1:
        return None, float(np.mean(margins)) if margins else 0.0, len(winners)
    margin = float(np.mean(margins))
    strong = margin >= MIN_MARGIN and min(margins) >= MIN_FONT_MARGIN
    return (winners[0] if strong else None), margin, len(winners)


def draws_selector(member: str, spec: FontSpec) -> bool:
    """The font draws ``member`` (a base character + an ideographic variation selector) as a form
    of its own: a font that does not know the sequence draws the base character instead."""
    if len(member) == 1:
        return False
    drawn, base = glyph(member, spec), glyph(member[0], spec)
    return drawn is not None and base is not None and not bool(np.allclose(drawn, base, atol=1e-4))


def decide_ivs(
    observed: np.ndarray, members: tuple[str, ...], fonts: tuple[FontSpec, ...]
) -> tuple[str | None, float, int]:
    """A set with IVS members (葛, 葛󠄀, 葛󠄂): each font votes only between the base character and
    the sequences it draws as forms of their own (IPAmj明朝 draws 葛󠄂 of the Moji_Joho collection,
    IPAex明朝 and Noto draw 葛󠄀 of Adobe-Japan1; a font ignoring a selector draws the base). A
    sequence is taken only when every font drawing any sequence of the set puts one first, ahead
    of the base in each font by :data:`MIN_IVS_FONT_MARGIN` and by :data:`MIN_IVS_MARGIN` on
    average; when sequences of two collections win (the same form), the one listed first in the
    YAML. Without a font drawing a sequence nothing is decided (the clerk note stays)."""
    base = next((m for m in members if len(m) == 1), None)
    if base is None:
        return None, 0.0, 0
    winners: list[str] = []
    margins: list[float] = []
    for spec in fonts:
        drawn = [m for m in members if draws_selector(m, spec)]
        base_glyph = glyph(base, spec)
        if not drawn or base_glyph is None:
            continue
        base_score = float((observed * base_glyph).sum())
        score, best = max((float((observed * glyph(m, spec)).sum()), m) for m in drawn)
        if max(score, base_score) < MIN_SCORE:
            return None, 0.0, len(winners)
        winners.append(best)
        margins.append(score - base_score)
    if not winners:
        return None, 0.0, 0
    margin = float(np.mean(margins))
    if margin < MIN_IVS_MARGIN or min(margins) < MIN_IVS_FONT_MARGIN:
        return None, margin, len(winners)
    return min(winners, key=members.index), margin, len(winners)


def check_part(
    text: str, clean: np.ndarray, fonts: tuple[FontSpec, ...] | None = None
) -> tuple[str, list[Decision]]:
    """One part of a name (氏 or 名, no spaces) and its cleaned crop → the text with each variant
    character re-decided where the evidence is strong, and the decisions taken."""
    fonts = installed_fonts() if fonts is None else fonts
    if not any(set_of(c) for c in text):
        return text, []
    cells = cut_characters(clean, len(text))
    if cells is None:
        return text, []
    chars = list(text)
    decisions: list[Decision] = []
    for i, char in enumerate(text):
        members = set_of(char)
        if members is None:
            continue
        chosen, margin, used = decide(cells[i], members, fonts)
        decisions.append(Decision(i, char, chosen, margin, used))
        if chosen is not None:
            chars[i] = chosen
    return "".join(chars), decisions


def check_name(clean: np.ndarray, text: str) -> tuple[str, list[Decision]]:
    """A name's cleaned crop and its reading (氏　名) → the reading re-decided part by part (the
    crop split at its widest gap as when it was read); unchanged when the parts do not match."""
    parts = text.split("　")
    if not any(set_of(c) for c in text):
        return text, []
    cut = gap_column(clean)
    crops = [clean] if cut is None else [clean[:, :cut], clean[:, cut:]]
    if len(crops) != len(parts):
        return text, []
    checked = [check_part(part, crop) for part, crop in zip(parts, crops, strict=True)]
    return "　".join(t for t, _ in checked), [d for _, ds in checked for d in ds]


def change_note(decisions: list[Decision]) -> str | None:
    """The clerk's note for the characters the check changed (None: it changed none)."""
    changed = [d for d in decisions if d.chosen is not None and d.chosen != d.read]
    if not changed:
        return None
    said = "、".join(f"「{d.read}」を「{d.chosen}」" for d in changed)
    return f"字形の照合で{said}にしました。スキャン画像と照合してください。"
