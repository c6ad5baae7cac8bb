"""Records benchmark on PostgreSQL: generated archive, search latency under concurrency, submit
throughput, purge and backup/restore time. Prints figures; asserts nothing.

    MADOGUCHI_TEST_PG_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m bench.records.run --receptions 200000

A throwaway database is created (and dropped at the end unless --keep). Rows are generated with
COPY as the owner; the server runs as a separate uvicorn process connected as the plain app role
(row-level security applies), and the load comes from httpx clients on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from server.config import Settings
from shared.text.normalize import search_key

LG = "082104"
APP_ROLE = "madoguchi_bench_app"
FAMILY = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
    ("下妻", "シモツマ"),
    ("髙﨑", "タカサキ"),
    ("渡邊", "ワタナベ"),
    ("飯塚", "イイヅカ"),
    ("野口", "ノグチ"),
]
GIVEN = [
    ("太郎", "タロウ"),
    ("花子", "ハナコ"),
    ("一郎", "イチロウ"),
    ("美咲", "ミサキ"),
    ("大輔", "ダイスケ"),
    ("陽菜", "ヒナ"),
    ("翔太", "ショウタ"),
    ("結衣", "ユイ"),
    ("健", "ケン"),
    ("さくら", "サクラ"),
    ("蓮", "レン"),
    ("葵", "アオイ"),
    ("悠真", "ユウマ"),
    ("凛", "リン"),
    ("湊", "ミナト"),
    ("陽翔", "ハルト"),
]
KINDS = ["move_in", "move_within", "move_out", "householder_change", "move_in_special"]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def create_database(pg_url: str) -> tuple[str, str, str]:
    name = f"madoguchi_bench_{secrets.token_hex(3)}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname=%s", (APP_ROLE,)).fetchone():
            admin.execute(f'CREATE ROLE "{APP_ROLE}" LOGIN NOSUPERUSER NOBYPASSRLS')
    base = make_url(pg_url).set(drivername="postgresql+psycopg", database=name)
    owner = base.render_as_string(hide_password=False)
    app = base.set(username=APP_ROLE, password=None).render_as_string(hide_password=False)
    return name, owner, app


def generate(owner_libpq: str, n: int, rng: random.Random) -> None:
    """COPY ``n`` receptions (one or two persons each) with search keys, spread over six years."""
    today = datetime.now(UTC).date()
    with psycopg.connect(owner_libpq) as conn:
        users = [r[0] for r in conn.execute("SELECT id FROM users").fetchall()]
        per_day: dict[date, int] = {}
        t0 = time.perf_counter()
        with (
            conn.cursor().copy(
                "COPY receptions (id, lg_code, reception_number, business_date, daily_seq, client_key, kind,"
                " status, terminal_id, opened_at, created_at, created_by, notice) FROM STDIN"
            ) as rc,
        ):
            persons_rows = []
            key_rows = []
            for _ in range(n):
                day = today - timedelta(days=rng.randrange(6 * 365))
                seq = per_day.get(day, 0) + 1
                per_day[day] = seq
                rid = uuid.uuid4()
                persons = []
                for _p in range(1 if rng.random() < 0.7 else 2):
                    fam, fam_k = rng.choice(FAMILY)
                    giv, giv_k = rng.choice(GIVEN)
                    born = date(1940, 1, 1) + timedelta(days=rng.randrange(80 * 365))
                    persons.append(
                        {
                            "family_name": fam,
                            "given_name": giv,
                            "family_name_kana": fam_k,
                            "given_name_kana": giv_k,
                            "birth_date": born.isoformat(),
                            "sex": "1",
                            "relationship": "世帯主",
                            "my_number": None,
                        }
                    )
                notice = {
                    "kind": rng.choice(KINDS),
                    "notified_on": day.isoformat(),
                    "notifier": {"name": persons[0]["family_name"], "standing": "self"},
                    "persons": persons,
                    "confirmation_number": f"K{rng.randrange(10**6):06d}",
                }
                created = datetime(day.year, day.month, day.day, 1, tzinfo=UTC) + timedelta(
                    minutes=rng.randrange(480)
                )
                rc.write_row(
                    (
                        rid,
                        LG,
                        f"{day:%Y%m%d}-{seq:04d}",
                        day,
                        seq,
                        uuid.uuid4(),
                        notice["kind"],
                        "confirmed",
                        f"T-{rng.randrange(1, 13):02d}",
                        created - timedelta(minutes=12),
                        created,
                        rng.choice(users),
                        json.dumps(notice, ensure_ascii=False),
                    )
                )
                for index, p in enumerate(persons):
                    persons_rows.append(
                        (
                            uuid.uuid4(),
                            LG,
                            rid,
                            index,
                            search_key(p["family_name"] + p["given_name"]),
                            p["birth_date"],
                        )
                    )
                    born = p["birth_date"]
                    for spelling in {
                        p["family_name"] + p["given_name"],
                        p["family_name_kana"] + p["given_name_kana"],
                        p["given_name"],
                        p["given_name_kana"],
                    }:
                        key_rows.append((uuid.uuid4(), LG, rid, "name", search_key(spelling), born))
                key_rows.append(
                    (uuid.uuid4(), LG, rid, "confirmation", search_key(notice["confirmation_number"]), None)
                )
        with conn.cursor().copy(
            "COPY reception_persons (id, lg_code, reception_id, person_index, name_search_key, birth_date)"
            " FROM STDIN"
        ) as pc:
            for row in persons_rows:
                pc.write_row(row)
        with conn.cursor().copy(
            "COPY reception_search_keys (id, lg_code, reception_id, kind, key, birth_date) FROM STDIN"
        ) as kc:
            for row in key_rows:
                kc.write_row(row)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        print(
            f"generated {n} receptions, {len(persons_rows)} persons, {len(key_rows)} search keys "
            f"in {time.perf_counter() - t0:.1f} s"
        )


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "run", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


def queries(rng: random.Random) -> list[dict[str, str]]:
    today = datetime.now(UTC).date()
    out = []
    for _ in range(400):
        fam, fam_k = rng.choice(FAMILY)
        giv, giv_k = rng.choice(GIVEN)
        start = today - timedelta(days=rng.randrange(6 * 365))
        out.append(
            rng.choice(
                [
                    {"name": fam_k + giv_k},
                    {
                        "name": fam + giv,
                        "birth_date": (
                            date(1940, 1, 1) + timedelta(days=rng.randrange(80 * 365))
                        ).isoformat(),
                    },
                    {
                        "name": fam,
                        "date_from": start.isoformat(),
                        "date_to": (start + timedelta(days=30)).isoformat(),
                    },
                    {"reception_number": f"{start:%Y%m%d}-0001"},
                    {"confirmation_number": f"K{rng.randrange(10**6):06d}"},
                    {
                        "clerk": "demo",
                        "date_from": start.isoformat(),
                        "date_to": (start + timedelta(days=7)).isoformat(),
                    },
                ]
            )
        )
    return out


async def load(
    base: str, token: str, concurrency: int, qs: list[dict[str, str]], total: int
) -> tuple[list[float], float]:
    latencies: list[float] = []
    counter = iter(range(total))
    errors = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        for i in counter:
            t = time.perf_counter()
            r = await client.get("/api/v1/records/receptions", params={**qs[i % len(qs)], "page_size": "50"})
            latencies.append((time.perf_counter() - t) * 1000)
            if r.status_code != 200:
                errors += 1

    t0 = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=120
    ) as c:
        await asyncio.gather(*(worker(c) for _ in range(concurrency)))
    if errors:
        print(f"  ({errors} errors)")
    return latencies, time.perf_counter() - t0


async def submit(base: str, token: str, concurrency: int, total: int) -> float:
    from tests.server.conftest import reception_body

    counter = iter(range(total))
    retries = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal retries
        for _ in counter:
            body = reception_body(my_number=None)
            while True:  # 409 = lost the daily-number race five times; resend (same client_key)
                r = await client.post("/api/v1/receptions", json=body)
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--receptions", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=1000, help="search requests per concurrency level")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    pg_url = os.environ.get("MADOGUCHI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    rng = random.Random(5)
    name, owner, app = create_database(pg_url)
    data_dir = Path(tempfile.gettempdir()) / name
    owner_settings = Settings(data_dir=data_dir, database_url=owner, db_app_role=APP_ROLE, demo=True)
    try:
        from server.__main__ import seed_demo
        from server.db.migrate import upgrade

        upgrade(owner_settings)
        asyncio.run(seed_demo(owner_settings))
        libpq = "postgresql://" + owner.split("://", 1)[1]
        generate(libpq, args.receptions, rng)
        env = {
            **os.environ,
            "MADOGUCHI_DATA_DIR": str(data_dir),
            "MADOGUCHI_DATABASE_URL": app,
            "MADOGUCHI_DEMO": "1",
            "MADOGUCHI_LOG_LEVEL": "WARNING",
        }
        port = 18000 + rng.randrange(1000)
        proc = start_server(env, port)
        base = f"http://127.0.0.1:{port}"
        try:
            token = httpx.post(
                f"{base}/api/v1/auth/login",
                json={"lg_code": LG, "username": "demo-admin", "password": "madoguchi-demo"},
            ).json()["token"]
            qs = queries(rng)
            asyncio.run(load(base, token, 5, qs, 50))  # warm-up (also indexes nothing new)
            print("search (mixed criteria, page of 50, audited):")
            for conc in (5, 20, 100):
                lat, wall = asyncio.run(load(base, token, conc, qs, args.requests))
                print(
                    f"  {conc:>3} clients: p50 {statistics.median(lat):6.1f} ms  p95 {pct(lat, 95):6.1f} ms  "
                    f"{len(lat) / wall:6.1f} req/s"
                )
            n_submit = 500
            wall = asyncio.run(submit(base, token, 20, n_submit))
            print(f"submit: {n_submit} receptions by 20 clients in {wall:.1f} s = {n_submit / wall:.1f} /s")
        finally:
            proc.terminate()
            proc.wait()

        from server.db.engine import Database
        from server.domain.backups import service as backups
        from server.domain.retention import service as retention
        from server.plugins.blobstore.filesystem import FilesystemBlobStore

        store = FilesystemBlobStore(owner_settings.blob_path)

        async def purge() -> tuple[int, float, float]:
            db = Database(app.replace("postgresql+psycopg", "postgresql+psycopg"))
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
            f"({deleted / max(run_s, 1e-9):.0f} /s)"
        )
        t0 = time.perf_counter()
        made = backups.create(owner_settings, store)
        t1 = time.perf_counter()
        backups.restore(owner_settings, store=store)
        t2 = time.perf_counter()
        print(
            f"backup (pg_dump -Fc + verify): {t1 - t0:.1f} s, {made.size_bytes / 1e6:.0f} MB; "
            f"restore (pg_restore --clean --single-transaction): {t2 - t1:.1f} s"
        )
    finally:
        if not args.keep:
            with psycopg.connect(pg_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
