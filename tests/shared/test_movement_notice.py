"""The 住民異動届 model: valid notices, foreign-resident rules, 個人番号 secrecy, Japanese errors."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from shared.errors import describe_validation_errors
from shared.models import MovementKind, MovementNotice
from shared.text.checkdigit import my_number_check_digit

GOOD_MY_NUMBER = "123456789018"
BAD_MY_NUMBER = "123456789017"


def _japanese(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)


def move_in() -> dict[str, Any]:
    return {
        "kind": "move_in",
        "notified_on": "2024-04-10",
        "moved_on": "2024-04-01",
        "notifier": {"name": "下妻　太郎", "standing": "self"},
        "new_address": {
            "postal_code": "3042292",
            "prefecture": "茨城県",
            "municipality": "下妻市",
            "lg_code": "082104",
            "town": "本城町二丁目",
            "block_number": "22番地",
        },
        "old_address": {"prefecture": "東京都", "municipality": "千代田区", "town": "霞が関二丁目"},
        "persons": [
            {
                "family_name": "下妻",
                "given_name": "太郎",
                "family_name_kana": "ｼﾓﾂﾏ",
                "given_name_kana": "たろう",
                "birth_date": "1980-05-05",
                "sex": "1",
                "relationship": "世帯主",
                "my_number": GOOD_MY_NUMBER,
            }
        ],
    }


def foreigner(**overrides: Any) -> dict[str, Any]:
    person = {
        "is_foreign": True,
        "roman_name": "NGUYEN VAN AN",
        "birth_date": "1995-02-03",
        "sex": "1",
        "relationship": "世帯主",
        "nationality": "VN",
        "residence_category": "mid_long_term",
        "residence_status": "技術・人文知識・国際業務",
        "period_of_stay": "3年",
        "stay_expiry_date": "2026-04-01",
        "residence_card_number": "ab12345678cd",
    }
    person.update(overrides)
    return person


def errors_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as exc:
        MovementNotice.model_validate(data)
    return describe_validation_errors(exc.value.errors())


def test_valid_move_in() -> None:
    """A complete 転入届 validates; kana, postal code and the stored name are normalised."""
    notice = MovementNotice.model_validate(move_in())
    assert notice.kind is MovementKind.move_in
    person = notice.persons[0]
    assert person.family_name_kana == "シモツマ"
    assert person.given_name_kana == "タロウ"
    assert notice.new_address.postal_code == "304-2292"
    assert person.my_number == GOOD_MY_NUMBER
    assert notice.notified_on == date(2024, 4, 10)


def test_valid_foreign_resident() -> None:
    """A foreign resident with roman name, nationality, 区分 and a card-format status validates."""
    data = move_in()
    data["persons"] = [foreigner(residence_status="技術人文知識国際業務")]
    person = MovementNotice.model_validate(data).persons[0]
    assert person.residence_status == "技術・人文知識・国際業務"
    assert person.residence_card_number == "AB12345678CD"
    assert person.display_name() == "NGUYEN VAN AN"


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("roman_name", "person.roman_name_required"),
        ("nationality", "person.nationality_required"),
        ("residence_category", "person.residence_category_required"),
    ],
)
def test_foreign_resident_requires(field: str, code: str) -> None:
    """A foreign resident without roman name, nationality or 区分 is rejected with its code."""
    data = move_in()
    data["persons"] = [foreigner(**{field: None})]
    assert [e["code"] for e in errors_of(data)] == [code]


def test_foreign_resident_status_rules() -> None:
    """在留資格 must be in the table and fit the 区分 (特別永住者, 中長期在留者)."""
    cases = [
        (foreigner(residence_status="観光"), "residence_status.unknown"),
        (foreigner(residence_status="短期滞在"), "person.status_not_mid_long_term"),
        (
            foreigner(residence_category="special_permanent", residence_status="永住者"),
            "person.status_not_special_permanent",
        ),
        (foreigner(nationality="JP"), "person.nationality_jp"),
        (foreigner(nationality="XX"), "nationality.unknown"),
    ]
    for person, code in cases:
        data = move_in()
        data["persons"] = [person]
        assert [e["code"] for e in errors_of(data)] == [code], person
    data = move_in()
    data["persons"] = [foreigner(residence_category="special_permanent", residence_status="特別永住者")]
    assert MovementNotice.model_validate(data).persons[0].residence_status == "特別永住者"


def test_japanese_with_residence_card_rejected() -> None:
    """A Japanese resident with a 在留カード number or 区分 is rejected."""
    data = move_in()
    data["persons"][0]["residence_card_number"] = "AB12345678CD"
    assert [e["code"] for e in errors_of(data)] == ["person.japanese_with_residence"]


def test_bad_my_number_never_echoed() -> None:
    """A wrong 個人番号 gives my_number.check_digit in Japanese, and no error text contains the number."""
    assert my_number_check_digit(BAD_MY_NUMBER[:11]) != int(BAD_MY_NUMBER[-1])
    data = move_in()
    data["persons"][0]["my_number"] = BAD_MY_NUMBER
    described = errors_of(data)
    assert [e["code"] for e in described] == ["my_number.check_digit"]
    assert described[0]["field"] == "persons.0.my_number"
    assert _japanese(described[0]["message"])
    assert BAD_MY_NUMBER not in repr(described)
    with pytest.raises(ValidationError) as exc:
        MovementNotice.model_validate(data)
    assert BAD_MY_NUMBER not in exc.value.errors()[0]["msg"]


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    target: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return data


_DELETE = object()

BAD_INPUTS: list[tuple[str, Any]] = [
    ("kind", "move_sideways"),
    ("kind", _DELETE),
    ("notified_on", "昨日"),
    ("notified_on", "2999-01-01"),
    ("moved_on", "2999-01-01"),
    ("notifier", _DELETE),
    ("notifier.standing", "official"),
    ("notifier.name", 12),
    ("new_address", {}),
    ("old_address", {}),
    ("new_address.postal_code", "12-34"),
    ("new_address.lg_code", "082100"),
    ("new_address.lg_code", "08"),
    ("new_address.country", "Japan"),
    ("new_address.unknown_field", "x"),
    ("persons", []),
    ("persons.0.family_name", None),
    ("persons.0.family_name", "x" * 60),
    ("persons.0.family_name_kana", "山田"),
    ("persons.0.birth_date", "2999-01-01"),
    ("persons.0.birth_date", "not a date"),
    ("persons.0.sex", "3"),
    ("persons.0.relationship", "孫"),
    ("persons.0.relationship", ""),
    ("persons.0.relationship", "子の子の子の子の子"),
    ("persons.0.old_relationship", "嫁"),
    ("persons.0.resident_code", "12345678901"),
    ("persons.0.resident_code", "1234"),
    ("persons.0.my_number", "1234"),
    ("persons.0.my_number", BAD_MY_NUMBER),
    ("persons.0.residence_card_number", "12345"),
    ("persons.0.is_foreign", "perhaps"),
    ("persons.0.insurance", {"national_pension": "maybe"}),
    ("persons.0.stay_expiry_date", "1900-01-01"),
]


@pytest.mark.parametrize(("path", "value"), BAD_INPUTS)
def test_every_error_is_japanese(path: str, value: Any) -> None:
    """Every error from a broad set of bad inputs has a code and a Japanese message, and no 個人番号."""
    described = errors_of(_set(move_in(), path, value))
    assert described
    for error in described:
        assert error["code"]
        assert _japanese(error["message"]), error
        assert GOOD_MY_NUMBER not in error["message"]
        assert BAD_MY_NUMBER not in error["message"]


def test_move_out_needs_destination_and_two_householders_rejected() -> None:
    """転出 without 転出先 and a notice with two 世帯主 are rejected with their codes."""
    data = move_in()
    data["kind"] = "move_out"
    assert [e["code"] for e in errors_of(data)] == ["notice.destination_required"]
    data = move_in()
    second = copy.deepcopy(data["persons"][0])
    second["my_number"] = None
    data["persons"].append(second)
    assert [e["code"] for e in errors_of(data)] == ["notice.two_householders"]


def test_a_stored_notice_is_read_without_the_submit_time_rules() -> None:
    """A notice read back from storage (``context=STORED``) is not refused for a rule between
    fields it may predate; its types and formats are still checked."""
    from shared.models.movement_notice import STORED

    data = move_in()
    del data["new_address"]  # as if 新住所 had become required after this notice was accepted
    assert [e["code"] for e in errors_of(data)] == ["notice.new_address_required"]
    foreign = _set(move_in(), "persons.0.is_foreign", True)  # nor a foreign resident's ローマ字氏名
    assert [e["code"] for e in errors_of(foreign)] == ["person.roman_name_required"]
    assert MovementNotice.model_validate(foreign, context=STORED).persons[0].is_foreign
    stored = MovementNotice.model_validate(data, context=STORED)
    assert stored.new_address.is_empty() and stored.persons[0].family_name == "下妻"
    assert stored.persons[0].family_name_kana == "シモツマ"  # formats still normalised
    for path, value in [("persons.0.birth_date", "1980-13-01"), ("persons.0.family_name_kana", "abc")]:
        with pytest.raises(ValidationError):
            MovementNotice.model_validate(_set(move_in(), path, value), context=STORED)
