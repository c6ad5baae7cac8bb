"""語句登録 on PostgreSQL as the plain app role: row-level security keeps each municipality's
phrases to itself even when the query names no lg_code; the register's address search and
household route work under RLS too."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from server.config import Settings
from server.db.models import Phrase
from server.db.models._phrase import OFFICE_SCOPE_KEY
from server.domain import audit
from server.domain.residents import services as residents
from tests.server.conftest import Api
from tests.server.test_postgres import OTHER_LG, PgDatabase, _ensure_other_municipality, pg  # noqa: F401

pytestmark = pytest.mark.postgres


@pytest.fixture
async def app_api(pg: PgDatabase) -> AsyncIterator[Api]:  # noqa: F811
    api = Api(pg.settings())
    try:
        yield api
    finally:
        await api.close()


async def test_phrases_are_isolated_by_row_level_security(pg: PgDatabase, app_api: Api) -> None:  # noqa: F811
    """A's office phrase: B's API calls get 404; a raw query bound to B sees no row and cannot
    insert a row labelled A; bound to A it sees its row."""
    await _ensure_other_municipality(pg)
    admin = await app_api.admin_headers()
    text = f"本城町二丁目 {uuid.uuid4().hex[:6]}"
    r = await app_api.http.post(
        "/api/v1/phrases/office",
        json={"reading": "ほんじょう", "text": text, "category": "town"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    phrase_id = r.json()["id"]
    clerk = await app_api.headers()
    assert text in [
        p["text"] for p in (await app_api.http.get("/api/v1/phrases", headers=clerk)).json()["items"]
    ]

    login_b = await app_api.login("clerk-b", "password-b-123", lg_code=OTHER_LG)
    hb = {"Authorization": f"Bearer {login_b.json()['token']}"}
    assert text not in [
        p["text"] for p in (await app_api.http.get("/api/v1/phrases", headers=hb)).json()["items"]
    ]
    gone = await app_api.http.delete(f"/api/v1/phrases/{phrase_id}", headers=hb)
    assert gone.status_code == 404

    async with app_api.db.tenant(OTHER_LG) as session:  # no lg_code condition: only RLS filters
        assert (await session.execute(sa.select(Phrase).where(Phrase.text == text))).first() is None
        assert (await session.execute(sa.select(sa.func.count()).select_from(Phrase))).scalar_one() == 0
    with pytest.raises(sa.exc.DBAPIError, match="row-level security"):
        async with app_api.db.tenant(OTHER_LG) as session:
            session.add(
                Phrase(
                    lg_code="082104",
                    scope_key=OFFICE_SCOPE_KEY,
                    reading="にせ",
                    reading_key="にせ",
                    text="偽の語句",
                    category="other",
                    updated_by="clerk-b",
                )
            )
    async with app_api.db.tenant("082104") as session:
        assert (await session.execute(sa.select(Phrase.text).where(Phrase.text == text))).scalar_one() == text


async def test_register_address_search_and_household_under_rls(pg: PgDatabase, app_api: Api) -> None:  # noqa: F811
    """The prefill's address search (escaped LIKE) and the household route as the app role; B sees none."""
    await _ensure_other_municipality(pg)
    head = (
        "宛名番号,世帯番号,住民種別,住民状態,氏_日本人,名_日本人,氏名_フリガナ,性別,生年月日,続柄表記,"
        "住所_都道府県,住所_市区郡町村名,住所_町字,住所_番地号表記,住所_方書\r\n"
    )
    address = "茨城県,下妻市,長塚,1-1,長塚ハイツ101"
    rows = [
        f"700001,7001,1,1,長塚,一郎,ナガツカ イチロウ,1,1960-01-01,世帯主,{address}",
        f"700002,7001,1,1,長塚,花子,ナガツカ ハナコ,2,1962-02-02,妻,{address}",
    ]
    await residents.import_csv(
        app_api.db, "082104", (head + "\r\n".join(rows)).encode(), mode="full", actor=audit.SYSTEM
    )
    h = await app_api.headers()
    r = await app_api.http.get("/api/v1/residents", params={"address": "ハイツ101"}, headers=h)
    assert r.status_code == 200, r.text
    assert sorted(x["atena_number"] for x in r.json()) == ["700001", "700002"]
    members = (await app_api.http.get("/api/v1/residents/700002/household", headers=h)).json()
    assert [m["relationship"] for m in members] == ["世帯主", "妻"]
    login_b = await app_api.login("clerk-b", "password-b-123", lg_code=OTHER_LG)
    hb = {"Authorization": f"Bearer {login_b.json()['token']}"}
    assert (
        await app_api.http.get("/api/v1/residents", params={"address": "ハイツ"}, headers=hb)
    ).json() == []
    assert (await app_api.http.get("/api/v1/residents/700002/household", headers=hb)).status_code == 404


async def test_migration_fills_address_keys_under_forced_rls(pg_url: str, tmp_path: Path) -> None:
    """On PostgreSQL the owner is under FORCE ROW LEVEL SECURITY too: the migration binds each
    municipality in turn, so rows already imported get their address key."""
    import psycopg

    from server.db.engine import Database
    from server.db.migrate import upgrade
    from server.domain.accounts import services as accounts
    from tests.server.test_phrases import insert_old_resident, phrases_migration

    name = f"madoguchi_m_{secrets.token_hex(4)}"
    admin = psycopg.connect(pg_url, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    url = (
        make_url(pg_url)
        .set(drivername="postgresql+psycopg", database=name)
        .render_as_string(hide_password=False)
    )
    settings = Settings(data_dir=tmp_path, database_url=url, demo=True)
    try:
        _revision, previous = phrases_migration()
        await asyncio.to_thread(upgrade, settings, previous)
        db = Database.from_settings(settings)
        try:
            async with db.unbound() as session:
                await accounts.create_municipality(session, "082104", "下妻市")
            await insert_old_resident(db, "082104")
        finally:
            await db.dispose()
        await asyncio.to_thread(upgrade, settings, "head")
        db = Database.from_settings(settings)
        try:
            found = await residents.search(db, "082104", audit.SYSTEM, None, None, "ハイツ101")
            assert [r.address for r in found] == ["茨城県下妻市本城町2-22"]
        finally:
            await db.dispose()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
