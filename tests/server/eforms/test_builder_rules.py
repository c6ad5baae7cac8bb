"""The builder's condition editor (表示条件・必須条件 as rows combined by and / or) and the
reorder endpoint the drag and drop posts to — including hostile input to both."""

from __future__ import annotations

import json

import sqlalchemy as sa

from server.db.models import AuditEvent, Procedure
from server.domain.console import builder
from server.domain.eforms.logic import holds
from shared.schemas.eform import EformProcedure
from tests.conftest import DEMO_LG_CODE, DEMO_SUPERVISOR
from tests.server.eforms.builder_helpers import console, form_of
from tests.server.eforms.test_builder import _error_at

URL = "/console/procedures/new"


async def _form(eapi):
    """A saved draft: name (text), kind (radio), count (number), since (date), tags (checkbox),
    note (text). Returns the console, its edit URL and the posted form data."""
    http, csrf = await console(eapi, *DEMO_SUPERVISOR)
    data = {**form_of((await http.get(URL + "?template=")).text), "csrf": csrf}
    data.update({"title": "条件の試験", "slug": "rules-test"})
    specs = [
        ("radio", "kind", "種別", "a:保育\nother:その他"),
        ("number", "count", "人数", ""),
        ("date", "since", "開始日", ""),
        ("checkbox", "tags", "該当", "x:障害\ny:ひとり親"),
        ("text", "note", "備考", ""),
    ]
    for i, (kind, name, label, options) in enumerate(specs, start=1):
        r = await http.post(URL, data={**data, "action": f"add:{kind}"})
        data = {**form_of(r.text), "csrf": csrf}
        data.update({f"fields.{i}.name": name, f"fields.{i}.label": label, f"fields.{i}.options": options})
    r = await http.post(URL, data={**data, "action": "save"})
    assert r.status_code == 303, r.text
    edit = r.headers["location"].split("?")[0]
    data = {**form_of((await http.get(edit)).text), "csrf": csrf}
    return http, edit, data


async def _row(eapi) -> Procedure:
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        return (
            await session.execute(sa.select(Procedure).where(Procedure.slug == "rules-test"))
        ).scalar_one()


def _draft(row: Procedure) -> EformProcedure:
    return EformProcedure.model_validate(row.draft_definition or row.definition)


async def test_or_rule_of_several_conditions_is_json_logic_and_shown_back(eapi):
    http, edit, data = await _form(eapi)
    # Two rows only after 行を増やす (no JavaScript: the server adds the row).
    r = await http.post(edit, data={**data, "action": "add_cond:5:vis"})
    data = {**form_of(r.text), "csrf": data["csrf"]}
    assert "fields.5.vis.1.field" in data
    data.update(
        {
            "fields.5.vis_join": "or",
            "fields.5.vis.0.field": "kind",
            "fields.5.vis.0.op": "eq",
            "fields.5.vis.0.value": "other",
            "fields.5.vis.1.field": "count",
            "fields.5.vis.1.op": "gt",
            "fields.5.vis.1.value": "３",  # full-width digits are accepted
            "fields.5.req.0.field": "tags",
            "fields.5.req.0.op": "contains",
            "fields.5.req.0.value": "y",
            "fields.4.vis.0.field": "since",
            "fields.4.vis.0.op": "lt",
            "fields.4.vis.0.value": "令和8年4月1日",
        }
    )
    r = await http.post(edit, data={**data, "action": "save"})
    assert r.status_code == 303, r.text
    d = _draft(await _row(eapi))
    note, tags = d.field("note"), d.field("tags")
    assert note.visible_if == {"or": [{"==": [{"var": "kind"}, "other"]}, {">": [{"var": "count"}, 3]}]}
    assert note.required_if == {"in": ["y", {"var": "tags"}]}
    assert tags.visible_if == {"<": [{"var": "since"}, "2026-04-01"]}
    # The portal's evaluator honours them (dates compare as dates).
    assert holds(note.visible_if, {"kind": "a", "count": 4}) and not holds(note.visible_if, {"count": 3})
    assert holds(tags.visible_if, {"since": "2026-03-31"}) and not holds(
        tags.visible_if, {"since": "2026-04-01"}
    )
    assert not holds(tags.visible_if, {}) and holds(note.required_if, {"tags": ["x", "y"]})
    # Shown back in the editor rows, not as JSON.
    again = form_of((await http.get(edit)).text)
    assert again["fields.5.vis_join"] == "or" and again["fields.5.vis.1.op"] == "gt"
    assert again["fields.5.vis.1.value"] == "3" and again["fields.5.visible_if"] == ""
    assert again["fields.5.req.0.op"] == "contains" and again["fields.4.vis.0.value"] == "2026-04-01"
    # 削除 of a row (no JavaScript).
    r = await http.post(edit, data={**again, "csrf": data["csrf"], "action": "del_cond:5:vis:0"})
    after = form_of(r.text)
    assert after["fields.5.vis.0.field"] == "count" and after["fields.5.vis.1.field"] == ""


