"""eform_procedure_versions: every published definition of a procedure, kept for its applications."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, JsonType, UUIDPrimaryKey, lg_code_column, utcnow


class ProcedureVersion(UUIDPrimaryKey, Base):
    """A published definition. Applications name the version they were submitted under."""

    __tablename__ = "eform_procedure_versions"
    __table_args__ = (sa.UniqueConstraint("procedure_id", "version"),)

    lg_code: Mapped[str] = lg_code_column(index=False)
    """Municipality."""
    procedure_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("eform_procedures.id", ondelete="CASCADE"), comment="手続き"
    )
    """The procedure."""
    version: Mapped[int] = mapped_column(comment="版")
    """1, 2, … in publishing order."""
    definition: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="手続き定義 (EformProcedure)")
    """The definition as published."""
    published_at: Mapped[datetime] = mapped_column(default=utcnow, comment="公開日時")
    """When this version was published."""
    published_by: Mapped[str] = mapped_column(sa.String(100), comment="公開した職員")
    """Username of the staff member who published it."""
