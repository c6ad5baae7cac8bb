"""住民異動届 data for the print tests and the bench (no pytest, no Qt)."""

from __future__ import annotations

from typing import Any

from client.core.reception import build_notice
from shared.models.movement_notice import MovementNotice
from tests.client.forms import VALID_RESIDENT_CODE, move_in_form

#: 葛 with the IPAmj (Moji_Joho) selector E0102 → glyph mj022335, not the default mj022336.
KATSU_IVS = "葛\U000e0102"


def household_form(persons: int = 3, **changes: Any) -> dict[str, Any]:
    """A 転入 of a household with an IVS name, 𠮷 and 髙, and every department flag set."""
    form = move_in_form(
        family_name=f"{KATSU_IVS}西",
        given_name="𠮷太郎",
        family_name_kana="カサイ",
        given_name_kana="キチタロウ",
    )
    head = form["persons"][0]
    head["domicile"] = "東京都千代田区千代田一番"
    head["register_head"] = f"{KATSU_IVS}西　𠮷太郎"
    head["insurance"] = {"national_health_insurance": True, "national_pension": True}
    more = [
        {
            "family_name": f"{KATSU_IVS}西",
            "given_name": "髙子",
            "family_name_kana": "カサイ",
            "given_name_kana": "タカコ",
            "birth_date": "昭和57年8月3日",
            "sex": "2",
            "relationship": "妻",
            "insurance": {"national_health_insurance": True},
        },
        {
            "family_name": f"{KATSU_IVS}西",
            "given_name": "葵",
            "family_name_kana": "カサイ",
            "given_name_kana": "アオイ",
            "birth_date": "令和2年5月1日",
            "sex": "2",
            "relationship": "子",
            "insurance": {"national_health_insurance": True, "child_allowance": True},
        },
        {
            "family_name": f"{KATSU_IVS}西",
            "given_name": "トメ",
            "family_name_kana": "カサイ",
            "given_name_kana": "トメ",
            "birth_date": "昭和15年1月20日",
            "sex": "2",
            "relationship": "母",
            "insurance": {"long_term_care": True},
        },
    ]
    for i in range(max(0, persons - 1)):
        p = dict(more[i % len(more)])
        if i >= len(more):
            p["given_name"] = f"{p['given_name']}{i}"
            p["relationship"] = "子"
        form["persons"].append(p)
    form["notifier"] = {
        "name": f"{KATSU_IVS}西　𠮷太郎",
        "standing": "householder",
        "phone": "0296-43-1111",
        "identity_document": "運転免許証",
    }
    form["new_householder"] = f"{KATSU_IVS}西　𠮷太郎"
    form["old_householder"] = f"{KATSU_IVS}西　𠮷太郎"
    form["whole_household"] = True
    form["confirmation_number"] = "A-0042"
    form["memo"] = "転出証明書 確認済み"
    form.update(changes)
    return form


def household(persons: int = 4, **changes: Any) -> MovementNotice:
    """The validated notice of :func:`household_form`."""
    return build_notice(household_form(persons, **changes))


__all__ = ["KATSU_IVS", "VALID_RESIDENT_CODE", "household", "household_form"]
