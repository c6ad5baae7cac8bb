"""The access guard applied to every route of the app: deny by default.

A route passes only if it declared its access (:mod:`server.domain.accounts.access`): public,
logged in, or a permission the user holds through a group. A refused permission is audited.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain import audit
from server.domain.accounts.access import DEFERRED_KEY, PUBLIC_ACCESS, declared_access
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


@dataclass(frozen=True)
class DeferredPrincipal:
    """The user of a route declared ``requires(p, in_handler_transaction=True)``: not yet checked.

    :meth:`resolve` runs the guard's check (token, user, network rule, permission) in the
    handler's transaction, before the handler reads anything. The handler runs inside
    :meth:`audited`, which records a refused permission as the guard does — after the handler's
    transaction has ended (SQLite has one writer at a time).
    """

    connection: ASGIConnection[Any, Any, Any, Any]
    lg_code: str
    token: str
    permission: Permission
    _denied: list[Principal] = field(default_factory=list)

    async def resolve(self, session: AsyncSession) -> Principal:
        conn = self.connection
        principal = await authenticate(
            session,
            self.token,
            terminal_id=conn.headers.get("x-terminal-id") or None,
            client_ip=request_client_ip(conn),
            lgwan_networks=conn.app.state.settings.lgwan_networks,
        )
        conn.state.principal = principal
        if not principal.has(self.permission):
            self._denied.append(principal)
            raise PermissionDenied()
        return principal

    @asynccontextmanager
    async def audited(self) -> AsyncIterator[None]:
        """Wrap the handler's work: a permission refused by :meth:`resolve` is audited on the way out."""
        try:
            yield
        except PermissionDenied:
            for principal in self._denied:
                handler = self.connection.scope.get("route_handler")
                await _audit_denied(self.connection, principal, self.permission, handler)
            raise


def provide_deferred_principal(request: Request[Any, Any, Any]) -> DeferredPrincipal:
    """Dependency ``deferred_principal`` of the routes whose guard deferred the check."""
    deferred = request.state.get("deferred_principal")
    if deferred is None:
        raise AuthenticationRequired()
    return deferred  # type: ignore[no-any-return]


async def _audit_denied(
    connection: ASGIConnection[Any, Any, Any, Any], principal: Principal, access: Permission, handler: Any
) -> None:
    async with connection.app.state.db.tenant(principal.lg_code) as session:
        await audit.record(
            session,
            lg_code=principal.lg_code,
            actor=principal.actor,
            action="permission_check_denied",
            object_type="route",
            object_id=getattr(handler, "handler_name", None),
            details={"permission": access.value, "method": connection.scope.get("method", "")},
        )


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
    if handler.opt.get(DEFERRED_KEY) and isinstance(access, Permission):
        connection.state.deferred_principal = DeferredPrincipal(connection, lg_code, token, access)
        return
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
        await _audit_denied(connection, principal, access, handler)
        raise PermissionDenied()
