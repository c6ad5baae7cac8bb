"""Resident portal accounts (利用者登録) and the link of an account to its applications.

Both tables are municipal (row-level security on PostgreSQL through ``tenant_table``).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.db.migration_ops import tenant_table

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LG = "全国地方公共団体コード (テナント)"
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "resident_accounts",
        sa.Column("lg_code", sa.String(length=6), nullable=False, comment=LG),
        sa.Column("email", sa.String(length=254), nullable=False, comment="メールアドレス (ログインID)"),
        sa.Column(
            "password_hash", sa.String(length=200), nullable=False, comment="パスワードのargon2idハッシュ"
        ),
        sa.Column("applicant_type", sa.String(length=20), nullable=False, comment="申請者の種別"),
        sa.Column("name", sa.String(length=100), nullable=False, comment="氏名または名称"),
        sa.Column("corporate_number", sa.String(length=13), nullable=True, comment="法人番号"),
        sa.Column("email_verified_at", TS, nullable=True, comment="メール認証日時"),
        sa.Column(
            "verify_hash", sa.String(length=64), nullable=True, comment="確認リンクのトークンのハッシュ"
        ),
        sa.Column("verify_expires_at", TS, nullable=True, comment="確認リンクの有効期限"),
        sa.Column(
            "reset_hash", sa.String(length=64), nullable=True, comment="再設定リンクのトークンのハッシュ"
        ),
        sa.Column("reset_expires_at", TS, nullable=True, comment="再設定リンクの有効期限"),
        sa.Column("failed_logins", sa.Integer(), nullable=False, comment="連続したログイン失敗回数"),
        sa.Column("locked_until", TS, nullable=True, comment="ロック解除日時"),
        sa.Column("session_epoch", sa.Integer(), nullable=False, comment="ログインの世代"),
        sa.Column("created_at", TS, nullable=False, comment="登録日時"),
        sa.Column("updated_at", TS, nullable=False, comment="更新日時"),
        sa.Column("id", sa.Uuid(), nullable=False, comment="識別子 (UUID)"),
        sa.ForeignKeyConstraint(
            ["lg_code"], ["municipalities.lg_code"], name=op.f("fk_resident_accounts_lg_code_municipalities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_accounts")),
        sa.UniqueConstraint("lg_code", "email", name=op.f("uq_resident_accounts_lg_code_email")),
    )
    with op.batch_alter_table("resident_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resident_accounts_verify_hash"), ["verify_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_resident_accounts_reset_hash"), ["reset_hash"], unique=False)

    op.create_table(
        "resident_account_applications",
        sa.Column("application_id", sa.Uuid(), nullable=False, comment="申請"),
        sa.Column("lg_code", sa.String(length=6), nullable=False, comment=LG),
        sa.Column("account_id", sa.Uuid(), nullable=False, comment="利用者アカウント"),
        sa.Column("created_at", TS, nullable=False, comment="紐付け日時"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["resident_accounts.id"],
            name=op.f("fk_resident_account_applications_account_id_resident_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["eform_applications.id"],
            name=op.f("fk_resident_account_applications_application_id_eform_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lg_code"],
            ["municipalities.lg_code"],
            name=op.f("fk_resident_account_applications_lg_code_municipalities"),
        ),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_resident_account_applications")),
    )
    with op.batch_alter_table("resident_account_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resident_account_applications_account_id"), ["account_id"], unique=False
        )

    tenant_table("resident_accounts")
    tenant_table("resident_account_applications", privileges="SELECT, INSERT, DELETE")


def downgrade() -> None:
    op.drop_table("resident_account_applications")
    op.drop_table("resident_accounts")
