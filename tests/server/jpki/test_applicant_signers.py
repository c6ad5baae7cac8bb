"""Who signs (``jpki_signers``) and what happens to signing attempts nobody finishes.

A JPKI 署名用電子証明書 is a natural person's: with ``individual`` (the default) a 法人 / 団体
applicant files without a signature; with ``all`` the person filing signs as 代表者 or 担当者 and
staff see the certificate's 4情報 as the signer's, not compared with the 法人's 名称. Attempts still
``pending`` after ``jpki_app_transaction_minutes`` are deleted by the scheduler's hourly job
(audited); an answer coming back after that gets a Japanese 404 with the way to sign again.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.db.models import Application, ApplicationSignature, AuditEvent, Procedure
from server.domain.documents.controllers import blob_store
from server.domain.eforms import services
from server.domain.scheduler import service as scheduler
from tests.conftest import DEMO_LG_CODE
from tests.server.conftest import Api, sqlite_settings
from tests.server.eforms.conftest import Resident
from tests.server.eforms.test_console import staff
from tests.server.jpki.test_portal_sign import sandbox_sign

PROCEDURE = """
slug: signers
title: 署名の要る申請（個人・法人）
jpki_required: true
jpki_signers: {signers}
applicant_types: [individual, corporation]
fields:
  - name: applicant_type
    label: 申請者の種別
    type: radio
    required: true
    options:
      - {{value: individual, label: 個人}}
      - {{value: corporation, label: 法人}}
  - {{name: name, label: 氏名・名称, type: text, required: true, max_length: 50}}
  - {{name: address, label: 住所・所在地, type: address, required: true, max_length: 200}}
