"""Backups of the database and the blob store, kept in verified generations, and restore.

One backup is a folder ``<backup_dir>/<UTC timestamp>/``:

- ``database.sqlite3`` — SQLite's online backup API (consistent while the server runs), or
  ``database.pgdump`` — ``pg_dump --format=custom`` on PostgreSQL (run as the tables' owner);
- ``blobs/<key>`` — every blob of the store (any store: copied through the plugin contract);
- ``manifest.json`` — SHA-256 and size of the database file and of every blob.

The folder is written as ``.partial-<name>`` and renamed only after :func:`verify` passed: the
hashes match, SQLite's ``integrity_check`` is ``ok`` (PostgreSQL: ``pg_restore --list`` reads the
dump) and, on SQLite, every attachment row of the copied database has its blob with the recorded
hash. Then generations beyond ``backup_generations`` are removed, oldest first.

The key file (``keys.json``) is deliberately not in the backup: keep it apart (a stolen backup
must not decrypt 個人番号). Restore needs the same key file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from server.config import Settings
from server.plugins.blobstore import BlobStore, open_store
from shared.api_records import BackupInfo, BackupStatus
from shared.errors import MadoguchiError, NotFound

MANIFEST = "manifest.json"
FORMAT = 1


class BackupFailed(MadoguchiError):
    code = "backup.failed"
    http_status = 500
    default_message = "バックアップに失敗しました。"


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _sqlite_path(settings: Settings) -> Path:
    return Path(settings.database_url.split(":///", 1)[1])


def libpq_url(settings: Settings) -> str:
    """The database URL as pg_dump and pg_restore understand it (``backup_database_url`` if set:
    the tables' owner, since the app role sees no rows through row-level security)."""
    url = settings.backup_database_url or settings.database_url
    return "postgresql://" + url.split("://", 1)[1]


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupFailed(f"{cmd[0]} が失敗しました: {result.stderr.strip()[-500:]}")


def _dump_database(settings: Settings, folder: Path) -> Path:
    if settings.is_sqlite:
        target = folder / "database.sqlite3"
        src = sqlite3.connect(_sqlite_path(settings))
        dst = sqlite3.connect(target)
        try:
            with dst:
                src.backup(dst)
        finally:
            dst.close()
            src.close()
        return target
    target = folder / "database.pgdump"
    _run(["pg_dump", "--format=custom", "--file", str(target), "--dbname", libpq_url(settings)])
    return target


def _copy_blobs(store: BlobStore, folder: Path) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for key in sorted(store.keys()):
        data = store.get(key)
        path = folder / "blobs" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        hashes[key] = hashlib.sha256(data).hexdigest()
    return hashes


@dataclass(frozen=True)
class Backup:
    name: str
    path: Path
    created_at: datetime
    size_bytes: int
    blob_count: int


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def create(settings: Settings, store: BlobStore | None = None, *, now: datetime | None = None) -> Backup:
    """Write, verify and keep one backup generation; prune old ones. Raises :class:`BackupFailed`."""
    store = store or open_store(settings)
    now = now or datetime.now(UTC)
    root = settings.backup_path
    root.mkdir(parents=True, exist_ok=True)
    name = now.strftime("%Y%m%dT%H%M%S%fZ")
    partial = root / f".partial-{name}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        database = _dump_database(settings, partial)
        blobs = _copy_blobs(store, partial)
        manifest = {
            "format": FORMAT,
            "created_at": now.isoformat(),
            "dialect": "sqlite" if settings.is_sqlite else "postgresql",
            "database": {
                "file": database.name,
                "sha256": _sha256_file(database),
                "size": database.stat().st_size,
            },
            "blobs": blobs,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        verify(partial)
        final = root / name
        os.replace(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    prune(settings)
    return Backup(name, final, now, _folder_size(final), len(blobs))


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BackupFailed(f"バックアップ {folder.name} の目録 (manifest.json) が読めません。") from None
    if data.get("format") != FORMAT:
        raise BackupFailed(f"バックアップ {folder.name} の形式に対応していません。")
    return data


def verify(folder: Path) -> dict[str, Any]:
    """Check a backup folder against its manifest; raise :class:`BackupFailed` on any mismatch."""
    manifest = _manifest(folder)
    database = folder / manifest["database"]["file"]
    if not database.is_file() or _sha256_file(database) != manifest["database"]["sha256"]:
        raise BackupFailed(f"バックアップ {folder.name} のデータベースが目録と一致しません。")
    blobs: dict[str, str] = manifest["blobs"]
    for key, digest in blobs.items():
        path = folder / "blobs" / key
        if not path.is_file() or _sha256_file(path) != digest:
            raise BackupFailed(f"バックアップ {folder.name} の文書 {key} が目録と一致しません。")
    if manifest["dialect"] == "sqlite":
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupFailed(f"バックアップ {folder.name} のデータベースが壊れています。")
            rows = conn.execute("SELECT blob_key, sha256 FROM attachments").fetchall()
            rows += conn.execute(  # residents' uploads (online applications), same store
                "SELECT blob_key, sha256 FROM eform_attachments WHERE blob_key IS NOT NULL"
            ).fetchall()
        finally:
            conn.close()
        for key, digest in rows:
            if blobs.get(key) != digest:
                raise BackupFailed(f"バックアップ {folder.name} に文書 {key} がありません。")
    else:
        _run(["pg_restore", "--list", str(database)])
    return manifest


def generations(settings: Settings) -> list[Path]:
    """Finished backup folders, newest first."""
    root = settings.backup_path
    if not root.is_dir():
        return []
    return sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).is_file()),
        key=lambda p: p.name,
        reverse=True,
    )


