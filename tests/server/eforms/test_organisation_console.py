"""A supervisor with ``user.manage`` only (no 手続き rights of his own) sets who sees which
procedure without the CLI: a procedure is put in a 課 from the organisation page, a member's
own role on each procedure of his 課 from the staff page. Hostile input, CSRF and 403 too."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa

from server.db.models import AuditEvent, Procedure, ProcedureRole, User
from tests.conftest import DEMO_LG_CODE
from tests.server.eforms.builder_helpers import console, make_org, make_staff

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


async def _ids(eapi):
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        procs = {p.slug: str(p.id) for p in (await s.execute(sa.select(Procedure))).scalars()}
        users = {u.username: str(u.id) for u in (await s.execute(sa.select(User))).scalars()}
    return procs, users


async def _visible_to(http) -> set[str]:
    """The procedures a staff member's application list offers (those he may view)."""
    r = await http.get("/console/")
    assert r.status_code == 200, r.text
    select = r.text[
        r.text.index('name="procedure"') : r.text.index("</select>", r.text.index('name="procedure"'))
    ]
    return set(re.findall(r'<option value="([a-z0-9_-]+)"', select))


async def _actions(eapi, action):
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        query = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        return list((await s.execute(query)).scalars())


async def test_supervisor_assigns_procedures_and_sets_per_procedure_roles(eapi):
    await make_staff(eapi, "jinji", ["user.manage"])
    await make_staff(eapi, "zeimu1", ["eform.review"])
    org = await make_org(eapi, "税務課", {"zeimu1": "process"})
    procs, users = await _ids(eapi)
    clerk, _ = await console(eapi, "zeimu1")
    assert await _visible_to(clerk) == set()  # starters come without a 課

    boss, _ = await console(eapi, "jinji")
    r = await boss.get(f"/console/organisations/{org}")
    assert r.status_code == 200 and "この組織に担当させる手続き" in r.text
    csrf = CSRF.search(r.text).group(1)
    for slug in ("zei-shomei", "kotei-hyoka"):
        r = await boss.post(
            f"/console/organisations/{org}/procedures",
            data={"csrf": csrf, "procedure_id": procs[slug], "action": "assign"},
        )
        assert r.status_code == 303 and r.headers["location"].endswith("notice=assigned")
    page = (await boss.get(f"/console/organisations/{org}?notice=assigned")).text
    assert "担当にしました" in page and "納税・所得・課税証明書の交付申請を担当から外す" in page
    assert await _visible_to(clerk) == {"zei-shomei", "kotei-hyoka"}
    events = await _actions(eapi, "procedure_organisation_success")
    assert [e.details["slug"] for e in events] == ["zei-shomei", "kotei-hyoka"]
    assert events[0].details == {"slug": "zei-shomei", "from": None, "to": org}

    # His own role per procedure, from the staff page (the supervisor has no eform.manage).
    r = await boss.get(f"/console/staff/{users['zeimu1']}")
    assert r.status_code == 200 and "手続きごとの権限" in r.text
    assert f'name="proc-{procs["zei-shomei"]}"' in r.text and "課の権限のまま（処理）" in r.text
    r = await boss.post(
        f"/console/staff/{users['zeimu1']}/procedures",
        data={"csrf": csrf, f"proc-{procs['kotei-hyoka']}": "none", f"proc-{procs['zei-shomei']}": "inherit"},
    )
    assert r.status_code == 303 and "notice=procedures" in r.headers["location"]
    assert await _visible_to(clerk) == {"zei-shomei"}
    [event] = await _actions(eapi, "procedure_role_success")
    assert event.details == {"user": "zeimu1", "role": "none"}
    page = (await boss.get(f"/console/staff/{users['zeimu1']}?notice=procedures")).text
    assert "手続きごとの権限を保存しました" in page
    assert '<option value="none" selected>' in page
    # Back to the 課's role: the override row goes.
    r = await boss.post(
        f"/console/staff/{users['zeimu1']}/procedures",
        data={"csrf": csrf, f"proc-{procs['kotei-hyoka']}": "inherit"},
    )
    assert await _visible_to(clerk) == {"zei-shomei", "kotei-hyoka"}
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        assert (await s.execute(sa.select(ProcedureRole))).first() is None

    # Taken away from the 課: the member no longer sees it.
    r = await boss.post(
        f"/console/organisations/{org}/procedures",
        data={"csrf": csrf, "procedure_id": procs["kotei-hyoka"], "action": "release"},
    )
    assert r.status_code == 303
    assert await _visible_to(clerk) == {"zei-shomei"}


