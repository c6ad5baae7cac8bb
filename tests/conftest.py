"""Fixtures shared by every test package.

- ``pg_url``: the PostgreSQL test database. Without ``MADOGUCHI_TEST_PG_URL`` the PostgreSQL tests
  skip on a developer's machine, but with ``MADOGUCHI_REQUIRE_PG=1`` (CI, ``./quickstart test``) an
  unreachable database is a failure, never a skip.
- ``live_server``: a real ``madoguchi-server`` process on a free port with its own SQLite file,
  seeded with the demo municipality and users (``madoguchi-server demo seed``).
- every test: SIGPIPE is still ignored afterwards (a C library that resets it made a much later
  test die of SIGPIPE, far from the cause; this names the test that did it).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DEMO_LG_CODE = "082104"
DEMO_CLERK = ("demo", "madoguchi-demo")
DEMO_SUPERVISOR = ("demo-admin", "madoguchi-demo")


def need(reason: str) -> None:
    """A test's outside requirement is missing: skip on a developer's machine, fail in the README's
    test command and CI (``MADOGUCHI_STRICT=1``), where everything is installed and a skip would
    hide an untested part."""
    if os.environ.get("MADOGUCHI_STRICT") == "1":
        pytest.fail(f"{reason} (MADOGUCHI_STRICT=1: the test command installs this, so it must be here)")
    pytest.skip(reason)


def sigpipe_ignored(pid: int | str = "self") -> bool | None:
    """Whether the kernel ignores SIGPIPE for a process (None where /proc is missing).

    ``signal.getsignal`` only knows what Python itself set: a reset by a C library (libsane's
    scanner thread helper did one) shows only here."""
    return _sigpipe_in("SigIgn", pid)


def sigpipe_caught(pid: int | str = "self") -> bool | None:
    """Whether the kernel has a handler installed for SIGPIPE (None where /proc is missing)."""
    return _sigpipe_in("SigCgt", pid)


def _sigpipe_in(field: str, pid: int | str) -> bool | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    mask = next((line.split()[1] for line in status.splitlines() if line.startswith(f"{field}:")), None)
    return None if mask is None else bool(int(mask, 16) & (1 << (signal.SIGPIPE - 1)))


@pytest.fixture(autouse=True)
def _sigpipe_stays_ignored() -> Iterator[None]:
    yield
    if not hasattr(signal, "SIGPIPE") or signal.getsignal(signal.SIGPIPE) != signal.SIG_IGN:
        return
    if sigpipe_ignored() is False:
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # the rest of the run must not die of it
        pytest.fail(
            "SIGPIPE is no longer ignored after this test (a C library reset it to SIG_DFL): "
            "a write to a connection the other side closed would now kill the test process"
        )


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = os.environ.get("MADOGUCHI_TEST_PG_URL")
    required = os.environ.get("MADOGUCHI_REQUIRE_PG") == "1"
    if not url:
        if required:
            pytest.fail("MADOGUCHI_TEST_PG_URL is not set but MADOGUCHI_REQUIRE_PG=1")
        pytest.skip("PostgreSQL not configured (set MADOGUCHI_TEST_PG_URL)")
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("select 1")
    except Exception as exc:  # pragma: no cover - depends on the machine
        if required:
            pytest.fail(f"PostgreSQL unreachable at {url}: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    data_dir: Path
    lg_code: str = DEMO_LG_CODE
    clerk: tuple[str, str] = DEMO_CLERK
    supervisor: tuple[str, str] = DEMO_SUPERVISOR

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def start(self) -> None:
        """(Re)start the server process on the same port and database."""
        self.stop()
        port = self.url.rsplit(":", 1)[1]
        self.process = _spawn(self.env, int(port))
        _wait_healthy(self.url, self.process)


# Variables that only matter to a running server (mail, links), not to `db upgrade` / `demo seed`:
# two live servers that differ only in these share one migrated and seeded template.
_RUNTIME_ONLY = ("MADOGUCHI_SMTP_", "MADOGUCHI_PUBLIC_BASE_URL", "MADOGUCHI_TEST_", "MADOGUCHI_STRICT")
_templates: dict[tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, str], ...]], Path] = {}


def _migrated_and_seeded(
    data_dir: Path, env: dict[str, str], extra_env: dict[str, str], setup: tuple[tuple[str, ...], ...]
) -> None:
    """``db upgrade`` + ``demo seed`` + the ``setup`` commands into ``data_dir``.

    Both run once per test session for each set of settings that could change what they write; every
    further live server starts from a copy of that result (database file and key ring), which is
    the state the two commands would produce again. The copy is a fresh file: tests stay isolated.
    """
    own = {"MADOGUCHI_DATA_DIR", "MADOGUCHI_DATABASE_URL"}
    key = (
        setup,
        tuple(
            sorted(
                (k, v)
                for k, v in {
                    **{k: v for k, v in os.environ.items() if k.startswith("MADOGUCHI_")},
                    **extra_env,
                }.items()
                if k not in own and not k.startswith(_RUNTIME_ONLY)
            )
        ),
    )
    template = _templates.get(key)
    if template is None:
        template = Path(tempfile.mkdtemp(prefix="madoguchi-live-template-")) / "server"
        template.mkdir()
        tenv = {**env, "MADOGUCHI_DATA_DIR": str(template)}
        tenv["MADOGUCHI_DATABASE_URL"] = f"sqlite+aiosqlite:///{template / 'madoguchi.db'}"
        subprocess.run(_server_cmd("db", "upgrade"), env=tenv, check=True, capture_output=True)
        subprocess.run(_server_cmd("demo", "seed"), env=tenv, check=True, capture_output=True)
        for command in setup:
            subprocess.run(_server_cmd(*command), env=tenv, check=True, capture_output=True)
        _templates[key] = template
    shutil.copytree(template, data_dir, dirs_exist_ok=True)


def _server_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "server", *args]


def _spawn(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        _server_cmd("run", "--host", "127.0.0.1", "--port", str(port)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"server exited with {proc.returncode}: {err[-3000:]}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become healthy in 60 s")


def start_live_server(
    data_dir: Path, extra_env: dict[str, str] | None = None, setup: tuple[tuple[str, ...], ...] = ()
) -> LiveServer:
    """Migrate, seed, run the ``setup`` commands (``madoguchi-server`` arguments) and start a server
    in ``data_dir``; the caller stops it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        {
            "MADOGUCHI_DATA_DIR": str(data_dir),
            "MADOGUCHI_DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'madoguchi.db'}",
            "MADOGUCHI_DEMO": "1",
            # No automatic backup / report in every live server (tests that want it enable it).
            "MADOGUCHI_SCHEDULER_ENABLED": "0",
            **(extra_env or {}),
        }
    )
    _migrated_and_seeded(data_dir, env, extra_env or {}, setup)
    port = free_port()
    proc = _spawn(env, port)
    url = f"http://127.0.0.1:{port}"
    _wait_healthy(url, proc)
    return LiveServer(url=url, process=proc, env=env, data_dir=data_dir)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = start_live_server(tmp_path / "server")
    try:
        yield server
    finally:
        server.stop()
