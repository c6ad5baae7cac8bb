"""Deny by default: every route declares its access, and an undeclared route is refused."""

from __future__ import annotations

import httpx
from litestar import Litestar, get

from server.app import create_app
from server.config import Settings
from server.domain.accounts.access import declared_access
from server.domain.accounts.guards import access_guard, is_schema_route
from server.errors import EXCEPTION_HANDLERS


def test_every_route_declares_access(settings: Settings) -> None:
    """Walk app.routes: each handler is public, logged-in or names a Permission (OpenAPI is public)."""
    app = create_app(settings)
    undeclared = []
    for route in app.routes:
        for handler in route.route_handlers:  # type: ignore[union-attr]
            if handler.handler_name == "options_handler" or is_schema_route(route.path):
                continue
            if declared_access(handler.opt) is None:
                undeclared.append(f"{route.path} {handler.handler_name}")
    assert undeclared == []


async def test_undeclared_route_is_refused() -> None:
    """A handler that declares nothing answers 403 through the guard, without running."""

    @get("/secret", sync_to_thread=False)
    def secret() -> dict[str, str]:
        return {"data": "should never be seen"}

    app = Litestar([secret], guards=[access_guard], exception_handlers=EXCEPTION_HANDLERS)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.get("/secret")
    assert r.status_code == 403
    assert "should never" not in r.text


async def test_openapi_served(settings: Settings) -> None:
    """The OpenAPI document is public and lists the receptions route."""
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.get("/schema/openapi.json")
    await app.state.db.dispose()
    assert r.status_code == 200
    assert "/api/v1/receptions" in r.json()["paths"]
