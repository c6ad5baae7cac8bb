"""phrases: 語句登録, a clerk's own phrases and the municipality's shared (団体共通) list."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, lg_code_column, utcnow

#: ``scope_key`` of the shared list (a user's own phrases carry his user id there).
OFFICE_SCOPE_KEY = "office"


class Phrase(UUIDPrimaryKey, Base):
    """One registered phrase (長い方書, よく使う町字, 定型のメモ文) inserted into a field by shortcut."""

    __tablename__ = "phrases"
    __table_args__ = (
        sa.UniqueConstraint("lg_code", "scope_key", "text"),
        sa.UniqueConstraint("lg_code", "scope_key", "key"),
    )

    lg_code: Mapped[str] = lg_code_column()
    """Municipality (row-level security)."""
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
        comment="所有する職員 (共通はNULL)",
    )
    """The clerk whose own phrase this is; NULL for the municipality's shared list."""
    scope_key: Mapped[str] = mapped_column(sa.String(36), comment="一覧の区分 (職員IDまたは office)")
    """``office`` or the owner's user id: the list a phrase is unique in (NULL would not be)."""
    reading: Mapped[str] = mapped_column(sa.String(100), comment="読み (ひらがな)")
    """Reading in hiragana, typed to find the phrase."""
    reading_key: Mapped[str] = mapped_column(sa.String(100), comment="読みの検索キー")
    """search_key of the reading (kana, width and long vowels folded)."""
    key: Mapped[str | None] = mapped_column(sa.String(20), nullable=True, comment="略号")
    """Optional short code (half-width, lower case), unique in its list."""
    text: Mapped[str] = mapped_column(sa.String(400), comment="語句")
    """The phrase as inserted (NFC, IVS kept)."""
    category: Mapped[str] = mapped_column(sa.String(20), comment="分類 (town/building/memo/other)")
    """分類: 町字, 方書, 定型文 or その他."""
    version: Mapped[int] = mapped_column(default=1, comment="版 (更新ごとに1増える)")
    """Optimistic lock: an update naming an older version is refused."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="登録日時")
    """When the phrase was registered."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, comment="更新日時")
    """When it was last changed."""
    updated_by: Mapped[str] = mapped_column(sa.String(100), comment="最後に変更した職員のログインID")
    """Login name of the last writer."""
