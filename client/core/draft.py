"""Drafts (入力途中の届出): what the clerk has typed so far, kept on disk until it is submitted.

A kill of the client, a crash or a power cut in the middle of a reception must not lose the
input. The screen hands over its **raw** field values (``{"persons.0.family_name": "試験", …}``,
every field's text exactly as typed, valid or not); they are written as one row per screen in a
SQLite file in the client data directory. Each save is one transaction (WAL, ``synchronous=FULL``):
after :meth:`DraftStore.save` returns, the new draft is on disk; a crash during a save leaves the
previous one. :meth:`DraftStore.clear` forgets the draft (after a successful submit or クリア).

Drafts belong to the clerk who typed them: one row per (screen, user), and :meth:`DraftStore.load`
gives only the row of the user asked for, so after a logout another clerk on the same terminal never
sees (or restores) the previous clerk's resident. ``username=None`` is the draft of a screen used
without a login (tests, tools); it is a key of its own, not a wildcard.

Qt-free: the counter screen's debounce and the restore question live in ``client/ui/counter``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

TABLE = "user_drafts"
#: The first schema: one row per screen whoever typed it; its rows move to TABLE on open.
OLD_TABLE = "drafts"
NO_USER = ""


@dataclass(frozen=True)
class Draft:
    """One saved draft: the screen it belongs to, its raw field values, when and by whom."""

    screen: str
    values: dict[str, str]
    saved_at: str
    username: str | None = None


def _owner(username: str | None) -> str:
    return NO_USER if username is None else username


class DraftStore:
    """SQLite-backed drafts, one per screen and user; safe to call from the UI thread and workers."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self._db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        with self._lock:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            with conn:
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {TABLE} (screen TEXT NOT NULL, "
                    "username TEXT NOT NULL, fields TEXT NOT NULL, saved_at TEXT NOT NULL, "
                    "PRIMARY KEY (screen, username))"
                )
                if OLD_TABLE in self._db.table_names():
                    # an older client's file: each screen's draft goes to the user who typed it
                    conn.execute(
                        f"INSERT OR IGNORE INTO {TABLE} (screen, username, fields, saved_at) "  # noqa: S608
                        f"SELECT screen, COALESCE(username, ''), fields, saved_at FROM {OLD_TABLE} "
                        "WHERE fields IS NOT NULL AND saved_at IS NOT NULL"
                    )
                    conn.execute(f"DROP TABLE {OLD_TABLE}")

    def close(self) -> None:
        with self._lock:
            self._db.conn.close()

    def save(self, screen: str, values: dict[str, str], *, username: str | None = None) -> None:
        """Replace ``username``'s draft of ``screen`` with ``values`` (committed before return)."""
        clean = {str(k): "" if v is None else str(v) for k, v in values.items()}
        row = (
            screen,
            _owner(username),
            json.dumps(clean, ensure_ascii=False, sort_keys=True),
            datetime.now(UTC).isoformat(timespec="seconds"),
        )
        with self._lock, self._db.conn:
            self._db.conn.execute(
                f"INSERT OR REPLACE INTO {TABLE} (screen, username, fields, saved_at) "  # noqa: S608
                "VALUES (?, ?, ?, ?)",
                row,
            )

    def load(self, screen: str, *, username: str | None = None) -> Draft | None:
        """``username``'s draft of ``screen``, or None (another user's draft is never given).
        A damaged row counts as no draft."""
        with self._lock:
            row = self._db.conn.execute(
                f"SELECT fields, saved_at, username FROM {TABLE} WHERE screen=? AND username=?",  # noqa: S608
                (screen, _owner(username)),
            ).fetchone()
        if row is None:
            return None
        try:
            values = json.loads(row[0])
        except ValueError:
            return None
        if not isinstance(values, dict):
            return None
        return Draft(screen, {str(k): str(v) for k, v in values.items()}, row[1], row[2] or None)

    def clear(self, screen: str, *, username: str | None = None) -> None:
        """Forget ``username``'s draft of ``screen`` (after a successful submit or an explicit クリア)."""
        with self._lock, self._db.conn:
            self._db.conn.execute(
                f"DELETE FROM {TABLE} WHERE screen=? AND username=?",  # noqa: S608
                (screen, _owner(username)),
            )

    def owners(self, screen: str) -> list[str | None]:
        """Whose drafts of ``screen`` are kept (for the supervisor and tests; never their values)."""
        with self._lock:
            rows = self._db.conn.execute(
                f"SELECT username FROM {TABLE} WHERE screen=? ORDER BY username",  # noqa: S608
                (screen,),
            ).fetchall()
        return [r[0] or None for r in rows]
