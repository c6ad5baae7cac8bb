"""The document canvas model (Qt-free): fields from the print layout, boxes, paper Tab order, raw keys."""

from __future__ import annotations

import itertools

import pytest

from client.core.canvas import (
    EXTRA_PARTS,
    CanvasModel,
    build_canvas,
    flatten,
    move_person,
    nest,
    notice_layout,
    person_keys,
    tint_for,
    unused_for,
)
from client.core.reception import NoticeInvalid, build_notice
from shared.models.movement_notice import Address
from tests.client.forms import move_in_form


@pytest.fixture(scope="module")
def model() -> CanvasModel:
    return build_canvas(notice_layout(), 2)


def _raw(form: dict[str, object]) -> dict[str, str]:
    """The raw keys of a nested form (what the screen's raw_values holds)."""
    return {k: v for k, v in flatten(form).items() if k != "kind"}


def test_every_printed_data_item_has_a_field(model: CanvasModel) -> None:
    """Each path the layout prints from the notice is edited somewhere on the canvas (addresses by part)."""
    layout = notice_layout()
    keys = set(model.keys())
    for pf in layout.fields:
        if pf.text is not None or pf.source == "kind":
            continue
        for path in pf.paths():
            if pf.format == "address":
                assert {
                    f"{path}.{p}" for p in ("prefecture", "municipality", "town", "block_number", "building")
                } <= keys
            else:
                assert path in keys, path
    for rows in layout.rows:
        for pf in rows.fields:
            for path in pf.paths():
                for i in range(2):
                    assert f"{rows.source}.{i}.{path}" in keys, path
    assert "kind" not in keys  # the procedure is chosen above the canvas, marked in its box


def test_fields_lie_in_their_boxes_and_never_overlap(model: CanvasModel) -> None:
    """An editor stays inside its printed box; no two editors share space."""
    for f in model.fields:
        assert f.box is not None and f.box.contains(f.rect), f.key
        assert f.rect.w > 5 and f.rect.h > 4, f.key
    for i, a in enumerate(model.fields):
        for b in model.fields[i + 1 :]:
            assert not a.rect.overlaps(b.rect), (a.key, b.key)


def test_tab_order_is_the_paper_order(model: CanvasModel) -> None:
    """The form line by line; then each 異動者's row column by column; then the 欄外 band."""
    fields = model.fields
    top = [f for f in fields if f.person is None]
    rows = [f for f in fields if f.person is not None and f.on_paper]
    extras = [f for f in fields if not f.on_paper]
    assert fields == top + rows + extras
    assert fields[0].key == "notified_on" and fields[1].key == "moved_on"
    boxes = [f.box for f in top]
    for a, b in itertools.pairwise(boxes):
        assert a is not None and b is not None
        assert (round(a.y, 1), round(a.x, 1)) <= (round(b.y, 1), round(b.x, 1))
    assert [f.person for f in rows] == sorted(f.person for f in rows)  # person by person
    first = [f.key.removeprefix("persons.0.") for f in rows if f.person == 0]
    assert first[:6] == [
        "family_name_kana",
        "given_name_kana",
        "family_name",
        "given_name",
        "birth_date",
        "sex",
    ]
    xs = [round((f.box or f.rect).x, 1) for f in rows if f.person == 0]
    assert xs == sorted(xs)  # column by column
    assert [f.key.split(".")[-1] for f in extras if f.person == 0] == [p for p, _, _ in EXTRA_PARTS]
    # the parts of an address box: left to right, then 方書 on the second line
    address = [f.key for f in top if f.key.startswith("new_address.")]
    assert address[:5] == [
        "new_address.prefecture",
        "new_address.municipality",
        "new_address.town",
        "new_address.block_number",
        "new_address.building",
    ]


def test_fifth_person_continues_on_a_second_sheet() -> None:
    """As when printed: 4 異動者 per sheet; the fifth row is the first row of sheet 2."""
    model = build_canvas(notice_layout(), 5)
    assert model.sheets == 2 and model.persons == 5
    _, sheet_h = model.sheet_mm
    first, fifth = model.field("persons.0.family_name"), model.field("persons.4.family_name")
    assert fifth.rect.x == first.rect.x and fifth.rect.y > sheet_h
    assert len([d for d in model.decorations if d.kind == "sheet"]) == 3  # two sheets and the 欄外 band
    assert model.field("persons.4.my_number").rect.y > fifth.rect.y
    assert len(model.person_handles) == 5


def test_raw_values_nest_into_a_valid_notice() -> None:
    """Raw keys (as the screen keeps them) nest into what build_notice validates, check boxes as booleans."""
    raw = _raw(move_in_form())
    raw["persons.0.insurance.national_health_insurance"] = "1"
    raw["persons.0.insurance.national_pension"] = ""
    raw["persons.0.is_foreign"] = ""
    raw["whole_household"] = "True"
    data = nest(raw, 1)
    data["kind"] = "move_in"
    notice = build_notice(data)
    assert notice.persons[0].insurance.national_health_insurance is True
    assert notice.persons[0].insurance.national_pension is False
    assert notice.whole_household is True and notice.persons[0].is_foreign is False
    assert notice.new_address == Address(
        postal_code="304-0067",
        prefecture="茨城県",
        municipality="下妻市",
        town="本城町二丁目",
        block_number="22番地",
    )


def test_every_validation_error_lands_on_a_field() -> None:
    """Errors of an empty notice name canvas fields (or a group whose first field shows them)."""
    model = build_canvas(notice_layout(), 1)
    keys = model.keys()
    raw = {k: "" for k in keys}
    data = nest(raw, 1)
    data["kind"] = "move_in"
    with pytest.raises(NoticeInvalid) as caught:
        build_notice(data)
    for path in caught.value.by_field():
        assert path in keys or any(k.startswith(path + ".") for k in keys), path


def test_flatten_move_person_and_tints() -> None:
    """OCR output flattens to raw keys; a person's keys move to another row; confidence → tint."""
    flat = flatten(
        {"persons": [{"family_name": "木村", "is_foreign": True}], "old_address": {"town": "本町"}}
    )
    assert flat == {"persons.0.family_name": "木村", "persons.0.is_foreign": "1", "old_address.town": "本町"}
    moved = move_person(flat, 0, 2)
    assert moved["persons.2.family_name"] == "木村" and "persons.0.family_name" not in moved
    assert moved["old_address.town"] == "本町" and person_keys(moved) == {2}
    assert [tint_for(c) for c in (0.99, 0.85, 0.84, 0.6, 0.59, 0.0)] == [
        "high",
        "high",
        "check",
        "check",
        "low",
        "low",
    ]


def test_boxes_a_procedure_does_not_use() -> None:
    """転出先 only for 転出, 新住所 not for it, 住民票コード only for 転入 and 特例転入 (grey hints)."""
    assert unused_for("move_in", "destination.town") and not unused_for("move_out", "destination.town")
    assert unused_for("move_out", "new_address.town") and not unused_for("move_within", "new_address.town")
    assert not unused_for("move_in_special", "persons.0.resident_code")
    assert unused_for("move_within", "persons.2.resident_code")
    assert not unused_for("ex_officio", "persons.0.family_name")
