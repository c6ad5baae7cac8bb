"""receptions: one 窓口受付 with its 住民異動届 (個人番号 removed from the stored JSON)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, JsonType, UUIDPrimaryKey, lg_code_column, utcnow


class Reception(UUIDPrimaryKey, Base):
    """A reception. ``client_key`` makes submission idempotent (unique per municipality)."""

    __tablename__ = "receptions"
    __table_args__ = (
        sa.UniqueConstraint("lg_code", "client_key"),
        sa.UniqueConstraint("lg_code", "reception_number"),
        # Search (documents domain): filters that lead, each followed by the default sort.
        sa.Index("ix_receptions_terminal", "lg_code", "terminal_id", "reception_number"),
        sa.Index("ix_receptions_status", "lg_code", "status", "reception_number"),
        sa.Index("ix_receptions_clerk", "lg_code", "created_by", "reception_number"),
        sa.Index("ix_receptions_created_at", "lg_code", "created_at"),
        # Matches found through the search keys are sorted and filtered from this index alone
        # (PostgreSQL INCLUDE); only the page's rows are read from the table.
        sa.Index(
            "ix_receptions_sort_keys",
            "id",
            postgresql_include=[
                "lg_code",
                "reception_number",
                "created_at",
                "kind",
                "status",
                "terminal_id",
                "created_by",
            ],
        ),
    )

    lg_code: Mapped[str] = lg_code_column()
    """Municipality that received it."""
    reception_number: Mapped[str] = mapped_column(sa.String(20), comment="受付番号 (YYYYMMDD-NNNN)")
    """受付番号, per municipality and day."""
    business_date: Mapped[date] = mapped_column(comment="受付日")
    """Day the number belongs to (Japan time)."""
    daily_seq: Mapped[int] = mapped_column(comment="その日の連番")
    """NNNN of the reception number."""
    client_key: Mapped[uuid.UUID] = mapped_column(comment="冪等キー (クライアント発行)")
    """Idempotency key chosen by the client; the same key never makes a second reception."""
    kind: Mapped[str] = mapped_column(sa.String(40), comment="届出の種類")
    """MovementKind of the notice."""
    status: Mapped[str] = mapped_column(sa.String(20), comment="状態")
    """ReceptionStatus: received, confirmed, cancelled."""
    terminal_id: Mapped[str | None] = mapped_column(sa.String(100), nullable=True, comment="端末ID")
    """Terminal that sent it."""
    opened_at: Mapped[datetime | None] = mapped_column(nullable=True, comment="受付開始日時")
    """When the clerk opened the reception (for processing-time statistics)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="登録日時")
    """When the server stored it."""
    created_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), comment="受付した職員")
    """User who submitted it."""
    notice: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="異動届 (個人番号を除く)")
    """The MovementNotice as JSON with every my_number removed (they live encrypted in
    reception_persons)."""
