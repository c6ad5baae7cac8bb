"""network_allowances: networks outside LGWAN from which a municipality's staff may log in."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, lg_code_column, utcnow


class NetworkAllowance(UUIDPrimaryKey, Base):
    """One allowed CIDR. Logins from it also need the second factor (TOTP)."""

    __tablename__ = "network_allowances"
    __table_args__ = (sa.UniqueConstraint("lg_code", "cidr"),)

    lg_code: Mapped[str] = lg_code_column()
    """Municipality the allowance is for."""
    cidr: Mapped[str] = mapped_column(sa.String(50), comment="許可するネットワーク (CIDR)")
    """Allowed network, e.g. 203.0.113.0/24."""
    note: Mapped[str | None] = mapped_column(sa.String(200), nullable=True, comment="備考")
    """Why it is allowed (e.g. テレワーク端末)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="登録日時")
    """When it was added."""
