"""Reports domain (運用報告・監査分析): the operation report (API, CLI; JSON, CSV, PDF with charts)
and the audit analysis for the PIA as CSV (CLI)."""

from __future__ import annotations

from typing import Any

__all__ = ["route_handlers"]


def __getattr__(name: str) -> Any:
    # Imported on demand: the CLI uses this domain's services without loading Litestar.
    if name == "route_handlers":
        from server.domain.reports.controllers import route_handlers

        return route_handlers
    raise AttributeError(name)
