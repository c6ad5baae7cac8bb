"""payments: one charge of an application through a payment provider plugin."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, lg_code_column, utcnow


class Payment(UUIDPrimaryKey, Base):
    """A payment. Card data never reaches this server: the provider keeps cards and tokens."""

    __tablename__ = "payments"

    lg_code: Mapped[str] = lg_code_column()
    """Municipality that is paid."""
    # Typed as always set: code reaches a payment through its application or its pay link, and
    # neither exists any more for the payments whose link the purge emptied.
    application_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("eform_applications.id"), index=True, nullable=True, comment="申請"
    )
    """The application it pays for; NULL once the retention purge deleted the application (the
    payment itself stays for the accounts: no personal data, see docs/records.md)."""
    provider: Mapped[str] = mapped_column(sa.String(40), comment="決済事業者プラグイン")
    """Plugin id of the payment provider (sandbox, payjp …)."""
    kind: Mapped[str] = mapped_column(sa.String(20), comment="事前決済/事後決済")
    """prepayment or postpayment."""
    amount: Mapped[int] = mapped_column(comment="金額 (円)")
    """Amount in yen."""
    state: Mapped[str] = mapped_column(sa.String(20), comment="決済状態")
    """requested, authorised, captured, voided, refunded, failed."""
    provider_ref: Mapped[str | None] = mapped_column(sa.String(100), nullable=True, comment="事業者の取引ID")
    """The provider's charge id."""
    refunded_amount: Mapped[int] = mapped_column(default=0, comment="返金額 (円)")
    """Refunded so far."""
    access_hash: Mapped[str] = mapped_column(sa.String(64), comment="支払いリンク鍵のハッシュ")
    """SHA-256 of the secret in the pay link mailed to the resident."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="登録日時")
    """When it was requested."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, comment="更新日時")
    """Last change of state."""
