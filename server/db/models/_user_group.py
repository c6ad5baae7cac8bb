"""user_groups: membership of users in groups."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, lg_code_column


class UserGroup(Base):
    """A user is a member of a group."""

    __tablename__ = "user_groups"

    lg_code: Mapped[str] = lg_code_column()
    """Municipality (same as user's and group's)."""
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, comment="ユーザーID"
    )
    """The user."""
    group_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, comment="グループID"
    )
    """The group."""
