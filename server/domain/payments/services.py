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
from server.db.models import Application, Payment, PaymentWebhook, Procedure
from server.domain import audit
from server.domain.eforms import services as eforms
from server.plugins.payments import PaymentProvider, WebhookEvent, WebhookRejected, registry
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
    app = await session.get(Application, payment.application_id)
    assert app is not None
    await _authorised(session, settings, app, payment, charge.ref)
    await audit.record(
        session,
        lg_code=payment.lg_code,
        actor=actor,
        action="payment_authorised_success",
        object_type="payment",
        object_id=payment.id,
        details={"amount": payment.amount},
    )
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
    app = await session.get(Application, payment.application_id)
    assert app is not None
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
) -> Payment:
    """Staff: ``capture`` an authorised charge, ``void`` it, or ``refund`` a captured one."""
    provider = provider_for(settings, keys, payment.provider)
    ref = payment.provider_ref or ""
    if operation == "capture" and payment.state == "authorised":
        payment.state = provider.capture(ref, payment.amount).state
    elif operation == "void" and payment.state == "authorised":
        payment.state = provider.void(ref).state
    elif operation == "refund" and payment.state == "captured":
        payment.state = provider.refund(ref, payment.amount).state
        payment.refunded_amount = payment.amount
        await eforms.tell_resident(session, settings, app, row, MailEvent.refunded)
    else:
        raise Conflict("この決済の状態ではその操作はできません。", code="payment.bad_state")
    await audit.record(
        session,
        lg_code=app.lg_code,
        actor=actor,
        action=f"payment_{operation}_success",
        object_type="payment",
        object_id=payment.id,
        details={"amount": payment.amount},
    )
    return payment
