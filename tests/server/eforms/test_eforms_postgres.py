"""Online applications on PostgreSQL as the plain application role: the flow and tenant isolation."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from server.db.models import Application, OutboxMail
from server.domain.eforms import services
from server.domain.notifications import send_due
from server.plugins.notifications.memory import MemoryTransport
from tests.conftest import DEMO_LG_CODE
from tests.server.conftest import Api
from tests.server.eforms.conftest import PDF, Resident
from tests.server.test_postgres import OTHER_LG, PgDatabase, _ensure_other_municipality, pg  # noqa: F401

pytestmark = pytest.mark.postgres


async def test_application_flow_and_isolation_on_postgres(pg: PgDatabase) -> None:  # noqa: F811
    """Submit, mail and read back as the app role; another municipality's binding sees none of it."""
    settings = pg.settings().model_copy(
        update={"mail_transport": "memory", "public_base_url": "http://testserver"}
    )
    api = Api(settings)
    try:
        async with api.db.tenant(DEMO_LG_CODE) as s:
            await services.import_procedures(s, DEMO_LG_CODE)
        res = Resident(api)
        await res.start("koseki")
        data = {
            "name": "下妻 太郎",
            "tel": "0296432111",
            "domicile": "茨城県下妻市本城町2-22",
            "head": "下妻 一郎",
            "kind": "koseki_full",
            "copies": "1",
        }
        r = await res.post_form(data, files={"id_document": ("id.pdf", PDF, "application/pdf")})
        assert r.status_code == 303, r.text
        r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
        assert r.status_code == 303
        MemoryTransport.sent.clear()
        sent, _ = await send_due(api.db, settings)
        assert sent >= 1 and any("受け付けました" in m["Subject"] for m in MemoryTransport.sent)
        await _ensure_other_municipality(pg)
        async with api.db.tenant(OTHER_LG) as s:
            assert (await s.execute(sa.select(sa.func.count()).select_from(Application))).scalar_one() == 0
            assert (await s.execute(sa.select(sa.func.count()).select_from(OutboxMail))).scalar_one() == 0
        async with api.db.tenant(DEMO_LG_CODE) as s:
            app = (await s.execute(sa.select(Application).where(Application.id == res.app_id))).scalar_one()
            assert app.status == "submitted" and app.reference
    finally:
        await api.close()


async def test_concurrent_submissions_get_distinct_references_on_postgres(pg: PgDatabase) -> None:  # noqa: F811
    """Residents sending at once get consecutive 申請番号, no server error (max()+1 collided)."""
    settings = pg.settings().model_copy(
        update={"mail_transport": "memory", "public_base_url": "http://testserver"}
    )
    api = Api(settings)
    try:
        async with api.db.tenant(DEMO_LG_CODE) as s:
            await services.import_procedures(s, DEMO_LG_CODE)
        residents = []
        for n in range(8):
            res = Resident(api)
            await res.start("koseki", email=f"r{n}@example.jp")
            data = {
                "name": "下妻 太郎",
                "tel": "0296432111",
                "domicile": "茨城県下妻市本城町2-22",
                "head": "下妻 一郎",
                "kind": "koseki_full",
                "copies": "1",
            }
            r = await res.post_form(data, files={"id_document": ("id.pdf", PDF, "application/pdf")})
            assert r.status_code == 303, r.text
            residents.append(res)
        answers = await asyncio.gather(
            *(res.http.post(res.app_url + "/submit", data={"csrf": res.csrf}) for res in residents)
        )
        assert [a.status_code for a in answers] == [303] * 8
        async with api.db.tenant(DEMO_LG_CODE) as s:
            ids = [res.app_id for res in residents]
            query = sa.select(Application.reference).where(Application.id.in_(ids))
            refs = (await s.execute(query)).scalars().all()
        numbers = sorted(int(r.rsplit("-", 1)[1]) for r in refs)
        assert len(set(refs)) == 8 and numbers == list(range(numbers[0], numbers[0] + 8))
    finally:
        await api.close()
