"""From a read page to the counter canvas's values (Qt-free): keys, 和暦 dates, crops, unreadable fields."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from client.core.canvas import build_canvas, notice_layout
from client.core.ocr.canvas_fill import REVIEW_CAP, CanvasFill, canvas_fill, read_for_canvas, warm_up
from client.core.ocr.pipeline import FieldResult, OcrResult, shared_engines
from client.core.ocr.templates import TemplateStore
from shared.schemas.ocr_template import Box, ZoneType

from .conftest import fixed_pages

PAGES = {p.path.name: p for p in fixed_pages()}
KEYS = set(build_canvas(notice_layout(), 1).keys())


@pytest.fixture(scope="module")
def move_out(store: TemplateStore) -> CanvasFill:
    return read_for_canvas(PAGES["page0000.jpg"].path, store=store, engine=shared_engines())


def test_every_value_goes_to_a_canvas_field(move_out: CanvasFill) -> None:
    """Each read value is keyed like a canvas field; dates come in 和暦; the source names the document."""
    truth = PAGES["page0000.jpg"].fields
    assert set(move_out.values) <= KEYS
    assert move_out.source.startswith("転出証明書")
    assert move_out.values["persons.0.birth_date"] == truth["birth_date"]
    assert move_out.values["moved_on"] == truth["moved_on"]
    assert (
        move_out.values["persons.0.family_name"] + "　" + move_out.values["persons.0.given_name"]
        == truth["name"]
    )
    assert move_out.values["old_address.building"] == truth["old_address"].split("　", 1)[1]


def test_confidences_and_crops(move_out: CanvasFill) -> None:
    """Every value has a 0–1 confidence (names capped at 要確認) and its zone's crop of the page."""
    assert set(move_out.confidences) == set(move_out.values) == set(move_out.crops)
    assert all(0.0 <= c <= 1.0 for c in move_out.confidences.values())
    assert move_out.confidences["persons.0.family_name"] <= REVIEW_CAP
    crop = cv2.imdecode(np.frombuffer(move_out.crops["old_address.town"], np.uint8), cv2.IMREAD_COLOR)
    assert crop is not None and crop.shape[1] > 3 * crop.shape[0]  # a one-line address zone
    assert (
        move_out.crops["old_address.town"] is move_out.crops["old_address.prefecture"]
    )  # one zone, one crop


def test_warm_up_prepares_every_layout_family(store: TemplateStore) -> None:
    """What the counter loads on a worker thread when it opens, so the first 読取 does not wait."""
    assert warm_up() == len(store.families()) > 0


def test_residence_card_marks_a_foreign_resident(store: TemplateStore) -> None:
    """A 在留カード fills the 外国人住民 items (ローマ字氏名, 在留資格 …) and ticks 外国人住民."""
    page = PAGES["page0010.jpg"]
    fill = read_for_canvas(page.path, store=store, engine=shared_engines())
    assert fill.values["persons.0.is_foreign"] == "1"
    assert fill.values["persons.0.roman_name"] and set(fill.values) <= KEYS | {"persons.0.is_foreign"}


def test_unvalidated_text_is_kept_with_its_reason() -> None:
    """A zone read but refused (wrong check digit) goes in as read, confidence 0, with the reason."""
    box = Box(x=10, y=10, width=200, height=40)
    fields = [
        FieldResult(
            "resident_code",
            "住民票コード",
            ZoneType.resident_code,
            "12345678901",
            None,
            0.9,
            box,
            "検査用数字が一致しません。",
        ),
        FieldResult("sex", "性別", ZoneType.sex, "", None, 0.0, box, None),
    ]
    result = OcrResult(
        template_id="move_out_certificate/000000/2021-01",
        doc_type="move_out_certificate",
        issuer="試験市",
        synthetic_template=True,
        fields=fields,
        movement_notice={},
        registration="orb",
        mapping={"resident_code": "persons[0].resident_code", "sex": "persons[0].sex"},
        aligned=np.full((100, 300, 3), 255, np.uint8),
    )
    fill = canvas_fill(result)
    assert fill.values == {"persons.0.resident_code": "12345678901"}
    assert fill.confidences["persons.0.resident_code"] == 0.0
    assert fill.notes["persons.0.resident_code"] == "検査用数字が一致しません。"
    assert fill.source == "転出証明書（試験市）"
