"""The command line: migrate, seed, verify the audit log, check migrations, create accounts."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


def _env(folder: Path, demo: bool = True) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "MADOGUCHI_DATA_DIR": str(folder),
            "MADOGUCHI_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'madoguchi.db'}",
            "MADOGUCHI_DEMO": "1" if demo else "0",
        }
    )
    return env


def cli(
    folder: Path, *args: str, stdin: str | None = None, demo: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        env=_env(folder, demo),
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    assert cli(folder, "db", "upgrade").returncode == 0
    first = cli(folder, "demo", "seed")
    assert first.returncode == 0, first.stderr
    return folder


def test_seed_is_idempotent_and_verify_counts(seeded: Path) -> None:
    """demo seed twice keeps one set of data; audit verify exits 0 with the event count."""
    again = cli(seeded, "demo", "seed")
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(seeded / "madoguchi.db") as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 2
        events = conn.execute("SELECT count(*) FROM audit_events").fetchone()[0]
    result = cli(seeded, "audit", "verify")
    assert result.returncode == 0, result.stderr
    assert f"{events} 件" in result.stdout


def test_db_check_passes() -> None:
    """db check: the migrations produce exactly the ORM models' tables."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        result = cli(Path(tmp), "db", "check")
    assert result.returncode == 0, result.stderr


def test_accounts_commands(seeded: Path) -> None:
    """group create, user create --totp (prints otpauth URI) and network allow work from the CLI."""
    assert (
        cli(
            seeded,
            "group",
            "create",
            "--lg-code",
            "082104",
            "--name",
            "照会",
            "--permission",
            "reception.read",
        ).returncode
        == 0
    )
    created = cli(
        seeded,
        "user",
        "create",
        "--lg-code",
        "082104",
        "--username",
        "remote",
        "--display-name",
        "遠隔",
        "--group",
        "照会",
        "--password-stdin",
        "--totp",
        stdin="long-password\n",
    )
    assert created.returncode == 0, created.stderr
    assert "otpauth://totp/" in created.stdout
    assert cli(seeded, "network", "allow", "--lg-code", "082104", "--cidr", "203.0.113.0/24").returncode == 0


def test_unknown_permission_refused(seeded: Path) -> None:
    """Granting a permission name that does not exist fails with a Japanese message."""
    result = cli(seeded, "group", "create", "--lg-code", "082104", "--name", "x", "--permission", "root")
    assert result.returncode == 1
    assert "権限" in result.stderr


def test_demo_seed_needs_demo_mode(tmp_path: Path) -> None:
    """demo seed refuses outside demo mode."""
    assert cli(tmp_path, "db", "upgrade", demo=False).returncode == 0
    result = cli(tmp_path, "demo", "seed", demo=False)
    assert result.returncode == 1
    assert "MADOGUCHI_DEMO" in result.stderr


def test_keys_generate_once(tmp_path: Path) -> None:
    """keys generate writes a private key file and refuses to overwrite it."""
    first = cli(tmp_path, "keys", "generate")
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "keys.json").stat().st_mode & 0o077 == 0
    assert cli(tmp_path, "keys", "generate").returncode == 1


def test_verify_names_broken_sequence(seeded: Path, tmp_path: Path) -> None:
    """After tampering, audit verify exits 1 and names the municipality and sequence."""
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(seeded, folder)
    with sqlite3.connect(folder / "madoguchi.db") as conn:
        conn.execute("DROP TRIGGER audit_events_no_update")
        conn.execute("UPDATE audit_events SET details='{}' WHERE seq=2")
    result = cli(folder, "audit", "verify")
    assert result.returncode == 1
    assert "082104" in result.stderr and "連番 2" in result.stderr
