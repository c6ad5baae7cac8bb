"""Backups: write, verify, keep generations; restore brings back every row and every blob."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from server.config import Settings
from server.domain.backups import service
from server.plugins.blobstore.filesystem import FilesystemBlobStore
from tests.server.conftest import Api
from tests.server.records import files
from tests.server.records.conftest import make_reception


def snapshot_sqlite(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted, for comparing two states of a database."""
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
    finally:
        conn.close()


def blob_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


async def _fill(api: Api) -> None:
    h = await api.admin_headers()
    for n in range(3):
        rec = await make_reception(api, h)
        for _ in range(n + 1):
            r = await api.http.post(
                f"/api/v1/receptions/{rec['id']}/attachments", content=files.pdf(n + 1), headers=h
            )
            assert r.status_code == 201, r.text


async def test_restore_brings_back_every_row_and_blob(api: Api) -> None:
    """Back up, then add, change and delete rows and blobs; restore; every row and blob hash equal."""
    await _fill(api)
    settings = api.settings
    db_path = settings.data_dir / "madoguchi.db"
    made = service.create(settings)
    before_rows, before_blobs = snapshot_sqlite(db_path), blob_hashes(settings.blob_path)
    assert made.blob_count == len(before_blobs) == 6

    await _fill(api)  # more data after the backup
    await api.db.dispose()
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("DELETE FROM reception_search_keys")
        conn.execute("UPDATE receptions SET status = 'cancelled'")
    conn.close()
    victim = sorted(settings.blob_path.rglob("*.pdf"))[0]
    victim.unlink()
    sorted(settings.blob_path.rglob("*.pdf"))[0].write_bytes(b"changed")
    assert snapshot_sqlite(db_path) != before_rows

    service.restore(settings)
    assert snapshot_sqlite(db_path) == before_rows
    assert blob_hashes(settings.blob_path) == before_blobs


async def test_generations_are_pruned_and_status_reported(api: Api) -> None:
    """Only backup_generations backups remain; the status names the newest and its age."""
    settings = Settings(**{**api.settings.model_dump(), "backup_generations": 2})
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for day in range(4):
        service.create(settings, now=start + timedelta(days=day))
    names = [p.name for p in service.generations(settings)]
    assert names == ["20260104T000000000000Z", "20260103T000000000000Z"]
    state = service.status(settings, now=start + timedelta(days=3, hours=5))
    assert state.last_success == start + timedelta(days=3) and state.age_hours == 5.0
    assert len(state.backups) == 2


async def test_damaged_backup_fails_verification_and_is_not_restored(api: Api) -> None:
    """A changed blob or database file in a backup is found; restore refuses it."""
    await _fill(api)
    made = service.create(api.settings)
    blob = next((made.path / "blobs").rglob("*.pdf"))
    blob.write_bytes(b"rot")
    with pytest.raises(service.BackupFailed, match="目録と一致しません"):
        service.verify(made.path)
    with pytest.raises(service.BackupFailed):
        service.restore(api.settings)


async def test_backup_status_route_needs_settings_permission(api: Api) -> None:
    """The supervisor sees the status; a clerk gets 403."""
    service.create(api.settings)
    r = await api.http.get("/api/v1/records/backups", headers=await api.admin_headers())
    assert r.status_code == 200 and len(r.json()["backups"]) == 1
    r = await api.http.get("/api/v1/records/backups", headers=await api.headers())
    assert r.status_code == 403


def test_cli_backup_list_verify_restore(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """`backup`, `backup list`, `backup verify` and `restore --yes` answer in Japanese and exit 0."""
    from server.__main__ import main
    from server.config import get_settings

    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    FilesystemBlobStore(settings.blob_path).put("082104/x/y.pdf", files.pdf())
    try:
        runner = CliRunner()
        for args, expected in (
            (["backup"], "検証しました"),
            (["backup", "list"], "最終成功から"),
            (["backup", "verify"], "一致しています"),
            (["restore", "--yes"], "復元しました"),
        ):
            result = runner.invoke(main, args)
            assert result.exit_code == 0, result.output
            assert expected in result.output
    finally:
        get_settings.cache_clear()
