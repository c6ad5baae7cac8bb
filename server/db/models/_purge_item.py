"""purge_items: the deletion record — one row per reception on a purge list, kept after deletion."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, JsonType, UUIDPrimaryKey, lg_code_column


class PurgeItem(UUIDPrimaryKey, Base):
    """What was (to be) deleted: the reception's number and date and every blob with its hash."""

    __tablename__ = "purge_items"
    __table_args__ = (sa.UniqueConstraint("job_id", "reception_id"),)

    lg_code: Mapped[str] = lg_code_column(index=False)
    """Municipality."""
    job_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("purge_jobs.id"), index=True, comment="削除ジョブID"
    )
    """The purge job."""
    reception_id: Mapped[uuid.UUID] = mapped_column(comment="受付ID (削除後も記録として残る)")
    """Id of the deleted reception (no foreign key: the reception is gone afterwards)."""
    reception_number: Mapped[str] = mapped_column(sa.String(20), comment="受付番号")
    """受付番号 of the deleted reception."""
    business_date: Mapped[date] = mapped_column(comment="受付日")
    """受付日 of the deleted reception."""
    blobs: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, comment="削除する文書 (キーとSHA-256)")
    """``[{"key": …, "sha256": …}]`` of every archived document of the reception."""
    rows_deleted_at: Mapped[datetime | None] = mapped_column(nullable=True, comment="データ削除日時")
    """When the database rows were deleted (same transaction as this update)."""
    blobs_deleted_at: Mapped[datetime | None] = mapped_column(nullable=True, comment="文書削除日時")
    """When the blobs were removed from the store."""
    scope: Mapped[str] = mapped_column(
        sa.String(20), default="reception", server_default="reception", comment="削除の範囲"
    )
    """``reception``: the reception and all its documents; ``documents``: only the listed documents
    (their retention class expired, the reception's own period has not); ``eform``: an online
    application (電子申請) — then ``reception_id`` is the application's id, ``reception_number`` its
    申請番号 and ``business_date`` the day it was completed, withdrawn or rejected."""
    details: Mapped[dict[str, Any] | None] = mapped_column(
        JsonType,
        nullable=True,
        comment="削除した申請の記録 (申請番号・手続き・状態・内容のSHA-256・残した決済)",
    )
    """Scope ``eform`` only: procedure, final status, SHA-256 of the application's data and history
    at planning, the ids of the payments kept for the accounts."""
    skipped_reason: Mapped[str | None] = mapped_column(
        sa.String(200), nullable=True, comment="削除しなかった理由"
    )
    """Set when the item was left alone (e.g. the reception gained a document after planning)."""
