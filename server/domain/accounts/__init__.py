"""Accounts domain: users, groups, permissions, login sessions, network allow-list.

Exports ``route_handlers`` for the app; services for the CLI and other domains.
"""

from __future__ import annotations

from typing import Any

__all__ = ["route_handlers"]


def __getattr__(name: str) -> Any:
    # Imported on demand: the CLI uses this domain's services without loading Litestar.
    if name == "route_handlers":
        from server.domain.accounts.controllers import route_handlers

        return route_handlers
    raise AttributeError(name)
