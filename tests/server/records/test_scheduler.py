"""The built-in scheduler driven with an injected clock: due jobs, one run per period even with two
processes, retries of failures, take-over of a dead run, and the results where supervisors see
them (backup status, stored monthly reports). No sleeping, no wall clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.config import Settings
from server.db.models import ScheduledRun
from server.domain.backups import service as backups
from server.domain.documents.controllers import blob_store
from server.domain.scheduler import service as scheduler
from tests.server.conftest import Api, count_rows, sqlite_settings

JST = ZoneInfo("Asia/Tokyo")


def at(text: str) -> datetime:
    """A Japan-time moment ``YYYY-MM-DD HH:MM``."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=JST)


def test_due_jobs_follow_the_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = sqlite_settings(tmp_path, schedule_signing_sweep_enabled=False)  # (hourly: its own test)
    # The month's report stays due until it has run (a server down on the 1st catches up).
    assert scheduler.due(s, at("2026-11-30 02:29")) == [("operation_report", "2026-10")]
    assert scheduler.due(s, at("2026-11-30 02:30")) == [
        ("backup", "2026-11-30"),
        ("operation_report", "2026-10"),
    ]
    assert scheduler.due(s, at("2026-12-01 03:29")) == [("backup", "2026-12-01")]
    assert scheduler.due(s, at("2026-12-01 03:30")) == [
        ("backup", "2026-12-01"),
        ("operation_report", "2026-11"),
    ]
    assert scheduler.due(s, at("2027-01-05 00:10")) == [("operation_report", "2026-12")]  # caught up
    off = sqlite_settings(
        tmp_path,
        schedule_backup_time="23:00",
        schedule_report_enabled=False,
        schedule_signing_sweep_enabled=False,
    )
    assert scheduler.due(off, at("2026-12-01 22:59")) == []
    assert scheduler.due(off, at("2026-12-01 23:00")) == [("backup", "2026-12-01")]
    assert "23:00" in scheduler.describe(off)
    assert "無効" in scheduler.describe(sqlite_settings(tmp_path, scheduler_enabled=False))


async def test_tick_runs_each_period_once_and_results_are_visible(api: Api) -> None:
    """At 04:00 on the 1st: backup and last month's report; a later tick the same day runs
    nothing; the next day only the backup. The supervisor sees both results over the API."""
    store = blob_store(api.app.state)
    first = await scheduler.tick(api.db, api.settings, store, at("2026-12-01 04:00"))
    assert [(o.job, o.period, o.status) for o in first] == [
        ("backup", "2026-12-01", "success"),
        ("operation_report", "2026-11", "success"),
        ("signing_sweep", "2026-12-01T04", "success"),  # hourly
    ], first
    assert await scheduler.tick(api.db, api.settings, store, at("2026-12-01 04:01")) == []
    second = await scheduler.tick(api.db, api.settings, store, at("2026-12-02 02:31"))
    assert [(o.job, o.period) for o in second] == [
        ("backup", "2026-12-02"),
        ("signing_sweep", "2026-12-02T02"),
    ]
    assert len(backups.generations(api.settings)) == 2
    for folder in backups.generations(api.settings):
        backups.verify(folder)

    h = await api.admin_headers()
    state = (await api.http.get("/api/v1/records/backups", headers=h)).json()
    assert (
        state["last_scheduled"]["period"] == "2026-12-02" and state["last_scheduled"]["status"] == "success"
    )
    assert "検証" in state["last_scheduled"]["message"] and "02:30" in state["schedule"]
    reports = (await api.http.get("/api/v1/reports/operations/stored", headers=h)).json()
    assert [r["period"] for r in reports] == ["2026-11"]
    pdf = await api.http.get(f"/api/v1/reports/operations/stored/{reports[0]['id']}?format=pdf", headers=h)
    csv = await api.http.get(f"/api/v1/reports/operations/stored/{reports[0]['id']}?format=csv", headers=h)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert csv.content.decode("utf-8-sig").startswith("区分,項目,値")
    clerk = await api.headers()
    assert (await api.http.get("/api/v1/reports/operations/stored", headers=clerk)).status_code == 403
    # A stored file changed behind the server's back is refused, not served.
    key = "reports/082104/operations-2026-11.pdf"
    store.put(key, b"%PDF-1.7 tampered")
    bad = await api.http.get(f"/api/v1/reports/operations/stored/{reports[0]['id']}?format=pdf", headers=h)
    assert bad.status_code == 500 and bad.json()["code"] == "attachment.integrity"


async def test_two_processes_never_run_the_same_period(api: Api, make_api: Callable[..., Api]) -> None:
    """Two apps on one database (two engines, as two server processes) tick at the same moment:
    each job runs once; the loser sees the row and leaves it."""
    other = make_api()
    try:
        now = at("2026-12-01 04:00")
        ran = []
        for _ in range(3):  # on SQLite a busy claim is left for the next tick: give it three
            a, b = await asyncio.gather(
                scheduler.tick(api.db, api.settings, blob_store(api.app.state), now, owner="host-a:1"),
                scheduler.tick(other.db, other.settings, blob_store(other.app.state), now, owner="host-b:2"),
            )
            ran += a + b
        assert sorted(o.job for o in ran) == ["backup", "operation_report", "signing_sweep"]
        assert len(backups.generations(api.settings)) == 1
        assert await count_rows(api.db, "scheduled_runs") == 3
    finally:
        await other.close()


async def test_failed_runs_are_retried_and_dead_runs_taken_over(
    api: Api, make_api: Callable[..., Api], tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """A backup that cannot be written fails with its reason (shown in the status), is retried
    after 30 minutes, at most 3 times; a run left 'running' by a dead process is taken over."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    broken = make_api(backup_dir=blocker, schedule_report_enabled=False, schedule_signing_sweep_enabled=False)
    try:
        store = blob_store(broken.app.state)
        t0 = at("2026-12-05 03:00")
        first = await scheduler.tick(broken.db, broken.settings, store, t0)
        assert [o.status for o in first] == ["failed"] and first[0].message
        assert await scheduler.tick(broken.db, broken.settings, store, t0 + timedelta(minutes=10)) == []
        for minutes in (31, 62):
            again = await scheduler.tick(broken.db, broken.settings, store, t0 + timedelta(minutes=minutes))
            assert [o.status for o in again] == ["failed"]
        assert await scheduler.tick(broken.db, broken.settings, store, t0 + timedelta(hours=5)) == []
        h = await broken.admin_headers()
        last = (await broken.http.get("/api/v1/records/backups", headers=h)).json()["last_scheduled"]
        assert (last["status"], last["attempts"]) == ("failed", 3)
    finally:
        await broken.close()

    async with api.db.unbound() as session:
        session.add(
            ScheduledRun(
                job="backup",
                period="2026-12-06",
                status="running",
                attempts=1,
                owner="dead-host:99",
                started_at=at("2026-12-06 02:30"),
                message="",
            )
        )
    store = blob_store(api.app.state)
    settings: Settings = api.settings.model_copy(
        update={"schedule_report_enabled": False, "schedule_signing_sweep_enabled": False}
    )
    assert await scheduler.tick(api.db, settings, store, at("2026-12-06 05:00")) == []
    taken = await scheduler.tick(api.db, settings, store, at("2026-12-06 08:31"))
    assert [(o.job, o.status) for o in taken] == [("backup", "success")]
    async with api.db.unbound() as session:
        run = (
            await session.execute(sa.select(ScheduledRun).where(ScheduledRun.period == "2026-12-06"))
        ).scalar_one()
    assert run.attempts == 2 and run.owner != "dead-host:99"
