"""Retention purge: lists only what expired, deletes exactly that list, survives a crash half-way."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from server.db.models import Attachment, PurgeItem, Reception
from server.domain.documents.controllers import blob_store
from server.domain.retention import service
from tests.server.conftest import Api, count_rows
from tests.server.records import files
from tests.server.records.conftest import actions, make_reception

TODAY = datetime.now(UTC).date()
_SEQ = itertools.count(1)
OLD = date(TODAY.year - 6, 4, 1)


async def _backdate(api: Api, reception_id: str, day: date) -> None:
    """Move a reception to ``day`` (number too, as if it had been received then)."""
    async with api.db.unbound() as session:
        rid = uuid.UUID(reception_id)
        seq = next(_SEQ)
        await session.execute(
            sa.update(Reception)
            .where(Reception.id == rid)
            .values(business_date=day, reception_number=f"{day:%Y%m%d}-{seq:04d}", daily_seq=seq + 5000)
        )


async def _reception_with_docs(api: Api, h: dict[str, str], day: date, docs: int) -> dict[str, Any]:
    rec = await make_reception(api, h)
    await _backdate(api, rec["id"], day)
    for _ in range(docs):
        r = await api.http.post(f"/api/v1/receptions/{rec['id']}/attachments", content=files.pdf(), headers=h)
        assert r.status_code == 201, r.text
    return rec


def _blob_keys(api: Api) -> set[str]:
    return set(blob_store(api.app.state).keys())


async def test_plan_lists_only_expired_and_run_deletes_exactly_them(api: Api) -> None:
    """Old receptions and their blobs go; recent ones stay; the deletion record keeps hashes."""
    h = await api.admin_headers()
    old = [await _reception_with_docs(api, h, OLD, n) for n in (0, 1, 2)]
    recent = await _reception_with_docs(api, h, TODAY, 1)
    job = await service.plan(api.db, api.settings, "082104", planned_by="demo-admin")
    listed = await service.items(api.db, "082104", job.id)
    assert sorted(str(i.reception_id) for i in listed) == sorted(o["id"] for o in old)
    assert sum(len(i.blobs) for i in listed) == 3 and all(
        len(b["sha256"]) == 64 for i in listed for b in i.blobs
    )

    report = await service.execute(
        api.db, blob_store(api.app.state), "082104", job.id, executed_by="demo-admin"
    )
    assert (report.deleted, report.skipped) == (3, 0)
    assert await count_rows(api.db, "receptions") == 1
    assert await count_rows(api.db, "attachments") == 1
    assert len(_blob_keys(api)) == 1 and recent["id"] in next(iter(_blob_keys(api)))
    assert await count_rows(api.db, "purge_items") == 3  # the deletion record stays
    assert "reception_purge_success" in await actions(api)
    with pytest.raises(Exception, match="実行済み"):
        await service.execute(api.db, blob_store(api.app.state), "082104", job.id, executed_by="demo-admin")


async def test_crash_half_way_then_rerun_finishes(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The blob store fails after the first delete; running again finishes the same list only."""
    h = await api.admin_headers()
    for _ in range(3):
        await _reception_with_docs(api, h, OLD, 1)
    job = await service.plan(api.db, api.settings, "082104", planned_by="demo-admin")
    store = blob_store(api.app.state)
    real_delete = store.delete
    calls = {"n": 0}

    def flaky(key: str) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk gone")
        real_delete(key)

    monkeypatch.setattr(store, "delete", flaky)
    with pytest.raises(OSError):
        await service.execute(api.db, store, "082104", job.id, executed_by="demo-admin")
    newcomer = await _reception_with_docs(api, h, OLD, 1)  # expired too, but not on the list
    monkeypatch.setattr(store, "delete", real_delete)
    again = await service.plan(api.db, api.settings, "082104", planned_by="demo-admin")
    assert again.id == job.id  # the unfinished job, not a new list
    report = await service.execute(api.db, store, "082104", job.id, executed_by="demo-admin")
    assert report.deleted == 3
    async with api.db.unbound() as session:
        left = (await session.execute(sa.select(Reception.id))).scalars().all()
        stamped = (await session.execute(sa.select(PurgeItem.blobs_deleted_at))).scalars().all()
    assert [str(x) for x in left] == [newcomer["id"]]
    assert all(stamped)
    assert len(_blob_keys(api)) == 1


async def test_documents_still_in_retention_keep_reception_and_late_documents_are_skipped(api: Api) -> None:
    """A document with a future retain_until keeps its reception off the list; a document added
    after planning makes the purge leave that reception alone."""
    h = await api.admin_headers()
    kept = await _reception_with_docs(api, h, OLD, 1)
    async with api.db.unbound() as session:
        await session.execute(
            sa.update(Attachment)
            .where(Attachment.reception_id == uuid.UUID(kept["id"]))
            .values(retain_until=TODAY + timedelta(days=30))
        )
    late = await _reception_with_docs(api, h, OLD, 0)
    job = await service.plan(api.db, api.settings, "082104", planned_by="demo-admin")
    assert [str(i.reception_id) for i in await service.items(api.db, "082104", job.id)] == [late["id"]]
    r = await api.http.post(f"/api/v1/receptions/{late['id']}/attachments", content=files.pdf(), headers=h)
    assert r.status_code == 201
    report = await service.execute(
        api.db, blob_store(api.app.state), "082104", job.id, executed_by="demo-admin"
    )
    assert (report.deleted, report.skipped) == (0, 1)
    assert await count_rows(api.db, "receptions") == 2 and len(_blob_keys(api)) == 2


def test_retention_below_legal_minimum_is_refused() -> None:
    """Retention under 1 year cannot be configured (住基法施行令 34条4項)."""
    from pydantic import ValidationError

    from server.config import Settings

    with pytest.raises(ValidationError):
        Settings(retention_years=0)
    with pytest.raises(ValidationError):
        Settings(retention_years_by_municipality={"082104": 0})
    assert Settings(retention_years_by_municipality={"082104": 3}).retention_for("082104") == 3
