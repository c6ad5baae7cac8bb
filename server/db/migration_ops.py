"""Operations every migration that adds a municipal table needs, in one place.

    from server.db.migration_ops import tenant_table
    tenant_table("archive_blobs", privileges="SELECT, INSERT, UPDATE, DELETE")

On PostgreSQL this enables and forces row-level security with the ``madoguchi.lg_code`` policy and
grants the application role (``Settings.db_app_role``, if the role exists) the given privileges;
on SQLite it does nothing. ``python -m server db grant`` re-applies all grants later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def _is_postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def enable_tenant_rls(table: str) -> None:
    """PostgreSQL: only rows of the municipality bound with ``set_config('madoguchi.lg_code')``."""
    if not _is_postgresql():
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY {table}_tenant ON {table} "
        "USING (lg_code = current_setting('madoguchi.lg_code', true)) "
        "WITH CHECK (lg_code = current_setting('madoguchi.lg_code', true))"
    )


def grant_app_role(table: str, privileges: str) -> None:
    """PostgreSQL: grant the application role ``privileges`` on ``table`` if the role exists."""
    if not _is_postgresql():
        return
    config = op.get_context().config
    role = config.attributes.get("app_role") if config is not None else None
    if not role:
        return
    bind = op.get_bind()
    if not bind.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
        return
    op.execute(f"GRANT {privileges} ON {table} TO {bind.dialect.identifier_preparer.quote(role)}")


def tenant_table(table: str, *, privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> None:
    """Row-level security plus the application role's grants for a new municipal table."""
    enable_tenant_rls(table)
    grant_app_role(table, privileges)
