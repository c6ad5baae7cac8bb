"""Retention classes per municipality, the built-in scheduler's runs, stored operation reports,
and the scope of a purge item (whole reception or only its expired documents).

``retention_classes`` and ``report_files`` are municipal (row-level security); ``scheduled_runs``
is system-wide (one backup covers every municipality) and the app role may not delete from it.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.db.migration_ops import grant_app_role, tenant_table

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LG = "全国地方公共団体コード (テナント)"
TS = sa.DateTime(timezone=True)


def _lg(table: str) -> sa.Column[str]:
    return sa.Column(
        "lg_code",
        sa.String(length=6),
        sa.ForeignKey("municipalities.lg_code", name=op.f(f"fk_{table}_lg_code_municipalities")),
        nullable=False,
        comment=LG,
    )


def upgrade() -> None:
    op.create_table(
        "retention_classes",
        _lg("retention_classes"),
        sa.Column("document_class", sa.String(length=40), nullable=False, comment="文書の種類"),
        sa.Column("years", sa.Integer(), nullable=False, comment="保存年数 (1年以上)"),
        sa.Column("updated_at", TS, nullable=False, comment="変更日時"),
        sa.Column("updated_by", sa.String(length=100), nullable=False, comment="変更者"),
        sa.Column("id", sa.Uuid(), nullable=False, comment="識別子 (UUID)"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_classes")),
        sa.UniqueConstraint(
            "lg_code", "document_class", name=op.f("uq_retention_classes_lg_code_document_class")
        ),
    )
    op.create_table(
        "report_files",
        _lg("report_files"),
        sa.Column("period", sa.String(length=10), nullable=False, comment="対象期間 (YYYY-MM)"),
        sa.Column("pdf_key", sa.String(length=300), nullable=False, comment="PDF の保存キー"),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False, comment="PDF の SHA-256"),
        sa.Column("pdf_bytes", sa.Integer(), nullable=False, comment="PDF の大きさ (バイト)"),
        sa.Column("csv_key", sa.String(length=300), nullable=False, comment="CSV の保存キー"),
        sa.Column("csv_sha256", sa.String(length=64), nullable=False, comment="CSV の SHA-256"),
        sa.Column("csv_bytes", sa.Integer(), nullable=False, comment="CSV の大きさ (バイト)"),
        sa.Column("created_at", TS, nullable=False, comment="作成日時"),
        sa.Column("id", sa.Uuid(), nullable=False, comment="識別子 (UUID)"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_files")),
        sa.UniqueConstraint("lg_code", "period", name=op.f("uq_report_files_lg_code_period")),
    )
    op.create_table(
        "scheduled_runs",
        sa.Column("job", sa.String(length=40), nullable=False, comment="ジョブ (backup / operation_report)"),
        sa.Column(
            "period", sa.String(length=20), nullable=False, comment="対象期間 (YYYY-MM-DD / YYYY-MM)"
        ),
        sa.Column("status", sa.String(length=20), nullable=False, comment="状態 (running/success/failed)"),
        sa.Column("attempts", sa.Integer(), nullable=False, comment="試行回数"),
        sa.Column("owner", sa.String(length=200), nullable=False, comment="実行したプロセス (ホスト名:PID)"),
        sa.Column("started_at", TS, nullable=False, comment="開始日時"),
        sa.Column("finished_at", TS, nullable=True, comment="終了日時"),
        sa.Column("message", sa.Text(), nullable=False, comment="結果"),
        sa.Column("id", sa.Uuid(), nullable=False, comment="識別子 (UUID)"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_runs")),
        sa.UniqueConstraint("job", "period", name=op.f("uq_scheduled_runs_job_period")),
    )
    with op.batch_alter_table("purge_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "scope", sa.String(length=20), server_default="reception", nullable=False, comment="削除の範囲"
            )
        )
    tenant_table("retention_classes", privileges="SELECT, INSERT, UPDATE")
    tenant_table("report_files", privileges="SELECT, INSERT, UPDATE")
    grant_app_role("scheduled_runs", "SELECT, INSERT, UPDATE")


def downgrade() -> None:
    with op.batch_alter_table("purge_items", schema=None) as batch_op:
        batch_op.drop_column("scope")
    op.drop_table("scheduled_runs")
    op.drop_table("report_files")
    op.drop_table("retention_classes")
