"""Records on PostgreSQL: archive and search as the plain app role under RLS; backup and restore
with pg_dump / pg_restore comparing every row and blob hash."""

from __future__ import annotations

import asyncio
import secrets
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
