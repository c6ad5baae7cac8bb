"""Retention classes (保存区分): per document class and municipality, refused below the legal
minimum, audited with old and new values, and used by the purge planner (whole receptions and
documents whose own class has expired)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from server.db.models import Attachment, AuditEvent, Reception
from server.domain.documents.controllers import blob_store
from server.domain.documents.services import add_years
from tests.server.conftest import Api, count_rows
from tests.server.records import files
from tests.server.records.conftest import make_reception
from tests.server.records.test_purge import _backdate

TODAY = datetime.now(UTC).date()


async def _upload(api: Api, h: dict[str, str], reception_id: str, document_class: str) -> dict[str, Any]:
    r = await api.http.post(
        f"/api/v1/receptions/{reception_id}/attachments?document_class={document_class}",
        content=files.pdf(),
        headers=h,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _events(api: Api, action: str) -> list[dict[str, Any]]:
    async with api.db.unbound() as session:
        rows = (
            await session.execute(
                sa.select(AuditEvent.details).where(AuditEvent.action == action).order_by(AuditEvent.seq)
            )
        ).scalars()
        return [dict(d) for d in rows]


async def test_defaults_change_and_refusals(api: Api) -> None:
    """Defaults per class; clerks may neither read nor change; 0 years is refused in Japanese and
    changes nothing; a change is audited with the old and new value."""
    admin = await api.admin_headers()
    clerk = await api.headers()
    r = await api.http.get("/api/v1/records/retention", headers=admin)
    assert r.status_code == 200, r.text
    years = {c["document_class"]: c["years"] for c in r.json()}
    assert years["notice_form"] == api.settings.retention_for("082104") == 5
    assert years["issuance_request"] == 3 and years["identity_document"] == 3
    assert {c["label"] for c in r.json()} >= {"異動届", "交付請求書", "委任状", "読取書類", "作成した帳票"}
    assert (await api.http.get("/api/v1/records/retention", headers=clerk)).status_code == 403
    put = "/api/v1/records/retention/issuance_request"
    assert (await api.http.put(put, json={"years": 4}, headers=clerk)).status_code == 403

    bad = await api.http.put(put, json={"years": 0}, headers=admin)
    assert bad.status_code == 422
    assert bad.json()["code"] == "retention.below_minimum" and "1年" in bad.json()["message"]
    assert (await api.http.put(put, json={"years": 500}, headers=admin)).json()[
        "code"
    ] == "retention.too_long"
    for url, body in ((put, {"years": "三"}), ("/api/v1/records/retention/nonsense", {"years": 3})):
        refused = await api.http.put(url, json=body, headers=admin)
        assert refused.status_code in (400, 422) and refused.json()["message"].isascii() is False
    assert await count_rows(api.db, "retention_classes") == 0
    assert [e["code"] for e in await _events(api, "retention_class_update_failure")] == [
        "retention.below_minimum",
        "retention.too_long",
    ]

    ok = await api.http.put(put, json={"years": 4}, headers=admin)
    assert ok.status_code == 200, ok.text
    assert ok.json()["years"] == 4 and ok.json()["customized"] and ok.json()["updated_by"] == "demo-admin"
    again = await api.http.put(put, json={"years": 2}, headers=admin)
    assert again.json()["years"] == 2 and again.json()["default_years"] == 3
    changes = await _events(api, "retention_class_update_success")
    assert [(e["old_years"], e["new_years"]) for e in changes] == [(3, 4), (4, 2)]
    assert await count_rows(api.db, "retention_classes") == 1


async def test_upload_and_existing_documents_follow_the_class(api: Api) -> None:
    """A new document gets 受付日 + its class's years; changing the class re-dates the ones stored."""
    h = await api.admin_headers()
    rec = await make_reception(api, h)
    day = date(2024, 2, 29)
    await _backdate(api, rec["id"], day)
    request = await _upload(api, h, rec["id"], "issuance_request")
    notice = await _upload(api, h, rec["id"], "notice_form")
    assert request["retain_until"] == "2027-02-28"  # 3 years, 29 February → 28 February
    assert notice["retain_until"] == add_years(day, 5).isoformat()
    r = await api.http.put("/api/v1/records/retention/issuance_request", json={"years": 1}, headers=h)
    assert r.status_code == 200
    assert (await api.http.get("/api/v1/records/retention", headers=h)).status_code == 200
    async with api.db.unbound() as session:
        dates = dict(
            (await session.execute(sa.select(Attachment.document_class, Attachment.retain_until)))
            .tuples()
            .all()
        )
    assert dates == {"issuance_request": date(2025, 2, 28), "notice_form": add_years(day, 5)}
    assert (await _events(api, "retention_class_update_success"))[-1]["documents_restamped"] == 1


