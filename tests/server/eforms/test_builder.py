"""The form builder: every action, every bad input (message at the field + summary, nothing lost),
versions that keep submitted applications readable, preview."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa

from server.db.models import Application, AuditEvent, Procedure, ProcedureVersion
from shared.schemas.eform import EformProcedure
from tests.conftest import DEMO_LG_CODE, DEMO_SUPERVISOR
from tests.server.eforms.builder_helpers import console, form_of
from tests.server.eforms.conftest import PORTAL, Resident, deliver

ADMIN = DEMO_SUPERVISOR


async def _blank(eapi):
    http, csrf = await console(eapi, *ADMIN)
    r = await http.get("/console/procedures/new?template=")
    assert r.status_code == 200, r.text
    data = form_of(r.text)
    data["csrf"] = csrf
    return http, data


async def _post(http, url, data, action):
    return await http.post(url, data={**data, "action": action})


def _small(data):
    """A small form: a radio, a text shown only for one answer, a repeating group of children."""
    data.update(
        {
            "title": "子育て支援の申請",
            "slug": "kosodate",
            "description": "子育て支援の概要です。",
            "contact": "子育て支援課 0296-43-2111",
            "homepage": "https://www.city.example.lg.jp/kosodate",
            "max_file_mb": "5",
            "extensions": "pdf, png",
        }
    )
    return data


async def _build_small(http, data):
    url = "/console/procedures/new"
    r = await _post(http, url, data, "add:radio")
    data = {**form_of(r.text), "csrf": data["csrf"]}
    data.update(
        {"fields.1.name": "kind", "fields.1.label": "種別", "fields.1.options": "a:保育\nother:その他"}
    )
    r = await _post(http, url, data, "add:text")
    data = {**form_of(r.text), "csrf": data["csrf"]}
    data.update(
        {
            "fields.2.name": "kind_other",
            "fields.2.label": "種別（その他）",
            "fields.2.visible_if": '{"==": [{"var": "kind"}, "other"]}',
            "fields.2.required_if": '{"==": [{"var": "kind"}, "other"]}',
        }
    )
    r = await _post(http, url, data, "add:group")
    data = {**form_of(r.text), "csrf": data["csrf"]}
    data.update({"fields.3.name": "children", "fields.3.label": "子ども", "fields.3.max_repeat": "3"})
    r = await _post(http, url, data, "add_child:3")
    data = {**form_of(r.text), "csrf": data["csrf"]}
    data.update({"fields.3.fields.0.name": "child_name", "fields.3.fields.0.label": "子の氏名"})
    data["fields.3.fields.0.required"] = "1"
    return data


async def test_builder_creates_publishes_and_resident_applies(eapi):
    http, data = await _blank(eapi)
    data = await _build_small(http, _small(data))
    r = await _post(http, "/console/procedures/new", data, "save")
    assert r.status_code == 303, r.text
    edit_url = r.headers["location"].split("?")[0]
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        row = (await session.execute(sa.select(Procedure).where(Procedure.slug == "kosodate"))).scalar_one()
        assert not row.published
        d = EformProcedure.model_validate(row.draft_definition)
        assert [f.name for f in d.fields] == ["name", "kind", "kind_other", "children"]
        assert d.fields[3].max_repeat == 3 and d.fields[3].fields[0].required
        assert d.uploads.max_file_mb == 5 and d.uploads.extensions == ["pdf", "png"]
        assert d.homepage == "https://www.city.example.lg.jp/kosodate"
    # Not on the portal before publishing.
    assert (await eapi.client("198.51.100.7").get(f"{PORTAL}/procedures/kosodate")).status_code == 404
    page = await http.get(edit_url)
    data = {**form_of(page.text), "csrf": data["csrf"]}
    r = await _post(http, edit_url, data, "publish")
    assert r.status_code == 303 and "published" in r.headers["location"]
    res = Resident(eapi)
    await res.start("kosodate")
    r = await res.post_form({"name": "下妻 花子", "kind": "other", "children__count": "1"}, action="confirm")
    assert r.status_code == 422 and "種別（その他）" in r.text
    r = await res.post_form(
        {
            "name": "下妻 花子",
            "kind": "other",
            "kind_other": "一時預かり",
            "children__count": "1",
            "children.0.child_name": "下妻 一郎",
        },
    )
    assert r.status_code == 303, r.text
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    assert r.status_code == 303
    await deliver(eapi)
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        app = await session.get(Application, res.app_id)
        assert app.procedure_version == 1 and app.values.get("children.0.child_name") == "下妻 一郎"
        actions = (await session.execute(sa.select(AuditEvent.action))).scalars().all()
        assert "procedure_save_success" in actions and "procedure_publish_success" in actions


async def test_editing_published_form_keeps_old_applications(eapi):
    """Remove a field and publish again: the submitted application still shows it (its version)."""
    http, data = await _blank(eapi)
    data = await _build_small(http, _small(data))
    r = await _post(http, "/console/procedures/new", data, "publish")
    edit_url = r.headers["location"].split("?")[0]
    res = Resident(eapi)
    await res.start("kosodate")
    await res.post_form(
        {"name": "下妻 花子", "kind": "other", "kind_other": "旧項目の値", "children__count": "0"}
    )
    await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    page = await http.get(edit_url)
    data = {**form_of(page.text), "csrf": data["csrf"]}
    r = await _post(http, edit_url, data, "remove:2")
    data = {**form_of(r.text), "csrf": data["csrf"]}
    assert "fields.3.name" not in data and data["fields.2.name"] == "children"
    r = await _post(http, edit_url, data, "publish")
    assert r.status_code == 303
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        row = (await session.execute(sa.select(Procedure).where(Procedure.slug == "kosodate"))).scalar_one()
        assert row.version == 2 and row.draft_definition is None
        kept = (
            (
                await session.execute(
                    sa.select(ProcedureVersion.version).where(ProcedureVersion.procedure_id == row.id)
                )
            )
            .scalars()
            .all()
        )
        assert sorted(kept) == [1, 2]
        app_id = (
            await session.execute(sa.select(Application.id).where(Application.procedure_id == row.id))
        ).scalar_one()
    detail = await http.get(f"/console/applications/{app_id}")
    assert detail.status_code == 200 and "旧項目の値" in detail.text and "種別（その他）" in detail.text
    status = await res.http.get(res.app_url)
    assert status.status_code == 200 and "旧項目の値" in status.text
    # A new application uses the new version: the removed field is gone from the form.
    new = Resident(eapi)
    await new.start("kosodate", "hanako@example.jp")
    form = await new.http.get(new.app_url + "/form")
    assert "種別（その他）" not in form.text and "子ども" in form.text


async def test_structural_actions_reorder_and_remove(eapi):
    http, data = await _blank(eapi)
    url = "/console/procedures/new"
    r = await _post(http, url, data, "add:email")
    data = {**form_of(r.text), "csrf": data["csrf"]}
    data.update({"fields.1.name": "mail", "fields.1.label": "メール"})
    r = await _post(http, url, data, "up:1")
    data = {**form_of(r.text), "csrf": data["csrf"]}
    assert data["fields.0.name"] == "mail" and data["fields.1.name"] == "name"
    r = await _post(http, url, data, "down:0")
    data = {**form_of(r.text), "csrf": data["csrf"]}
    assert data["fields.0.name"] == "name"
    r = await _post(http, url, data, "remove:0")
    data = {**form_of(r.text), "csrf": data["csrf"]}
    assert data["fields.0.name"] == "mail" and "fields.1.name" not in data
    r = await _post(http, url, data, "remove:9")
    assert "項目が見つかりません" in r.text


def _error_at(html, key, text):
    """The message sits at the field (its -error paragraph) and in the summary."""
    fid = key.replace(".", "-")
    at = re.search(rf'id="{fid}-error"><span class="visually-hidden">エラー: </span>([^<]*)<', html)
    assert at is not None, f"no error at {key}"
    assert text in at.group(1), at.group(1)
    assert f'href="#{fid}"' in html
    return at.group(1)


async def test_bad_inputs_come_back_at_the_field_with_what_was_typed(eapi):
    http, data = await _blank(eapi)
    url = "/console/procedures/new"
    cases = [
        ({"slug": "Bad Slug!"}, "slug", "英小文字"),
        ({"slug": "a" * 81}, "slug", "80文字"),
        ({"max_file_mb": "11"}, "max_file_mb", "1から10まで"),
        ({"max_file_mb": "0"}, "max_file_mb", "1から10まで"),
        ({"max_file_mb": "2.5"}, "max_file_mb", "整数"),
        ({"fields.0.visible_if": '{"==": [{"var": "name"}, "x"'}, "fields.0.visible_if", "JSON"),
        ({"fields.0.visible_if": '{"eval": ["alert(1)"]}'}, "fields.0.visible_if", "演算子"),
        ({"fields.0.visible_if": '{"==": [{"var": "nosuch"}, 1]}'}, "fields.0.visible_if", "nosuch"),
        ({"fields.0.visible_if": "[1, 2]"}, "fields.0.visible_if", "JSON オブジェクト"),
        ({"title": "x" * 201}, "title", "200文字"),
        ({"title": "申請\x07"}, "title", "使えない文字"),
        ({"homepage": "javascript:alert(1)"}, "homepage", "http"),
        ({"extensions": "pdf, ../exe"}, "extensions", "使えません"),
        ({"fields.0.name": "Name"}, "fields.0.name", "英小文字"),
        ({"fields.0.label": ""}, "fields.0.label", "表示名"),
        ({"applicant_types": []}, "applicant_types", "1つ以上"),
        ({"jpki_required": "1", "applicant_types": ["corporation"]}, "jpki_required", "個人"),
        (
            {"mails.submitted.subject": "受付 {secret}", "mails.submitted.body": "本文"},
            "mails.submitted.subject",
            "{secret}",
        ),
        (
            {"mails.submitted.subject": "受付 {title", "mails.submitted.body": "本文"},
            "mails.submitted.subject",
            "{ }",
        ),
        ({"publish_from": "2026-05-01T09:00", "publish_until": "2026-04-01T09:00"}, "publish_until", "後に"),
        ({"publish_from": "来週"}, "publish_from", "形"),
    ]
    for change, key, text in cases:
        body = {**data, "title": "テスト手続き", "slug": "test-proc", **change}
        r = await _post(http, url, body, "save")
        assert r.status_code == 422, (change, r.text[:300])
        _error_at(r.text, key, text)
        again = form_of(r.text)
        for k, v in change.items():
            if isinstance(v, str) and k not in ("title", "jpki_required"):
                assert again.get(k, "").strip() == v.strip(), (k, again.get(k))
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        assert (
            await session.execute(sa.select(Procedure).where(Procedure.slug == "test-proc"))
        ).first() is None


async def test_duplicate_slug_duplicate_names_and_too_many_fields(eapi):
    http, data = await _blank(eapi)
    url = "/console/procedures/new"
    r = await _post(http, url, {**data, "title": "重複", "slug": "juminhyo"}, "save")
    assert r.status_code == 422
    _error_at(r.text, "slug", "別の手続き")
    r = await _post(http, url, {**data, "title": "x", "slug": "dup"}, "add:text")
    body = {
        **form_of(r.text),
        "csrf": data["csrf"],
        "title": "x",
        "slug": "dup",
        "fields.1.name": "name",
        "fields.1.label": "氏名2",
    }
    r = await _post(http, url, body, "save")
    _error_at(r.text, "fields.1.name", "重複")
    many = {**data, "title": "多い", "slug": "many"}
    for i in range(101):
        many[f"fields.{i}.name"] = f"f{i}"
        many[f"fields.{i}.label"] = f"項目{i}"
        many[f"fields.{i}.type"] = "text"
    r = await _post(http, url, many, "save")
    assert r.status_code == 422 and "100個まで" in r.text
    r = await _post(http, url, many, "add:text")
    assert "100個まで" in r.text


async def test_hostile_text_is_shown_as_text(eapi):
    http, data = await _blank(eapi)
    body = {
        **data,
        "title": "<script>alert(1)</script>",
        "slug": "hostile",
        "fields.0.help": '"><img src=x onerror=alert(1)>',
    }
    r = await _post(http, "/console/procedures/new", body, "preview")
    assert r.status_code == 303
    page = await http.get(r.headers["location"])
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
    assert "<img src=x" not in page.text


async def test_preview_evaluates_rules_and_repeats(eapi):
    http, data = await _blank(eapi)
    data = await _build_small(http, _small(data))
    r = await _post(http, "/console/procedures/new", data, "preview")
    assert r.status_code == 303
    preview = r.headers["location"]
    page = await http.get(preview)
    assert page.status_code == 200 and "プレビュー" in page.text and "子ども" in page.text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    r = await http.post(
        preview + "/form", data={"csrf": csrf, "action": "add:children", "children__count": "0", "name": "x"}
    )
    assert "子ども 1件目" in r.text
    r = await http.post(
        preview + "/form",
        data={"csrf": csrf, "action": "confirm", "kind": "other", "name": "x", "children__count": "0"},
    )
    assert r.status_code == 422 and "種別（その他）" in r.text
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        assert (
            await session.execute(sa.select(Application).where(Application.email == "preview"))
        ).first() is None


async def test_new_from_starter_template_copies_fields(eapi):
    http, csrf = await console(eapi, *ADMIN)
    r = await http.get("/console/procedures/new")
    assert "住民票の写しの交付申請" in r.text
    r = await http.get("/console/procedures/new?template=juminhyo")
    data = {**form_of(r.text), "csrf": csrf}
    assert data["slug"] == "" and data["fields.0.type"] == "heading"
    r = await _post(http, "/console/procedures/new", {**data, "slug": "juminhyo-2"}, "save")
    assert r.status_code == 303, r.text
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        row = (await session.execute(sa.select(Procedure).where(Procedure.slug == "juminhyo-2"))).scalar_one()
        d = EformProcedure.model_validate(row.definition)
        assert d.payment.mode == "prepayment" and d.field("persons").max_repeat == 6
        assert d.field("purpose_other").visible_if == {"==": [{"var": "purpose"}, "other"]}


async def test_builder_needs_csrf_and_permission(eapi):
    http, data = await _blank(eapi)
    r = await http.post("/console/procedures/new", data={**data, "csrf": "0" * 32, "action": "save"})
    assert r.status_code == 403
    clerk = eapi.client("127.0.0.1")
    await clerk.post(
        "/console/login", data={"lg_code": DEMO_LG_CODE, "username": "demo", "password": "madoguchi-demo"}
    )
    assert (await clerk.get("/console/procedures/new")).status_code == 403
    assert (await clerk.get(f"/console/procedures/{uuid.uuid4()}/edit")).status_code == 403


async def test_condition_row_becomes_json_logic_and_round_trips(eapi):
    """One condition row (field = value, 表示されるときは必須) saves the JSON Logic the portal
    evaluates and comes back in the editor."""
    http, data = await _blank(eapi)
    url = "/console/procedures/new"
    r = await _post(http, url, {**data, "title": "簡単", "slug": "simple"}, "add:radio")
    data = {**form_of(r.text), "csrf": data["csrf"]}
    data.update({"fields.1.name": "kind", "fields.1.label": "種別", "fields.1.options": "a:A\nother:その他"})
    r = await _post(http, url, data, "add:text")
    data = {**form_of(r.text), "csrf": data["csrf"]}
    data.update({"fields.2.name": "note", "fields.2.label": "内容", "fields.2.vis.0.field": "kind"})
    r = await _post(http, url, data, "save")
    _error_at(r.text, "fields.2.vis.0.value", "値を入力")
    data.update({"fields.2.vis.0.value": "other", "fields.2.visible_if": '{"!": [{"var": "kind"}]}'})
    r = await _post(http, url, data, "save")
    _error_at(r.text, "fields.2.visible_if", "どちらか一方")
    data.update({"fields.2.visible_if": "", "fields.2.show_required": "1"})
    r = await _post(http, url, data, "save")
    assert r.status_code == 303, r.text
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        row = (await session.execute(sa.select(Procedure).where(Procedure.slug == "simple"))).scalar_one()
        note = EformProcedure.model_validate(row.definition).field("note")
        assert note.visible_if == note.required_if == {"==": [{"var": "kind"}, "other"]}
    page = await http.get(r.headers["location"])
    again = form_of(page.text)
    assert again["fields.2.vis.0.field"] == "kind" and again["fields.2.vis.0.value"] == "other"
    assert again["fields.2.vis.0.op"] == "eq" and again["fields.2.vis.1.field"] == ""
    assert again["fields.2.show_required"] == ["1"] and again["fields.2.visible_if"] == ""


async def test_publish_toggle_window_and_own_mail_text(eapi):
    """The list's button publishes the pending draft / withdraws it; the publish window and the
    procedure's own mail text reach the resident."""
    http, data = await _blank(eapi)
    url = "/console/procedures/new"
    data = {
        **data,
        "title": "窓口予約",
        "slug": "yoyaku",
        "mails.submitted.subject": "【{title}】予約を受け付けました {reference}",
        "mails.submitted.body": "{name} 様\n予約番号 {reference}\n{url}",
        "publish_from": "2099-01-01T09:00",
    }
    r = await _post(http, url, data, "publish")
    assert r.status_code == 303
    proc_url = r.headers["location"].split("?")[0].removesuffix("/edit")
    resident = eapi.client("198.51.100.7")
    assert (await resident.get(f"{PORTAL}/procedures/yoyaku")).status_code == 404  # not yet open
    page = await http.get(proc_url + "/edit")
    data = {**form_of(page.text), "csrf": data["csrf"], "publish_from": ""}
    assert (await _post(http, proc_url + "/edit", data, "publish")).status_code == 303
    assert (await resident.get(f"{PORTAL}/procedures/yoyaku")).status_code == 200
    res = Resident(eapi)
    await res.start("yoyaku")
    await res.post_form({"name": "下妻 次郎"})
    await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    mails = await deliver(eapi)
    sent = next(m for m in mails if "予約を受け付けました" in m["Subject"])
    assert "【窓口予約】" in sent["Subject"] and "下妻 次郎 様" in str(sent.get_content())
    # A saved change is pending, the list offers to publish it; publishing bumps the version.
    data["title"] = "窓口予約（変更）"
    assert (await _post(http, proc_url + "/edit", data, "save")).status_code == 303
    listing = await http.get("/console/procedures")
    assert "未公開の変更あり" in listing.text and "変更を公開する" in listing.text
    assert "窓口予約（変更）" not in (await resident.get(f"{PORTAL}/procedures/yoyaku")).text
    r = await http.post(proc_url + "/publish", data={"csrf": data["csrf"], "published": "1"})
    assert r.status_code == 303
    assert "窓口予約（変更）" in (await resident.get(f"{PORTAL}/procedures/yoyaku")).text
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        row = (await session.execute(sa.select(Procedure).where(Procedure.slug == "yoyaku"))).scalar_one()
        assert row.version == 2 and row.draft_definition is None
    r = await http.post(proc_url + "/publish", data={"csrf": data["csrf"], "published": "0"})
    assert (await resident.get(f"{PORTAL}/procedures/yoyaku")).status_code == 404


