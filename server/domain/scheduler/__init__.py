"""Scheduler domain (定期実行): the built-in scheduler that takes the daily backup and stores the
monthly operation report, started with the app. No routes of its own: the backup status and the
stored reports show its results."""

from __future__ import annotations

route_handlers: list[object] = []
