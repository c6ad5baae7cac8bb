"""Backups domain (バックアップ): database and blobs in verified generations, restore, status."""

from __future__ import annotations

from typing import Any

__all__ = ["route_handlers"]


def __getattr__(name: str) -> Any:
    # Imported on demand: the CLI uses this domain's services without loading Litestar.
    if name == "route_handlers":
        from server.domain.backups.controllers import route_handlers

        return route_handlers
    raise AttributeError(name)
