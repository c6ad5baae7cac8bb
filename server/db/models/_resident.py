"""residents: the 住民記録 register imported from the core system (search-and-prefill source)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, lg_code_column, utcnow


class Resident(UUIDPrimaryKey, Base):
    """One person of the imported register, keyed by 宛名番号. Columns follow the data items of
    the 住民記録システム標準仕様書 (see docs/records.md for the CSV layout)."""

    __tablename__ = "residents"
    __table_args__ = (
        sa.UniqueConstraint("lg_code", "atena_number"),
        sa.Index(
            "ix_residents_name_key", "lg_code", "name_key", postgresql_ops={"name_key": "varchar_pattern_ops"}
        ),
        sa.Index(
            "ix_residents_kana_key", "lg_code", "kana_key", postgresql_ops={"kana_key": "varchar_pattern_ops"}
        ),
    )

    lg_code: Mapped[str] = lg_code_column(index=False)
    """Municipality."""
    atena_number: Mapped[str] = mapped_column(sa.String(15), comment="宛名番号")
    """宛名番号: the core system's person number (unique per municipality)."""
    household_number: Mapped[str] = mapped_column(sa.String(15), comment="世帯番号")
    """世帯番号."""
    resident_kind: Mapped[str] = mapped_column(sa.String(1), comment="住民種別 (1 日本人, 2 外国人)")
    """住民種別."""
    resident_state: Mapped[str] = mapped_column(sa.String(1), comment="住民状態 (1 住民, 2 消除)")
    """住民状態; removed persons stay for the record but are not offered for prefill."""
    resident_code: Mapped[str | None] = mapped_column(sa.String(11), nullable=True, comment="住民票コード")
    """住民票コード (check digit validated on import)."""
    family_name: Mapped[str | None] = mapped_column(sa.String(50), nullable=True, comment="氏_日本人")
    """氏 (日本人)."""
    given_name: Mapped[str | None] = mapped_column(sa.String(50), nullable=True, comment="名_日本人")
    """名 (日本人)."""
    roman_name: Mapped[str | None] = mapped_column(
        sa.String(200), nullable=True, comment="氏名_外国人ローマ字"
    )
    """氏名 (外国人ローマ字)."""
    name_kana: Mapped[str | None] = mapped_column(sa.String(200), nullable=True, comment="氏名_フリガナ")
    """氏名のフリガナ (full-width katakana)."""
    sex: Mapped[str] = mapped_column(sa.String(1), comment="性別 (1 男, 2 女)")
    """性別."""
    birth_date: Mapped[date] = mapped_column(index=True, comment="生年月日")
    """生年月日."""
    relationship: Mapped[str | None] = mapped_column(sa.String(50), nullable=True, comment="続柄表記")
    """続柄 as written."""
    householder_name: Mapped[str | None] = mapped_column(sa.String(200), nullable=True, comment="世帯主氏名")
    """世帯主氏名."""
    postal_code: Mapped[str | None] = mapped_column(sa.String(8), nullable=True, comment="住所_郵便番号")
    """郵便番号."""
    prefecture: Mapped[str | None] = mapped_column(sa.String(100), nullable=True, comment="住所_都道府県")
    """都道府県 (kept apart for the counter's prefill)."""
    municipality: Mapped[str | None] = mapped_column(
        sa.String(100), nullable=True, comment="住所_市区郡町村名"
    )
    """市区郡町村名."""
    town: Mapped[str | None] = mapped_column(sa.String(100), nullable=True, comment="住所_町字")
    """町字."""
    block_number: Mapped[str | None] = mapped_column(sa.String(100), nullable=True, comment="住所_番地号表記")
    """番地号表記."""
    address: Mapped[str | None] = mapped_column(
        sa.String(400), nullable=True, comment="住所 (都道府県〜番地号)"
    )
    """住所: 都道府県, 市区郡町村名, 町字 and 番地号表記 joined."""
    building: Mapped[str | None] = mapped_column(sa.String(200), nullable=True, comment="住所_方書")
    """方書."""
    moved_on: Mapped[date | None] = mapped_column(nullable=True, comment="異動年月日")
    """Date of the last 異動."""
    name_key: Mapped[str] = mapped_column(sa.String(200), comment="氏名の検索キー")
    """search_key of the name (kanji or romaji)."""
    kana_key: Mapped[str] = mapped_column(sa.String(200), comment="フリガナの検索キー")
    """search_key of the フリガナ."""
    address_key: Mapped[str | None] = mapped_column(sa.String(600), nullable=True, comment="住所の検索キー")
    """search_key of 住所 and 方書 (matched anywhere: a clerk types 本城町 or a building name)."""
    imported_at: Mapped[datetime] = mapped_column(default=utcnow, comment="取込日時")
    """When this row was last loaded."""
    import_batch: Mapped[uuid.UUID] = mapped_column(comment="取込の識別子")
    """Which import run wrote it (a full load removes rows of older batches)."""
