"""Portal benchmark on PostgreSQL: residents' form page and submission under concurrency.

Prints figures; asserts nothing.

    MADOGUCHI_TEST_PG_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m bench.portal.run --users 50 200 --workers 1 2 --wrk

A throwaway database is created (and dropped at the end unless --keep), migrated and seeded with the
demo municipality and the starter procedures. The server runs as a separate uvicorn process
connected as the plain app role (row-level security applies). For each concurrency level N, N guest
residents start the 戸籍謄抄本 procedure and enter their emailed code (read from the mail outbox;
httpx, not timed). Then the load generator (:mod:`bench.portal.load`: pre-built requests on plain
sockets, in ``--clients`` processes of its own) lets all N at once:

- open the form page (``GET …/form``);
- submit: post the filled form with a 1 KB PDF (``POST …/form`` → confirmation) and send it
  (``POST …/submit``), timed together as one submission.

A failed request (an error page, a pool timeout) counts with the time the resident waited and is
reported as FAILED. Next to the latencies, each burst reports CPU time read from ``/proc``
(:mod:`bench.portal.cpu`): the server's processes per request, the PostgreSQL backends of the
bench database, the load generator's own processes, and the machine's busy time, so the client's
share is visible. CPU per request is the figure to compare across runs on a shared machine;
latencies only within one run. Baselines, measured in the same run:

- the bare framework floor at the same concurrency: the unauthenticated health route (one
  ``SELECT 1``, no template). The ratio says how much of the latency is the portal's own work;
- ``--baseline REF``: the portal's code at git ``REF`` (a temporary worktree run by the same
  interpreter, same load generator) against the same database, one process, before the current
  code; ratios baseline / now are printed per level. ``--workers 1 2`` runs the current code once
  per process count (``MADOGUCHI_SERVER_WORKERS``);
- ``--repeat K``: every pass K times, the order reversed every other time; the medians are compared (one
  pass differs from the next by up to ±30 % on a shared machine, with the same code);
- ``--wrk SECONDS``: a cross-check with ``wrk`` (Debian package ``wrk``), which keeps N connections
  busy on one resident's form page for that long (steady state, not a burst).

``--profile FILE`` runs the one-process pass under cProfile with a CPU-time clock (slow; for
``pstats``: ``tottime`` is CPU spent in a function, not time waited on the database).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.portal import cpu
from bench.portal.load import KINDS, Target, worker
from bench.records.run import APP_ROLE, create_database, pct
from server.config import Settings

LG = "082104"
PORTAL = f"/portal/{LG}"
SLUG = "koseki"
HOST = "127.0.0.1"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


async def _verified(base: str, n: int, owner_libpq: str) -> Target:
    """One guest resident started and verified through httpx (not timed)."""
    # Idle connections are dropped before uvicorn's 5 s keep-alive ends, or a reused one races it.
    async with httpx.AsyncClient(base_url=base, timeout=300, limits=httpx.Limits(keepalive_expiry=2)) as http:
        email = f"bench{n}-{os.getpid()}@example.jp"
        r = await http.post(f"{PORTAL}/procedures/{SLUG}/start", data={"email": email})
        if r.status_code != 303:
            raise RuntimeError(f"start: {r.status_code} {r.text[:200]}")
        path = r.headers["location"].removesuffix("/verify")
        code = await asyncio.to_thread(_mailed_code, owner_libpq, email)
        r = await http.get(path + "/verify")
        match = CSRF.search(r.text)
        if match is None:
            raise RuntimeError("verify page without CSRF token")
        r = await http.post(path + "/verify", data={"csrf": match.group(1), "code": code})
        if r.status_code != 303:
            raise RuntimeError(f"verify: {r.status_code} {r.text[:200]}")
        cookie = next(f"{c.name}={c.value}" for c in http.cookies.jar if c.name.startswith("eform_"))
        return Target(path=path, cookie=cookie, csrf=match.group(1))


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


async def _residents(base: str, owner_libpq: str, users: int, first: int | None = None) -> list[Target]:
    """``users`` verified applications (the residents' addresses numbered from ``first``)."""
    sem = asyncio.Semaphore(20)
    start = users * 10_000 if first is None else first

    async def one(n: int) -> Target:
        async with sem:
            return await _verified(base, n, owner_libpq)

    return list(await asyncio.gather(*(one(start + i) for i in range(users))))


@dataclass
class Burst:
    """One timed burst: latencies, and CPU seconds used while it ran."""

    latencies: list[float]
    ok: int
    wall: float
    server: float
    database: float
    client: float
    busy: float
    available: float
    waits: str = ""

    def line(self, what: str, unit: str, floor_p50: float | None = None) -> str:
        n, lat = len(self.latencies), self.latencies
        text = f"  {what:<11} p50 {statistics.median(lat):7.1f} ms  p95 {pct(lat, 95):7.1f} ms"
        text += f"  {self.ok / self.wall:6.1f} {unit}/s"
        if floor_p50:
            text += f"  ({statistics.median(lat) / floor_p50:.1f}× the floor's p50)"
        if self.ok < n:
            text += f"  FAILED {n - self.ok}"
        busy, ms = self.busy or 1e-9, 1000 / n
        text += (
            f"\n  {'':<11} CPU per {unit.removesuffix('s')}: server {self.server * ms:5.1f} ms,"
            f" PostgreSQL {self.database * ms:5.1f} ms, load generator {self.client * ms:5.2f} ms;"
            f" machine busy {self.busy / self.available:4.0%}: server {self.server / busy:4.0%},"
            f" PostgreSQL {self.database / busy:4.0%}, load generator {self.client / busy:4.0%}"
        )
        return text


@dataclass
class Journeys:
    """The concurrent-users model's requests: ``(kind, ms, ok)`` each, and CPU seconds used meanwhile."""

    samples: list[tuple[str, float, bool]]
    done: int
    seconds: float
    wall: float
    server: float
    database: float
    client: float
    busy: float
    available: float
    waits: str

    def of(self, kind: str) -> list[float]:
        return [ms for k, ms, _ in self.samples if k == kind]

    def figures(self) -> JourneyFigures:
        """p50 and p95 of each kind (ms), the arrival rate (requests begun per second), CPU ms per
        request of the server and of PostgreSQL, the machine's busy share and the 1-minute load average."""
        out: list[float] = []
        for kind in KINDS:
            lat = self.of(kind) or [0.0]
            out += [statistics.median(lat), pct(lat, 95)]
        n = len(self.samples) or 1
        return (  # type: ignore[return-value]
            *out,
            len(self.samples) / self.seconds,
            self.server / n * 1000,
            self.database / n * 1000,
            self.busy / self.available if self.available else 0.0,
            os.getloadavg()[0],
        )

    def lines(self, users: int, think: float) -> str:
        n = len(self.samples) or 1
        failed = sum(1 for _, _, ok in self.samples if not ok)
        text = (
            f"  journeys: {users} residents each looping form page → think → form post → think → 送信"
            f" → think, think time exponential with mean {think:g} s, for {self.seconds:g} s"
            f"\n  {'':<11} arrival rate {len(self.samples) / self.seconds:.1f} requests/s"
            f" ({self.done / self.seconds:.2f} journeys/s completed, {self.done} journeys)"
            + (f"  FAILED {failed}" if failed else "")
        )
        for kind in KINDS:
            lat = self.of(kind)
            if lat:
                text += (
                    f"\n  {kind:<11} p50 {statistics.median(lat):7.1f} ms  p95 {pct(lat, 95):7.1f} ms"
                    f"  ({len(lat)} requests)"
                )
        busy = self.busy or 1e-9
        text += (
            f"\n  {'':<11} CPU per request (all kinds): server {self.server / n * 1000:5.1f} ms,"
            f" PostgreSQL {self.database / n * 1000:5.1f} ms,"
            f" load generator {self.client / n * 1000:5.2f} ms;"
            f" machine busy {self.busy / self.available:4.0%}: server {self.server / busy:4.0%}"
        )
        return text


class Backends:
    """CPU and waits of the bench database's PostgreSQL backends while a burst runs.

    A thread asks ``pg_stat_activity`` every 50 ms which backends serve the database and reads their CPU,
    so a pool's overflow connection opened and closed during the burst is counted up to its last reading.
    The same sample notes each backend's state and wait event, and for every backend waiting on a lock
    the backends it waits for (``pg_blocking_pids``): what the lock holder was doing — still working in
    PostgreSQL, or ``idle in transaction``, i.e. waiting for the server process to send its next
    statement — is what makes a serial section long (see :meth:`summary`).
    """

    QUERY = (
        "SELECT pid, coalesce(state, ''), coalesce(wait_event_type, ''), coalesce(wait_event, ''),"
        " left(regexp_replace(query, '\\s+', ' ', 'g'), 48), pg_blocking_pids(pid)"
        " FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    )

    def __init__(self, owner_libpq: str, db: str) -> None:
        self.conn = psycopg.connect(owner_libpq, autocommit=True)
        self.db = db
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.samples = 0
        self.states: dict[str, int] = {}
        self.waited: dict[str, int] = {}
        self.holders: dict[str, int] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _read(self) -> dict[int, float]:
        rows = self.conn.execute(self.QUERY, (self.db,)).fetchall()
        return cpu.processes([r[0] for r in rows])

    def _sample(self) -> dict[int, float]:
        rows = self.conn.execute(self.QUERY, (self.db,)).fetchall()
        by_pid = {r[0]: r for r in rows}
        self.samples += 1
        holders: set[int] = set()
        for _pid, state, wtype, wevent, query, blockers in rows:
            key = "waiting on a lock" if wtype == "Lock" else state or "?"
            self.states[key] = self.states.get(key, 0) + 1
            if wtype == "Lock" and blockers:
                what = f"{wevent}: {query}"
                self.waited[what] = self.waited.get(what, 0) + 1
                holders.update(blockers)
        for pid in holders:
            r = by_pid.get(pid)
            if r is None:
                what = "(another database)"
            elif r[2] == "Lock":
                what = "itself waiting on a lock"
            elif r[1] == "idle in transaction":
                what = f"idle in transaction (waiting for the server), last: {r[4]}"
            else:
                what = f"{r[1]} {r[2]}:{r[3]} {r[4]}".strip()
            self.holders[what] = self.holders.get(what, 0) + 1
        return cpu.processes(list(by_pid))

    def _poll(self) -> None:
        while not self.stop.wait(0.05):
            self.last.update(self._sample())

    def __enter__(self) -> Backends:
        self.first = self._read()
        self.last = dict(self.first)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.last.update(self._read())
        self.conn.close()

    @property
    def used(self) -> float:
        return cpu.used(self.first, self.last)

    def summary(self, top: int = 3) -> str:
        """Mean backends per state over the samples, what lock waiters waited for, and the holders."""
        n = self.samples or 1
        states = ", ".join(f"{k} {v / n:.1f}" for k, v in sorted(self.states.items(), key=lambda kv: -kv[1]))
        text = f"PostgreSQL backends, mean of {self.samples} samples: {states or 'none'}"
        waits = sum(self.waited.values())
        for k, v in sorted(self.waited.items(), key=lambda kv: -kv[1])[:top]:
            text += f"\n    waited {v / waits:4.0%} on {k}"
        held = sum(self.holders.values())
        for k, v in sorted(self.holders.items(), key=lambda kv: -kv[1])[:top]:
            text += f"\n    holder {v / held:4.0%} {k}"
        return text


class Load:
    """The load generator's processes for one level, and the CPU readings around each command."""

    def __init__(
        self, targets: list[Target], port: int, procs: int, server_pid: int, owner_libpq: str, db: str
    ):
        ctx = multiprocessing.get_context("spawn")
        self.server_pid = server_pid
        self.owner_libpq = owner_libpq
        self.db = db
        self.pipes = []
        self.procs = []
        for i in range(procs):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=worker, args=(child, HOST, port), daemon=True)
            p.start()
            parent.send(targets[i::procs])
            self.pipes.append(parent)
            self.procs.append(p)
        for pipe in self.pipes:
            if pipe.recv() != "ready":
                raise RuntimeError("load generator did not start")

    def run(self, command: str, arg: object = None) -> Burst:
        server0, machine0 = cpu.tree(self.server_pid), cpu.Machine.read()
        with Backends(self.owner_libpq, self.db) as backends:
            t0 = time.perf_counter()
            for pipe in self.pipes:
                pipe.send((command, arg))
            answers = [pipe.recv() for pipe in self.pipes]
            wall = time.perf_counter() - t0
        machine1, server1 = cpu.Machine.read(), cpu.tree(self.server_pid)
        busy, available = machine1.since(machine0)
        return Burst(
            latencies=[ms for lat, _, _ in answers for ms in lat],
            ok=sum(sum(oks) for _, oks, _ in answers),
            wall=wall,
            server=cpu.used(server0, server1),
            database=backends.used,
            client=sum(c for _, _, c in answers),
            busy=busy,
            available=available,
            waits=backends.summary(),
        )

    def journey(self, seconds: float, think: float, seed: int, residents: list[list[Target]]) -> Journeys:
        """The concurrent-users model (:func:`bench.portal.load._journeys`) for ``seconds``."""
        procs = len(self.pipes)
        server0, machine0 = cpu.tree(self.server_pid), cpu.Machine.read()
        with Backends(self.owner_libpq, self.db) as backends:
            t0 = time.perf_counter()
            for i, pipe in enumerate(self.pipes):
                pipe.send(("journey", (seconds, think, seed + i, residents[i::procs])))
            answers = [pipe.recv() for pipe in self.pipes]
            wall = time.perf_counter() - t0
        machine1, server1 = cpu.Machine.read(), cpu.tree(self.server_pid)
        busy, available = machine1.since(machine0)
        return Journeys(
            samples=[x for samples, _, _ in answers for x in samples],
            done=sum(d for _, d, _ in answers),
            seconds=seconds,
            wall=wall,
            server=cpu.used(server0, server1),
            database=backends.used,
            client=sum(c for _, _, c in answers),
            busy=busy,
            available=available,
            waits=backends.summary(),
        )

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send(("stop", None))
        for p in self.procs:
            p.join(10)


Figures = tuple[float, float, float, float, float, float, float]
#: Journeys: form page p50, p95; form post p50, p95; 送信 p50, p95; arrival rate (requests/s);
#: server and PostgreSQL CPU ms per request; machine busy (0–1); load average (1 min) at the end.
JourneyFigures = tuple[float, float, float, float, float, float, float, float, float, float, float]


@dataclass(frozen=True)
class JourneyPlan:
    """``--journey``: how long the concurrent-users model runs and the think time's mean (s)."""

    seconds: float
    think: float
    seed: int

    def per_resident(self) -> int:
        """Applications each resident gets: the journeys it can start in ``seconds``, and two more."""
        return int(self.seconds / (3 * self.think)) + 2 if self.think > 0 else 50


def level(
    port: int, server_pid: int, owner_libpq: str, db: str, users: int, procs: int, plan: JourneyPlan | None
) -> tuple[Figures, JourneyFigures | None]:
    """One burst of ``users`` residents (and with ``plan`` the concurrent-users model); prints and
    returns page p50/p95, submission p50/p95, rate, server CPU ms per page and per submission, and
    the journeys' figures."""
    t0 = time.perf_counter()
    base = f"http://{HOST}:{port}"
    targets = asyncio.run(_residents(base, owner_libpq, users))
    print(f"  {users} residents started and verified in {time.perf_counter() - t0:.1f} s (not timed below)")
    load = Load(targets, port, procs, server_pid, owner_libpq, db)
    journeys = None
    try:
        pages = load.run("page")
        subs = load.run("submit")
        per = -(-users // procs)
        floor = load.run("floor", (per, per * 2))
        b50 = statistics.median(floor.latencies)
        print("  burst: all residents at once, no think time (the harsher model)")
        print(pages.line("form page", "pages", b50))
        print(subs.line("submission", "submissions", b50))
        print("  " + subs.waits)
        print(floor.line("floor", "requests"), flush=True)
        if plan is not None:
            k = plan.per_resident()
            t0 = time.perf_counter()
            apps = asyncio.run(_residents(base, owner_libpq, users * k, 5_000_000 + users * 10_000))
            took = time.perf_counter() - t0
            print(f"  {users * k} applications ({k} per resident) verified in {took:.1f} s (not timed)")
            per_resident = [apps[i::users] for i in range(users)]
            journeys = load.journey(plan.seconds, plan.think, plan.seed, per_resident)
            print(journeys.lines(users, plan.think))
            print("  " + journeys.waits, flush=True)
    finally:
        load.close()
    return (
        statistics.median(pages.latencies),
        pct(pages.latencies, 95),
        statistics.median(subs.latencies),
        pct(subs.latencies, 95),
        subs.ok / subs.wall,
        pages.server / users * 1000,
        subs.server / users * 1000,
    ), journeys.figures() if journeys is not None else None


WRK_LINE = re.compile(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def cross_check(port: int, server_pid: int, target: Target, users: int, seconds: int) -> None:
    """``wrk`` holding ``users`` connections on one resident's form page (steady state)."""
    exe = shutil.which("wrk")
    if exe is None:
        print("  wrk: not installed (apt-get install wrk), skipped")
        return
    server0, machine0 = cpu.tree(server_pid), cpu.Machine.read()
    child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        [
            exe,
            "-t1",
            f"-c{users}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "30s",
            "-H",
            f"Cookie: {target.cookie}",
            f"http://{HOST}:{port}{target.path}/form",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    server, (busy, _available) = cpu.used(server0, cpu.tree(server_pid)), cpu.Machine.read().since(machine0)
    wrk_cpu = child1.ru_utime + child1.ru_stime - child0.ru_utime - child0.ru_stime
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    dist = {p: float(v) * scale[u] for p, v, u in WRK_LINE.findall(out)}
    total = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    n = int(total.group(1)) if total else 0
    print(
        f"  wrk, {users} connections on one form page for {seconds} s: p50 {dist.get('50', 0):7.1f} ms"
        f"  p90 {dist.get('90', 0):7.1f} ms  p99 {dist.get('99', 0):7.1f} ms  {n / seconds:6.1f} pages/s"
        + (f"  non-2xx {bad.group(1)}" if bad else "")
        + (f"  socket errors: {errors.group(1)}" if errors else "")
    )
    if n:
        print(
            f"  {'':<11} CPU per page: server {server / n * 1000:5.1f} ms, wrk {wrk_cpu / n * 1000:5.2f} ms;"
            f" wrk {wrk_cpu / busy * 100 if busy else 0:3.0f} % of the machine's busy time",
            flush=True,
        )


def _serve(
    tree: Path, env: dict[str, str], port: int, log: Path, profile: Path | None
) -> subprocess.Popen[bytes]:
    """``madoguchi-server run`` from the source tree ``tree`` (this one, or the baseline's worktree)."""
    env = {**env, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, "-m", "server", "run", "--port", str(port)]
    if profile is not None:  # click exits through SystemExit, which ``-m cProfile`` does not survive
        cmd = [sys.executable, "-c", PROFILED.format(port=port, out=str(profile))]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=out, cwd=tree)
    for _ in range(300):
        try:
            if httpx.get(f"http://{HOST}:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


ROOT = Path(__file__).resolve().parents[2]
#: cProfile on CPU time (``time.process_time``): waiting on PostgreSQL costs nothing in the profile.
PROFILED = """
import cProfile, time
from server.__main__ import main
profile = cProfile.Profile(time.process_time)
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
    """A detached worktree of ``ref`` (the code before the changes to compare)."""
    path = Path(tempfile.gettempdir()) / f"madoguchi-portal-baseline-{os.getpid()}"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), ref],
        check=True,
        capture_output=True,
    )
    return path


def _median(runs: list[tuple[float, ...]]) -> Any:
    """Each figure's median over the passes of one configuration."""
    return tuple(statistics.median(f[i] for f in runs) for i in range(len(runs[0])))  # type: ignore[return-value]


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def prepare(pg_url: str) -> tuple[str, str, dict[str, str]]:
    """A throwaway database, migrated, with the demo municipality and the starter procedures;
    (its name, the owner's libpq URL, the server's environment: plain app role, RLS on)."""
    from server.__main__ import seed_demo
    from server.db.engine import Database
    from server.db.migrate import upgrade
    from server.domain.eforms import services

    name, owner, app = create_database(pg_url)
    data_dir = Path(tempfile.gettempdir()) / name
    owner_settings = Settings(data_dir=data_dir, database_url=owner, db_app_role=APP_ROLE, demo=True)

    async def procedures() -> None:
        db = Database(owner_settings.database_url)
        try:
            async with db.tenant(LG) as session:
                await services.import_procedures(session, LG)
        finally:
            await db.dispose()

    try:
        upgrade(owner_settings)
        asyncio.run(seed_demo(owner_settings))
        asyncio.run(procedures())
    except BaseException:
        drop(pg_url, name)
        raise
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "MADOGUCHI_DATA_DIR": str(data_dir),
        "MADOGUCHI_DATABASE_URL": app,
        "MADOGUCHI_DEMO": "1",
        "MADOGUCHI_LOG_LEVEL": "WARNING",
    }
    return name, "postgresql://" + owner.split("://", 1)[1], env


def drop(pg_url: str, name: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, nargs="+", default=[50, 200], help="concurrency levels")
    parser.add_argument("--workers", type=int, nargs="+", default=[1], help="server processes (passes)")
    parser.add_argument("--clients", type=int, default=1, help="load generator processes")
    parser.add_argument(
        "--baseline",
        metavar="REF",
        help="also run the code of git REF (one process) on the same database first; ratios are printed",
    )
    parser.add_argument(
        "--wrk", type=int, default=0, metavar="SECONDS", help="cross-check the form page with wrk for so long"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run all passes this many times (order reversed every other time); medians are compared",
    )
    parser.add_argument("--profile", type=Path, help="run the one-process pass under cProfile into this file")
    parser.add_argument(
        "--journey",
        type=float,
        default=0,
        metavar="SECONDS",
        help="after each burst, the concurrent-users model for so long: every resident loops form page,"
        " think, form post, think, 送信, think",
    )
    parser.add_argument(
        "--think", type=float, default=5.0, help="mean think time of --journey, seconds (exponential)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the think times")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    pg_url = os.environ.get("MADOGUCHI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    name, owner_libpq, env = prepare(pg_url)
    data_dir = Path(env["MADOGUCHI_DATA_DIR"])
    baseline: Path | None = None
    try:
        port = 19000 + os.getpid() % 1000
        log = data_dir / "server.log"
        passes: list[tuple[str, Path, int]] = []
        if args.baseline:
            baseline = _baseline_tree(args.baseline)
            passes.append((f"baseline (git {args.baseline})", baseline, 1))
        passes += [("now", ROOT, w) for w in args.workers]
        figures: dict[tuple[str, int], dict[int, list[Figures]]] = {}
        journeys: dict[tuple[str, int], dict[int, list[JourneyFigures]]] = {}
        plan = JourneyPlan(args.journey, args.think, args.seed) if args.journey > 0 else None
        # With --repeat the passes run again, in reverse order every other time (load drifts, tables grow).
        schedule = [p for r in range(args.repeat) for p in (passes if r % 2 == 0 else passes[::-1])]
        print(
            f"portal on PostgreSQL (app role, RLS), {os.cpu_count()} cores, load generator: {args.clients}"
            f" process(es) on the same machine, load average before: {_load_average()}"
        )
        for label, tree, workers in schedule:
            profile = args.profile if (args.profile and tree == ROOT and workers == 1) else None
            proc = _serve(tree, {**env, "MADOGUCHI_SERVER_WORKERS": str(workers)}, port, log, profile)
            print(f"== {label}, {workers} uvicorn process(es)" + (" under cProfile" if profile else ""))
            try:
                for users in args.users:
                    print(f"{users} concurrent residents:")
                    burst, journey = level(port, proc.pid, owner_libpq, name, users, args.clients, plan)
                    figures.setdefault((label, workers), {}).setdefault(users, []).append(burst)
                    if journey is not None:
                        journeys.setdefault((label, workers), {}).setdefault(users, []).append(journey)
                    if args.wrk:
                        one = asyncio.run(
                            _verified(f"http://{HOST}:{port}", users * 10_000 + 9999, owner_libpq)
                        )
                        cross_check(port, proc.pid, one, users, args.wrk)
                    print(f"  load average: {_load_average()}", flush=True)
            except Exception:
                print(log.read_text(errors="replace")[-4000:])
                raise
            finally:
                # uvicorn re-raises the signal it stopped on: SIGINT lets the profile be written
                proc.send_signal(signal.SIGINT if profile else signal.SIGTERM)
                proc.wait()
        medians = {
            key: {users: _median(runs) for users, runs in levels.items()} for key, levels in figures.items()
        }
        if args.repeat > 1:
            print(f"medians of {args.repeat} passes each:")
            for (label, workers), levels in medians.items():
                for users, f in levels.items():
                    print(
                        f"  {label}, {workers} process(es), {users:>3} at once: form page p50"
                        f" {f[0]:.0f} / p95 {f[1]:.0f} ms, submission p50 {f[2]:.0f} / p95 {f[3]:.0f} ms,"
                        f" {f[4]:.1f} submissions/s, server CPU per page {f[5]:.1f} ms, per submission"
                        f" {f[6]:.1f} ms"
                    )
        for (label, workers), levels in journeys.items():
            print(
                f"journeys (the concurrent-users model; think time exponential, mean {args.think:g} s;"
                f" median of {args.repeat} pass(es)), {label}, {workers} process(es):"
            )
            for users, runs in levels.items():
                j = _median(runs)
                b = medians[label, workers][users]
                print(
                    f"  {users:>3} residents: form page p50 {j[0]:.0f} / p95 {j[1]:.0f} ms, form post p50"
                    f" {j[2]:.0f} / p95 {j[3]:.0f} ms, 送信 p50 {j[4]:.0f} / p95 {j[5]:.0f} ms, arrival"
                    f" {j[6]:.1f} requests/s, CPU per request server {j[7]:.1f} / PostgreSQL {j[8]:.1f} ms,"
                    f" machine busy {j[9]:.0%}, load average {j[10]:.1f} — burst (all {users} at once):"
                    f" form page p95 {b[1]:.0f} ms, submission (form post + 送信) p95 {b[3]:.0f} ms"
                )
        if baseline is not None and journeys:
            first = journeys.get((passes[0][0], 1), {})
            for (label, workers), levels in journeys.items():
                if label == passes[0][0]:
                    continue
                print(f"journey ratios baseline / now ({workers} process(es)):")
                for users, runs in levels.items():
                    if users not in first:
                        continue
                    j, b = _median(runs), _median(first[users])
                    print(
                        f"  {users:>3} residents: form page p95 ×{b[1] / j[1]:.2f}  form post p95"
                        f" ×{b[3] / j[3]:.2f}  送信 p95 ×{b[5] / j[5]:.2f}  server CPU per request"
                        f" ×{b[7] / j[7]:.2f}"
                    )
        if baseline is not None:
            before = medians[passes[0][0], 1]
            for (label, workers), now in medians.items():
                if label == passes[0][0]:
                    continue
                print(f"ratios baseline / now ({workers} process(es)):")
                for users, f in now.items():
                    b = before[users]
                    print(
                        f"  {users:>3} residents: form page p95 ×{b[1] / f[1]:.2f}  submission p95"
                        f" ×{b[3] / f[3]:.2f}  submissions/s ×{f[4] / b[4]:.2f}  server CPU per page"
                        f" ×{b[5] / f[5]:.2f}  per submission ×{b[6] / f[6]:.2f}"
                    )
    finally:
        if baseline is not None:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(baseline)], check=False
            )
        if not args.keep:
            drop(pg_url, name)
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
