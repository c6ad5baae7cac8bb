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
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(254), nullable=True, comment="メールアドレス"))
        batch.add_column(
            sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True, comment="メールアドレス確認日時")
        )
        batch.add_column(
            sa.Column(
                "email_token_hash", sa.String(64), nullable=True, comment="確認リンクのトークンのSHA-256"
            )
        )
        batch.add_column(
            sa.Column("email_token_expires_at", sa.DateTime(timezone=True), nullable=True, comment="確認リンクの有効期限")
        )
        batch.add_column(
            sa.Column(
                "notify_submissions",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
                comment="新着申請の通知を受け取る",
            )
        )
        batch.create_unique_constraint("uq_users_email_token_hash", ["email_token_hash"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_email_token_hash", type_="unique")
        batch.drop_column("notify_submissions")
        batch.drop_column("email_token_expires_at")
        batch.drop_column("email_token_hash")
        batch.drop_column("email_verified_at")
        batch.drop_column("email")
