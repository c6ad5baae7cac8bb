"""Audit chain anchor: audit_heads holds each municipality's newest event; it only moves forward.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.db.migration_ops import tenant_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _create_table() -> None:
    op.create_table(
        "audit_heads",
        sa.Column("lg_code", sa.String(length=6), nullable=False, comment="全国地方公共団体コード (テナント)"),
        sa.Column("seq", sa.BigInteger(), nullable=False, comment="最新イベントの連番"),
        sa.Column("row_hash", sa.String(length=64), nullable=False, comment="最新イベントのハッシュ"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, comment="更新日時"),
        sa.ForeignKeyConstraint(
            ["lg_code"], ["municipalities.lg_code"], name=op.f("fk_audit_heads_lg_code_municipalities")
        ),
        sa.PrimaryKeyConstraint("lg_code", name=op.f("pk_audit_heads")),
    )


_BACKFILL = """
    INSERT INTO audit_heads (lg_code, seq, row_hash, updated_at)
    SELECT e.lg_code, e.seq, e.row_hash, e.occurred_at FROM audit_events e
    WHERE e.seq = (SELECT max(m.seq) FROM audit_events m WHERE m.lg_code = e.lg_code)
"""


def _sqlite() -> None:
    op.execute(_BACKFILL)
    op.execute(
        "CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads "
        "BEGIN SELECT RAISE(ABORT, 'audit_heads only moves forward'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_heads_forward_only BEFORE UPDATE ON audit_heads "
        "WHEN NEW.seq <= OLD.seq OR NEW.lg_code <> OLD.lg_code "
        "BEGIN SELECT RAISE(ABORT, 'audit_heads only moves forward'); END"
    )


def _postgresql() -> None:
    # The owner is subject to FORCE ROW LEVEL SECURITY: lift it for the one backfill statement.
    op.execute("ALTER TABLE audit_events NO FORCE ROW LEVEL SECURITY")
    op.execute(_BACKFILL)
    op.execute("ALTER TABLE audit_events FORCE ROW LEVEL SECURITY")
    op.execute(
        """
        CREATE FUNCTION madoguchi_audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'UPDATE' OR NEW.seq <= OLD.seq OR NEW.lg_code <> OLD.lg_code THEN
                RAISE EXCEPTION 'audit_heads only moves forward';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_heads_forward_only BEFORE UPDATE OR DELETE ON audit_heads "
        "FOR EACH ROW EXECUTE FUNCTION madoguchi_audit_head_forward_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON audit_heads "
        "FOR EACH STATEMENT EXECUTE FUNCTION madoguchi_audit_head_forward_only()"
    )
    tenant_table("audit_heads", privileges="SELECT, INSERT, UPDATE")


def upgrade() -> None:
    _create_table()
    if op.get_context().dialect.name == "postgresql":
        _postgresql()
    else:
        _sqlite()


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_heads_forward_only ON audit_heads")
        op.execute("DROP TRIGGER IF EXISTS audit_heads_no_truncate ON audit_heads")
        op.execute("DROP FUNCTION IF EXISTS madoguchi_audit_head_forward_only()")
    op.drop_table("audit_heads")
