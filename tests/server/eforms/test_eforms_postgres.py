"""Online applications on PostgreSQL as the plain application role: the flow and tenant isolation."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import sqlalchemy as sa

from server.config import Settings
from server.db.models import Application, OutboxMail
from server.domain.eforms import services
from server.domain.notifications import send_due
from server.plugins.notifications.memory import MemoryTransport
from tests.conftest import DEMO_LG_CODE
from tests.server.conftest import Api
from tests.server.eforms.conftest import PDF, Resident
from tests.server.test_postgres import OTHER_LG, PgDatabase, _ensure_other_municipality, pg  # noqa: F401

pytestmark = pytest.mark.postgres


KOSEKI = {
    "name": "下妻 太郎",
    "tel": "0296432111",
    "domicile": "茨城県下妻市本城町2-22",
    "head": "下妻 一郎",
    "kind": "koseki_full",
    "copies": "1",
}


def _settings(pg: PgDatabase) -> Settings:  # noqa: F811
    """The app role's settings with mail kept in memory and the portal's links on testserver."""
    return pg.settings().model_copy(
        update={"mail_transport": "memory", "public_base_url": "http://testserver"}
    )


async def _post_koseki(res: Resident) -> httpx.Response:
    """A complete 戸籍謄抄本 form with its 本人確認書類 (to the confirmation page)."""
    return await res.post_form(KOSEKI, files={"id_document": ("id.pdf", PDF, "application/pdf")})


async def test_application_flow_and_isolation_on_postgres(pg: PgDatabase) -> None:  # noqa: F811
    """Submit, mail and read back as the app role; another municipality's binding sees none of it."""
    settings = _settings(pg)
    api = Api(settings)
    try:
        async with api.db.tenant(DEMO_LG_CODE) as s:
            await services.import_procedures(s, DEMO_LG_CODE)
        res = Resident(api)
        await res.start("koseki")
        r = await _post_koseki(res)
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
    settings = _settings(pg)
    api = Api(settings)
    try:
        async with api.db.tenant(DEMO_LG_CODE) as s:
            await services.import_procedures(s, DEMO_LG_CODE)
        residents = []
        for n in range(8):
            res = Resident(api)
            await res.start("koseki", email=f"r{n}@example.jp")
            r = await _post_koseki(res)
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


async def test_attachments_in_blob_store_and_migration_on_postgres(pg: PgDatabase) -> None:  # noqa: F811
    """As the app role the file goes to the store (verified on download); migration 0015 moves the
    bytes of existing rows under FORCE ROW LEVEL SECURITY, back and forth, and a re-run is harmless."""
    import anyio.to_thread
    from alembic import command

    from server.db import migrate
    from server.db.models import ApplicationFile
    from server.plugins.blobstore import open_store
    from tests.server.eforms.test_console import staff

    settings = _settings(pg)
    owner = pg.settings(as_owner=True)
    api = Api(settings)
    try:
        async with api.db.tenant(DEMO_LG_CODE) as s:
            await services.import_procedures(s, DEMO_LG_CODE)
        res = Resident(api)
        await res.start("koseki")
        r = await _post_koseki(res)
        assert r.status_code == 303, r.text
        assert (await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})).status_code == 303
        async with api.db.tenant(DEMO_LG_CODE) as s:
            query = sa.select(ApplicationFile).where(ApplicationFile.application_id == res.app_id)
            row = (await s.execute(query)).scalar_one()
            assert await s.scalar(sa.select(ApplicationFile.data).where(ApplicationFile.id == row.id)) is None
        store = open_store(settings)
        assert row.blob_key and store.get(row.blob_key) == PDF
        http, _ = await staff(api)
        link = f"/console/applications/{res.app_id}/files/{row.id}"
        r = await http.get(link)
        assert r.content == PDF, r.text
        store.put(row.blob_key, PDF + b"%tampered")
        r = await http.get(link)
        assert r.status_code == 500 and "改ざん" in r.text
        store.put(row.blob_key, PDF)
        await api.db.dispose()
        # Back to bytes in the database (as the owner), then forward again with an empty store.
        await anyio.to_thread.run_sync(command.downgrade, migrate.alembic_config(owner), "0014")
        store.delete(row.blob_key)
        await anyio.to_thread.run_sync(migrate.upgrade, owner)
        assert store.get(row.blob_key) == PDF
        # Step later migrations back, then make 0015 run again as after a crash.
        await anyio.to_thread.run_sync(command.downgrade, migrate.alembic_config(owner), "0015")
        await anyio.to_thread.run_sync(command.stamp, migrate.alembic_config(owner), "0014")
        await anyio.to_thread.run_sync(migrate.upgrade, owner)  # re-run: nothing left to move, no error
        assert await anyio.to_thread.run_sync(migrate.differences, owner) == []
        assert (await http.get(link)).content == PDF
    finally:
        await api.close()


async def test_return_and_resubmit_on_postgres(pg: PgDatabase) -> None:  # noqa: F811
    """差戻し as the app role: staff return one item, the resident fixes it from the mailed link and
    resubmits (twice at once: one wins); tampering changes nothing; eform_returns is invisible to
    another municipality."""
    import re

    from server.db.models import ApplicationReturn
    from tests.server.eforms.test_console import staff

    settings = _settings(pg)
    api = Api(settings)
    try:
        async with api.db.tenant(DEMO_LG_CODE) as s:
            await services.import_procedures(s, DEMO_LG_CODE)
        res = Resident(api)
        await res.start("koseki")
        assert (await _post_koseki(res)).status_code == 303
        assert (await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})).status_code == 303
        http, csrf = await staff(api)
        r = await http.post(
            f"/console/applications/{res.app_id}/return",
            data={"csrf": csrf, "fields": ["tel"], "reason:tel": "番号を確認してください。"},
        )
        assert r.status_code == 303, r.text
        MemoryTransport.sent.clear()
        await send_due(api.db, settings)
        mail = next(m for m in MemoryTransport.sent if "修正をお願いします" in m["Subject"])
        link = re.search(r"http://testserver(\S+/resume\?key=\S+)", str(mail.get_content())).group(1)
        await res.http.get(link)
        page = await res.http.get(res.app_url + "/fix")
        res.csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
        r = await res.http.post(res.app_url + "/fix", data={"csrf": res.csrf, "tel": "1", "name": "別人"})
        assert r.status_code == 403
        r = await res.http.post(
            res.app_url + "/fix", data={"csrf": res.csrf, "action": "confirm", "tel": "0299990000"}
        )
        assert r.status_code == 303, r.text
        twice = await asyncio.gather(  # a double click on 再提出: the row lock lets one through
            *(res.http.post(res.app_url + "/fix/submit", data={"csrf": res.csrf}) for _ in range(2))
        )
        assert sorted(a.status_code for a in twice) == [303, 409]
        async with api.db.tenant(DEMO_LG_CODE) as s:
            app = (await s.execute(sa.select(Application).where(Application.id == res.app_id))).scalar_one()
            ret = (await s.execute(sa.select(ApplicationReturn))).scalar_one()
        assert (
            app.status == "submitted"
            and app.values["tel"] == "0299990000"
            and app.values["name"] == "下妻 太郎"
        )
        assert ret.before["tel"] == "0296432111" and ret.changed == ["tel"] and ret.resubmitted_at is not None
        await _ensure_other_municipality(pg)
        async with api.db.tenant(OTHER_LG) as s:
            assert (
                await s.execute(sa.select(sa.func.count()).select_from(ApplicationReturn))
            ).scalar_one() == 0
    finally:
        await api.close()
