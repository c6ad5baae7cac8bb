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

A failed request (an error page, a pool timeout) counts with the time the resident waited and is
reported as FAILED. Two baselines, measured in the same run:

- the bare framework floor at the same concurrency: the unauthenticated health route (one
  ``SELECT 1``, no template). The ratio says how much of the latency is the portal's own work;
- ``--baseline REF``: the portal's code at git ``REF`` (the naive path; a temporary worktree run
  by the same interpreter) against the same database, one process, before the current code;
  ratios naive / now are printed per level. ``--workers 1 2`` runs the current code once per
  process count (``MADOGUCHI_SERVER_WORKERS``).

``--profile FILE`` runs the one-process pass under cProfile (slow; for ``pstats``, not figures).
The machine's load average is printed before and after each level: on a shared machine, figures
are only comparable within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
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
    """The baseline: the health route (one ``SELECT 1``, no template) at the same concurrency."""
    latencies: list[float] = []
    # Idle connections are dropped before uvicorn's keep-alive ends (as the residents' clients).
    limits = httpx.Limits(max_connections=concurrency, keepalive_expiry=2)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=300) as client:

        async def hit() -> None:
            t = time.perf_counter()
            with contextlib.suppress(httpx.HTTPError):  # counted with its time: only a yardstick
                (await client.get("/api/v1/health")).raise_for_status()
            latencies.append((time.perf_counter() - t) * 1000)

        await _bounded(concurrency, [hit for _ in range(total)])
    return latencies


async def _timed(job) -> tuple[float, bool]:  # type: ignore[no-untyped-def]
    """Milliseconds until ``job`` answered, and whether it answered as expected (an error page or a
    server that gave up still counts with the time the resident waited for it)."""
    t = time.perf_counter()
    try:
        await job()
        ok = True
    except (RuntimeError, httpx.HTTPError):
        ok = False
    return (time.perf_counter() - t) * 1000, ok


async def level(base: str, owner_libpq: str, users: int) -> tuple[float, float, float, float, float]:
    """One burst of ``users`` residents; prints and returns page p50/p95, submission p50/p95, rate."""
    residents = [Resident(base, users * 10_000 + i) for i in range(users)]
    try:
        t0 = time.perf_counter()
        await _bounded(20, [lambda r=r: r.start(owner_libpq) for r in residents])
        print(
            f"  {users} residents started and verified in {time.perf_counter() - t0:.1f} s (not timed below)"
        )
        t0 = time.perf_counter()
        page_runs = await asyncio.gather(*(_timed(r.form_page) for r in residents))
        page_wall = time.perf_counter() - t0
        t0 = time.perf_counter()
        sub_runs = await asyncio.gather(*(_timed(r.submission) for r in residents))
        sub_wall = time.perf_counter() - t0
        base_lat = await floor(base, users, users * 2)
    finally:
        await asyncio.gather(*(r.close() for r in residents))
    pages, subs = [ms for ms, _ in page_runs], [ms for ms, _ in sub_runs]
    page_ok, sub_ok = sum(ok for _, ok in page_runs), sum(ok for _, ok in sub_runs)
    b50, b95 = statistics.median(base_lat), pct(base_lat, 95)
    print(
        f"  form page   p50 {statistics.median(pages):7.1f} ms  p95 {pct(pages, 95):7.1f} ms  "
        f"{page_ok / page_wall:6.1f} pages/s   ({statistics.median(pages) / b50:.1f}× the floor's p50)"
        + (f"  FAILED {users - page_ok}" if page_ok < users else "")
    )
    print(
        f"  submission  p50 {statistics.median(subs):7.1f} ms  p95 {pct(subs, 95):7.1f} ms  "
        f"{sub_ok / sub_wall:6.1f} submissions/s   ({statistics.median(subs) / b50:.1f}× the floor's p50)"
        + (f"  FAILED {users - sub_ok}" if sub_ok < users else "")
    )
    print(f"  floor (health route) p50 {b50:7.1f} ms  p95 {b95:7.1f} ms", flush=True)
    return (
        statistics.median(pages),
        pct(pages, 95),
        statistics.median(subs),
        pct(subs, 95),
        sub_ok / sub_wall,
    )


