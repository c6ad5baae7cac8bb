"""PostgreSQL privileges of the application role (``Settings.db_app_role``).

The initial migration grants them when the role already exists; ``python -m server db grant``
applies them later (after creating the role, or after a migration that adds tables). The app role
reads the tenant registry, may only SELECT and INSERT audit rows, and works on the municipal
tables under row-level security.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.models import MUNICIPAL_TABLES
from shared.errors import NotFound

#: Tables whose rows the application role may never delete (their grants are spelled out above).
APPEND_ONLY_TABLES = ("audit_events", "audit_heads")


def grant_statements(quoted_role: str) -> list[str]:
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {quoted_role}",
        f"GRANT SELECT ON municipalities TO {quoted_role}",
        f"GRANT SELECT, INSERT ON audit_events TO {quoted_role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {quoted_role}",
        # The chain's head moves forward on every event but is never removed.
        f"GRANT SELECT, INSERT, UPDATE ON audit_heads TO {quoted_role}",
        f"REVOKE DELETE, TRUNCATE ON audit_heads FROM {quoted_role}",
        # The built-in scheduler's lock and result rows (not municipal: backups are system-wide).
        f"GRANT SELECT, INSERT, UPDATE ON scheduled_runs TO {quoted_role}",
    ]
    statements += [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {quoted_role}"
        for table in MUNICIPAL_TABLES
        if table not in APPEND_ONLY_TABLES
    ]
    return statements


async def grant_app_role(conn: AsyncConnection, role: str) -> None:
    """Grant ``role`` its privileges (PostgreSQL only; run as the tables' owner)."""
    if conn.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    exists = (await conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})).scalar()
    if not exists:
        raise NotFound(f"データベースのロール「{role}」がありません。先に作成してください。")
    quoted = conn.dialect.identifier_preparer.quote(role)
    for statement in grant_statements(quoted):
        await conn.execute(text(statement))
