"""JPKI signing on PostgreSQL as the plain application role: stored under row-level security."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.db.models import ApplicationSignature
from server.domain.eforms import services
from tests.conftest import DEMO_LG_CODE
from tests.server.conftest import Api
from tests.server.eforms.conftest import PDF, Resident
from tests.server.jpki.test_portal_sign import VALUES, sandbox_sign
from tests.server.test_postgres import OTHER_LG, PgDatabase, _ensure_other_municipality, pg  # noqa: F401

pytestmark = pytest.mark.postgres

TENSHUTSU = {
    "name": VALUES["name"],
    "name_kana": "シモツマ タロウ",
    "birth_date__era": "昭和",
    "birth_date__y": "55",
    "birth_date__m": "4",
    "birth_date__d": "1",
    "moving_date": "2027-03-31",
    "new_address": "東京都千代田区霞が関三丁目1番1号",
    "movers__count": "1",
    "movers.0.mover_name": VALUES["name"],
    "movers.0.mover_birth_date__era": "昭和",
    "movers.0.mover_birth_date__y": "55",
    "movers.0.mover_birth_date__m": "4",
    "movers.0.mover_birth_date__d": "1",
}


async def signed_tenshutsu(api: Api) -> Resident:
    """A 転出届 filled, signed in the sandbox and submitted."""
    async with api.db.tenant(DEMO_LG_CODE) as s:
        await services.import_procedures(s, DEMO_LG_CODE)
    res = Resident(api)
    await res.start("tenshutsu")
    r = await res.post_form(TENSHUTSU, files={"id_document": ("id.pdf", PDF, "application/pdf")})
    assert r.status_code == 303, r.text
    assert "電子署名を確認しました" in await sandbox_sign(res)
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    assert r.headers["location"].endswith("?done=1")
    return res


async def test_signature_flow_and_isolation_on_postgres(pg: PgDatabase) -> None:  # noqa: F811
    api = Api(
        pg.settings().model_copy(update={"mail_transport": "memory", "public_base_url": "http://testserver"})
    )
    try:
        await signed_tenshutsu(api)
        await _ensure_other_municipality(pg)
        async with api.db.tenant(OTHER_LG) as s:
            count = sa.select(sa.func.count()).select_from(ApplicationSignature)
            assert (await s.execute(count)).scalar_one() == 0
        async with api.db.tenant(DEMO_LG_CODE) as s:
            sig = (await s.execute(sa.select(ApplicationSignature))).scalar_one()
            assert sig.state == "valid" and sig.signature and sig.four_info["name"] == VALUES["name"]
    finally:
        await api.close()


async def test_jpki_return_sign_again_and_resubmit_on_postgres(pg: PgDatabase) -> None:  # noqa: F811
    """差戻し of a signed 転出届 as the app role: the corrected version is signed again, a double click
    on 再提出 lets one through (row lock), the old signature is superseded; nothing leaks to another
    municipality."""
    import asyncio
    import re

    from server.db.models import Application
    from tests.server.eforms.conftest import body_of, deliver
    from tests.server.eforms.test_console import staff
    from tests.server.eforms.test_returns import follow

    api = Api(
        pg.settings().model_copy(update={"mail_transport": "memory", "public_base_url": "http://testserver"})
    )
    try:
        res = await signed_tenshutsu(api)
        await deliver(api)
        http, csrf = await staff(api)
        r = await http.post(
            f"/console/applications/{res.app_id}/return",
            data={"csrf": csrf, "fields": ["new_address"], "comment": "番地を確認してください。"},
        )
        assert r.status_code == 303, r.text
        mail = next(m for m in await deliver(api) if "修正をお願いします" in m["Subject"])
        await follow(res, re.search(r"http://testserver(\S+/resume\?key=\S+)", body_of(mail)).group(1))  # type: ignore[union-attr]
        r = await res.http.post(
            res.app_url + "/fix",
            data={"csrf": res.csrf, "action": "confirm", "new_address": "東京都千代田区霞が関三丁目1番2号"},
        )
        assert r.status_code == 303, r.text
        r = await res.http.post(res.app_url + "/fix/submit", data={"csrf": res.csrf})
        assert r.headers["location"].endswith("/sign")
        assert "電子署名を確認しました" in await sandbox_sign(res)
        twice = await asyncio.gather(
            *(res.http.post(res.app_url + "/fix/submit", data={"csrf": res.csrf}) for _ in range(2))
        )
        assert sorted(a.status_code for a in twice) == [303, 409]
        async with api.db.tenant(DEMO_LG_CODE) as s:
            app = (await s.execute(sa.select(Application).where(Application.id == res.app_id))).scalar_one()
            sigs = (
                (
                    await s.execute(
                        sa.select(ApplicationSignature)
                        .where(ApplicationSignature.application_id == res.app_id)
                        .order_by(ApplicationSignature.created_at)
                    )
                )
                .scalars()
                .all()
            )
        assert app.status == "submitted" and app.values["new_address"].endswith("1番2号")
        assert [x.state for x in sigs] == ["superseded", "valid"]
        assert sigs[0].result["superseded_by"] == str(sigs[1].id)
        await _ensure_other_municipality(pg)
        async with api.db.tenant(OTHER_LG) as s:
            count = sa.select(sa.func.count()).select_from(ApplicationSignature)
            assert (await s.execute(count)).scalar_one() == 0
    finally:
        await api.close()


async def test_open_attempts_are_swept_per_municipality_on_postgres(pg: PgDatabase) -> None:  # noqa: F811
    """The hourly sweep runs as the app role under RLS: each municipality's stale attempts go
    (audited in its own chain), another municipality's open attempt is untouched until it is stale."""
    from datetime import UTC, datetime, timedelta

    from server.db.models import AuditEvent
    from server.domain.documents.controllers import blob_store
    from server.domain.scheduler import service as scheduler
    from tests.server.jpki.test_portal_sign import confirmed

    api = Api(
        pg.settings().model_copy(update={"mail_transport": "memory", "public_base_url": "http://testserver"})
    )
    try:
        async with api.db.tenant(DEMO_LG_CODE) as s:
            from tests.server.jpki.conftest import PROCEDURE

            folder = api.settings.data_dir / "procs-pg"
            folder.mkdir(exist_ok=True)
            (folder / "jpki-test.yaml").write_text(PROCEDURE, encoding="utf-8")
            await services.import_procedures(s, DEMO_LG_CODE, folder=folder)
        res = await confirmed(api)
        r = await res.http.post(res.app_url + "/sign/start", data={"csrf": res.csrf})
        assert r.status_code == 303
        await _ensure_other_municipality(pg)
        async with api.db.tenant(DEMO_LG_CODE) as s:
            mine = ApplicationSignature.application_id == res.app_id
            (sig,) = (await s.execute(sa.select(ApplicationSignature).where(mine))).scalars().all()
            # Opened an hour ago (the test cannot wait): older than jpki_app_transaction_minutes.
            sig.created_at = datetime.now(UTC) - timedelta(hours=1)
        settings = api.settings.model_copy(
            update={"schedule_backup_enabled": False, "schedule_report_enabled": False}
        )
        [run] = await scheduler.tick(api.db, settings, blob_store(api.app.state), datetime.now(UTC))
        assert run.job == "signing_sweep" and run.status == "success", run.message
        assert f"{DEMO_LG_CODE} 1 件" in run.message and OTHER_LG not in run.message
        async with api.db.tenant(DEMO_LG_CODE) as s:
            assert (await s.execute(sa.select(ApplicationSignature).where(mine))).first() is None
            pending = ApplicationSignature.state == "pending"
            assert (await s.execute(sa.select(ApplicationSignature).where(pending))).first() is None
            expired = AuditEvent.action == "application_sign_expire_success"
            assert (await s.execute(sa.select(AuditEvent.object_id).where(expired))).scalar_one() == str(
                res.app_id
            )
        r = await res.http.get(res.app_url + "/sign/return?tx=whatever")
        assert r.status_code == 404 and "もう一度署名する" in r.text
    finally:
        await api.close()
