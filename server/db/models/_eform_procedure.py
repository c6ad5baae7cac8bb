"""eform_procedures: an online procedure (手続き) of a municipality, its definition as JSON."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, JsonType, UUIDPrimaryKey, lg_code_column, utcnow


class Procedure(UUIDPrimaryKey, Base):
    """A procedure form with its guide page. ``slug`` is its URL part, unique per municipality."""

    __tablename__ = "eform_procedures"
    __table_args__ = (sa.UniqueConstraint("lg_code", "slug"),)

    lg_code: Mapped[str] = lg_code_column()
    """Municipality that publishes it."""
    slug: Mapped[str] = mapped_column(sa.String(80), comment="URLの一部 (自治体内で一意)")
    """The procedure's own URL part, chosen by staff."""
    title: Mapped[str] = mapped_column(sa.String(200), comment="手続名")
    """Name shown to residents (copied from the definition for lists and search)."""
    category: Mapped[str] = mapped_column(sa.String(100), comment="分類")
    """Category of the procedure guide."""
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), nullable=True, index=True, comment="担当課"
    )
    """The 課 that owns it; None: only staff with eform.all_orgs see it."""
    definition: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="手続き定義 (EformProcedure)")
    """The EformProcedure as JSON: fields, rules, uploads, payment, mail texts."""
    draft_definition: Mapped[dict[str, Any] | None] = mapped_column(
        JsonType, nullable=True, comment="編集中の定義 (未公開)"
    )
    """Changes saved in the form builder but not yet published; None when none are pending."""
    version: Mapped[int] = mapped_column(default=1, server_default="1", comment="公開中の定義の版")
    """Version of ``definition``; each publish from the builder adds one."""
    published: Mapped[bool] = mapped_column(default=False, comment="公開中")
    """Shown on the portal (within the publish window)."""
    publish_from: Mapped[datetime | None] = mapped_column(nullable=True, comment="公開開始日時")
    """Start of the publish window (None: no start)."""
    publish_until: Mapped[datetime | None] = mapped_column(nullable=True, comment="公開終了日時")
    """End of the publish window (None: no end)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="登録日時")
    """When it was created."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, comment="更新日時")
    """Last change."""
