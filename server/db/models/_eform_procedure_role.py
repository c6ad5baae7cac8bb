"""eform_procedure_roles: one staff member's role on one procedure, overriding the 課 role."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, lg_code_column


class ProcedureRole(Base):
    """Per-procedure role of a member of the procedure's 課 (none hides the procedure from him)."""

    __tablename__ = "eform_procedure_roles"

    lg_code: Mapped[str] = lg_code_column(index=False)
    """Municipality."""
    procedure_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("eform_procedures.id", ondelete="CASCADE"), primary_key=True, comment="手続き"
    )
    """The procedure."""
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, comment="職員"
    )
    """The staff member."""
    role: Mapped[str] = mapped_column(sa.String(20), comment="権限 (none/view/process/edit)")
    """ProcedureRole for this procedure only: none, view, process or edit."""
