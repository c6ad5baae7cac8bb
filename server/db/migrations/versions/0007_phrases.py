"""語句登録 (phrases, municipal: row-level security) and the address parts of the register.

``residents`` gains 都道府県 / 市区郡町村名 / 町字 / 番地号表記 as separate columns (the counter's
prefill fills the form's parts) and an address search key. Rows already imported get the key
here; their parts arrive with the next import (the joined 住所 is kept until then).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.db.migration_ops import tenant_table
from server.db.models._base import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

LG = "全国地方公共団体コード (テナント)"
PARTS = (
    ("prefecture", "住所_都道府県"),
    ("municipality", "住所_市区郡町村名"),
    ("town", "住所_町字"),
    ("block_number", "住所_番地号表記"),
)


def upgrade() -> None:
    op.create_table(
        "phrases",
        sa.Column("lg_code", sa.String(length=6), nullable=False, comment=LG),
        sa.Column("owner_user_id", sa.Uuid(), nullable=True, comment="所有する職員 (共通はNULL)"),
        sa.Column("scope_key", sa.String(length=36), nullable=False, comment="一覧の区分 (職員IDまたは office)"),
        sa.Column("reading", sa.String(length=100), nullable=False, comment="読み (ひらがな)"),
        sa.Column("reading_key", sa.String(length=100), nullable=False, comment="読みの検索キー"),
        sa.Column("key", sa.String(length=20), nullable=True, comment="略号"),
        sa.Column("text", sa.String(length=400), nullable=False, comment="語句"),
        sa.Column("category", sa.String(length=20), nullable=False, comment="分類 (town/building/memo/other)"),
        sa.Column("version", sa.Integer(), nullable=False, comment="版 (更新ごとに1増える)"),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False, comment="登録日時"),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False, comment="更新日時"),
        sa.Column("updated_by", sa.String(length=100), nullable=False, comment="最後に変更した職員のログインID"),
        sa.Column("id", sa.Uuid(), nullable=False, comment="識別子 (UUID)"),
        sa.ForeignKeyConstraint(["lg_code"], ["municipalities.lg_code"], name=op.f("fk_phrases_lg_code_municipalities")),
        sa.ForeignKeyConstraint(
            ["owner_user_id"], ["users.id"], name=op.f("fk_phrases_owner_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phrases")),
        sa.UniqueConstraint("lg_code", "scope_key", "key", name=op.f("uq_phrases_lg_code_scope_key_key")),
        sa.UniqueConstraint("lg_code", "scope_key", "text", name=op.f("uq_phrases_lg_code_scope_key_text")),
    )
    with op.batch_alter_table("phrases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_phrases_lg_code"), ["lg_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_phrases_owner_user_id"), ["owner_user_id"], unique=False)
    tenant_table("phrases")

    with op.batch_alter_table("residents", schema=None) as batch_op:
        for name, comment in PARTS:
            batch_op.add_column(sa.Column(name, sa.String(length=100), nullable=True, comment=comment))
        batch_op.add_column(sa.Column("address_key", sa.String(length=600), nullable=True, comment="住所の検索キー"))
    _fill_address_keys()


def _fill_address_keys() -> None:
    """The address search key of rows imported before this migration (per municipality, so that
    row-level security, forced for the owner too, lets the rows through)."""
    from shared.text.normalize import search_key

    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    for (lg_code,) in bind.execute(sa.text("SELECT lg_code FROM municipalities")).all():
        if postgres:
            bind.execute(sa.text("SELECT set_config('madoguchi.lg_code', :lg, true)"), {"lg": lg_code})
        rows = bind.execute(
            sa.text("SELECT id, address, building FROM residents WHERE lg_code = :lg"), {"lg": lg_code}
        ).all()
        for rid, address, building in rows:
            key = search_key((address or "") + (building or ""))[:600]
            bind.execute(sa.text("UPDATE residents SET address_key = :k WHERE id = :id"), {"k": key, "id": rid})
    if postgres:
        bind.execute(sa.text("SELECT set_config('madoguchi.lg_code', '', true)"))


def downgrade() -> None:
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.drop_column("address_key")
        for name, _comment in reversed(PARTS):
            batch_op.drop_column(name)
    op.drop_table("phrases")
