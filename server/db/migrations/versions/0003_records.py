"""Records behind the counter (archive, retention, reports, backups, 住民記録 linkage).

Reserved slot so that work on several domains keeps one linear chain of migrations; tables are
added here as the domain is built (use server.db.migration_ops.tenant_table for municipal tables).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