def prune(settings: Settings) -> list[str]:
    """Remove generations beyond ``backup_generations`` (oldest first); returns their names."""
    removed = []
    for old in generations(settings)[settings.backup_generations :]:
        shutil.rmtree(old)
        removed.append(old.name)
    return removed


def find(settings: Settings, name: str | None) -> Path:
    found = generations(settings)
    if name:
        found = [p for p in found if p.name == name]
    if not found:
        raise NotFound("指定したバックアップがありません。", code="backup.not_found")
    return found[0]


def restore(settings: Settings, name: str | None = None, store: BlobStore | None = None) -> Path:
    """Put the database and the blobs back as they were in backup ``name`` (default: newest).

    The server must be stopped. The backup is verified first; blobs not in it are removed, blobs
    that differ are rewritten, so the store ends up exactly as backed up.
    """
    folder = find(settings, name)
    manifest = verify(folder)
    store = store or open_store(settings)
    database = folder / manifest["database"]["file"]
    if manifest["dialect"] != ("sqlite" if settings.is_sqlite else "postgresql"):
        raise BackupFailed("バックアップと現在のデータベースの種類が違います。")
    if settings.is_sqlite:
        target = _sqlite_path(settings)
        target.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    else:
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                libpq_url(settings),
                str(database),
            ]
        )
        # pg_restore brings no planner statistics: without them the first searches take seconds.
        _run(["vacuumdb", "--analyze-only", "--dbname", libpq_url(settings)])
    wanted: dict[str, str] = manifest["blobs"]
    for key in list(store.keys()):
        if key not in wanted:
            store.delete(key)
    for key, digest in wanted.items():
        current = store.get(key) if store.exists(key) else None
        if current is None or hashlib.sha256(current).hexdigest() != digest:
            store.put(key, (folder / "blobs" / key).read_bytes())
    return folder


def status(settings: Settings, *, now: datetime | None = None) -> BackupStatus:
    """Generations on disk (newest first), the last success and its age, for the supervisor."""
    now = now or datetime.now(UTC)
    infos = []
    for folder in generations(settings):
        try:
            manifest = _manifest(folder)
            created = datetime.fromisoformat(manifest["created_at"])
        except (BackupFailed, KeyError, ValueError):
            continue
        size = _folder_size(folder)
        infos.append(BackupInfo(name=folder.name, created_at=created, size_bytes=size, verified=True))
    last = infos[0].created_at if infos else None
    age = round((now - last).total_seconds() / 3600, 1) if last else None
    return BackupStatus(backups=infos, last_success=last, age_hours=age)
