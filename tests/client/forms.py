"""Form data for client tests (importable by child processes too; no pytest, no Qt)."""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.text.checkdigit import my_number_check_digit, resident_code_check_digit

VALID_MY_NUMBER = "12345678901" + str(my_number_check_digit("12345678901"))
VALID_RESIDENT_CODE = "1234567890" + str(resident_code_check_digit("1234567890"))


def move_in_form(**person: Any) -> dict[str, Any]:
    """A complete 転入 form as the counter screen hands it over (strings, 和暦 dates)."""
    p = {
        "family_name": "試験",
        "given_name": "太郎",
        "family_name_kana": "シケン",
        "given_name_kana": "タロウ",
        "birth_date": "昭和55年4月1日",
        "sex": "1",
        "relationship": "世帯主",
        "resident_code": VALID_RESIDENT_CODE,
        "my_number": VALID_MY_NUMBER,
    }
    p.update(person)
    return {
        "kind": "move_in",
        "notified_on": date.today().isoformat(),
        "moved_on": "R6.4.1",
        "notifier": {"name": "試験　太郎", "standing": "self", "phone": ""},
        "new_address": {
            "postal_code": "3040067",
            "prefecture": "茨城県",
            "municipality": "下妻市",
            "town": "本城町二丁目",
            "block_number": "22番地",
            "building": "",
        },
        "old_address": {
            "postal_code": "100-0001",
            "prefecture": "東京都",
            "municipality": "千代田区",
            "town": "千代田",
            "block_number": "1番1号",
            "building": "",
        },
        "persons": [p],
    }
