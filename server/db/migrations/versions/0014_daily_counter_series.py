"""申請番号 of online applications from the same atomic daily counter as 受付番号 (max()+1 collided).

The counter table gets a ``series`` column in its key; existing rows are the ``reception`` series,
and today's and earlier 申請番号 are carried over so that new numbers continue after them.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _carry_over_references() -> None:
    """One ``eform`` counter row per municipality and day that already has 申請番号."""
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    if pg:  # the owner is subject to FORCE ROW LEVEL SECURITY: lift it for this one read
        op.execute("ALTER TABLE eform_applications NO FORCE ROW LEVEL SECURITY")
    rows = bind.execute(
        sa.text("SELECT lg_code, reference FROM eform_applications WHERE reference IS NOT NULL")
    ).all()
    if pg:
        op.execute("ALTER TABLE eform_applications FORCE ROW LEVEL SECURITY")
    last: dict[tuple[str, date], int] = {}
    for lg_code, reference in rows:
        try:
            _e, day, seq = reference.split("-")
            key = (lg_code, date(int(day[:4]), int(day[4:6]), int(day[6:8])))
            last[key] = max(last.get(key, 0), int(seq))
        except ValueError:
            continue
    counters = sa.table(
        "reception_counters",
        sa.column("lg_code", sa.String),
        sa.column("series", sa.String),
        sa.column("business_date", sa.Date),
        sa.column("last_seq", sa.Integer),
    )
    if last:
        op.bulk_insert(
            counters,
            [
                {"lg_code": lg, "series": "eform", "business_date": day, "last_seq": seq}
                for (lg, day), seq in last.items()
            ],
        )


def upgrade() -> None:
    with op.batch_alter_table("reception_counters") as batch:
        batch.add_column(
            sa.Column(
                "series", sa.String(length=20), server_default="reception", nullable=False, comment="採番の系列"
            )
        )
        batch.drop_constraint("pk_reception_counters", type_="primary")
        batch.create_primary_key("pk_reception_counters", ["lg_code", "series", "business_date"])
    _carry_over_references()


def downgrade() -> None:
    op.execute("DELETE FROM reception_counters WHERE series <> 'reception'")
    with op.batch_alter_table("reception_counters") as batch:
        batch.drop_constraint("pk_reception_counters", type_="primary")
        batch.create_primary_key("pk_reception_counters", ["lg_code", "business_date"])
        batch.drop_column("series")
