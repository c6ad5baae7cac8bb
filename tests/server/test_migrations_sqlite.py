"""Migrations on SQLite keep the rows that point at a table a migration rebuilds."""

from __future__ import annotations

import sqlite3

from alembic import command

from server.config import Settings
from server.db import migrate

# Tables that point at ``users`` with ON DELETE CASCADE: a batch copy of ``users`` with foreign keys
# on would empty them (found when 0017 added a unique constraint to users).
CHILDREN = ("user_groups", "auth_sessions")


def _counts(settings: Settings) -> dict[str, int]:
    db = sqlite3.connect(settings.data_dir / "madoguchi.db")
    try:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("users", *CHILDREN)}
    finally:
        db.close()


def test_down_and_up_keeps_group_memberships(settings: Settings) -> None:
    before = _counts(settings)
    assert before["users"] > 0 and before["user_groups"] > 0
    cfg = migrate.alembic_config(settings)
    command.downgrade(cfg, "0016")
    assert _counts(settings) == before
    migrate.upgrade(settings)
    assert _counts(settings) == before
    assert migrate.differences(settings) == []
