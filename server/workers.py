"""How many processes ``madoguchi-server run`` starts.

One server process runs HTTP, JSON and the Python of every request on one CPU core, so a busy
server wants one process per core. On PostgreSQL that is the default (``server_workers = 0``):
as many processes as this machine gives the server cores, but no more than the database's
connections allow — every process keeps its own pool of up to ``db_pool_size +
db_pool_overflow`` connections, and PostgreSQL refuses connections beyond ``max_connections``
(less the ones reserved for superusers and a few for backups, migrations and an operator's
``psql``). On SQLite the default is one process: the database has one writer at a time, and one
process serves a counter's load.

An explicit count (the setting or ``run --workers``) is started as given; when it exceeds the
connection budget, the operator gets a warning instead of failures at the first busy hour.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from server.config import Settings

#: Connections left free beyond the superusers' reserve: pg_dump, migrations, a psql session.
HEADROOM = 5


@dataclass(frozen=True)
class WorkerPlan:
    count: int
    note: str | None = None
    """Japanese, for the operator: why the count differs from the cores or the request."""


def available_cores() -> int:
    """CPU cores this process may run on (respects container and ``taskset`` limits)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def connection_budget(settings: Settings, max_connections: int, reserved: int) -> int:
    """How many server processes the database's connection limit leaves room for (at least 1)."""
    per_process = settings.db_pool_size + settings.db_pool_overflow
    return max(1, (max_connections - reserved - HEADROOM) // per_process)


def plan_workers(
    settings: Settings, requested: int | None, cores: int, limits: tuple[int, int] | None
) -> WorkerPlan:
    """The process count for ``requested`` (None or 0: the setting; 0 there: automatic).

    ``limits`` is PostgreSQL's ``(max_connections, superuser_reserved_connections)``, None on
    SQLite or when the database could not be asked.
    """
    wanted = requested or settings.server_workers
    per_process = settings.db_pool_size + settings.db_pool_overflow
    if wanted:
        if limits is not None and wanted > (budget := connection_budget(settings, *limits)):
            return WorkerPlan(
                wanted,
                f"警告: {wanted} プロセス × 接続 {per_process} は PostgreSQL の max_connections "
                f"({limits[0]}) を超えるおそれがあります (余裕があるのは {budget} プロセスまで)。",
            )
        return WorkerPlan(wanted)
    if settings.is_sqlite:
        return WorkerPlan(1)
    if limits is None:
        return WorkerPlan(
            cores,
            "PostgreSQL の max_connections を確認できませんでした。"
            f"CPU コア数の {cores} プロセスで起動します。",
        )
    budget = connection_budget(settings, *limits)
    if budget < cores:
        return WorkerPlan(
            budget,
            f"CPU コアは {cores} ですが、PostgreSQL の max_connections ({limits[0]}) と接続数 "
            f"({per_process}/プロセス) から {budget} プロセスで起動します。",
        )
    return WorkerPlan(cores)


async def connection_limits(settings: Settings) -> tuple[int, int] | None:
    """PostgreSQL's ``(max_connections, superuser_reserved_connections)``; None on SQLite or
    when the database does not answer (the server then starts and reports the error per request)."""
    if settings.is_sqlite:
        return None
    from sqlalchemy.exc import SQLAlchemyError

    from server.db.engine import Database

    db = Database(settings.database_url, pool_size=1, max_overflow=0)
    try:
        async with db.engine.connect() as conn:
            row = (
                await conn.exec_driver_sql(
                    "SELECT current_setting('max_connections')::int,"
                    " current_setting('superuser_reserved_connections')::int"
                )
            ).one()
            return int(row[0]), int(row[1])
    except (SQLAlchemyError, OSError):  # only means "not known"; the plan says so
        return None
    finally:
        await db.dispose()
