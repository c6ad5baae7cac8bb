"""Payments of online applications: pre- and post-payment, capture, void, refund, webhooks."""

from __future__ import annotations

route_handlers: list[object] = []
