"""Audit log: append-only at the database, hash chain detects changed, deleted, reordered rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from server.domain import audit
from tests.conftest import DEMO_LG_CODE
from tests.server.conftest import Api, reception_body


async def _fill(api: Api, n: int = 3) -> None:
    headers = await api.headers()
    for _ in range(n):
        await api.http.post("/api/v1/receptions", json=reception_body(), headers=headers)


async def _verify(api: Api) -> audit.ChainReport:
    async with api.db.tenant(DEMO_LG_CODE) as session:
        return await audit.verify_chain(session, DEMO_LG_CODE)


def _raw(api: Api) -> sqlite3.Connection:
    """A plain sqlite3 connection with the append-only triggers dropped (an attacker with file access)."""
    conn = sqlite3.connect(Path(api.settings.data_dir) / "madoguchi.db", isolation_level=None)
    conn.execute("DROP TRIGGER audit_events_no_update")
    conn.execute("DROP TRIGGER audit_events_no_delete")
    return conn


async def test_chain_intact(api: Api) -> None:
    """An untouched chain verifies with its full count."""
    await _fill(api)
    report = await _verify(api)
    assert report.ok
    assert report.count >= 3 + 1 + 4  # receptions, login, seed events


async def test_update_and_delete_refused(api: Api) -> None:
    """The database itself refuses UPDATE and DELETE of audit rows (triggers)."""
    await _fill(api, 1)
    for statement in ("UPDATE audit_events SET action='x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with api.db.tenant(DEMO_LG_CODE) as session:
                await session.execute(sa.text(statement))


async def test_changed_row_detected(api: Api) -> None:
    """Changing one row's content breaks the chain exactly at that sequence number."""
    await _fill(api)
    with _raw(api) as conn:
        conn.execute("UPDATE audit_events SET username='mallory' WHERE seq=6")
    report = await _verify(api)
    assert (report.ok, report.broken_at) == (False, 6)


async def test_deleted_row_detected(api: Api) -> None:
    """Deleting a row is reported at the missing sequence number."""
    await _fill(api)
    with _raw(api) as conn:
        conn.execute("DELETE FROM audit_events WHERE seq=5")
    report = await _verify(api)
    assert (report.ok, report.broken_at) == (False, 5)


async def test_reordered_rows_detected(api: Api) -> None:
    """Swapping two rows' sequence numbers is detected at the first swapped position."""
    await _fill(api)
    with _raw(api) as conn:
        conn.execute("UPDATE audit_events SET seq=-1 WHERE seq=5")
        conn.execute("UPDATE audit_events SET seq=5 WHERE seq=6")
        conn.execute("UPDATE audit_events SET seq=6 WHERE seq=-1")
    report = await _verify(api)
    assert (report.ok, report.broken_at) == (False, 5)


async def test_deleted_tail_detected(api: Api) -> None:
    """Deleting the newest rows leaves a valid prefix, but the chain's head still names the lost tail."""
    await _fill(api)
    before = await _verify(api)
    assert before.ok
    with _raw(api) as conn:
        conn.execute("DELETE FROM audit_events WHERE seq=(SELECT max(seq) FROM audit_events)")
    after = await _verify(api)
    assert (after.ok, after.broken_at) == (False, before.count)
    assert "末尾" in after.reason


async def test_head_only_moves_forward(api: Api) -> None:
    """The database refuses to move the chain's head backwards or to delete it."""
    await _fill(api, 1)
    for statement in ("UPDATE audit_heads SET seq = seq - 1", "DELETE FROM audit_heads"):
        with pytest.raises(DBAPIError, match="forward"):
            async with api.db.tenant(DEMO_LG_CODE) as session:
                await session.execute(sa.text(statement))


async def test_report_names_head_hash(api: Api) -> None:
    """verify reports the newest event's hash, which operators can keep outside the database."""
    await _fill(api, 1)
    report = await _verify(api)
    async with api.db.tenant(DEMO_LG_CODE) as session:
        newest = (
            await session.execute(sa.text("SELECT row_hash FROM audit_events ORDER BY seq DESC LIMIT 1"))
        ).scalar_one()
    assert report.head_hash == newest


async def test_concurrent_read_events_share_commits_and_keep_the_chain(api: Api) -> None:
    """Events handed to record_committed at the same time are all stored, in one chain that
    verifies, with fewer transactions than events (they share an occurred_at per commit)."""
    import asyncio

    from server.db.models import AuditEvent

    await _fill(api, 1)
    before = (await _verify(api)).count
    events = [
        audit.Event(actor=audit.SYSTEM, action="reception_search_success", details={"n": i})
        for i in range(20)
    ]
    await asyncio.gather(*(audit.record_committed(api.db, DEMO_LG_CODE, e) for e in events))
    report = await _verify(api)
    assert report.ok and report.count == before + 20
    async with api.db.tenant(DEMO_LG_CODE) as session:
        rows = (
            await session.execute(
                sa.select(AuditEvent.occurred_at, AuditEvent.details).where(
                    AuditEvent.action == "reception_search_success"
                )
            )
        ).all()
    assert sorted(d["n"] for _, d in rows) == list(range(20))
    assert len({at for at, _ in rows}) < 20


async def test_a_read_event_that_cannot_be_stored_fails_its_caller(api: Api) -> None:
    """record_committed raises when the write fails (unknown municipality): the caller answers
    with an error instead of results that were never audited; the chain is unchanged."""
    from sqlalchemy.exc import IntegrityError

    await _fill(api, 1)
    before = await _verify(api)
    with pytest.raises(IntegrityError):
        await audit.record_committed(
            api.db, "999999", audit.Event(actor=audit.SYSTEM, action="reception_search_success")
        )
    after = await _verify(api)
    assert after.ok and after.count == before.count
