"""The console gaps on PostgreSQL as the plain application role (row-level security on): the
申請者の属性 filter (JSONB) and CSV column, a 課 given a procedure and a member's own role on it,
the group reorder endpoint, the own password change ending the other sessions."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from server.db.models import Procedure, ProcedureRole
from server.domain.eforms import services
from tests.conftest import DEMO_LG_CODE, DEMO_SUPERVISOR
from tests.server.conftest import Api
from tests.server.eforms.builder_helpers import PASSWORD, console, make_org, make_staff
from tests.server.eforms.test_applicant_types import _application
from tests.server.test_postgres import PgDatabase, pg  # noqa: F401

pytestmark = pytest.mark.postgres


async def test_console_gaps_as_app_role(pg: PgDatabase) -> None:  # noqa: F811
    settings = pg.settings().model_copy(
        update={"mail_transport": "memory", "public_base_url": "http://testserver"}
    )
    api = Api(settings)
    try:
        async with api.db.tenant(DEMO_LG_CODE) as s:
            await services.import_procedures(s, DEMO_LG_CODE, only_new=True)
        base = {"name": "合成 商事", "kind": "nozei", "year": 2026, "copies": 1}
        await _application(api, "zei-shomei", {**base, "applicant_type": "corporation"}, "E-20261201-800001")
        await _application(api, "zei-shomei", {**base, "applicant_type": "individual"}, "E-20261201-800002")
        await _application(api, "juminhyo", {"name": "下妻 太郎"}, "E-20261201-800003")
        admin, csrf = await console(api, *DEMO_SUPERVISOR)
        page = (await admin.get("/console/", params={"applicant_type": "corporation"})).text
        assert "800001" in page and "800002" not in page and "800003" not in page
        page = (await admin.get("/console/", params={"applicant_type": "individual"})).text
        assert "800001" not in page and "800002" in page and "800003" in page  # 住民票: individuals only
        r = await admin.get(
            "/console/export.csv",
            params={"procedure": "zei-shomei", "column": ["reference", "applicant_type"]},
        )
        rows = sorted(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows == [
            ["E-20261201-800001", "法人"],
            ["E-20261201-800002", "個人"],
            ["申請番号", "申請者の属性"],
        ]

        # 課 in charge and a member's own role, by a supervisor with user.manage only.
        await make_staff(api, "pg_boss", ["user.manage"])
        await make_staff(api, "pg_clerk", ["eform.review"])
        org = await make_org(api, "資産税課", {"pg_clerk": "view"})
        async with api.db.tenant(DEMO_LG_CODE) as s:
            proc = (await s.execute(sa.select(Procedure).where(Procedure.slug == "kotei-hyoka"))).scalar_one()
            clerk_id = (
                await s.execute(sa.text("SELECT id FROM users WHERE username = 'pg_clerk'"))
            ).scalar_one()
        boss, _ = await console(api, "pg_boss")
        page = (await boss.get(f"/console/organisations/{org}")).text
        boss_csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        r = await boss.post(
            f"/console/organisations/{org}/procedures",
            data={"csrf": boss_csrf, "procedure_id": str(proc.id), "action": "assign"},
        )
        assert r.status_code == 303, r.text
        r = await boss.post(
            f"/console/staff/{clerk_id}/procedures", data={"csrf": boss_csrf, f"proc-{proc.id}": "process"}
        )
        assert r.status_code == 303, r.text
        async with api.db.tenant(DEMO_LG_CODE) as s:
            assert (await s.execute(sa.select(ProcedureRole.role))).scalar_one() == "process"
            assert str((await s.get(Procedure, proc.id)).organisation_id) == org

        # Group reorder through the order endpoint.
        edit = await admin.get(f"/console/procedures/{proc.id}/edit")
        fingerprint = edit.text.split('data-base="', 1)[1].split('"', 1)[0]
        r = await admin.post(
            f"/console/procedures/{proc.id}/order",
            data={
                "csrf": csrf,
                "base": fingerprint,
                "group": "properties",
                "order": ["location", "property_kind"],
            },
        )
        assert r.status_code == 200, r.text
        async with api.db.tenant(DEMO_LG_CODE) as s:
            draft = (await s.get(Procedure, proc.id)).draft_definition
        group = next(f for f in draft["fields"] if f["name"] == "properties")
        assert [c["name"] for c in group["fields"]] == ["location", "property_kind"]

        # Own password: the other session ends.
        other, _ = await console(api, "pg_clerk")
        here, here_csrf = await console(api, "pg_clerk")
        r = await here.post(
            "/console/account/password",
            data={
                "csrf": here_csrf,
                "current_password": PASSWORD,
                "new_password": "pg-new-password-1",
                "new_password2": "pg-new-password-1",
            },
        )
        assert r.status_code == 303, r.text
        assert (await other.get("/console/account")).status_code == 303
        assert (await here.get("/console/account")).status_code == 200
    finally:
        await api.close()
