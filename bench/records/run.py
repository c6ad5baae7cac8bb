"""Records benchmark on PostgreSQL: generated archive, search latency under concurrency, submit
throughput, purge and backup/restore time. Prints figures; asserts nothing.

    MADOGUCHI_TEST_PG_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m bench.records.run --receptions 1000000 --residents 300000

A throwaway database is created (and dropped at the end unless --keep) and filled inside
PostgreSQL (:mod:`bench.records.generate`). The server runs as separate uvicorn process(es)
connected as the plain app role (row-level security applies); the searches come from plain
keep-alive sockets with pre-built requests (:func:`load`) on the same machine. The search load runs
twice on the same data: the naive baseline (exact counts, the indexes before migration 0010, one
process, pool 5+10) and the current setup; ratios are printed. ``bench.records.explain`` shows the
plan of each search shape.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import psycopg
from sqlalchemy.engine import make_url

from bench.portal.load import exchange
from bench.records.generate import CLERKS, FAMILY, FOREIGN_FAMILY, GIVEN, generate
from server.config import Settings

LG = "082104"
APP_ROLE = "madoguchi_bench_app"
#: Indexes of migrations 0010 and 0024; the naive pass runs without them (and with the two they
#: replaced).
NEW_INDEXES = [
    "ix_reception_search_keys_lookup",
    "ix_reception_search_keys_month",
    "ix_reception_search_keys_reception",
    "ix_receptions_terminal",
    "ix_receptions_status",
    "ix_receptions_clerk",
    "ix_receptions_created_at",
    "ix_receptions_sort_keys",
]
OLD_INDEXES = [
    "CREATE INDEX ix_reception_search_keys_lookup ON reception_search_keys"
    " (lg_code, kind, key varchar_pattern_ops)",
    "CREATE INDEX ix_reception_search_keys_reception_id ON reception_search_keys (reception_id)",
]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def create_database(pg_url: str, name: str | None = None) -> tuple[str, str, str]:
    name = name or f"madoguchi_bench_{secrets.token_hex(3)}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname=%s", (APP_ROLE,)).fetchone():
            admin.execute(f'CREATE ROLE "{APP_ROLE}" LOGIN NOSUPERUSER NOBYPASSRLS')
    base = make_url(pg_url).set(drivername="postgresql+psycopg", database=name)
    owner = base.render_as_string(hide_password=False)
    app = base.set(username=APP_ROLE, password=None).render_as_string(hide_password=False)
    return name, owner, app


def start_server(
    env: dict[str, str], port: int, log: Path | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """``madoguchi-server run`` on ``port``; its output goes to ``log`` (or nowhere); the code is
    the one in ``cwd`` (another checkout, for a before/after comparison) or this one."""
    out = log.open("wb") if log is not None else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server", "run", "--port", str(port)],
            env={**env, "PYTHONPATH": str(cwd)} if cwd else env,
            cwd=cwd,
            stdout=out,
            stderr=out,
        )
    finally:
        if log is not None:
            out.close()  # type: ignore[union-attr]
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


#: The search shapes of a clerk's mix and their shares (%).
SHAPES = [
    "kana name",
    "kanji name + birth",
    "surname + 30 days",
    "受付番号",
    "確認番号",
    "clerk + 7 days",
    "romaji surname",
    "kana surname only",
]
SHAPE_WEIGHTS = [30, 20, 15, 10, 5, 10, 5, 5]


def queries(rng: random.Random, owner_libpq: str) -> list[tuple[str, dict[str, str]]]:
    """A clerk's mix of searches, names drawn with the register's skew; (shape, parameters)."""
    today = datetime.now(UTC).date()
    with psycopg.connect(owner_libpq) as conn:
        people = conn.execute(
            "SELECT family_name, given_name, birth_date FROM residents WHERE family_name IS NOT NULL"
            " ORDER BY random() LIMIT 500"
        ).fetchall()
        numbers = [
            r[0] for r in conn.execute("SELECT reception_number FROM receptions ORDER BY random() LIMIT 300")
        ]
        confirmations = [
            r[0].upper()
            for r in conn.execute(
                "SELECT key FROM reception_search_keys WHERE kind = 'confirmation'"
                " ORDER BY random() LIMIT 300"
            )
        ]
    weights = [w for _, _, w in FAMILY]
    out: list[tuple[str, dict[str, str]]] = []
    for _ in range(1000):
        fam, fam_k, _w = rng.choices(FAMILY, weights)[0]
        _giv, giv_k = rng.choice(GIVEN)
        start = today - timedelta(days=rng.randrange(5 * 365))
        person = rng.choice(people)
        shape = rng.choices(SHAPES, SHAPE_WEIGHTS)[0]
        params = {
            "kana name": {"name": fam_k + giv_k},
            "kanji name + birth": {"name": f"{person[0]} {person[1]}", "birth_date": person[2].isoformat()},
            "surname + 30 days": {
                "name": fam,
                "date_from": start.isoformat(),
                "date_to": (start + timedelta(days=30)).isoformat(),
            },
            "受付番号": {"reception_number": rng.choice(numbers)},
            "確認番号": {"confirmation_number": rng.choice(confirmations)},
            "clerk + 7 days": {
                "clerk": f"clerk{rng.randrange(1, CLERKS + 1):02d}",
                "date_from": start.isoformat(),
                "date_to": (start + timedelta(days=7)).isoformat(),
            },
            "romaji surname": {"name": rng.choice(FOREIGN_FAMILY)[0].lower()},
            "kana surname only": {"name": fam_k},
        }[shape]
        out.append((shape, params))
    return out


#: The server closes a keep-alive connection idle this long (uvicorn's default is 5 s).
_KEEP_ALIVE_S = 4.0


async def load(
    base: str,
    token: str,
    concurrency: int,
    qs: list[tuple[str, dict[str, str]]],
    total: int,
    think: float = 0.0,
) -> tuple[list[float], float, dict[str, list[float]]]:
    """``total`` searches from ``concurrency`` clients, each on its own keep-alive connection.

    ``think`` > 0: each client pauses after every answer, exponentially with that mean (s) — a
    clerk reading the result list before the next search (the concurrent-users model of load
    tools); 0: the next search leaves the moment the answer is in (a closed loop, the harsher).

    The requests are pre-built bytes written to plain asyncio sockets and read with
    :func:`bench.portal.load.exchange` (no HTTP library on the timed path): with httpx the clients'
    own CPU grew to about 10 ms per search at 100 connections, on the cores the server and
    PostgreSQL need, so the bench measured its own clients as much as the server."""
    url = urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    requests = [
        (
            shape,
            (
                f"GET /api/v1/records/receptions?{urlencode({**params, 'page_size': '50'})} HTTP/1.1\r\n"
                f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n\r\n"
            ).encode(),
        )
        for shape, params in qs
    ]
    latencies: list[float] = []
    by_shape: dict[str, list[float]] = {}
    counter = iter(range(total))
    errors = 0

    async def worker(n: int) -> None:
        nonlocal errors
        rng = random.Random(n)  # the same pauses in every run
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
        try:
            for i in counter:
                pause = rng.expovariate(1 / think) if think > 0 else 0.0
                await asyncio.sleep(pause)  # also before the first: the clerks do not start together
                shape, request = requests[i % len(requests)]
                t = time.perf_counter()
                if pause > _KEEP_ALIVE_S:  # the server has closed the idle connection: a new one, timed
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
                try:
                    status, _ = await exchange(reader, writer, request)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:  # counted, not timed
                    errors += 1
                    print(f"  ({type(exc).__name__})", end="", flush=True)
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
                    continue
                ms = (time.perf_counter() - t) * 1000
                latencies.append(ms)
                by_shape.setdefault(shape, []).append(ms)
                if status != 200:
                    errors += 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    if errors:
        print(f"  ({errors} errors)")
    return latencies, time.perf_counter() - t0, by_shape


async def submit(base: str, token: str, concurrency: int, total: int) -> float:
    from tests.server.conftest import reception_body

    counter = iter(range(total))
    retries = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal retries
        for _ in counter:
            body = reception_body(my_number=None)
            while True:  # 409 or a dropped connection: resend (same client_key, stored once)
                try:
                    r = await client.post("/api/v1/receptions", json=body)
                except httpx.TransportError:
                    retries += 1
                    continue
                if r.status_code != 409:
                    break
                retries += 1
            assert r.status_code == 201, r.text

    t0 = time.perf_counter()
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120
    ) as c:
        await asyncio.gather(*(worker(c) for _ in range(concurrency)))
    return time.perf_counter() - t0


def swap_indexes(owner_libpq: str, naive: bool, saved: list[str]) -> list[str]:
    """Naive: drop migration 0010's indexes and put back the two it replaced. Else the reverse."""
    with psycopg.connect(owner_libpq, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        if naive:
            saved = [
                r[0]
                for r in conn.execute(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = ANY(%s)", (NEW_INDEXES,)
                ).fetchall()
            ]
            for name in NEW_INDEXES:
                conn.execute(f'DROP INDEX "{name}"')
            for stmt in OLD_INDEXES:
                conn.execute(stmt)
        else:
            conn.execute("DROP INDEX ix_reception_search_keys_lookup")
            conn.execute("DROP INDEX ix_reception_search_keys_reception_id")
            for stmt in saved:
                conn.execute(stmt)
        conn.execute("VACUUM ANALYZE receptions, reception_search_keys")
    return saved


def search_pass(
    label: str, env: dict[str, str], qs: list[tuple[str, dict[str, str]]], requests: int, port: int
) -> tuple[dict[int, tuple[float, float, float]], float]:
    """Start the server with ``env``; search at 5, 20, 100 clients; submit 500. Prints figures."""
    proc = start_server(env, port)
    base = f"http://127.0.0.1:{port}"
    results: dict[int, tuple[float, float, float]] = {}
    try:
        token = httpx.post(
            f"{base}/api/v1/auth/login",
            json={"lg_code": LG, "username": "demo-admin", "password": "madoguchi-demo"},
        ).json()["token"]
        asyncio.run(load(base, token, 5, qs, 60))  # warm-up
        print(f"search, {label} (mixed criteria, page of 50, audited):", flush=True)
        for conc in (5, 20, 100):
            print(f"  load {os.getloadavg()[0]:.1f} before", end="", flush=True)
            lat, wall, by_shape = asyncio.run(load(base, token, conc, qs, requests))
            results[conc] = (statistics.median(lat), pct(lat, 95), len(lat) / wall)
            print(
                f" | {conc:>3} clients: p50 {results[conc][0]:7.1f} ms  p95 {results[conc][1]:7.1f} ms  "
                f"{results[conc][2]:6.1f} req/s",
                flush=True,
            )
            if conc == 20:
                for shape, values in sorted(by_shape.items()):
                    print(
                        f"      {shape:<20} n={len(values):>4}  p50 {statistics.median(values):7.1f}  "
                        f"p95 {pct(values, 95):7.1f} ms"
                    )
        n_submit = 500
        wall = asyncio.run(submit(base, token, 20, n_submit))
        print(
            f"  submit: {n_submit} receptions by 20 clients in {wall:.1f} s = {n_submit / wall:.1f} /s",
            flush=True,
        )
    finally:
        proc.terminate()
        proc.wait()
    return results, n_submit / wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--receptions", type=int, default=1_000_000)
    parser.add_argument("--residents", type=int, default=300_000)
    parser.add_argument("--expired", type=int, default=100_000, help="receptions older than the retention")
    parser.add_argument("--requests", type=int, default=1000, help="search requests per concurrency level")
    parser.add_argument("--naive-requests", type=int, default=300, help="the same for the naive pass")
    parser.add_argument("--workers", default="1,2", help="server processes of the current passes")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    pg_url = os.environ.get("MADOGUCHI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    rng = random.Random(5)
    name, owner, app = create_database(pg_url)
    data_dir = Path(tempfile.gettempdir()) / name
    owner_settings = Settings(data_dir=data_dir, database_url=owner, db_app_role=APP_ROLE, demo=True)
    print(f"database {name}; machine: {os.cpu_count()} cores, load {os.getloadavg()}", flush=True)
    try:
        from server.__main__ import seed_demo
        from server.db.migrate import upgrade

        upgrade(owner_settings)
        asyncio.run(seed_demo(owner_settings))
        libpq = "postgresql://" + owner.split("://", 1)[1]
        t0 = time.perf_counter()
        generate(libpq, receptions=args.receptions, residents=args.residents, expired=args.expired)
        print(f"generation: {time.perf_counter() - t0:.0f} s", flush=True)
        qs = queries(rng, libpq)
        env = {
            **os.environ,
            "MADOGUCHI_DATA_DIR": str(data_dir),
            "MADOGUCHI_DATABASE_URL": app,
            "MADOGUCHI_DEMO": "1",
            "MADOGUCHI_LOG_LEVEL": "WARNING",
        }
        port = 18000 + rng.randrange(1000)
        saved = swap_indexes(libpq, True, [])
        naive_env = {
            **env,
            "MADOGUCHI_SERVER_WORKERS": "1",
            "MADOGUCHI_DB_POOL_SIZE": "5",
            "MADOGUCHI_DB_POOL_OVERFLOW": "10",
            "MADOGUCHI_SEARCH_COUNT_LIMIT": str(10**9),
        }
        naive, naive_submit = search_pass(
            "naive: exact counts, indexes before 0010, 1 process, pool 5+10",
            naive_env,
            qs,
            args.naive_requests,
            port,
        )
        swap_indexes(libpq, False, saved)
        for offset, workers in enumerate(int(w) for w in args.workers.split(",")):
            fast_env = {
                **env,
                "MADOGUCHI_SERVER_WORKERS": str(workers),
                "MADOGUCHI_DB_POOL_SIZE": "10",
                "MADOGUCHI_DB_POOL_OVERFLOW": "5",
            }
            fast, fast_submit = search_pass(
                f"now: count ≤ 1000, indexes of 0010, {workers} process(es), pool 10+5",
                fast_env,
                qs,
                args.requests,
                port + 1 + offset,
            )
            print(f"ratios naive / now ({workers} process(es)):")
            for conc in (5, 20, 100):
                print(
                    f"  {conc:>3} clients: p50 ×{naive[conc][0] / fast[conc][0]:.1f}"
                    f"  p95 ×{naive[conc][1] / fast[conc][1]:.1f}"
                    f"  throughput ×{fast[conc][2] / naive[conc][2]:.1f}"
                )
            print(f"  submit throughput ×{fast_submit / naive_submit:.1f}", flush=True)

        from server.db.engine import Database
        from server.domain.backups import service as backups
        from server.domain.retention import service as retention
        from server.plugins.blobstore.filesystem import FilesystemBlobStore

        store = FilesystemBlobStore(owner_settings.blob_path)

        async def purge() -> tuple[int, float, float]:
            db = Database(app)
            try:
                t0 = time.perf_counter()
                job = await retention.plan(db, owner_settings, LG, planned_by="bench")
                t1 = time.perf_counter()
                report = await retention.execute(db, store, LG, job.id, executed_by="bench")
                return report.deleted, t1 - t0, time.perf_counter() - t1
            finally:
                await db.dispose()

        deleted, plan_s, run_s = asyncio.run(purge())
        print(
            f"purge: plan {plan_s:.1f} s, delete {deleted} expired receptions in {run_s:.1f} s "
            f"({deleted / max(run_s, 1e-9):.0f} /s)",
            flush=True,
        )
        t0 = time.perf_counter()
        made = backups.create(owner_settings, store)
        t1 = time.perf_counter()
        print(f"backup (pg_dump -Fc + verify): {t1 - t0:.1f} s, {made.size_bytes / 1e6:.0f} MB", flush=True)
        backups.restore(owner_settings, store=store)
        t2 = time.perf_counter()
        print(f"restore (pg_restore --clean --single-transaction + analyze): {t2 - t1:.1f} s", flush=True)
        print(f"machine load at the end: {os.getloadavg()}")
    finally:
        if not args.keep:
            with psycopg.connect(pg_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
