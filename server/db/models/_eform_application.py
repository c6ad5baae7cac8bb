"""eform_applications: one resident's application (申請), from draft to completion."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, JsonType, UUIDPrimaryKey, lg_code_column, utcnow


class Application(UUIDPrimaryKey, Base):
    """An application. 個人番号 values are never in ``values``: they are in ``sealed``, encrypted."""

    __tablename__ = "eform_applications"
    __table_args__ = (
        sa.UniqueConstraint("lg_code", "reference"),
        sa.Index("ix_eform_applications_lg_status", "lg_code", "status"),
    )

    lg_code: Mapped[str] = lg_code_column(index=False)
    """Municipality it is addressed to."""
    procedure_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("eform_procedures.id"), index=True, comment="手続き"
    )
    """The procedure it fills in."""
    procedure_version: Mapped[int | None] = mapped_column(nullable=True, comment="申請時の手続き定義の版")
    """Version of the definition it was submitted under (None: the procedure's first version)."""
    reference: Mapped[str | None] = mapped_column(sa.String(30), nullable=True, comment="申請番号")
    """申請番号 (E-YYYYMMDD-NNNNNN), given at submission."""
    status: Mapped[str] = mapped_column(sa.String(20), comment="申請状態")
    """ApplicationStatus: unverified, draft, submitted, reviewed, rejected, completed, withdrawn."""
    email: Mapped[str] = mapped_column(sa.String(254), comment="連絡先メールアドレス")
    """Where the mails go."""
    email_verified_at: Mapped[datetime | None] = mapped_column(nullable=True, comment="メール認証日時")
    """When the emailed code was confirmed (guest submission)."""
    code_hash: Mapped[str | None] = mapped_column(
        sa.String(64), nullable=True, comment="確認コードのハッシュ"
    )
    """SHA-256 of the emailed verification code (the code itself is never stored)."""
    code_attempts: Mapped[int] = mapped_column(default=0, comment="確認コードの失敗回数")
    """Wrong codes entered; the draft is locked after too many."""
    access_hash: Mapped[str] = mapped_column(sa.String(64), index=True, comment="アクセス鍵のハッシュ")
    """SHA-256 of the secret in the resident's cookie and resume link."""
    values: Mapped[dict[str, Any]] = mapped_column(
        JsonType, default=dict, comment="入力内容 (個人番号を除く)"
    )
    """The entered values by field name; groups are lists of objects."""
    sealed: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict, comment="暗号化した個人番号")
    """Per field path: [base64 AES-GCM ciphertext, key id, keyed hash]."""
    amount: Mapped[int | None] = mapped_column(nullable=True, comment="決済金額 (円)")
    """Fee to pay (prepayment: computed at submission; postpayment: set by staff)."""
    history: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list, comment="状態の履歴")
    """[{at, status, by}] — what the resident's status page shows."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="作成日時")
    """When the draft was started."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, comment="更新日時")
    """Last change."""
    submitted_at: Mapped[datetime | None] = mapped_column(nullable=True, comment="申請日時")
    """When it was submitted."""
