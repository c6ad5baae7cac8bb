"""eform_attachments: files a resident attached to an application (kept for drafts too)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, lg_code_column, utcnow


class ApplicationFile(UUIDPrimaryKey, Base):
    """One uploaded file, checked (type by content, per-file and aggregate size) before storing."""

    __tablename__ = "eform_attachments"

    lg_code: Mapped[str] = lg_code_column(index=False)
    """Municipality."""
    application_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("eform_applications.id", ondelete="CASCADE"), index=True, comment="申請"
    )
    """The application it belongs to."""
    field: Mapped[str] = mapped_column(sa.String(120), comment="項目名 (繰り返しは name.index.child)")
    """The file field it answers."""
    filename: Mapped[str] = mapped_column(sa.String(255), comment="ファイル名")
    """Name as uploaded (display only; never used as a path)."""
    content_type: Mapped[str] = mapped_column(sa.String(100), comment="種類 (内容から判定)")
    """MIME type determined from the content, not from the browser."""
    size: Mapped[int] = mapped_column(comment="大きさ (バイト)")
    """Size in bytes."""
    sha256: Mapped[str] = mapped_column(sa.String(64), comment="SHA-256")
    """Hash of the content."""
    blob_key: Mapped[str | None] = mapped_column(sa.String(300), comment="保存先キー (文書保存先)")
    """Key of the bytes in the blob store: ``eform/<lg_code>/<application_id>/<id>``.

    Empty only for a row written before migration 0015 that has not been moved yet."""
    data: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary, nullable=True, comment="旧: 内容"))
    """Legacy: the bytes of rows stored before the blob store; emptied by migration 0015, never written."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="登録日時")
    """When it was uploaded."""
