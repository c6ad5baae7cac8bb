"""Read a document a resident brings: :func:`read_document` is the whole story.

load the image → remove the 地紋 → refuse a blank page → cut out a card laid on a flatbed page
(:mod:`~client.core.ocr.cards`) → identify the document type and issuer
→ register the page to that template → check the pose (upside down, skew) → crop and clean each
zone → read it with settings chosen by the field's type → parse and validate → map the fields to
the 住民異動届.

Qt-free: the counter UI calls it from a worker thread and shows, for every field, the scan crop
next to the text. Expected problems raise :class:`~client.core.ocr.errors.ScanProblem` (stable
code, Japanese message saying what to do); a field that cannot be read is not an error but a
field result with a ``problem``.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from shared.schemas.ocr_template import Box, OcrTemplate, Zone, ZoneType

from . import cards, errors, glyph_check, image, register, render
from .engines.base import OcrEngine, ReadRequest
from .engines.base import OcrResult as OcrEngineResult
from .fields import SPACED, Parsed, comparable, has_grammar, parse
from .mapping import to_movement_notice
from .routing import Engines
from .templates import TemplateStore, default_store, family_key, template_id
from .variants import variant_note

#: Beyond this rotation the page is refused (a correctly fed page is within ±3°).
MAX_SKEW_DEGREES = 10.0
#: Ink pixels below which a zone counts as empty (a 300-dpi "一" has about 300).
EMPTY_ZONE_INK = 120
#: How close the read issuer name must be to a template's issuer (difflib ratio).
MIN_ISSUER_SIMILARITY = 0.6
#: How many issuer names closest to the read text are compared by their printed look.
SHORTLIST = 5
#: A coarse match farther from an affine map than this is a coincidence, not the template.
MAX_PERSPECTIVE = 2e-4
#: Types whose validator can tell a wrong reading (check digits, date grammar, code tables): a
#: reading that fails is read again by the other engines.
REREAD_TYPES = frozenset(
    {
        ZoneType.date,
        ZoneType.resident_code,
        ZoneType.my_number,
        ZoneType.postal_code,
        ZoneType.license_number,
        ZoneType.residence_card_number,
        ZoneType.sex,
        ZoneType.relationship,
        ZoneType.address,
        ZoneType.kana,
        ZoneType.nationality,
        ZoneType.residence_status,
        ZoneType.roman_name,
    }
)
#: A reading repaired by a rule (a note to confirm) is shown as at most this sure.
REPAIRED_CONFIDENCE = 0.5
#: A reading no rule changed but one asks to check (a 町域 not in the postal data): 要確認, not 低.
UNCHANGED_NOTE_CONFIDENCE = 0.7
_DATE_CHARACTERS = "0123456789年月日元明治大正昭和平成令和"
#: Types read once more with only these characters allowed when every engine's reading failed.
DIGIT_TYPES = {
    ZoneType.date: _DATE_CHARACTERS,
    ZoneType.resident_code: "0123456789",
    ZoneType.my_number: "0123456789",
    ZoneType.postal_code: "0123456789-",
    ZoneType.license_number: "0123456789",
}
#: A cleaned crop narrower than this many line heights holds one short word.
SHORT_TEXT_RATIO = 3.5


@dataclass(frozen=True)
class FieldResult:
    """One zone: what was read, how sure, where on the reference page, and why it failed."""

    field: str
    label: str | None
    type: ZoneType
    text: str
    value: str | None
    confidence: float
    box: Box
    problem: str | None = None
    needs_confirmation: bool = False
    note: str | None = None
    #: The engine's reading when the glyph check changed a 異体字 of it (None: not changed).
    read_as: str | None = None


@dataclass
class OcrResult:
    """The reading of one page."""

    template_id: str
    doc_type: str
    issuer: str
    synthetic_template: bool
    fields: list[FieldResult]
    movement_notice: dict[str, Any]
    registration: str  # "orb" / "ecc"
    warnings: list[str] = field(default_factory=list)
    #: The template's field → notice path (``name`` → ``persons[0].family_name``).
    mapping: dict[str, str] = field(default_factory=dict)
    #: The page warped onto the template's reference (RGB), kept only when asked
    #: (``keep_aligned``): the counter cuts each field's scan crop from it.
    aligned: np.ndarray | None = field(default=None, repr=False, compare=False)

    def field(self, name: str) -> FieldResult:
        return next(f for f in self.fields if f.field == name)


# ---------------------------------------------------------------------------------------------
# The story


def read_document(
    source: image.ImageSource,
    *,
    store: TemplateStore | None = None,
    engine: OcrEngine | Engines | None = None,
    keep_aligned: bool = False,
) -> OcrResult:
    """Identify, align and read one scanned page. ``engine``: one engine for every field, or the
    routed engines (default: :func:`shared_engines`, the table in ``routing.yaml``);
    ``keep_aligned``: keep the aligned page in the result (for the fields' scan crops)."""
    store = store or default_store()
    engines = (
        engine
        if isinstance(engine, Engines)
        else shared_engines()
        if engine is None
        else Engines.single(engine)
    )
    rgb = image.load(source)
    page = image.drop_colour(rgb)
    card = cards.find_card(page, rgb)  # before the blank test: a card is little ink on an A4 page
    if card is None:
        if image.is_blank(page):
            raise errors.blank_page()
        return _read_page(rgb, page, store, engines, keep_aligned)
    try:
        return _read_page(card, image.drop_colour(card), store, engines, keep_aligned)
    except errors.ScanProblem as problem:  # the crop is level but may be upside down
        if problem.error_code != "ocr.upside_down":
            raise
    turned = np.ascontiguousarray(card[::-1, ::-1])
    return _read_page(turned, image.drop_colour(turned), store, engines, keep_aligned)


def _read_page(
    rgb: np.ndarray, page: np.ndarray, store: TemplateStore, engines: Engines, keep_aligned: bool = False
) -> OcrResult:
    """Identify, register and read one page (``page``: ``rgb`` after 地紋 removal)."""
    scan = register.features(page)
    template, registration = identify(scan, page, store, engines.for_issuer())
    check_pose(registration)
    aligned = register.warp(rgb, registration, (template.reference.width, template.reference.height))
    fields = [
        read_zone(aligned, zone, engines.for_type(zone.type), engines.others(zone.type))
        for zone in template.zones
    ]
    return OcrResult(
        template_id=template_id(template),
        doc_type=template.doc_type.value,
        issuer=template.issuer,
        synthetic_template=template.synthetic,
        fields=fields,
        movement_notice=movement_notice(template, fields),
        registration=registration.method,
        warnings=[],
        mapping=dict(template.mapping),
        aligned=aligned if keep_aligned else None,
    )


# ---------------------------------------------------------------------------------------------
# Steps


_ENGINES: Engines | None = None


def shared_engines() -> Engines:
    """The routed engines of the process (one loaded model per engine id)."""
    global _ENGINES
    if _ENGINES is None:
        _ENGINES = Engines()
    return _ENGINES


def shared_engine() -> OcrEngine:
    """The process's default engine (the routing table's ``default``), e.g. for the designer."""
    engines = shared_engines()
    return engines.get(engines.routing.default)


_REFERENCES: OrderedDict[str, register.Features] = OrderedDict()
_CACHE_SIZE = 64


def precise_side(template: OcrTemplate) -> int:
    """Working side of the precise registration: half the reference's long side, at least the
    identification's (an A4 page's rows repeat; at 1,240 px its text is too small to tell them apart)."""
    return max(register.WORK_SIDE, max(template.reference.width, template.reference.height) // 2)


def reference_features(template: OcrTemplate, side: int = register.WORK_SIDE) -> register.Features:
    """ORB features of the template's blank reference image (cached)."""
    key = f"{template_id(template)}@{side}"
    cached = _REFERENCES.get(key)
    if cached is not None:
        _REFERENCES.move_to_end(key)
        return cached
    blank = image.drop_colour(render.render(template))
    features = register.features(blank, side)
    _REFERENCES[key] = features
    if len(_REFERENCES) > _CACHE_SIZE:
        _REFERENCES.popitem(last=False)
    return features


def identify(
    scan: register.Features, page: np.ndarray, store: TemplateStore, engine: OcrEngine
) -> tuple[OcrTemplate, register.Registration]:
    """Find the template: the layout families whose prototype matches (ORB inliers), then the
    issuer whose printed name is read in the family's issuer anchor, then a precise registration
    to that template. Families that share printed labels can score alike, so every family within
    half of the best inlier count is asked for its issuer and the closest name wins."""
    families = list(store.families().values())
    matches = _match_families(scan, page, shortlist_families(scan, families))
    if not matches:  # the quick look missed (few strong features): every family, fully
        matches = _match_families(scan, page, families)
    if not matches:
        raise errors.unknown_document()
    matches.sort(key=lambda m: -m[0].inliers)
    check_pose(matches[0][0])
    best: tuple[float, OcrTemplate, register.Registration] | None = None
    for coarse, members in matches:
        if coarse.inliers < 0.5 * matches[0][0].inliers:
            break
        score, template = (
            (1.0, members[0]) if len(members) == 1 else pick_issuer(page, members, coarse, engine)
        )
        if best is None or score > best[0]:
            best = (score, template, coarse)
        if score >= 0.9:
            break
    if best is None or best[0] < MIN_ISSUER_SIMILARITY:
        raise errors.unknown_document()
    _, template, coarse = best
    side = precise_side(template)
    if side > register.WORK_SIDE:
        precise = register.orb(register.features(page, side), reference_features(template, side))
        if precise is not None and plausible(precise):
            return template, precise
    if len(store.families().get(family_key(template), [])) <= 1:
        return template, coarse
    precise = register.orb(scan, reference_features(template))
    if precise is None:
        precise = register.ecc(scan, reference_features(template), coarse.homography)
    if precise is None:
        raise errors.registration_failed()
    return template, precise


#: The quick look at every family matches only this many of the scan's strongest features …
QUICK_FEATURES = 300
#: … and keeps the families within this share of the best quick inlier count (the right family
#: scored ≥ 0.5 of the best on every page of the fixed set; the full match then decides).
QUICK_SHARE = 0.4
QUICK_MIN_INLIERS = 6


def shortlist_families(scan: register.Features, families: list[list[OcrTemplate]]) -> list[list[OcrTemplate]]:
    """The families worth a full match: matching all 1,500 scan features against every family's
    prototype was the largest cost of identification (one k-NN match per family); the scan's 300
    strongest features tell the likely families apart at a fifth of the cost."""
    quick = scan.strongest(QUICK_FEATURES)
    scored = []
    for members in families:
        found = register.orb(quick, reference_features(members[0]), QUICK_MIN_INLIERS)
        if found is not None and plausible(found):
            scored.append((found.inliers, members))
    if not scored:
        return []
    best = max(inliers for inliers, _ in scored)
    return [members for inliers, members in scored if inliers >= QUICK_SHARE * best]


def _match_families(
    scan: register.Features, page: np.ndarray, families: list[list[OcrTemplate]]
) -> list[tuple[register.Registration, list[OcrTemplate]]]:
    matches: list[tuple[register.Registration, list[OcrTemplate]]] = []
    for members in families:
        coarse = register.orb(scan, reference_features(members[0]))
        if coarse is not None and plausible(coarse) and covers(coarse, page.shape, members[0]):
            matches.append((coarse, members))
    return matches


def pick_issuer(
    page: np.ndarray, members: list[OcrTemplate], coarse: register.Registration, engine: OcrEngine
) -> tuple[float, OcrTemplate]:
    """Choose the issuer within a layout family; returns the similarity and the template.

    The issuer's name is read where the family prints it and compared with every member's name;
    the closest few are then told apart by matching their printed name (rendered, or cut from the
    sample scan) against the page, because Tesseract's jpn model lacks many place-name kanji
    (揖斐川町 reads like 川辺町)."""
    prototype = members[0]
    anchor = next((a for a in prototype.anchors if a.name == "issuer"), None)
    if anchor is None:
        return 1.0, prototype
    aligned = register.warp(page, coarse, (prototype.reference.width, prototype.reference.height))
    box = anchor.box
    x0, x1 = max(0, box.x - 60), min(prototype.reference.width, box.x + box.width + 400)
    y0, y1 = max(0, box.y - 20), min(prototype.reference.height, box.y + box.height + 20)
    region = aligned[y0:y1, x0:x1]
    read = comparable(read_text(engine, image.clean_zone(region), ReadRequest(language="jpn", psm=7)).text)
    scored = []
    for template in members:
        expected = next((a.text or "" for a in template.anchors if a.name == "issuer"), "")
        scored.append((difflib.SequenceMatcher(None, read, comparable(expected)).ratio(), template))
    scored.sort(key=lambda s: -s[0])
    shortlist = [s for s in scored[:SHORTLIST] if s[0] >= scored[0][0] - 0.25]
    if len(shortlist) == 1:
        return shortlist[0]
    looks = [(_printed_match(region, t), score, t) for score, t in shortlist]
    look, score, template = max(looks, key=lambda s: s[0])
    return (max(score, look) if look >= 0.6 else score), template


def _printed_match(region: np.ndarray, template: OcrTemplate) -> float:
    """How well the template's printed issuer name matches the page region (normalised correlation)."""
    patch = render.anchor_image(template, "issuer")
    if patch is None or patch.shape[0] > region.shape[0] or patch.shape[1] > region.shape[1]:
        return 0.0
    scores = cv2.matchTemplate(region, patch, cv2.TM_CCOEFF_NORMED)
    return float(scores.max())


#: Share of the reference page the scan must cover once mapped onto it.
MIN_COVERAGE = 0.75


def covers(registration: register.Registration, shape: tuple[int, ...], template: OcrTemplate) -> bool:
    """The scan, mapped onto the reference, covers most of it: an A5 certificate matching some rules
    of an A4 printout covers half the A4 and is a coincidence, not that template."""
    height, width = shape[:2]
    corners = np.array([[[0, 0]], [[width, 0]], [[width, height]], [[0, height]]], np.float32)
    mapped = cv2.perspectiveTransform(corners, registration.homography).reshape(-1, 2)
    ref_w, ref_h = template.reference.width, template.reference.height
    reference = np.array([[0, 0], [ref_w, 0], [ref_w, ref_h], [0, ref_h]], np.float32)
    area, _ = cv2.intersectConvexConvex(mapped.astype(np.float32), reference)
    return float(area) >= MIN_COVERAGE * ref_w * ref_h


def plausible(registration: register.Registration) -> bool:
    """A page, not a coincidence: near-affine and about the reference's size."""
    h = registration.homography
    return (
        0.5 < registration.scale < 2.0 and abs(h[2, 0]) < MAX_PERSPECTIVE and abs(h[2, 1]) < MAX_PERSPECTIVE
    )


def check_pose(registration: register.Registration) -> None:
    """Refuse an upside-down or badly skewed page instead of reading garbage."""
    angle = registration.angle
    if abs(angle) > 135:
        raise errors.upside_down()
    if abs(angle) > MAX_SKEW_DEGREES:
        raise errors.too_skewed(angle)
    if not 0.5 < registration.scale < 2.0:
        raise errors.registration_failed()


def request_for(zone: Zone, crop: np.ndarray) -> ReadRequest:
    """The zone's reading settings; a one-line zone holding only a word or two (性別 男, 続柄 母,
    名 翔) is read as a single word (psm 8), which Tesseract gets right far more often."""
    reading = zone.reading
    language = "jpn_vert" if reading.vertical else reading.language
    psm = reading.psm
    if psm is None:
        psm = 5 if reading.vertical else 6 if reading.multiline else 7
    if psm in (7, 10) and zone.type is not ZoneType.kana and crop.shape[1] < SHORT_TEXT_RATIO * crop.shape[0]:
        psm = 8
    return ReadRequest(language=language, psm=psm, whitelist=reading.whitelist)


def read_text(engine: OcrEngine, crop: np.ndarray, request: ReadRequest) -> OcrEngineResult:
    """Read with the requested mode; Tesseract sometimes returns nothing for a clear line in
    one-line mode (psm 7) that it reads in word mode (psm 8), and the other way round."""
    read = engine.read(crop, request)
    if not read.text.strip() and request.psm in (7, 8):
        read = engine.read(crop, replace(request, psm=15 - request.psm))
    return read


#: Kana whose 半濁点 a binarised blurred scan fills (バ for パ): checked on every line.
_HALF_VOICED_BASES = "バビブベボばびぶべぼ"
#: Kana that may have lost a 濁点 (メソン for メゾン, グラント for グランド) or a 半濁点: checked on
#: address lines (方書 building names), where no validator can tell.
_VOICEABLE = "カキクケコサシスセソタチツテトハヒフヘホウ" + _HALF_VOICED_BASES


def _marks(char: str) -> tuple[str, str]:
    """(kana without 濁点/半濁点, the mark: "" / "\u3099" / "\u309a")."""
    parts = unicodedata.normalize("NFD", char)
    if len(parts) == 2 and parts[1] in "\u3099\u309a":
        return parts[0], parts[1]
    return char, ""


def only_marks_added(first: str, second: str) -> bool:
    """``second`` is ``first`` with 濁点 or 半濁点 added (ソ → ゾ, ハ → パ, バ → パ) and nothing else."""
    if len(first) != len(second) or first == second:
        return False
    for a, b in zip(first, second, strict=True):
        if a == b:
            continue
        (base_a, mark_a), (base_b, mark_b) = _marks(a), _marks(b)
        if base_a != base_b or not mark_b or mark_a == mark_b or mark_a == "\u309a":
            return False
    return True


def read_line(
    engine: OcrEngine,
    crop: np.ndarray,
    soft: np.ndarray,
    request: ReadRequest,
    voiceable: str = _HALF_VOICED_BASES,
) -> OcrEngineResult:
    """:func:`read_text` of the binarised crop; a reading holding a kana of ``voiceable`` is
    checked against the grey crop, where the ring of a 半濁点 and the strokes of a 濁点 survive:
    when the grey reading differs only by such marks added at the same places (バ → パ, ソ → ゾ),
    it is taken. Any other disagreement keeps the first reading."""
    read = read_text(engine, crop, request)
    if not any(c in voiceable for c in read.text):
        return read
    again = read_text(engine, soft, request)
    first, second = read.text.replace(" ", ""), again.text.replace(" ", "")
    if only_marks_added(first, second):
        return replace(read, text=second)
    return read


#: A grey reading at least this sure is taken without reading the binarised crop too.
GREY_SURE = 0.9


def read_grey_line(
    engine: OcrEngine,
    crop: np.ndarray,
    soft: np.ndarray,
    request: ReadRequest,
    voiceable: str = _HALF_VOICED_BASES,
) -> OcrEngineResult:
    """A name, kana or address part read by an engine that takes grey input (PP-OCR): the grey crop
    first — binarising a blurred 200-dpi scan drops the thin horizontal strokes of 明朝 (田 becomes
    川, 中 loses its box and is dropped); when that reading is unsure (< :data:`GREY_SURE`), the
    binarised crop too (:func:`read_line`), and the surer of the two is taken."""
    grey = read_text(engine, soft, request)
    if grey.confidence >= GREY_SURE and grey.text.strip():
        return grey
    binary = read_line(engine, crop, soft, request, voiceable)
    return binary if binary.confidence > grey.confidence or not grey.text.strip() else grey


def read_zone(
    aligned: np.ndarray, zone: Zone, engine: OcrEngine, others: Sequence[OcrEngine] = ()
) -> FieldResult:
    """Crop, clean, read, parse and validate one zone. When the reading fails validation (a check
    digit, the date grammar, the municipality list …), the zone is read again by each engine in
    ``others`` and the first reading that validates is taken (D_ocr_cards.md §1.7: agreement with
    a validator is a better trust signal than an engine's confidence)."""
    b = zone.box
    crop, soft = image.clean_zone_pair(image.drop_colour(aligned[b.y : b.y + b.height, b.x : b.x + b.width]))

    def result(
        text: str,
        value: str | None,
        confidence: float,
        problem: str | None,
        note: str | None = None,
        read_as: str | None = None,
    ) -> FieldResult:
        review = (
            problem is not None
            or note is not None
            or zone.type is ZoneType.name
            or confidence < zone.reading.min_confidence
        )
        return FieldResult(
            zone.field, zone.label, zone.type, text, value, confidence, b, problem, review, note, read_as
        )

    factor = image.enlargement(crop)
    crop, soft = image.resize(crop, factor), image.resize(soft, factor)
    if image.ink_pixels(crop) < EMPTY_ZONE_INK:
        return result("", None, 0.0, "記載がありません。" if zone.required else None)

    def recognise(reader: OcrEngine, source: str = "usual") -> tuple[Parsed, float]:
        """``source``: "usual" (SPACED types by a grey-reading engine: grey first, binarised when
        unsure; others binarised), "grey" or "binary" (that crop only)."""
        if zone.type in SPACED:
            cut = image.gap_column(crop)
            pieces = [(crop, soft)]
            if cut is not None:
                pieces = [(crop[:, :cut], soft[:, :cut]), (crop[:, cut:], soft[:, cut:])]
            if source == "grey":
                pieces = [(grey, grey) for _, grey in pieces]
            voiceable = _VOICEABLE if zone.type is ZoneType.address else _HALF_VOICED_BASES
            line_reader = read_grey_line if reader.reads_grey and source == "usual" else read_line
            parts = [
                line_reader(reader, part, grey, request_for(zone, part), voiceable) for part, grey in pieces
            ]
            text = "　".join(p.text.replace(" ", "") for p in parts if p.text.strip())
            confidence = min((p.confidence for p in parts), default=0.0)
        else:
            first = soft if source == "grey" else crop
            read = read_line(reader, first, soft, request_for(zone, crop))
            text, confidence = read.text, read.confidence
        return parse(zone.type, text, zone.field), confidence

    parsed, confidence = recognise(engine)
    if parsed.problem is not None and (zone.type in REREAD_TYPES or has_grammar(zone.type, zone.field)):
        # Read again by the same engine from the other crop when it takes grey input (PP-OCR: the
        # binarised crop loses strokes of a blurred scan; names, kana and addresses were read from
        # the grey crop first, so the binarised one), then by each other engine.
        other_crop = "binary" if zone.type in SPACED else "grey"
        tries = [(engine, other_crop)] if engine.reads_grey else []
        for reader, source in [*tries, *((other, "usual") for other in others)]:
            again, other_confidence = recognise(reader, source)
            if again.problem is None:
                parsed, confidence = again, other_confidence
                break
    if parsed.problem is not None and zone.type in DIGIT_TYPES and not zone.reading.whitelist:
        # Last try: the zone's engine limited to the characters of a date or number (Tesseract
        # applies it while reading: a digit it dropped between two kanji comes back).
        reading = zone.reading.model_copy(update={"whitelist": DIGIT_TYPES[zone.type]})
        limited = zone.model_copy(update={"reading": reading})
        read = read_text(engine, crop, request_for(limited, crop))
        again = parse(zone.type, read.text, zone.field)
        if again.problem is None:
            parsed, confidence = again, read.confidence
    note = parsed.note
    if note is not None:  # a repair, or a reading a rule doubts: the clerk must confirm it
        confidence = min(confidence, UNCHANGED_NOTE_CONFIDENCE if parsed.unchanged else REPAIRED_CONFIDENCE)
    read_as = None
    if zone.type is ZoneType.name and parsed.problem is None:
        # 異体字 the engines fold (高 for 髙): the printed glyph compared with each form in several
        # fonts; a change is 要確認 and says so, weak evidence changes nothing.
        checked, decisions = glyph_check.check_name(crop, parsed.text)
        changed = glyph_check.change_note(decisions)
        if changed is not None:
            read_as, parsed = parsed.text, replace(parsed, text=checked, value=checked)
            confidence = min(confidence, UNCHANGED_NOTE_CONFIDENCE)
            note = " ".join(n for n in (note, changed) if n)
    if zone.type is ZoneType.name:
        note = " ".join(n for n in (note, variant_note(parsed.text)) if n) or None
    return result(parsed.text, parsed.value, confidence, parsed.problem, note, read_as)


def movement_notice(template: OcrTemplate, fields: list[FieldResult]) -> dict[str, Any]:
    """The 異動届 data the fields fill (only valid values)."""
    values = {f.field: f.value for f in fields if f.value and f.problem is None}
    kinds = {z.field: z.type.value for z in template.zones}
    return to_movement_notice(values, template.mapping, kinds)
