"""Residents domain (住民記録連携): CSV import of the core system's register (full load and daily
difference, Shift_JIS or UTF-8, rejected rows reported), search for prefill, export of confirmed
異動 in the same layout."""

from __future__ import annotations

from typing import Any

__all__ = ["route_handlers"]


def __getattr__(name: str) -> Any:
    # Imported on demand: the CLI uses this domain's services without loading Litestar.
    if name == "route_handlers":
        from server.domain.residents.controllers import route_handlers

        return route_handlers
    raise AttributeError(name)
