"""How many processes ``madoguchi-server run`` starts: one per core on PostgreSQL within the
database's connection limit, one on SQLite, an explicit count as given (with a warning)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from server.config import Settings
from server.workers import HEADROOM, available_cores, connection_limits, plan_workers
from tests.conftest import free_port

PG = "postgresql+psycopg://u@db.example/x"


def pg_settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, database_url=PG, **values)  # type: ignore[arg-type]


def test_sqlite_runs_one_process_whatever_the_cores(tmp_path: Path) -> None:
    plan = plan_workers(Settings(data_dir=tmp_path), None, 16, None)
    assert (plan.count, plan.note) == (1, None)


def test_postgres_runs_one_process_per_core_when_the_connections_allow(tmp_path: Path) -> None:
    settings = pg_settings(tmp_path)  # pools of 10 + 10
    assert plan_workers(settings, None, 4, (100, 3)) == plan_workers(settings, 0, 4, (100, 3))
    plan = plan_workers(settings, None, 4, (100, 3))
    assert (plan.count, plan.note) == (4, None)


def test_postgres_runs_fewer_processes_than_cores_when_connections_are_short(tmp_path: Path) -> None:
    settings = pg_settings(tmp_path)
    # 100 − 3 reserved − HEADROOM leaves room for four pools of 20 connections, not for 16.
    plan = plan_workers(settings, None, 16, (100, 3))
    assert plan.count == (100 - 3 - HEADROOM) // 20 == 4
    assert plan.note is not None and "max_connections (100)" in plan.note and "4 プロセス" in plan.note
    # Smaller pools make room for more.
    small = pg_settings(tmp_path, db_pool_size=5, db_pool_overflow=0)
    assert plan_workers(small, None, 16, (100, 3)).count == 16
    # A database too small for even one pool still gets one process.
    assert plan_workers(settings, None, 16, (20, 3)).count == 1


def test_postgres_not_answering_falls_back_to_the_cores_and_says_so(tmp_path: Path) -> None:
    plan = plan_workers(pg_settings(tmp_path), None, 3, None)
    assert plan.count == 3
    assert plan.note is not None and "確認できませんでした" in plan.note


def test_an_explicit_count_is_started_as_given_with_a_warning_beyond_the_budget(tmp_path: Path) -> None:
    settings = pg_settings(tmp_path, server_workers=8)
    plan = plan_workers(settings, None, 2, (100, 3))
    assert plan.count == 8
    assert plan.note is not None and plan.note.startswith("警告") and "4 プロセスまで" in plan.note
    by_option = plan_workers(settings, 3, 2, (100, 3))  # run --workers 3 overrides the setting
    assert (by_option.count, by_option.note) == (3, None)
    assert plan_workers(Settings(data_dir=tmp_path, server_workers=2), None, 8, None).count == 2


def test_a_database_that_does_not_answer_gives_no_limits(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    settings = Settings(data_dir=tmp_path, database_url=f"postgresql+psycopg://nobody@127.0.0.1:{port}/x")
    assert asyncio.run(connection_limits(settings)) is None
    assert asyncio.run(connection_limits(Settings(data_dir=tmp_path))) is None  # SQLite: no limit asked


def test_the_cores_are_the_ones_this_process_may_use() -> None:
    assert available_cores() == len(os.sched_getaffinity(0))


def shown_limits(pg_url: str) -> tuple[int, int]:
    """What ``SHOW`` says in psql: max_connections and superuser_reserved_connections."""
    with psycopg.connect(pg_url) as conn:
        first, second = (
            conn.execute(f"SHOW {name}").fetchone()
            for name in ("max_connections", "superuser_reserved_connections")
        )
    assert first is not None and second is not None
    return int(first[0]), int(second[0])


@pytest.mark.postgres
def test_the_limits_are_read_from_postgresql(pg_url: str, tmp_path: Path) -> None:
    expected = shown_limits(pg_url)
    url = pg_url.replace("postgresql://", "postgresql+psycopg://")
    assert asyncio.run(connection_limits(Settings(data_dir=tmp_path, database_url=url))) == expected


@pytest.mark.postgres
def test_run_on_postgresql_says_how_many_processes_it_starts(pg_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MADOGUCHI_")}
    env |= {
        "MADOGUCHI_DATA_DIR": str(tmp_path),
        "MADOGUCHI_DATABASE_URL": pg_url.replace("postgresql://", "postgresql+psycopg://"),
        "MADOGUCHI_SCHEDULER_ENABLED": "0",
    }
    limits = shown_limits(pg_url)
    settings = Settings(data_dir=tmp_path, database_url=env["MADOGUCHI_DATABASE_URL"])
    expected = plan_workers(settings, None, available_cores(), limits).count
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "run", "--port", str(free_port())],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline and "プロセスで起動します" not in line:
            line = proc.stderr.readline()
        assert line.strip() == f"サーバーを {expected} プロセスで起動します。"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
