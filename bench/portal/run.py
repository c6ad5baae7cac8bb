"""Portal benchmark on PostgreSQL: residents' form page and submission under concurrency.

Prints figures; asserts nothing.

    MADOGUCHI_TEST_PG_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m bench.portal.run --users 50 200

A throwaway database is created (and dropped at the end unless --keep), migrated and seeded with the
demo municipality and the starter procedures. The server runs as a separate uvicorn process
connected as the plain app role (row-level security applies); the load comes from httpx clients on
the same machine, one cookie jar per resident, without JavaScript (as the tests' ``Resident``).

For each concurrency level N, N guest residents start the 戸籍謄抄本 procedure and enter their
emailed code (read from the mail outbox; not timed), then all N at once:

- open the form page (``GET …/form``);
- submit: post the filled form with a 1 KB PDF (``POST …/form`` → confirmation) and send it
  (``POST …/submit``), timed together as one submission.

The baseline, measured at the same concurrency in the same run, is the bare framework floor: the
unauthenticated health route (no database, no template). The ratio says how much of the latency
is the portal's own work.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

from bench.records.run import APP_ROLE, create_database, pct, start_server
from server.config import Settings

LG = "082104"
PORTAL = f"/portal/{LG}"
SLUG = "koseki"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"%" * 1000 + b"\n"
FORM = {
    "name": "下妻 太郎",
    "tel": "0296432111",
    "domicile": "茨城県下妻市本城町2-22",
    "head": "下妻 一郎",
    "kind": "koseki_full",
    "copies": "1",
}
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


class Resident:
    """One browser without JavaScript: its own cookies, the application URL and CSRF token."""

    def __init__(self, base: str, n: int) -> None:
        # Idle connections are dropped before uvicorn's 5 s keep-alive ends, or a reused one races it.
        limits = httpx.Limits(keepalive_expiry=2)
        self.http = httpx.AsyncClient(base_url=base, timeout=300, limits=limits)
        self.email = f"bench{n}-{os.getpid()}@example.jp"
        self.app_url = ""
        self.csrf = ""

    async def start(self, owner_libpq: str) -> None:
        r = await self.http.post(f"{PORTAL}/procedures/{SLUG}/start", data={"email": self.email})
        if r.status_code != 303:
            raise RuntimeError(f"start: {r.status_code} {r.text[:200]}")
        self.app_url = r.headers["location"].removesuffix("/verify")
        code = await asyncio.to_thread(_mailed_code, owner_libpq, self.email)
        r = await self.http.get(self.app_url + "/verify")
        match = CSRF.search(r.text)
        if match is None:
            raise RuntimeError("verify page without CSRF token")
        self.csrf = match.group(1)
        r = await self.http.post(self.app_url + "/verify", data={"csrf": self.csrf, "code": code})
        if r.status_code != 303:
            raise RuntimeError(f"verify: {r.status_code} {r.text[:200]}")

    async def form_page(self) -> float:
        t = time.perf_counter()
        r = await self.http.get(self.app_url + "/form")
        elapsed = (time.perf_counter() - t) * 1000
        if r.status_code != 200 or "<form" not in r.text:
            raise RuntimeError(f"form page: {r.status_code}")
        return elapsed

    async def submission(self) -> float:
        t = time.perf_counter()
        r = await self.http.post(
            self.app_url + "/form",
            data={"csrf": self.csrf, "action": "confirm", **FORM},
            files={"id_document": ("id.pdf", PDF, "application/pdf")},
        )
        if r.status_code != 303:
            raise RuntimeError(f"form post: {r.status_code} {r.text[:300]}")
        r = await self.http.post(self.app_url + "/submit", data={"csrf": self.csrf})
        elapsed = (time.perf_counter() - t) * 1000
        if r.status_code != 303:
            raise RuntimeError(f"submit: {r.status_code} {r.text[:300]}")
        return elapsed

    async def close(self) -> None:
        await self.http.aclose()


def _mailed_code(owner_libpq: str, email: str) -> str:
    with psycopg.connect(owner_libpq) as conn:
        row = conn.execute(
            "SELECT body FROM mail_outbox WHERE to_addr = %s ORDER BY created_at DESC LIMIT 1", (email,)
        ).fetchone()
    if row is None:
        raise RuntimeError(f"no code mailed to {email}")
    match = re.search(r"確認コード: (\d{6})", row[0])
    if match is None:
        raise RuntimeError("mail without a code")
    return match.group(1)


async def _bounded(limit: int, jobs: list) -> list:  # type: ignore[type-arg]
    sem = asyncio.Semaphore(limit)

    async def one(job):  # type: ignore[no-untyped-def]
        async with sem:
            return await job()

    return await asyncio.gather(*(one(j) for j in jobs))


async def floor(base: str, concurrency: int, total: int) -> list[float]:
    """The baseline: the health route, no database or template, at the same concurrency."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=300) as client:

        async def hit() -> None:
            t = time.perf_counter()
            r = await client.get("/api/v1/health")
            latencies.append((time.perf_counter() - t) * 1000)
            r.raise_for_status()

        await _bounded(concurrency, [hit for _ in range(total)])
    return latencies


