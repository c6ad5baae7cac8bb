"""municipalities: the tenants (市区町村) served by this deployment."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, utcnow


class Municipality(Base):
    """One municipality. Not under row-level security: it is the tenant registry itself and holds
    only public facts (code and name)."""

    __tablename__ = "municipalities"

    lg_code: Mapped[str] = mapped_column(sa.String(6), primary_key=True, comment="全国地方公共団体コード")
    """全国地方公共団体コード (6 digits with check digit)."""
    name: Mapped[str] = mapped_column(sa.String(100), comment="団体名 (例: 下妻市)")
    """Name as written, e.g. 下妻市."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="登録日時")
    """When the municipality was registered."""
