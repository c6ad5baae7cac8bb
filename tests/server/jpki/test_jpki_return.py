"""差戻し of a procedure that needs a JPKI signature: the resident corrects, signs the corrected
version, resubmits; the old signature stays as ``superseded`` and staff see both."""

from __future__ import annotations

import hashlib
import re

import sqlalchemy as sa

from server.db.models import Application, ApplicationSignature, AuditEvent, Procedure
from server.domain.jpki import services as jpki
from tests.conftest import DEMO_LG_CODE
from tests.server.eforms.conftest import body_of, deliver
from tests.server.eforms.test_console import staff
from tests.server.eforms.test_returns import follow
from tests.server.jpki.conftest import VALUES
from tests.server.jpki.test_portal_sign import confirmed, sandbox_sign

NEW_ADDRESS = "茨城県下妻市下妻乙124"


async def signed_and_returned(api, fields=("address",)):
    """A signed, submitted JPKI application returned by staff; the resident follows the mail link."""
    res = await confirmed(api)
    assert "電子署名を確認しました" in await sandbox_sign(res)
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    assert r.headers["location"].endswith("?done=1")
    await deliver(api)
    http, csrf = await staff(api)
    page = await http.get(f"/console/applications/{res.app_id}")
    assert 'id="return-form"' in page.text  # the console now offers 差戻し for JPKI procedures
    r = await http.post(
        f"/console/applications/{res.app_id}/return",
        data={"csrf": csrf, "fields": list(fields), "comment": "住所が住民票と違います。"},
    )
    assert r.status_code == 303, r.text
    mail = next(m for m in await deliver(api) if "修正をお願いします" in m["Subject"])
    link = re.search(r"http://testserver(\S+/resume\?key=\S+)", body_of(mail)).group(1)  # type: ignore[union-attr]
    await follow(res, link)
    return res, http


async def _signatures(api) -> list[ApplicationSignature]:
    async with api.db.tenant(DEMO_LG_CODE) as session:
        query = sa.select(ApplicationSignature).order_by(ApplicationSignature.created_at)
        return list((await session.execute(query)).scalars().all())


async def _canonical_sha(api, app_id) -> str:
    async with api.db.tenant(DEMO_LG_CODE) as session:
        app = await session.get(Application, app_id)
        row = await session.get(Procedure, app.procedure_id)
        return hashlib.sha256(await jpki.canonical_of(session, app, row)).hexdigest()


