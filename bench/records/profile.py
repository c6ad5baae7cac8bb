"""Where one search request spends its time, on PostgreSQL as the app role under RLS.

    MADOGUCHI_TEST_PG_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m bench.records.profile --receptions 100000 [--keep NAME]

Generates a (synthetic) archive like :mod:`bench.records.run` (or reuses ``--database``), then
runs the app in-process (httpx over ASGI, one request at a time, so no concurrency noise) and
prints per request: wall time, number of SQL statements and transactions, time inside the
database driver, the statements by kind, and a cProfile summary of the Python side. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
import os
import pstats
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bench.records.generate import generate
from bench.records.run import APP_ROLE, LG, create_database, queries
from server.config import Settings


def _kind(statement: str) -> str:
    s = " ".join(statement.split())[:90].lower()
    if "set_config" in s:
        return "set_config (RLS)"
    for table in ("auth_sessions", "network_allowances", "user_groups", "audit_heads", "audit_events"):
        if table in s:
            return f"{s.split()[0]} {table}"
    if s.startswith("select users") or "from users" in s:
        return "select users"
    if "count(" in s:
        return "count"
    if "from attachments" in s:
        return "attachment counts"
    if "reception" in s:
        return "search page"
    return s[:40]


def _count_round_trips() -> Counter[str]:
    """Count the client/server round trips psycopg makes: a statement or a BEGIN / COMMIT /
    ROLLBACK outside pipeline mode is one (SQLAlchemy's pre-ping ``SELECT 1`` included), a
    pipeline (everything queued in it, sent together) is one."""
    trips: Counter[str] = Counter()
    execute = psycopg.AsyncCursor.execute
    command = psycopg.AsyncConnection._exec_command
    pipeline_exit = psycopg.AsyncPipeline.__aexit__

    async def counted_execute(self: Any, query: Any, *a: Any, **k: Any) -> Any:
        if self.connection._pipeline is None:
            trips["statement"] += 1
        return await execute(self, query, *a, **k)

    def counted_command(self: Any, cmd: Any, *a: Any, **k: Any) -> Any:
        if self._pipeline is None:
            trips[bytes(cmd).split()[0].decode().upper() if not isinstance(cmd, str) else cmd.upper()] += 1
        return command(self, cmd, *a, **k)

    async def counted_exit(self: Any, *a: Any) -> Any:
        trips["pipeline"] += 1
        return await pipeline_exit(self, *a)

    psycopg.AsyncCursor.execute = counted_execute  # type: ignore[method-assign]
    psycopg.AsyncConnection._exec_command = counted_command  # type: ignore[method-assign]
    psycopg.AsyncPipeline.__aexit__ = counted_exit  # type: ignore[method-assign]
    return trips


async def _profile(
    settings: Settings, qs: list[tuple[str, dict[str, str]]], n: int, dump: str | None = None
) -> None:
    from server.app import create_app

    app = create_app(settings)
    trips = _count_round_trips()
    stats: list[tuple[float, float]] = []
    kinds: Counter[str] = Counter()
    kind_ms: Counter[str] = Counter()
    begins = {"n": 0}
    current: dict[str, Any] = {}

    if True:  # no lifespan: the scheduler stays off
        engine = app.state.db.engine.sync_engine

        @event.listens_for(engine, "before_cursor_execute")
        def _before(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
            current["t"] = time.perf_counter()
            current["k"] = _kind(statement)

        @event.listens_for(engine, "after_cursor_execute")
        def _after(*_a: Any) -> None:
            ms = (time.perf_counter() - current["t"]) * 1000
            kinds[current["k"]] += 1
            kind_ms[current["k"]] += ms
            current["db"] = current.get("db", 0.0) + ms

        @event.listens_for(engine, "begin")
        def _begin(_c: Any) -> None:
            begins["n"] += 1

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            token = (
                await http.post(
                    "/api/v1/auth/login",
                    json={"lg_code": LG, "username": "demo-admin", "password": "madoguchi-demo"},
                )
            ).json()["token"]
            h = {"Authorization": f"Bearer {token}"}
            for _shape, params in qs[:20]:  # warm-up
                await http.get("/api/v1/records/receptions", params={**params, "page_size": "50"}, headers=h)
            await asyncio.sleep(0.2)  # the warm-up's audit events
            kinds.clear()
            kind_ms.clear()
            trips.clear()
            begins["n"] = 0
            profiler = cProfile.Profile(
                time.process_time
            )  # CPU, not wall: preemption by other work is not counted
            cpu0 = time.process_time()
            for i in range(n):
                _shape, params = qs[i % len(qs)]
                current["db"] = 0.0
                t = time.perf_counter()
                profiler.enable()
                r = await http.get(
                    "/api/v1/records/receptions", params={**params, "page_size": "50"}, headers=h
                )
                profiler.disable()
                assert r.status_code == 200, r.text
                stats.append(((time.perf_counter() - t) * 1000, current["db"]))
            await asyncio.sleep(0.2)  # let the audit writer finish
            cpu = (time.process_time() - cpu0) * 1000 / n
    walls = [w for w, _ in stats]
    dbs = [d for _, d in stats]
    print(f"{n} searches one at a time, load {os.getloadavg()[0]:.1f}:")
    print(
        f"  wall p50 {statistics.median(walls):.1f} ms, p95 {sorted(walls)[int(0.95 * (n - 1))]:.1f} ms;"
        f" in the driver p50 {statistics.median(dbs):.1f} ms"
    )
    print(
        f"  per request: {sum(kinds.values()) / n:.1f} statements, {begins['n'] / n:.2f} transactions,"
        f" {sum(trips.values()) / n:.1f} round trips to PostgreSQL"
        f" ({', '.join(f'{k} {v / n:.2f}' for k, v in trips.most_common())})"
    )
    print(f"  CPU of this process (app and client, under cProfile): {cpu:.1f} ms per request")
    for kind, count in kinds.most_common():
        print(f"    {kind:<32} {count / n:5.2f}/req  {kind_ms[kind] / count:6.2f} ms each")
    if dump:
        profiler.dump_stats(dump)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    print("\n".join(out.getvalue().splitlines()[:45]))


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (Linux /proc), gone processes count 0."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _family(pid: int) -> list[int]:
    """``pid`` and its descendants (a server started with workers forks them)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(p for child in children for p in _family(int(child)))]


