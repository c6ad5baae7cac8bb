"""organisations: the 課 (departments) of one municipality; procedures and staff belong to them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, lg_code_column, utcnow


class Organisation(UUIDPrimaryKey, Base):
    """A 課. Staff see the procedures and applications of their 課 only (unless eform.all_orgs)."""

    __tablename__ = "organisations"
    __table_args__ = (sa.UniqueConstraint("lg_code", "name"),)

    lg_code: Mapped[str] = lg_code_column()
    """Municipality of the 課."""
    name: Mapped[str] = mapped_column(sa.String(100), comment="組織名 (課の名称)")
    """Name, unique within the municipality (e.g. 市民課)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="登録日時")
    """When it was created."""
