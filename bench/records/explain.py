"""EXPLAIN (ANALYZE, BUFFERS) of each reception search shape as the app role under RLS, and the
PostgreSQL CPU each shape of the benchmark's mix costs, before and now.

    .venv/bin/python -m bench.records.explain postgresql+psycopg://madoguchi_bench_app@127.0.0.1/DB
    .venv/bin/python -m bench.records.explain URL --cpu 40 [--passes 3]

Prints, per shape, the execution time of the page query and of the (capped) count, and with
``--plans`` the plans themselves. The statements are the ones the service builds.

``--cpu N`` runs N searches of each shape of :func:`bench.records.run.queries` (the same mix as
the load benchmark) through one pooled connection and reads that PostgreSQL backend's CPU time
from ``/proc/<pid>/schedstat`` (nanoseconds; PostgreSQL on the same machine): **before** = the
statements of the code before migration 0021 (the receptions walked in sort order, then the
capped count over the receptions), **now** = :func:`server.domain.documents.services.search_page`.
The two alternate shape by shape, ``--passes`` times, on the same data; the median per pass is
printed. Audit events are not written (the same for both).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from bench.records.run import SHAPE_WEIGHTS, SHAPES, queries
from server.config import Settings
from server.db.engine import Database
from server.db.models import Attachment, Reception, User
from server.domain.documents.services import (
    _SORT_COLUMNS,
    SearchQuery,
    _conditions,
    _parameters,
    _shape,
    search_page,
)
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
    settings = Settings(database_url=url)
    try:
        for label, query in shapes(date.today()).items():
            values = _parameters(query, LG, None, settings)
            cond = _conditions(_shape(query, None, "postgresql", values["months"]))
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
                        (
                            await session.execute(
                                sa.text("EXPLAIN (ANALYZE, BUFFERS) " + compile_sql(stmt.params(values)))
                            )
                        )
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


def _query(params: dict[str, str]) -> SearchQuery:
    """The service's query for one of :func:`bench.records.run.queries`' parameter sets."""
    dates = {
        k: date.fromisoformat(v) for k, v in params.items() if k in ("birth_date", "date_from", "date_to")
    }
    sizes = {k: int(v) for k, v in params.items() if k in ("page", "page_size")}
    return SearchQuery(**{**params, **dates, **sizes})  # type: ignore[arg-type]


async def _before(session: AsyncSession, settings: Settings, query: SearchQuery) -> int:
    """The search statements of the code before migration 0021: page (receptions walked in the
    sort's order), then, when the page is full or empty past page 1, the capped count."""
    values = _parameters(query, LG, None, settings)
    cond = _conditions(_shape(query, None, "postgresql", values["months"]))
    column = _SORT_COLUMNS[query.sort]
    order = [column.desc() if query.descending else column.asc(), Reception.id]
    offset = (query.page - 1) * query.page_size
    page = sa.select(Reception.id.label("page_id")).where(*cond).order_by(*order)
    page_ids = page.offset(offset).limit(query.page_size).subquery("page")
    documents = (
        sa.select(sa.func.count())
        .where(Attachment.reception_id == Reception.id, Attachment.lg_code == LG)
        .correlate(Reception)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            sa.select(
                Reception.id,
                Reception.reception_number,
                Reception.business_date,
                Reception.kind,
                Reception.status,
                Reception.terminal_id,
                Reception.created_at,
                Reception.notice["persons"].label("persons"),
                User.username,
                documents.label("documents"),
            )
            .join(page_ids, page_ids.c.page_id == Reception.id)
            .join(User, User.id == Reception.created_by)
            .where(Reception.lg_code == LG)
            .order_by(*order),
            values,
        )
    ).all()
    found = len(rows)
    if 0 < found < query.page_size or (found == 0 and offset == 0):
        return offset + found
    limit = settings.search_count_limit
    count = sa.select(sa.func.count()).select_from(
        sa.select(Reception.id).where(*cond).limit(limit + 1).subquery()
    )
    return int((await session.execute(count, values)).scalar_one())


async def _now(session: AsyncSession, settings: Settings, query: SearchQuery) -> int:
    return (await search_page(session, settings, query, LG, None))[1]