async def test_correct_sign_again_and_resubmit(japi):
    res, http = await signed_and_returned(japi)
    (old,) = await _signatures(japi)
    r = await res.http.post(
        res.app_url + "/fix", data={"csrf": res.csrf, "action": "confirm", "address": NEW_ADDRESS}
    )
    assert r.status_code == 303 and r.headers["location"].endswith("/fix/confirm")
    confirm = await res.http.get(res.app_url + "/fix/confirm")
    assert "電子署名に進む" in confirm.text and "<li>署名</li>" in confirm.text
    # 再提出 without a new signature: sent to the 署名 step, nothing resubmitted.
    r = await res.http.post(res.app_url + "/fix/submit", data={"csrf": res.csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("/sign")
    sign = await res.http.get(res.app_url + "/sign")
    assert sign.status_code == 200 and "差戻しで修正した内容に、あらためて電子署名" in sign.text
    assert "電子署名を確認しました" not in sign.text  # the old signature covers the returned version
    async with japi.db.tenant(DEMO_LG_CODE) as session:
        app = await session.get(Application, res.app_id)
        assert app.status == "returned" and app.values["address"] == VALUES["address"]
    # The data to sign is the corrected version.
    data = (await res.http.get(res.app_url + "/sign/data")).content
    assert NEW_ADDRESS.encode() in data and VALUES["address"].encode() not in data
    text = await sandbox_sign(res)
    assert "電子署名を確認しました" in text and "修正した内容で再提出する" in text and "/fix/submit" in text
    r = await res.http.post(res.app_url + "/fix/submit", data={"csrf": res.csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=1")
    async with japi.db.tenant(DEMO_LG_CODE) as session:
        app = await session.get(Application, res.app_id)
        assert app.status == "submitted" and app.values["address"] == NEW_ADDRESS
        event = (
            await session.execute(
                sa.select(AuditEvent).where(AuditEvent.action == "application_resubmit_success")
            )
        ).scalar_one()
    first, second = await _signatures(japi)
    assert (
        first.id == old.id and first.state == "superseded" and first.result["superseded_by"] == str(second.id)
    )
    assert first.content_sha256 == old.content_sha256 and first.signature  # kept as it was, for the record
    assert second.state == "valid" and second.content_sha256 == await _canonical_sha(japi, res.app_id)
    assert event.details["signature"] == str(second.id) and event.details["superseded"] == [str(first.id)]
    # Staff see both: the signature over the resubmitted version and the replaced one.
    page = (await http.get(f"/console/applications/{res.app_id}")).text
    assert "差戻し前の内容への署名（再提出で置き換え済み・記録として保存）" in page
    assert first.content_sha256 in page and second.content_sha256 in page
    assert "<strong>有効</strong>" in page and NEW_ADDRESS in page


async def test_unchanged_correction_still_needs_a_new_signature(japi):
    res, _http = await signed_and_returned(japi, fields=("name",))
    r = await res.http.post(
        res.app_url + "/fix", data={"csrf": res.csrf, "action": "confirm", "name": VALUES["name"]}
    )
    assert r.headers["location"].endswith("/fix/confirm")
    # Same bytes as the signed version, but the signature predates the return: sign again.
    r = await res.http.post(res.app_url + "/fix/submit", data={"csrf": res.csrf})
    assert r.headers["location"].endswith("/sign")
    assert "電子署名を確認しました" not in (await res.http.get(res.app_url + "/sign")).text
    await sandbox_sign(res)
    r = await res.http.post(res.app_url + "/fix/submit", data={"csrf": res.csrf})
    assert r.headers["location"].endswith("?done=1")
    assert [s.state for s in await _signatures(japi)] == ["superseded", "valid"]


async def test_changing_after_signing_needs_signing_again(japi):
    res, _http = await signed_and_returned(japi)
    await res.http.post(
        res.app_url + "/fix", data={"csrf": res.csrf, "action": "confirm", "address": NEW_ADDRESS}
    )
    assert "電子署名を確認しました" in await sandbox_sign(res)
    # Another correction after signing: the new signature no longer covers the data.
    r = await res.http.post(
        res.app_url + "/fix", data={"csrf": res.csrf, "action": "confirm", "address": NEW_ADDRESS + "5"}
    )
    assert r.headers["location"].endswith("/fix/confirm")
    r = await res.http.post(res.app_url + "/fix/submit", data={"csrf": res.csrf})
    assert r.headers["location"].endswith("/sign")
    async with japi.db.tenant(DEMO_LG_CODE) as session:
        app = await session.get(Application, res.app_id)
        assert app.status == "returned" and app.values["address"] == VALUES["address"]
        # The service refuses too, whatever the route does.
        from server.domain.eforms import returns
        from server.domain.eforms.services import EformProcedure

        row = await session.get(Procedure, app.procedure_id)
        definition = EformProcedure.model_validate(row.definition)
        try:
            await returns.resubmit(session, japi.settings, app, row, definition)
        except returns.Conflict as exc:
            assert exc.error_code == "jpki.signature_required"
        else:
            raise AssertionError("resubmitted without a signature over the corrected version")
    # The regular submit route does nothing for a returned application.
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    async with japi.db.tenant(DEMO_LG_CODE) as session:
        assert (await session.get(Application, res.app_id)).status == "returned"
    assert [s.state for s in await _signatures(japi)] == ["valid", "valid"]  # nothing superseded yet


async def test_returned_twice_keeps_every_signature(japi):
    res, http = await signed_and_returned(japi)
    await res.http.post(
        res.app_url + "/fix", data={"csrf": res.csrf, "action": "confirm", "address": NEW_ADDRESS}
    )
    await sandbox_sign(res)
    await res.http.post(res.app_url + "/fix/submit", data={"csrf": res.csrf})
    http, csrf = await staff(japi)
    r = await http.post(
        f"/console/applications/{res.app_id}/return",
        data={"csrf": csrf, "fields": ["address"], "comment": "番地を確認してください。"},
    )
    assert r.status_code == 303, r.text
    mail = next(m for m in await deliver(japi) if "修正をお願いします" in m["Subject"])
    await follow(res, re.search(r"http://testserver(\S+/resume\?key=\S+)", body_of(mail)).group(1))  # type: ignore[union-attr]
    await res.http.post(
        res.app_url + "/fix", data={"csrf": res.csrf, "action": "confirm", "address": NEW_ADDRESS + "番地"}
    )
    assert "電子署名を確認しました" in await sandbox_sign(res)
    r = await res.http.post(res.app_url + "/fix/submit", data={"csrf": res.csrf})
    assert r.headers["location"].endswith("?done=1")
    states = [s.state for s in await _signatures(japi)]
    assert states == ["superseded", "superseded", "valid"]
    page = (await http.get(f"/console/applications/{res.app_id}")).text
    assert page.count("差戻し前の内容への署名") == 2
