"""attachments: archived documents of a reception (scans, 委任状, printed forms) as PDF blobs."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, lg_code_column, utcnow


class Attachment(UUIDPrimaryKey, Base):
    """One archived document. The bytes live in the blob store under ``blob_key``; ``sha256`` is
    checked every time they are read back."""

    __tablename__ = "attachments"
    __table_args__ = (sa.UniqueConstraint("lg_code", "client_key"),)

    lg_code: Mapped[str] = lg_code_column()
    """Municipality (same as the reception's)."""
    reception_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("receptions.id", ondelete="CASCADE"), index=True, comment="受付ID"
    )
    """The reception the document belongs to."""
    document_class: Mapped[str] = mapped_column(sa.String(40), comment="文書の種類")
    """DocumentClass: notice_form, scan, power_of_attorney, identity_document, other."""
    filename: Mapped[str] = mapped_column(sa.String(200), comment="元のファイル名 (表示用)")
    """Name the client gave (display only; the type is decided by the content)."""
    source_media_type: Mapped[str] = mapped_column(sa.String(50), comment="受け取った形式 (内容から判定)")
    """Media type detected from the uploaded bytes (application/pdf, image/jpeg, image/png, image/tiff)."""
    source_sha256: Mapped[str] = mapped_column(sa.String(64), comment="受け取ったファイルのSHA-256")
    """SHA-256 of the bytes as uploaded (before conversion to PDF)."""
    page_count: Mapped[int] = mapped_column(comment="ページ数")
    """Pages of the archived PDF."""
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger, comment="保存したPDFのバイト数")
    """Size of the archived PDF."""
    sha256: Mapped[str] = mapped_column(sa.String(64), comment="保存したPDFのSHA-256")
    """SHA-256 of the archived PDF; reading back refuses bytes that do not match."""
    blob_key: Mapped[str] = mapped_column(sa.String(300), unique=True, comment="保存先のキー")
    """Key in the blob store."""
    retain_until: Mapped[date] = mapped_column(index=True, comment="保存期限")
    """Last day the document must be kept (受付日 + retention years)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="登録日時")
    """When it was stored."""
    client_key: Mapped[uuid.UUID | None] = mapped_column(nullable=True, comment="冪等キー (クライアント発行)")
    """Idempotency key of the upload chosen by the client's outbox; the same key never stores a second
    document (None for uploads without one)."""
    created_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), comment="登録した職員")
    """User who uploaded it."""
