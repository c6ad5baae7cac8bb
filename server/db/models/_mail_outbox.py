"""mail_outbox: mails waiting for (or done with) the retrying SMTP sender."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, lg_code_column, utcnow


class OutboxMail(UUIDPrimaryKey, Base):
    """One mail. Written in the transaction of the change it reports, sent later with retries."""

    __tablename__ = "mail_outbox"
    __table_args__ = (sa.Index("ix_mail_outbox_due", "status", "next_attempt_at"),)

    lg_code: Mapped[str] = lg_code_column()
    """Municipality that sends it."""
    to_addr: Mapped[str] = mapped_column(sa.String(254), comment="宛先")
    """Recipient address."""
    subject: Mapped[str] = mapped_column(sa.String(300), comment="件名")
    """Subject line."""
    body: Mapped[str] = mapped_column(sa.Text, comment="本文")
    """Plain-text body."""
    event: Mapped[str] = mapped_column(sa.String(40), comment="契機")
    """What caused it (verification, submitted, reviewed …)."""
    application_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True, comment="申請")
    """The application it is about, if any."""
    status: Mapped[str] = mapped_column(sa.String(10), default="pending", comment="状態")
    """pending, sent or failed (gave up after the last attempt)."""
    attempts: Mapped[int] = mapped_column(default=0, comment="送信試行回数")
    """Delivery attempts so far."""
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, comment="次の送信時刻")
    """Not sent before this time (exponential back-off)."""
    last_error: Mapped[str | None] = mapped_column(sa.String(300), nullable=True, comment="直近のエラー")
    """Error class and SMTP code of the last failure (no addresses, no content)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="登録日時")
    """When it was queued."""
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True, comment="送信日時")
    """When the SMTP server accepted it."""