async def test_removed_field_is_reported_in_japanese(eapi):
    http, edit, data = await _form(eapi)
    data.update({"fields.5.vis.0.field": "kind", "fields.5.vis.0.op": "eq", "fields.5.vis.0.value": "a"})
    data["fields.5.required_if"] = '{"!!": [{"var": "kind"}]}'
    r = await http.post(edit, data={**data, "action": "remove:1"})  # 種別 goes
    assert r.status_code == 200
    message = _error_at(r.text, "fields.4.vis.0.field", "「kind」")
    assert "削除" in message
    assert "（見つからない項目: kind）" in r.text
    _error_at(r.text, "fields.4.required_if", "「kind」がフォームにありません")
    r = await http.post(edit, data={**form_of(r.text), "csrf": data["csrf"], "action": "save"})
    assert r.status_code == 422
    _error_at(r.text, "fields.4.vis.0.field", "より前にありません")


async def test_condition_rows_refuse_bad_and_hostile_input(eapi):
    http, edit, base = await _form(eapi)
    cases = [
        (
            {"fields.5.vis.0.field": "tags", "fields.5.vis.0.op": "eq", "fields.5.vis.0.value": "x"},
            "op",
            "含む",
        ),
        (
            {"fields.5.vis.0.field": "name", "fields.5.vis.0.op": "gt", "fields.5.vis.0.value": "1"},
            "op",
            "比べ方",
        ),
        (
            {"fields.5.vis.0.field": "count", "fields.5.vis.0.op": "lt", "fields.5.vis.0.value": "多い"},
            "value",
            "数値",
        ),
        (
            {"fields.5.vis.0.field": "since", "fields.5.vis.0.op": "gt", "fields.5.vis.0.value": "昨日"},
            "value",
            "日付",
        ),
        (
            {"fields.5.vis.0.field": "nosuch", "fields.5.vis.0.op": "eq", "fields.5.vis.0.value": "x"},
            "field",
            "nosuch",
        ),
        (
            {"fields.5.vis.0.field": "note", "fields.5.vis.0.op": "eq", "fields.5.vis.0.value": "x"},
            "field",
            "前",
        ),
        (
            {"fields.1.vis.0.field": "note", "fields.1.vis.0.op": "eq", "fields.1.vis.0.value": "x"},
            "field",
            "前",
        ),
        (
            {"fields.5.vis.0.field": "kind", "fields.5.vis.0.op": "eval", "fields.5.vis.0.value": "x"},
            "op",
            "比べ方",
        ),
        (
            {"fields.5.vis.0.field": "", "fields.5.vis.0.op": "eq", "fields.5.vis.0.value": "x"},
            "field",
            "選んで",
        ),
    ]
    for change, part, text in cases:
        r = await http.post(edit, data={**base, **change, "action": "save"})
        assert r.status_code == 422, change
        key = next(k for k in change if k.endswith(".field")).replace(".field", f".{part}")
        _error_at(r.text, key, text)
        assert change[next(iter(change))] in r.text  # what was typed is kept
    r = await http.post(
        edit,
        data={
            **base,
            "action": "save",
            "fields.5.vis_join": "xor",
            "fields.5.vis.0.field": "kind",
            "fields.5.vis.0.value": "a",
        },
    )
    _error_at(r.text, "fields.5.vis_join", "すべて満たす")
    # Too many rows, rows far out of range, deep and oversized JSON.
    many = {f"fields.5.vis.{k}.field": "kind" for k in range(builder.COND_MAX + 1)}
    many |= {f"fields.5.vis.{k}.value": "a" for k in range(builder.COND_MAX + 1)}
    r = await http.post(edit, data={**base, **many, "action": "save"})
    _error_at(r.text, "fields.5.vis.0.field", f"{builder.COND_MAX}個まで")
    r = await http.post(edit, data={**base, "fields.5.vis.999.field": "kind", "action": "save"})
    assert r.status_code == 303  # not a row the builder knows: ignored, nothing stored
    assert _draft(await _row(eapi)).field("note").visible_if is None
    deep: object = {"var": "kind"}
    for _ in range(40):
        deep = {"!": [deep]}
    r = await http.post(edit, data={**base, "fields.5.visible_if": json.dumps(deep), "action": "save"})
    _error_at(r.text, "fields.5.visible_if", "深すぎ")
    huge = json.dumps({"in": [{"var": "kind"}, ["a" * 10] * 600]})
    r = await http.post(edit, data={**base, "fields.5.visible_if": huge, "action": "save"})
    _error_at(r.text, "fields.5.visible_if", "文字以内")
    r = await http.post(edit, data={**base, "action": "add_cond:99:vis"})
    assert "項目が見つかりません" in r.text
    r = await http.post(edit, data={**base, "action": "add_cond:5:evil"})
    assert "項目が見つかりません" in r.text


