"""The builder never drops what it does not show: every starter opened and saved unchanged keeps
its definition JSON identical; the 法人番号 field's 名称 / 所在地 targets are edited from a list;
a tampered hidden ``keep`` input is refused in Japanese."""

from __future__ import annotations

import json

import sqlalchemy as sa

from server.db.models import Procedure
from server.domain.console import builder
from shared.schemas.eform import EformProcedure
from tests.conftest import DEMO_LG_CODE, DEMO_SUPERVISOR
from tests.server.eforms.builder_helpers import console, form_of
from tests.server.eforms.test_builder import _error_at


async def _rows(eapi) -> dict[str, Procedure]:
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        return {p.slug: p for p in (await s.execute(sa.select(Procedure))).scalars()}


def _canon(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


async def test_every_starter_saved_unchanged_in_the_builder_is_identical(eapi):
    http, csrf = await console(eapi, *DEMO_SUPERVISOR)
    before = await _rows(eapi)
    assert {s.slug for s in builder.starters()} <= set(before)
    for slug, row in before.items():
        r = await http.get(f"/console/procedures/{row.id}/edit")
        assert r.status_code == 200, r.text
        data = {**form_of(r.text), "csrf": csrf, "action": "save"}
        r = await http.post(f"/console/procedures/{row.id}/edit", data=data)
        assert r.status_code == 303, (slug, r.text[:3000])
    after = await _rows(eapi)
    for slug, row in before.items():
        saved = after[slug].draft_definition
        assert saved is not None, slug
        # Byte for byte the same JSON as the imported starter (nothing dropped, nothing added).
        assert _canon(saved) == _canon(row.definition), slug
    zei = EformProcedure.model_validate(after["zei-shomei"].draft_definition)
    number = zei.field("corporate_number")
    assert number is not None and (number.name_field, number.address_field) == ("name", "address")
    assert EformProcedure.model_validate(after["example-inquiry"].draft_definition).example is True


async def test_corporate_number_targets_are_chosen_from_a_list(eapi):
    http, csrf = await console(eapi, *DEMO_SUPERVISOR)
    row = (await _rows(eapi))["zei-shomei"]
    edit = f"/console/procedures/{row.id}/edit"
    r = await http.get(edit)
    page = r.text
    assert 'name="fields.2.name_field"' in page and "名称を入れる項目" in page
    data = {**form_of(page), "csrf": csrf}
    assert data["fields.2.name_field"] == "name" and data["fields.2.address_field"] == "address"
    # The list offers text / address fields only: the radio 申請者の種別 is not a target.
    select = page[page.index('name="fields.2.name_field"') :]
    select = select[: select.index("</select>")]
    assert 'value="address"' in select and 'value="name"' in select and 'value="applicant_type"' not in select

    # A target that is not a text field (posted by hand: the list never offers it) is refused.
    r = await http.post(edit, data={**data, "fields.2.name_field": "applicant_type", "action": "save"})
    assert r.status_code == 422
    _error_at(r.text, "fields.2.name_field", "一覧から選んで")
    # 入れない: the property goes away; choosing again brings it back.
    r = await http.post(edit, data={**data, "fields.2.name_field": "", "action": "save"})
    assert r.status_code == 303
    d = EformProcedure.model_validate((await _rows(eapi))["zei-shomei"].draft_definition)
    assert d.field("corporate_number").name_field is None
    assert d.field("corporate_number").address_field == "address"
    r = await http.post(edit, data={**data, "action": "save"})
    d = EformProcedure.model_validate((await _rows(eapi))["zei-shomei"].draft_definition)
    assert d.field("corporate_number").name_field == "name"


async def test_tampered_keep_is_refused_and_nothing_is_lost(eapi):
    http, csrf = await console(eapi, *DEMO_SUPERVISOR)
    row = (await _rows(eapi))["example-inquiry"]
    edit = f"/console/procedures/{row.id}/edit"
    data = {**form_of((await http.get(edit)).text), "csrf": csrf}
    assert json.loads(data["keep"]) == {"example": True}
    for bad in (
        '{"slug": "evil"}',  # an edited property smuggled in
        '{"nonsense": 1}',
        "[1, 2]",
        "{not json",
        '{"example": "<script>x</script>"}',  # right key, wrong type: the schema refuses
        '{"example": true, "x": "' + "a" * 9000 + '"}',  # oversized
    ):
        r = await http.post(edit, data={**data, "keep": bad, "action": "save"})
        assert r.status_code == 422, bad[:40]
        assert "<script>x</script>" not in r.text
        assert "表示していない設定" in r.text or "example" in r.text
        _error_at(r.text, "keep", "読み込み直して" if "script" not in bad else "")
    r = await http.post(edit, data={**data, "fields.0.keep": '{"type": "file"}', "action": "save"})
    assert r.status_code == 422
    _error_at(r.text, "fields.0", "読み込み直して")
    after = (await _rows(eapi))["example-inquiry"]
    assert after.draft_definition is None  # nothing stored by the refused posts


async def test_a_copy_of_the_example_starter_is_not_an_example(eapi):
    http, csrf = await console(eapi, *DEMO_SUPERVISOR)
    data = {
        **form_of((await http.get("/console/procedures/new?template=example-inquiry")).text),
        "csrf": csrf,
    }
    assert "keep" not in data
    r = await http.post("/console/procedures/new", data={**data, "slug": "my-inquiry", "action": "save"})
    assert r.status_code == 303, r.text[:2000]
    assert EformProcedure.model_validate((await _rows(eapi))["my-inquiry"].definition).example is False
