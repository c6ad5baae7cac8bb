"""The 受付年月 on every search key, first in a second name index: a name search with a 受付日
range reads only the keys of the range's months.

A name with 20 000 keys (佐藤 at a million receptions) searched over 30 days read every one of them
to find the few hundred of those 30 days, because a B-tree can bound the key's prefix or the
受付番号, not both. With the month before the key, each month of the range is one descent that
reads only that month's keys starting with the name.

The column is generated from ``reception_number`` by the database (PostgreSQL: STORED — adding it
rewrites the table once and rebuilds its indexes, about a minute per million receptions on a
quiet machine; SQLite: VIRTUAL, computed when read, so adding it is instant). The application
never writes it.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

#: Same text as ``server.db.models._reception_search_key.MONTH_OF_NUMBER`` (a migration keeps its own).
MONTH_OF_NUMBER = "CAST(substr(reception_number, 1, 6) AS INTEGER)"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    # Plain ADD COLUMN (no batch copy on SQLite: a VIRTUAL generated column may be added in place).
    op.add_column(
        "reception_search_keys",
        sa.Column(
            "month",
            sa.Integer,
            sa.Computed(MONTH_OF_NUMBER),
            nullable=False,
            comment="受付年月 (YYYYMM、受付番号から算出)",
        ),
    )
    if postgres:
        # The planner chooses between this index and the lookup index by its estimate of a name
        # prefix's keys; with the default 100 histogram buckets over millions of keys it
        # estimated one key for 石川 (17 786), chose the lookup index and read all of them.
        # 2000 buckets estimate it within 5 %; ANALYZE reads a sample of 600 000 rows.
        op.execute("ALTER TABLE reception_search_keys ALTER COLUMN key SET STATISTICS 2000")
    op.create_index(
        "ix_reception_search_keys_month",
        "reception_search_keys",
        ["lg_code", "kind", "month", "key"],
        postgresql_ops={"key": "varchar_pattern_ops"},
        postgresql_include=["reception_id", "birth_date", "reception_number"],
    )
    if postgres:
        op.execute("ANALYZE reception_search_keys")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE reception_search_keys ALTER COLUMN key SET STATISTICS -1")
    op.drop_index("ix_reception_search_keys_month", table_name="reception_search_keys")
    with op.batch_alter_table("reception_search_keys") as batch:
        batch.drop_column("month")
