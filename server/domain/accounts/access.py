"""How a route declares who may call it. Deny by default: a route without a declaration is refused.

Put one of these in the handler's ``opt``::

    @post("/receptions", opt=requires(Permission.reception_create))
    @get("/health", opt=PUBLIC)
    @post("/auth/logout", opt=LOGGED_IN)

A hot read route may ask for its user to be authenticated inside its own transaction
(``requires(p, in_handler_transaction=True)``): the guard then only checks the token's form and
the handler resolves a :class:`~server.domain.accounts.guards.DeferredPrincipal` as the first
thing in its transaction — the same check, one transaction less per request.
"""

from __future__ import annotations

from typing import Any

from shared.permissions import Permission

ACCESS_KEY = "access"
DEFERRED_KEY = "auth_in_handler_transaction"
PUBLIC_ACCESS = "public"
LOGGED_IN_ACCESS = "logged_in"

#: Anyone, without a token (health, login).
PUBLIC: dict[str, Any] = {ACCESS_KEY: PUBLIC_ACCESS}
#: Any logged-in user (logout, who am I).
LOGGED_IN: dict[str, Any] = {ACCESS_KEY: LOGGED_IN_ACCESS}


def requires(permission: Permission, *, in_handler_transaction: bool = False) -> dict[str, Any]:
    """The ``opt`` of a route that needs ``permission`` (checked by the guard, or — with
    ``in_handler_transaction`` — in the handler's transaction through ``DeferredPrincipal``)."""
    if in_handler_transaction:
        return {ACCESS_KEY: permission, DEFERRED_KEY: True}
    return {ACCESS_KEY: permission}


def declared_access(opt: dict[str, Any]) -> str | Permission | None:
    """What a route declared, or None (which the guard refuses)."""
    value = opt.get(ACCESS_KEY)
    if value in (PUBLIC_ACCESS, LOGGED_IN_ACCESS) or isinstance(value, Permission):
        return value
    return None