async def test_every_field_type_saves_and_renders(eapi):
    """One field of each EformFieldType through the builder's buttons; the portal renders them all."""
    from shared.schemas.eform import EformFieldType

    http, data = await _blank(eapi)
    url = "/console/procedures/new"
    data.update({"title": "全種類", "slug": "all-types"})
    kinds = [t.value for t in EformFieldType]
    for n, kind in enumerate(kinds, start=1):
        r = await _post(http, url, data, f"add:{kind}")
        data = {**form_of(r.text), "csrf": data["csrf"]}
        data.update({f"fields.{n}.name": f"f_{kind}", f"fields.{n}.label": f"項目 {kind}"})
        if kind in ("select", "radio"):
            data[f"fields.{n}.options"] = "a:甲\nb:乙"
        if kind == "number":
            data.update({f"fields.{n}.min": "1", f"fields.{n}.max": "9"})
        if kind == "date":
            data[f"fields.{n}.wareki"] = "1"
        if kind == "postal_code":
            data[f"fields.{n}.address_field"] = "f_address"
        if kind == "group":
            data[f"fields.{n}.max_repeat"] = "2"
            r = await _post(http, url, data, f"add_child:{n}")
            data = {**form_of(r.text), "csrf": data["csrf"]}
            data.update({f"fields.{n}.fields.0.name": "inner", f"fields.{n}.fields.0.label": "中の項目"})
    r = await _post(http, url, data, "publish")
    assert r.status_code == 303, r.text[:2000]
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        row = (await session.execute(sa.select(Procedure).where(Procedure.slug == "all-types"))).scalar_one()
        d = EformProcedure.model_validate(row.definition)
    assert sorted(f.type.value for f in d.fields[1:]) == sorted(kinds)
    assert (
        d.field("f_date").wareki
        and d.field("f_number").max == 9
        and d.field("f_postal_code").address_field == "f_address"
    )
    res = Resident(eapi)
    await res.start("all-types")
    form = await res.http.get(res.app_url + "/form")
    assert form.status_code == 200
    for kind in kinds:
        assert f"項目 {kind}" in form.text, kind


