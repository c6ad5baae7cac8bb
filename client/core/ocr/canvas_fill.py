"""From a read page to the counter's canvas (Qt-free): raw values, confidences, scan crops, notes.

:func:`canvas_fill` turns an :class:`~client.core.ocr.pipeline.OcrResult` into what
``MoveInForm.fill`` takes: each value under the raw key of its canvas field (``persons.0.family_name``,
``old_address.town``), the confidence of the zone it came from, the zone's crop of the aligned page
as image bytes (PPM), and the pipeline's remark (unreadable, variant kanji folded …) per key. Dates are
given in 和暦 as the clerk reads them. A zone read but not validated (a wrong check digit) is not
dropped: its text goes in with confidence 0 and the reason, so the clerk corrects it in place.

:func:`read_for_canvas` is the whole story for one image file, run on a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import cv2
import numpy as np

from client.core.canvas import flatten
from shared.text.wareki import format_wareki

from .image import ImageSource
from .mapping import to_movement_notice
from .pipeline import FieldResult, OcrResult, read_document, reference_features, shared_engines
from .routing import Engines
from .templates import TemplateStore, default_store

DOC_LABELS = {
    "move_out_certificate": "転出証明書",
    "move_out_certificate_equivalent": "転出証明書に準ずる証明書",
    "move_out_certificate_info": "転出証明書情報（特例転入）",
    "residence_card": "在留カード",
    "special_permanent_resident_certificate": "特別永住者証明書",
    "my_number_card": "マイナンバーカード",
    "drivers_license": "運転免許証",
    "koseki_certificate": "戸籍全部事項証明書",
    "fuhyo_copy": "戸籍の附票の写し",
    "movement_notice": "住民異動届",
}
#: A value the pipeline asks to have confirmed (names, notes) is shown at most as 要確認.
REVIEW_CAP = 0.84
#: Pixels of page kept around a zone's box in its crop; crops wider than this are scaled down.
CROP_MARGIN = 6
CROP_MAX_WIDTH = 720
#: Documents that only foreign residents hold: their person is a 外国人住民.
FOREIGN_DOCUMENTS = {"residence_card", "special_permanent_resident_certificate"}


@dataclass
class CanvasFill:
    """What one read page puts on the canvas."""

    source: str
    values: dict[str, str] = field(default_factory=dict)
    confidences: dict[str, float] = field(default_factory=dict)
    crops: dict[str, bytes] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    template_id: str = ""
    doc_type: str = ""
    synthetic_template: bool = False


def _display(key: str, value: str) -> str:
    """ISO dates as 和暦 (what the clerk reads and types); everything else as it is."""
    if key.endswith(("_on", "birth_date", "expiry_date")) and len(value) == 10 and value[4] == "-":
        try:
            return format_wareki(date.fromisoformat(value))
        except ValueError:
            return value
    return value


def _crop(aligned: np.ndarray | None, f: FieldResult) -> bytes | None:
    if aligned is None:
        return None
    b = f.box
    h, w = aligned.shape[:2]
    y0, y1 = max(0, b.y - CROP_MARGIN), min(h, b.y + b.height + CROP_MARGIN)
    x0, x1 = max(0, b.x - CROP_MARGIN), min(w, b.x + b.width + CROP_MARGIN)
    if y1 <= y0 or x1 <= x0:
        return None
    crop = aligned[y0:y1, x0:x1]
    if crop.shape[1] > CROP_MAX_WIDTH:
        scale = CROP_MAX_WIDTH / crop.shape[1]
        crop = cv2.resize(
            crop, (CROP_MAX_WIDTH, max(1, round(crop.shape[0] * scale))), interpolation=cv2.INTER_AREA
        )
    # PPM: no compression to pay for on either side (Qt reads it natively); the crop lives only
    # as long as the reception on screen.
    bgr = cv2.cvtColor(crop, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".ppm", bgr)
    return encoded.tobytes() if ok else None


def canvas_fill(result: OcrResult) -> CanvasFill:
    """The canvas values of ``result`` (its ``mapping``; crops when it kept the aligned page)."""
    label = DOC_LABELS.get(result.doc_type, result.doc_type)
    fill = CanvasFill(
        source=f"{label}（{result.issuer}）" if result.issuer else label,
        template_id=result.template_id,
        doc_type=result.doc_type,
        synthetic_template=result.synthetic_template,
    )
    for f in result.fields:
        path = result.mapping.get(f.field)
        if path is None:
            continue
        value = f.value if f.value and f.problem is None else None
        text = value or f.text.strip()
        if not text:
            continue
        nested = to_movement_notice({f.field: text}, {f.field: path}, {f.field: f.type.value})
        keys = {k: v for k, v in flatten(nested).items() if not k.endswith(".lg_code")}
        confidence = f.confidence if value else 0.0
        if f.needs_confirmation:
            confidence = min(confidence, REVIEW_CAP)
        note = " ".join(n for n in (f.problem, f.note) if n)
        crop = _crop(result.aligned, f)
        for key, v in keys.items():
            fill.values[key] = _display(key, v)
            fill.confidences[key] = confidence
            if crop is not None:
                fill.crops[key] = crop
            if note:
                fill.notes[key] = note
    if result.doc_type in FOREIGN_DOCUMENTS and any(k.startswith("persons.0.") for k in fill.values):
        fill.values["persons.0.is_foreign"] = "1"
        fill.confidences["persons.0.is_foreign"] = 1.0
    return fill


def read_for_canvas(
    source: ImageSource | Path,
    *,
    store: TemplateStore | None = None,
    engine: Engines | None = None,
) -> CanvasFill:
    """Read one page and give its canvas values (raises ``ScanProblem`` with a Japanese message)."""
    return canvas_fill(read_document(source, store=store, engine=engine, keep_aligned=True))


def warm_up(engines: Engines | None = None) -> int:
    """Load what the first 読取 would otherwise wait for — the templates, every engine of
    ``engines`` (default: the routed engines of the process) and the reference features of each
    layout family — on a worker thread when the counter opens. Returns the number of layout
    families prepared."""
    store = default_store()
    engines = engines or shared_engines()
    for engine_id in engines.engine_ids():
        engines.get(engine_id)
    families = store.families()
    for members in families.values():
        reference_features(members[0])
    return len(families)
