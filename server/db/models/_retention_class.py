"""retention_classes: a municipality's retention period (保存区分) for one document class."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, lg_code_column, utcnow


class RetentionClass(UUIDPrimaryKey, Base):
    """Years one document class is kept after the 受付日. A class without a row keeps its default
    (:data:`server.domain.retention.classes.DEFAULT_YEARS`)."""

    __tablename__ = "retention_classes"
    __table_args__ = (sa.UniqueConstraint("lg_code", "document_class"),)

    lg_code: Mapped[str] = lg_code_column(index=False)
    """Municipality."""
    document_class: Mapped[str] = mapped_column(sa.String(40), comment="文書の種類")
    """DocumentClass value (``notice_form`` is also the period of the reception data itself)."""
    years: Mapped[int] = mapped_column(comment="保存年数 (1年以上)")
    """Years after the 受付日; never below 1 (住民基本台帳法施行令 34条)."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, comment="変更日時")
    """When the period was last changed."""
    updated_by: Mapped[str] = mapped_column(sa.String(100), comment="変更者")
    """Login name of who changed it."""