def _on_cpu_ns(pid: int) -> int:
    """Time the process has run on a CPU so far (ns, /proc/<pid>/schedstat)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


async def cpu(url: str, owner_libpq: str, per_shape: int, passes: int) -> None:
    db = Database(url, pool_size=1, max_overflow=0)
    settings = Settings(database_url=url)
    groups: dict[str, list[SearchQuery]] = {}
    for shape, params in queries(random.Random(5), owner_libpq):
        if len(groups.setdefault(shape, [])) < per_shape:
            groups[shape].append(_query({**params, "page_size": "50"}))
    statements = {"n": 0}

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _count_statement(*_a: Any) -> None:
        statements["n"] += 1

    variants = {"before": _before, "now": _now}
    cpu_ms: dict[tuple[str, str], list[float]] = {}
    wall_ms: dict[tuple[str, str], list[float]] = {}
    stmts: dict[tuple[str, str], float] = {}
    totals: dict[tuple[str, str], list[int]] = {}
    try:
        async with db.tenant(LG) as session:
            pid = int((await session.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())
        for run in variants.values():  # warm-up: caches, plans
            for group in groups.values():
                async with db.tenant(LG) as session:
                    await run(session, settings, group[0])
        load = [os.getloadavg()[0]]
        for _ in range(passes):
            for shape, group in groups.items():
                for variant, run in variants.items():
                    statements["n"] = 0
                    found = []
                    t0, c0 = time.perf_counter(), _on_cpu_ns(pid)
                    for q in group:
                        async with db.tenant(LG) as session:
                            found.append(await run(session, settings, q))
                    key = (shape, variant)
                    cpu_ms.setdefault(key, []).append((_on_cpu_ns(pid) - c0) / 1e6 / len(group))
                    wall_ms.setdefault(key, []).append((time.perf_counter() - t0) * 1000 / len(group))
                    stmts[key] = statements["n"] / len(group)
                    totals[key] = found
            load.append(os.getloadavg()[0])
    finally:
        await db.dispose()
    weights = {s: w for s, w in zip(SHAPES, SHAPE_WEIGHTS, strict=True)}
    print(
        f"PostgreSQL CPU per search (backend {pid}, {per_shape} searches per shape, {passes} passes,"
        f" load {min(load):.1f}–{max(load):.1f}); medians of the passes"
    )
    print(
        f"  {'shape':<20} {'mix':>4}  {'before: CPU / wall ms, stmts':>30}"
        f"  {'now: CPU / wall ms, stmts':>28}  ratio"
    )
    mean = {"before": 0.0, "now": 0.0}
    for shape in groups:
        b, n = (shape, "before"), (shape, "now")
        cb, cn = statistics.median(cpu_ms[b]), statistics.median(cpu_ms[n])
        for variant, c in (("before", cb), ("now", cn)):
            mean[variant] += c * weights[shape] / sum(SHAPE_WEIGHTS)
        limit = Settings(database_url=url).search_count_limit
        wrong = sum(1 for x, y in zip(totals[b], totals[n], strict=True) if x <= limit and x != y)
        exact = sum(1 for x, y in zip(totals[b], totals[n], strict=True) if x > limit and y > limit)
        same = (f"  {exact} exact now, capped before" if exact else "") + (
            f"  {wrong} WRONG" if wrong else ""
        )
        wb, wn = statistics.median(wall_ms[b]), statistics.median(wall_ms[n])
        print(
            f"  {shape:<20} {weights[shape]:>3}%  {cb:9.2f} / {wb:7.2f}, {stmts[b]:.2f}"
            f"  {cn:12.2f} / {wn:7.2f}, {stmts[n]:.2f}  ×{cb / max(cn, 1e-9):.1f}{same}"
        )
    print(
        f"  weighted by the mix: before {mean['before']:.2f} ms, now {mean['now']:.2f} ms"
        f" (×{mean['before'] / max(mean['now'], 1e-9):.1f})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--plans", action="store_true")
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument(
        "--cpu", type=int, default=0, help="searches per shape of the mix for the CPU comparison"
    )
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument(
        "--owner", help="libpq URL of the database's owner (default: the app URL as postgres)"
    )
    args = parser.parse_args()
    if args.cpu:
        owner = (
            args.owner
            or "postgresql://"
            + make_url(args.url)
            .set(username="postgres")
            .render_as_string(hide_password=False)
            .split("://", 1)[1]
        )
        asyncio.run(cpu(args.url, owner, args.cpu, args.passes))
    else:
        asyncio.run(main(args.url, args.plans, args.limit))
