"""Retention domain (保存期限と削除): retention classes per document class and municipality, and
purge jobs that delete what has expired and keep a deletion record (API, CLI, supervisor tab)."""

from __future__ import annotations

from typing import Any

__all__ = ["route_handlers"]


def __getattr__(name: str) -> Any:
    # Imported on demand: the CLI uses this domain's services without loading Litestar.
    if name == "route_handlers":
        from server.domain.retention.controllers import route_handlers

        return route_handlers
    raise AttributeError(name)
