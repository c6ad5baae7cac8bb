"""audit_heads: the newest event of each municipality's audit chain (the chain's anchor)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base


class AuditHead(Base):
    """Written in the same transaction as every audit event; may only move forward (triggers).

    Deleting the newest events of a chain leaves a valid prefix behind; the head still names the
    sequence number and hash that were last written, so ``audit verify`` notices the loss. The head
    hash printed by ``audit verify`` can also be recorded outside the database (paper, WORM media).
    """

    __tablename__ = "audit_heads"

    lg_code: Mapped[str] = mapped_column(
        sa.String(6),
        sa.ForeignKey("municipalities.lg_code"),
        primary_key=True,
        comment="全国地方公共団体コード (テナント)",
    )
    """Municipality whose chain this is the head of."""
    seq: Mapped[int] = mapped_column(sa.BigInteger, comment="最新イベントの連番")
    """``seq`` of the newest event of the chain."""
    row_hash: Mapped[str] = mapped_column(sa.String(64), comment="最新イベントのハッシュ")
    """``row_hash`` of the newest event of the chain."""
    updated_at: Mapped[datetime] = mapped_column(comment="更新日時")
    """When the newest event was written (UTC)."""
