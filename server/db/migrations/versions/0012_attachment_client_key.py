"""Idempotent uploads: ``attachments.client_key``, unique per municipality (the client's outbox
resends a document after a crash or a lost answer and must get the stored one back).

Revision ID: 0012
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(
            sa.Column("client_key", sa.Uuid(), nullable=True, comment="冪等キー (クライアント発行)")
        )
        batch.create_unique_constraint(op.f("uq_attachments_lg_code_client_key"), ["lg_code", "client_key"])


def downgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.drop_constraint(op.f("uq_attachments_lg_code_client_key"), type_="unique")
        batch.drop_column("client_key")
