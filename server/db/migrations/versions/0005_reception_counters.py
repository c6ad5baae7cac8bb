"""受付番号 from an atomic per-day counter instead of max()+1 with retries.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.db.migration_ops import tenant_table

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BACKFILL = """
    INSERT INTO reception_counters (lg_code, business_date, last_seq)
    SELECT lg_code, business_date, max(daily_seq) FROM receptions GROUP BY lg_code, business_date
"""


def upgrade() -> None:
    op.create_table(
        "reception_counters",
        sa.Column("lg_code", sa.String(length=6), nullable=False, comment="全国地方公共団体コード (テナント)"),
        sa.Column("business_date", sa.Date(), nullable=False, comment="受付日 (日本時間)"),
        sa.Column("last_seq", sa.Integer(), nullable=False, comment="最後に払い出した連番"),
        sa.ForeignKeyConstraint(
            ["lg_code"], ["municipalities.lg_code"], name=op.f("fk_reception_counters_lg_code_municipalities")
        ),
        sa.PrimaryKeyConstraint("lg_code", "business_date", name=op.f("pk_reception_counters")),
    )
    if op.get_context().dialect.name == "postgresql":
        # The owner is subject to FORCE ROW LEVEL SECURITY: lift it for the one backfill statement.
        op.execute("ALTER TABLE receptions NO FORCE ROW LEVEL SECURITY")
        op.execute(_BACKFILL)
        op.execute("ALTER TABLE receptions FORCE ROW LEVEL SECURITY")
    else:
        op.execute(_BACKFILL)
    tenant_table("reception_counters", privileges="SELECT, INSERT, UPDATE")


def downgrade() -> None:
    op.drop_table("reception_counters")
