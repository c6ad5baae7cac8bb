"""The durable outbox on a real SQLite file."""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

import pytest

from client.core.outbox import Outbox, State


def test_enqueue_is_committed_before_return(outbox: Outbox) -> None:
    """A row is visible to a second, independent connection as soon as enqueue returns."""
    item = outbox.enqueue("reception.create", {"a": 1})
    other = sqlite3.connect(outbox.path)
    try:
        rows = other.execute("SELECT client_key, state FROM outbox").fetchall()
    finally:
        other.close()
    assert rows == [(item.client_key, State.pending)]


def test_database_is_wal_with_full_sync(outbox: Outbox) -> None:
    """The outbox file uses WAL journaling and synchronous=FULL (2)."""
    with outbox._lock:
        assert outbox._db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert outbox._db.conn.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_rows_survive_reopening(tmp_path: Path) -> None:
    """What was enqueued is still pending after the outbox is closed and opened again."""
    path = tmp_path / "o.sqlite3"
    first = Outbox(path)
    key = str(uuid.uuid4())
    first.enqueue("reception.create", {"x": "転入"}, key)
    first.close()
    second = Outbox(path)
    try:
        item = second.get_by_key(key)
        assert item is not None and item.state == State.pending and item.payload == {"x": "転入"}
    finally:
        second.close()


def test_client_key_is_unique(outbox: Outbox) -> None:
    """The same client_key cannot be enqueued twice."""
    key = uuid.uuid4()
    outbox.enqueue("reception.create", {}, key)
    with pytest.raises(sqlite3.IntegrityError):
        outbox.enqueue("reception.create", {}, key)


def test_due_is_oldest_first_and_respects_next_attempt(outbox: Outbox) -> None:
    """due() returns pending rows oldest first and skips rows scheduled for later."""
    a = outbox.enqueue("reception.create", {"n": 1})
    b = outbox.enqueue("reception.create", {"n": 2})
    c = outbox.enqueue("reception.create", {"n": 3})
    outbox.mark_retry(b.id, "サーバーに接続できません。", time.time() + 60)
    assert [i.id for i in outbox.due()] == [a.id, c.id]
    assert [i.id for i in outbox.due(now=time.time() + 120)] == [a.id, b.id, c.id]
    assert outbox.get(b.id).attempts == 1  # type: ignore[union-attr]


def test_state_transitions_and_stats(outbox: Outbox) -> None:
    """delivered keeps the server answer, failed keeps the Japanese message; stats count both."""
    a = outbox.enqueue("reception.create", {})
    b = outbox.enqueue("reception.create", {})
    outbox.enqueue("reception.create", {})
    outbox.mark_delivered(a.id, {"reception_number": "20261122-0001"})
    outbox.mark_failed(b.id, "入力内容に誤りがあります。", "invalid_input")
    delivered, failed = outbox.get(a.id), outbox.get(b.id)
    assert delivered is not None and delivered.state == State.delivered
    assert delivered.reception_number == "20261122-0001" and delivered.delivered_at
    assert (
        failed is not None
        and failed.state == State.failed
        and failed.last_error == "入力内容に誤りがあります。"
    )
    assert outbox.stats().pending == 1 and outbox.stats().delivered == 1 and outbox.stats().failed == 1
    assert [i.id for i in outbox.due()] == [a.id + 2]


def test_retry_now_requeues_failed_but_never_delivered(outbox: Outbox) -> None:
    """retry_now makes a failed row pending again and leaves a delivered row alone."""
    a = outbox.enqueue("reception.create", {})
    b = outbox.enqueue("reception.create", {})
    outbox.mark_failed(a.id, "x", "y")
    outbox.mark_delivered(b.id, {})
    outbox.retry_now(a.id)
    outbox.retry_now(b.id)
    assert outbox.get(a.id).state == State.pending  # type: ignore[union-attr]
    assert outbox.get(b.id).state == State.delivered  # type: ignore[union-attr]


def test_mark_retry_does_not_resurrect_delivered(outbox: Outbox) -> None:
    """A late retry mark on a delivered row changes nothing."""
    a = outbox.enqueue("reception.create", {})
    outbox.mark_delivered(a.id, {"ok": True})
    outbox.mark_retry(a.id, "late", time.time() + 10)
    item = outbox.get(a.id)
    assert item is not None and item.state == State.delivered and item.last_error is None
