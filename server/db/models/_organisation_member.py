"""organisation_members: a staff member belongs to a 課 with a role on its procedures."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, lg_code_column, utcnow


class OrganisationMember(Base):
    """Membership of one user in one 課; ``role`` applies to every procedure of the 課."""

    __tablename__ = "organisation_members"

    lg_code: Mapped[str] = lg_code_column(index=False)
    """Municipality of the 課 and the user."""
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, comment="組織"
    )
    """The 課."""
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True, comment="職員"
    )
    """The staff member."""
    role: Mapped[str] = mapped_column(sa.String(20), comment="手続きへの権限 (view/process/edit)")
    """ProcedureRole on the 課's procedures: view (閲覧), process (処理), edit (編集)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="登録日時")
    """When the member was added."""
