"""Gap-free daily numbers (受付番号, 申請番号) from one counter row per municipality, series and day."""

from __future__ import annotations

from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import ReceptionCounter


async def next_daily_number(session: AsyncSession, lg_code: str, series: str, day: date) -> int:
    """Take the next number of ``series`` on ``day`` atomically, inside the caller's transaction.

    Concurrent callers queue on the counter row (PostgreSQL row lock, SQLite's single writer)
    instead of computing ``max()+1`` and colliding on a unique number; a rollback gives the number
    back.
    """
    assert session.bind is not None
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(ReceptionCounter).values(
        lg_code=lg_code, series=series, business_date=day, last_seq=1
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[ReceptionCounter.lg_code, ReceptionCounter.series, ReceptionCounter.business_date],
        set_={"last_seq": ReceptionCounter.last_seq + 1},
    ).returning(ReceptionCounter.last_seq)
    return int((await session.execute(stmt)).scalar_one())
