"""The 受付番号 on every search key, in the name lookup index: a name search sorts its matches,
applies the 受付日 range, limits the page and counts from that index alone.

Before, a name search either walked every reception from the newest, probing the keys of each
(cheap for 佐藤, 14 000 probes for one page of サトウタロウ), or visited every match's reception
for its number — whichever the planner guessed, and its guess of a prefix range is poor. The
number never changes once given, so a copy of it on the key is safe.

The backfill is one UPDATE (PostgreSQL: joined; SQLite: a correlated subquery). The lookup index
is dropped before it and built after it, so the UPDATE does not maintain it.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

KEY_OPS = {"key": "varchar_pattern_ops"}


def upgrade() -> None:
    op.drop_index("ix_reception_search_keys_lookup", table_name="reception_search_keys")
    op.add_column(
        "reception_search_keys",
        sa.Column("reception_number", sa.String(20), nullable=True, comment="受付番号 (受付の写し、並べ替え用)"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE reception_search_keys AS k SET reception_number = r.reception_number"
            " FROM receptions AS r WHERE r.id = k.reception_id"
        )
    else:
        op.execute(
            "UPDATE reception_search_keys SET reception_number = (SELECT r.reception_number"
            " FROM receptions AS r WHERE r.id = reception_search_keys.reception_id)"
        )
    with op.batch_alter_table("reception_search_keys") as batch:
        batch.alter_column("reception_number", existing_type=sa.String(20), nullable=False)
    op.create_index(
        "ix_reception_search_keys_lookup",
        "reception_search_keys",
        ["lg_code", "kind", "key"],
        postgresql_ops=KEY_OPS,
        postgresql_include=["reception_id", "birth_date", "reception_number"],
    )


def downgrade() -> None:
    op.drop_index("ix_reception_search_keys_lookup", table_name="reception_search_keys")
    with op.batch_alter_table("reception_search_keys") as batch:
        batch.drop_column("reception_number")
    op.create_index(
        "ix_reception_search_keys_lookup",
        "reception_search_keys",
        ["lg_code", "kind", "key"],
        postgresql_ops=KEY_OPS,
        postgresql_include=["reception_id", "birth_date"],
    )
