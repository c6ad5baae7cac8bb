"""Staff accounts on PostgreSQL as the plain application role: issue with an address, confirm it by
the link (a request bound to the municipality from the link alone), the new-application notice,
and another municipality's binding sees none of it. Names and addresses are synthetic."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from server.db.models import OutboxMail, Procedure, User
from server.domain.notifications import send_due
from server.plugins.notifications.memory import MemoryTransport
from tests.conftest import DEMO_LG_CODE, DEMO_SUPERVISOR
from tests.server.conftest import Api
from tests.server.eforms.builder_helpers import console, make_org
from tests.server.eforms.conftest import PDF, Resident
from tests.server.test_postgres import OTHER_LG, PgDatabase, _ensure_other_municipality, pg  # noqa: F401

pytestmark = pytest.mark.postgres


async def test_staff_account_email_and_notice_as_app_role(pg: PgDatabase) -> None:  # noqa: F811
    settings = pg.settings().model_copy(
        update={"mail_transport": "memory", "public_base_url": "http://testserver"}
    )
    api = Api(settings)
    try:
        admin, _ = await console(api, *DEMO_SUPERVISOR)
        r = await admin.get("/console/staff")
        assert r.status_code == 200, r.text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', r.text).group(1)  # type: ignore[union-attr]
        r = await admin.post(
            "/console/staff",
            data={
                "csrf": csrf,
                "username": "pg_staff",
                "display_name": "PG 職員",
                "email": "pg.staff@example.jp",
            },
        )
        assert r.status_code == 200 and "初期パスワード" in r.text, r.text
        r = await admin.post(
            "/console/staff", data={"csrf": csrf, "username": "pg_staff", "display_name": "二重"}
        )
        assert r.status_code == 422 and "すでに使われています" in r.text
        MemoryTransport.sent.clear()
        await send_due(api.db, settings)
        body = str(MemoryTransport.sent[-1].get_content())
        link = re.search(r"http://testserver(/console/verify-email\?\S+)", body).group(1)  # type: ignore[union-attr]
        anonymous = api.client("127.0.0.1")
        assert (await anonymous.get(link)).status_code == 200
        assert (await anonymous.get(link)).status_code == 410
        async with api.db.tenant(DEMO_LG_CODE) as s:
            user = (await s.execute(sa.select(User).where(User.username == "pg_staff"))).scalar_one()
            assert user.email_verified
            user.notify_submissions = True
            row = (
                await s.execute(sa.select(Procedure).where(Procedure.slug == "koseki"))
            ).scalar_one_or_none()
        if row is None:
            from server.domain.eforms import services

            async with api.db.tenant(DEMO_LG_CODE) as s:
                await services.import_procedures(s, DEMO_LG_CODE)
        org = await make_org(api, "PG通知課", {"pg_staff": "view"})
        async with api.db.tenant(DEMO_LG_CODE) as s:
            proc = (await s.execute(sa.select(Procedure).where(Procedure.slug == "koseki"))).scalar_one()
            old_org, proc.organisation_id = proc.organisation_id, uuid.UUID(org)
        try:
            res = Resident(api)
            await res.start("koseki")
            values = {
                "name": "下妻 太郎",
                "tel": "0296432111",
                "domicile": "茨城県下妻市本城町2-22",
                "head": "下妻 一郎",
                "kind": "koseki_full",
                "copies": "1",
            }
            r = await res.post_form(values, files={"id_document": ("id.pdf", PDF, "application/pdf")})
            assert r.status_code == 303, r.text
            assert (await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})).status_code == 303
            async with api.db.tenant(DEMO_LG_CODE) as s:
                notices = (
                    (
                        await s.execute(
                            sa.select(OutboxMail).where(
                                OutboxMail.event == "staff_submission_notice",
                                OutboxMail.application_id == res.app_id,
                            )
                        )
                    )
                    .scalars()
                    .all()
                )
            assert [m.to_addr for m in notices] == ["pg.staff@example.jp"]
            assert "下妻" not in notices[0].body
        finally:
            async with api.db.tenant(DEMO_LG_CODE) as s:
                proc = (await s.execute(sa.select(Procedure).where(Procedure.slug == "koseki"))).scalar_one()
                proc.organisation_id = old_org
        # Another municipality's binding sees no staff address and the link is refused there.
        await _ensure_other_municipality(pg)
        async with api.db.tenant(OTHER_LG) as s:
            assert (await s.execute(sa.select(User).where(User.email.is_not(None)))).scalars().all() == []
        assert (await anonymous.get(link.replace(DEMO_LG_CODE, OTHER_LG))).status_code == 410
    finally:
        await api.close()
