"""The mail outbox: :func:`enqueue` in the transaction of the change, :func:`send_due` later.

A mail is written to ``mail_outbox`` together with the change it reports, so it is sent if and
only if the change committed. :func:`send_due` delivers the mails that are due through the
configured transport, one transaction per mail; a failure is retried with exponential back-off
(1, 2, 4 … minutes, at most an hour) up to ``mail_max_attempts``; a permanent SMTP refusal stops
at once. Log lines and ``last_error`` never carry addresses or content.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import Settings
from server.db.engine import Database
from server.db.models import Municipality, OutboxMail
from server.plugins.notifications import MailTransport, TransportError, open_transport

log = logging.getLogger(__name__)


class _SafeDict(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(template: str, values: Mapping[str, Any]) -> str:
    """``template`` with ``{name}`` placeholders filled; unknown ones stay as they are."""
    try:
        return template.format_map(_SafeDict(values))
    except (ValueError, IndexError, AttributeError):
        return template


def mail_row(
    *,
    lg_code: str,
    to: str,
    subject: str,
    body: str,
    event: str,
    application_id: uuid.UUID | None = None,
) -> OutboxMail:
    """A mail for the outbox, not yet added to any session (see :func:`enqueue`)."""
    now = datetime.now(UTC)
    return OutboxMail(
        id=uuid.uuid4(),
        lg_code=lg_code,
        to_addr=to,
        subject=subject.replace("\r", " ").replace("\n", " ")[:300],
        body=body,
        event=event,
        application_id=application_id,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


async def enqueue(
    session: AsyncSession,
    *,
    lg_code: str,
    to: str,
    subject: str,
    body: str,
    event: str,
    application_id: uuid.UUID | None = None,
) -> OutboxMail:
    """Queue a mail in the caller's transaction."""
    mail = mail_row(
        lg_code=lg_code, to=to, subject=subject, body=body, event=event, application_id=application_id
    )
    session.add(mail)
    await session.flush()
    return mail


#: The outbox row of :func:`mail_row` in psycopg's placeholders, for a pipelined transaction's last
#: statements (``server.db.engine.pipelined``); the ORM's flush inserts the same columns.
INSERT_SQL = (
    "INSERT INTO mail_outbox (id, lg_code, to_addr, subject, body, event, application_id, status,"
    " attempts, next_attempt_at, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def insert_params(mail: OutboxMail) -> tuple[Any, ...]:
    """The values of :data:`INSERT_SQL` for ``mail``."""
    return (
        mail.id,
        mail.lg_code,
        mail.to_addr,
        mail.subject,
        mail.body,
        mail.event,
        mail.application_id,
        mail.status,
        mail.attempts,
        mail.next_attempt_at,
        mail.created_at,
    )


def _message(mail: OutboxMail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.to_addr
    msg["Subject"] = mail.subject
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] or None)
    msg.set_content(mail.body, charset="utf-8")
    return msg


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


async def send_due(
    db: Database, settings: Settings, *, transport: MailTransport | None = None, limit: int = 100
) -> tuple[int, int]:
    """Send due mails of every municipality; returns (sent, failed attempts)."""
    transport = transport or open_transport(settings)
    now = datetime.now(UTC)
    async with db.unbound() as session:
        lg_codes = list((await session.execute(sa.select(Municipality.lg_code))).scalars())
    due: list[tuple[uuid.UUID, str]] = []
    for lg in lg_codes:  # row-level security: each municipality's outbox in its own binding
        async with db.tenant(lg) as session:
            due.extend(
                (row[0], lg)
                for row in await session.execute(
                    sa.select(OutboxMail.id)
                    .where(
                        OutboxMail.lg_code == lg,
                        OutboxMail.status == "pending",
                        OutboxMail.next_attempt_at <= now,
                    )
                    .order_by(OutboxMail.next_attempt_at)
                    .limit(limit)
                )
            )
    sent = failed = 0
    for mail_id, lg_code in due:
        async with db.tenant(lg_code) as session:
            mail = await session.get(OutboxMail, mail_id, with_for_update=db.dialect == "postgresql")
            if mail is None or mail.status != "pending":
                continue
            mail.attempts += 1
            try:
                await anyio.to_thread.run_sync(transport.send, _message(mail, settings.mail_from))
            except TransportError as exc:
                failed += 1
                mail.last_error = exc.message[:300]
                if exc.permanent or mail.attempts >= settings.mail_max_attempts:
                    mail.status = "failed"
                    log.warning("mail %s gave up after %d attempts", mail.id, mail.attempts)
                else:
                    mail.next_attempt_at = datetime.now(UTC) + _backoff(mail.attempts)
                continue
            mail.status = "sent"
            mail.sent_at = datetime.now(UTC)
            mail.last_error = None
            sent += 1
    return sent, failed
