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


#: :func:`next_daily_number` on PostgreSQL in psycopg's placeholders (lg_code, series, day), for a
#: pipeline (``server.db.engine.pipelined``): the same upsert, the same row lock until the commit.
NEXT_SQL = (
    "INSERT INTO reception_counters (lg_code, series, business_date, last_seq) VALUES (%s, %s, %s, 1)"
    " ON CONFLICT (lg_code, series, business_date)"
    " DO UPDATE SET last_seq = reception_counters.last_seq + 1 RETURNING last_seq"
)
