"""The outbox over real SMTP: delivery to aiosmtpd on localhost, retries while it is down, give-up."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from server.db.models import OutboxMail
from server.domain import notifications
from server.plugins.notifications import open_transport
from tests.conftest import DEMO_LG_CODE, free_port


class Collect(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[email.message.Message] = []

    def handle_message(self, message: email.message.Message) -> None:
        self.messages.append(message)


@pytest.fixture
def smtp_server():
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


async def queue(api, subject="件名", to="hanako@example.jp"):
    async with api.db.tenant(DEMO_LG_CODE) as s:
        await notifications.enqueue(
            s, lg_code=DEMO_LG_CODE, to=to, subject=subject, body="本文です。\n葛󠄀飾区", event="test"
        )


async def test_mail_arrives_at_a_real_smtp_server(eapi, smtp_server):
    """A queued mail is delivered over SMTP in UTF-8 and marked sent."""
    controller, handler = smtp_server
    settings = eapi.settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": controller.port})
    await queue(eapi, "【住民票】申請を受け付けました")
    sent, failed = await notifications.send_due(
        eapi.db, settings, transport=open_transport(settings.model_copy(update={"mail_transport": "smtp"}))
    )
    assert (sent, failed) == (1, 0)
    msg = handler.messages[0]
    assert (
        str(email.header.make_header(email.header.decode_header(msg["Subject"])))
        == "【住民票】申請を受け付けました"
    )
    assert "葛󠄀飾区" in msg.get_payload(decode=True).decode("utf-8")
    async with eapi.db.unbound() as s:
        assert (await s.execute(sa.select(OutboxMail.status))).scalar_one() == "sent"


async def test_mail_is_retried_while_smtp_is_down_then_delivered(eapi, smtp_server):
    """With the server unreachable the mail waits with back-off; once up it is delivered once."""
    controller, handler = smtp_server
    down = eapi.settings.model_copy(
        update={"mail_transport": "smtp", "smtp_host": "127.0.0.1", "smtp_port": free_port()}
    )
    await queue(eapi)
    assert await notifications.send_due(eapi.db, down) == (0, 1)
    async with eapi.db.unbound() as s:
        mail = (await s.execute(sa.select(OutboxMail))).scalar_one()
        assert mail.status == "pending" and mail.attempts == 1 and mail.next_attempt_at > datetime.now(UTC)
        assert "example.jp" not in (mail.last_error or "")
    up = down.model_copy(update={"smtp_port": controller.port})
    assert await notifications.send_due(eapi.db, up) == (0, 0)  # not due yet
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        await s.execute(
            sa.update(OutboxMail).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert await notifications.send_due(eapi.db, up) == (1, 0)
    assert await notifications.send_due(eapi.db, up) == (0, 0)
    assert len(handler.messages) == 1


async def test_mail_gives_up_after_the_last_attempt(eapi):
    """After mail_max_attempts failures the mail is marked failed and no longer tried."""
    down = eapi.settings.model_copy(
        update={
            "mail_transport": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": free_port(),
            "mail_max_attempts": 2,
        }
    )
    await queue(eapi)
    for _ in range(2):
        async with eapi.db.tenant(DEMO_LG_CODE) as s:
            await s.execute(
                sa.update(OutboxMail).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        await notifications.send_due(eapi.db, down)
    async with eapi.db.unbound() as s:
        assert (await s.execute(sa.select(OutboxMail.status))).scalar_one() == "failed"


def test_placeholders_fill_and_unknown_ones_stay():
    """Mail texts fill {name} placeholders; unknown or malformed ones are left as written."""
    assert (
        notifications.render("{title} {reference} {nope}", {"title": "住民票", "reference": "E-1"})
        == "住民票 E-1 {nope}"
    )
    assert notifications.render("{0.__class__}", {}) == "{0.__class__}"
