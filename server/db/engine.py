"""The async engine and the one way to open a transaction: bound to a municipality or not.

On PostgreSQL every municipal table is under row-level security keyed on the transaction setting
``madoguchi.lg_code``; :meth:`Database.tenant` sets it (``set_config(..., true)``: local to the
transaction, so PostgreSQL itself drops it at COMMIT or ROLLBACK) before anything else runs, and
:meth:`Database.unbound` sets it to the empty string. On SQLite the same call is skipped and the
code filters by ``lg_code`` itself, so the same service code runs on both.

Round trips, not statements, are what a request costs on a busy machine, so on PostgreSQL the
transaction's ``BEGIN`` and the ``set_config`` go to the server together (psycopg's pipeline
mode): one round trip where there were three (``pool_pre_ping``'s ``SELECT 1``, ``BEGIN``,
``set_config``). That first round trip is also the liveness check of the pooled connection: a
connection found dead there (PostgreSQL restarted, a killed backend) is invalidated and the
transaction starts again on another one before the caller's code has run, so it is never handed
out again and the caller does not see the failure (see :meth:`Database._begin`). A connection
that dies later, in the middle of the caller's work, fails that one transaction; SQLAlchemy
invalidates it on the disconnect error. ``pool_recycle`` replaces connections before idle
timeouts of firewalls or servers can cut them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import pq
from psycopg.rows import Row
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from server.config import Settings


def make_engine(url: str, *, sqlite_foreign_keys: bool = True, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url`` (``sqlite+aiosqlite`` or ``postgresql+psycopg``).

    SQLite transactions start with ``BEGIN IMMEDIATE``: writers queue on the busy timeout instead
    of failing with "database is locked" when two requests read then write.
    ``sqlite_foreign_keys=False`` is for migrations only (see ``migrations/env.py``).
    """
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA foreign_keys={'ON' if sqlite_foreign_keys else 'OFF'}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
    return create_async_engine(url, **kwargs)


#: Pooled PostgreSQL connections older than this are closed at checkout and replaced.
POOL_RECYCLE_SECONDS = 1800
_SET_TENANT = "SELECT set_config('madoguchi.lg_code', %s, true)"
#: ``info`` key of a pooled connection that has answered once (a new one that fails is not retried).
_ANSWERED = "madoguchi_answered"


