"""Notifications: the mail outbox (queued in the caller's transaction) and its retrying sender."""

from __future__ import annotations

from server.domain.notifications.outbox import INSERT_SQL, enqueue, insert_params, mail_row, render, send_due

__all__ = ["INSERT_SQL", "enqueue", "insert_params", "mail_row", "render", "send_due"]
