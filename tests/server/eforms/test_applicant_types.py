"""Applicant types 個人 / 法人 / 団体 beyond a checkbox of the procedure (spec 002 (2)②): a
procedure admitting several types asks for it in its ``applicant_type`` field (the builder puts
it there and refuses a form without it), conditions show fields per type, and the console
lists, filters and exports applications by it."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from server.db.models import Application, AuditEvent, Procedure
from server.domain.eforms import fields as F
from server.domain.eforms import services
from tests.conftest import DEMO_LG_CODE, DEMO_SUPERVISOR
from tests.server.eforms.builder_helpers import console, form_of
from tests.server.eforms.test_builder import _blank, _error_at
from tests.server.eforms.test_console import submitted_koseki


async def test_builder_asks_for_the_applicant_type_field_and_puts_it_in(eapi):
    http, data = await _blank(eapi)
    url = "/console/procedures/new"
    data.update(
        {"title": "法人も申請できる手続き", "slug": "multi", "applicant_types": ["individual", "corporation"]}
    )
    r = await http.post(url, data={**data, "action": "save"})
    assert r.status_code == 422
    _error_at(r.text, "applicant_types", "applicant_type")
    # One button puts the field first, its options the chosen types.
    r = await http.post(url, data={**data, "action": "applicant_field"})
    assert r.status_code == 200
    data = {**form_of(r.text), "csrf": data["csrf"]}
    assert data["fields.0.name"] == "applicant_type" and data["fields.0.type"] == "radio"
    assert data["fields.0.options"] == "individual:個人\ncorporation:法人" and data["fields.0.required"] == [
        "1"
    ]
    # A 法人-only field, shown and required by a condition on the type (value from the pick-list).
    r = await http.post(url, data={**data, "action": "add:corporate_number"})
    data = {**form_of(r.text), "csrf": data["csrf"]}
    data.update(
        {"fields.2.name": "corp", "fields.2.label": "法人番号", "fields.2.vis.0.field": "applicant_type"}
    )
    r = await http.post(url, data={**data, "action": "refresh"})
    assert '<option value="corporation">法人（corporation）</option>' in r.text
    data = {**form_of(r.text), "csrf": data["csrf"]}
    data.update({"fields.2.vis.0.value": "corporation", "fields.2.show_required": "1"})
    # Options that do not match the chosen types are refused.
    bad = {**data, "fields.0.options": "individual:個人\ngroup:団体"}
    r = await http.post(url, data={**bad, "action": "save"})
    assert r.status_code == 422
    _error_at(r.text, "fields.0.options", "選んだ属性")
    bad = {**data, "fields.0.required": []}
    r = await http.post(url, data={**bad, "action": "save"})
    _error_at(r.text, "fields.0.options", "必須")
    r = await http.post(url, data={**data, "action": "save"})
    assert r.status_code == 303, r.text[:2000]
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        row = (await s.execute(sa.select(Procedure).where(Procedure.slug == "multi"))).scalar_one()
    d = services.definition_of(row)
    corp = d.field("corp")
    assert corp.visible_if == {"==": [{"var": "applicant_type"}, "corporation"]}
    assert corp.required_if == corp.visible_if
    # The form asks for the 法人番号 of a 法人 only.
    assert "corp" in F.validate(d, {"applicant_type": "corporation", "name": "x"}, {}).errors
    assert "corp" not in F.validate(d, {"applicant_type": "individual", "name": "x"}, {}).errors


async def _application(eapi, slug: str, values: dict, reference: str) -> None:
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        proc = (await s.execute(sa.select(Procedure).where(Procedure.slug == slug))).scalar_one()
        s.add(
            Application(
                id=uuid.uuid4(),
                lg_code=DEMO_LG_CODE,
                procedure_id=proc.id,
                procedure_version=proc.version,
                reference=reference,
                status="submitted",
                email="applicant@example.jp",
                access_hash="0" * 64,
                values=values,
                sealed={},
                history=[],
                submitted_at=datetime.now(UTC),
            )
        )


async def test_console_lists_filters_and_exports_by_applicant_type(eapi):
    koseki = await submitted_koseki(eapi)  # 戸籍: individuals only → 個人 without a field
    base = {"name": "株式会社しもつま（合成）", "kind": "nozei", "year": 2026, "copies": 1}
    await _application(eapi, "zei-shomei", {**base, "applicant_type": "corporation"}, "E-20261201-900001")
    await _application(eapi, "zei-shomei", {**base, "applicant_type": "group"}, "E-20261201-900002")
    await _application(eapi, "zei-shomei", {**base, "applicant_type": "individual"}, "E-20261201-900003")
    await _application(eapi, "zei-shomei", {**base, "applicant_type": "<script>"}, "E-20261201-900004")
    http, _ = await console(eapi, *DEMO_SUPERVISOR)

    r = await http.get("/console/")
    assert "申請者の属性" in r.text and 'id="applicant_type"' in r.text
    row = r.text[r.text.index("E-20261201-900001") :]
    assert row[: row.index("</tr>")].count("法人") == 1
    row = r.text[r.text.index("E-20261201-900004") :]
    assert "不明" in row[: row.index("</tr>")] and "<script>" not in r.text

    async def refs(**params):
        page = (await http.get("/console/", params=params)).text
        return {ref for ref in ("900001", "900002", "900003", "900004") if ref in page} | (
            {"koseki"} if koseki.app_url and "戸籍" in page.split("<tbody>")[1] else set()
        )

    assert await refs(applicant_type="corporation") == {"900001"}
    assert await refs(applicant_type="group") == {"900002"}
    assert await refs(applicant_type="individual") == {"900003", "koseki"}
    assert await refs(applicant_type="individual", procedure="zei-shomei") == {"900003"}
    assert await refs(applicant_type="<script>") == {"900001", "900002", "900003", "900004", "koseki"}

    r = await http.get(
        "/console/export.csv",
        params={
            "procedure": "zei-shomei",
            "column": ["reference", "applicant_type"],
            "applicant_type": "corporation",
        },
    )
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows == [["申請番号", "申請者の属性"], ["E-20261201-900001", "法人"]]
    r = await http.get("/console/export.csv", params={"procedure": "zei-shomei", "encoding": "sjis"})
    text = r.content.decode("cp932")
    assert "申請者の属性" in text.splitlines()[0] and "団体" in text
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        event = (
            (
                await s.execute(
                    sa.select(AuditEvent)
                    .where(AuditEvent.action == "application_export_success")
                    .order_by(AuditEvent.seq)
                )
            )
            .scalars()
            .first()
        )
    assert event.details["applicant_type"] == "corporation"
