"""report_files: operation reports the scheduler stored for a municipality (PDF and CSV blobs)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, lg_code_column, utcnow


class ReportFile(UUIDPrimaryKey, Base):
    """One stored monthly 運用報告. The bytes are in the blob store; the hashes are checked on read."""

    __tablename__ = "report_files"
    __table_args__ = (sa.UniqueConstraint("lg_code", "period"),)

    lg_code: Mapped[str] = lg_code_column(index=False)
    """Municipality."""
    period: Mapped[str] = mapped_column(sa.String(10), comment="対象期間 (YYYY-MM)")
    """The month reported."""
    pdf_key: Mapped[str] = mapped_column(sa.String(300), comment="PDF の保存キー")
    """Blob key of the PDF."""
    pdf_sha256: Mapped[str] = mapped_column(sa.String(64), comment="PDF の SHA-256")
    """SHA-256 of the PDF."""
    pdf_bytes: Mapped[int] = mapped_column(comment="PDF の大きさ (バイト)")
    """Size of the PDF."""
    csv_key: Mapped[str] = mapped_column(sa.String(300), comment="CSV の保存キー")
    """Blob key of the CSV."""
    csv_sha256: Mapped[str] = mapped_column(sa.String(64), comment="CSV の SHA-256")
    """SHA-256 of the CSV."""
    csv_bytes: Mapped[int] = mapped_column(comment="CSV の大きさ (バイト)")
    """Size of the CSV."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="作成日時")
    """When the scheduler stored it."""
