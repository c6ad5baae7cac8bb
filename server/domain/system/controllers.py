"""Health endpoint: public, checks that the database answers."""

from __future__ import annotations

import logging
from functools import cache
from importlib.metadata import PackageNotFoundError, version

import sqlalchemy as sa
from litestar import Response, get
from litestar.di import NamedDependency

from server.db.engine import Database
from server.domain.accounts.access import PUBLIC
from shared.api import Health

log = logging.getLogger(__name__)


@cache  # reading the installed metadata took 0.3 ms, on every health check
def _version() -> str:
    try:
        return version("madoguchi")
    except PackageNotFoundError:  # pragma: no cover - running from a plain checkout
        return "0"


@get("/api/v1/health", opt=PUBLIC, tags=["system"], summary="稼働確認")
async def health(db: NamedDependency[Database]) -> Response[Health]:
    """ok when the database answers; 503 and ``degraded`` when it does not."""
    try:
        async with db.unbound() as session:
            await session.execute(sa.text("SELECT 1"))
        return Response(Health(status="ok", database="ok", version=_version()))
    except Exception as exc:
        log.warning("health: database check failed (%s)", type(exc).__name__)
        return Response(
            Health(status="degraded", database="db.unreachable", version=_version()), status_code=503
        )


route_handlers = [health]
