"""groups: permission groups (e.g. 窓口, 管理者) of one municipality."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, lg_code_column, utcnow


class Group(UUIDPrimaryKey, Base):
    """A named set of permissions; users get permissions only through groups."""

    __tablename__ = "groups"
    __table_args__ = (sa.UniqueConstraint("lg_code", "name"),)

    lg_code: Mapped[str] = lg_code_column()
    """Municipality the group belongs to."""
    name: Mapped[str] = mapped_column(sa.String(100), comment="グループ名")
    """Group name, unique within the municipality."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="登録日時")
    """When the group was created."""
