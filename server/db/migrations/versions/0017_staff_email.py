"""Staff e-mail addresses (spec 002 (2)①): address, its confirmation and the submission notice.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN and CREATE INDEX: no batch copy of ``users`` on SQLite (a copy would drop
    # the table that user_groups, sessions and 課 members point at with ON DELETE CASCADE).
    op.add_column("users", sa.Column("email", sa.String(254), nullable=True, comment="メールアドレス"))
    op.add_column(
        "users",
        sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True, comment="メールアドレス確認日時"),
    )
    op.add_column(
        "users",
        sa.Column("email_token_hash", sa.String(64), nullable=True, comment="確認リンクのトークンのSHA-256"),
    )
    op.add_column(
        "users",
        sa.Column(
            "email_token_expires_at", sa.DateTime(timezone=True), nullable=True, comment="確認リンクの有効期限"
        ),
    )
    op.add_column(
        "users",
        sa.Column(
            "notify_submissions",
            sa.Boolean(),
            nullable=False,
            server_default=sa.false(),
            comment="新着申請の通知を受け取る",
        ),
    )
    op.create_index("ix_users_email_token_hash", "users", ["email_token_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_users_email_token_hash", table_name="users")
    for column in ("notify_submissions", "email_token_expires_at", "email_token_hash", "email_verified_at", "email"):
        op.drop_column("users", column)
