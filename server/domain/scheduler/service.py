"""The built-in scheduler: which jobs are due at a given moment, who runs them, and their results.

Jobs (:data:`JOBS`): ``backup`` daily at ``schedule_backup_time`` (period ``YYYY-MM-DD``) and
``operation_report`` monthly on the 1st at ``schedule_report_time`` for the month before
(period ``YYYY-MM``); times are Japan time. A job is *due* from its time until the period ends, so
a server that was down at 02:30 takes the backup when it comes back the same day.

The lock is a row: :func:`claim` INSERTs ``(job, period)`` into ``scheduled_runs`` (unique). The
process whose insert succeeds runs the job; any other process — on this machine or another one
sharing the database — gets the unique violation and leaves it. A failed run is retried after
:data:`RETRY_AFTER` up to :data:`MAX_ATTEMPTS` times; a run still ``running`` after
:data:`STALE_AFTER` (the process died) is taken over. Both take-overs are a conditional UPDATE, so
again only one process wins.

Every function takes ``now`` (the clock is injected): the tests drive :func:`tick` with chosen
moments and never sleep. :class:`Scheduler` is the loop the app starts (``scheduler_enabled``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import anyio
import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from server.config import Settings
from server.db.engine import Database
from server.db.models import Municipality, ReportFile, ScheduledRun
from server.domain import audit
from server.plugins.blobstore import BlobStore
from shared.api_records import ReportFormat, ScheduledRunRead
from shared.errors import MadoguchiError

log = logging.getLogger("server.scheduler")
JST = ZoneInfo("Asia/Tokyo")
MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=30)
STALE_AFTER = timedelta(hours=6)
BACKUP = "backup"
REPORT = "operation_report"
SIGNING_SWEEP = "signing_sweep"


def _at(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


def _previous_month(day: date) -> str:
    last = day.replace(day=1) - timedelta(days=1)
    return f"{last:%Y-%m}"


def due(settings: Settings, now: datetime) -> list[tuple[str, str]]:
    """``(job, period)`` of every enabled job whose time has come at ``now`` (aware datetime)."""
    local = now.astimezone(JST)
    jobs = []
    if settings.schedule_backup_enabled and local.time() >= _at(settings.schedule_backup_time):
        jobs.append((BACKUP, f"{local:%Y-%m-%d}"))
    if settings.schedule_report_enabled and (
        local.day > 1 or local.time() >= _at(settings.schedule_report_time)
    ):
        jobs.append((REPORT, _previous_month(local.date())))
    if settings.schedule_signing_sweep_enabled:  # hourly: the period is the hour (Japan time)
        jobs.append((SIGNING_SWEEP, f"{local:%Y-%m-%dT%H}"))
    return jobs


def describe(settings: Settings) -> str:
    """The schedule in words for the supervisor screen."""
    if not settings.scheduler_enabled:
        return "サーバー内の自動実行は無効です (systemd タイマーまたは cron で実行)"
    parts = []
    if settings.schedule_backup_enabled:
        parts.append(f"バックアップ 毎日 {settings.schedule_backup_time}")
    if settings.schedule_report_enabled:
        parts.append(f"運用報告 毎月1日 {settings.schedule_report_time}")
    if settings.schedule_signing_sweep_enabled:
        parts.append("期限切れの署名手続きの削除 毎時")
    return "、".join(parts) + " (日本時間)" if parts else "自動実行するジョブはありません"


def owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


async def claim(db: Database, job: str, period: str, now: datetime, owner: str) -> ScheduledRun | None:
    """The run of ``(job, period)`` if this process may run it now; None if another has it / it's done
    (or the database is busy: SQLite's writer lock held past its timeout — the next tick tries again)."""
    try:
        return await _claim(db, job, period, now, owner)
    except OperationalError:
        log.warning("scheduler: database busy, %s %s left for the next tick", job, period)
        return None


async def _claim(db: Database, job: str, period: str, now: datetime, owner: str) -> ScheduledRun | None:
    try:
        async with db.unbound() as session:
            run = ScheduledRun(
                job=job, period=period, status="running", attempts=1, owner=owner, started_at=now, message=""
            )
            session.add(run)
            await session.flush()
            return run
    except IntegrityError:
        pass
    async with db.unbound() as session:
        found = (
            await session.execute(
                sa.select(ScheduledRun).where(ScheduledRun.job == job, ScheduledRun.period == period)
            )
        ).scalar_one_or_none()
        if found is None:
            return None
        run = found
        retry = (
            run.status == "failed"
            and run.attempts < MAX_ATTEMPTS
            and run.finished_at is not None
            and run.finished_at + RETRY_AFTER <= now
        )
        stale = run.status == "running" and run.started_at + STALE_AFTER <= now
        if not (retry or stale):
            return None
        taken = await session.execute(
            sa.update(ScheduledRun)
            .where(
                ScheduledRun.id == run.id,
                ScheduledRun.status == run.status,
                ScheduledRun.attempts == run.attempts,
            )
            .values(
                status="running", attempts=run.attempts + 1, owner=owner, started_at=now, finished_at=None
            )
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        await session.refresh(run)
        return run


async def finish(db: Database, run: ScheduledRun, status: str, message: str, now: datetime) -> None:
    """Record the result; a busy database is retried a few times (else the run is taken over later)."""
    for attempt in range(5):
        try:
            async with db.unbound() as session:
                await session.execute(
                    sa.update(ScheduledRun)
                    .where(ScheduledRun.id == run.id)
                    .values(status=status, message=message[:2000], finished_at=now)
                )
            return
        except OperationalError:
            if attempt == 4:
                raise
            await anyio.sleep(1 + attempt)


def to_read(run: ScheduledRun) -> ScheduledRunRead:
    return ScheduledRunRead(
        job=run.job,
        period=run.period,
        status=run.status,
        attempts=run.attempts,
        started_at=run.started_at,
        finished_at=run.finished_at,
        message=run.message,
    )


async def last_run(db: Database, job: str) -> ScheduledRunRead | None:
    """The newest run of ``job`` (for the backup status)."""
    async with db.unbound() as session:
        run = (
            await session.execute(
                sa.select(ScheduledRun)
                .where(ScheduledRun.job == job)
                .order_by(ScheduledRun.started_at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        return to_read(run) if run else None


# -- the jobs -----------------------------------------------------------------------------------


async def run_backup(db: Database, settings: Settings, store: BlobStore, period: str, now: datetime) -> str:
    from server.domain.backups import service as backups

    made = await anyio.to_thread.run_sync(lambda: backups.create(settings, store, now=now))
    return (
        f"バックアップ {made.name} を作成し検証しました (文書 {made.blob_count} 件、"
        f"{made.size_bytes / 1_000_000:.1f} MB、保持 {settings.backup_generations} 世代)。"
    )


async def run_report(db: Database, settings: Settings, store: BlobStore, period: str, now: datetime) -> str:
    """Last month's operation report of every municipality, stored as PDF and CSV blobs."""
    from server.domain.reports import operations

    async with db.unbound() as session:
        codes = list(
            (await session.execute(sa.select(Municipality.lg_code).order_by(Municipality.lg_code))).scalars()
        )
    done = []
    for lg_code in codes:
        report = await operations.build(db, lg_code, period, actor=audit.SYSTEM, fmt=ReportFormat.pdf)
        pdf = await anyio.to_thread.run_sync(operations.encode, report, ReportFormat.pdf, settings.ipamj_font)
        csv = operations.encode(report, ReportFormat.csv)
        keys = {fmt: f"reports/{lg_code}/operations-{period}.{fmt}" for fmt in ("pdf", "csv")}
        await anyio.to_thread.run_sync(store.put, keys["pdf"], pdf)
        await anyio.to_thread.run_sync(store.put, keys["csv"], csv)
        values = {
            "pdf_key": keys["pdf"],
            "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
            "pdf_bytes": len(pdf),
            "csv_key": keys["csv"],
            "csv_sha256": hashlib.sha256(csv).hexdigest(),
            "csv_bytes": len(csv),
            "created_at": now,
        }
        async with db.tenant(lg_code) as session:
            row = (
                await session.execute(
                    sa.select(ReportFile).where(ReportFile.lg_code == lg_code, ReportFile.period == period)
                )
            ).scalar_one_or_none()
            if row is None:
                session.add(ReportFile(lg_code=lg_code, period=period, **values))
            else:
                for key, value in values.items():
                    setattr(row, key, value)
        done.append(f"{lg_code} ({report.total} 件)")
    return f"{period} の運用報告を保存しました: " + ("、".join(done) or "団体なし")


async def run_signing_sweep(
    db: Database, settings: Settings, store: BlobStore, period: str, now: datetime
) -> str:
    """Every municipality's signing attempts left open too long (``jpki.services.sweep_pending``)."""
    from server.domain.jpki.services import sweep_pending

    async with db.unbound() as session:
        codes = list(
            (await session.execute(sa.select(Municipality.lg_code).order_by(Municipality.lg_code))).scalars()
        )
    done = []
    for lg_code in codes:
        async with db.tenant(lg_code) as session:
            count = await sweep_pending(session, settings, lg_code, now)
        if count:
            done.append(f"{lg_code} {count} 件")
    return "期限切れの署名手続きを削除しました: " + ("、".join(done) if done else "なし")


JobFn = Callable[[Database, Settings, BlobStore, str, datetime], Awaitable[str]]
JOBS: dict[str, JobFn] = {BACKUP: run_backup, REPORT: run_report, SIGNING_SWEEP: run_signing_sweep}


@dataclass
class Outcome:
    job: str
    period: str
    status: str
    message: str


async def tick(
    db: Database, settings: Settings, store: BlobStore, now: datetime, *, owner: str | None = None
) -> list[Outcome]:
    """Run every due job this process can claim at ``now``; returns what it ran."""
    owner = owner or owner_name()
    outcomes = []
    for job, period in due(settings, now):
        run = await claim(db, job, period, now, owner)
        if run is None:
            continue
        try:
            message = await JOBS[job](db, settings, store, period, now)
            status = "success"
        except MadoguchiError as exc:
            status, message = "failed", exc.message
        except Exception as exc:  # the loop must survive any failure; the reason is kept
            log.exception("scheduled job %s %s failed", job, period)
            status, message = "failed", f"{type(exc).__name__}: {exc}"
        await finish(db, run, status, message, now)
        outcomes.append(Outcome(job, period, status, message))
    return outcomes


class Scheduler:
    """The loop started with the app: every ``scheduler_interval_seconds``, :func:`tick`."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        store: Callable[[], BlobStore],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db, self.settings, self.store, self.clock = db, settings, store, clock
        self.owner = owner_name()

    async def run_forever(self) -> None:
        while True:
            try:
                await tick(self.db, self.settings, self.store(), self.clock(), owner=self.owner)
            except Exception:  # a database hiccup must not stop the schedule
                log.exception("scheduler tick failed")
            await anyio.sleep(self.settings.scheduler_interval_seconds)
