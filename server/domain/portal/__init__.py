"""Resident portal (住民向けポータル): procedure guide, forms, 一時保存, confirmation, status, pay.

Server-rendered HTML that works without JavaScript; ``static/portal.js`` only adds convenience.
"""

from __future__ import annotations

from typing import Any

__all__ = ["route_handlers"]


def __getattr__(name: str) -> Any:
    if name == "route_handlers":
        from server.domain.portal.controllers import route_handlers

        return route_handlers
    raise AttributeError(name)
