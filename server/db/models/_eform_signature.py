"""eform_signatures: JPKI signatures of applications (署名), pending, valid or rejected."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, JsonType, UUIDPrimaryKey, lg_code_column, utcnow


class ApplicationSignature(UUIDPrimaryKey, Base):
    """One signing attempt of an application. Only a ``valid`` row whose ``content_sha256`` equals
    the application's current canonical bytes lets a JPKI procedure be submitted."""

    __tablename__ = "eform_signatures"
    __table_args__ = (sa.Index("ix_eform_signatures_state_created_at", "state", "created_at"),)

    lg_code: Mapped[str] = lg_code_column(index=False)
    """Municipality of the application."""
    application_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("eform_applications.id", ondelete="CASCADE"), index=True, comment="申請"
    )
    """The signed application."""
    signing_app: Mapped[str] = mapped_column(sa.String(40), comment="署名アプリのプラグイン")
    """Plugin id of the signing app (or ``upload`` for a signature file the resident uploaded)."""
    transaction: Mapped[str | None] = mapped_column(
        sa.String(200), nullable=True, index=True, comment="署名取引ID"
    )
    """The signing app's transaction id while pending."""
    state: Mapped[str] = mapped_column(sa.String(20), comment="状態")
    """``pending``, ``valid``, ``rejected``, or ``superseded`` (a valid signature over a version
    returned for correction (差戻し), replaced by the signature over the resubmitted one)."""
    content_sha256: Mapped[str] = mapped_column(sa.String(64), comment="署名対象データのSHA-256")
    """SHA-256 (hex) of the canonical bytes that were to be signed."""
    signature: Mapped[bytes | None] = mapped_column(sa.LargeBinary, nullable=True, comment="署名データ (CMS)")
    """The detached CMS SignedData as received (evidence for a later re-check)."""
    four_info: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True, comment="基本4情報")
    """氏名, 生年月日, 性別, 住所 from the signer certificate (valid signatures only)."""
    result: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict, comment="検証結果")
    """What the verification found: checks passed, issuer, serial, validity, revocation source;
    for a rejection the error code and message."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="作成日時")
    """When signing was started."""
    verified_at: Mapped[datetime | None] = mapped_column(nullable=True, comment="検証日時")
    """When the signature was verified (or rejected)."""
