"""Alembic environment: runs the migrations on the async engine of the settings' database URL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from server.db.engine import make_engine
from server.db.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"移行後に外部キーの不整合があります: {broken[:5]}")


async def _run_async() -> None:
    # On SQLite the migrations run with foreign keys off (SQLite's documented procedure for
    # changing a table): a batch migration copies a table and drops the original, and with keys
    # on that drop would cascade into every table pointing at it (users → user_groups, sessions…).
    # The keys are checked once the migrations are done.
    engine = make_engine(config.attributes["database_url"], sqlite_foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():  # pragma: no cover - SQL scripts are not part of the workflow
    context.configure(url=config.attributes["database_url"], target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
