"""``payjp``: card payments through PAY.JP (https://pay.jp), with the official SDK (``payjp``).

- The card never reaches this server: PAY.JP Checkout (JavaScript on the pay page, public key
  ``payjp_public_key``) turns it into a token ``tok_…``; :meth:`PayjpProvider.authorise_token`
  charges the token with ``capture=false`` (an authorisation valid ``payjp_charge_expiry_days``).
- Saved cards are PAY.JP customers: :meth:`PayjpProvider.save_card` makes ``cus_…`` from a token,
  :meth:`PayjpProvider.authorise` charges its default card. We keep only the customer id.
- ``capture`` captures (whole or part), ``void`` refunds an uncaptured charge (PAY.JP releases the
  authorisation), ``refund`` refunds a captured one (whole or part).
- Every POST carries an ``Idempotency-Key`` derived from our payment id and the operation; after a
  network error, 429 or 5xx the same request is sent again (``payjp_max_retries``) and PAY.JP
  answers the first result instead of charging twice.
- Webhooks: PAY.JP sends the dashboard's webhook token as ``X-Payjp-Webhook-Token`` (no HMAC);
  it is compared in constant time, the event's ``livemode`` must match the key's mode and its
  ``created`` time must be recent. Replays are refused by the caller (event ids are kept).
- Declines come back as :class:`PaymentDeclined` with a Japanese message per PAY.JP error code.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from shared.errors import DeviceError, InvalidInput, MadoguchiError, ServiceUnavailable
from shared.plugins import CheckResult

from .base import (
    Charge,
    PaymentDeclined,
    PaymentProvider,
    SavedCard,
    WebhookEvent,
    WebhookRejected,
    registry,
)

if TYPE_CHECKING:
    from server.config import Settings

log = logging.getLogger(__name__)

WEBHOOK_HEADER = "x-payjp-webhook-token"

#: PAY.JP error code → what the resident reads.
DECLINE_MESSAGES: dict[str, str] = {
    "card_declined": (
        "カード会社によって決済が承認されませんでした。"
        "カード会社にお問い合わせいただくか、別のカードをお試しください。"
    ),
    "expired_card": "カードの有効期限が切れています。別のカードをお試しください。",
    "invalid_number": "カード番号が正しくありません。入力内容を確認してください。",
    "incorrect_card_data": "カード番号・有効期限・セキュリティコードのいずれかが正しくありません。",
    "invalid_cvc": "セキュリティコードが正しくありません。",
    "invalid_expiration_date": "有効期限が正しくありません。",
    "invalid_expiry_month": "有効期限（月）が正しくありません。",
    "invalid_expiry_year": "有効期限（年）が正しくありません。",
    "unacceptable_brand": "このカードブランドはご利用いただけません。別のカードをお試しください。",
    "processing_error": "決済の処理中にエラーが発生しました。時間をおいてもう一度お試しください。",
    "card_flagged": "このカードは現在ご利用いただけません。カード会社にお問い合わせください。",
    "three_d_secure_incompleted": "本人認証（3Dセキュア）が完了しませんでした。もう一度お試しください。",
    "three_d_secure_failed": "本人認証（3Dセキュア）に失敗しました。別のカードをお試しください。",
    "token_already_used": "このカード情報はすでに使われています。もう一度カード情報を入力してください。",
    "invalid_token": "カード情報の有効期限が切れました。もう一度カード情報を入力してください。",
}
#: Operation-state errors (already captured, expired authorisation …) → staff-facing text.
STATE_MESSAGES: dict[str, str] = {
    "already_captured": "この決済はすでに確定（売上計上）されています。",
    "already_refunded": "この決済はすでに返金されています。",
    "charge_expired": "仮売上の有効期限が切れたため確定できません。改めて決済を依頼してください。",
    "capture_amount_gt_net": "確定する金額が仮売上の金額を超えています。",
    "refund_amount_gt_net": "返金額が決済額を超えています。",
    "invalid_refund_amount": "返金額が正しくありません。",
}


def _requestor(settings: Settings) -> Any:
    """An SDK requestor for our key, API base and timeout (no module-level state is changed)."""
    from payjp import api_requestor, http_client

    class _Client(http_client.RequestsClient):  # type: ignore[misc]
        def request(self, method: str, url: str, headers: Any, post_data: Any = None) -> tuple[bytes, int]:
            import requests

            try:
                result = requests.request(
                    method, url, headers=headers, data=post_data, timeout=settings.payjp_timeout_s
                )
                return result.content, result.status_code
            except Exception as exc:
                self._handle_request_error(exc)
                raise  # pragma: no cover - _handle_request_error always raises

    key = settings.payjp_secret_key.get_secret_value() if settings.payjp_secret_key else None
    return api_requestor.APIRequestor(key=key, client=_Client(), api_base=settings.payjp_api_base)


@registry.register
class PayjpProvider(PaymentProvider):
    plugin_id = "payjp"
    label = "PAY.JP（クレジットカード決済）"

    def __init__(self, secret: bytes, base_url: str, settings: Settings | None = None) -> None:
        if settings is None:
            from server.config import Settings

            settings = Settings()
        self.settings = settings
        self.base_url = base_url

    # -- calls -------------------------------------------------------------------------------------

    @property
    def livemode(self) -> bool:
        key = self.settings.payjp_secret_key
        return bool(key) and key.get_secret_value().startswith("sk_live_")  # type: ignore[union-attr]

    def _call(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """One API call through the SDK, retried with the same Idempotency-Key when that is safe.
        With ``missing_ok`` an unknown object (``invalid_id``, 404) answers None."""
        from payjp import error

        if not self.settings.payjp_secret_key:
            raise DeviceError(
                "PAY.JP の秘密鍵が設定されていません (payjp_secret_key)。", code="payment.unconfigured"
            )
        headers = {"Idempotency-Key": key} if key else None
        attempts = self.settings.payjp_max_retries + 1
        for attempt in range(attempts):
            try:
                response, _ = _requestor(self.settings).request(method, path, params, headers)
                return response
            except error.CardError as exc:
                raise self._declined(exc) from None
            except (error.APIConnectionError, error.APIError) as exc:
                status = getattr(exc, "http_status", None)
                retryable = (
                    isinstance(exc, error.APIConnectionError) or status in (429,) or (status or 0) >= 500
                )
                if not retryable or attempt == attempts - 1:
                    log.warning("PAY.JP %s %s failed: %s", method, path, type(exc).__name__)
                    raise ServiceUnavailable(
                        "決済サービス (PAY.JP) に接続できません。しばらくしてからもう一度お試しください。",
                        code="payment.unavailable",
                    ) from None
                time.sleep(min(4.0, 0.25 * 2**attempt))
            except error.AuthenticationError:
                raise DeviceError(
                    "PAY.JP の API キーが正しくありません。設定を確認してください。", code="payment.bad_key"
                ) from None
            except error.InvalidRequestError as exc:
                code = _error_code(exc)
                if missing_ok and (code == "invalid_id" or getattr(exc, "http_status", None) == 404):
                    return None
                if code in STATE_MESSAGES:
                    raise InvalidInput(STATE_MESSAGES[code], code=f"payment.{code}") from None
                if code in DECLINE_MESSAGES:
                    raise self._declined(exc) from None
                raise InvalidInput(
                    "決済サービスが要求を受け付けませんでした。管理者に連絡してください。",
                    code="payment.rejected",
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _declined(exc: Exception) -> PaymentDeclined:
        code = _error_code(exc)
        return PaymentDeclined(DECLINE_MESSAGES.get(code or "", PaymentDeclined.default_message))

    @staticmethod
    def _charge(data: Any, state: str | None = None) -> Charge:
        if data.get("refunded"):
            state = state or "refunded"
        elif data.get("captured"):
            state = state or "captured"
        return Charge(ref=str(data["id"]), state=state or "authorised")

    def _charge_params(self, payment_id: str, amount: int) -> dict[str, Any]:
        return {
            "amount": amount,
            "currency": "jpy",
            "capture": "false",
            "expiry_days": self.settings.payjp_charge_expiry_days,
            "metadata": {"payment_id": payment_id},
        }

    # -- the contract ------------------------------------------------------------------------------

    def start(self, *, payment_id: str, amount: int, return_url: str, customer: str | None) -> Charge:
        """PAY.JP has no hosted page of its own here: the resident stays on our pay page, where
        PAY.JP Checkout makes the token that :meth:`authorise_token` charges."""
        return Charge(ref="", state="requested", redirect_url=return_url)

    def authorise_token(self, *, payment_id: str, amount: int, token: str) -> Charge:
        """Authorise ``amount`` on the card behind a Checkout token (``capture=false``)."""
        if not token.startswith("tok_"):
            raise InvalidInput(
                "カード情報を受け取れませんでした。もう一度入力してください。", code="payment.token"
            )
        params = {**self._charge_params(payment_id, amount), "card": token}
        # One key per token: the same token again gets PAY.JP's first answer, while a new card
        # entered after a decline (a new token) is a new attempt.
        return self._charge(self._call("post", "/v1/charges", params, key=f"{payment_id}-{token}"))

    def save_card(self, *, token: str, payer_ref: str) -> SavedCard:
        """Keep the card for next time as a PAY.JP customer (``cus_…`` is all we keep)."""
        if not token.startswith("tok_"):
            raise InvalidInput(
                "カード情報を受け取れませんでした。もう一度入力してください。", code="payment.token"
            )
        data = self._call(
            "post",
            "/v1/customers",
            {"card": token, "metadata": {"payer": payer_ref}},
            key=f"{payer_ref}-customer-{token[-12:]}",
        )
        card = self._default_card(data)
        if card is None:
            raise InvalidInput(
                "カードを登録できませんでした。もう一度入力してください。", code="payment.token"
            )
        return card

    @staticmethod
    def _default_card(data: Any) -> SavedCard | None:
        cards = (data.get("cards") or {}).get("data") or []
        wanted = data.get("default_card")
        for card in cards:
            if card.get("id") == wanted or wanted is None:
                return SavedCard(
                    customer=str(data["id"]),
                    brand=str(card.get("brand") or ""),
                    last4=str(card.get("last4") or ""),
                    exp_month=int(card.get("exp_month") or 0),
                    exp_year=int(card.get("exp_year") or 0),
                )
        return None

    def card_of(self, customer: str) -> SavedCard | None:
        """``GET /v1/customers/{id}``: brand, last 4 and expiry of the default card."""
        if not customer.startswith("cus_"):
            return None
        data = self._call("get", f"/v1/customers/{customer}", missing_ok=True)
        return None if data is None else self._default_card(data)

    def delete_card(self, customer: str) -> None:
        """``DELETE /v1/customers/{id}``: the customer and its cards are gone at PAY.JP."""
        if customer.startswith("cus_"):
            self._call("delete", f"/v1/customers/{customer}", missing_ok=True)

    def authorise(self, *, payment_id: str, amount: int, customer: str) -> Charge:
        """Authorise on the saved (default) card of ``customer``."""
        params = {**self._charge_params(payment_id, amount), "customer": customer}
        return self._charge(self._call("post", "/v1/charges", params, key=f"{payment_id}-{customer}"))

    def capture(self, ref: str, amount: int) -> Charge:
        data = self._call("post", f"/v1/charges/{ref}/capture", {"amount": amount}, key=f"{ref}-capture")
        return self._charge(data, "captured")

    def void(self, ref: str) -> Charge:
        data = self._call("post", f"/v1/charges/{ref}/refund", {}, key=f"{ref}-void")
        return self._charge(data, "voided")

    def refund(self, ref: str, amount: int, *, refunded_before: int = 0) -> Charge:
        """Whole or part; a second partial refund of the same amount is a new Idempotency-Key."""
        data = self._call(
            "post",
            f"/v1/charges/{ref}/refund",
            {"amount": amount},
            key=f"{ref}-refund-{refunded_before}-{amount}",
        )
        return self._charge(data, "refunded")

    def parse_webhook(self, headers: dict[str, str], body: bytes) -> WebhookEvent:
        expected = self.settings.payjp_webhook_token
        given = {k.lower(): v for k, v in headers.items()}.get(WEBHOOK_HEADER, "")
        if expected is None or not expected.get_secret_value():
            raise WebhookRejected(
                "Webhook トークンが設定されていません。", code="payment.webhook_unconfigured"
            )
        if not given or not hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
            raise WebhookRejected("Webhook トークンが一致しません。")
        try:
            event = json.loads(body)
            data = event["data"]
            kind = {
                "charge.succeeded": "captured" if data.get("captured") else "authorised",
                "charge.captured": "captured",
                "charge.failed": "failed",
                "charge.refunded": "refunded",
            }.get(str(event["type"]))
            created = int(event["created"])
            livemode = bool(event.get("livemode"))
            result = WebhookEvent(
                event_id=str(event["id"]),
                payment_id=str((data.get("metadata") or {}).get("payment_id") or ""),
                kind=kind or "",
                ref=str(data["id"]),
                amount=int(data["amount"]),
            )
        except (ValueError, KeyError, TypeError):
            raise WebhookRejected("決済通知の形式が正しくありません。") from None
        if livemode != self.livemode:
            raise WebhookRejected("本番・テストの区別が設定と一致しない決済通知です。")
        if abs(time.time() - created) > self.settings.payjp_webhook_max_age_s:
            raise WebhookRejected("古い決済通知です。")
        if not result.kind:
            raise WebhookRejected("処理対象外の決済通知です。", code="payment.webhook_ignored")
        if not result.payment_id:
            raise WebhookRejected("対象の決済がありません。")
        return result

    def check(self) -> CheckResult:
        s = self.settings
        problems = []
        key = s.payjp_secret_key.get_secret_value() if s.payjp_secret_key else ""
        if not key.startswith(("sk_live_", "sk_test_")):
            problems.append("秘密鍵 (payjp_secret_key) が未設定か形式が違います")
        if not s.payjp_public_key.startswith(("pk_live_", "pk_test_")):
            problems.append("公開鍵 (payjp_public_key) が未設定か形式が違います")
        elif key and s.payjp_public_key.startswith("pk_live_") != key.startswith("sk_live_"):
            problems.append("公開鍵と秘密鍵の本番・テストが一致しません")
        if not s.payjp_webhook_token:
            problems.append("Webhook トークン (payjp_webhook_token) が未設定です")
        if problems:
            return CheckResult(False, "PAY.JP の設定に不足があります: " + "、".join(problems) + "。")
        try:
            account = self._call("get", "/v1/accounts")
        except MadoguchiError as exc:
            return CheckResult(False, exc.message)
        mode = "本番" if self.livemode else "テスト"
        return CheckResult(
            True,
            f"PAY.JP に接続できます（{mode}モード）。",
            {"account": str(account.get("id", "")), "api_base": s.payjp_api_base},
        )


def _error_code(exc: Exception) -> str | None:
    body = getattr(exc, "json_body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
        return str(code) if code else None
    return getattr(exc, "code", None)