async def test_postal_code_must_point_at_an_address_and_group_needs_fields(eapi):
    http, data = await _blank(eapi)
    url = "/console/procedures/new"
    data.update({"title": "誤り", "slug": "wrong"})
    r = await _post(http, url, data, "add:postal_code")
    data = {
        **form_of(r.text),
        "csrf": data["csrf"],
        "fields.1.name": "zip",
        "fields.1.label": "郵便番号",
        "fields.1.address_field": "name",
    }
    r = await _post(http, url, data, "add:group")
    data = {
        **form_of(r.text),
        "csrf": data["csrf"],
        "fields.2.name": "kids",
        "fields.2.label": "子",
        "fields.2.max_repeat": "51",
    }
    r = await _post(http, url, data, "save")
    assert r.status_code == 422
    _error_at(r.text, "fields.2.max_repeat", "1から50")
    _error_at(r.text, "fields.2", "1つ以上")
    data["fields.2.max_repeat"] = "3"
    r = await _post(http, url, data, "add_child:2")
    data = {
        **form_of(r.text),
        "csrf": data["csrf"],
        "fields.2.fields.0.name": "kid",
        "fields.2.fields.0.label": "氏名",
    }
    r = await _post(http, url, data, "save")
    assert r.status_code == 422
    _error_at(r.text, "fields.1.address_field", "住所")
    deep = {"!": True}
    for _ in range(40):
        deep = {"!": deep}
    import json

    data.update({"fields.1.address_field": "", "fields.2.fields.0.visible_if": json.dumps(deep)})
    r = await _post(http, url, data, "save")
    _error_at(r.text, "fields.2.fields.0.visible_if", "深すぎ")
    r = await _post(http, url, data, "add_child:2")
    data = {
        **form_of(r.text),
        "csrf": data["csrf"],
        "fields.2.fields.1.name": "kid",
        "fields.2.fields.1.label": "氏名2",
    }
    r = await _post(http, url, data, "save")
    _error_at(r.text, "fields.2.fields.1.name", "重複")
    r = await _post(http, url, data, "remove:2.1")
    data = {**form_of(r.text), "csrf": data["csrf"]}
    assert "fields.2.fields.1.name" not in data
    data["fields.2.fields.0.visible_if"] = '{"==": [{"var": "kid"}, "x"]}'  # own group's field: fine
    r = await _post(http, url, data, "save")
    assert r.status_code == 303, r.text[:1500]


async def test_console_import_never_overwrites_builder_edits(eapi):
    http, csrf = await console(eapi, *ADMIN)
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        row = (await session.execute(sa.select(Procedure).where(Procedure.slug == "juminhyo"))).scalar_one()
        proc_id = row.id
    page = await http.get(f"/console/procedures/{proc_id}/edit")
    data = {**form_of(page.text), "csrf": csrf, "title": "住民票の写し（当市版）"}
    assert (await _post(http, f"/console/procedures/{proc_id}/edit", data, "publish")).status_code == 303
    assert (await http.post("/console/procedures/import", data={"csrf": csrf})).status_code == 303
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        row = await session.get(Procedure, proc_id)
        assert row.title == "住民票の写し（当市版）"
