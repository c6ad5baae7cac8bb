"""What every ``madoguchi-server`` command shares: open the database, run one async task in it,
close it again; an expected error becomes its Japanese message on stderr and exit status 1.

    count = run_in_tenant(lg_code, lambda session: ensure_indexed(session, lg_code))
    report = run_with_db(lambda db, settings: service.execute(db, settings, …))
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, NoReturn, TypeVar

import click

from server.config import Settings, get_settings
from shared.errors import MadoguchiError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.db.engine import Database

T = TypeVar("T")


def fail(exc: MadoguchiError) -> NoReturn:
    """Print the error's Japanese message and exit with status 1."""
    click.echo(f"エラー: {exc.message}", err=True)
    sys.exit(1)


def run_async(body: Callable[[Settings], Awaitable[T]]) -> T:
    """Run ``body(settings)`` to completion (for tasks that open no database or open their own)."""
    try:
        return asyncio.run(_call(body, get_settings()))
    except MadoguchiError as exc:
        fail(exc)


async def _call(body: Callable[[Settings], Awaitable[T]], settings: Settings) -> T:
    return await body(settings)


async def with_database(settings: Settings, body: Callable[[Database], Awaitable[T]]) -> T:
    """Await ``body(db)`` with a database opened from ``settings`` and disposed afterwards."""
    from server.db.engine import Database

    db = Database.from_settings(settings)
    try:
        return await body(db)
    finally:
        await db.dispose()


def run_with_db(body: Callable[[Database, Settings], Awaitable[T]]) -> T:
    """Run ``body(db, settings)`` with the configured database, disposed afterwards."""
    return run_async(lambda settings: with_database(settings, lambda db: body(db, settings)))


def run_in_tenant(lg_code: str, body: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``body(session)`` in one transaction bound to municipality ``lg_code``."""

    async def run(db: Database, _settings: Settings) -> T:
        async with db.tenant(lg_code) as session:
            return await body(session)

    return run_with_db(run)
