"""Saved cards (spec 002 6(1)④): a resident account keeps its payment provider's customer id.

Only the provider's id of the customer (``cus_…``) is stored; the card, its token and even its
brand and last digits stay with the provider and are asked for when shown.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resident_accounts") as batch:
        batch.add_column(
            sa.Column("payment_provider", sa.String(40), nullable=True, comment="保存カードの決済事業者プラグイン")
        )
        batch.add_column(
            sa.Column("payment_customer", sa.String(100), nullable=True, comment="決済事業者の顧客ID (保存カード)")
        )


def downgrade() -> None:
    with op.batch_alter_table("resident_accounts") as batch:
        batch.drop_column("payment_customer")
        batch.drop_column("payment_provider")
