"""Records on PostgreSQL: archive and search as the plain app role under RLS; backup and restore
with pg_dump / pg_restore comparing every row and blob hash."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from server.config import Settings
from server.domain.backups import service as backups
from server.domain.documents.controllers import blob_store
from tests.server.conftest import Api
from tests.server.records import files
from tests.server.records.conftest import make_reception
from tests.server.records.test_backup import blob_hashes
from tests.server.records.test_search import check_name_search_from_keys_and_walked
from tests.server.test_postgres import OTHER_LG, PgDatabase, _ensure_other_municipality, pg  # noqa: F401

pytestmark = pytest.mark.postgres


@pytest.fixture
async def app_api(pg: PgDatabase, tmp_path: Path) -> AsyncIterator[Api]:  # noqa: F811
    api = Api(Settings(**{**pg.settings().model_dump(), "blob_dir": tmp_path / "blobs"}))
    try:
        yield api
    finally:
        await api.close()


async def test_archive_and_search_as_app_role_under_rls(pg: PgDatabase, app_api: Api) -> None:  # noqa: F811
    """Upload, search by kana and view work as the app role; another municipality sees nothing."""
    await _ensure_other_municipality(pg)
    h = await app_api.admin_headers()
    rec = await make_reception(app_api, h, family_name_kana="シモツマ", given_name_kana="ジロウ")
    r = await app_api.http.post(
        f"/api/v1/receptions/{rec['id']}/attachments", content=files.pdf(2), headers=h
    )
    assert r.status_code == 201, r.text
    found = await app_api.http.get("/api/v1/records/receptions", params={"name": "ｼﾓﾂﾏｼﾞﾛｳ"}, headers=h)
    assert found.status_code == 200, found.text
    assert rec["id"] in [i["id"] for i in found.json()["items"]]
    view = await app_api.http.get(f"/api/v1/records/receptions/{rec['id']}", headers=h)
    assert view.status_code == 200 and len(view.json()["attachments"]) == 1

    other = await app_api.login("clerk-b", "password-b-123", lg_code=OTHER_LG)
    hb = {"Authorization": f"Bearer {other.json()['token']}"}
    assert (
        await app_api.http.get(f"/api/v1/receptions/{rec['id']}/attachments", headers=hb)
    ).status_code == 404
    found_b = await app_api.http.get("/api/v1/records/receptions", params={"name": "しもつま"}, headers=hb)
    assert found_b.json()["items"] == []


async def test_name_search_from_keys_and_walked_as_app_role(pg: PgDatabase, tmp_path: Path) -> None:  # noqa: F811
    """The same name search checks as on SQLite, on PostgreSQL under RLS (the one-time branch
    choice and the key-count CTE are PostgreSQL plans)."""
    await check_name_search_from_keys_and_walked(
        Settings(**{**pg.settings().model_dump(), "blob_dir": tmp_path / "blobs"})
    )


async def test_concurrent_uploads_with_one_client_key_store_one_document(
    pg: PgDatabase,  # noqa: F811
    app_api: Api,
) -> None:
    """Eight uploads with the same client_key at once (a resend racing the first): under the unique
    constraint every one answers the same document, one row and one blob remain."""
    import uuid

    h = await app_api.admin_headers()
    rec = await make_reception(app_api, h)
    key = str(uuid.uuid4())
    url = f"/api/v1/receptions/{rec['id']}/attachments?client_key={key}"
    answers = await asyncio.gather(
        *(app_api.http.post(url, content=files.image("PNG"), headers=h) for _ in range(8))
    )
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    listed = await app_api.http.get(f"/api/v1/receptions/{rec['id']}/attachments", headers=h)
    assert len(listed.json()) == 1
    store = blob_store(app_api.app.state)
    assert len([k for k in store.keys("") if rec["id"] in k]) == 1


async def test_concurrent_searches_are_all_audited_in_one_valid_chain(pg: PgDatabase, app_api: Api) -> None:  # noqa: F811
    """Thirty searches at once as the app role: every one answered and audited (capped count
    flagged), the chain verifies — the events shared commits under RLS."""
    import asyncio

    import sqlalchemy as sa

    from server.db.models import AuditEvent
    from server.domain import audit

    async def searches() -> int:
        async with app_api.db.tenant("082104") as session:
            return int(
                (
                    await session.execute(
                        sa.select(sa.func.count()).where(AuditEvent.action == "reception_search_success")
                    )
                ).scalar_one()
            )

    h = await app_api.admin_headers()
    for _ in range(3):
        await make_reception(app_api, h, family_name_kana="ハセクラ")
    before = await searches()
    answers = await asyncio.gather(
        *(
            app_api.http.get(
                "/api/v1/records/receptions", params={"name": "はせくら", "page_size": 2}, headers=h
            )
            for _ in range(30)
        )
    )
    assert all(a.status_code == 200 for a in answers)
    assert {(a.json()["total"], a.json()["total_capped"]) for a in answers} == {(3, False)}
    async with app_api.db.tenant("082104") as session:
        report = await audit.verify_chain(session, "082104")
    assert report.ok and await searches() == before + 30


def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            ).fetchall()
        ]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}


@pytest.fixture
def fresh_pg(pg_url: str, tmp_path: Path) -> Iterator[Settings]:
    """A throwaway database of its own (restored over), migrated and seeded, used as owner."""
    from server.__main__ import seed_demo
    from server.db.migrate import upgrade

    name = f"madoguchi_rb_{secrets.token_hex(4)}"
    admin = psycopg.connect(pg_url, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    url = (
        make_url(pg_url)
        .set(drivername="postgresql+psycopg", database=name)
        .render_as_string(hide_password=False)
    )
    settings = Settings(data_dir=tmp_path, database_url=url, demo=True)
    try:
        upgrade(settings)
        asyncio.run(seed_demo(settings))
        yield settings
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


async def test_pg_backup_restore_compares_every_row_and_blob(fresh_pg: Settings) -> None:
    """pg_dump backup, then more data, changes and deletions; pg_restore; all rows and blobs equal."""
    api = Api(fresh_pg)
    libpq = backups.libpq_url(fresh_pg)
    try:
        h = await api.admin_headers()
        for n in range(2):
            rec = await make_reception(api, h)
            r = await api.http.post(
                f"/api/v1/receptions/{rec['id']}/attachments", content=files.pdf(n + 1), headers=h
            )
            assert r.status_code == 201, r.text
        made = backups.create(fresh_pg, blob_store(api.app.state))
        assert made.path.joinpath("database.pgdump").is_file()
        before_rows, before_blobs = _snapshot(libpq), blob_hashes(fresh_pg.blob_path)

        rec = await make_reception(api, h)
        await api.http.post(f"/api/v1/receptions/{rec['id']}/attachments", content=files.pdf(), headers=h)
        with psycopg.connect(libpq) as conn:
            conn.execute("DELETE FROM reception_search_keys")
            conn.execute("UPDATE receptions SET status = 'cancelled'")
        next(iter(fresh_pg.blob_path.rglob("*.pdf"))).unlink()
        assert _snapshot(libpq) != before_rows
        await api.db.dispose()

        backups.restore(fresh_pg, store=blob_store(api.app.state))
        assert _snapshot(libpq) == before_rows
        assert blob_hashes(fresh_pg.blob_path) == before_blobs
    finally:
        await api.close()


async def test_retention_classes_and_purge_as_app_role_under_rls(pg: PgDatabase, app_api: Api) -> None:  # noqa: F811
    """A municipality's retention class is its own (another one still sees the default); the
    planner uses it and the purge API runs as the app role under row-level security."""
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from server.db.models import Reception, RetentionClass
    from server.domain.documents.services import add_years

    await _ensure_other_municipality(pg)
    h = await app_api.admin_headers()
    r = await app_api.http.put("/api/v1/records/retention/power_of_attorney", json={"years": 1}, headers=h)
    assert r.status_code == 200, r.text
    rec = await make_reception(app_api, h)
    async with app_api.db.tenant("082104") as session:  # as the app role: only under the tenant
        await session.execute(
            sa.update(Reception)
            .where(Reception.id == uuid.UUID(rec["id"]))
            .values(business_date=add_years(datetime.now(UTC).date(), -2))
        )
    up = await app_api.http.post(
        f"/api/v1/receptions/{rec['id']}/attachments?document_class=power_of_attorney",
        content=files.pdf(),
        headers=h,
    )
    assert up.status_code == 201, up.text
    plan = (await app_api.http.post("/api/v1/records/purge/plan", headers=h)).json()
    if plan["job"]["planned_at"] < rec["created_at"]:  # an unfinished job of an earlier test first
        await app_api.http.post(
            f"/api/v1/records/purge/jobs/{plan['job']['id']}/run",
            json={"confirm": True, "item_count": plan["job"]["item_count"]},
            headers=h,
        )
        plan = (await app_api.http.post("/api/v1/records/purge/plan", headers=h)).json()
    mine = [i for i in plan["items"] if i["reception_id"] == rec["id"]]
    assert [(i["scope"], i["classes"]) for i in mine] == [("documents", ["power_of_attorney"])]
    run = await app_api.http.post(
        f"/api/v1/records/purge/jobs/{plan['job']['id']}/run",
        json={"confirm": True, "item_count": plan["job"]["item_count"]},
        headers=h,
    )
    assert run.status_code == 200, run.text
    view = await app_api.http.get(f"/api/v1/records/receptions/{rec['id']}", headers=h)
    assert view.status_code == 200 and view.json()["attachments"] == []

    other = await app_api.login("clerk-b", "password-b-123", lg_code=OTHER_LG)
    hb = {"Authorization": f"Bearer {other.json()['token']}"}
    seen = await app_api.http.get("/api/v1/records/retention", headers=hb)
    if seen.status_code == 200:  # clerk-b may lack the supervisor mode: then 403 is the answer
        years = {c["document_class"]: c["years"] for c in seen.json()}
        assert years["power_of_attorney"] == 5
    else:
        assert seen.status_code == 403
    async with app_api.db.tenant(OTHER_LG) as session:
        assert (await session.execute(sa.select(RetentionClass))).scalars().all() == []


async def test_scheduler_claim_is_exclusive_as_app_role(pg: PgDatabase, app_api: Api) -> None:  # noqa: F811
    """Five processes (engines) claim the same run at once as the app role: exactly one wins."""
    from datetime import UTC, datetime

    from server.db.engine import Database
    from server.domain.scheduler import service as scheduler

    period = f"t-{secrets.token_hex(4)}"
    dbs = [Database.from_settings(app_api.settings) for _ in range(5)]
    try:
        now = datetime.now(UTC)
        won = await asyncio.gather(
            *(scheduler.claim(d, "backup", period, now, f"p{i}") for i, d in enumerate(dbs))
        )
        assert sum(r is not None for r in won) == 1
        last = await scheduler.last_run(app_api.db, "backup")
        assert last is not None and last.status == "running"
    finally:
        for d in dbs:
            await d.dispose()


async def test_scheduled_report_is_stored_per_municipality_as_app_role(pg: PgDatabase, app_api: Api) -> None:  # noqa: F811
    """The monthly report job writes report_files under row-level security for each municipality;
    each sees only its own."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from server.domain.documents.controllers import blob_store
    from server.domain.scheduler import service as scheduler

    await _ensure_other_municipality(pg)
    settings = app_api.settings.model_copy(
        update={"schedule_backup_enabled": False, "schedule_signing_sweep_enabled": False}
    )
    year = 2031  # the session's database is fresh: no run for this month yet
    now = datetime(year, 3, 1, 4, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    [outcome] = await scheduler.tick(app_api.db, settings, blob_store(app_api.app.state), now)
    assert outcome.status == "success", outcome.message
    h = await app_api.admin_headers()
    mine = (await app_api.http.get("/api/v1/reports/operations/stored", headers=h)).json()
    assert f"{year}-02" in [r["period"] for r in mine]
    async with app_api.db.tenant(OTHER_LG) as session:
        import sqlalchemy as sa

        from server.db.models import ReportFile

        theirs = (await session.execute(sa.select(ReportFile.lg_code))).scalars().all()
    assert theirs and set(theirs) == {OTHER_LG}


async def test_scheduled_backup_on_postgres_needs_the_owner(
    pg: PgDatabase,  # noqa: F811
    app_api: Api,
    tmp_path: Path,
) -> None:
    """As the app role pg_dump cannot read the tables: the run fails with its reason (shown in the
    backup status); with ``backup_database_url`` = the owner the scheduled backup succeeds."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from server.domain.documents.controllers import blob_store
    from server.domain.scheduler import service as scheduler

    jst = ZoneInfo("Asia/Tokyo")
    base = {
        "schedule_report_enabled": False,
        "schedule_signing_sweep_enabled": False,
        "backup_dir": tmp_path / "backups",
    }
    store = blob_store(app_api.app.state)
    as_app = app_api.settings.model_copy(update=base)
    [failed] = await scheduler.tick(app_api.db, as_app, store, datetime(2031, 5, 1, 3, 0, tzinfo=jst))
    assert failed.status == "failed" and "pg_dump" in failed.message
    as_owner = app_api.settings.model_copy(update={**base, "backup_database_url": pg.owner_url})
    [ok] = await scheduler.tick(app_api.db, as_owner, store, datetime(2031, 5, 2, 3, 0, tzinfo=jst))
    assert ok.status == "success", ok.message
    assert len(backups.generations(as_owner)) == 1


async def test_eform_purge_as_app_role_under_rls(pg: PgDatabase, app_api: Api) -> None:  # noqa: F811
    """The online-application purge (list, delete, keep the payment, record, audit) as the app role."""
    from tests.server.records.test_purge_eforms import scenario_lifecycle

    await scenario_lifecycle(app_api)


async def test_eform_purge_crash_half_way_as_app_role(
    pg: PgDatabase,  # noqa: F811
    app_api: Api,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A crash between the rows and the blobs on PostgreSQL: running again finishes the same list."""
    from tests.server.records.test_purge_eforms import scenario_crash

    await scenario_crash(app_api, monkeypatch)
