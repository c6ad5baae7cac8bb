"""payment_webhooks: provider events already processed (replay protection)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, lg_code_column, utcnow


class PaymentWebhook(UUIDPrimaryKey, Base):
    """An event id seen from a provider; the same id a second time is refused."""

    __tablename__ = "payment_webhooks"
    __table_args__ = (sa.UniqueConstraint("lg_code", "provider", "event_id"),)

    lg_code: Mapped[str] = lg_code_column(index=False)
    """Municipality whose endpoint received it."""
    provider: Mapped[str] = mapped_column(sa.String(40), comment="決済事業者プラグイン")
    """Plugin id."""
    event_id: Mapped[str] = mapped_column(sa.String(100), comment="イベントID")
    """The provider's event id."""
    received_at: Mapped[datetime] = mapped_column(default=utcnow, comment="受信日時")
    """When it was processed."""
