"""Server-rendered HTML shared by the portal and the staff console: Jinja2, headers, CSRF.

Templates live in ``server/templates`` and are autoescaped: whatever a resident typed (even
``<script>``) is shown as text. Every HTML answer carries a Content-Security-Policy that allows
only this server's own scripts and styles, and is never cached.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Response
from litestar.datastructures import Cookie
from litestar.enums import MediaType

from server.domain.eforms.fields import ERA_CHOICES, label_of
from shared.errors import PermissionDenied
from shared.schemas.eform import EformFieldType

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
STATIC = Path(__file__).resolve().parents[2] / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _yen(value: Any) -> str:
    return f"{int(value):,}円" if value is not None else ""


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yen"] = _yen
    env.globals.update(T=EformFieldType, ERA_CHOICES=ERA_CHOICES, label_of=label_of)
    return env


_OLD = (
    (re.compile(r"(?:MSIE |Trident/)"), 0),
    (re.compile(r"Edg/(\d+)"), 120),
    (re.compile(r"Chrome/(\d+)"), 120),
    (re.compile(r"Version/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/"), 16),
)


def outdated_browser(user_agent: str) -> bool:
    """True for browsers older than the supported ones (spec 002 7(1)①: prompt to update)."""
    for pattern, minimum in _OLD:
        m = pattern.search(user_agent)
        if m:
            return minimum == 0 or int(m.group(1)) < minimum
    return False


def page(
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    cookies: list[Cookie] | None = None,
    user_agent: str = "",
    csp_sources: dict[str, str] | None = None,
) -> Response[str]:
    """Render ``template`` as an HTML answer with the security headers.

    ``csp_sources`` adds origins to CSP directives for one page (``{"script-src":
    "https://checkout.pay.jp"}``: the PAY.JP card form on the pay page); every other page keeps
    ``'self'`` only.
    """
    body = environment().get_template(template).render(outdated=outdated_browser(user_agent), **context)
    headers = SECURITY_HEADERS
    if csp_sources:
        directives = [d.strip() for d in SECURITY_HEADERS["Content-Security-Policy"].split(";")]
        extra = dict(csp_sources)
        merged = [f"{d} {extra.pop(d.split()[0])}" if d.split()[0] in extra else d for d in directives]
        merged += [f"{name} {value}" for name, value in extra.items()]
        headers = {**SECURITY_HEADERS, "Content-Security-Policy": "; ".join(merged)}
    return Response(
        body, status_code=status, media_type=MediaType.HTML, headers=headers, cookies=cookies or []
    )


def csrf_token(secret: str) -> str:
    """The form token bound to a session secret (double submit: cookie secret → hidden field)."""
    return hashlib.sha256(f"csrf:{secret}".encode()).hexdigest()[:32]


def verify_csrf(secret: str | None, form: Any, *, code: str) -> None:
    """Refuse a posted form whose hidden ``csrf`` field does not belong to ``secret`` (the portal,
    the resident accounts and the staff console each bind it to their own cookie)."""
    sent = str(form.get("csrf") or "")
    if not secret or not hmac.compare_digest(sent, csrf_token(secret)):
        raise PermissionDenied("画面の有効期限が切れました。もう一度操作してください。", code=code)