def _backends(libpq: str) -> list[int]:
    """Process ids of the PostgreSQL backends connected to the bench database as the app role."""
    with psycopg.connect(libpq, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND usename = %s",
            (APP_ROLE,),
        ).fetchall()
    return [int(r[0]) for r in rows]


def _concurrent(
    data_dir: Path,
    app_url: str,
    libpq: str,
    qs: list[tuple[str, dict[str, str]]],
    clients: int,
    requests: int,
    pool: tuple[int, int] | None = None,
    source: Path | None = None,
    think: float = 0.0,
    workers: int = 1,
) -> None:
    """The same searches against a real server (``workers`` processes; 0: as many as ``run``
    chooses by default) from ``clients`` clients.

    Also the CPU time per search of the server process and of its PostgreSQL backends (the
    pool is made large enough that no connection is closed during the run): on a shared
    machine these vary far less with the load than the latencies do."""
    from bench.records.run import load, pct, start_server
    from server.workers import available_cores

    processes = workers or available_cores()  # 0: what `run` picks here (one per core on PostgreSQL)
    # Every process's pool; all of them together at most 50 of PostgreSQL's 100 connections.
    per_process = min(clients + 5, 50 // processes)
    env = {
        **os.environ,
        "MADOGUCHI_DATA_DIR": str(data_dir),
        "MADOGUCHI_DATABASE_URL": app_url,
        "MADOGUCHI_DEMO": "1",
        "MADOGUCHI_LOG_LEVEL": "WARNING",
        "MADOGUCHI_SERVER_WORKERS": str(workers),
        "MADOGUCHI_SCHEDULER_ENABLED": "0",
        "MADOGUCHI_DB_POOL_SIZE": str(pool[0] if pool else per_process),
        "MADOGUCHI_DB_POOL_OVERFLOW": str(pool[1] if pool else 0),
    }
    port = 19000 + random.randrange(1000)
    proc = start_server(env, port, cwd=source)
    base = f"http://127.0.0.1:{port}"
    try:
        token = httpx.post(
            f"{base}/api/v1/auth/login",
            json={"lg_code": LG, "username": "demo-admin", "password": "madoguchi-demo"},
        ).json()["token"]
        asyncio.run(load(base, token, clients, qs, 2 * clients))  # warm-up: every connection opened
        backends = _backends(libpq)
        server = _family(proc.pid)
        cpu_server, cpu_db = _cpu_seconds(server), _cpu_seconds(backends)
        load_before = os.getloadavg()[0]
        lat, wall, _ = asyncio.run(load(base, token, clients, qs, requests, think))
        cpu_server = (_cpu_seconds(server) - cpu_server) * 1000 / len(lat)
        cpu_db = (_cpu_seconds(backends) - cpu_db) * 1000 / len(lat)
        pooled = f"pool {pool[0]}+{pool[1]}" if pool else f"pool {per_process}+0"
        code = f"code of {source}" if source else "this code"
        model = f"think time {think:g} s (exponential)" if think > 0 else "no think time"
        print(
            f"server ({code}, {workers or 'default'} process(es), {pooled} each), {clients} clients,"
            f" {model}, {len(lat)} searches"
            f" (load {load_before:.1f} before,"
            f" {os.getloadavg()[0]:.1f} after): p50 {statistics.median(lat):.1f} ms,"
            f" p95 {pct(lat, 95):.1f} ms, {len(lat) / wall:.1f} req/s; CPU per search: server"
            f" {cpu_server:.1f} ms, PostgreSQL {cpu_db:.1f} ms ({len(backends)} backends)"
        )
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--receptions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database", help="reuse this database (made by an earlier --keep run)")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--name", help="name of the database to create (default: a random one)")
    parser.add_argument(
        "--clients",
        default="",
        help="also: a server process under this many concurrent clients (e.g. 5,20,100)",
    )
    parser.add_argument(
        "--think",
        type=float,
        action="append",
        help="also (repeatable) the clients pausing this long on average (s, exponential) after each"
        " answer, like a clerk reading the list: the concurrent-users model; default: only none",
    )
    parser.add_argument("--pstats", help="also write the cProfile data to this file (for pstats)")
    parser.add_argument(
        "--pool",
        action="append",
        help="db_pool_size+db_pool_overflow of the server under load, e.g. 10+10 (repeatable: one run"
        " each, in turn; default: clients+5 up to 50 — PostgreSQL's max_connections is 100 — and no"
        " overflow, so that no backend's CPU is lost to a closed connection)",
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="also run each load against a server from this checkout (e.g. `git archive` of the commit"
        " before), alternating with this code, on the same database",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes under load (default 1; 0: the count `madoguchi-server run` picks itself)",
    )
    parser.add_argument("--inprocess", type=int, help="searches one at a time (default: --requests; 0: none)")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    pg_url = os.environ.get("MADOGUCHI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    if args.database:
        name = args.database
        base = make_url(pg_url).set(drivername="postgresql+psycopg", database=name)
        owner = base.render_as_string(hide_password=False)
        app_url = base.set(username=APP_ROLE, password=None).render_as_string(hide_password=False)
    else:
        name, owner, app_url = create_database(pg_url, args.name)
    data_dir = Path(tempfile.gettempdir()) / name
    libpq = "postgresql://" + owner.split("://", 1)[1]
    print(f"database {name}; load {os.getloadavg()}", flush=True)
    try:
        if not args.database:
            from server.__main__ import seed_demo
            from server.db.migrate import upgrade

            owner_settings = Settings(data_dir=data_dir, database_url=owner, db_app_role=APP_ROLE, demo=True)
            upgrade(owner_settings)
            asyncio.run(seed_demo(owner_settings))
            t0 = time.perf_counter()
            generate(
                libpq,
                receptions=args.receptions,
                residents=max(1000, args.receptions * 3 // 10),
                expired=args.receptions // 10,
            )
            print(f"generation: {time.perf_counter() - t0:.0f} s", flush=True)
        qs = queries(random.Random(5), libpq)
        settings = Settings(
            data_dir=data_dir, database_url=app_url, demo=True, log_level="WARNING", scheduler_enabled=False
        )
        inprocess = args.requests if args.inprocess is None else args.inprocess
        if inprocess:
            asyncio.run(_profile(settings, qs, inprocess, args.pstats))
        if args.clients:
            pools = [tuple(int(x) for x in p.split("+")) for p in args.pool] if args.pool else [None]
            for clients in (int(c) for c in args.clients.split(",")):
                for pool in pools:
                    for think in args.think or [0.0]:
                        for source in [args.before, None] if args.before else [None]:
                            _concurrent(
                                data_dir,
                                app_url,
                                libpq,
                                qs,
                                clients,
                                args.requests,
                                pool,
                                source,
                                think,
                                args.workers,
                            )
    finally:
        if not args.keep and not args.database:
            with psycopg.connect(pg_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
