"""Residents' uploaded files move from the database into the blob store.

``eform_attachments`` gets ``blob_key``; every row that still holds its bytes in ``data`` has them
written to the store under ``eform/<lg_code>/<application_id>/<id>`` and ``data`` emptied (the
column stays, nullable, so that the move can be re-run). Safe to re-run after a crash at any point:
the column is added only when missing, a row is moved only while ``data`` is still set, and the
key is derived from the row, so a blob written before the crash is simply written again.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _store() -> Any:
    from server.config import Settings
    from server.plugins.blobstore import open_store

    settings = context.config.attributes.get("settings") or Settings()
    return open_store(settings)


def _columns() -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns("eform_attachments")}


def _move_bytes() -> int:
    """Write each row's bytes to the store, then empty ``data``; the number of rows moved."""
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    if pg:  # the owner is subject to FORCE ROW LEVEL SECURITY: lift it for the backfill
        op.execute("ALTER TABLE eform_attachments NO FORCE ROW LEVEL SECURITY")
    ids = bind.execute(sa.text("SELECT id FROM eform_attachments WHERE data IS NOT NULL")).scalars().all()
    store = _store()
    for row_id in ids:  # one row's bytes in memory at a time
        lg_code, application_id, data = bind.execute(
            sa.text("SELECT lg_code, application_id, data FROM eform_attachments WHERE id = :id"),
            {"id": row_id},
        ).one()
        key = f"eform/{lg_code}/{_hex(application_id)}/{_hex(row_id)}"
        # The recorded SHA-256 is kept as it is: bytes that no longer match it stay detectable.
        store.put(key, bytes(data))
        bind.execute(
            sa.text("UPDATE eform_attachments SET blob_key = :k, data = NULL WHERE id = :id"),
            {"k": key, "id": row_id},
        )
    if pg:
        op.execute("ALTER TABLE eform_attachments FORCE ROW LEVEL SECURITY")
    return len(ids)


def _hex(value: Any) -> str:
    """A UUID as stored (PostgreSQL uuid or SQLite 32-hex text) in the canonical dashed form."""
    import uuid

    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


def upgrade() -> None:
    if "blob_key" not in _columns():
        with op.batch_alter_table("eform_attachments") as batch:
            batch.add_column(
                sa.Column("blob_key", sa.String(length=300), nullable=True, comment="保存先キー (文書保存先)")
            )
            batch.alter_column(
                "data", existing_type=sa.LargeBinary(), nullable=True, comment="旧: 内容", existing_comment="内容"
            )
    _move_bytes()


def downgrade() -> None:
    """Bring the bytes back into ``data`` (the blobs stay in the store), then drop ``blob_key``."""
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    if pg:
        op.execute("ALTER TABLE eform_attachments NO FORCE ROW LEVEL SECURITY")
    rows = bind.execute(
        sa.text("SELECT id, blob_key, sha256 FROM eform_attachments WHERE data IS NULL AND blob_key IS NOT NULL")
    ).all()
    store = _store()
    for row_id, key, digest in rows:
        data = store.get(key)
        if hashlib.sha256(data).hexdigest() != digest:
            raise RuntimeError(f"blob {key} does not match its recorded SHA-256; not downgrading")
        bind.execute(sa.text("UPDATE eform_attachments SET data = :d WHERE id = :id"), {"d": data, "id": row_id})
    if pg:
        op.execute("ALTER TABLE eform_attachments FORCE ROW LEVEL SECURITY")
    with op.batch_alter_table("eform_attachments") as batch:
        batch.drop_column("blob_key")
        batch.alter_column(
            "data", existing_type=sa.LargeBinary(), nullable=False, comment="内容", existing_comment="旧: 内容"
        )
