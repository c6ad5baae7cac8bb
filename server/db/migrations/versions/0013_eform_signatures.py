"""JPKI signatures of online applications (eform_signatures).

Municipal table (row-level security on PostgreSQL through ``tenant_table``).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from server.db.migration_ops import tenant_table

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "eform_signatures",
        sa.Column("lg_code", sa.String(length=6), nullable=False, comment="全国地方公共団体コード (テナント)"),
        sa.Column("application_id", sa.Uuid(), nullable=False, comment="申請"),
        sa.Column("signing_app", sa.String(length=40), nullable=False, comment="署名アプリのプラグイン"),
        sa.Column("transaction", sa.String(length=200), nullable=True, comment="署名取引ID"),
        sa.Column("state", sa.String(length=20), nullable=False, comment="状態"),
        sa.Column("content_sha256", sa.String(length=64), nullable=False, comment="署名対象データのSHA-256"),
        sa.Column("signature", sa.LargeBinary(), nullable=True, comment="署名データ (CMS)"),
        sa.Column("four_info", JSON, nullable=True, comment="基本4情報"),
        sa.Column("result", JSON, nullable=False, comment="検証結果"),
        sa.Column("created_at", TS, nullable=False, comment="作成日時"),
        sa.Column("verified_at", TS, nullable=True, comment="検証日時"),
        sa.Column("id", sa.Uuid(), nullable=False, comment="識別子 (UUID)"),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["eform_applications.id"],
            name=op.f("fk_eform_signatures_application_id_eform_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lg_code"], ["municipalities.lg_code"], name=op.f("fk_eform_signatures_lg_code_municipalities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eform_signatures")),
    )
    with op.batch_alter_table("eform_signatures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_eform_signatures_application_id"), ["application_id"], unique=False
        )
    tenant_table("eform_signatures")


def downgrade() -> None:
    op.drop_table("eform_signatures")
