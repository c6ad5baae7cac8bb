"""Payment providers: the contract every card-payment provider implements, and its registry.

Card numbers never reach this server: the provider's hosted page (or its JavaScript) takes them
and hands back a token. ``sandbox`` is a provider whose hosted page lives on this server, for the
demo and the tests; no money moves.
"""

from __future__ import annotations

from server.plugins.payments.base import (
    Charge,
    PaymentDeclined,
    PaymentProvider,
    SavedCard,
    WebhookEvent,
    WebhookRejected,
    registry,
)

__all__ = [
    "Charge",
    "PaymentDeclined",
    "PaymentProvider",
    "SavedCard",
    "WebhookEvent",
    "WebhookRejected",
    "registry",
]
