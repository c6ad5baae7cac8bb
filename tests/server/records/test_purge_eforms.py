"""Retention of online applications (電子申請) in the one purge: only closed applications past
their class's years are listed, deletion removes the application with its history, files, blobs,
signatures and mails, keeps the payment for the accounts, records hashes, and survives a crash.

The scenarios take an ``Api`` so that tests/server/records/test_postgres_records.py runs the same
ones on PostgreSQL as the app role under row-level security."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from server.db.models import (
    Application,
    ApplicationFile,
    ApplicationSignature,
    AuditEvent,
    OutboxMail,
    Payment,
    PurgeItem,
    PurgeJob,
)
from server.domain import audit
from server.domain.documents.controllers import blob_store
from server.domain.retention import classes, service
from shared.api_records import DocumentClass
from tests.server.conftest import Api
from tests.server.records import eform_data, files
from tests.server.records.conftest import make_reception
from tests.server.records.eform_data import LG

TODAY = datetime.now(UTC).date()


def years_ago(n: int, month: int = 4) -> date:
    return date(TODAY.year - n, month, 1)


async def plan_now(api: Api, since: datetime) -> PurgeJob:
    job = await service.plan(api.db, api.settings, LG, planned_by="demo-admin")
    if job.planned_at < since:  # an unfinished job of an earlier test on the shared database
        await service.execute(api.db, blob_store(api.app.state), LG, job.id, executed_by="demo-admin")
        job = await service.plan(api.db, api.settings, LG, planned_by="demo-admin")
    return job


async def _exists(api: Api, model: Any, app_id: uuid.UUID) -> int:
    column = model.id if model is Application else model.application_id
    async with api.db.tenant(LG) as session:
        return int(
            await session.scalar(sa.select(sa.func.count()).select_from(model).where(column == app_id)) or 0
        )


async def scenario_lifecycle(api: Api) -> None:
    since = datetime.now(UTC)
    store = blob_store(api.app.state)
    proc = await eform_data.procedure(api)
    make = eform_data.application
    done = await make(
        api,
        store,
        proc,
        status="completed",
        created=years_ago(7),
        closed=years_ago(6),
        files=2,
        payment_state="captured",
    )
    recent = await make(
        api, store, proc, status="withdrawn", created=years_ago(7), closed=years_ago(1), files=1
    )
    working = await make(api, store, proc, status="submitted", created=years_ago(8), files=1)
    unpaid = await make(
        api,
        store,
        proc,
        status="rejected",
        created=years_ago(7),
        closed=years_ago(6),
        payment_state="authorised",
    )
    refused = await make(api, store, proc, status="rejected", created=years_ago(9), closed=years_ago(8, 12))
    mine = {done.id, recent.id, working.id, unpaid.id, refused.id}

    job = await plan_now(api, since)
    listed = {i.reception_id: i for i in await service.items(api.db, LG, job.id) if i.reception_id in mine}
    assert set(listed) == {done.id, refused.id}  # in progress, recent and unpaid stay off the list
    item = listed[done.id]
    assert item.scope == "eform" and item.business_date == years_ago(6)
    assert sorted(b["key"] for b in item.blobs) == sorted(done.keys)
    assert all(len(b["sha256"]) == 64 and b["document_class"] == "eform_application" for b in item.blobs)
    assert item.details is not None and len(item.details["content_sha256"]) == 64
    assert item.details["payments_kept"] == [str(done.payment_id)]
    detail = await service.describe(api.db, LG, job.id)
    assert detail.eforms >= 2
    assert any(c.document_class is DocumentClass.eform_application for c in detail.by_class)
    shown = [i for i in detail.items if i.reception_id == done.id]
    assert shown and shown[0].scope == "eform" and shown[0].documents == 2

    report = await service.execute(api.db, store, LG, job.id, executed_by="demo-admin")
    assert report.skipped == 0
    for model in (Application, ApplicationFile, ApplicationSignature, OutboxMail):
        assert await _exists(api, model, done.id) == 0, model
        assert await _exists(api, model, recent.id) == 1, model
    assert (
        await _exists(api, Application, working.id) == 1 and await _exists(api, Application, unpaid.id) == 1
    )
    keys = set(store.keys(f"eform/{LG}/"))
    assert not set(done.keys) & keys and set(recent.keys + working.keys) <= keys
    async with api.db.tenant(LG) as session:
        pay = await session.get(Payment, done.payment_id)
        assert pay is not None and pay.application_id is None and pay.access_hash == ""
        assert (pay.amount, pay.state, pay.provider_ref) == (300, "captured", "ch_synthetic")
        stamped = await session.get(PurgeItem, item.id)
        assert stamped is not None and stamped.rows_deleted_at and stamped.blobs_deleted_at
        events = (
            await session.execute(
                sa.select(AuditEvent.action, AuditEvent.details).where(AuditEvent.object_id == str(done.id))
            )
        ).all()
    assert [e.action for e in events] == ["application_purge_success"]
    assert events[0].details["content_sha256"] == item.details["content_sha256"]


async def scenario_crash(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    since = datetime.now(UTC)
    store = blob_store(api.app.state)
    proc = await eform_data.procedure(api)
    apps = [
        await eform_data.application(
            api, store, proc, status="completed", created=years_ago(7), closed=years_ago(6), files=1
        )
        for _ in range(3)
    ]
    job = await plan_now(api, since)
    ids = {a.id for a in apps}
    assert ids <= {i.reception_id for i in await service.items(api.db, LG, job.id)}
    real_delete = store.delete
    calls = {"n": 0}

    def flaky(key: str) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk gone")
        real_delete(key)

    monkeypatch.setattr(store, "delete", flaky)
    with pytest.raises(OSError):
        await service.execute(api.db, store, LG, job.id, executed_by="demo-admin")
    # Half-way: the rows are gone (one transaction), a blob is not; a newcomer is not on the list.
    assert all([await _exists(api, Application, a.id) == 0 for a in apps])
    assert set(store.keys(f"eform/{LG}/")) & {k for a in apps for k in a.keys}
    newcomer = await eform_data.application(
        api, store, proc, status="completed", created=years_ago(7), closed=years_ago(6), files=1
    )
    monkeypatch.setattr(store, "delete", real_delete)
    again = await service.plan(api.db, api.settings, LG, planned_by="demo-admin")
    assert again.id == job.id
    await service.execute(api.db, store, LG, job.id, executed_by="demo-admin")
    left = set(store.keys(f"eform/{LG}/"))
    assert not left & {k for a in apps for k in a.keys} and set(newcomer.keys) <= left
    assert await _exists(api, Application, newcomer.id) == 1
    async with api.db.tenant(LG) as session:
        stamps = (
            await session.execute(
                sa.select(PurgeItem.rows_deleted_at, PurgeItem.blobs_deleted_at).where(
                    PurgeItem.job_id == job.id, PurgeItem.reception_id.in_(ids)
                )
            )
        ).all()
        purged = await session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == "application_purge_success",
                AuditEvent.object_id.in_([str(i) for i in ids]),
            )
        )
    assert len(stamps) == 3 and all(r and b for r, b in stamps)
    assert purged == 3  # once each, although the run was started twice


async def test_closed_applications_expire_and_are_deleted_with_their_files(api: Api) -> None:
    """Completed/withdrawn/rejected applications past the class's years go, with their blobs,
    history, signatures and mails; in-progress, recently closed and unpaid ones stay; the payment
    stays for the accounts without its link; the deletion record and the audit keep the hashes."""
    await scenario_lifecycle(api)


async def test_crash_half_way_through_an_eform_purge_is_finished_by_running_again(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    await scenario_crash(api, monkeypatch)


async def test_eform_class_is_per_municipality_and_counts_from_closing(api: Api) -> None:
    """Ten years for 電子申請 keep an application closed six years ago; the change is audited."""
    store = blob_store(api.app.state)
    proc = await eform_data.procedure(api)
    app = await eform_data.application(
        api, store, proc, status="completed", created=years_ago(7), closed=years_ago(6)
    )
    actor = audit.Actor(username="demo-admin")
    changed = await classes.update(api.db, api.settings, LG, DocumentClass.eform_application, 10, actor=actor)
    assert (changed.years, changed.label) == (10, "電子申請")
    job = await service.plan(api.db, api.settings, LG, planned_by="demo-admin")
    assert app.id not in {i.reception_id for i in await service.items(api.db, LG, job.id)}
    with pytest.raises(Exception, match="最低期間"):
        await classes.update(api.db, api.settings, LG, DocumentClass.eform_application, 0, actor=actor)


async def test_application_changed_after_planning_is_left_alone(api: Api) -> None:
    """A file added to a listed application after planning: the purge skips it and says why."""
    store = blob_store(api.app.state)
    proc = await eform_data.procedure(api)
    app = await eform_data.application(
        api, store, proc, status="withdrawn", created=years_ago(7), closed=years_ago(6), files=1
    )
    job = await service.plan(api.db, api.settings, LG, planned_by="demo-admin")
    async with api.db.tenant(LG) as session:
        session.add(
            ApplicationFile(
                id=uuid.uuid4(),
                lg_code=LG,
                application_id=app.id,
                field="late",
                filename="late.pdf",
                content_type="application/pdf",
                size=1,
                sha256="0" * 64,
                blob_key=f"eform/{LG}/{app.id}/late",
            )
        )
    report = await service.execute(api.db, store, LG, job.id, executed_by="demo-admin")
    assert report.skipped == 1
    [item] = await service.items(api.db, LG, job.id)
    assert item.skipped_reason and "添付ファイル" in item.skipped_reason
    assert await _exists(api, Application, app.id) == 1 and set(app.keys) <= set(store.keys(f"eform/{LG}/"))


async def test_purge_api_shows_applications_and_counter_cannot_use_the_class(api: Api) -> None:
    """Over HTTP the plan counts 電子申請; the class is refused for a counter attachment."""
    h = await api.admin_headers()
    store = blob_store(api.app.state)
    proc = await eform_data.procedure(api)
    await eform_data.application(
        api, store, proc, status="completed", created=years_ago(7), closed=years_ago(6)
    )
    plan = await api.http.post("/api/v1/records/purge/plan", headers=h)
    assert plan.status_code == 200, plan.text
    body = plan.json()
    assert body["eforms"] == 1 and [i["scope"] for i in body["items"]] == ["eform"]
    assert [c["label"] for c in body["by_class"]] == ["電子申請"]
    classes_seen = (await api.http.get("/api/v1/records/retention", headers=h)).json()
    assert "eform_application" in [c["document_class"] for c in classes_seen]
    rec = await make_reception(api, h)
    r = await api.http.post(
        f"/api/v1/receptions/{rec['id']}/attachments?document_class=eform_application",
        content=files.pdf(),
        headers=h,
    )
    assert r.status_code == 422 and r.json()["code"] == "attachment.document_class", r.text


async def test_webhook_for_a_purged_applications_payment_is_refused(api: Api) -> None:
    """The payment kept for the accounts has no application any more: a provider event about it
    is refused with a Japanese reason instead of failing."""
    from server.deps import key_ring
    from server.domain.payments.services import provider_for
    from server.plugins.payments.sandbox import SandboxProvider

    store = blob_store(api.app.state)
    proc = await eform_data.procedure(api)
    app = await eform_data.application(
        api,
        store,
        proc,
        status="completed",
        created=years_ago(7),
        closed=years_ago(6),
        payment_state="requested",
    )
    async with api.db.tenant(LG) as session:  # settled after all, then purged
        await session.execute(sa.update(Payment).where(Payment.id == app.payment_id).values(state="voided"))
    job = await service.plan(api.db, api.settings, LG, planned_by="demo-admin")
    await service.execute(api.db, store, LG, job.id, executed_by="demo-admin")
    async with api.db.tenant(LG) as session:
        await session.execute(
            sa.update(Payment).where(Payment.id == app.payment_id).values(state="requested")
        )
    provider = provider_for(api.settings, key_ring(api.app.state))
    assert isinstance(provider, SandboxProvider)
    body, sig = provider.signed_event(
        payment_id=str(app.payment_id), kind="authorised", amount=300, event_id="evt_after_purge"
    )
    r = await api.client("192.0.2.10").post(
        f"/portal/{LG}/payments/webhook/sandbox", content=body, headers={"x-sandbox-signature": sig}
    )
    assert r.status_code == 400 and "削除済み" in r.json()["message"], r.text
