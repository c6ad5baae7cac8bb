"""The access guard applied to every route of the app: deny by default.

A route passes only if it declared its access (:mod:`server.domain.accounts.access`): public,
logged in, or a permission the user holds through a group. A refused permission is audited.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from server.domain import audit
from server.domain.accounts.access import PUBLIC_ACCESS, declared_access
from server.domain.accounts.network import client_ip
from server.domain.accounts.services import Principal, authenticate, tenant_of_token
from shared.errors import AuthenticationRequired, PermissionDenied
from shared.permissions import Permission

log = logging.getLogger(__name__)

#: Served by Litestar's OpenAPI plugin: the API description is public.
SCHEMA_PATH = "/schema"


def is_schema_route(path: str) -> bool:
    return path == SCHEMA_PATH or path.startswith(SCHEMA_PATH + "/")


def request_client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    peer = connection.client.host if connection.client else None
    return client_ip(peer, connection.headers, connection.app.state.settings.trusted_proxies)


#: The staff console's HttpOnly, SameSite=Strict cookie holding the same token as the API's bearer.
CONSOLE_COOKIE = "madoguchi_console"
CONSOLE_PATH = "/console"


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The token of the Authorization header, or (only under /console) of the console cookie."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    cookie = connection.cookies.get(CONSOLE_COOKIE)
    path = connection.scope["path"]
    if cookie and (path == CONSOLE_PATH or path.startswith(CONSOLE_PATH + "/")):
        return cookie
    raise AuthenticationRequired()


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The logged-in user, set by :func:`access_guard` (dependency ``principal``)."""
    principal = request.state.get("principal")
    if principal is None:
        raise AuthenticationRequired()
    return principal  # type: ignore[no-any-return]


async def access_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Authenticate and authorise the request, or raise 401/403."""
    access = declared_access(handler.opt)
    if access is None:
        if is_schema_route(connection.scope["path"]):
            return
        log.error("route %s declares no access; refused (deny by default)", handler.handler_name)
        raise PermissionDenied()
    if access == PUBLIC_ACCESS:
        return
    token = bearer_token(connection)
    lg_code = tenant_of_token(token)
    ip = request_client_ip(connection)
    terminal = connection.headers.get("x-terminal-id") or None
    db = connection.app.state.db
    async with db.tenant(lg_code) as session:
        principal = await authenticate(
            session,
            token,
            terminal_id=terminal,
            client_ip=ip,
            lgwan_networks=connection.app.state.settings.lgwan_networks,
        )
    connection.state.principal = principal
    if isinstance(access, Permission) and not principal.has(access):
        async with db.tenant(lg_code) as session:
            await audit.record(
                session,
                lg_code=lg_code,
                actor=principal.actor,
                action="permission_check_denied",
                object_type="route",
                object_id=handler.handler_name,
                details={"permission": access.value, "method": connection.scope.get("method", "")},
            )
        raise PermissionDenied()
