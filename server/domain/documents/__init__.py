"""Documents domain (文書の保存と受付の検索): archived attachments with SHA-256 in the blob store,
reception search and view, every search and view audited."""

from __future__ import annotations

from typing import Any

__all__ = ["route_handlers"]


def __getattr__(name: str) -> Any:
    # Imported on demand: the CLI uses this domain's services without loading Litestar.
    if name == "route_handlers":
        from server.domain.documents.controllers import route_handlers

        return route_handlers
    raise AttributeError(name)