async def test_planner_uses_classes_and_api_purge_needs_confirmation(api: Api) -> None:
    """A 2-year-old reception loses only its expired 交付請求書; a 6-year-old one goes whole. The
    API refuses to run without confirmation or with another count, then deletes exactly the list."""
    h = await api.admin_headers()
    clerk = await api.headers()
    await api.http.put("/api/v1/records/retention/issuance_request", json={"years": 1}, headers=h)
    young = await make_reception(api, h)
    await _backdate(api, young["id"], add_years(TODAY, -2))
    gone_doc = await _upload(api, h, young["id"], "issuance_request")
    kept_doc = await _upload(api, h, young["id"], "notice_form")
    old = await make_reception(api, h)
    await _backdate(api, old["id"], add_years(TODAY, -6))
    await _upload(api, h, old["id"], "power_of_attorney")
    await _upload(api, h, old["id"], "issuance_request")
    fresh = await make_reception(api, h)
    await _upload(api, h, fresh["id"], "issuance_request")

    assert (await api.http.post("/api/v1/records/purge/plan", headers=clerk)).status_code == 403
    r = await api.http.post("/api/v1/records/purge/plan", headers=h)
    assert r.status_code == 200, r.text
    plan = r.json()
    assert (plan["receptions"], plan["documents_only"], plan["job"]["item_count"]) == (1, 1, 2)
    assert {c["document_class"]: c["count"] for c in plan["by_class"]} == {
        "power_of_attorney": 1,
        "issuance_request": 2,
    }
    scopes = {i["reception_id"]: (i["scope"], i["documents"]) for i in plan["items"]}
    assert scopes == {old["id"]: ("reception", 2), young["id"]: ("documents", 1)}
    job = plan["job"]["id"]
    run = f"/api/v1/records/purge/jobs/{job}/run"
    refused = await api.http.post(run, json={"confirm": False, "item_count": 2}, headers=h)
    assert refused.status_code == 422 and refused.json()["code"] == "purge.unconfirmed"
    wrong = await api.http.post(run, json={"confirm": True, "item_count": 5}, headers=h)
    assert wrong.status_code == 409 and "2 件" in wrong.json()["message"]
    assert await count_rows(api.db, "attachments") == 5  # nothing deleted yet

    done = await api.http.post(run, json={"confirm": True, "item_count": 2}, headers=h)
    assert done.status_code == 200, done.text
    assert done.json()["job"]["status"] == "done" and done.json()["deleted"] == 2
    async with api.db.unbound() as session:
        receptions = {str(x) for x in (await session.execute(sa.select(Reception.id))).scalars()}
        docs = {str(x) for x in (await session.execute(sa.select(Attachment.id))).scalars()}
    assert receptions == {young["id"], fresh["id"]}
    assert kept_doc["id"] in docs and gone_doc["id"] not in docs and len(docs) == 2
    assert len(set(blob_store(api.app.state).keys())) == 2
    record = await api.http.get("/api/v1/records/purge/jobs", headers=h)
    assert [j["status"] for j in record.json()] == ["done"]
    detail = await api.http.get(f"/api/v1/records/purge/jobs/{job}", headers=h)
    assert all(i["rows_deleted_at"] and i["blobs_deleted_at"] for i in detail.json()["items"])
    again = await api.http.post(run, json={"confirm": True, "item_count": 2}, headers=h)
    assert again.status_code == 409
    missing = await api.http.get(f"/api/v1/records/purge/jobs/{uuid.uuid4()}", headers=h)
    assert missing.status_code == 404
