"""PostgreSQL: migrations, row-level security per municipality, and the API flow as the app role.

A fresh database is created for the session and dropped at the end. Migrations run as the owner;
the application connects as a separate LOGIN role that is neither superuser nor owner, so the
RLS policies (FORCE ROW LEVEL SECURITY) really apply to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from server.config import Settings
from server.db.migrate import differences, upgrade
from server.domain.accounts import services
from tests.conftest import DEMO_CLERK, DEMO_LG_CODE
from tests.server.conftest import VALID_MY_NUMBER, Api, reception_body

pytestmark = pytest.mark.postgres

APP_ROLE = "madoguchi_app_test"
OTHER_LG = "131016"


@dataclass
class PgDatabase:
    owner_url: str
    app_url: str
    name: str
    data_dir: Path

    def settings(self, *, as_owner: bool = False) -> Settings:
        return Settings(
            data_dir=self.data_dir,
            database_url=self.owner_url if as_owner else self.app_url,
            db_app_role=APP_ROLE,
            demo=True,
        )


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="session")
def pg(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgDatabase]:
    from server.__main__ import seed_demo

    name = f"madoguchi_t_{secrets.token_hex(4)}"
    admin = psycopg.connect(pg_url, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
    if not exists:
        admin.execute(f'CREATE ROLE "{APP_ROLE}" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE')
    base = make_url(pg_url).set(drivername="postgresql+psycopg", database=name)
    db = PgDatabase(
        owner_url=base.render_as_string(hide_password=False),
        app_url=base.set(username=APP_ROLE, password=None).render_as_string(hide_password=False),
        name=name,
        data_dir=tmp_path_factory.mktemp("pg"),
    )
    try:
        upgrade(db.settings(as_owner=True))
        asyncio.run(seed_demo(db.settings(as_owner=True)))
        yield db
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with contextlib.suppress(psycopg.Error):  # still used by a parallel run's database
            admin.execute(f'DROP ROLE IF EXISTS "{APP_ROLE}"')
        admin.close()


@pytest.fixture
async def pg_api(pg: PgDatabase) -> AsyncIterator[Api]:
    api = Api(pg.settings())
    try:
        yield api
    finally:
        await api.close()


async def _ensure_other_municipality(pg: PgDatabase) -> None:
    """Municipality B with one user and one reception, created as the owner."""
    owner = Api(pg.settings(as_owner=True))
    try:
        async with owner.db.unbound() as session:
            from server.db.models import Municipality

            if await session.get(Municipality, OTHER_LG) is not None:
                return
            await services.create_municipality(session, OTHER_LG, "千代田区")
        async with owner.db.tenant(OTHER_LG) as session:
            await services.create_group(session, OTHER_LG, "窓口", ["reception.create", "reception.read"])
            await services.create_user(
                session,
                None,
                lg_code=OTHER_LG,
                username="clerk-b",
                display_name="B",
                password="password-b-123",
                groups=["窓口"],
            )
    finally:
        await owner.close()


def test_app_role_is_plain(pg: PgDatabase) -> None:
    """The application role is neither superuser nor BYPASSRLS nor owner of the tables."""
    with psycopg.connect(_libpq(pg.owner_url)) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", (APP_ROLE,)
        ).fetchone()
        owner = conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'receptions'").fetchone()
    assert row == (False, False)
    assert owner is not None and owner[0] != APP_ROLE


def test_models_match_migrations_on_postgres(pg: PgDatabase) -> None:
    """db check on PostgreSQL: no difference between migrations and models."""
    assert differences(pg.settings(as_owner=True)) == []


async def test_api_flow_as_app_role(pg_api: Api) -> None:
    """Login, create (201), resubmit (200, same id), concurrent duplicates and read work on PostgreSQL."""
    headers = await pg_api.headers(*DEMO_CLERK)
    body = reception_body()
    first = await pg_api.http.post("/api/v1/receptions", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await asyncio.gather(
        *(pg_api.http.post("/api/v1/receptions", json=body, headers=headers) for _ in range(4))
    )
    assert {r.status_code for r in again} == {200}
    assert {r.json()["id"] for r in again} == {first.json()["id"]}
    read = await pg_api.http.get(f"/api/v1/receptions/{first.json()['id']}", headers=headers)
    assert read.status_code == 200
    assert read.json()["my_number_state"] == ["masked"]
    admin = await pg_api.admin_headers()
    shown = await pg_api.http.get(f"/api/v1/receptions/{first.json()['id']}", headers=admin)
    assert shown.json()["notice"]["persons"][0]["my_number"] == VALID_MY_NUMBER


async def test_concurrent_submissions_on_postgres(pg_api: Api) -> None:
    """On PostgreSQL, twelve receptions submitted at once all succeed with consecutive 受付番号."""
    headers = await pg_api.headers(*DEMO_CLERK)
    responses = await asyncio.gather(
        *(pg_api.http.post("/api/v1/receptions", json=reception_body(), headers=headers) for _ in range(12))
    )
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses if r.status_code != 201]
    seqs = sorted(int(r.json()["reception_number"].split("-")[1]) for r in responses)
    assert seqs == list(range(seqs[0], seqs[0] + 12))


async def test_rls_isolation(pg: PgDatabase, pg_api: Api) -> None:
    """App role: bound to A sees only A, unbound sees nothing, inserting B's row while bound to A fails."""
    await _ensure_other_municipality(pg)
    headers_b = {
        "Authorization": f"Bearer {await pg_api.token('clerk-b', 'password-b-123', lg_code=OTHER_LG)}"
    }
    rb = await pg_api.http.post("/api/v1/receptions", json=reception_body(), headers=headers_b)
    assert rb.status_code == 201, rb.text
    ra = await pg_api.http.post("/api/v1/receptions", json=reception_body(), headers=await pg_api.headers())
    assert ra.status_code == 201
    # A's clerk cannot read B's reception through the API either.
    r = await pg_api.http.get(f"/api/v1/receptions/{rb.json()['id']}", headers=await pg_api.headers())
    assert r.status_code == 404

    with psycopg.connect(_libpq(pg.app_url)) as conn:
        for table in ("receptions", "users", "audit_events", "reception_persons"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        conn.rollback()
        with conn.transaction():
            conn.execute("SELECT set_config('madoguchi.lg_code', %s, true)", (DEMO_LG_CODE,))
            codes = {r[0] for r in conn.execute("SELECT lg_code FROM receptions").fetchall()}
            users = {r[0] for r in conn.execute("SELECT lg_code FROM users").fetchall()}
            assert codes == {DEMO_LG_CODE} and users == {DEMO_LG_CODE}
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("SELECT set_config('madoguchi.lg_code', %s, true)", (DEMO_LG_CODE,))
            conn.execute(
                "INSERT INTO groups (id, lg_code, name, created_at) VALUES (%s, %s, 'x', now())",
                (uuid.uuid4(), OTHER_LG),
            )


def test_app_role_cannot_change_audit(pg: PgDatabase) -> None:
    """The app role may not UPDATE or DELETE audit rows (no privilege, and the trigger refuses)."""
    with psycopg.connect(_libpq(pg.app_url)) as conn:
        for statement in (
            "UPDATE audit_events SET action = 'x'",
            "DELETE FROM audit_events",
            "DELETE FROM audit_heads",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute("SELECT set_config('madoguchi.lg_code', %s, true)", (DEMO_LG_CODE,))
                conn.execute(statement)
    with (
        psycopg.connect(_libpq(pg.owner_url)) as conn,
        pytest.raises(psycopg.errors.RaiseException),
        conn.transaction(),
    ):
        conn.execute("UPDATE audit_events SET action = 'x'")
    with (
        psycopg.connect(_libpq(pg.owner_url)) as conn,
        pytest.raises(psycopg.errors.RaiseException, match="forward"),
        conn.transaction(),
    ):
        conn.execute("UPDATE audit_heads SET seq = seq - 1")


async def test_audit_chain_verifies_on_postgres(pg: PgDatabase, pg_api: Api) -> None:
    """Each municipality's audit chain verifies when read bound to that municipality."""
    from server.domain.audit import verify_chain

    await pg_api.http.post("/api/v1/receptions", json=reception_body(), headers=await pg_api.headers())
    async with pg_api.db.tenant(DEMO_LG_CODE) as session:
        report = await verify_chain(session, DEMO_LG_CODE)
    assert report.ok and report.count > 0


async def test_db_grant_for_a_role_created_later(pg: PgDatabase) -> None:
    """grant_app_role gives a role created after the migration exactly the app privileges."""
    from server.db.engine import make_engine
    from server.db.grants import grant_app_role

    role = f"madoguchi_late_{secrets.token_hex(3)}"
    with psycopg.connect(_libpq(pg.owner_url), autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        engine = make_engine(pg.owner_url)
        async with engine.begin() as conn:
            await grant_app_role(conn, role)
        await engine.dispose()
        late_url = make_url(pg.app_url).set(username=role).render_as_string(hide_password=False)
        with psycopg.connect(_libpq(late_url)) as conn:
            with conn.transaction():
                conn.execute("SELECT set_config('madoguchi.lg_code', %s, true)", (DEMO_LG_CODE,))
                assert conn.execute("SELECT count(*) FROM users").fetchone()[0] > 0  # type: ignore[index]
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute("DELETE FROM audit_events")
    finally:
        with psycopg.connect(_libpq(pg.owner_url), autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')
