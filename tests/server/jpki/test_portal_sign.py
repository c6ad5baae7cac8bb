"""The 署名 step of the portal, end to end over HTTP without JavaScript (sandbox signing app and
an uploaded .p7s), and the staff console showing the signer's 基本4情報."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.db.models import Application, ApplicationSignature, AuditEvent
from server.domain.eforms import services
from server.plugins.jpki import testpki as T
from tests.conftest import DEMO_LG_CODE
from tests.server.conftest import Api, sqlite_settings
from tests.server.eforms.conftest import Resident, deliver
from tests.server.eforms.test_console import staff
from tests.server.jpki.conftest import PROCEDURE, TARO, VALUES, _api


async def confirmed(api) -> Resident:
    res = Resident(api)
    await res.start("jpki-test")
    r = await res.post_form(VALUES)
    assert r.status_code == 303 and r.headers["location"].endswith("/confirm"), r.text
    return res


async def sandbox_sign(res: Resident, **choice: str) -> str:
    """Press 署名する, fill the sandbox "app" page, come back; the 署名 page's text."""
    r = await res.http.post(res.app_url + "/sign/start", data={"csrf": res.csrf})
    assert r.status_code == 303 and "/sign/sandbox?tx=" in r.headers["location"]
    page = await res.http.get(r.headers["location"])
    assert page.status_code == 200 and "テスト用署名アプリ" in page.text
    assert 'value="下妻 太郎"' in page.text  # prefilled from the application
    tx = re.search(r'name="tx" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    form = {"csrf": res.csrf, "tx": tx, "gender": "1", **VALUES, **choice}
    r = await res.http.post(res.app_url + "/sign/sandbox", data=form)
    assert r.status_code == 303 and "/sign/return?tx=" in r.headers["location"]
    r = await res.http.get(r.headers["location"])
    assert r.status_code == 303 and r.headers["location"].endswith("/sign")
    return (await res.http.get(res.app_url + "/sign")).text


async def test_no_submission_without_a_signature_then_sign_and_submit(japi):
    res = await confirmed(japi)
    page = await res.http.get(res.app_url + "/confirm")
    assert "電子署名に進む" in page.text and "<li>署名</li>" in page.text
    # Pressing 申請 without a signature leads to the 署名 step, nothing is submitted.
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("/sign")
    async with japi.db.tenant(DEMO_LG_CODE) as session:
        app = await session.get(Application, res.app_id)
        assert app.status == "draft" and app.reference is None
    text = await sandbox_sign(res)
    assert "電子署名を確認しました" in text and "下妻 太郎" in text and "1980-04-01" in text and "男" in text
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=1")
    status = await res.http.get(r.headers["location"])
    assert "電子署名" in status.text and "確認済み（署名者: 下妻 太郎）" in status.text
    async with japi.db.tenant(DEMO_LG_CODE) as session:
        app = await session.get(Application, res.app_id)
        assert app.status == "submitted"
        sig = (await session.execute(sa.select(ApplicationSignature))).scalar_one()
        assert sig.state == "valid" and sig.four_info["address"] == VALUES["address"]
        assert "revocation:crl" in sig.result["checks"]
        actions = (await session.execute(sa.select(AuditEvent.action))).scalars().all()
        assert "application_sign_success" in actions
    await deliver(japi)
    # The staff console shows the signer's 4情報 and the verification result.
    http, _ = await staff(japi)
    r = await http.get(f"/console/applications/{res.app_id}")
    assert r.status_code == 200
    assert (
        "電子署名（公的個人認証）" in r.text
        and "有効" in r.text
        and "茨城県下妻市本城町二丁目22番地" in r.text
    )
    assert "失効（CRL）" in r.text and sig.content_sha256 in r.text
    assert "入力内容と証明書の基本4情報の照合" in r.text and "不一致" not in r.text


async def test_console_flags_a_signer_whose_4info_differs_from_the_form(japi):
    res = await confirmed(japi)
    text = await sandbox_sign(res, address="東京都千代田区霞が関三丁目1番1号")
    assert "電子署名を確認しました" in text  # a difference is shown to staff, not refused
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    assert r.headers["location"].endswith("?done=1")
    http, _ = await staff(japi)
    page = (await http.get(f"/console/applications/{res.app_id}")).text
    assert page.count("<strong>不一致</strong>") == 1 and "東京都千代田区霞が関三丁目1番1号" in page


async def test_revoked_and_expired_test_certificates_are_refused_with_japanese_messages(japi):
    res = await confirmed(japi)
    text = await sandbox_sign(res, variant="revoked")
    assert "電子署名を確認できませんでした" in text and "失効しています" in text
    text = await sandbox_sign(res, variant="expired")
    assert "有効期限が切れています" in text
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    assert r.headers["location"].endswith("/sign")
    async with japi.db.tenant(DEMO_LG_CODE) as session:
        states = (await session.execute(sa.select(ApplicationSignature.state))).scalars().all()
        assert sorted(states) == ["rejected", "rejected"]
        app = await session.get(Application, res.app_id)
        assert app.status == "draft"
        failures = (
            (
                await session.execute(
                    sa.select(AuditEvent).where(AuditEvent.action == "application_sign_failure")
                )
            )
            .scalars()
            .all()
        )
        assert len(failures) == 2


async def test_changing_the_application_after_signing_needs_a_new_signature(japi):
    res = await confirmed(japi)
    assert "電子署名を確認しました" in await sandbox_sign(res)
    r = await res.post_form({**VALUES, "address": "茨城県下妻市下妻乙124"})
    assert r.status_code == 303
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    assert r.headers["location"].endswith("/sign")  # the old signature no longer covers the data
    page = await res.http.get(res.app_url + "/sign")
    assert "電子署名を確認しました" not in page.text


async def test_service_refuses_submission_without_signature(japi):
    """Defence in depth: the service itself refuses, whatever the route does."""
    res = await confirmed(japi)
    async with japi.db.tenant(DEMO_LG_CODE) as session:
        app = await session.get(Application, res.app_id)
        row = await session.get(services.Procedure, app.procedure_id)
        with pytest.raises(services.Conflict) as info:
            await services.submit(session, japi.settings, app, row)
        assert info.value.error_code == "jpki.signature_required"


async def test_uploaded_p7s_over_the_downloaded_data(data_dir, pki):
    """Without a phone: download the canonical data, sign on a PC, upload the .p7s."""
    (data_dir / "ca.pem").write_bytes(pki.root.pem)
    (data_dir / "crls").mkdir()
    for i, crl in enumerate(pki.crls()):
        (data_dir / "crls" / f"{i}.crl").write_bytes(crl)
    settings = sqlite_settings(
        data_dir,
        mail_transport="memory",
        public_base_url="http://testserver",
        jpki_signing_app="digital_auth_app",  # not configured: only the upload path works
        jpki_trust_anchors=[data_dir / "ca.pem"],
        jpki_crl_files=[data_dir / "crls"],
    )
    api = await _api(settings)
    try:
        res = await confirmed(api)
        r = await res.http.post(res.app_url + "/sign/start", data={"csrf": res.csrf})
        assert r.status_code == 503 and "デジタル認証アプリとの連携は設定されていません" in r.text
        data = (await res.http.get(res.app_url + "/sign/data")).content
        assert data.startswith(b'{"application":') and "下妻 太郎".encode() in data
        for signer, expected in [
            (pki.revoked, "失効しています"),
            (pki.other_signer, "信頼できる認証局"),
            (pki.signer, "電子署名を確認しました"),
        ]:
            p7s = T.sign_detached(data, signer, [pki.intermediate.cert])
            r = await res.http.post(
                res.app_url + "/sign/upload",
                data={"csrf": res.csrf},
                files={"signature": ("application.p7s", p7s, "application/pkcs7-signature")},
            )
            assert r.status_code == 303
            page = await res.http.get(res.app_url + "/sign")
            assert expected in page.text
        assert TARO.name in page.text
        # Garbage and oversized uploads get a message and lose nothing.
        r = await res.http.post(
            res.app_url + "/sign/upload",
            data={"csrf": res.csrf},
            files={"signature": ("x.p7s", b"\x00garbage", "application/octet-stream")},
        )
        page = await res.http.get(res.app_url + "/sign")
        assert "電子署名を確認しました" in page.text  # the valid signature still covers the data
        r = await res.http.post(
            res.app_url + "/sign/upload",
            data={"csrf": res.csrf},
            files={"signature": ("x.p7s", b"0" * 200_000, "application/octet-stream")},
        )
        assert r.status_code == 413 and "大きすぎます" in r.text
        r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
        assert r.headers["location"].endswith("?done=1")
    finally:
        await api.close()


async def test_hostile_and_stale_requests_get_japanese_answers(japi):
    res = await confirmed(japi)
    # No CSRF token: refused, nothing opened.
    r = await res.http.post(res.app_url + "/sign/start", data={})
    assert r.status_code == 403 and "有効期限が切れました" in r.text
    # A made-up transaction on the return URL or the sandbox page.
    r = await res.http.get(res.app_url + "/sign/return", params={"tx": "nope"})
    assert r.status_code == 404 and "署名の手続きが見つかりません" in r.text
    r = await res.http.get(res.app_url + "/sign/sandbox", params={"tx": "nope"})
    assert r.status_code == 404 and "署名の手続きが見つかりません" in r.text
    r = await res.http.post(res.app_url + "/sign/sandbox", data={"csrf": res.csrf, "tx": "x" * 5000})
    assert r.status_code == 503 and "やり直してください" in r.text
    # Another browser without the application's cookie sees nothing.
    stranger = japi.client("203.0.113.50")
    r = await stranger.get(res.app_url + "/sign")
    assert r.status_code == 404
    r = await stranger.get(res.app_url + "/sign/data")
    assert r.status_code == 404
    # A transaction is used once: replaying the return URL does not sign twice.
    r = await res.http.post(res.app_url + "/sign/start", data={"csrf": res.csrf})
    page = await res.http.get(r.headers["location"])
    tx = re.search(r'name="tx" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = await res.http.post(
        res.app_url + "/sign/sandbox", data={"csrf": res.csrf, "tx": tx, "gender": "9", **VALUES}
    )
    back = r.headers["location"]
    assert (await res.http.get(back)).status_code == 303
    r = await res.http.get(back)
    assert r.status_code == 404
    async with japi.db.tenant(DEMO_LG_CODE) as session:
        sig = (await session.execute(sa.select(ApplicationSignature))).scalar_one()
        assert sig.state == "valid" and sig.four_info["gender_label"] == "その他"  # bad code → 3
    # An incomplete application is not signed: back to the confirmation page (which shows the gaps).
    r = await res.post_form({**VALUES, "address": ""}, action="save")  # 一時保存 renews the secret
    res.csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', r.text).group(1)  # type: ignore[union-attr]
    r = await res.http.get(res.app_url + "/sign")
    assert r.status_code == 303 and r.headers["location"].endswith("/confirm")
    r = await res.http.post(res.app_url + "/sign/start", data={"csrf": res.csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("/confirm")
    # A procedure without jpki_required has no 署名 step.
    other = Resident(japi)
    await other.start("juminhyo")
    r = await other.http.get(other.app_url + "/sign")
    assert r.status_code == 303 and r.headers["location"].endswith(str(other.app_id))


async def test_changed_attached_file_is_never_signed_and_is_audited(data_dir):
    """The data to sign covers each file's SHA-256; a file whose stored bytes changed stops signing."""
    from server.db.models import ApplicationFile
    from tests.server.eforms.conftest import PDF

    settings = sqlite_settings(data_dir, mail_transport="memory", public_base_url="http://testserver")
    folder = Path(data_dir) / "procs"
    folder.mkdir(exist_ok=True)
    with_file = PROCEDURE.replace("slug: jpki-test", "slug: jpki-file") + (
        "  - {name: id_document, label: 本人確認書類, type: file, required: true}\n"
    )
    (folder / "jpki-file.yaml").write_text(with_file, encoding="utf-8")
    api = Api(settings)
    try:
        async with api.db.tenant(DEMO_LG_CODE) as session:
            await services.import_procedures(session, DEMO_LG_CODE, folder=folder)
        res = Resident(api)
        await res.start("jpki-file")
        r = await res.post_form(VALUES, files={"id_document": ("id.pdf", PDF, "application/pdf")})
        assert r.status_code == 303, r.text
        assert (await res.http.get(res.app_url + "/sign/data")).status_code == 200
        async with api.db.tenant(DEMO_LG_CODE) as session:
            key = (await session.execute(sa.select(ApplicationFile.blob_key))).scalar_one()
        (settings.blob_path / key).write_bytes(PDF + b"%changed")
        r = await res.http.get(res.app_url + "/sign/data")
        assert r.status_code == 500 and "改ざん" in r.text
        r = await res.http.post(res.app_url + "/sign/start", data={"csrf": res.csrf})
        assert r.status_code == 500 and "改ざん" in r.text
        async with api.db.tenant(DEMO_LG_CODE) as session:
            actions = (await session.execute(sa.select(AuditEvent.action))).scalars().all()
            assert actions.count("attachment_read_failure") == 2
            assert (await session.execute(sa.select(ApplicationSignature))).first() is None
    finally:
        await api.close()
