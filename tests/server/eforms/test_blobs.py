"""Residents' uploaded files live in the blob store: stored, verified on read, cleaned, migrated, restored."""

from __future__ import annotations

import os
import re
import sqlite3
import time
import uuid

import anyio.to_thread
import pytest
import sqlalchemy as sa

from server.db import migrate
from server.db.models import ApplicationFile, AuditEvent
from server.domain.backups import service as backups
from server.domain.eforms import files
from server.plugins.blobstore import open_store
from tests.conftest import DEMO_LG_CODE
from tests.server.eforms.conftest import PDF, PNG, Resident
from tests.server.eforms.test_console import staff, submitted_koseki


async def rows_of(api, app_id) -> list[ApplicationFile]:
    async with api.db.tenant(DEMO_LG_CODE) as s:
        return list(
            (await s.execute(sa.select(ApplicationFile).where(ApplicationFile.application_id == app_id)))
            .scalars()
            .all()
        )


async def audit_actions(api) -> list[str]:
    async with api.db.tenant(DEMO_LG_CODE) as s:
        return list((await s.execute(sa.select(AuditEvent.action))).scalars().all())


async def download_link(api, res) -> tuple[object, str]:
    http, _ = await staff(api)
    r = await http.get(f"/console/applications/{res.app_id}")
    return http, re.search(r'href="(/console/applications/[^"]+/files/[^"]+)"', r.text).group(1)


async def test_upload_is_a_verified_blob_not_database_bytes(eapi):
    """The file is in the store under lg_code/application; the row has key, size, SHA-256, no bytes."""
    res = await submitted_koseki(eapi)
    [row] = await rows_of(eapi, res.app_id)
    assert row.blob_key == f"eform/{DEMO_LG_CODE}/{res.app_id}/{row.id}"
    assert row.size == len(PDF) and row.sha256 == __import__("hashlib").sha256(PDF).hexdigest()
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        assert await s.scalar(sa.select(ApplicationFile.data).where(ApplicationFile.id == row.id)) is None
    assert (eapi.settings.blob_path / row.blob_key).read_bytes() == PDF
    http, link = await download_link(eapi, res)
    r = await http.get(link)
    assert r.status_code == 200 and r.content == PDF


async def test_tampered_blob_is_refused_and_audited(eapi):
    """Changed bytes are never served: a Japanese error and an audit event instead."""
    res = await submitted_koseki(eapi)
    [row] = await rows_of(eapi, res.app_id)
    forged = PDF.replace(b"1 0 obj", b"9 9 obj")
    (eapi.settings.blob_path / row.blob_key).write_bytes(forged)
    http, link = await download_link(eapi, res)
    r = await http.get(link)
    assert r.status_code == 500 and forged not in r.content
    assert "改ざん" in r.text
    assert "attachment_download_failure" in await audit_actions(eapi)
    # Signing over the changed file is refused too (the canonical bytes check every file).
    from server.domain.jpki import services as jpki

    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        from server.db.models import Application, Procedure

        app = await s.get(Application, res.app_id)
        proc = await s.get(Procedure, app.procedure_id)
        with pytest.raises(Exception, match="一致しません"):
            await jpki.canonical_of(s, app, proc, open_store(eapi.settings))


async def test_missing_blob_is_a_clear_error_and_audited(eapi):
    res = await submitted_koseki(eapi)
    [row] = await rows_of(eapi, res.app_id)
    (eapi.settings.blob_path / row.blob_key).unlink()
    http, link = await download_link(eapi, res)
    r = await http.get(link)
    assert r.status_code == 500 and "見つかりません" in r.text and PDF not in r.content
    assert "attachment_download_failure" in await audit_actions(eapi)


async def save(res, data, files=None):
    """一時保存 (it renews the access secret, so the page's new CSRF token is taken)."""
    r = await res.post_form(data, files=files, action="save")
    assert r.status_code == 200, r.text
    res.csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', r.text).group(1)
    return r


async def test_replaced_removed_and_withdrawn_draft_files_leave_no_blobs(eapi):
    """一時保存 keeps the blob; replacing, removing and withdrawing the draft delete theirs."""
    store = open_store(eapi.settings)
    prefix = f"eform/{DEMO_LG_CODE}/"
    before = set(store.keys(prefix))
    res = Resident(eapi)
    await res.start("juminhyo")
    await save(res, {}, {"id_document": ("a.pdf", PDF, "application/pdf")})
    [first] = await rows_of(eapi, res.app_id)
    assert set(store.keys(prefix)) - before == {first.blob_key}
    await save(res, {}, {"id_document": ("b.png", PNG, "image/png")})
    [second] = await rows_of(eapi, res.app_id)
    assert second.id != first.id and set(store.keys(prefix)) - before == {second.blob_key}
    await save(res, {"id_document__remove": "1"})
    assert await rows_of(eapi, res.app_id) == [] and set(store.keys(prefix)) == before
    await save(res, {}, {"id_document": ("c.pdf", PDF, "application/pdf")})
    assert len(set(store.keys(prefix)) - before) == 1
    r = await res.http.post(res.app_url + "/withdraw", data={"csrf": res.csrf})
    assert r.status_code == 303
    assert await rows_of(eapi, res.app_id) == [] and set(store.keys(prefix)) == before


