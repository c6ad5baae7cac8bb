"""Online applications (procedures, applications, payments, mail).

Reserved slot so that work on several domains keeps one linear chain of migrations; tables are
added here as the domain is built (use server.db.migration_ops.tenant_table for municipal tables).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