"""
PERSON = {"applicant_type": "individual", "name": "下妻 太郎", "address": "茨城県下妻市本城町二丁目22番地"}
COMPANY = {"applicant_type": "corporation", "name": "株式会社しもつま", "address": "茨城県下妻市本城町三丁目"}


async def _api(data_dir: Path, signers: str, **over: object) -> Api:
    settings = sqlite_settings(data_dir, mail_transport="memory", public_base_url="http://testserver", **over)
    api = Api(settings)
    folder = Path(settings.data_dir) / "procs"
    folder.mkdir(exist_ok=True)
    (folder / "signers.yaml").write_text(PROCEDURE.format(signers=signers), encoding="utf-8")
    async with api.db.tenant(DEMO_LG_CODE) as session:
        await services.import_procedures(session, DEMO_LG_CODE, folder=folder)
    return api


@pytest.fixture
async def individual_only(data_dir):
    api = await _api(data_dir, "individual")
    try:
        yield api
    finally:
        await api.close()


@pytest.fixture
async def everyone(data_dir):
    api = await _api(data_dir, "all")
    try:
        yield api
    finally:
        await api.close()


async def confirmed(api: Api, values: dict[str, str], email: str = "taro@example.jp") -> Resident:
    res = Resident(api)
    await res.start("signers", email)
    r = await res.post_form(values)
    assert r.status_code == 303 and r.headers["location"].endswith("/confirm"), r.text
    return res


async def _status(api: Api, res: Resident) -> str:
    async with api.db.tenant(DEMO_LG_CODE) as session:
        app = await session.get(Application, res.app_id)
        assert app is not None
        return app.status


async def test_individual_only_a_corporation_files_unsigned_a_person_must_sign(individual_only):
    api = individual_only
    company = await confirmed(api, COMPANY, "soumu@example.co.jp")
    page = await company.http.get(company.app_url + "/confirm")
    assert "<li>署名</li>" not in page.text and "電子署名に進む" not in page.text
    assert "法人としての申請には電子署名は要りません" in page.text
    # The 署名 step is not offered to it (the page leads back to the application).
    r = await company.http.get(company.app_url + "/sign")
    assert r.status_code == 303 and not r.headers["location"].endswith("/sign")
    r = await company.http.post(company.app_url + "/sign/start", data={"csrf": company.csrf})
    assert r.status_code == 409
    r = await company.http.post(company.app_url + "/submit", data={"csrf": company.csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=1")
    assert await _status(api, company) == "submitted"

    # The same procedure asks a person to sign: no submission without it.
    person = await confirmed(api, PERSON)
    page = await person.http.get(person.app_url + "/confirm")
    assert "<li>署名</li>" in page.text and "電子署名に進む" in page.text
    r = await person.http.post(person.app_url + "/submit", data={"csrf": person.csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("/sign")
    assert await _status(api, person) == "draft"
    # No signing attempt was made for either.
    async with api.db.tenant(DEMO_LG_CODE) as session:
        assert (await session.execute(sa.select(ApplicationSignature))).first() is None

    http, _ = await staff(api)
    r = await http.get(f"/console/applications/{company.app_id}")
    assert "法人の申請: この手続きは電子署名を個人の申請だけに求めるため、署名はありません。" in r.text
    # The guide page says whom the signature is asked of.
    r = await person.http.get(f"/portal/{DEMO_LG_CODE}/procedures/signers")
    assert "署名が必要なのは個人の申請だけです" in r.text


async def test_all_a_corporation_signs_through_its_representative(everyone):
    api = everyone
    company = await confirmed(api, COMPANY, "soumu@example.co.jp")
    page = await company.http.get(company.app_url + "/confirm")
    assert "<li>署名</li>" in page.text
    r = await company.http.post(company.app_url + "/submit", data={"csrf": company.csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("/sign")
    page = await company.http.get(company.app_url + "/sign")
    assert (
        "法人としての申請です" in page.text
        and "代表者または担当者の方が、ご本人のマイナンバーカード" in page.text
    )
    # The sandbox app signs with a person's certificate (the 担当者's 4情報).
    r = await company.http.post(company.app_url + "/sign/start", data={"csrf": company.csrf})
    tx_page = await company.http.get(r.headers["location"])
    tx = re.search(r'name="tx" value="([^"]+)"', tx_page.text).group(1)  # type: ignore[union-attr]
    form = {
        "csrf": company.csrf,
        "tx": tx,
        "name": "担当 次郎",
        "birth_date": "1975-05-05",
        "gender": "1",
        "address": "茨城県つくば市",
    }
    r = await company.http.post(company.app_url + "/sign/sandbox", data=form)
    r = await company.http.get(r.headers["location"])
    text = (await company.http.get(company.app_url + "/sign")).text
    assert "電子署名を確認しました" in text and "（法人の代表者または担当者）" in text and "担当 次郎" in text
    r = await company.http.post(company.app_url + "/submit", data={"csrf": company.csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=1")
    http, _ = await staff(api)
    r = await http.get(f"/console/applications/{company.app_id}")
    assert "法人の申請: 署名者は申請の手続きをした代表者または担当者です" in r.text
    assert "署名者（代表者または担当者）の氏名" in r.text and "担当 次郎" in r.text
    assert "不一致" not in r.text  # the 法人's 名称 is not compared with the signer's 氏名
    r = await company.http.get(f"/portal/{DEMO_LG_CODE}/procedures/signers")
    assert "代表者または担当者が、ご本人のマイナンバーカードで署名します" in r.text


async def test_builder_keeps_the_choice_and_checks_it(everyone):
    from tests.server.eforms.builder_helpers import form_of

    http, _ = await staff(everyone)
    async with everyone.db.tenant(DEMO_LG_CODE) as session:
        proc = (await session.execute(sa.select(Procedure).where(Procedure.slug == "signers"))).scalar_one()
    url = f"/console/procedures/{proc.id}/edit"
    r = await http.get(url)
    assert r.status_code == 200 and 'id="jpki_signers-all" name="jpki_signers" value="all" checked' in r.text
    data = form_of(r.text)
    # 法人 only, asking 個人 only: refused at the field with everything kept.
    bad = {**data, "applicant_types": ["corporation"], "jpki_signers": "individual"}
    bad["fields.0.options"] = "corporation:法人"
    r = await http.post(url, data={**bad, "action": "save"})
    assert r.status_code == 422 and "申請者の属性に「個人」を含めてください" in r.text
    assert 'value="株式会社しもつま"' not in r.text  # (nothing of an application leaks here)
    r = await http.post(url, data={**data, "jpki_signers": "individual", "action": "save"})
    assert r.status_code == 303, r.text[:2000]
    async with everyone.db.tenant(DEMO_LG_CODE) as session:
        saved = (await session.get(Procedure, proc.id)).draft_definition  # type: ignore[union-attr]
    assert saved["jpki_required"] is True and saved["jpki_signers"] == "individual"
    # Back to every applicant, then a tampered value: it falls back to the default.
    r = await http.post(url, data={**data, "jpki_signers": "all", "action": "save"})
    assert r.status_code == 303
    async with everyone.db.tenant(DEMO_LG_CODE) as session:
        assert (await session.get(Procedure, proc.id)).draft_definition["jpki_signers"] == "all"  # type: ignore[union-attr]
    r = await http.post(url, data={**data, "jpki_signers": "<script>", "action": "save"})
    assert r.status_code == 303
    async with everyone.db.tenant(DEMO_LG_CODE) as session:
        saved = (await session.get(Procedure, proc.id)).draft_definition  # type: ignore[union-attr]
    assert saved["jpki_signers"] == "individual"


async def test_pending_attempts_are_swept_and_a_late_answer_can_start_again(data_dir):
    api = await _api(data_dir, "individual", jpki_app_transaction_minutes=10)
    try:
        person = await confirmed(api, PERSON)
        r = await person.http.post(person.app_url + "/sign/start", data={"csrf": person.csrf})
        assert r.status_code == 303 and "portal_signing" in r.headers.get("set-cookie", "")
        tx = re.search(r"tx=([^&]+)", r.headers["location"]).group(1)  # type: ignore[union-attr]
        async with api.db.tenant(DEMO_LG_CODE) as session:
            (sig,) = (await session.execute(sa.select(ApplicationSignature))).scalars().all()
            assert sig.state == "pending" and sig.transaction == tx
            started = sig.created_at if sig.created_at.tzinfo else sig.created_at.replace(tzinfo=UTC)
        store = blob_store(api.app.state)
        settings = api.settings.model_copy(
            update={"schedule_backup_enabled": False, "schedule_report_enabled": False}
        )
        # Nine minutes on: still open, the hour's run deletes nothing (and the hour is done).
        [run] = await scheduler.tick(api.db, settings, store, started + timedelta(minutes=9))
        assert run.job == "signing_sweep" and run.status == "success" and "なし" in run.message
        # A later hour: the attempt is older than 10 minutes and goes, audited by the system.
        later = started.replace(minute=10, second=0, microsecond=0) + timedelta(hours=3)
        [run] = await scheduler.tick(api.db, settings, store, later)
        assert run.status == "success" and f"{DEMO_LG_CODE} 1 件" in run.message
        assert await scheduler.tick(api.db, settings, store, later + timedelta(minutes=30)) == []
        async with api.db.tenant(DEMO_LG_CODE) as session:
            assert (await session.execute(sa.select(ApplicationSignature))).first() is None
            event = (
                await session.execute(
                    sa.select(AuditEvent).where(AuditEvent.action == "application_sign_expire_success")
                )
            ).scalar_one()
            assert event.username == "system" and event.object_id == str(person.app_id)
            assert event.details["attempt"] == str(sig.id) and event.details["minutes"] == 10
        # The answer comes back late, to the application's return URL: a Japanese 404 with the
        # way back to its 署名 page, and nothing signed.
        r = await person.http.get(person.app_url + f"/sign/return?tx={tx}")
        assert r.status_code == 404 and "受付時間が過ぎたか、すでに終わった署名です" in r.text
        assert f'href="{person.app_url}/sign"' in r.text and "もう一度署名する" in r.text
        # …or to the one registered address: the browser's cookie names the application.
        r = await person.http.get(f"/portal/{DEMO_LG_CODE}/sign/return?state={tx}&code=late")
        assert r.status_code == 404 and f'href="{person.app_url}/sign"' in r.text
        stranger = api.client("203.0.113.9")
        r = await stranger.get(f"/portal/{DEMO_LG_CODE}/sign/return?state={tx}&code=late")
        assert r.status_code == 404 and "もう一度署名する" not in r.text and "受付時間が過ぎたか" in r.text
        # Starting again works and signs.
        page = await person.http.get(person.app_url + "/sign")
        assert page.status_code == 200 and "署名する" in page.text
        text = await sandbox_sign(person)
        assert "電子署名を確認しました" in text
        async with api.db.tenant(DEMO_LG_CODE) as session:
            states = (await session.execute(sa.select(ApplicationSignature.state))).scalars().all()
            assert states == ["valid"]
        # A finished (valid) signature is never swept, however old.
        [run] = await scheduler.tick(api.db, settings, store, datetime.now(UTC) + timedelta(days=30))
        assert "なし" in run.message
        async with api.db.tenant(DEMO_LG_CODE) as session:
            assert (await session.execute(sa.select(ApplicationSignature.state))).scalars().all() == ["valid"]
    finally:
        await api.close()
