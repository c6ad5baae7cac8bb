"""Builder gaps of issue 6: the condition value picked from the chosen field's options (server
rendered, no JavaScript), and reordering the fields inside a repeating group through the
order endpoint the drag and drop posts to."""

from __future__ import annotations

import re

import sqlalchemy as sa

from server.db.models import AuditEvent
from server.domain.eforms.logic import holds
from tests.conftest import DEMO_LG_CODE
from tests.server.eforms.builder_helpers import form_of
from tests.server.eforms.test_builder_rules import _base_of, _draft, _form, _row


def _value_control(html: str, key: str) -> str:
    """The HTML of the value control (input or select) named ``key``."""
    at = html.index(f'name="{key}"')
    start = html.rindex("<", 0, at)
    end = html.index("</select>", at) if html[start:].startswith("<select") else html.index(">", at)
    return html[start:end]


async def test_condition_value_is_picked_from_the_options_without_javascript(eapi):
    http, edit, data = await _form(eapi)
    # A new row has no field yet: the value is typed.
    r = await http.get(edit)
    assert _value_control(r.text, "fields.5.vis.0.value").startswith("<input")
    # Choose 種別 (radio) and press 選んだ項目の選択肢を値の欄に出す: the value becomes a list of its options.
    data["fields.5.vis.0.field"] = "kind"
    r = await http.post(edit, data={**data, "action": "refresh"})
    assert r.status_code == 200, r.text
    control = _value_control(r.text, "fields.5.vis.0.value")
    assert control.startswith("<select")
    assert (
        '<option value="a">保育（a）</option>' in control
        and '<option value="other">その他（other）</option>' in control
    )
    assert "（選んでください）" in control
    data = {**form_of(r.text), "csrf": data["csrf"]}
    data["fields.5.vis.0.value"] = "other"
    # The checkbox field too (含む).
    data.update(
        {"fields.5.req.0.field": "tags", "fields.5.req.0.op": "contains", "fields.5.req.0.value": "y"}
    )
    r = await http.post(edit, data={**data, "action": "save"})
    assert r.status_code == 303, r.text
    note = _draft(await _row(eapi)).field("note")
    # Still JSON Logic underneath.
    assert note.visible_if == {"==": [{"var": "kind"}, "other"]}
    assert note.required_if == {"in": ["y", {"var": "tags"}]}
    assert holds(note.visible_if, {"kind": "other"}) and not holds(note.visible_if, {"kind": "a"})
    page = (await http.get(edit)).text
    assert 'value="other" selected>その他（other）' in _value_control(page, "fields.5.vis.0.value")
    assert 'value="y" selected>ひとり親（y）' in _value_control(page, "fields.5.req.0.value")
    # Number fields keep a typed value.
    assert _value_control(page, "fields.5.vis.1.value").startswith("<input")


async def test_value_outside_the_options_is_shown_not_lost_and_hostile_text_is_escaped(eapi):
    http, edit, data = await _form(eapi)
    data.update({"fields.5.vis.0.field": "kind", "fields.5.vis.0.value": "<script>x</script>"})
    r = await http.post(edit, data={**data, "action": "save"})
    assert r.status_code == 303  # an old value may outlive its option: kept, never dropped
    assert _draft(await _row(eapi)).field("note").visible_if == {
        "==": [{"var": "kind"}, "<script>x</script>"]
    }
    page = (await http.get(edit)).text
    control = _value_control(page, "fields.5.vis.0.value")
    assert "（選択肢にない値: &lt;script&gt;x&lt;/script&gt;）" in control and "<script>x" not in page
    again = form_of(page)
    assert again["fields.5.vis.0.value"] == "<script>x</script>"


async def _group_form(eapi):
    """The rules form plus a repeating group ``people`` of four fields (a, b, c, d)."""
    http, edit, data = await _form(eapi)
    r = await http.post(edit, data={**data, "action": "add:group"})
    data = {**form_of(r.text), "csrf": data["csrf"]}
    data.update({"fields.6.name": "people", "fields.6.label": "家族", "fields.6.max_repeat": "3"})
    for j, name in enumerate("abcd"):
        r = await http.post(edit, data={**data, "action": "add_child:6"})
        data = {**form_of(r.text), "csrf": data["csrf"]}
        data.update({f"fields.6.fields.{j}.name": name, f"fields.6.fields.{j}.label": f"項目{name}"})
    data["fields.6.fields.3.vis.0.field"] = "b"  # d is shown only when b is filled
    data["fields.6.fields.3.vis.0.op"] = "filled"
    r = await http.post(edit, data={**data, "action": "save"})
    assert r.status_code == 303, r.text
    page = (await http.get(edit)).text
    return http, edit, data["csrf"], page


async def test_group_children_reorder_through_the_order_endpoint(eapi):
    http, edit, csrf, page = await _group_form(eapi)
    url = edit.replace("/edit", "/order")
    base = _base_of(page)
    r = await http.post(
        url, data={"csrf": csrf, "base": base, "group": "people", "order": ["c", "a", "b", "d"]}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] and "並び順" in body["message"]
    people = _draft(await _row(eapi)).field("people")
    assert [c.name for c in people.fields] == ["c", "a", "b", "d"]
    assert people.fields[3].visible_if == {"!!": [{"var": "b"}]}
    # Top-level order untouched.
    assert [f.name for f in _draft(await _row(eapi)).fields][-1] == "people"
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        event = (await s.execute(sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))).scalar_one()
    assert event.action == "procedure_save_success" and event.details["group"] == "people"


async def test_group_reorder_refuses_hostile_orders(eapi):
    http, edit, csrf, page = await _group_form(eapi)
    url = edit.replace("/edit", "/order")
    base = _base_of(page)
    cases = [
        ({"group": "people", "order": ["d", "a", "b", "c"]}, 422, "より前にありません"),  # d before b
        ({"group": "people", "order": ["a", "b", "c"]}, 422, "合いません"),
        ({"group": "people", "order": ["a", "b", "c", "c"]}, 422, "合いません"),
        ({"group": "people", "order": ["a", "b", "c", "x"]}, 422, "合いません"),
        ({"group": "note", "order": ["a", "b", "c", "d"]}, 422, "繰り返し要素"),  # not a group
        ({"group": "nosuch", "order": ["a", "b", "c", "d"]}, 422, "繰り返し要素"),
        ({"group": "<script>", "order": ["a"]}, 422, "繰り返し要素"),
    ]
    for extra, status, message in cases:
        r = await http.post(url, data={"csrf": csrf, "base": base, **extra})
        assert r.status_code == status, (extra, r.text)
        assert message in r.json()["message"], r.json()
        assert "<script>" not in r.text
    r = await http.post(url, data={"csrf": csrf, "base": "stale", "group": "people", "order": list("cabd")})
    assert r.status_code == 409
    r = await http.post(url, data={"csrf": "0" * 64, "base": base, "group": "people", "order": list("cabd")})
    assert r.status_code == 403
    assert [c.name for c in _draft(await _row(eapi)).field("people").fields] == list("abcd")
    assert re.search(r'data-group="people"', page)
