"""Staff console (職員管理画面) for online applications: login, applications, status, payments, CSV.

Server-rendered HTML under ``/console``. Login reuses the accounts domain (password, lockout,
TOTP, network allow-list); the token lives in an HttpOnly SameSite=Strict cookie and every form
carries a token derived from it (CSRF).
"""

from __future__ import annotations

from typing import Any

__all__ = ["route_handlers"]


def __getattr__(name: str) -> Any:
    if name == "route_handlers":
        from server.domain.console.controllers import route_handlers

        return route_handlers
    raise AttributeError(name)
