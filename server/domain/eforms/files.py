"""Residents' uploaded files in the blob store (the same store as the counter's archive).

A file's bytes live under ``eform/<lg_code>/<application_id>/<file_id>``; the row in
``eform_attachments`` holds the key, the size and the SHA-256. Reading always verifies the hash:
a changed or missing blob is an error (audited by the caller), never wrong bytes.

Nothing half-stored: a request that changes files runs inside :func:`changes`. New blobs are
written before the database commit and deleted again if the transaction fails; blobs of replaced
or removed files are deleted only after the commit succeeded. If the process dies between the
blob write and the commit, the blob has no row: it is never read (reads go through rows) and
:func:`sweep_orphans` (``madoguchi-server eforms sweep-blobs``) removes it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.engine import Database
from server.db.models import ApplicationFile
from server.domain.documents.services import read_verified
from server.plugins.blobstore import BlobStore

PREFIX = "eform"


def key_of(lg_code: str, application_id: uuid.UUID, file_id: uuid.UUID) -> str:
    return f"{PREFIX}/{lg_code}/{application_id}/{file_id}"


class Changes:
    """Blob writes and deletions of one transaction (see the module docstring)."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store
        self.added: list[str] = []
        self.removed: list[str] = []

    async def put(self, key: str, data: bytes) -> None:
        self.added.append(key)  # before the write: a half-finished put is cleaned too
        await anyio.to_thread.run_sync(self.store.put, key, data)

    def remove(self, key: str | None) -> None:
        """Delete ``key`` once the transaction has committed."""
        if key:
            self.removed.append(key)

    async def _delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            await anyio.to_thread.run_sync(self.store.delete, key)


@asynccontextmanager
async def changes(store: BlobStore) -> AsyncIterator[Changes]:
    """Open *outside* the database transaction: ``async with changes(s) as ch, db.tenant(..)``."""
    ch = Changes(store)
    try:
        yield ch
    except BaseException:
        await ch._delete(ch.added)
        raise
    await ch._delete(ch.removed)


async def read(store: BlobStore, row: ApplicationFile) -> bytes:
    """The file's bytes, SHA-256 verified (``attachment.integrity`` / ``blob.missing`` otherwise)."""
    if row.blob_key is None:  # a row not moved by migration 0015 yet
        from server.plugins.blobstore import BlobMissing

        raise BlobMissing("ファイルがまだ保存先へ移されていません。管理者に連絡してください (db upgrade)。")
    return await anyio.to_thread.run_sync(read_verified, store, row.blob_key, row.sha256)


async def verify_all(store: BlobStore, rows: Iterable[ApplicationFile]) -> None:
    """Read every file back, so that nothing is signed or exported over a changed file."""
    for row in rows:
        await read(store, row)


async def drop_all(session: AsyncSession, ch: Changes, application_id: uuid.UUID, lg_code: str) -> int:
    """Delete every file row of an application and (after commit) its blobs."""
    rows = (
        (
            await session.execute(
                sa.select(ApplicationFile).where(
                    ApplicationFile.application_id == application_id, ApplicationFile.lg_code == lg_code
                )
            )
        )
        .scalars()
        .all()
    )
    for row in rows:
        ch.remove(row.blob_key)
        await session.delete(row)
    return len(rows)


async def sweep_orphans(
    db: Database, store: BlobStore, lg_code: str, *, older_than_minutes: int = 60
) -> list[str]:
    """Delete the municipality's eform blobs that no row refers to (left by a crash); the keys removed.

    Blobs younger than ``older_than_minutes`` are left alone: their upload may still be committing.
    """
    async with db.tenant(lg_code) as session:
        known = set(
            (
                await session.execute(
                    sa.select(ApplicationFile.blob_key).where(
                        ApplicationFile.lg_code == lg_code, ApplicationFile.blob_key.is_not(None)
                    )
                )
            )
            .scalars()
            .all()
        )
    prefix = f"{PREFIX}/{lg_code}/"
    candidates = [
        k for k in await anyio.to_thread.run_sync(lambda: list(store.keys(prefix))) if k not in known
    ]
    cutoff = datetime.now(UTC) - timedelta(minutes=older_than_minutes)
    removed = []
    for key in candidates:
        if _written_before(store, key, cutoff):
            await anyio.to_thread.run_sync(store.delete, key)
            removed.append(key)
    return removed


def _written_before(store: BlobStore, key: str, cutoff: datetime) -> bool:
    """True when the blob is older than ``cutoff`` (stores without times: always old enough)."""
    root = getattr(store, "root", None)
    if root is None:
        return True
    try:
        mtime = (root / key).stat().st_mtime
    except OSError:
        return False
    return datetime.fromtimestamp(mtime, UTC) < cutoff
