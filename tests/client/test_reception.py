"""The Qt-free reception workflow: form text → validated 異動届 with per-field Japanese errors."""

from __future__ import annotations

from datetime import date

import pytest

from client.core.outbox import Outbox, State
from client.core.reception import RECEPTION_KIND, NoticeInvalid, build_notice, submit_reception, wareki_hint
from shared.api import ReceptionCreate
from tests.client.forms import move_in_form


def test_valid_form_builds_notice_with_wareki_dates() -> None:
    """和暦 input (昭和55年4月1日, R6.4.1) becomes ISO dates in a valid MovementNotice."""
    notice = build_notice(move_in_form())
    assert notice.persons[0].birth_date == date(1980, 4, 1)
    assert notice.moved_on == date(2024, 4, 1)
    assert notice.new_address.postal_code == "304-0067"


def test_short_era_form_accepted() -> None:
    """The short 和暦 form R1.5.1 is read as 2019-05-01."""
    assert build_notice(move_in_form(birth_date="R1.5.1")).persons[0].birth_date == date(2019, 5, 1)


def test_bad_my_number_error_is_on_its_field() -> None:
    """A wrong check digit yields the Japanese error at persons.0.my_number and nowhere else."""
    with pytest.raises(NoticeInvalid) as info:
        build_notice(move_in_form(my_number="123456789012"))
    errors = info.value.by_field()
    assert list(errors) == ["persons.0.my_number"]
    assert "検査用数字" in errors["persons.0.my_number"][0]
    assert "123456789012" not in str(info.value.details)


def test_bad_dates_and_other_errors_are_reported_together() -> None:
    """A bad 和暦 date and a bad postal code are both reported, each on its own field."""
    form = move_in_form(birth_date="平成31年5月1日")
    form["new_address"]["postal_code"] = "12"
    with pytest.raises(NoticeInvalid) as info:
        build_notice(form)
    errors = info.value.by_field()
    assert "平成の期間にありません" in errors["persons.0.birth_date"][0]
    assert errors["new_address.postal_code"] == ["郵便番号は7桁の数字で入力してください。"]


def test_model_level_errors_are_mapped_to_fields() -> None:
    """Notice-level rules (従前の住所 required) land on the matching group, not on the whole form."""
    form = move_in_form()
    form["old_address"] = {k: "" for k in form["old_address"]}
    with pytest.raises(NoticeInvalid) as info:
        build_notice(form)
    assert info.value.by_field() == {"old_address": ["従前の住所を入力してください。"]}


def test_missing_name_is_on_the_name_field() -> None:
    """A person without 氏 gets 氏を入力してください。 beside 氏."""
    with pytest.raises(NoticeInvalid) as info:
        build_notice(move_in_form(family_name=""))
    assert info.value.by_field() == {"persons.0.family_name": ["氏を入力してください。"]}


def test_submit_reception_enqueues_contract_body(outbox: Outbox) -> None:
    """submit_reception stores a ReceptionCreate body keyed by its client_key, pending."""
    item = submit_reception(outbox, build_notice(move_in_form()), terminal_id="t1")
    assert item.kind == RECEPTION_KIND and item.state == State.pending
    body = ReceptionCreate.model_validate(item.payload)
    assert str(body.client_key) == item.client_key and body.terminal_id == "t1"


def test_wareki_hint() -> None:
    """The hint beside a date field shows 和暦 and ISO, or the Japanese parse error."""
    assert wareki_hint("R1.5.1") == "令和元年5月1日（2019-05-01）"
    assert "形式" in wareki_hint("あした")
    assert wareki_hint("") == ""
