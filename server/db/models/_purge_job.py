"""purge_jobs: one run of the retention purge, planned, approved and executed."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, lg_code_column, utcnow


class PurgeJob(UUIDPrimaryKey, Base):
    """A list of expired receptions fixed when planned; execution deletes exactly that list."""

    __tablename__ = "purge_jobs"

    lg_code: Mapped[str] = lg_code_column()
    """Municipality purged."""
    cutoff: Mapped[date] = mapped_column(comment="この日より前の受付が対象")
    """Receptions with a 受付日 before this day (and documents past retain_until) were listed."""
    status: Mapped[str] = mapped_column(sa.String(20), comment="状態 (planned/running/done)")
    """planned → running → done. A crash leaves ``running``; running again finishes the list."""
    item_count: Mapped[int] = mapped_column(comment="対象の受付数")
    """Receptions on the list."""
    planned_at: Mapped[datetime] = mapped_column(default=utcnow, comment="作成日時")
    """When the list was made."""
    planned_by: Mapped[str] = mapped_column(sa.String(100), comment="作成者")
    """Who made the list (login name or ``system``)."""
    executed_at: Mapped[datetime | None] = mapped_column(nullable=True, comment="実行完了日時")
    """When the last item was deleted."""
    executed_by: Mapped[str | None] = mapped_column(sa.String(100), nullable=True, comment="実行者")
    """Who approved and ran the deletion."""
