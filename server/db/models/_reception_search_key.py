"""reception_search_keys: normalised keys for searching receptions (names in kanji, kana, romaji;
確認番号), kept apart from the notice so that the stored names are never altered."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, lg_code_column

#: SQL of the generated ``month`` column: YYYYMM of a 受付番号 ``YYYYMMDD-NNNN`` (the receptions
#: domain's only format). Immutable, as a generated column must be; the same text in migration 0024.
MONTH_OF_NUMBER = "CAST(substr(reception_number, 1, 6) AS INTEGER)"


class ReceptionSearchKey(UUIDPrimaryKey, Base):
    """One search key of a reception. Built by the documents domain's indexer."""

    __tablename__ = "reception_search_keys"
    __table_args__ = (
        # Name search: a prefix range on the key, answered from the index alone (PostgreSQL
        # INCLUDE) — which receptions match, their 受付番号 (the default sort and the 受付日
        # range) and birth dates, without visiting either table.
        sa.Index(
            "ix_reception_search_keys_lookup",
            "lg_code",
            "kind",
            "key",
            postgresql_ops={"key": "varchar_pattern_ops"},
            postgresql_include=["reception_id", "birth_date", "reception_number"],
        ),
        # Name search within a 受付日 range: one descent per month of the range (``month =
        # ANY(...)``), each reading only that month's keys starting with the name — a common
        # surname over 30 days reads its keys of two months, not of every year since the start.
        sa.Index(
            "ix_reception_search_keys_month",
            "lg_code",
            "kind",
            "month",
            "key",
            postgresql_ops={"key": "varchar_pattern_ops"},
            postgresql_include=["reception_id", "birth_date", "reception_number"],
        ),
        sa.Index("ix_reception_search_keys_birth", "lg_code", "birth_date"),
        # "Does this reception have a key starting with …" (when another criterion drives the
        # search) from the index alone; also the foreign key's index for the cascade.
        sa.Index(
            "ix_reception_search_keys_reception",
            "reception_id",
            "kind",
            "key",
            postgresql_ops={"key": "varchar_pattern_ops"},
            postgresql_include=["lg_code", "birth_date"],
        ),
    )

    lg_code: Mapped[str] = lg_code_column(index=False)
    """Municipality (same as the reception's)."""
    reception_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("receptions.id", ondelete="CASCADE"), comment="受付ID"
    )
    """The reception."""
    reception_number: Mapped[str] = mapped_column(sa.String(20), comment="受付番号 (受付の写し、並べ替え用)")
    """The reception's 受付番号 (never changes once given): a name search sorts and limits its
    matches by it, and applies the 受付日 range, from the key index alone."""
    month: Mapped[int] = mapped_column(
        sa.Integer, sa.Computed(MONTH_OF_NUMBER), comment="受付年月 (YYYYMM、受付番号から算出)"
    )
    """The 受付番号's year and month as YYYYMM, computed by the database from ``reception_number``
    (never written by the application): the leading column of the month index."""
    kind: Mapped[str] = mapped_column(sa.String(20), comment="キーの種類 (name/confirmation)")
    """``name`` (kanji, kana or romaji, each folded by search_key) or ``confirmation`` (確認番号)."""
    key: Mapped[str] = mapped_column(sa.String(200), comment="検索キー (正規化済み)")
    """shared.text.normalize.search_key of the value; never shown."""
    birth_date: Mapped[date | None] = mapped_column(nullable=True, comment="生年月日")
    """Birth date of the person the name belongs to (NULL for 確認番号)."""
