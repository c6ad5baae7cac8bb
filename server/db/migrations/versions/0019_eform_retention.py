"""Retention of online applications (電子申請): a purged application's payments stay for accounting.

- ``payments.application_id`` becomes nullable: the retention purge deletes an expired application
  but keeps its payment rows (amount, state, provider's charge id, dates: what the municipality's
  accounts need; no personal data) with the link emptied.
- ``purge_items.details``: what the deletion record keeps of a purged application besides its
  blobs (申請番号, procedure, final status, SHA-256 of its data, the payments kept).

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.alter_column("application_id", existing_type=sa.Uuid(), nullable=True, existing_comment="申請")
    with op.batch_alter_table("purge_items") as batch:
        batch.add_column(
            sa.Column(
                "details",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
                comment="削除した申請の記録 (申請番号・手続き・状態・内容のSHA-256・残した決済)",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("purge_items") as batch:
        batch.drop_column("details")
    # Payments of purged applications have no application any more: refuse rather than lose them.
    orphans = op.get_bind().execute(sa.text("SELECT count(*) FROM payments WHERE application_id IS NULL"))
    if orphans.scalar():
        raise RuntimeError("削除済みの申請の決済記録があるため 0019 より前には戻せません。")
    with op.batch_alter_table("payments") as batch:
        batch.alter_column("application_id", existing_type=sa.Uuid(), nullable=False, existing_comment="申請")
