"""scheduled_runs: one run of a job of the built-in scheduler, claimed by exactly one process."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, utcnow


class ScheduledRun(UUIDPrimaryKey, Base):
    """The unique (job, period) row is the lock: the process whose INSERT succeeds runs the job for
    that period; every other process sees the row and leaves it. The row then keeps the result."""

    __tablename__ = "scheduled_runs"
    __table_args__ = (sa.UniqueConstraint("job", "period"),)

    job: Mapped[str] = mapped_column(sa.String(40), comment="ジョブ (backup / operation_report)")
    """Which job."""
    period: Mapped[str] = mapped_column(sa.String(20), comment="対象期間 (YYYY-MM-DD / YYYY-MM)")
    """The day (daily jobs) or month (monthly jobs) this run is for."""
    status: Mapped[str] = mapped_column(sa.String(20), comment="状態 (running/success/failed)")
    """running → success | failed. A run left ``running`` past the stale limit is taken over."""
    attempts: Mapped[int] = mapped_column(default=1, comment="試行回数")
    """How many times the run was started (failed runs are retried a few times)."""
    owner: Mapped[str] = mapped_column(sa.String(200), comment="実行したプロセス (ホスト名:PID)")
    """The process that claimed the run."""
    started_at: Mapped[datetime] = mapped_column(default=utcnow, comment="開始日時")
    """When the last attempt started."""
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True, comment="終了日時")
    """When the last attempt ended."""
    message: Mapped[str] = mapped_column(sa.Text, default="", comment="結果")
    """What happened, in Japanese (backup name, reports stored, or the reason of the failure)."""