def _serve(
    tree: Path, env: dict[str, str], port: int, log: Path, profile: Path | None
) -> subprocess.Popen[bytes]:
    """``madoguchi-server run`` from the source tree ``tree`` (this one, or the baseline's worktree)."""
    env = {**env, "PYTHONPATH": str(tree)}
    if profile is None and tree == ROOT:
        return start_server(env, port, log)
    cmd = [sys.executable, "-m", "server", "run", "--port", str(port)]
    if profile is not None:  # click exits through SystemExit, which ``-m cProfile`` does not survive
        cmd = [sys.executable, "-c", PROFILED.format(port=port, out=str(profile))]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=out, cwd=tree)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


ROOT = Path(__file__).resolve().parents[2]
PROFILED = """
import cProfile
from server.__main__ import main
profile = cProfile.Profile()
profile.enable()
try:
    main(["run", "--port", "{port}"], standalone_mode=False)
except KeyboardInterrupt:
    pass
finally:
    profile.disable()
    profile.dump_stats({out!r})
"""


def _baseline_tree(ref: str) -> Path:
    """A detached worktree of ``ref`` (the naive path before the portal's caches)."""
    path = Path(tempfile.gettempdir()) / f"madoguchi-portal-baseline-{os.getpid()}"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), ref],
        check=True,
        capture_output=True,
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, nargs="+", default=[50, 200], help="concurrency levels")
    parser.add_argument("--workers", type=int, nargs="+", default=[1], help="server processes (passes)")
    parser.add_argument(
        "--baseline",
        metavar="REF",
        help="also run the code of git REF (one process) on the same database first; ratios are printed",
    )
    parser.add_argument("--profile", type=Path, help="run the one-process pass under cProfile into this file")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    pg_url = os.environ.get("MADOGUCHI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    name, owner, app = create_database(pg_url)
    data_dir = Path(tempfile.gettempdir()) / name
    owner_settings = Settings(data_dir=data_dir, database_url=owner, db_app_role=APP_ROLE, demo=True)
    owner_libpq = "postgresql://" + owner.split("://", 1)[1]
    baseline: Path | None = None
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
        passes: list[tuple[str, Path, int]] = []
        if args.baseline:
            baseline = _baseline_tree(args.baseline)
            passes.append((f"naive baseline (git {args.baseline})", baseline, 1))
        passes += [("now", ROOT, w) for w in args.workers]
        figures: dict[tuple[str, int], dict[int, tuple[float, float, float, float, float]]] = {}
        print(
            f"portal on PostgreSQL (app role, RLS), {os.cpu_count()} cores, load from the same machine,"
            f" load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        for label, tree, workers in passes:
            profile = args.profile if (args.profile and tree == ROOT and workers == 1) else None
            proc = _serve(tree, {**env, "MADOGUCHI_SERVER_WORKERS": str(workers)}, port, log, profile)
            print(f"== {label}, {workers} uvicorn process(es)" + (" under cProfile" if profile else ""))
            try:
                for users in args.users:
                    print(f"{users} concurrent residents:")
                    figures.setdefault((label, workers), {})[users] = asyncio.run(
                        level(base_url(port), owner_libpq, users)
                    )
                    print(f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
            except Exception:
                print(log.read_text(errors="replace")[-4000:])
                raise
            finally:
                # uvicorn re-raises the signal it stopped on: SIGINT lets the profile be written
                proc.send_signal(signal.SIGINT if profile else signal.SIGTERM)
                proc.wait()
        if baseline is not None:
            naive = figures[passes[0][0], 1]
            for (label, workers), now in figures.items():
                if label == passes[0][0]:
                    continue
                print(f"ratios naive / now ({workers} process(es)):")
                for users, f in now.items():
                    n = naive[users]
                    print(
                        f"  {users:>3} residents: form page p95 ×{n[1] / f[1]:.1f}  submission p95"
                        f" ×{n[3] / f[3]:.1f}  submissions/s ×{f[4] / n[4]:.1f}"
                    )
    finally:
        if baseline is not None:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(baseline)], check=False
            )
        if not args.keep:
            with psycopg.connect(pg_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def base_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


if __name__ == "__main__":
    main()
