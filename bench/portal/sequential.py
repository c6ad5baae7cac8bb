"""The portal's server CPU per request, one request at a time, before and after a change.

    MADOGUCHI_TEST_PG_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m bench.portal.sequential --baseline REF --residents 40 --rounds 3

Latencies under load on a shared machine move with everybody else's work; the CPU time the server
spends on one request moves much less. Here a child process builds the application of a source
tree (this one, or git ``REF`` in a temporary worktree) against a throwaway PostgreSQL database
(app role, RLS), and calls it as ASGI directly — no HTTP client, no socket, no uvicorn — for each
resident in turn: the form page, the form post with a 1 KB PDF, the confirmation page it leads to (which a
browser opens; the burst bench does not time it), and 送信. It reports the median CPU
time (``time.process_time``: the handler, the ORM, psycopg, rendering) and the SQL statements of
each. The trees run alternately ``--rounds`` times (the first one alternating as well), so a change of the
machine's load hits both.
Prints figures; asserts nothing.

The child part imports only the tree's ``server`` and :mod:`bench.portal.load` by its file path, so
it runs against code from before this file existed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

STEPS = ("form page", "form post", "確認画面", "送信")


class _Answer:
    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.text = body.decode(errors="replace")

    def header(self, name: bytes) -> str:
        return next((v.decode() for k, v in self.headers if k.lower() == name), "")

    def cookie(self) -> str:
        """``name=value`` of the application cookie set by this answer ('' if none)."""
        for k, v in self.headers:
            if k.lower() == b"set-cookie" and v.startswith(b"eform_"):
                return v.decode().split(";", 1)[0]
        return ""


async def _call(
    app: Any, method: str, path: str, cookie: str = "", body: bytes = b"", ctype: str = ""
) -> _Answer:
    """One request straight into the ASGI application."""
    headers = [(b"host", b"127.0.0.1"), (b"user-agent", b"madoguchi-bench")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if method == "POST":
        headers += [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop()
        await asyncio.Event().wait()  # nothing more: the app waits for a disconnect that never comes
        raise AssertionError

    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        else:
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return _Answer(start["status"], list(start.get("headers", [])), b"".join(chunks))


def _load_module() -> Any:
    spec = importlib.util.spec_from_file_location("portal_load", Path(__file__).with_name("load.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


async def _child(residents: int, warmup: int, owner_libpq: str) -> dict[str, Any]:
    """In the tree's interpreter: CPU ms and statements of each step, per resident after warm-up."""
    import psycopg
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from server.app import create_app
    from server.config import get_settings

    load = _load_module()
    seen: list[str] = []
    event.listen(Engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    app = create_app(get_settings())
    portal = "/portal/082104"
    cpu: dict[str, list[float]] = {s: [] for s in STEPS}
    statements: dict[str, int] = {}
    async with app.lifespan():
        for i in range(residents + warmup):
            email = f"seq{i}-{os.getpid()}@example.jp"
            r = await _call(
                app,
                "POST",
                f"{portal}/procedures/koseki/start",
                body=f"email={email}".encode(),
                ctype="application/x-www-form-urlencoded",
            )
            path, cookie = r.header(b"location").removesuffix("/verify"), r.cookie()
            with psycopg.connect(owner_libpq) as conn:
                row = conn.execute("SELECT body FROM mail_outbox WHERE to_addr = %s", (email,)).fetchone()
            code = re.search(r"確認コード: (\d{6})", row[0] if row else "")
            r = await _call(app, "GET", path + "/verify", cookie)
            csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', r.text)
            if code is None or csrf is None:
                raise RuntimeError("no code or CSRF token")
            r = await _call(
                app,
                "POST",
                path + "/verify",
                cookie,
                f"csrf={csrf[1]}&code={code[1]}".encode(),
                "application/x-www-form-urlencoded",
            )
            body, ctype = load.multipart(
                {"csrf": csrf[1], "action": "confirm", **load.FORM},
                {"id_document": ("id.pdf", load.PDF, "application/pdf")},
            )
            steps = (
                ("form page", ("GET", path + "/form", cookie), 200),
                ("form post", ("POST", path + "/form", cookie, body, ctype), 303),
                ("確認画面", ("GET", path + "/confirm", cookie), 200),
                (
                    "送信",
                    (
                        "POST",
                        path + "/submit",
                        cookie,
                        f"csrf={csrf[1]}".encode(),
                        "application/x-www-form-urlencoded",
                    ),
                    303,
                ),
            )
            for step, call, expected in steps:
                seen.clear()
                t = time.process_time()
                r = await _call(app, *call)
                used = time.process_time() - t
                if r.status != expected:
                    raise RuntimeError(f"{step}: {r.status} {r.text[:300]}")
                if i >= warmup:
                    cpu[step].append(used * 1000)
                    statements[step] = len(seen)
    return {"cpu": {s: statistics.median(v) for s, v in cpu.items()}, "statements": statements}


def _run_tree(
    tree: Path, env: dict[str, str], residents: int, warmup: int, owner_libpq: str
) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(residents), str(warmup), owner_libpq],
        env={**env, "PYTHONPATH": str(tree), "MADOGUCHI_SCHEDULER_ENABLED": "0"},
        cwd=tree,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    from bench.portal.run import ROOT, _baseline_tree, drop, prepare

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--baseline", metavar="REF", help="also run git REF, alternately with this tree")
    parser.add_argument("--residents", type=int, default=40, help="timed residents per run")
    parser.add_argument("--warmup", type=int, default=5, help="residents before timing (imports, caches)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per tree")
    args = parser.parse_args()
    pg_url = os.environ.get("MADOGUCHI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    name, owner_libpq, env = prepare(pg_url)
    trees: list[tuple[str, Path]] = [("now", ROOT)]
    baseline = None
    try:
        if args.baseline:
            baseline = _baseline_tree(args.baseline)
            trees.insert(0, (f"baseline (git {args.baseline})", baseline))
        runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in trees}
        load_average = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"sequential, in process (ASGI), load average before: {load_average}")
        for n in range(args.rounds):
            for label, tree in trees if n % 2 == 0 else trees[::-1]:  # who goes first alternates too
                result = _run_tree(tree, env, args.residents, args.warmup, owner_libpq)
                runs[label].append(result)
                print(
                    f"  round {n + 1} {label}: " + ", ".join(f"{s} {result['cpu'][s]:.2f} ms" for s in STEPS),
                    flush=True,
                )
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        medians = {
            label: {s: statistics.median(r["cpu"][s] for r in rs) for s in STEPS}
            for label, rs in runs.items()
        }
        for label, rs in runs.items():
            print(
                f"{label}: median of {len(rs)} runs × {args.residents} residents — "
                + ", ".join(
                    f"{s} {medians[label][s]:.2f} ms CPU ({rs[-1]['statements'][s]} statements)"
                    for s in STEPS
                )
            )
        if baseline is not None:
            b, now = medians[trees[0][0]], medians["now"]
            print("ratio baseline / now: " + ", ".join(f"{s} ×{b[s] / now[s]:.2f}" for s in STEPS))
    finally:
        if baseline is not None:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(baseline)], check=False
            )
        drop(pg_url, name)
        shutil.rmtree(env["MADOGUCHI_DATA_DIR"], ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(asyncio.run(_child(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))))
    else:
        main()
