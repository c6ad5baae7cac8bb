"""EXPLAIN (ANALYZE, BUFFERS) of each reception search shape as the app role under RLS.

    .venv/bin/python -m bench.records.explain postgresql+psycopg://madoguchi_bench_app@127.0.0.1/DB

Prints, per shape, the execution time of the page query and of the (capped) count, and with
``--plans`` the plans themselves. The statements are the ones the service builds.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from server.db.engine import Database
from server.db.models import Reception, User
from server.domain.documents.services import _SORT_COLUMNS, SearchQuery, _conditions
from shared.api_records import SortKey

LG = "082104"


def shapes(today: date) -> dict[str, SearchQuery]:
    start = today - timedelta(days=400)
    return {
        "kana full name": SearchQuery(name="サトウタロウ"),
        "kanji name + birth date": SearchQuery(name="佐藤太郎", birth_date=date(1975, 5, 5)),
        "surname + 30 days": SearchQuery(name="佐藤", date_from=start, date_to=start + timedelta(days=30)),
        "rare surname": SearchQuery(name="下妻"),
        "common surname only": SearchQuery(name="さとう"),
        "romaji": SearchQuery(name="NGUYEN"),
        "受付番号": SearchQuery(reception_number=f"{start:%Y%m%d}-0001"),
        "確認番号": SearchQuery(confirmation_number="K00012345"),
        "clerk + 7 days": SearchQuery(clerk="clerk03", date_from=start, date_to=start + timedelta(days=7)),
        "terminal + status": SearchQuery(terminal_id="T-03", status="cancelled"),
        "no criteria, by created_at": SearchQuery(sort=SortKey.created_at),
        "no criteria, page 20": SearchQuery(page=20),
    }


def compile_sql(stmt: sa.Select[tuple[object, ...]]) -> str:
    return str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


async def main(url: str, plans: bool, limit: int) -> None:
    db = Database(url)
    try:
        for label, query in shapes(date.today()).items():
            cond = _conditions(query, LG, None, "postgresql")
            column = _SORT_COLUMNS[query.sort]
            page = (
                sa.select(Reception.id)
                .where(*cond)
                .order_by(column.desc() if query.descending else column.asc(), Reception.id)
                .offset((query.page - 1) * query.page_size)
                .limit(query.page_size)
            )
            naive = (
                sa.select(Reception, User.username)
                .join(User, User.id == Reception.created_by)
                .where(*cond)
                .order_by(column.desc() if query.descending else column.asc(), Reception.id)
                .offset((query.page - 1) * query.page_size)
                .limit(query.page_size)
            )
            count = sa.select(sa.func.count()).select_from(
                sa.select(Reception.id).where(*cond).limit(limit + 1).subquery()
            )
            exact = sa.select(sa.func.count()).select_from(Reception).where(*cond)
            out = [label]
            for name, stmt in (
                ("page ids", page),
                ("count≤", count),
                ("naive page", naive),
                ("exact count", exact),
            ):
                async with db.tenant(LG) as session:
                    rows = (
                        (await session.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS) " + compile_sql(stmt))))
                        .scalars()
                        .all()
                    )
                text = "\n".join(rows)
                ms = float(re.search(r"Execution Time: ([\d.]+)", text).group(1))  # type: ignore[union-attr]
                out.append(f"{name} {ms:8.1f} ms")
                if plans:
                    print(f"--- {label}: {name}\n{text}")
            print("  ".join(out), flush=True)
    finally:
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--plans", action="store_true")
    parser.add_argument("--limit", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.plans, args.limit))