async def bind_tenant(session: AsyncSession, lg_code: str) -> None:
    """Bind the current transaction to ``lg_code`` (PostgreSQL RLS); no-op on SQLite."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(sa.text("SELECT set_config('madoguchi.lg_code', :lg, true)"), {"lg": lg_code})


async def pipelined(
    session: AsyncSession, statements: Sequence[tuple[str, Sequence[Any]]], *, commit: bool = False
) -> list[list[Row]]:
    """Send ``statements`` (psycopg placeholders) in the session's transaction as one round trip
    (psycopg's pipeline mode), with ``commit`` the ``COMMIT`` too; the rows of each (``[]`` for a
    statement without rows). PostgreSQL only.

    For a serial section's last statements: a lock taken before them is then held for one round
    trip, not one per statement (and, busy, one turn of the event loop per statement). If one
    fails, the rest do not run and the transaction is aborted (a ``COMMIT`` becomes a rollback);
    the error is SQLAlchemy's. With ``commit`` the transaction has ended: the caller must run
    nothing more in it and must leave nothing pending in the session (it is checked), so that the
    session's own commit on leaving :meth:`Database.tenant` finds nothing to do.
    """
    if commit and (session.new or session.dirty or session.deleted):
        raise RuntimeError("pipelined commit with changes still pending in the session")
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
    cursors = []
    statement: str = ""
    params: Sequence[Any] = ()
    try:
        async with driver.pipeline():
            for statement, params in statements:
                cursors.append(await driver.execute(statement, params))
            if commit:
                statement, params = "COMMIT", ()
                await driver.commit()
        return [await c.fetchall() if c.description else [] for c in cursors]
    except psycopg.Error as exc:
        raise DBAPIError.instance(
            statement, params, exc, psycopg.Error, connection_invalidated=driver.closed
        ) from exc


class _Replaced(Exception):
    """The pooled connection was dead before the transaction began: begin again on another."""


class Database:
    """Engine plus session factory; stored in ``app.state.db``."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        if settings.is_sqlite:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        if settings.is_sqlite:
            return cls(settings.database_url)
        return cls(
            settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_overflow
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def tenant(self, lg_code: str) -> AsyncIterator[AsyncSession]:
        """One transaction bound to ``lg_code``: committed on success, rolled back on error."""
        async with self._transaction(lg_code) as session:
            yield session

    @asynccontextmanager
    async def unbound(self) -> AsyncIterator[AsyncSession]:
        """One transaction bound to no municipality: sees only non-municipal tables on PostgreSQL."""
        async with self._transaction("") as session:
            yield session

    @asynccontextmanager
    async def _transaction(self, lg_code: str) -> AsyncIterator[AsyncSession]:
        # Every idle connection of the pool may be dead after a restart: one more try than the
        # pool keeps; a connection opened for this transaction that fails ends the tries.
        tries = int(getattr(self.engine.pool, "size", lambda: 0)()) + 1 if self._pg else 1
        for attempt in range(tries):
            try:
                async with self.sessionmaker() as session, session.begin():
                    if self._pg:
                        await self._begin(session, lg_code, last=attempt == tries - 1)
                    yield session
                    return
            except _Replaced:
                continue

    async def one_shot(self, lg_code: str, statement: str, params: Sequence[Any]) -> list[Row]:
        """Run ``statement`` (psycopg placeholders) alone in a transaction bound to ``lg_code``
        and return its rows: BEGIN, the binding, the statement and COMMIT go to PostgreSQL in
        one round trip, so a lock the statement takes is held for no client round trip at all.
        PostgreSQL only. Errors are SQLAlchemy's (``IntegrityError`` …), the transaction then
        rolled back; a dead pooled connection is replaced as in :meth:`tenant`."""
        tries = int(getattr(self.engine.pool, "size", lambda: 0)()) + 1
        for attempt in range(tries):
            async with self.engine.connect() as conn:
                raw = await conn.get_raw_connection()
                driver: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
                try:
                    async with driver.pipeline():
                        await driver.execute(_SET_TENANT, (lg_code,))
                        cursor = await driver.execute(statement, params)
                        await driver.commit()
                    rows = await cursor.fetchall()
                except psycopg.Error as exc:
                    dead, answered = driver.closed, conn.info.get(_ANSWERED, False)
                    if dead:
                        await conn.invalidate(exc)
                    else:
                        await driver.rollback()
                    if dead and answered and attempt < tries - 1:
                        continue
                    raise DBAPIError.instance(
                        statement, params, exc, psycopg.Error, connection_invalidated=dead
                    ) from exc
                conn.info[_ANSWERED] = True
                return rows
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def _pg(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @staticmethod
    async def _begin(session: AsyncSession, lg_code: str, *, last: bool) -> None:
        """``BEGIN`` and the binding to ``lg_code`` ('' = none) in one round trip.

        Raises :class:`_Replaced` when the pooled connection turns out dead (it is invalidated,
        never handed out again) and another one may be tried.
        """
        conn = await session.connection()
        raw = await conn.get_raw_connection()
        driver: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
        if driver.info.transaction_status != pq.TransactionStatus.IDLE:
            # Not ours to begin (a connection some code left in a transaction): bind only.
            await bind_tenant(session, lg_code)
            return
        try:
            async with driver.pipeline():
                await driver.execute(_SET_TENANT, (lg_code,))
        except psycopg.OperationalError as exc:
            answered = conn.info.get(_ANSWERED, False)
            if not driver.closed:
                raise OperationalError(_SET_TENANT, (lg_code,), exc) from exc
            await conn.invalidate(exc)
            if last or not answered:
                raise OperationalError(_SET_TENANT, (lg_code,), exc) from exc
            raise _Replaced from exc
        conn.info[_ANSWERED] = True

    async def dispose(self) -> None:
        await self.engine.dispose()
