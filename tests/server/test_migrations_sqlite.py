"""Migrations on SQLite keep the rows of every table, including tables a migration rebuilds.

A batch migration copies a table and drops the original; with foreign keys on, that drop cascaded
into every table pointing at it (found when 0017 rebuilt ``users`` and emptied ``user_groups``).
"""

from __future__ import annotations

import sqlite3

from alembic import command

from server.config import Settings
from server.db import migrate


def _counts(settings: Settings) -> dict[str, int]:
    db = sqlite3.connect(settings.data_dir / "madoguchi.db")
    try:
        tables = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        db.close()


def test_down_and_up_keeps_every_row(settings: Settings) -> None:
    before = _counts(settings)
    assert before["users"] > 0 and before["user_groups"] > 0
    command.downgrade(migrate.alembic_config(settings), "0016")
    down = _counts(settings)
    assert {t: n for t, n in before.items() if t in down} == down
    migrate.upgrade(settings)
    assert _counts(settings) == before
    assert migrate.differences(settings) == []
