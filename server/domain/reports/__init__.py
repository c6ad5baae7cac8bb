"""Reports domain (運用報告・監査分析). So far: the audit analysis for the PIA as CSV (CLI)."""

from __future__ import annotations

route_handlers: list[object] = []
