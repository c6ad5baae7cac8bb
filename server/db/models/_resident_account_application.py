"""resident_account_applications: which applications a portal account started (my applications)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, lg_code_column, utcnow


class ResidentAccountApplication(Base):
    """One application of one account; an application belongs to at most one account."""

    __tablename__ = "resident_account_applications"

    application_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("eform_applications.id", ondelete="CASCADE"), primary_key=True, comment="申請"
    )
    """The application."""
    lg_code: Mapped[str] = lg_code_column(index=False)
    """Municipality of both."""
    account_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("resident_accounts.id", ondelete="CASCADE"), index=True, comment="利用者アカウント"
    )
    """The account that started it."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="紐付け日時")
    """When it was linked."""
