"""The Litestar application: ``create_app()`` wires settings, database, guard and every domain."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from server.config import Settings, get_settings
from server.db.engine import Database
from server.deps import DEPENDENCIES
from server.domain import discover_route_handlers
from server.domain.accounts.guards import (
    SCHEMA_PATH,
    access_guard,
    provide_deferred_principal,
    provide_principal,
)
from server.domain.accounts.services import Principal
from server.errors import EXCEPTION_HANDLERS

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> Litestar:
    """The application for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    logging.getLogger("server").setLevel(settings.log_level)
    db = Database.from_settings(settings)

    async def _dispose() -> None:
        await db.dispose()

    @asynccontextmanager
    async def _scheduler(app: Litestar) -> AsyncIterator[None]:
        """The built-in scheduler (daily backup, monthly report) runs beside the app."""
        if not settings.scheduler_enabled:
            yield
            return
        from server.domain.documents.controllers import blob_store
        from server.domain.scheduler.service import Scheduler

        scheduler = Scheduler(db, settings, lambda: blob_store(app.state))
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(scheduler.run_forever)
            yield
            tasks.cancel_scope.cancel()

    return Litestar(
        route_handlers=discover_route_handlers(),
        guards=[access_guard],
        dependencies={
            **DEPENDENCIES,
            "principal": Provide(provide_principal, sync_to_thread=False),
            "deferred_principal": Provide(provide_deferred_principal, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        state=State({"settings": settings, "db": db}),
        on_shutdown=[_dispose],
        lifespan=[_scheduler],
        request_max_body_size=settings.max_body_bytes,
        signature_namespace={"Principal": Principal, "Database": Database, "Settings": Settings},
        openapi_config=OpenAPIConfig(
            title="Madoguchi API",
            version="1",
            description="窓口支援システムの REST API (/api/v1)。エラーは {code, message} の日本語 JSON。",
            path=SCHEMA_PATH,
            render_plugins=[JsonRenderPlugin()],
            components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}),
            security=[{"bearer": []}],
        ),
        debug=False,
    )
