"""HTTP routes of the accounts domain: login, logout, who am I."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from server.config import Settings
from server.db.engine import Database
from server.db.models import User
from server.deps import optional_key_ring
from server.domain.accounts import services
from server.domain.accounts.access import LOGGED_IN, PUBLIC
from server.domain.accounts.guards import request_client_ip
from server.domain.accounts.services import Principal
from shared.api import LoginRequest, LoginResponse, UserInfo


async def user_info(db: Database, p: Principal) -> UserInfo:
    async with db.tenant(p.lg_code) as session:
        user = await session.get(User, p.user_id)
    return UserInfo(
        id=p.user_id,
        lg_code=p.lg_code,
        username=p.username,
        display_name=p.display_name,
        permissions=sorted(p.permissions),
        groups=list(p.groups),
        email=user.email if user else None,
        email_verified=bool(user and user.email_verified),
    )


@post("/api/v1/auth/login", opt=PUBLIC, status_code=HTTP_200_OK, tags=["auth"], summary="ログイン")
async def login(
    data: JSONBody[LoginRequest],
    request: Request[Any, Any, Any],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> LoginResponse:
    """Log in with password (and TOTP when set up); answers an opaque bearer token."""
    result = await services.login(
        db, settings, optional_key_ring(request.app.state), data, request_client_ip(request)
    )
    return LoginResponse(
        token=result.token, expires_at=result.expires_at, user=await user_info(db, result.principal)
    )


@post(
    "/api/v1/auth/logout", opt=LOGGED_IN, status_code=HTTP_204_NO_CONTENT, tags=["auth"], summary="ログアウト"
)
async def logout(principal: NamedDependency[Principal], db: NamedDependency[Database]) -> None:
    """Revoke the current token."""
    async with db.tenant(principal.lg_code) as session:
        await services.logout(session, principal)


@get("/api/v1/auth/me", opt=LOGGED_IN, tags=["auth"], summary="ログイン中の利用者")
async def me(principal: NamedDependency[Principal], db: NamedDependency[Database]) -> UserInfo:
    """The logged-in user with groups, permissions and e-mail address."""
    return await user_info(db, principal)


route_handlers = [login, logout, me]
