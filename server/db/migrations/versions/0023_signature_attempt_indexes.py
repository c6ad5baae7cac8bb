"""Indexes for open JPKI signing attempts: the return from the signing app finds its attempt by
``transaction`` (the OAuth ``state``), and the hourly sweep finds the attempts still ``pending``
after ``jpki_app_transaction_minutes`` by ``(state, created_at)`` — neither scans the table of
every signature ever made.

Revision ID: 0023
Revises: 0021
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain CREATE INDEX (no batch copy of the table on SQLite).
    op.create_index("ix_eform_signatures_transaction", "eform_signatures", ["transaction"], unique=False)
    op.create_index(
        "ix_eform_signatures_state_created_at", "eform_signatures", ["state", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_eform_signatures_state_created_at", table_name="eform_signatures")
    op.drop_index("ix_eform_signatures_transaction", table_name="eform_signatures")
