"""Form rules and values without HTTP: JSON Logic, visibility, requirement, groups, check digits."""

from __future__ import annotations

import pytest
import yaml

from server.domain.eforms import fields as F
from server.domain.eforms.logic import evaluate, holds
from server.domain.eforms.services import starter_folder
from shared.errors import InvalidInput
from shared.schemas.eform import EformProcedure


def definition(slug: str) -> EformProcedure:
    return EformProcedure.model_validate(
        yaml.safe_load((starter_folder() / f"{slug}.yaml").read_text("utf-8"))
    )


def test_json_logic_operators():
    """The operators forms use evaluate as JSON Logic defines them."""
    data = {"a": "x", "n": 3, "list": ["p", "q"], "g": {"h": 1}}
    assert holds({"==": [{"var": "a"}, "x"]}, data)
    assert holds({"in": [{"var": "a"}, ["x", "y"]]}, data)
    assert holds({"and": [{">": [{"var": "n"}, 2]}, {"!": {"var": "missing"}}]}, data)
    assert evaluate({"if": [{"<": [{"var": "n"}, 1]}, "small", "big"]}, data) == "big"
    assert evaluate({"missing": ["a", "zz"]}, data) == ["zz"]
    assert evaluate({"var": "g.h"}, data) == 1
    assert holds(None, data)


def test_json_logic_refuses_unknown_and_deep_rules():
    """Unknown operators and absurd nesting are errors, never code execution or a hang."""
    with pytest.raises(InvalidInput):
        evaluate({"eval": ["1+1"]}, {})
    deep: dict = {"!": True}
    for _ in range(100):
        deep = {"!": deep}
    with pytest.raises(InvalidInput):
        evaluate(deep, {})


def test_hidden_fields_are_dropped_and_conditional_requirement_applies():
    """purpose_other is required only when purpose is その他 and dropped otherwise."""
    d = definition("juminhyo")
    raw = {"purpose": "license", "purpose_other": "ignored", "persons__count": 1}
    checked = F.validate(d, raw, {})
    assert "purpose_other" not in checked.values and "purpose_other" not in checked.errors
    checked = F.validate(d, {**raw, "purpose": "other", "purpose_other": ""}, {})
    assert checked.errors["purpose_other"] == "入力してください。"


def test_wareki_date_kana_postal_and_tel_are_normalised():
    """和暦 parts become an ISO date; kana, postal code and phone are normalised."""
    d = definition("juminhyo")
    raw = {
        "birth_date__era": "平成",
        "birth_date__y": "元",
        "birth_date__m": "1",
        "birth_date__d": "8",
        "name_kana": "ﾀﾛｳ",
        "postal_code": "３０４００６７",
        "tel": "090-1234-5678",
    }
    checked = F.validate(d, raw, {})
    assert checked.errors.get("birth_date") == "年・月・日を数字で入力してください。"
    checked = F.validate(d, {**raw, "birth_date__y": "1"}, {})
    assert checked.values["birth_date"] == "1989-01-08"
    assert checked.values["name_kana"] == "タロウ"
    assert checked.values["postal_code"] == "304-0067"
    assert checked.values["tel"] == "09012345678"
    checked = F.validate(
        d, {**raw, "birth_date__era": "平成", "birth_date__y": "1", "birth_date__d": "7"}, {}
    )
    assert "平成の期間にありません" in checked.errors["birth_date"]


def test_group_items_are_validated_each():
    """Each repeat is checked on its own, with the item's path in the error."""
    d = definition("kotei-hyoka")
    raw = {"properties__count": 2, "properties.0.property_kind": "land", "properties.0.location": "本城町1"}
    checked = F.validate(d, raw, {})
    assert "properties.1.location" in checked.errors and "properties.0.location" not in checked.errors
    assert F.label_of(d, "properties.1.location") == "物件 2件目 所在地（地番・家屋番号）"


def test_corporate_number_check_digit():
    """法人番号 check digit (国税庁 formula)."""
    assert F.corporate_number_ok("7000012050002")  # 国税庁
    assert not F.corporate_number_ok("1000012050002")


def test_schema_refuses_bad_definitions():
    """A group without a maximum and an address_field pointing nowhere are schema errors."""
    with pytest.raises(ValueError):
        EformProcedure.model_validate(
            {
                "slug": "x",
                "title": "x",
                "fields": [{"name": "g", "label": "g", "type": "group", "fields": []}],
            }
        )
    with pytest.raises(ValueError):
        EformProcedure.model_validate(
            {
                "slug": "x",
                "title": "x",
                "fields": [{"name": "p", "label": "p", "type": "postal_code", "address_field": "nope"}],
            }
        )
