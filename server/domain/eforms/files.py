"""Residents' uploaded files in the blob store (the same store as the counter's archive).

A file's bytes live under ``eform/<lg_code>/<application_id>/<file_id>``; the row in
``eform_attachments`` holds the key, the size and the SHA-256. Reading always verifies the hash:
a changed or missing blob is an error (audited by the caller), never wrong bytes.

Nothing half-stored: a request that changes files runs inside :func:`changes`. New blobs are
written before the database commit and deleted again if the transaction fails; blobs of replaced
or removed files are deleted only after the commit succeeded. If the process dies between the
blob write and the commit, the blob has no row: it is never read (reads go through rows) and
:func:`sweep_orphans` (``madoguchi-server eforms sweep-blobs``) removes it.

A form post's files are written *before* its transaction opens (:meth:`Changes.stage`), so no
pooled connection waits while the disk flushes: every uploaded part that could be a file at all
(a name, known content, at most the largest per-file limit) goes to the store under a fresh key of
the application. Inside the transaction the procedure's own checks run as before; a file they
accept takes its staged blob (:meth:`Changes.keep`), and every staged blob that no row took — a
refused file, a part that is no field, a post refused as a whole — is deleted when :func:`changes`
ends, as are all of them when the transaction fails.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.engine import Database
from server.db.models import ApplicationFile
from server.domain.documents.services import read_verified
from server.domain.eforms.uploads import MB, sniff
from server.plugins.blobstore import BlobStore
from shared.schemas.eform import MAX_FILE_MB

PREFIX = "eform"
#: Parts of one post written before its transaction; more (a form of many file fields) are
#: written inside it, as before.
MAX_STAGED = 20


def key_of(lg_code: str, application_id: uuid.UUID, file_id: uuid.UUID) -> str:
    return f"{PREFIX}/{lg_code}/{application_id}/{file_id}"


@dataclass
class Staged:
    """An uploaded part written before the transaction, under ``key`` (file id ``file_id``)."""

    file_id: uuid.UUID
    key: str
    data: bytes
    kept: bool = False


def could_be_file(upload: Any, data: bytes) -> bool:
    """True for a part that some procedure could accept (named, known content, not too large)."""
    return (
        bool(getattr(upload, "filename", None))
        and len(data) <= MAX_FILE_MB * MB
        and sniff(data[:16]) is not None
    )


class Changes:
    """Blob writes and deletions of one transaction (see the module docstring)."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store
        self.added: list[str] = []
        self.removed: list[str] = []
        self.staged: dict[int, Staged] = {}  # id() of the upload object -> its staged blob

    async def put(self, key: str, data: bytes) -> None:
        self.added.append(key)  # before the write: a half-finished put is cleaned too
        await anyio.to_thread.run_sync(self.store.put, key, data)

    async def stage(self, lg_code: str, application_id: uuid.UUID, form: Mapping[str, list[Any]]) -> None:
        """Before the transaction: write the post's uploaded parts that could be files.

        Call it only once the post looks like the page's own (its CSRF token matches a cookie it
        carries): the real checks, of the resident and of the procedure's rules, come inside the
        transaction, and whatever they refuse is deleted again at the end of :func:`changes`.
        """
        for values in form.values():
            for upload in values:
                if len(self.staged) >= MAX_STAGED:
                    return
                if not hasattr(upload, "read") or id(upload) in self.staged:
                    continue
                data = await upload.read()
                if not could_be_file(upload, data):
                    await upload.seek(0)
                    continue
                file_id = uuid.uuid4()
                key = key_of(lg_code, application_id, file_id)
                self.staged[id(upload)] = Staged(file_id, key, data)
                await self.put(key, data)

    async def read(self, upload: Any) -> bytes:
        """The bytes of an uploaded part (staged ones are not read again)."""
        staged = self.staged.get(id(upload))
        return staged.data if staged is not None else await upload.read()

    async def keep(
        self, upload: Any, lg_code: str, application_id: uuid.UUID, data: bytes
    ) -> tuple[uuid.UUID, str]:
        """(file id, blob key) of an accepted upload: its staged blob, or written now."""
        staged = self.staged.get(id(upload))
        if (
            staged is not None
            and not staged.kept
            and staged.data is data
            and staged.key == key_of(lg_code, application_id, staged.file_id)
        ):
            staged.kept = True
            return staged.file_id, staged.key
        file_id = uuid.uuid4()
        key = key_of(lg_code, application_id, file_id)
        await self.put(key, data)
        return file_id, key

    def unkept(self) -> list[str]:
        """Staged blobs that no row took."""
        return [s.key for s in self.staged.values() if not s.kept]

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
    await ch._delete(ch.unkept() + ch.removed)


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