async def _order(http, edit, data, order, **over):
    body = {"csrf": data["csrf"], "base": _base_of((await http.get(edit)).text), "order": order, **over}
    return await http.post(edit.replace("/edit", "/order"), data=body)


def _base_of(html: str) -> str:
    import re

    m = re.search(r'data-base="([0-9a-f]+)"', html)
    assert m is not None
    return m.group(1)


async def test_reorder_stores_the_draft_and_refuses_hostile_orders(eapi):
    http, edit, data = await _form(eapi)
    names = ["name", "kind", "count", "since", "tags", "note"]
    r = await _order(http, edit, data, ["kind", "name", "count", "since", "note", "tags"])
    assert r.status_code == 200 and r.json()["ok"], r.text
    assert "並び順を下書きに保存しました" in r.json()["message"]
    row = await _row(eapi)
    assert [f.name for f in _draft(row).fields] == ["kind", "name", "count", "since", "note", "tags"]
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        event = (
            (
                await session.execute(
                    sa.select(AuditEvent)
                    .where(AuditEvent.object_id == str(row.id))
                    .order_by(AuditEvent.seq.desc())
                )
            )
            .scalars()
            .first()
        )
        assert event is not None and event.details.get("reordered") is True
    bad = [
        names[:-1],  # one missing
        [*names, "name"],  # one twice
        ["name", "name", "count", "since", "tags", "note"],  # duplicate instead of kind
        ["name", "kind", "count", "since", "tags", "evil"],  # a field of no form
        ["name", "kind", "count", "since", "tags", "juminhyo_purpose"],  # a field of another form
        [],
        ["x"] * 5000,
    ]
    for order in bad:
        r = await _order(http, edit, data, order)
        assert r.status_code == 422 and "並び順が今の項目と合いません" in r.json()["message"], order
    # A field may not move in front of the field its condition looks at.
    data = {**form_of((await http.get(edit)).text), "csrf": data["csrf"]}
    data.update({"fields.5.vis.0.field": "kind", "fields.5.vis.0.value": "a"})  # tags shown for kind=a
    assert (await http.post(edit, data={**data, "action": "save"})).status_code == 303
    r = await _order(http, edit, data, ["tags", "kind", "name", "count", "since", "note"])
    assert r.status_code == 422 and "より前にありません" in r.json()["message"]
    assert _draft(await _row(eapi)).fields[0].name == "kind"
    # Without the CSRF token, or from a page older than the last save: refused, nothing changes.
    r = await _order(http, edit, data, names, csrf="")
    assert r.status_code == 403
    r = await http.post(
        edit.replace("/edit", "/order"), data={"csrf": data["csrf"], "base": "0" * 24, "order": names}
    )
    assert r.status_code == 409 and "読み込み直して" in r.json()["message"]
    assert _draft(await _row(eapi)).fields[0].name == "kind"


async def test_reorder_never_touches_the_published_version(eapi):
    http, edit, data = await _form(eapi)
    r = await http.post(edit, data={**data, "action": "publish"})
    assert r.status_code == 303
    page = (await http.get(edit)).text
    stale = _base_of(page)
    r = await _order(http, edit, data, ["note", "name", "kind", "count", "since", "tags"])
    assert r.status_code == 200, r.text
    row = await _row(eapi)
    live = EformProcedure.model_validate(row.definition)
    assert live.fields[0].name == "name"  # residents still see the published order
    assert _draft(row).fields[0].name == "note"  # the change waits in the draft
    # The page loaded before that change (or before a publish) may not reorder any more.
    order = ["name", "note", "kind", "count", "since", "tags"]
    r = await http.post(
        edit.replace("/edit", "/order"), data={"csrf": data["csrf"], "base": stale, "order": order}
    )
    assert r.status_code == 409
    # Another municipality's staff or a foreign procedure id: not found.
    r = await http.post(
        "/console/procedures/00000000-0000-0000-0000-000000000000/order",
        data={"csrf": data["csrf"], "base": stale, "order": order},
    )
    assert r.status_code in (403, 404)
