"""The payment-provider contract (one family of :class:`shared.plugins.Registry`).

A charge goes ``authorise`` → ``capture`` (or ``void`` while only authorised) → ``refund`` (whole
or part). ``start`` begins a payment on the provider's hosted page; its outcome comes back as a
webhook, verified by :meth:`PaymentProvider.parse_webhook` (signature and age); the caller keeps
event ids to refuse a replayed one. Saved cards are the provider's: we keep only its customer id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.errors import MadoguchiError
from shared.plugins import Plugin, Registry


class PaymentDeclined(MadoguchiError):
    code = "payment.declined"
    http_status = 402
    default_message = "カードの決済ができませんでした。別のカードをお試しください。"


class WebhookRejected(MadoguchiError):
    code = "payment.webhook_rejected"
    http_status = 400
    default_message = "決済通知を受け付けられません。"


@dataclass(frozen=True)
class Charge:
    """The provider's view of a charge after a call."""

    ref: str
    state: str  # authorised, captured, voided, refunded, failed
    redirect_url: str | None = None


@dataclass(frozen=True)
class SavedCard:
    """What may be shown of a saved card (never its number): asked from the provider each time."""

    customer: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class WebhookEvent:
    """A verified provider event."""

    event_id: str
    payment_id: str  # our payment id, echoed back by the provider
    kind: str  # authorised, captured, failed, refunded
    ref: str
    amount: int


class PaymentProvider(Plugin):
    """What every card-payment provider offers."""

    #: Whether the provider can keep a card for the next payment (spec 002 6(1)④).
    supports_saved_cards: ClassVar[bool] = True

    def start(self, *, payment_id: str, amount: int, return_url: str, customer: str | None) -> Charge:
        """Begin a payment on the hosted page; ``redirect_url`` is where the resident goes."""
        raise NotImplementedError

    def authorise(self, *, payment_id: str, amount: int, customer: str) -> Charge:
        """Authorise ``amount`` on the saved card of ``customer`` (no page)."""
        raise NotImplementedError

    def save_card(self, *, token: str, payer_ref: str) -> SavedCard:
        """Keep the card behind a one-time ``token`` as a new customer of the provider."""
        raise NotImplementedError

    def card_of(self, customer: str) -> SavedCard | None:
        """The default card of ``customer`` (None when the provider has none)."""
        raise NotImplementedError

    def delete_card(self, customer: str) -> None:
        """Forget ``customer`` and its cards at the provider."""
        raise NotImplementedError

    def capture(self, ref: str, amount: int) -> Charge:
        raise NotImplementedError

    def void(self, ref: str) -> Charge:
        raise NotImplementedError

    def refund(self, ref: str, amount: int, *, refunded_before: int = 0) -> Charge:
        """Refund ``amount`` (whole or part) of a captured charge; may be called again for the rest
        (``refunded_before`` tells one partial refund from the next of the same amount)."""
        raise NotImplementedError

    def parse_webhook(self, headers: dict[str, str], body: bytes) -> WebhookEvent:
        """Verify signature and age of a webhook and return its event, or raise WebhookRejected."""
        raise NotImplementedError


registry: Registry[PaymentProvider] = Registry(
    "payment_provider", modules=("server.plugins.payments.sandbox", "server.plugins.payments.payjp")
)
