"""Notifications: the mail outbox (queued in the caller's transaction) and its retrying sender."""

from __future__ import annotations

from server.domain.notifications.outbox import enqueue, render, send_due

__all__ = ["enqueue", "render", "send_due"]
