"""Form builder and organisations on PostgreSQL as the plain application role: the new tables
work under row-level security and another municipality's binding sees none of their rows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.db.models import Organisation, OrganisationMember, Procedure, ProcedureRole, ProcedureVersion
from tests.conftest import DEMO_LG_CODE, DEMO_SUPERVISOR
from tests.server.conftest import Api
from tests.server.eforms.builder_helpers import console, form_of, make_staff
from tests.server.eforms.conftest import Resident
from tests.server.test_postgres import OTHER_LG, PgDatabase, _ensure_other_municipality, pg  # noqa: F401

pytestmark = pytest.mark.postgres


async def test_builder_and_organisations_as_app_role(pg: PgDatabase) -> None:  # noqa: F811
    settings = pg.settings().model_copy(
        update={"mail_transport": "memory", "public_base_url": "http://testserver"}
    )
    api = Api(settings)
    try:
        await make_staff(api, "pg_member", ["eform.review"])
        admin, csrf = await console(api, *DEMO_SUPERVISOR)
        r = await admin.post("/console/organisations", data={"csrf": csrf, "name": "市民課"})
        assert r.status_code == 303, r.text
        org_url = r.headers["location"]
        async with api.db.tenant(DEMO_LG_CODE) as s:
            org = (await s.execute(sa.select(Organisation))).scalar_one()
            member = (
                await s.execute(sa.text("SELECT id FROM users WHERE username = 'pg_member'"))
            ).scalar_one()
        r = await admin.post(
            org_url + "/members", data={"csrf": csrf, "user_id": str(member), "role": "view"}
        )
        assert r.status_code == 303
        page = await admin.get("/console/procedures/new?template=")
        data = {
            **form_of(page.text),
            "csrf": csrf,
            "title": "PG手続き",
            "slug": "pg-proc",
            "organisation_id": str(org.id),
        }
        r = await admin.post("/console/procedures/new", data={**data, "action": "publish"})
        assert r.status_code == 303, r.text
        edit = r.headers["location"].split("?")[0]
        res = Resident(api)
        await res.start("pg-proc")
        await res.post_form({"name": "下妻 太郎"})
        assert (await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})).status_code == 303
        data["title"] = "PG手続き（第2版）"
        assert (await admin.post(edit, data={**data, "action": "publish"})).status_code == 303
        proc_id = edit.split("/")[-2]
        r = await admin.post(
            f"/console/procedures/{proc_id}/access",
            data={"csrf": csrf, "user_id": str(member), "role": "process"},
        )
        assert r.status_code == 303
        async with api.db.tenant(DEMO_LG_CODE) as s:
            row = (await s.execute(sa.select(Procedure).where(Procedure.slug == "pg-proc"))).scalar_one()
            assert row.version == 2
            assert (
                await s.execute(sa.select(sa.func.count()).select_from(ProcedureVersion))
            ).scalar_one() == 2
        await _ensure_other_municipality(pg)
        async with api.db.tenant(OTHER_LG) as s:
            for model in (Organisation, OrganisationMember, ProcedureRole, ProcedureVersion, Procedure):
                assert (await s.execute(sa.select(sa.func.count()).select_from(model))).scalar_one() == 0, (
                    model
                )
    finally:
        await api.close()
