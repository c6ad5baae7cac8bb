"""The async engine and the one way to open a transaction: bound to a municipality or not.

On PostgreSQL every municipal table is under row-level security keyed on the transaction setting
``madoguchi.lg_code``; :meth:`Database.tenant` sets it (``set_config(..., true)``: local to the
transaction) before anything else runs. On SQLite the same call is skipped and the code filters
by ``lg_code`` itself, so the same service code runs on both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
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
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


async def bind_tenant(session: AsyncSession, lg_code: str) -> None:
    """Bind the current transaction to ``lg_code`` (PostgreSQL RLS); no-op on SQLite."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(sa.text("SELECT set_config('madoguchi.lg_code', :lg, true)"), {"lg": lg_code})


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
        async with self.sessionmaker() as session, session.begin():
            await bind_tenant(session, lg_code)
            yield session

    @asynccontextmanager
    async def unbound(self) -> AsyncIterator[AsyncSession]:
        """One transaction bound to no municipality: sees only non-municipal tables on PostgreSQL."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
