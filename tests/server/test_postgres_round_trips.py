"""PostgreSQL, as the plain app role: what a transaction costs in round trips, and that the
shortcuts keep their guarantees — the audit chain appended by one function call stays one
verifiable chain when several processes append, a dead pooled connection is replaced instead of
being handed out, and the municipality bound to a transaction never outlives it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from server.db.engine import Database
from server.domain import audit
from tests.conftest import DEMO_LG_CODE
from tests.server.test_postgres import OTHER_LG, PgDatabase, _ensure_other_municipality, _libpq, pg  # noqa: F401

pytestmark = pytest.mark.postgres


@pytest.fixture
async def app_db(pg: PgDatabase) -> AsyncIterator[Database]:  # noqa: F811
    db = Database(pg.app_url, pool_size=1, max_overflow=0)
    try:
        yield db
    finally:
        await db.dispose()


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements sent through SQLAlchemy while the block runs."""
    seen: list[str] = []

    def _before(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(db.engine.sync_engine, "before_cursor_execute", _before)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", _before)


async def _verify(db: Database, lg_code: str = DEMO_LG_CODE) -> audit.ChainReport:
    async with db.tenant(lg_code) as session:
        return await audit.verify_chain(session, lg_code)


def _event(n: int) -> audit.Event:
    return audit.Event(actor=audit.SYSTEM, action="reception_search_success", details={"n": n, "x": 1.5})


async def test_audit_append_is_one_statement_once_the_chain_end_is_known(app_db: Database) -> None:
    """The first append of a process asks for the chain's end (two calls); every later one is a
    single call of madoguchi_audit_append, and the chain verifies."""
    before = (await _verify(app_db)).count
    async with app_db.tenant(DEMO_LG_CODE) as session:
        await audit.record_many(session, DEMO_LG_CODE, [_event(0)])
    with statements(app_db) as seen:
        async with app_db.tenant(DEMO_LG_CODE) as session:
            await audit.record_many(session, DEMO_LG_CODE, [_event(1), _event(2)])
    audit_statements = [s for s in seen if "audit" in s]
    assert len(audit_statements) == 1 and "FROM madoguchi_audit_append(" in audit_statements[0], seen
    report = await _verify(app_db)
    assert report.ok and report.count == before + 3, report


async def test_audit_appends_of_two_processes_interleave_into_one_chain(pg: PgDatabase) -> None:  # noqa: F811
    """Two engines (two server processes, each with its own idea of the chain's end) append
    concurrently and after each other; a rolled-back append leaves a stale guess behind. Every
    committed event is in one gapless chain that verifies; nothing rolled back is in it."""
    one, two = Database(pg.app_url), Database(pg.app_url)
    try:
        before = (await _verify(one)).count
        for db in (one, two):  # both learn the chain's end
            async with db.tenant(DEMO_LG_CODE) as session:
                await audit.record_many(session, DEMO_LG_CODE, [_event(-1)])
        with pytest.raises(RuntimeError, match="rolled back"):
            async with one.tenant(DEMO_LG_CODE) as session:
                await audit.record_many(session, DEMO_LG_CODE, [_event(-2)])
                raise RuntimeError("rolled back")

        async def append(db: Database, n: int) -> None:
            async with db.tenant(DEMO_LG_CODE) as session:
                await audit.record_many(session, DEMO_LG_CODE, [_event(n), _event(n + 1000)])

        await asyncio.gather(*(append(one if n % 2 else two, n) for n in range(12)))
        report = await _verify(one)
        assert report.ok and report.count == before + 2 + 24, report
        async with one.tenant(DEMO_LG_CODE) as session:
            details = (
                await session.execute(
                    sa.text("SELECT details FROM audit_events WHERE lg_code = :lg AND seq > :s"),
                    {"lg": DEMO_LG_CODE, "s": before},
                )
            ).scalars()
            ns = sorted(d["n"] for d in details)
        assert ns == sorted([-1, -1, *range(12), *(n + 1000 for n in range(12))])
    finally:
        await one.dispose()
        await two.dispose()


async def test_audit_function_refuses_rows_that_do_not_follow_the_chain(app_db: Database) -> None:
    """Rows sent for a chain end that is not the real one are not inserted: the function
    answers the real end instead (so a stale or forged guess can never fork the chain)."""
    before = await _verify(app_db)
    async with app_db.tenant(DEMO_LG_CODE) as session:
        row = (
            await session.execute(
                sa.text("SELECT * FROM madoguchi_audit_append(:lg, :seq, :hash, CAST(:rows AS jsonb))"),
                {"lg": DEMO_LG_CODE, "seq": 1, "hash": "f" * 64, "rows": "[]"},
            )
        ).one()
    assert (row.head_seq, row.head_hash, row.appended) == (before.count, before.head_hash, False)
    assert (await _verify(app_db)).count == before.count


async def _pid(session: Any) -> int:
    return int((await session.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())


def _terminate(pg: PgDatabase, pid: int) -> None:  # noqa: F811
    """Kill one backend as the owner (what a PostgreSQL restart does to every pooled connection)."""
    with psycopg.connect(_libpq(pg.owner_url), autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
        for _ in range(100):
            if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
                return
            admin.execute("SELECT pg_sleep(0.05)")
    raise AssertionError(f"backend {pid} still there")


async def test_a_dead_pooled_connection_is_replaced_and_never_handed_out_again(
    pg: PgDatabase,  # noqa: F811
) -> None:
    """No pool_pre_ping: the transaction's first round trip finds the dead connection, which is
    invalidated; the transaction runs on a new one without the caller seeing an error, and the
    new one is what the pool hands out afterwards. With every pooled connection dead at once
    (a restart), each is replaced in turn."""
    db = Database(pg.app_url, pool_size=2, max_overflow=0)
    try:
        assert not db.engine.pool._pre_ping
        async with db.tenant(DEMO_LG_CODE) as session:
            first = await _pid(session)
        _terminate(pg, first)
        async with db.tenant(DEMO_LG_CODE) as session:
            second = await _pid(session)
            assert (await session.execute(sa.text("SELECT count(*) FROM users"))).scalar_one() > 0
        assert second != first
        async with db.tenant(DEMO_LG_CODE) as session:
            assert await _pid(session) == second  # the replacement is pooled, the dead one gone

        # Both pooled connections killed (a restart): the next transactions all succeed.
        events = [asyncio.Event(), asyncio.Event()]
        pids: list[int] = []

        async def hold(n: int) -> None:
            async with db.unbound() as session:
                pids.append(await _pid(session))
                events[n].set()
                await asyncio.gather(*(e.wait() for e in events))

        await asyncio.gather(hold(0), hold(1))
        assert len(set(pids)) == 2
        for pid in pids:
            _terminate(pg, pid)
        for _ in range(3):
            async with db.tenant(DEMO_LG_CODE) as session:
                assert await _pid(session) not in pids
    finally:
        await db.dispose()


async def test_a_connection_dying_mid_transaction_fails_only_that_transaction(
    pg: PgDatabase,  # noqa: F811
    app_db: Database,
) -> None:
    """A backend killed after the transaction began fails that transaction with a database error
    (nothing to retry safely), and the next transaction gets a live connection."""
    with pytest.raises(sa.exc.DBAPIError) as failed:
        async with app_db.tenant(DEMO_LG_CODE) as session:
            pid = await _pid(session)
            await asyncio.to_thread(_terminate, pg, pid)
            await session.execute(sa.text("SELECT count(*) FROM users"))
    assert failed.value.connection_invalidated
    async with app_db.tenant(DEMO_LG_CODE) as session:
        assert await _pid(session) != pid


async def test_begin_and_binding_are_one_round_trip_without_ping(app_db: Database) -> None:
    """A tenant transaction sends no SELECT 1 and no separate set_config through SQLAlchemy:
    its first statement already runs bound (BEGIN and set_config went in one pipeline)."""
    async with app_db.tenant(DEMO_LG_CODE):
        pass  # the pool's connection exists
    with statements(app_db) as seen, round_trips() as sent:
        async with app_db.tenant(DEMO_LG_CODE) as session:
            bound = (
                await session.execute(sa.text("SELECT current_setting('madoguchi.lg_code', true)"))
            ).scalar()
    assert bound == DEMO_LG_CODE
    assert seen == ["SELECT current_setting('madoguchi.lg_code', true)"]
    assert sent == ["pipeline", "statement", "COMMIT"]  # BEGIN went in the pipeline with set_config


async def _setting(session: Any) -> str | None:
    value = (await session.execute(sa.text("SELECT current_setting('madoguchi.lg_code', true)"))).scalar()
    return value if value is None else str(value)


async def _visible(session: Any) -> set[str]:
    rows = await session.execute(sa.text("SELECT DISTINCT lg_code FROM users"))
    return {str(r[0]) for r in rows}


async def test_one_connection_never_carries_a_municipality_into_the_next_transaction(
    pg: PgDatabase,  # noqa: F811
    app_db: Database,
) -> None:
    """One pooled connection (pool of 1) serves A, B, unbound and again, with a failure inside a
    bound transaction in between: every transaction sees only its own municipality's rows (RLS),
    an unbound one and a plain connection outside Database see none, whatever ran before."""
    await _ensure_other_municipality(pg)
    pids: set[int] = set()

    async def check(lg_code: str) -> None:
        ctx = app_db.tenant(lg_code) if lg_code else app_db.unbound()
        async with ctx as session:
            pids.add(await _pid(session))
            assert await _setting(session) == lg_code
            assert await _visible(session) == ({lg_code} if lg_code else set())

    await check(DEMO_LG_CODE)
    await check(OTHER_LG)
    await check("")
    await check(DEMO_LG_CODE)
    for lg_code, after in ((DEMO_LG_CODE, OTHER_LG), (OTHER_LG, ""), (DEMO_LG_CODE, "")):
        with pytest.raises(RuntimeError):
            async with app_db.tenant(lg_code) as session:
                assert await _visible(session) == {lg_code}
                raise RuntimeError("the request failed")
        await check(after)
    # A statement that fails in the database (the transaction is aborted) does not leak either.
    with pytest.raises(sa.exc.DBAPIError):
        async with app_db.tenant(OTHER_LG) as session:
            await session.execute(sa.text("SELECT 1/0"))
    await check("")
    # The pooled connection used outside Database.tenant/unbound (engine.connect) is unbound too.
    async with app_db.engine.connect() as conn:
        pids.add(int((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()))
        assert (
            await conn.execute(sa.text("SELECT current_setting('madoguchi.lg_code', true)"))
        ).scalar() in (
            None,
            "",
        )
        assert (await conn.execute(sa.text("SELECT count(*) FROM users"))).scalar_one() == 0
    assert len(pids) == 1  # it really was the same connection throughout


@contextmanager
def round_trips() -> Iterator[list[str]]:
    """What psycopg sends with a wait for the answer: statements and BEGIN/COMMIT/ROLLBACK
    outside pipeline mode, and each pipeline (everything queued in it goes together)."""
    sent: list[str] = []
    execute, command = psycopg.AsyncCursor.execute, psycopg.AsyncConnection._exec_command
    pipeline_exit = psycopg.AsyncPipeline.__aexit__

    async def spy_execute(self: Any, query: Any, *a: Any, **k: Any) -> Any:
        if self.connection._pipeline is None:
            sent.append("statement")
        return await execute(self, query, *a, **k)

    def spy_command(self: Any, cmd: Any, *a: Any, **k: Any) -> Any:
        if self._pipeline is None:
            sent.append(bytes(cmd).decode())
        return command(self, cmd, *a, **k)

    async def spy_exit(self: Any, *a: Any) -> Any:
        sent.append("pipeline")
        return await pipeline_exit(self, *a)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(psycopg.AsyncCursor, "execute", spy_execute)
        mp.setattr(psycopg.AsyncConnection, "_exec_command", spy_command)
        mp.setattr(psycopg.AsyncPipeline, "__aexit__", spy_exit)
        yield sent


async def test_a_read_event_is_appended_and_committed_in_one_round_trip(app_db: Database) -> None:
    """record_committed (a search's audit event) once the chain's end is known: BEGIN, binding,
    append and COMMIT are one pipeline — the chain's lock is held for no client round trip."""
    before = (await _verify(app_db)).count
    await audit.record_committed(app_db, DEMO_LG_CODE, _event(1))  # learns the chain's end
    with round_trips() as sent:
        await audit.record_committed(app_db, DEMO_LG_CODE, _event(2))
    assert sent == ["pipeline"]
    report = await _verify(app_db)
    assert report.ok and report.count == before + 2


async def test_a_read_event_after_another_process_appended_still_joins_the_chain(
    pg: PgDatabase,  # noqa: F811
    app_db: Database,
) -> None:
    """The one-round-trip append guessed an old chain end (another process appended since): it
    stores nothing, the event goes again under the lock, the chain verifies."""
    other = Database(pg.app_url)
    try:
        await audit.record_committed(app_db, DEMO_LG_CODE, _event(1))
        async with other.tenant(DEMO_LG_CODE) as session:
            await audit.record_many(session, DEMO_LG_CODE, [_event(2)])
        before = (await _verify(app_db)).count
        with round_trips() as sent:
            await audit.record_committed(app_db, DEMO_LG_CODE, _event(3))
        assert sent[0] == "pipeline" and len(sent) > 1  # refused, then appended under the lock
        report = await _verify(app_db)
        assert report.ok and report.count == before + 1
    finally:
        await other.dispose()


async def test_one_shot_errors_are_sqlalchemys_and_leave_the_connection_clean(
    pg: PgDatabase,  # noqa: F811
    app_db: Database,
) -> None:
    """A failing statement raises SQLAlchemy's error class and is rolled back: the pooled
    connection (pool of 1) is idle and usable; an unknown municipality's audit event fails its
    caller. A dead pooled connection is replaced as for tenant()."""
    with pytest.raises(sa.exc.DataError):
        await app_db.one_shot(DEMO_LG_CODE, "SELECT 1/0", ())
    rows = await app_db.one_shot(DEMO_LG_CODE, "SELECT current_setting('madoguchi.lg_code', true)", ())
    assert rows == [(DEMO_LG_CODE,)]
    with pytest.raises(sa.exc.IntegrityError):
        await audit.record_committed(app_db, "999999", _event(1))
    async with app_db.unbound() as session:
        pid = await _pid(session)
    _terminate(pg, pid)
    assert await app_db.one_shot(DEMO_LG_CODE, "SELECT 1", ()) == [(1,)]