async def test_hostile_input_csrf_and_permission(eapi):
    await make_staff(eapi, "jinji", ["user.manage"])
    await make_staff(eapi, "zeimu1", ["eform.review", "eform.manage"])
    org = await make_org(eapi, "税務課", {"zeimu1": "edit"})
    other = await make_org(eapi, "市民課", {})
    procs, users = await _ids(eapi)
    boss, _ = await console(eapi, "jinji")
    csrf = CSRF.search((await boss.get(f"/console/organisations/{org}")).text).group(1)
    url = f"/console/organisations/{org}/procedures"
    for data in (
        {"procedure_id": "not-a-uuid", "action": "assign"},
        {"procedure_id": "00000000-0000-0000-0000-000000000000", "action": "assign"},
        {"procedure_id": procs["zei-shomei"], "action": "<script>"},
        {"action": "assign"},
    ):
        r = await boss.post(url, data={"csrf": csrf, **data})
        assert r.status_code == 422, data
        assert "手続きを選んでください" in r.text and 'id="procedure_id-error"' in r.text
        assert "<script>" not in r.text
    # Releasing a procedure this 課 is not in charge of.
    r = await boss.post(url, data={"csrf": csrf, "procedure_id": procs["zei-shomei"], "action": "release"})
    assert r.status_code == 409 and "担当ではありません" in r.text
    # Moving it from one 課 to another.
    await boss.post(url, data={"csrf": csrf, "procedure_id": procs["zei-shomei"], "action": "assign"})
    await boss.post(
        f"/console/organisations/{other}/procedures",
        data={"csrf": csrf, "procedure_id": procs["zei-shomei"], "action": "assign"},
    )
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        row = await s.get(Procedure, uuid.UUID(procs["zei-shomei"]))
        assert str(row.organisation_id) == other
    await boss.post(url, data={"csrf": csrf, "procedure_id": procs["zei-shomei"], "action": "assign"})

    # A bad role value comes back at its select; nothing stored.
    key = f"proc-{procs['zei-shomei']}"
    r = await boss.post(f"/console/staff/{users['zeimu1']}/procedures", data={"csrf": csrf, key: "owner"})
    assert r.status_code == 422 and f'id="{key}-error"' in r.text and "権限（" in r.text
    # A procedure outside his 課 posted by hand is ignored.
    r = await boss.post(
        f"/console/staff/{users['zeimu1']}/procedures",
        data={"csrf": csrf, f"proc-{procs['juminhyo']}": "edit"},
    )
    assert r.status_code == 303
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        assert (await s.execute(sa.select(ProcedureRole))).first() is None

    # CSRF and permission.
    r = await boss.post(url, data={"csrf": "0" * 64, "procedure_id": procs["juminhyo"], "action": "assign"})
    assert r.status_code == 403
    r = await boss.post(f"/console/staff/{users['zeimu1']}/procedures", data={"csrf": "0" * 64, key: "none"})
    assert r.status_code == 403
    clerk, clerk_csrf = await console(eapi, "zeimu1")
    r = await clerk.post(
        url, data={"csrf": clerk_csrf, "procedure_id": procs["juminhyo"], "action": "assign"}
    )
    assert r.status_code == 403
    r = await clerk.post(
        f"/console/staff/{users['zeimu1']}/procedures", data={"csrf": clerk_csrf, key: "edit"}
    )
    assert r.status_code == 403
