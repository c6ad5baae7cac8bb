"""group_permissions: which permission (shared.permissions.Permission) a group grants."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, lg_code_column


class GroupPermission(Base):
    """One permission granted to one group."""

    __tablename__ = "group_permissions"

    lg_code: Mapped[str] = lg_code_column()
    """Municipality (same as the group's)."""
    group_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, comment="グループID"
    )
    """The group."""
    permission: Mapped[str] = mapped_column(sa.String(50), primary_key=True, comment="権限名")
    """Permission name, one of shared.permissions.Permission."""
