"""eform_returns: 差戻し — staff return a submitted application for correction of some items."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, JsonType, UUIDPrimaryKey, lg_code_column, utcnow


class ApplicationReturn(UUIDPrimaryKey, Base):
    """One 差戻し of an application and its resubmission: which items, why, and both versions.

    ``before`` is the application's raw values when it was returned; ``after`` is the resident's
    working copy while correcting and, once resubmitted, the version handed in again. Sealed
    個人番号 are kept the same way (still encrypted). Files of the old version stay in
    ``eform_attachments`` (a replaced file is never deleted).
    """

    __tablename__ = "eform_returns"

    lg_code: Mapped[str] = lg_code_column(index=False)
    """Municipality of the application."""
    application_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("eform_applications.id", ondelete="CASCADE"), index=True, comment="申請"
    )
    """The returned application."""
    fields: Mapped[list[str]] = mapped_column(JsonType, default=list, comment="修正を求める項目のパス")
    """Field paths the resident may change (``tel``, ``persons.0.person_name``)."""
    reasons: Mapped[dict[str, str]] = mapped_column(JsonType, default=dict, comment="項目ごとの差戻し理由")
    """Reason per field path (may be empty when ``comment`` says it all)."""
    comment: Mapped[str | None] = mapped_column(sa.Text, nullable=True, comment="差戻し理由 (全体)")
    """The overall reason."""
    returned_by: Mapped[str] = mapped_column(sa.String(100), comment="差戻しした職員")
    """Username of the staff member."""
    returned_at: Mapped[datetime] = mapped_column(default=utcnow, comment="差戻し日時")
    """When it was returned."""
    before: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict, comment="差戻し時の入力内容")
    """Raw values as submitted (the version that was returned)."""
    before_sealed: Mapped[dict[str, Any]] = mapped_column(
        JsonType, default=dict, comment="差戻し時の暗号化した個人番号"
    )
    """Sealed 個人番号 as submitted."""
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True, comment="修正後の入力内容")
    """The resident's corrected raw values (working copy until resubmitted)."""
    after_sealed: Mapped[dict[str, Any] | None] = mapped_column(
        JsonType, nullable=True, comment="修正後の暗号化した個人番号"
    )
    """Sealed 個人番号 of the corrected version."""
    changed: Mapped[list[str] | None] = mapped_column(JsonType, nullable=True, comment="変更された項目")
    """Field paths whose value differs between ``before`` and ``after`` (set at resubmission)."""
    resubmitted_at: Mapped[datetime | None] = mapped_column(nullable=True, comment="再提出日時")
    """When the corrected application was handed in again (None: still open)."""
