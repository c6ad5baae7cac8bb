"""Records behind the counter: archived documents, search keys, purge jobs and deletion records.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from server.db.migration_ops import tenant_table
from server.db.models._base import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_LG = "全国地方公共団体コード (テナント)"
TABLES = ("purge_jobs", "purge_items", "attachments", "reception_search_keys", "residents")


def _lg(table: str) -> list[Any]:
    return [
        sa.Column("lg_code", sa.String(length=6), nullable=False, comment=_LG),
        sa.ForeignKeyConstraint(
            ["lg_code"], ["municipalities.lg_code"], name=op.f(f"fk_{table}_lg_code_municipalities")
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "purge_jobs",
        *_lg("purge_jobs"),
        sa.Column("cutoff", sa.Date(), nullable=False, comment="この日より前の受付が対象"),
        sa.Column("status", sa.String(length=20), nullable=False, comment="状態 (planned/running/done)"),
        sa.Column("item_count", sa.Integer(), nullable=False, comment="対象の受付数"),
        sa.Column("planned_at", UTCDateTime(timezone=True), nullable=False, comment="作成日時"),
        sa.Column("planned_by", sa.String(length=100), nullable=False, comment="作成者"),
        sa.Column("executed_at", UTCDateTime(timezone=True), nullable=True, comment="実行完了日時"),
        sa.Column("executed_by", sa.String(length=100), nullable=True, comment="実行者"),
        sa.Column("id", sa.Uuid(), nullable=False, comment="識別子 (UUID)"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purge_jobs")),
    )
    op.create_index(op.f("ix_purge_jobs_lg_code"), "purge_jobs", ["lg_code"], unique=False)
    op.create_table(
        "purge_items",
        *_lg("purge_items"),
        sa.Column("job_id", sa.Uuid(), nullable=False, comment="削除ジョブID"),
        sa.Column("reception_id", sa.Uuid(), nullable=False, comment="受付ID (削除後も記録として残る)"),
        sa.Column("reception_number", sa.String(length=20), nullable=False, comment="受付番号"),
        sa.Column("business_date", sa.Date(), nullable=False, comment="受付日"),
        sa.Column(
            "blobs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment="削除する文書 (キーとSHA-256)",
        ),
        sa.Column("rows_deleted_at", UTCDateTime(timezone=True), nullable=True, comment="データ削除日時"),
        sa.Column("blobs_deleted_at", UTCDateTime(timezone=True), nullable=True, comment="文書削除日時"),
        sa.Column("skipped_reason", sa.String(length=200), nullable=True, comment="削除しなかった理由"),
        sa.Column("id", sa.Uuid(), nullable=False, comment="識別子 (UUID)"),
        sa.ForeignKeyConstraint(["job_id"], ["purge_jobs.id"], name=op.f("fk_purge_items_job_id_purge_jobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purge_items")),
        sa.UniqueConstraint("job_id", "reception_id", name=op.f("uq_purge_items_job_id_reception_id")),
    )
    op.create_index(op.f("ix_purge_items_job_id"), "purge_items", ["job_id"], unique=False)
    op.create_table(
        "attachments",
        *_lg("attachments"),
        sa.Column("reception_id", sa.Uuid(), nullable=False, comment="受付ID"),
        sa.Column("document_class", sa.String(length=40), nullable=False, comment="文書の種類"),
        sa.Column("filename", sa.String(length=200), nullable=False, comment="元のファイル名 (表示用)"),
        sa.Column(
            "source_media_type", sa.String(length=50), nullable=False, comment="受け取った形式 (内容から判定)"
        ),
        sa.Column("source_sha256", sa.String(length=64), nullable=False, comment="受け取ったファイルのSHA-256"),
        sa.Column("page_count", sa.Integer(), nullable=False, comment="ページ数"),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False, comment="保存したPDFのバイト数"),
        sa.Column("sha256", sa.String(length=64), nullable=False, comment="保存したPDFのSHA-256"),
        sa.Column("blob_key", sa.String(length=300), nullable=False, comment="保存先のキー"),
        sa.Column("retain_until", sa.Date(), nullable=False, comment="保存期限"),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False, comment="登録日時"),
        sa.Column("created_by", sa.Uuid(), nullable=False, comment="登録した職員"),
        sa.Column("id", sa.Uuid(), nullable=False, comment="識別子 (UUID)"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_attachments_created_by_users")),
        sa.ForeignKeyConstraint(
            ["reception_id"],
            ["receptions.id"],
            name=op.f("fk_attachments_reception_id_receptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("blob_key", name=op.f("uq_attachments_blob_key")),
    )
    op.create_index(op.f("ix_attachments_lg_code"), "attachments", ["lg_code"], unique=False)
    op.create_index(op.f("ix_attachments_reception_id"), "attachments", ["reception_id"], unique=False)
    op.create_index(op.f("ix_attachments_retain_until"), "attachments", ["retain_until"], unique=False)
    op.create_table(
        "reception_search_keys",
        *_lg("reception_search_keys"),
        sa.Column("reception_id", sa.Uuid(), nullable=False, comment="受付ID"),
        sa.Column("kind", sa.String(length=20), nullable=False, comment="キーの種類 (name/confirmation)"),
        sa.Column("key", sa.String(length=200), nullable=False, comment="検索キー (正規化済み)"),
        sa.Column("birth_date", sa.Date(), nullable=True, comment="生年月日"),
        sa.Column("id", sa.Uuid(), nullable=False, comment="識別子 (UUID)"),
        sa.ForeignKeyConstraint(
            ["reception_id"],
            ["receptions.id"],
            name=op.f("fk_reception_search_keys_reception_id_receptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reception_search_keys")),
    )
    op.create_index(
        "ix_reception_search_keys_birth", "reception_search_keys", ["lg_code", "birth_date"], unique=False
    )
    op.create_index(
        "ix_reception_search_keys_lookup",
        "reception_search_keys",
        ["lg_code", "kind", "key"],
        unique=False,
        postgresql_ops={"key": "varchar_pattern_ops"},
    )
    op.create_index(
        op.f("ix_reception_search_keys_reception_id"), "reception_search_keys", ["reception_id"], unique=False
    )
    _residents()
    for table in TABLES:
        tenant_table(table)


def _residents() -> None:
    op.create_table(
        "residents",
        *_lg("residents"),
        sa.Column("atena_number", sa.String(length=15), nullable=False, comment="宛名番号"),
        sa.Column("household_number", sa.String(length=15), nullable=False, comment="世帯番号"),
        sa.Column("resident_kind", sa.String(length=1), nullable=False, comment="住民種別 (1 日本人, 2 外国人)"),
        sa.Column("resident_state", sa.String(length=1), nullable=False, comment="住民状態 (1 住民, 2 消除)"),
        sa.Column("resident_code", sa.String(length=11), nullable=True, comment="住民票コード"),
        sa.Column("family_name", sa.String(length=50), nullable=True, comment="氏_日本人"),
        sa.Column("given_name", sa.String(length=50), nullable=True, comment="名_日本人"),
        sa.Column("roman_name", sa.String(length=200), nullable=True, comment="氏名_外国人ローマ字"),
        sa.Column("name_kana", sa.String(length=200), nullable=True, comment="氏名_フリガナ"),
        sa.Column("sex", sa.String(length=1), nullable=False, comment="性別 (1 男, 2 女)"),
        sa.Column("birth_date", sa.Date(), nullable=False, comment="生年月日"),
        sa.Column("relationship", sa.String(length=50), nullable=True, comment="続柄表記"),
        sa.Column("householder_name", sa.String(length=200), nullable=True, comment="世帯主氏名"),
        sa.Column("postal_code", sa.String(length=8), nullable=True, comment="住所_郵便番号"),
        sa.Column("address", sa.String(length=400), nullable=True, comment="住所 (都道府県〜番地号)"),
        sa.Column("building", sa.String(length=200), nullable=True, comment="住所_方書"),
        sa.Column("moved_on", sa.Date(), nullable=True, comment="異動年月日"),
        sa.Column("name_key", sa.String(length=200), nullable=False, comment="氏名の検索キー"),
        sa.Column("kana_key", sa.String(length=200), nullable=False, comment="フリガナの検索キー"),
        sa.Column("imported_at", UTCDateTime(timezone=True), nullable=False, comment="取込日時"),
        sa.Column("import_batch", sa.Uuid(), nullable=False, comment="取込の識別子"),
        sa.Column("id", sa.Uuid(), nullable=False, comment="識別子 (UUID)"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents")),
        sa.UniqueConstraint("lg_code", "atena_number", name=op.f("uq_residents_lg_code_atena_number")),
    )
    op.create_index(op.f("ix_residents_birth_date"), "residents", ["birth_date"], unique=False)
    op.create_index(
        "ix_residents_name_key",
        "residents",
        ["lg_code", "name_key"],
        unique=False,
        postgresql_ops={"name_key": "varchar_pattern_ops"},
    )
    op.create_index(
        "ix_residents_kana_key",
        "residents",
        ["lg_code", "kana_key"],
        unique=False,
        postgresql_ops={"kana_key": "varchar_pattern_ops"},
    )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