async def test_failed_transaction_removes_the_new_blob(eapi):
    """A blob written in a transaction that then fails is deleted again; removals wait for commit."""
    store = open_store(eapi.settings)
    kept = f"eform/{DEMO_LG_CODE}/{uuid.uuid4()}/{uuid.uuid4()}"
    store.put(kept, b"old")
    key = f"eform/{DEMO_LG_CODE}/{uuid.uuid4()}/{uuid.uuid4()}"
    with pytest.raises(RuntimeError):
        async with files.changes(store) as ch, eapi.db.tenant(DEMO_LG_CODE):
            await ch.put(key, PDF)
            ch.remove(kept)
            assert store.exists(key)
            raise RuntimeError("database failed")
    assert not store.exists(key) and store.exists(kept)


async def test_sweep_removes_only_old_orphans(eapi):
    res = await submitted_koseki(eapi)
    [row] = await rows_of(eapi, res.app_id)
    store = open_store(eapi.settings)
    old = f"eform/{DEMO_LG_CODE}/{uuid.uuid4()}/{uuid.uuid4()}"
    fresh = f"eform/{DEMO_LG_CODE}/{uuid.uuid4()}/{uuid.uuid4()}"
    store.put(old, b"x")
    store.put(fresh, b"y")
    past = time.time() - 7200
    os.utime(eapi.settings.blob_path / old, (past, past))
    os.utime(eapi.settings.blob_path / row.blob_key, (past, past))
    assert await files.sweep_orphans(eapi.db, store, DEMO_LG_CODE) == [old]
    assert store.exists(fresh) and store.exists(row.blob_key)


async def test_backup_restore_brings_eform_files_back(eapi):
    res = await submitted_koseki(eapi)
    [row] = await rows_of(eapi, res.app_id)
    backup = backups.create(eapi.settings)
    manifest = backups.verify(backup.path)
    assert row.blob_key in manifest["blobs"]
    (eapi.settings.blob_path / row.blob_key).unlink()
    await eapi.db.dispose()
    backups.restore(eapi.settings)
    assert (eapi.settings.blob_path / row.blob_key).read_bytes() == PDF


async def test_migration_moves_existing_bytes_and_can_run_again(eapi):
    """Rows from before 0015 (bytes in the database) get moved; a re-run after a crash moves what is left."""
    from alembic import command

    settings = eapi.settings
    res = await submitted_koseki(eapi)
    [row] = await rows_of(eapi, res.app_id)
    await eapi.db.dispose()
    cfg = migrate.alembic_config(settings)
    await anyio.to_thread.run_sync(command.downgrade, cfg, "0014")  # back to bytes in the database
    db = sqlite3.connect(settings.data_dir / "madoguchi.db")
    assert db.execute("SELECT data FROM eform_attachments").fetchone()[0] == PDF
    (settings.blob_path / row.blob_key).unlink()  # the store starts without them
    await anyio.to_thread.run_sync(migrate.upgrade, settings)
    store = open_store(settings)
    key, data = db.execute("SELECT blob_key, data FROM eform_attachments").fetchone()
    assert key == row.blob_key and data is None and store.get(key) == PDF
    # A crash after the column was added but before the row was moved: run it again.
    # (Later migrations are stepped back first so that only 0015 runs again.)
    db.close()
    await anyio.to_thread.run_sync(command.downgrade, cfg, "0015")
    db = sqlite3.connect(settings.data_dir / "madoguchi.db")
    db.execute("UPDATE eform_attachments SET data = ?, blob_key = NULL", (PDF,))
    db.execute("UPDATE alembic_version SET version_num = '0014'")
    db.commit()
    store.delete(key)
    await anyio.to_thread.run_sync(migrate.upgrade, settings)
    key, data = db.execute("SELECT blob_key, data FROM eform_attachments").fetchone()
    assert key == row.blob_key and data is None and store.get(key) == PDF
    db.close()
    assert await anyio.to_thread.run_sync(migrate.differences, settings) == []
    http, link = await download_link(eapi, res)
    r = await http.get(link)
    assert r.status_code == 200 and r.content == PDF


async def test_sweep_blobs_command(eapi):
    """``madoguchi-server eforms sweep-blobs`` removes an old orphan and keeps a referenced file."""
    from tests.server.test_cli import cli

    res = await submitted_koseki(eapi)
    [row] = await rows_of(eapi, res.app_id)
    store = open_store(eapi.settings)
    orphan = f"eform/{DEMO_LG_CODE}/{uuid.uuid4()}/{uuid.uuid4()}"
    store.put(orphan, b"x")
    past = time.time() - 7200
    for key in (orphan, row.blob_key):
        os.utime(eapi.settings.blob_path / key, (past, past))
    await eapi.db.dispose()
    done = await anyio.to_thread.run_sync(
        lambda: cli(eapi.settings.data_dir, "eforms", "sweep-blobs", "--lg-code", DEMO_LG_CODE)
    )
    assert done.returncode == 0 and "1 件" in done.stdout, done.stderr
    assert not store.exists(orphan) and store.get(row.blob_key) == PDF
