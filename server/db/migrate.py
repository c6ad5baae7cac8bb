"""Alembic driven from code: ``db upgrade`` and ``db check`` (no alembic.ini to keep in sync)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from server.config import Settings
from server.db.engine import make_engine
from server.db.models import Base

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    """An Alembic config pointing at our migrations and the settings' database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["database_url"] = settings.database_url
    cfg.attributes["app_role"] = settings.db_app_role
    cfg.attributes["settings"] = settings  # data migrations that move bytes into the blob store
    return cfg


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Bring the database to ``revision`` (creating the SQLite folder if needed)."""
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(settings), revision)


def differences(settings: Settings) -> list[Any]:
    """What differs between the migrated database and the ORM models (empty: nothing)."""

    def _compare(connection: Connection) -> list[Any]:
        ctx = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))

    async def _run() -> list[Any]:
        engine = make_engine(settings.database_url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(_compare)
        finally:
            await engine.dispose()

    return asyncio.run(_run())
