"""Indexes for reception search at archive scale (1 000 000 receptions): covering indexes on the
search keys, filter-then-sort indexes on receptions.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

KEY_OPS = {"key": "varchar_pattern_ops"}
SORT_INCLUDE = ["lg_code", "reception_number", "created_at", "kind", "status", "terminal_id", "created_by"]


def upgrade() -> None:
    op.drop_index("ix_reception_search_keys_lookup", table_name="reception_search_keys")
    op.create_index(
        "ix_reception_search_keys_lookup",
        "reception_search_keys",
        ["lg_code", "kind", "key"],
        postgresql_ops=KEY_OPS,
        postgresql_include=["reception_id", "birth_date"],
    )
    op.drop_index("ix_reception_search_keys_reception_id", table_name="reception_search_keys")
    op.create_index(
        "ix_reception_search_keys_reception",
        "reception_search_keys",
        ["reception_id", "kind", "key"],
        postgresql_ops=KEY_OPS,
        postgresql_include=["lg_code", "birth_date"],
    )
    op.create_index("ix_receptions_terminal", "receptions", ["lg_code", "terminal_id", "reception_number"])
    op.create_index("ix_receptions_status", "receptions", ["lg_code", "status", "reception_number"])
    op.create_index("ix_receptions_clerk", "receptions", ["lg_code", "created_by", "reception_number"])
    op.create_index("ix_receptions_created_at", "receptions", ["lg_code", "created_at"])
    op.create_index("ix_receptions_sort_keys", "receptions", ["id"], postgresql_include=SORT_INCLUDE)


def downgrade() -> None:
    for name in (
        "ix_receptions_sort_keys",
        "ix_receptions_created_at",
        "ix_receptions_clerk",
        "ix_receptions_status",
        "ix_receptions_terminal",
    ):
        op.drop_index(name, table_name="receptions")
    op.drop_index("ix_reception_search_keys_reception", table_name="reception_search_keys")
    op.create_index("ix_reception_search_keys_reception_id", "reception_search_keys", ["reception_id"])
    op.drop_index("ix_reception_search_keys_lookup", table_name="reception_search_keys")
    op.create_index(
        "ix_reception_search_keys_lookup",
        "reception_search_keys",
        ["lg_code", "kind", "key"],
        postgresql_ops=KEY_OPS,
    )
