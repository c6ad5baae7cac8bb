"""Payments: a charge per application through the configured provider plugin.

Prepayment: at submission the application waits in ``payment`` and the resident goes to the
provider's hosted page; the provider's (verified, never replayed) webhook ``authorised`` submits
it. Postpayment: staff set an amount, the resident gets a pay link by mail. Staff capture,
void and refund from the console. Card data never passes through here.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from datetime import UTC, datetime

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import Settings
from server.crypto import KeyRing
from server.db.models import Application, Payment, PaymentWebhook, Procedure, ResidentAccount
from server.domain import audit
from server.domain.eforms import services as eforms
from server.plugins.payments import PaymentProvider, SavedCard, WebhookEvent, WebhookRejected, registry
from shared.errors import Conflict, InvalidInput, NotFound
from shared.schemas.eform import MailEvent


def provider_for(settings: Settings, keys: KeyRing, provider_id: str | None = None) -> PaymentProvider:
    """The provider plugin (its secret derived from the key ring for the sandbox)."""
    pid = provider_id or settings.payment_provider
    secret = keys.search_hash(pid, purpose="payment_webhook").encode()
    return registry.create(pid, secret, settings.public_base_url, settings=settings)


async def payments_of(session: AsyncSession, app: Application) -> list[Payment]:
    return list(
        (
            await session.execute(
                sa.select(Payment)
                .where(Payment.application_id == app.id, Payment.lg_code == app.lg_code)
                .order_by(Payment.created_at)
            )
        )
        .scalars()
        .all()
    )


async def request(
    session: AsyncSession, settings: Settings, app: Application, kind: str, amount: int
) -> tuple[Payment, str]:
    """A new payment waiting for the resident; returns it and the secret of its pay link."""
    if amount <= 0:
        raise InvalidInput("金額は1円以上で入力してください。", field="amount")
    for p in await payments_of(session, app):
        if p.state == "requested":
            p.state = "voided"
    secret = secrets.token_urlsafe(24)
    payment = Payment(
        id=uuid.uuid4(),
        lg_code=app.lg_code,
        application_id=app.id,
        provider=settings.payment_provider,
        kind=kind,
        amount=amount,
        state="requested",
        refunded_amount=0,
        access_hash=eforms.sha256(secret),
    )
    session.add(payment)
    await session.flush()
    return payment, secret


def pay_url(settings: Settings, payment: Payment, secret: str) -> str:
    return f"{settings.public_base_url}/portal/{payment.lg_code}/pay/{payment.id}?key={secret}"


async def for_payer(
    session: AsyncSession, lg_code: str, payment_id: uuid.UUID, secret: str | None
) -> Payment:
    payment = await session.get(Payment, payment_id)
    if (
        payment is None
        or payment.lg_code != lg_code
        or not secret
        or not hmac.compare_digest(payment.access_hash, eforms.sha256(secret))
    ):
        raise NotFound("お支払いのページが見つかりません。", code="payment.not_found")
    return payment


async def request_postpayment(
    session: AsyncSession,
    settings: Settings,
    actor: audit.Actor,
    app: Application,
    row: Procedure,
    amount: int,
) -> Payment:
    """Staff set the fee; the resident gets a mail with the pay link."""
    if app.status not in ("submitted", "reviewed"):
        raise Conflict("この状態の申請には決済を依頼できません。", code="payment.bad_state")
    payment, secret = await request(session, settings, app, "postpayment", amount)
    app.amount = amount
    await eforms.tell_resident(
        session, settings, app, row, MailEvent.payment_requested, pay_url=pay_url(settings, payment, secret)
    )
    await audit.record(
        session,
        lg_code=app.lg_code,
        actor=actor,
        action="payment_request_success",
        object_type="payment",
        object_id=payment.id,
        details={"amount": amount, "application": str(app.id)},
    )
    return payment


async def _record_authorisation(
    session: AsyncSession,
    settings: Settings,
    payment: Payment,
    ref: str,
    actor: audit.Actor,
    *,
    saved_card: bool = False,
) -> None:
    """A charge the resident just authorised (new or saved card): mark it, then audit it."""
    app = await session.get(Application, payment.application_id)
    assert app is not None
    await _authorised(session, settings, app, payment, ref)
    details: dict[str, object] = {"amount": payment.amount}
    if saved_card:
        details["saved_card"] = True
    await audit.record(
        session,
        lg_code=payment.lg_code,
        actor=actor,
        action="payment_authorised_success",
        object_type="payment",
        object_id=payment.id,
        details=details,
    )


async def _authorised(
    session: AsyncSession, settings: Settings, app: Application, payment: Payment, ref: str
) -> None:
    payment.state, payment.provider_ref = "authorised", ref
    if payment.kind == "prepayment" and app.status == "payment":
        row = await session.get(Procedure, app.procedure_id)
        assert row is not None
        await eforms.submit(session, settings, app, row, paid=True)


async def pay_with_token(
    session: AsyncSession,
    settings: Settings,
    provider: PaymentProvider,
    payment: Payment,
    token: str,
    actor: audit.Actor,
) -> Payment:
    """A provider whose card form runs in the browser (PAY.JP Checkout) posted its token: authorise
    now (the provider's webhook for the same charge later finds the payment authorised)."""
    if payment.state != "requested":
        raise Conflict("このお支払いは完了しています。", code="payment.bad_state")
    authorise_token = getattr(provider, "authorise_token", None)
    if authorise_token is None:
        raise NotFound()
    charge = await anyio.to_thread.run_sync(
        lambda: authorise_token(payment_id=str(payment.id), amount=payment.amount, token=token)
    )
    await _record_authorisation(session, settings, payment, charge.ref, actor)
    return payment


# ---------------------------------------------------------------- saved cards (spec 002 6(1)④)


async def saved_card(settings: Settings, keys: KeyRing, account: ResidentAccount) -> SavedCard | None:
    """The account's saved card as the provider describes it now (None: none saved)."""
    if not account.payment_customer or not account.payment_provider:
        return None
    provider = provider_for(settings, keys, account.payment_provider)
    customer = account.payment_customer
    return await anyio.to_thread.run_sync(lambda: provider.card_of(customer))


async def save_card(
    session: AsyncSession,
    settings: Settings,
    keys: KeyRing,
    account: ResidentAccount,
    token: str,
    actor: audit.Actor,
) -> SavedCard:
    """Keep the card behind ``token`` at the configured provider; a card saved before is deleted
    there (replacing = a new customer, then the old one removed)."""
    provider = provider_for(settings, keys)
    card = await anyio.to_thread.run_sync(
        lambda: provider.save_card(token=token, payer_ref=f"{account.lg_code}-{account.id}")
    )
    replaced = bool(account.payment_customer)
    if account.payment_customer and account.payment_provider:
        old = provider_for(settings, keys, account.payment_provider)
        old_customer = account.payment_customer
        await anyio.to_thread.run_sync(lambda: old.delete_card(old_customer))
    account.payment_provider, account.payment_customer = provider.plugin_id, card.customer
    await audit.record(
        session,
        lg_code=account.lg_code,
        actor=actor,
        action="payment_card_save_success",
        object_type="resident_account",
        object_id=account.id,
        details={
            "provider": provider.plugin_id,
            "brand": card.brand,
            "last4": card.last4,
            "replaced": replaced,
        },
    )
    return card


async def delete_card(
    session: AsyncSession, settings: Settings, keys: KeyRing, account: ResidentAccount, actor: audit.Actor
) -> None:
    """Forget the saved card here and at the provider."""
    if not account.payment_customer or not account.payment_provider:
        raise Conflict("登録されているカードはありません。", code="payment.no_saved_card")
    provider = provider_for(settings, keys, account.payment_provider)
    customer = account.payment_customer
    await anyio.to_thread.run_sync(lambda: provider.delete_card(customer))
    account.payment_provider = account.payment_customer = None
    await audit.record(
        session,
        lg_code=account.lg_code,
        actor=actor,
        action="payment_card_delete_success",
        object_type="resident_account",
        object_id=account.id,
        details={"provider": provider.plugin_id},
    )


async def pay_with_saved_card(
    session: AsyncSession,
    settings: Settings,
    keys: KeyRing,
    payment: Payment,
    account: ResidentAccount,
    actor: audit.Actor,
) -> Payment:
    """Authorise the payment on the account's saved card (no card page)."""
    if payment.state != "requested":
        raise Conflict("このお支払いは完了しています。", code="payment.bad_state")
    if account.payment_provider != payment.provider or not account.payment_customer:
        raise Conflict(
            "登録済みのカードはこのお支払いには使えません。カード情報を入力してください。",
            code="payment.no_saved_card",
        )
    provider = provider_for(settings, keys, payment.provider)
    customer = account.payment_customer
    charge = await anyio.to_thread.run_sync(
        lambda: provider.authorise(payment_id=str(payment.id), amount=payment.amount, customer=customer)
    )
    await _record_authorisation(session, settings, payment, charge.ref, actor, saved_card=True)
    return payment


async def pay_and_save_card(
    session: AsyncSession,
    settings: Settings,
    keys: KeyRing,
    payment: Payment,
    account: ResidentAccount,
    token: str,
    actor: audit.Actor,
) -> Payment:
    """First payment with 「このカードを次回も使う」: the card behind the one-time ``token`` becomes
    the account's saved card at the provider (replacing one saved before), then the payment is
    authorised on it — one token, as PAY.JP wants (a token is used once: customer, then charge)."""
    if payment.state != "requested":
        raise Conflict("このお支払いは完了しています。", code="payment.bad_state")
    if payment.provider != settings.payment_provider:
        raise Conflict(
            "このお支払いではカードを登録できません。カードを登録せずにお支払いください。",
            code="payment.no_saved_card",
        )
    card = await save_card(session, settings, keys, account, token, actor)
    provider = provider_for(settings, keys, payment.provider)
    charge = await anyio.to_thread.run_sync(
        lambda: provider.authorise(payment_id=str(payment.id), amount=payment.amount, customer=card.customer)
    )
    await _record_authorisation(session, settings, payment, charge.ref, actor, saved_card=True)
    return payment


async def handle_webhook(
    session: AsyncSession,
    settings: Settings,
    provider: PaymentProvider,
    lg_code: str,
    headers: dict[str, str],
    body: bytes,
) -> WebhookEvent:
    """Verify, refuse replays, and apply one provider event."""
    event = provider.parse_webhook(headers, body)
    try:
        async with session.begin_nested():
            session.add(
                PaymentWebhook(
                    id=uuid.uuid4(),
                    lg_code=lg_code,
                    provider=provider.plugin_id,
                    event_id=event.event_id,
                    received_at=datetime.now(UTC),
                )
            )
            await session.flush()
    except IntegrityError:
        raise WebhookRejected("この決済通知は処理済みです。", code="payment.webhook_replayed") from None
    try:
        payment = await session.get(Payment, uuid.UUID(event.payment_id))
    except ValueError:
        payment = None
    if payment is None or payment.lg_code != lg_code or payment.provider != provider.plugin_id:
        raise WebhookRejected("対象の決済がありません。")
    if event.amount != payment.amount:
        raise WebhookRejected("金額が一致しません。")
    app = await session.get(Application, payment.application_id) if payment.application_id else None
    if app is None:  # the application was deleted by the retention purge; the payment stays
        raise WebhookRejected("対象の申請は保存期限を過ぎて削除済みです。")
    if event.kind == "authorised" and payment.state == "requested":
        await _authorised(session, settings, app, payment, event.ref)
    elif event.kind == "failed" and payment.state == "requested":
        payment.state = "failed"
    await audit.record(
        session,
        lg_code=lg_code,
        actor=audit.SYSTEM,
        action=f"payment_{event.kind}_success",
        object_type="payment",
        object_id=payment.id,
        details={"event": event.event_id[:100]},
    )
    return event


async def settle(
    session: AsyncSession,
    settings: Settings,
    keys: KeyRing,
    actor: audit.Actor,
    app: Application,
    row: Procedure,
    payment: Payment,
    operation: str,
    amount: int | None = None,
) -> Payment:
    """Staff: ``capture`` an authorised charge, ``void`` it, or ``refund`` a captured one — whole,
    or ``amount`` yen of it (several partial refunds, never more than captured minus refunded)."""
    provider = provider_for(settings, keys, payment.provider)
    ref = payment.provider_ref or ""
    done = payment.amount
    if operation == "capture" and payment.state == "authorised":
        payment.state = provider.capture(ref, payment.amount).state
    elif operation == "void" and payment.state == "authorised":
        payment.state = provider.void(ref).state
    elif operation == "refund" and payment.state == "captured":
        left = payment.amount - payment.refunded_amount
        done = left if amount is None else amount
        if done <= 0:
            raise InvalidInput(
                "返金額は1円以上で入力してください。", field="amount", code="payment.refund_amount"
            )
        if done > left:
            raise InvalidInput(
                f"返金できるのは残り{left:,}円までです（決済額{payment.amount:,}円、返金済み"
                f"{payment.refunded_amount:,}円）。",
                field="amount",
                code="payment.refund_too_much",
            )
        provider.refund(ref, done, refunded_before=payment.refunded_amount)
        payment.refunded_amount += done
        if payment.refunded_amount >= payment.amount:
            payment.state = "refunded"
        await eforms.tell_resident(session, settings, app, row, MailEvent.refunded, amount=f"{done:,}")
    else:
        raise Conflict("この決済の状態ではその操作はできません。", code="payment.bad_state")
    await audit.record(
        session,
        lg_code=app.lg_code,
        actor=actor,
        action=f"payment_{operation}_success",
        object_type="payment",
        object_id=payment.id,
        details={"amount": done, "refunded_total": payment.refunded_amount, "captured": payment.amount},
    )
    return payment


def parse_yen(text: str, field: str = "amount") -> int:
    """A yen amount typed by staff (全角 digits, commas and a trailing 円 allowed); Japanese errors."""
    import unicodedata

    cleaned = unicodedata.normalize("NFKC", text).strip().replace(",", "").removesuffix("円").strip()
    if not cleaned:
        raise InvalidInput("金額を入力してください。", field=field, code="payment.amount_missing")
    if len(cleaned) > 12 or not cleaned.lstrip("-").isdigit():
        raise InvalidInput(
            "金額は半角または全角の数字で入力してください。", field=field, code="payment.amount_format"
        )
    return int(cleaned)
