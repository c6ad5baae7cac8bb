"""Organisations (課) and per-procedure roles: staff of another 課 meet 404 on every route of a
procedure not theirs, a lower role meets 403, the admin screens manage 課 and members."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa

from server.db.models import ApplicationFile, AuditEvent, OrganisationMember, Payment, Procedure, User
from shared.permissions import Permission
from tests.conftest import DEMO_CLERK, DEMO_LG_CODE, DEMO_SUPERVISOR
from tests.server.eforms.builder_helpers import console, make_org, make_staff
from tests.server.eforms.conftest import deliver
from tests.server.eforms.test_console import submitted_koseki

STAFF_PERMS = [Permission.eform_review, Permission.eform_manage, Permission.payment_refund]


async def _setup(eapi):
    """課A owns 戸籍 (with a submitted application); a_edit edits, a_view views, b_edit is in 課B."""
    for name in ("a_edit", "a_view", "b_edit"):
        await make_staff(eapi, name, list(STAFF_PERMS))
    org_a = await make_org(eapi, "市民課", {"a_edit": "edit", "a_view": "view"})
    await make_org(eapi, "税務課", {"b_edit": "edit"})
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        row = (await session.execute(sa.select(Procedure).where(Procedure.slug == "koseki"))).scalar_one()
        row.organisation_id = uuid.UUID(org_a)
        proc_id = row.id
    res = await submitted_koseki(eapi)
    # A payment so that the payment routes have something to aim at.
    admin, csrf = await console(eapi, *DEMO_SUPERVISOR)
    await admin.post(f"/console/applications/{res.app_id}/payment", data={"csrf": csrf, "amount": "450"})
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        file_id = (
            await session.execute(
                sa.select(ApplicationFile.id).where(ApplicationFile.application_id == res.app_id)
            )
        ).scalar_one()
        pay_id = (
            await session.execute(sa.select(Payment.id).where(Payment.application_id == res.app_id))
        ).scalar_one()
    return proc_id, res.app_id, file_id, pay_id


def _csrf_of(html):
    return re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)


def _routes(proc_id, app_id, file_id, pay_id):
    """Every console route that touches this procedure or its application."""
    a = f"/console/applications/{app_id}"
    p = f"/console/procedures/{proc_id}"
    return [
        ("GET", a, {}),
        ("GET", f"{a}/files/{file_id}", {}),
        ("POST", f"{a}/status", {"status": "reviewed"}),
        ("POST", f"{a}/payment", {"amount": "1"}),
        ("POST", f"{a}/payments/{pay_id}/void", {}),
        ("GET", "/console/export.csv?procedure=koseki", {}),
        ("POST", f"{p}/publish", {"published": "0"}),
        ("GET", f"{p}/edit", {}),
        ("POST", f"{p}/edit", {"action": "save"}),
        ("GET", f"{p}/preview", {}),
        ("POST", f"{p}/preview/form", {"action": "refresh"}),
        ("GET", f"{p}/access", {}),
        ("POST", f"{p}/access", {"role": "none"}),
    ]


async def _call(http, csrf, method, url, data):
    if method == "GET":
        return await http.get(url)
    return await http.post(url, data={"csrf": csrf, **data})


async def test_staff_of_another_organisation_gets_404_everywhere(eapi):
    proc_id, app_id, file_id, pay_id = await _setup(eapi)
    other, csrf = await console(eapi, "b_edit")
    for method, url, data in _routes(proc_id, app_id, file_id, pay_id):
        r = await _call(other, csrf, method, url, data)
        assert r.status_code == 404, (method, url, r.status_code)
        assert "戸籍" not in r.text
    # Nor is it listed.
    r = await other.get("/console/")
    assert "E-" not in r.text and "戸籍" not in r.text
    r = await other.get("/console/procedures")
    assert "戸籍" not in r.text
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        denied = (
            (
                await session.execute(
                    sa.select(AuditEvent).where(AuditEvent.action == "procedure_access_denied")
                )
            )
            .scalars()
            .all()
        )
        assert len(denied) >= 10 and all(e.object_id == str(proc_id) for e in denied)
    # The same routes work for the 課's editor.
    mine, csrf = await console(eapi, "a_edit")
    assert (await mine.get(f"/console/applications/{app_id}")).status_code == 200
    assert (await mine.get(f"/console/procedures/{proc_id}/edit")).status_code == 200
    r = await mine.get("/console/")
    assert "E-" in r.text


async def test_view_role_reads_but_cannot_change(eapi):
    proc_id, app_id, file_id, pay_id = await _setup(eapi)
    viewer, csrf = await console(eapi, "a_view")
    assert (await viewer.get(f"/console/applications/{app_id}")).status_code == 200
    assert (await viewer.get(f"/console/applications/{app_id}/files/{file_id}")).status_code == 200
    assert (await viewer.get("/console/export.csv?procedure=koseki")).status_code == 200
    for method, url, data in _routes(proc_id, app_id, file_id, pay_id):
        if method == "GET" and ("/procedures/" not in url):
            continue
        r = await _call(viewer, csrf, method, url, data)
        assert r.status_code == 403, (method, url, r.status_code)
        assert "権限がありません" in r.text


async def test_per_procedure_role_overrides_the_organisation_role(eapi):
    proc_id, app_id, *_ = await _setup(eapi)
    editor, csrf = await console(eapi, "a_edit")
    r = await editor.get(f"/console/procedures/{proc_id}/access")
    assert "a_view" in r.text
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        viewer_id = (await session.execute(sa.select(User.id).where(User.username == "a_view"))).scalar_one()
    # Raise a_view to 処理 for this procedure only.
    r = await editor.post(
        f"/console/procedures/{proc_id}/access",
        data={"csrf": csrf, "user_id": str(viewer_id), "role": "process"},
    )
    assert r.status_code == 303
    viewer, vcsrf = await console(eapi, "a_view")
    r = await viewer.post(
        f"/console/applications/{app_id}/status", data={"csrf": vcsrf, "status": "reviewed"}
    )
    assert r.status_code == 303
    # Hide it from him: none.
    await editor.post(
        f"/console/procedures/{proc_id}/access",
        data={"csrf": csrf, "user_id": str(viewer_id), "role": "none"},
    )
    assert (await viewer.get(f"/console/applications/{app_id}")).status_code == 404
    # Back to the 課 role.
    await editor.post(
        f"/console/procedures/{proc_id}/access",
        data={"csrf": csrf, "user_id": str(viewer_id), "role": "inherit"},
    )
    assert (await viewer.get(f"/console/applications/{app_id}")).status_code == 200
    r = await editor.post(
        f"/console/procedures/{proc_id}/access",
        data={"csrf": csrf, "user_id": str(uuid.uuid4()), "role": "edit"},
    )
    assert r.status_code == 404
    await deliver(eapi)


async def test_procedure_without_organisation_needs_all_orgs(eapi):
    """Starter procedures have no 課: only eform.all_orgs holders see them (deny by default)."""
    await make_staff(eapi, "lonely", list(STAFF_PERMS))
    http, _ = await console(eapi, "lonely")
    r = await http.get("/console/procedures")
    assert r.status_code == 200 and "住民票" not in r.text
    r = await http.get("/console/")
    assert r.status_code == 200 and "該当する申請はありません" in r.text
    assert (await http.post("/console/procedures/import", data={"csrf": _csrf_of(r.text)})).status_code == 403
    page = await http.get("/console/procedures/new?template=")
    from tests.server.eforms.builder_helpers import form_of

    data = {
        **form_of(page.text),
        "csrf": _csrf_of(r.text),
        "title": "課なし",
        "slug": "nokaka",
        "action": "save",
    }
    r = await http.post("/console/procedures/new", data=data)
    assert r.status_code == 422 and "管理者に組織" in r.text
    admin, _ = await console(eapi, *DEMO_SUPERVISOR)
    assert "住民票" in (await admin.get("/console/procedures")).text


async def test_new_procedure_goes_into_an_organisation_he_edits(eapi):
    await make_staff(eapi, "a_edit", list(STAFF_PERMS))
    await make_staff(eapi, "b_edit", list(STAFF_PERMS))
    org_a = await make_org(eapi, "市民課", {"a_edit": "edit"})
    org_b = await make_org(eapi, "税務課", {"b_edit": "edit"})
    http, csrf = await console(eapi, "a_edit")
    r = await http.get("/console/procedures/new?template=")
    assert f'value="{org_a}" selected' in r.text and org_b not in r.text
    from tests.server.eforms.builder_helpers import form_of

    data = {**form_of(r.text), "csrf": csrf, "title": "市民課の手続き", "slug": "shimin"}
    r = await http.post("/console/procedures/new", data={**data, "organisation_id": org_b, "action": "save"})
    assert r.status_code == 422 and "担当課" in r.text
    r = await http.post("/console/procedures/new", data={**data, "organisation_id": "", "action": "save"})
    assert r.status_code == 422 and "担当課を選んでください" in r.text
    r = await http.post("/console/procedures/new", data={**data, "action": "save"})
    assert r.status_code == 303
    other, _ = await console(eapi, "b_edit")
    proc = r.headers["location"].split("?")[0]
    assert (await other.get(proc)).status_code == 404
    assert (await http.get(proc)).status_code == 200


async def test_organisation_screens(eapi):
    await make_staff(eapi, "member1", [Permission.eform_review])
    admin, csrf = await console(eapi, *DEMO_SUPERVISOR)
    r = await admin.get("/console/organisations")
    assert r.status_code == 200 and "組織はまだありません" in r.text
    for name, message in (
        ("", "入力してください"),
        ("課" * 101, "100文字以内"),
        ("市民課\x00", "使えない文字"),
    ):
        r = await admin.post("/console/organisations", data={"csrf": csrf, "name": name})
        assert r.status_code == 422 and message in r.text and 'href="#name"' in r.text
    r = await admin.post("/console/organisations", data={"csrf": csrf, "name": " 市民課 "})
    assert r.status_code == 303
    org_url = r.headers["location"]
    r = await admin.post("/console/organisations", data={"csrf": csrf, "name": "市民課"})
    assert r.status_code == 422 and "すでにあります" in r.text and 'value="市民課"' in r.text
    page = await admin.get(org_url)
    user_id = re.search(r'<option value="([0-9a-f-]{36})">職員 member1', page.text).group(1)
    r = await admin.post(org_url + "/members", data={"csrf": csrf, "user_id": user_id, "role": "boss"})
    assert r.status_code == 422 and "権限（閲覧・処理・編集）" in r.text
    r = await admin.post(org_url + "/members", data={"csrf": csrf, "user_id": "x", "role": "view"})
    assert r.status_code == 422 and "職員を選んでください" in r.text
    r = await admin.post(org_url + "/members", data={"csrf": csrf, "user_id": user_id, "role": "process"})
    assert r.status_code == 303
    page = await admin.get(org_url)
    assert "member1" in page.text and "処理" in page.text
    await admin.post(org_url + "/members", data={"csrf": csrf, "user_id": user_id, "role": "edit"})
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        roles = (await session.execute(sa.select(OrganisationMember.role))).scalars().all()
        assert roles == ["edit"]
    await admin.post(org_url + "/members", data={"csrf": csrf, "user_id": user_id, "remove": "1"})
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        assert (await session.execute(sa.select(OrganisationMember))).first() is None
        actions = (await session.execute(sa.select(AuditEvent.action))).scalars().all()
        assert actions.count("organisation_member_success") == 3 and "organisation_create_success" in actions
    r = await admin.post("/console/organisations", data={"csrf": "bad", "name": "x課"})
    assert r.status_code == 403
    clerk, _ = await console(eapi, *DEMO_CLERK)
    assert (await clerk.get("/console/organisations")).status_code == 403
    assert (await clerk.get(org_url)).status_code == 403
    assert (await admin.get(f"/console/organisations/{uuid.uuid4()}")).status_code == 404


async def test_rename_and_delete_organisation(eapi):
    await make_staff(eapi, "a_edit", list(STAFF_PERMS))
    org_a = await make_org(eapi, "市民課", {"a_edit": "edit"})
    await make_org(eapi, "税務課", {})
    admin, csrf = await console(eapi, *DEMO_SUPERVISOR)
    url = f"/console/organisations/{org_a}"
    r = await admin.post(url + "/rename", data={"csrf": csrf, "name": "税務課"})
    assert r.status_code == 422 and "すでにあります" in r.text and 'value="税務課"' in r.text
    r = await admin.post(url + "/rename", data={"csrf": csrf, "name": "市民生活課"})
    assert r.status_code == 303
    assert "市民生活課" in (await admin.get(url)).text
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        row = (await session.execute(sa.select(Procedure).where(Procedure.slug == "koseki"))).scalar_one()
        row.organisation_id = uuid.UUID(org_a)
    r = await admin.post(url + "/delete", data={"csrf": csrf})
    assert r.status_code == 409 and "担当課を変えて" in r.text
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        row = (await session.execute(sa.select(Procedure).where(Procedure.slug == "koseki"))).scalar_one()
        row.organisation_id = None
    r = await admin.post(url + "/delete", data={"csrf": csrf})
    assert r.status_code == 303
    assert (await admin.get(url)).status_code == 404
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        assert (await session.execute(sa.select(OrganisationMember))).first() is None
        actions = (await session.execute(sa.select(AuditEvent.action))).scalars().all()
        assert "organisation_rename_success" in actions and "organisation_delete_success" in actions
