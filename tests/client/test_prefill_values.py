"""住記から入力, Qt-free: where the register's address goes per procedure, how persons become the
form's dotted keys, and the merge that keeps what the clerk typed."""

from __future__ import annotations

from datetime import date

import pytest

from client.core.prefill import merge_values, prefill_values, split_kana
from shared.api_counter import ResidentHit
from shared.models.movement_notice import MovementKind


def hit(atena: str = "100001", **kw: object) -> ResidentHit:
    values: dict[str, object] = {
        "atena_number": atena,
        "household_number": "5001",
        "is_foreign": False,
        "family_name": "髙橋",
        "given_name": "一郎",
        "roman_name": None,
        "name_kana": "タカハシ イチロウ",
        "sex": "1",
        "birth_date": date(1970, 5, 5),
        "relationship": "世帯主",
        "householder_name": "髙橋　一郎",
        "postal_code": "304-8501",
        "prefecture": "茨城県",
        "municipality": "下妻市",
        "town": "本城町",
        "block_number": "2-22",
        "address": "茨城県下妻市本城町2-22",
        "building": "本城ハイツ101",
    }
    values.update(kw)
    return ResidentHit.model_validate(values)


@pytest.mark.parametrize(
    ("kind", "target", "other"),
    [
        (MovementKind.move_within, "old_address", "new_address"),
        (MovementKind.move_out, "old_address", "new_address"),
        (MovementKind.householder_change, "new_address", "old_address"),
        (MovementKind.ex_officio, "new_address", "old_address"),
    ],
)
def test_register_address_goes_where_the_procedure_needs_it(
    kind: MovementKind, target: str, other: str
) -> None:
    values = prefill_values(kind, [hit()])
    assert values[f"{target}.town"] == "本城町" and values[f"{target}.building"] == "本城ハイツ101"
    assert values[f"{target}.postal_code"] == "304-8501"
    assert not any(k.startswith(f"{other}.") for k in values)
    assert values["old_householder"] == "髙橋　一郎"


def test_persons_become_dotted_keys() -> None:
    wife = hit(
        "100002",
        given_name="花子",
        name_kana="ﾀｶﾊｼ ﾊﾅｺ",
        sex="2",
        relationship="妻",
        birth_date=date(1972, 6, 6),
    )
    foreigner = hit(
        "100003",
        is_foreign=True,
        family_name=None,
        given_name=None,
        roman_name="SMITH JOHN",
        name_kana="スミス ジョン",
    )
    values = prefill_values(MovementKind.move_within, [hit(), wife, foreigner], notifier=wife)
    assert values["persons.0.family_name"] == "髙橋" and values["persons.0.given_name_kana"] == "イチロウ"
    assert values["persons.0.birth_date"] == "昭和45年5月5日"
    assert (values["persons.1.sex"], values["persons.1.relationship"]) == ("2", "妻")
    assert values["persons.1.family_name_kana"] == "ﾀｶﾊｼ"  # as registered; the form's model folds width
    assert values["persons.2.roman_name"] == "SMITH JOHN" and "persons.2.family_name" not in values
    assert (values["notifier.name"], values["notifier.standing"]) == ("髙橋\u3000花子", "self")
    assert "persons.0.resident_code" not in values and "persons.0.my_number" not in values


def test_joined_address_only_goes_to_town() -> None:
    old = hit(prefecture=None, municipality=None, town=None, block_number=None)
    values = prefill_values(MovementKind.move_out, [old])
    assert values["old_address.town"] == "茨城県下妻市本城町2-22" and values["old_address.prefecture"] == ""


def test_split_kana() -> None:
    assert split_kana("ヤマダ\u3000タロウ") == ("ヤマダ", "タロウ")
    assert split_kana("ヤマダタロウ") == ("ヤマダタロウ", "")
    assert split_kana(None) == ("", "")


def test_merge_keeps_what_was_typed() -> None:
    """Typed fields the prefill does not give stay; the blank person slot is reused; a typed
    person of another name is kept and the resident is added after him; the same name merges."""
    current = {
        "notified_on": "令和8年11月30日",
        "notifier.phone": "0296-43-2111",
        "new_address.town": "長塚",
        "old_address.town": "手で入力",
        "persons.0.family_name": "",
        "persons.0.given_name": "",
        "persons.0.sex": "",
        "persons.0.my_number": "",
    }
    merged = merge_values(current, prefill_values(MovementKind.move_within, [hit()]))
    assert merged["notifier.phone"] == "0296-43-2111" and merged["new_address.town"] == "長塚"
    assert merged["old_address.town"] == "本城町"
    assert merged["persons.0.family_name"] == "髙橋" and merged["persons.0.my_number"] == ""
    assert "persons.1.family_name" not in merged

    typed = {
        **current,
        "persons.0.family_name": "佐藤",
        "persons.0.given_name": "次郎",
        "persons.0.my_number": "123",
    }
    merged = merge_values(typed, prefill_values(MovementKind.move_within, [hit()]))
    assert (merged["persons.0.family_name"], merged["persons.0.my_number"]) == ("佐藤", "123")
    assert merged["persons.1.family_name"] == "髙橋"

    same = {
        **current,
        "persons.0.family_name": "高橋",
        "persons.0.given_name": "一郎",
        "persons.0.my_number": "123",
    }
    merged = merge_values(same, prefill_values(MovementKind.move_within, [hit()]))
    assert merged["persons.0.family_name"] == "髙橋" and merged["persons.0.my_number"] == "123"
    assert "persons.1.family_name" not in merged
