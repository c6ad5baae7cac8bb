"""The durable outbox (送信待ち): every submission is written to SQLite before anything is sent.

One row per submission, keyed by the client-generated ``client_key`` that the server is idempotent
on. States: ``pending`` → ``delivered`` (after a 2xx, with the server's answer stored) or
``failed`` (a permanent 4xx, with the server's Japanese message kept for the clerk). The file is
in WAL mode with ``synchronous=FULL``: once :meth:`Outbox.enqueue` returns, the row survives a
crash or power loss of the terminal.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

TABLE = "outbox"


class State:
    pending = "pending"  # 送信待ち
    delivered = "delivered"  # 送信済
    failed = "failed"  # 送信失敗 (要確認)


STATE_LABELS = {State.pending: "送信待ち", State.delivered: "送信済", State.failed: "送信失敗"}


@dataclass(frozen=True)
class OutboxItem:
    """One row of the outbox."""

    id: int
    client_key: str
    kind: str
    payload: dict[str, Any]
    state: str
    attempts: int
    created_at: str
    next_attempt_at: float
    last_error: str | None
    error_code: str | None
    response: dict[str, Any] | None
    delivered_at: str | None

    @property
    def reception_number(self) -> str | None:
        """The 受付番号 from the server's answer, once delivered."""
        if self.response and isinstance(self.response.get("reception_number"), str):
            return str(self.response["reception_number"])
        return None


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    delivered: int
    failed: int


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Outbox:
    """A SQLite-backed queue shared by the UI thread and the sync worker (one lock, one connection)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self._db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        with self._lock:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            self._create()

    def _create(self) -> None:
        if TABLE in self._db.table_names():
            return
        with self._db.conn:
            self._db[TABLE].create(  # type: ignore[union-attr]
                {
                    "id": int,
                    "client_key": str,
                    "kind": str,
                    "payload": str,
                    "state": str,
                    "attempts": int,
                    "created_at": str,
                    "next_attempt_at": float,
                    "last_error": str,
                    "error_code": str,
                    "response": str,
                    "delivered_at": str,
                },
                pk="id",
                not_null={
                    "client_key",
                    "kind",
                    "payload",
                    "state",
                    "attempts",
                    "created_at",
                    "next_attempt_at",
                },
                defaults={"attempts": 0},
                if_not_exists=True,
            )
            self._db[TABLE].create_index(["client_key"], unique=True, if_not_exists=True)  # type: ignore[union-attr]
            self._db[TABLE].create_index(["state", "next_attempt_at"], if_not_exists=True)  # type: ignore[union-attr]

    def close(self) -> None:
        with self._lock:
            self._db.conn.close()

    # -- writing -----------------------------------------------------------------------------

    def enqueue(
        self, kind: str, payload: dict[str, Any], client_key: str | uuid.UUID | None = None
    ) -> OutboxItem:
        """Store a submission durably (committed before return) and give it back as a row."""
        key = str(client_key or uuid.uuid4())
        row = {
            "client_key": key,
            "kind": kind,
            "payload": json.dumps(payload, ensure_ascii=False, sort_keys=True),
            "state": State.pending,
            "attempts": 0,
            "created_at": _now_iso(),
            "next_attempt_at": 0.0,
        }
        with self._lock, self._db.conn:
            self._db.conn.execute(
                f"INSERT INTO {TABLE} (client_key, kind, payload, state, attempts, created_at, "  # noqa: S608
                "next_attempt_at) VALUES (:client_key, :kind, :payload, :state, :attempts, :created_at, "
                ":next_attempt_at)",
                row,
            )
        item = self.get_by_key(key)
        assert item is not None
        return item

    def mark_delivered(self, item_id: int, response: dict[str, Any] | None) -> None:
        """Record a 2xx answer: the row is done and keeps the server's answer."""
        with self._lock, self._db.conn:
            self._db.conn.execute(
                f"UPDATE {TABLE} SET state=?, response=?, delivered_at=?, last_error=NULL, "  # noqa: S608
                "error_code=NULL, attempts=attempts+1 WHERE id=?",
                (State.delivered, json.dumps(response, ensure_ascii=False), _now_iso(), item_id),
            )

    def mark_failed(self, item_id: int, message: str, code: str | None) -> None:
        """A permanent refusal: keep the server's Japanese message for the clerk; never resent."""
        with self._lock, self._db.conn:
            self._db.conn.execute(
                f"UPDATE {TABLE} SET state=?, last_error=?, error_code=?, attempts=attempts+1 "  # noqa: S608
                "WHERE id=?",
                (State.failed, message, code, item_id),
            )

    def mark_retry(self, item_id: int, message: str, next_attempt_at: float, *, count: bool = True) -> None:
        """A temporary failure: try again at ``next_attempt_at`` (epoch seconds)."""
        with self._lock, self._db.conn:
            self._db.conn.execute(
                f"UPDATE {TABLE} SET last_error=?, next_attempt_at=?, "  # noqa: S608
                "attempts=attempts+? WHERE id=? AND state=?",
                (message, next_attempt_at, 1 if count else 0, item_id, State.pending),
            )

    def retry_now(self, item_id: int) -> None:
        """Make a pending or failed row due immediately (the clerk pressed 再送)."""
        with self._lock, self._db.conn:
            self._db.conn.execute(
                f"UPDATE {TABLE} SET state=?, next_attempt_at=0 WHERE id=? AND state!=?",  # noqa: S608
                (State.pending, item_id, State.delivered),
            )

    # -- reading -----------------------------------------------------------------------------

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[OutboxItem]:
        with self._lock:
            cursor = self._db.conn.execute(sql, params)
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        for values in rows:
            row = dict(zip(names, values, strict=True))
            yield OutboxItem(
                id=row["id"],
                client_key=row["client_key"],
                kind=row["kind"],
                payload=json.loads(row["payload"]),
                state=row["state"],
                attempts=row["attempts"],
                created_at=row["created_at"],
                next_attempt_at=row["next_attempt_at"],
                last_error=row["last_error"],
                error_code=row["error_code"],
                response=json.loads(row["response"]) if row["response"] else None,
                delivered_at=row["delivered_at"],
            )

    def get(self, item_id: int) -> OutboxItem | None:
        return next(self._rows(f"SELECT * FROM {TABLE} WHERE id=?", (item_id,)), None)  # noqa: S608

    def get_by_key(self, client_key: str | uuid.UUID) -> OutboxItem | None:
        return next(
            self._rows(f"SELECT * FROM {TABLE} WHERE client_key=?", (str(client_key),)),  # noqa: S608
            None,
        )

    def due(self, now: float | None = None, limit: int = 50) -> list[OutboxItem]:
        """Pending rows whose time has come, oldest first."""
        now = time.time() if now is None else now
        return list(
            self._rows(
                f"SELECT * FROM {TABLE} WHERE state=? AND next_attempt_at<=? ORDER BY id LIMIT ?",  # noqa: S608
                (State.pending, now, limit),
            )
        )

    def next_due_at(self) -> float | None:
        """When the earliest pending row becomes due (epoch seconds), or None if nothing is pending."""
        with self._lock:
            row = self._db.conn.execute(
                f"SELECT MIN(next_attempt_at) FROM {TABLE} WHERE state=?",  # noqa: S608
                (State.pending,),
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def items(self, limit: int = 200) -> list[OutboxItem]:
        """Most recent rows first (for the supervisor's view)."""
        return list(self._rows(f"SELECT * FROM {TABLE} ORDER BY id DESC LIMIT ?", (limit,)))  # noqa: S608

    def stats(self) -> OutboxStats:
        with self._lock:
            counts = dict(
                self._db.conn.execute(f"SELECT state, COUNT(*) FROM {TABLE} GROUP BY state").fetchall()  # noqa: S608
            )
        return OutboxStats(
            pending=counts.get(State.pending, 0),
            delivered=counts.get(State.delivered, 0),
            failed=counts.get(State.failed, 0),
        )
