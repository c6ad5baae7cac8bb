"""``sandbox``: a test provider whose hosted card page is served by this server (no money moves).

Test cards: ``4242 4242 4242 4242`` succeeds, ``4000 0000 0000 0002`` is declined. Webhooks are
signed like the real providers do: ``X-Sandbox-Signature: t=<unix time>,v1=<HMAC-SHA256 of
"t.body">``; events older than five minutes are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import date

from server.plugins.payments.base import (
    Charge,
    PaymentDeclined,
    PaymentProvider,
    SavedCard,
    WebhookEvent,
    WebhookRejected,
    registry,
)
from shared.errors import InvalidInput

SIGNATURE_HEADER = "x-sandbox-signature"
TOLERANCE_SECONDS = 300
GOOD_CARD = "4242424242424242"
#: First digit → brand shown for a saved test card.
BRANDS = {"4": "Visa", "5": "MasterCard", "3": "JCB"}
DECLINED_CARD = "4000000000000002"


@registry.register
class SandboxProvider(PaymentProvider):
    plugin_id = "sandbox"
    label = "サンドボックス (テスト用カード決済)"
    is_fake = True

    def __init__(self, secret: bytes, base_url: str, settings: object | None = None) -> None:
        self.secret = secret
        self.base_url = base_url

    # -- the hosted page's side ---------------------------------------------------------------

    def pay_with_card(self, *, payment_id: str, amount: int, card_number: str) -> tuple[bytes, str]:
        """What the hosted page does with a typed card: the signed webhook (body, signature)."""
        digits = "".join(ch for ch in card_number if ch.isdigit())
        if digits == DECLINED_CARD or len(digits) not in (15, 16):
            raise PaymentDeclined()
        kind = "authorised" if digits == GOOD_CARD else "failed"
        return self.signed_event(payment_id=payment_id, kind=kind, amount=amount)

    def signed_event(
        self, *, payment_id: str, kind: str, amount: int, event_id: str | None = None, at: int | None = None
    ) -> tuple[bytes, str]:
        body = json.dumps(
            {
                "id": event_id or f"evt_{uuid.uuid4().hex}",
                "type": kind,
                "payment_id": payment_id,
                "charge": f"sb_ch_{payment_id.replace('-', '')[:24]}",
                "amount": amount,
            }
        ).encode()
        t = at if at is not None else int(time.time())
        mac = hmac.new(self.secret, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        return body, f"t={t},v1={mac}"

    def tokenise(self, *, card_number: str, exp_month: str, exp_year: str) -> str:
        """What the hosted card page hands back for a card to keep: a token without the number."""
        digits = "".join(ch for ch in card_number if ch.isdigit())
        if digits == DECLINED_CARD or len(digits) not in (15, 16):
            raise PaymentDeclined(
                "このカードは登録できません。カード番号を確認するか、別のカードをお試しください。"
            )
        try:
            month, year = int(exp_month), int(exp_year)
        except ValueError:
            raise InvalidInput("有効期限は数字で入力してください。", field="exp_month") from None
        if year < 100:
            year += 2000
        today = date.today()
        if not 1 <= month <= 12 or not today.year <= year <= today.year + 20:
            raise InvalidInput("有効期限が正しくありません。", field="exp_month")
        if (year, month) < (today.year, today.month):
            raise InvalidInput("カードの有効期限が切れています。", field="exp_month")
        return f"sb_tok_{BRANDS.get(digits[0], 'Other')}_{digits[-4:]}_{month:02d}_{year}"

    def _mac(self, text: str) -> str:
        return hmac.new(self.secret, text.encode(), hashlib.sha256).hexdigest()[:16]

    # -- the contract ---------------------------------------------------------------------------

    def start(self, *, payment_id: str, amount: int, return_url: str, customer: str | None) -> Charge:
        return Charge(ref="", state="requested", redirect_url=return_url)

    def authorise(self, *, payment_id: str, amount: int, customer: str) -> Charge:
        return Charge(ref=f"sb_ch_{payment_id.replace('-', '')[:24]}", state="authorised")

    def save_card(self, *, token: str, payer_ref: str) -> SavedCard:
        parts = token.split("_")
        if len(parts) != 6 or parts[:2] != ["sb", "tok"]:
            raise InvalidInput(
                "カード情報を受け取れませんでした。もう一度入力してください。", code="payment.token"
            )
        body = "_".join(parts[2:]) + f"_{uuid.uuid4().hex[:8]}"
        card = self.card_of(f"sb_cus_{body}_{self._mac(body)}")
        assert card is not None
        return card

    def card_of(self, customer: str) -> SavedCard | None:
        """The sandbox keeps nothing: the customer id carries the card's brand, last 4 and expiry
        under a MAC of the sandbox secret."""
        parts = customer.split("_")
        if len(parts) != 8 or parts[:2] != ["sb", "cus"]:
            return None
        body = "_".join(parts[2:7])
        if not hmac.compare_digest(self._mac(body), parts[7]):
            return None
        brand, last4, month, year, _ = parts[2:7]
        return SavedCard(
            customer=customer, brand=brand, last4=last4, exp_month=int(month), exp_year=int(year)
        )

    def delete_card(self, customer: str) -> None:
        return None

    def capture(self, ref: str, amount: int) -> Charge:
        return Charge(ref=ref, state="captured")

    def void(self, ref: str) -> Charge:
        return Charge(ref=ref, state="voided")

    def refund(self, ref: str, amount: int, *, refunded_before: int = 0) -> Charge:
        return Charge(ref=ref, state="refunded")

    def parse_webhook(self, headers: dict[str, str], body: bytes) -> WebhookEvent:
        parts = dict(p.split("=", 1) for p in headers.get(SIGNATURE_HEADER, "").split(",") if "=" in p)
        try:
            t = int(parts["t"])
            given = parts["v1"]
        except (KeyError, ValueError):
            raise WebhookRejected("署名がありません。") from None
        expected = hmac.new(self.secret, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, given):
            raise WebhookRejected("署名が一致しません。")
        if abs(time.time() - t) > TOLERANCE_SECONDS:
            raise WebhookRejected("古い決済通知です。")
        try:
            data = json.loads(body)
            return WebhookEvent(
                event_id=str(data["id"]),
                payment_id=str(data["payment_id"]),
                kind=str(data["type"]),
                ref=str(data["charge"]),
                amount=int(data["amount"]),
            )
        except (ValueError, KeyError, TypeError):
            raise WebhookRejected("決済通知の形式が正しくありません。") from None