async def level(base: str, owner_libpq: str, users: int) -> None:
    residents = [Resident(base, users * 10_000 + i) for i in range(users)]
    try:
        t0 = time.perf_counter()
        await _bounded(20, [lambda r=r: r.start(owner_libpq) for r in residents])
        print(
            f"  {users} residents started and verified in {time.perf_counter() - t0:.1f} s (not timed below)"
        )
        t0 = time.perf_counter()
        pages = await asyncio.gather(*(r.form_page() for r in residents))
        page_wall = time.perf_counter() - t0
        t0 = time.perf_counter()
        subs = await asyncio.gather(*(r.submission() for r in residents))
        sub_wall = time.perf_counter() - t0
        base_lat = await floor(base, users, users * 2)
    finally:
        await asyncio.gather(*(r.close() for r in residents))
    b50, b95 = statistics.median(base_lat), pct(base_lat, 95)
    print(
        f"  form page   p50 {statistics.median(pages):7.1f} ms  p95 {pct(pages, 95):7.1f} ms  "
        f"{users / page_wall:6.1f} pages/s   ({statistics.median(pages) / b50:.1f}× the floor's p50)"
    )
    print(
        f"  submission  p50 {statistics.median(subs):7.1f} ms  p95 {pct(subs, 95):7.1f} ms  "
        f"{users / sub_wall:6.1f} submissions/s   ({statistics.median(subs) / b50:.1f}× the floor's p50)"
    )
    print(f"  floor (health route) p50 {b50:7.1f} ms  p95 {b95:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, nargs="+", default=[50, 200], help="concurrency levels")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    pg_url = os.environ.get("MADOGUCHI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    name, owner, app = create_database(pg_url)
    data_dir = Path(tempfile.gettempdir()) / name
    owner_settings = Settings(data_dir=data_dir, database_url=owner, db_app_role=APP_ROLE, demo=True)
    owner_libpq = "postgresql://" + owner.split("://", 1)[1]
    try:
        from server.__main__ import seed_demo
        from server.db.engine import Database
        from server.db.migrate import upgrade
        from server.domain.eforms import services

        upgrade(owner_settings)
        asyncio.run(seed_demo(owner_settings))

        async def procedures() -> None:
            db = Database(owner_settings.database_url)
            try:
                async with db.tenant(LG) as session:
                    await services.import_procedures(session, LG)
            finally:
                await db.dispose()

        asyncio.run(procedures())
        env = {
            **os.environ,
            "MADOGUCHI_DATA_DIR": str(data_dir),
            "MADOGUCHI_DATABASE_URL": app,
            "MADOGUCHI_DEMO": "1",
            "MADOGUCHI_LOG_LEVEL": "WARNING",
        }
        port = 19000 + os.getpid() % 1000
        log = data_dir / "server.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        proc = start_server(env, port, log)
        base = f"http://127.0.0.1:{port}"
        print(
            f"portal on PostgreSQL (app role, RLS), one uvicorn process, {os.cpu_count()} cores,"
            " load from the same machine"
        )
        try:
            for users in args.users:
                print(f"{users} concurrent residents:")
                asyncio.run(level(base, owner_libpq, users))
        except Exception:
            print(log.read_text(errors="replace")[-4000:])
            raise
        finally:
            proc.terminate()
            proc.wait()
    finally:
        if not args.keep:
            with psycopg.connect(pg_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
