"""The portal's per-process caches never show an old form: a definition is parsed again whenever
its JSON differs (a publish with or without a new version), archived versions stay apart, and the
municipality's header is reused only for a while."""

from __future__ import annotations

import copy
import uuid

import sqlalchemy as sa

from server.db.models import Application, Municipality, Procedure
from server.domain import audit
from server.domain.eforms import services, versions
from server.domain.portal import controllers
from shared.schemas.eform import EformProcedure
from tests.conftest import DEMO_LG_CODE
from tests.server.eforms.conftest import PORTAL, Resident


async def _procedure(api, slug: str) -> Procedure:
    async with api.db.tenant(DEMO_LG_CODE) as session:
        return (await session.execute(sa.select(Procedure).where(Procedure.slug == slug))).scalar_one()


async def _publish_label(api, slug: str, label: str) -> int:
    """Publish ``slug`` again with its first field relabelled (as the form builder would)."""
    async with api.db.tenant(DEMO_LG_CODE) as session:
        row = (await session.execute(sa.select(Procedure).where(Procedure.slug == slug))).scalar_one()
        data = copy.deepcopy(row.definition)
        data["fields"][0]["label"] = label
        return await versions.publish(session, audit.SYSTEM, row, EformProcedure.model_validate(data))


def test_same_json_same_parse_changed_json_parsed_again():
    data = EformProcedure.model_validate(
        {
            "slug": "x",
            "title": "見本",
            "category": "見本",
            "fields": [{"name": "a", "label": "甲", "type": "text"}],
        }
    ).model_dump(mode="json", exclude_none=True)
    pid = uuid.uuid4()
    row = Procedure(id=pid, definition=data)
    first = services.definition_of(row)
    assert services.definition_of(Procedure(id=pid, definition=copy.deepcopy(data))) is first
    data["fields"][0]["label"] = "乙"  # changed in place: the cache kept its own copy
    assert services.definition_of(row).fields[0].label == "乙"
    assert services.parse_definition(pid, 1, copy.deepcopy(data)) is not services.definition_of(row)
    other = Procedure(id=uuid.uuid4(), definition=data)  # another procedure has its own entry
    assert services.definition_of(other).fields[0].label == "乙"


async def test_publish_shows_at_once_and_submitted_keep_their_version(eapi):
    res = Resident(eapi)
    await res.start("koseki")
    assert "請求者の氏名" in (await res.http.get(res.app_url + "/form")).text
    # No application submitted yet: the live definition is replaced under the same version.
    before = (await _procedure(eapi, "koseki")).version
    assert await _publish_label(eapi, "koseki", "請求する人の氏名") == before
    page = (await res.http.get(res.app_url + "/form")).text
    assert "請求する人の氏名" in page and "請求者の氏名" not in page
    # A submitted application pins the version; the next publish is a new one.
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        app = await session.get(Application, uuid.UUID(res.app_url.rsplit("/", 1)[1]))
        assert app is not None
        app.reference, app.status, app.procedure_version = "E-TEST-1", "submitted", before
    assert await _publish_label(eapi, "koseki", "第三の見出し") == before + 1
    other = Resident(eapi)
    await other.start("koseki", email="hanako@example.jp")
    assert "第三の見出し" in (await other.http.get(other.app_url + "/form")).text
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        app = await session.get(Application, uuid.UUID(res.app_url.rsplit("/", 1)[1]))
        row = await session.get(Procedure, app.procedure_id)
        assert (await versions.definition_for(session, app, row)).fields[0].label == "請求する人の氏名"
        assert services.definition_of(row).fields[0].label == "第三の見出し"


async def test_municipality_header_is_reused_for_a_while(eapi, monkeypatch):
    assert "下妻市" in (await eapi.http.get(f"{PORTAL}/")).text
    async with eapi.db.unbound() as session:
        m = await session.get(Municipality, DEMO_LG_CODE)
        assert m is not None
        m.name = "改名市"
    assert "下妻市" in (await eapi.http.get(f"{PORTAL}/")).text  # within the reuse time
    monkeypatch.setattr(controllers, "SITE_TTL_SECONDS", 0.0)
    assert "改名市" in (await eapi.http.get(f"{PORTAL}/")).text
    assert (await eapi.http.get("/portal/999999/")).status_code == 404
