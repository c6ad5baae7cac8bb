"""差戻し of online applications (eform_returns): the items to fix, the reasons, both versions.

Municipal table (row-level security on PostgreSQL through ``tenant_table``).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from server.db.migration_ops import tenant_table

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "eform_returns",
        sa.Column("lg_code", sa.String(length=6), nullable=False, comment="全国地方公共団体コード (テナント)"),
        sa.Column("application_id", sa.Uuid(), nullable=False, comment="申請"),
        sa.Column("fields", JSON, nullable=False, comment="修正を求める項目のパス"),
        sa.Column("reasons", JSON, nullable=False, comment="項目ごとの差戻し理由"),
        sa.Column("comment", sa.Text(), nullable=True, comment="差戻し理由 (全体)"),
        sa.Column("returned_by", sa.String(length=100), nullable=False, comment="差戻しした職員"),
        sa.Column("returned_at", TS, nullable=False, comment="差戻し日時"),
        sa.Column("before", JSON, nullable=False, comment="差戻し時の入力内容"),
        sa.Column("before_sealed", JSON, nullable=False, comment="差戻し時の暗号化した個人番号"),
        sa.Column("after", JSON, nullable=True, comment="修正後の入力内容"),
        sa.Column("after_sealed", JSON, nullable=True, comment="修正後の暗号化した個人番号"),
        sa.Column("changed", JSON, nullable=True, comment="変更された項目"),
        sa.Column("resubmitted_at", TS, nullable=True, comment="再提出日時"),
        sa.Column("id", sa.Uuid(), nullable=False, comment="識別子 (UUID)"),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["eform_applications.id"],
            name=op.f("fk_eform_returns_application_id_eform_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lg_code"], ["municipalities.lg_code"], name=op.f("fk_eform_returns_lg_code_municipalities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eform_returns")),
    )
    with op.batch_alter_table("eform_returns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eform_returns_application_id"), ["application_id"], unique=False)
    tenant_table("eform_returns")


def downgrade() -> None:
    op.drop_table("eform_returns")
