"""What every staff console page shares: the template context and the CSRF check of its forms."""

from __future__ import annotations

from typing import Any

from litestar import Request

from server.domain.accounts.guards import CONSOLE_COOKIE, CONSOLE_PATH
from server.domain.accounts.services import Principal
from server.domain.console.access import MEMBER_ROLES, ROLE_LABELS, Role
from server.domain.eforms.services import STATUS_LABELS
from server.domain.portal.controllers import PAYMENT_LABELS
from server.domain.portal.html import csrf_token, verify_csrf
from shared.permissions import Permission

Req = Request[Any, Any, Any]


def context(request: Req, principal: Principal | None = None, **extra: Any) -> dict[str, Any]:
    """Site name, the logged-in staff member, the form token, labels, then ``extra``."""
    token = request.cookies.get(CONSOLE_COOKIE, "")
    return {
        "site_name": "オンライン申請 職員管理画面",
        "home_url": f"{CONSOLE_PATH}/",
        "principal": principal,
        "csrf": csrf_token(token) if token else "",
        "labels": STATUS_LABELS,
        "payment_labels": PAYMENT_LABELS,
        "P": Permission,
        "Role": Role,
        "role_labels": ROLE_LABELS,
        "member_roles": MEMBER_ROLES,
        **extra,
    }


def check_csrf(request: Req, form: Any) -> None:
    """Refuse a console form whose token does not belong to the login cookie."""
    verify_csrf(request.cookies.get(CONSOLE_COOKIE), form, code="console.csrf")
