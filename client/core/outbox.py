"""The durable outbox (送信待ち): every submission is written to SQLite before anything is sent.

One row per submission, keyed by the client-generated ``client_key`` that the server is idempotent
on. States: ``pending`` → ``delivered`` (after a 2xx, with the server's answer stored) or
``failed`` (a permanent 4xx, with the server's Japanese message kept for the clerk). The file is
in WAL mode with ``synchronous=FULL``: once :meth:`Outbox.enqueue` returns, the row survives a
crash or power loss of the terminal.

A submission can carry documents (添付: the printed forms as PDF, scans, 委任状). Their bytes are
written to ``<outbox>.files/<client_key>.bin`` (temporary name, fsync, rename, fsync of the folder)
*before* the transaction that inserts the submission and one ``outbox_files`` row per document, so
a kill between any two steps leaves either nothing or everything. A document is sent only after its
submission is delivered (it needs the reception's id), with its own ``client_key`` the server is
idempotent on; once the server has archived it the local copy is deleted. A refused document keeps
its bytes and the server's Japanese message (``failed``) until the clerk resends or removes it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from shared.errors import InvalidInput

TABLE = "outbox"
FILES_TABLE = "outbox_files"
_SUFFIX = ".bin"
_PART = ".part"


LOG_TABLE = "outbox_log"


class State:
    pending = "pending"  # 送信待ち
    delivered = "delivered"  # 送信済
    failed = "failed"  # 送信失敗 (要確認)
    discarded = "discarded"  # 破棄済 (by a clerk, recorded in outbox_log with its content)


STATE_LABELS = {
    State.pending: "送信待ち",
    State.delivered: "送信済",
    State.failed: "送信失敗",
    State.discarded: "破棄済",
}
#: States whose document bytes are no longer needed on this terminal.
_DONE = (State.delivered, State.discarded)


class NotDiscardable(InvalidInput):
    code = "outbox.not_discardable"
    default_message = "破棄できるのは送信失敗（サーバーが受け付けなかったもの）だけです。"


@dataclass(frozen=True)
class LogEntry:
    """One clerk's action on a failed submission or document (破棄 or 再送), kept on the terminal."""

    id: int
    at: str
    action: str  # discard | retry
    target: str  # reception | document
    client_key: str
    username: str | None
    error: str | None
    error_code: str | None
    saved_to: str | None
    content: dict[str, Any] | None


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
class OutgoingDocument:
    """A document to send with a submission: its class (``shared.api_records.DocumentClass``
    value), the name shown to people, and its bytes (PDF, JPEG, PNG or TIFF)."""

    document_class: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class OutboxFile:
    """One document of a submission in the outbox (its bytes are on disk until delivered)."""

    id: int
    client_key: str
    parent_key: str
    document_class: str
    filename: str
    size: int
    sha256: str
    state: str
    attempts: int
    created_at: str
    next_attempt_at: float
    last_error: str | None
    error_code: str | None
    response: dict[str, Any] | None
    delivered_at: str | None

    @property
    def attachment_id(self) -> str | None:
        """The server's id of the archived document, once delivered."""
        if self.response and isinstance(self.response.get("id"), str):
            return str(self.response["id"])
        return None


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    delivered: int
    failed: int
    files_pending: int = 0
    files_failed: int = 0


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _fsync_dir(path: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows; NTFS journals renames
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalFileDamaged(Exception):
    """The bytes of a queued document are missing or differ from what was queued."""


class Outbox:
    """A SQLite-backed queue shared by the UI thread and the sync worker (one lock, one connection)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.files_dir = self.path.with_name(self.path.name + ".files")
        self.files_dir.mkdir(exist_ok=True)
        conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self._db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        with self._lock:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            self._create()
            self._create_files()
            self._create_log()
        self._collect_garbage()

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

    def _create_files(self) -> None:
        with self._db.conn:
            self._db.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {FILES_TABLE} ("
                "id INTEGER PRIMARY KEY, client_key TEXT NOT NULL UNIQUE, "
                f"parent_key TEXT NOT NULL REFERENCES {TABLE}(client_key), "
                "document_class TEXT NOT NULL, filename TEXT NOT NULL, size INTEGER NOT NULL, "
                "sha256 TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
                "created_at TEXT NOT NULL, next_attempt_at FLOAT NOT NULL DEFAULT 0, last_error TEXT, "
                "error_code TEXT, response TEXT, delivered_at TEXT)"
            )
            self._db.conn.execute(
                f"CREATE INDEX IF NOT EXISTS idx_{FILES_TABLE}_parent ON {FILES_TABLE}(parent_key)"
            )

    def _create_log(self) -> None:
        with self._db.conn:
            self._db.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {LOG_TABLE} (id INTEGER PRIMARY KEY, at TEXT NOT NULL, "
                "action TEXT NOT NULL, target TEXT NOT NULL, client_key TEXT NOT NULL, username TEXT, "
                "error TEXT, error_code TEXT, saved_to TEXT, content TEXT)"
            )

    def _collect_garbage(self) -> None:
        """Remove bytes no pending or failed document needs (a kill before the row was committed,
        or after delivery before the local copy was deleted)."""
        with self._lock:
            keep = {
                row[0] + _SUFFIX
                for row in self._db.conn.execute(
                    f"SELECT client_key FROM {FILES_TABLE} WHERE state NOT IN (?, ?)",  # noqa: S608
                    _DONE,
                )
            }
            for entry in self.files_dir.iterdir():
                if entry.is_file() and entry.name not in keep:
                    entry.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            self._db.conn.close()

    # -- document bytes ----------------------------------------------------------------------

    def file_path(self, f: OutboxFile) -> Path:
        return self.files_dir / f"{f.client_key}{_SUFFIX}"

    def _write_bytes(self, client_key: str, data: bytes) -> Path:
        final = self.files_dir / f"{client_key}{_SUFFIX}"
        part = self.files_dir / f"{client_key}{_PART}"
        with open(part, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(part, final)
        _fsync_dir(self.files_dir)
        return final

    def read_file(self, f: OutboxFile) -> bytes:
        """The queued bytes of ``f``, checked against the SHA-256 taken when it was queued."""
        try:
            data = self.file_path(f).read_bytes()
        except OSError as exc:
            raise LocalFileDamaged(str(exc)) from None
        if hashlib.sha256(data).hexdigest() != f.sha256:
            raise LocalFileDamaged("sha256 mismatch")
        return data

    # -- writing -----------------------------------------------------------------------------

    def enqueue(
        self,
        kind: str,
        payload: dict[str, Any],
        client_key: str | uuid.UUID | None = None,
        documents: Sequence[OutgoingDocument] = (),
    ) -> OutboxItem:
        """Store a submission and its documents durably (committed before return).

        The documents' bytes are on disk (fsynced) before the one transaction that records the
        submission and them; if that transaction fails, the bytes are removed again.
        """
        key = str(client_key or uuid.uuid4())
        written: list[Path] = []
        file_rows: list[dict[str, Any]] = []
        try:
            for doc in documents:
                file_key = str(uuid.uuid4())
                written.append(self._write_bytes(file_key, doc.data))
                file_rows.append(
                    {
                        "client_key": file_key,
                        "parent_key": key,
                        "document_class": doc.document_class,
                        "filename": doc.filename,
                        "size": len(doc.data),
                        "sha256": hashlib.sha256(doc.data).hexdigest(),
                        "state": State.pending,
                        "created_at": _now_iso(),
                    }
                )
            self._insert(kind, payload, key, file_rows)
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
        item = self.get_by_key(key)
        assert item is not None
        return item

    def _insert(self, kind: str, payload: dict[str, Any], key: str, file_rows: list[dict[str, Any]]) -> None:
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
            for file_row in file_rows:
                self._db.conn.execute(
                    f"INSERT INTO {FILES_TABLE} (client_key, parent_key, document_class, filename, size, "  # noqa: S608
                    "sha256, state, created_at) VALUES (:client_key, :parent_key, :document_class, "
                    ":filename, :size, :sha256, :state, :created_at)",
                    file_row,
                )

    # -- documents: state changes --------------------------------------------------------------

    def mark_file_delivered(self, file_id: int, response: dict[str, Any] | None) -> None:
        """The server archived the document: record its answer, then delete the local bytes."""
        with self._lock, self._db.conn:
            self._db.conn.execute(
                f"UPDATE {FILES_TABLE} SET state=?, response=?, delivered_at=?, last_error=NULL, "  # noqa: S608
                "error_code=NULL, attempts=attempts+1 WHERE id=?",
                (State.delivered, json.dumps(response, ensure_ascii=False), _now_iso(), file_id),
            )
        f = self.get_file(file_id)
        if f is not None:
            self.file_path(f).unlink(missing_ok=True)

    def mark_file_failed(self, file_id: int, message: str, code: str | None) -> None:
        """Refused for good (too large, broken …): the bytes stay for the clerk to look at."""
        with self._lock, self._db.conn:
            self._db.conn.execute(
                f"UPDATE {FILES_TABLE} SET state=?, last_error=?, error_code=?, attempts=attempts+1 "  # noqa: S608
                "WHERE id=?",
                (State.failed, message, code, file_id),
            )

    def mark_file_retry(self, file_id: int, message: str, next_attempt_at: float) -> None:
        with self._lock, self._db.conn:
            self._db.conn.execute(
                f"UPDATE {FILES_TABLE} SET last_error=?, next_attempt_at=?, attempts=attempts+1 "  # noqa: S608
                "WHERE id=? AND state=?",
                (message, next_attempt_at, file_id, State.pending),
            )

    def retry_file_now(self, file_id: int) -> None:
        """Make a failed or waiting document due again (the clerk pressed 再送)."""
        with self._lock, self._db.conn:
            self._db.conn.execute(
                f"UPDATE {FILES_TABLE} SET state=?, next_attempt_at=0 WHERE id=? AND state NOT IN (?, ?)",  # noqa: S608
                (State.pending, file_id, *_DONE),
            )

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
                f"UPDATE {TABLE} SET state=?, next_attempt_at=0 WHERE id=? AND state NOT IN (?, ?)",  # noqa: S608
                (State.pending, item_id, *_DONE),
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
        """When the earliest pending row (or sendable document) becomes due, or None if none."""
        with self._lock:
            row = self._db.conn.execute(
                f"SELECT MIN(t) FROM (SELECT MIN(next_attempt_at) AS t FROM {TABLE} WHERE state=? "  # noqa: S608
                f"UNION ALL SELECT MIN(f.next_attempt_at) FROM {FILES_TABLE} f JOIN {TABLE} o "
                "ON o.client_key=f.parent_key WHERE f.state=? AND o.state=?)",
                (State.pending, State.pending, State.delivered),
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
            files = dict(
                self._db.conn.execute(
                    f"SELECT state, COUNT(*) FROM {FILES_TABLE} GROUP BY state"  # noqa: S608
                ).fetchall()
            )
        return OutboxStats(
            pending=counts.get(State.pending, 0),
            delivered=counts.get(State.delivered, 0),
            failed=counts.get(State.failed, 0),
            files_pending=files.get(State.pending, 0),
            files_failed=files.get(State.failed, 0),
        )

    # -- documents: reading --------------------------------------------------------------------

    def _file_rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[OutboxFile]:
        with self._lock:
            cursor = self._db.conn.execute(sql, params)
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        out = []
        for values in rows:
            row = dict(zip(names, values, strict=True))
            row["response"] = json.loads(row["response"]) if row["response"] else None
            out.append(OutboxFile(**row))
        return out

    def get_file(self, file_id: int) -> OutboxFile | None:
        found = self._file_rows(f"SELECT * FROM {FILES_TABLE} WHERE id=?", (file_id,))  # noqa: S608
        return found[0] if found else None

    def files_of(self, parent_key: str | uuid.UUID) -> list[OutboxFile]:
        """The documents of one submission, in the order they were queued."""
        return self._file_rows(
            f"SELECT * FROM {FILES_TABLE} WHERE parent_key=? ORDER BY id",  # noqa: S608
            (str(parent_key),),
        )

    def due_files(self, now: float | None = None, limit: int = 50) -> list[OutboxFile]:
        """Pending documents whose submission is delivered and whose time has come, oldest first."""
        now = time.time() if now is None else now
        return self._file_rows(
            f"SELECT f.* FROM {FILES_TABLE} f JOIN {TABLE} o ON o.client_key=f.parent_key "  # noqa: S608
            "WHERE f.state=? AND o.state=? AND f.next_attempt_at<=? ORDER BY f.id LIMIT ?",
            (State.pending, State.delivered, now, limit),
        )

    # -- a clerk's decision on what the server refused: 再送 or 破棄, recorded -------------------

    def _log(self, action: str, target: str, client_key: str, username: str | None, **extra: Any) -> None:
        content = extra.pop("content", None)
        self._db.conn.execute(
            f"INSERT INTO {LOG_TABLE} (at, action, target, client_key, username, error, error_code, "  # noqa: S608
            "saved_to, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                _now_iso(),
                action,
                target,
                client_key,
                username,
                extra.get("error"),
                extra.get("error_code"),
                extra.get("saved_to"),
                json.dumps(content, ensure_ascii=False) if content is not None else None,
            ),
        )

    def retry(self, item: OutboxItem | OutboxFile, *, username: str | None) -> None:
        """再送 by a clerk: due again now, and the decision recorded with the error it answered."""
        target = "reception" if isinstance(item, OutboxItem) else "document"
        with self._lock, self._db.conn:
            self._log(
                "retry", target, item.client_key, username, error=item.last_error, error_code=item.error_code
            )
        if isinstance(item, OutboxItem):
            self.retry_now(item.id)
        else:
            self.retry_file_now(item.id)

    def export(self, item: OutboxItem | OutboxFile, folder: Path) -> Path:
        """Save what would be lost by a 破棄 into ``folder/<日時>-<client_key>/``: the submission
        (JSON, with the server's message) and each document's bytes under its name. Returns the
        folder. Raises OSError (the caller says so in Japanese) and LocalFileDamaged."""
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path(folder) / f"{stamp}-{item.client_key[:8]}"
        out.mkdir(parents=True, exist_ok=False)
        if isinstance(item, OutboxItem):
            record = {
                "client_key": item.client_key,
                "kind": item.kind,
                "created_at": item.created_at,
                "error": item.last_error,
                "error_code": item.error_code,
                "payload": item.payload,
            }
            (out / "submission.json").write_text(json.dumps(record, ensure_ascii=False, indent=2), "utf-8")
            files = [f for f in self.files_of(item.client_key) if f.state not in _DONE]
        else:
            files = [item]
        for n, f in enumerate(files, 1):
            name = (
                "".join(c if c.isalnum() or c in "._-（）()" else "_" for c in f.filename)[:80] or "document"
            )
            (out / f"{n:02d}-{name}").write_bytes(self.read_file(f))
        return out

    def discard(
        self, item: OutboxItem | OutboxFile, *, username: str | None, saved_to: str | Path | None = None
    ) -> None:
        """破棄 by a clerk of a submission or document the server refused for good (``failed`` only).
        The log keeps who, when, the server's message, where it was saved and the submission's
        content (documents: their names and SHA-256); the document bytes are then deleted."""
        is_item = isinstance(item, OutboxItem)
        table = TABLE if is_item else FILES_TABLE
        with self._lock, self._db.conn:
            row = self._db.conn.execute(
                f"SELECT state FROM {table} WHERE id=?",  # noqa: S608
                (item.id,),
            ).fetchone()
            if row is None or row[0] != State.failed:
                raise NotDiscardable()
            files = self.files_of(item.client_key) if isinstance(item, OutboxItem) else [item]
            files = [f for f in files if f.state not in _DONE]
            content: dict[str, Any] = {
                "documents": [{"filename": f.filename, "size": f.size, "sha256": f.sha256} for f in files]
            }
            if isinstance(item, OutboxItem):
                content["kind"] = item.kind
                content["payload"] = item.payload
            self._log(
                "discard",
                "reception" if is_item else "document",
                item.client_key,
                username,
                error=item.last_error,
                error_code=item.error_code,
                saved_to=str(saved_to) if saved_to else None,
                content=content,
            )
            self._db.conn.execute(
                f"UPDATE {table} SET state=? WHERE id=?",  # noqa: S608
                (State.discarded, item.id),
            )
            for f in files:
                self._db.conn.execute(
                    f"UPDATE {FILES_TABLE} SET state=? WHERE id=?",  # noqa: S608
                    (State.discarded, f.id),
                )
        for f in files:
            self.file_path(f).unlink(missing_ok=True)

    def failed(self) -> list[OutboxItem | OutboxFile]:
        """What the server refused for good and waits for a clerk: receptions, then documents."""
        items: list[OutboxItem | OutboxFile] = list(
            self._rows(f"SELECT * FROM {TABLE} WHERE state=? ORDER BY id", (State.failed,))  # noqa: S608
        )
        items += self._file_rows(
            f"SELECT * FROM {FILES_TABLE} WHERE state=? ORDER BY id",  # noqa: S608
            (State.failed,),
        )
        return items

    def log(self, limit: int = 200) -> list[LogEntry]:
        """The clerks' 破棄 and 再送, newest first."""
        with self._lock:
            rows = self._db.conn.execute(
                f"SELECT id, at, action, target, client_key, username, error, error_code, saved_to, "  # noqa: S608
                f"content FROM {LOG_TABLE} ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            LogEntry(
                id=r[0],
                at=r[1],
                action=r[2],
                target=r[3],
                client_key=r[4],
                username=r[5],
                error=r[6],
                error_code=r[7],
                saved_to=r[8],
                content=json.loads(r[9]) if r[9] else None,
            )
            for r in rows
        ]
