"""The records bench's synthetic archive is made of notices the application itself accepts: every
generated reception opens in the supervisor's records view (which validates the stored notice)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest

from bench.records.generate import KINDS, generate
from bench.records.run import APP_ROLE, create_database
from server.config import Settings
from shared.models.movement_notice import MovementNotice

pytestmark = pytest.mark.postgres


def test_every_generated_notice_is_a_valid_movement_notice(pg_url: str, tmp_path: Path) -> None:
    from server.__main__ import seed_demo
    from server.db.migrate import upgrade

    name, owner, _app = create_database(pg_url)
    libpq = "postgresql://" + owner.split("://", 1)[1]
    try:
        settings = Settings(data_dir=tmp_path, database_url=owner, db_app_role=APP_ROLE, demo=True)
        upgrade(settings)
        asyncio.run(seed_demo(settings))
        counts = generate(libpq, receptions=1500, residents=1000, expired=150)
        assert counts["receptions"] == 1500
        with psycopg.connect(libpq) as conn:
            notices = [row[0] for row in conn.execute("SELECT notice FROM receptions")]
        invalid = []
        for notice in notices:
            try:
                MovementNotice.model_validate(notice)
            except ValueError as exc:
                invalid.append(f"{notice['kind']}: {exc}")
        assert invalid == []
        kinds = {n["kind"] for n in notices}
        assert kinds == {k for k, _ in KINDS}  # every kind of the mix was made (and validated)
        assert any(p.get("is_foreign") for n in notices for p in n["persons"])
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
