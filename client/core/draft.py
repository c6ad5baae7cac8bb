"""Drafts (入力途中の届出): what the clerk has typed so far, kept on disk until it is submitted.

A kill of the client, a crash or a power cut in the middle of a reception must not lose the
input. The screen hands over its **raw** field values (``{"persons.0.family_name": "試験", …}``,
every field's text exactly as typed, valid or not); they are written as one row per screen in a
SQLite file in the client data directory. Each save is one transaction (WAL, ``synchronous=FULL``):
after :meth:`DraftStore.save` returns, the new draft is on disk; a crash during a save leaves the
previous one. :meth:`DraftStore.clear` forgets the draft (after a successful submit or クリア).

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

TABLE = "drafts"


@dataclass(frozen=True)
class Draft:
    """One saved draft: the screen it belongs to, its raw field values, when and by whom."""

    screen: str
    values: dict[str, str]
    saved_at: str
    username: str | None = None


class DraftStore:
    """SQLite-backed drafts, one per screen; safe to call from the UI thread and worker threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self._db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        with self._lock:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            if TABLE not in self._db.table_names():
                with conn:
                    self._db[TABLE].create(  # type: ignore[union-attr]
                        {"screen": str, "fields": str, "saved_at": str, "username": str},
                        pk="screen",
                        not_null={"fields", "saved_at"},
                        if_not_exists=True,
                    )

    def close(self) -> None:
        with self._lock:
            self._db.conn.close()

    def save(self, screen: str, values: dict[str, str], *, username: str | None = None) -> None:
        """Replace the draft of ``screen`` with ``values`` (committed before return)."""
        clean = {str(k): "" if v is None else str(v) for k, v in values.items()}
        row = (
            screen,
            json.dumps(clean, ensure_ascii=False, sort_keys=True),
            datetime.now(UTC).isoformat(timespec="seconds"),
            username,
        )
        with self._lock, self._db.conn:
            self._db.conn.execute(
                f"INSERT OR REPLACE INTO {TABLE} (screen, fields, saved_at, username) "  # noqa: S608
                "VALUES (?, ?, ?, ?)",
                row,
            )

    def load(self, screen: str) -> Draft | None:
        """The draft of ``screen``, or None. A damaged row counts as no draft."""
        with self._lock:
            row = self._db.conn.execute(
                f"SELECT fields, saved_at, username FROM {TABLE} WHERE screen=?",  # noqa: S608
                (screen,),
            ).fetchone()
        if row is None:
            return None
        try:
            values = json.loads(row[0])
        except ValueError:
            return None
        if not isinstance(values, dict):
            return None
        return Draft(screen, {str(k): str(v) for k, v in values.items()}, row[1], row[2])

    def clear(self, screen: str) -> None:
        """Forget the draft of ``screen`` (after a successful submit or an explicit クリア)."""
        with self._lock, self._db.conn:
            self._db.conn.execute(f"DELETE FROM {TABLE} WHERE screen=?", (screen,))  # noqa: S608
