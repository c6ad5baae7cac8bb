"""The ``digital_auth_app`` adapter against a local stand-in of the デジタル認証アプリ サービスAPI
(``emulator.py``): the resident's whole round trip through the portal, and every way it can fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from joserfc.jwk import RSAKey

from server.db.models import Application, ApplicationSignature, AuditEvent
from server.plugins.jpki import registry
from tests.conftest import DEMO_LG_CODE
from tests.server.conftest import sqlite_settings
from tests.server.eforms.conftest import Resident
from tests.server.jpki.conftest import VALUES, _api
from tests.server.jpki.emulator import CLIENT_ID, Emulator, serve
from tests.server.jpki.test_portal_sign import confirmed


def _pem(key: RSAKey) -> bytes:
    return key.as_pem(private=True)


@pytest.fixture
def emulator(pki):
    emu = Emulator(
        url="",
        client_key=RSAKey.generate_key(2048),
        jwe_key=RSAKey.generate_key(2048),
        signer=pki.signer,
        chain=[pki.intermediate.cert],
    )
    server, _thread = serve(emu)
    try:
        yield emu
    finally:
        server.shutdown()
        server.server_close()


def _settings(data_dir, pki, emu: Emulator, **extra):
    (data_dir / "ca.pem").write_bytes(pki.root.pem)
    (data_dir / "crls").mkdir(exist_ok=True)
    for i, crl in enumerate(pki.crls()):
        (data_dir / "crls" / f"{i}.crl").write_bytes(crl)
    (data_dir / "client.pem").write_bytes(_pem(emu.client_key))
    (data_dir / "jwe.pem").write_bytes(_pem(emu.jwe_key))
    base = {
        "mail_transport": "memory",
        "public_base_url": "http://testserver",
        "jpki_signing_app": "digital_auth_app",
        "jpki_app_base_url": emu.url,
        "jpki_app_client_id": CLIENT_ID,
        "jpki_app_client_key_file": data_dir / "client.pem",
        "jpki_app_jwe_key_file": data_dir / "jwe.pem",
        "jpki_app_timeout_seconds": 2.0,  # generous: the shared test machine is slow
        "jpki_trust_anchors": [data_dir / "ca.pem"],
        "jpki_crl_files": [data_dir / "crls"],
    }
    return sqlite_settings(data_dir, **{**base, **extra})


@pytest.fixture
async def dapi(data_dir, pki, emulator):
    api = await _api(_settings(data_dir, pki, emulator))
    try:
        yield api
    finally:
        await api.close()


async def round_trip(res: Resident, emu: Emulator) -> httpx.Response:
    """署名する → the app (the emulator's authorization endpoint) → the registered return
    address → the application's return URL → the 署名 page."""
    r = await res.http.post(res.app_url + "/sign/start", data={"csrf": res.csrf})
    assert r.status_code == 303, r.text
    auth = r.headers["location"]
    assert auth.startswith(emu.url + "/api/realms/main/protocol/openid-connect/auth?")
    async with httpx.AsyncClient() as phone:
        back = await phone.get(auth)
    assert back.status_code == 302
    target = back.headers["location"]
    assert target.startswith(f"http://testserver/portal/{DEMO_LG_CODE}/sign/return?")
    r = await res.http.get(target.removeprefix("http://testserver"))
    assert r.status_code == 303 and r.headers["location"].startswith(res.app_url + "/sign/return?"), r.text
    r = await res.http.get(r.headers["location"])
    assert r.status_code == 303 and r.headers["location"].endswith("/sign")
    return await res.http.get(res.app_url + "/sign")


async def _rows(api) -> list[ApplicationSignature]:
    async with api.db.tenant(DEMO_LG_CODE) as session:
        return list(
            (await session.execute(sa.select(ApplicationSignature).order_by(ApplicationSignature.created_at)))
            .scalars()
            .all()
        )


async def _unsigned_and_intact(api, res: Resident) -> None:
    """The failure left the application a draft with its values, and it cannot be submitted."""
    async with api.db.tenant(DEMO_LG_CODE) as session:
        app = await session.get(Application, res.app_id)
        assert app.status == "draft" and app.values["name"] == VALUES["name"]
    assert not [s for s in await _rows(api) if s.state == "valid"]
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    assert r.headers["location"].endswith("/sign")


async def test_round_trip_signs_and_submits(dapi, emulator):
    res = await confirmed(dapi)
    page = await round_trip(res, emulator)
    assert "電子署名を確認しました" in page.text and "下妻 太郎" in page.text, page.text
    (sig,) = await _rows(dapi)
    assert sig.state == "valid" and sig.signing_app == "digital_auth_app" and sig.transaction is None
    assert "pending" not in sig.result  # the PKCE verifier and nonce are gone with the transaction
    assert "revocation:crl" in sig.result["checks"] and sig.four_info["name"] == "下妻 太郎"
    # What the API saw: one client-credentials token, the transaction, the code exchange, the result.
    assert emulator.log.count("POST /api/sign-transactions") == 1
    assert any(line.endswith("/result") for line in emulator.log)
    (tx,) = emulator.transactions.values()
    async with dapi.db.tenant(DEMO_LG_CODE) as session:
        app = await session.get(Application, res.app_id)
        from server.domain.jpki import services as jpki

        row = await session.get(jpki.Procedure, app.procedure_id)
        import hashlib

        assert tx["digest"] == hashlib.sha256(await jpki.canonical_of(session, app, row)).digest()
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    assert r.headers["location"].endswith("?done=1")


async def test_authorization_request_carries_state_nonce_and_pkce(dapi, emulator):
    res = await confirmed(dapi)
    r = await res.http.post(res.app_url + "/sign/start", data={"csrf": res.csrf})
    q = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}
    assert q["redirect_uri"] == f"http://testserver/portal/{DEMO_LG_CODE}/sign/return"
    assert q["code_challenge_method"] == "S256" and len(q["state"]) >= 43 and len(q["nonce"]) >= 43
    (sig,) = await _rows(dapi)
    kept = sig.result["pending"]
    assert sig.transaction == q["state"] and kept["nonce"] == q["nonce"]
    assert q["code_challenge"] != kept["verifier"]  # only the S256 challenge leaves the server


@pytest.mark.parametrize(
    ("mode", "code", "text"),
    [
        ("deny", "jpki.app_denied", "署名が取りやめられました"),
        ("wrong_alg", "jpki.app_result", "署名結果を読み取れませんでした"),
        ("tamper", "jpki.app_result", "署名結果を読み取れませんでした"),
        ("garbage_result", "jpki.app_result", "署名結果を読み取れませんでした"),
        ("other_digest", "jpki.mismatch", "署名が申請内容と一致しません"),
        ("bad_nonce", "jpki.app_state", "この申請の署名手続きと一致しません"),
        ("result_gone", "jpki.app_expired", "署名の受付時間が過ぎました"),
        ("result_500", "jpki.app_unavailable", "署名アプリとの連携ができませんでした"),
        ("slow_result", "jpki.app_unavailable", "署名アプリとの連携ができませんでした"),
        ("huge_result", "jpki.app_unavailable", "署名アプリとの連携ができませんでした"),
    ],
)
async def test_every_failure_has_its_code_and_message_and_leaves_the_application_unsigned(
    dapi, emulator, mode, code, text
):
    res = await confirmed(dapi)
    emulator.mode = mode
    page = await round_trip(res, emulator)
    assert page.status_code == 422 and text in page.text, page.text
    assert "電子署名を確認しました" not in page.text
    heading = (
        "電子署名が完了していません" if code.startswith("jpki.app_") else "電子署名を確認できませんでした"
    )
    assert f"<h2>{heading}</h2>" in page.text
    (sig,) = await _rows(dapi)
    assert sig.state == "rejected" and sig.result["code"] == code and sig.transaction is None
    assert "pending" not in sig.result
    if mode == "wrong_alg":  # refused by the allow-list, before any decryption is tried
        assert "RSA1_5" in sig.result["detail"], sig.result
    async with dapi.db.tenant(DEMO_LG_CODE) as session:
        audit_codes = (
            (
                await session.execute(
                    sa.select(AuditEvent.details).where(AuditEvent.action == "application_sign_failure")
                )
            )
            .scalars()
            .all()
        )
    assert [d["code"] for d in audit_codes] == [code]
    await _unsigned_and_intact(dapi, res)
    # The resident simply tries again, and this time it works.
    emulator.mode = "ok"
    assert "電子署名を確認しました" in (await round_trip(res, emulator)).text


async def test_certificate_from_another_ca_is_refused(data_dir, pki, emulator):
    emulator.signer, emulator.chain = pki.other_signer, [pki.other_root.cert]
    api = await _api(_settings(data_dir, pki, emulator))
    try:
        res = await confirmed(api)
        page = await round_trip(res, emulator)
        assert "信頼できる認証局" in page.text
        (sig,) = await _rows(api)
        assert sig.result["code"] == "jpki.untrusted"
        await _unsigned_and_intact(api, res)
    finally:
        await api.close()


async def test_replayed_and_forged_state_change_nothing(dapi, emulator):
    res = await confirmed(dapi)
    r = await res.http.post(res.app_url + "/sign/start", data={"csrf": res.csrf})
    async with httpx.AsyncClient() as phone:
        back = (await phone.get(r.headers["location"])).headers["location"].removeprefix("http://testserver")
    # A forged state: unknown at the registered address and at the application's return URL.
    forged = back.replace("state=", "state=x")
    r = await res.http.get(forged)
    assert r.status_code == 404 and "署名の手続きが見つかりません" in r.text
    r = await res.http.get(res.app_url + "/sign/return?state=forged&code=abc")
    assert r.status_code == 404
    r = await res.http.get(f"/portal/{DEMO_LG_CODE}/sign/return")
    assert r.status_code == 404
    r = await res.http.get(
        f"/portal/{DEMO_LG_CODE}/sign/return", params={"state": "s" * 20_000, "x" * 500: "1"}
    )
    assert r.status_code == 404 and "署名の手続きが見つかりません" in r.text
    (sig,) = await _rows(dapi)
    assert sig.state == "pending"  # still open: the real answer can still come
    r = await res.http.get(back)
    assert (await res.http.get(r.headers["location"])).status_code == 303
    # The same answer again (a replayed state) finds nothing open and signs nothing twice.
    r = await res.http.get(back)
    assert r.status_code == 404 and "署名の手続きが見つかりません" in r.text
    rows = await _rows(dapi)
    assert [s.state for s in rows] == ["valid"]
    # Another browser holding the state but not the application's cookie gets nowhere.
    r = await res.http.post(res.app_url + "/sign/start", data={"csrf": res.csrf})
    async with httpx.AsyncClient() as phone:
        back = (await phone.get(r.headers["location"])).headers["location"].removeprefix("http://testserver")
    stranger = dapi.client("203.0.113.9")
    hop = await stranger.get(back)
    assert hop.status_code == 303
    assert (await stranger.get(hop.headers["location"])).status_code == 404
    assert [s.state for s in await _rows(dapi)] == ["valid", "pending"]


async def test_another_applications_state_is_unknown_here(dapi, emulator):
    a, b = await confirmed(dapi), await confirmed(dapi)
    r = await b.http.post(b.app_url + "/sign/start", data={"csrf": b.csrf})
    state = parse_qs(urlsplit(r.headers["location"]).query)["state"][0]
    r = await a.http.get(a.app_url + "/sign/return", params={"state": state, "code": "stolen"})
    assert r.status_code == 404 and "署名の手続きが見つかりません" in r.text
    (sig,) = await _rows(dapi)
    assert sig.application_id == b.app_id and sig.state == "pending"  # B's attempt is untouched


async def test_an_attempt_left_open_too_long_expires(dapi, emulator):
    res = await confirmed(dapi)
    r = await res.http.post(res.app_url + "/sign/start", data={"csrf": res.csrf})
    async with httpx.AsyncClient() as phone:
        back = (await phone.get(r.headers["location"])).headers["location"].removeprefix("http://testserver")
    async with dapi.db.tenant(DEMO_LG_CODE) as session:
        await session.execute(
            sa.update(ApplicationSignature).values(created_at=datetime.now(UTC) - timedelta(minutes=11))
        )
    calls = len(emulator.log)
    r = await res.http.get(back)
    r = await res.http.get(r.headers["location"])
    page = await res.http.get(res.app_url + "/sign")
    assert "署名の受付時間が過ぎました" in page.text
    assert len(emulator.log) == calls  # the API was not asked
    (sig,) = await _rows(dapi)
    assert sig.result["code"] == "jpki.app_expired"


async def test_api_down_at_start_stores_nothing(data_dir, pki, emulator, closed_port_url):
    api = await _api(
        _settings(data_dir, pki, emulator, jpki_app_base_url=closed_port_url.removesuffix("/ocsp"))
    )
    try:
        res = await confirmed(api)
        r = await res.http.post(res.app_url + "/sign/start", data={"csrf": res.csrf})
        assert r.status_code == 503 and "署名アプリとの連携ができませんでした" in r.text
        assert await _rows(api) == []
    finally:
        await api.close()
    for mode in ("start_500", "bad_tx_id"):
        emulator.mode = mode
        api = await _api(_settings(data_dir, pki, emulator))
        try:
            res = await confirmed(api)
            r = await res.http.post(res.app_url + "/sign/start", data={"csrf": res.csrf})
            assert r.status_code == 503 and await _rows(api) == [], mode
        finally:
            await api.close()


async def test_client_secret_basic_and_the_check(data_dir, pki, emulator):
    settings = _settings(
        data_dir, pki, emulator, jpki_app_client_key_file=None, jpki_app_client_secret="s3cret"
    )
    app = registry.create("digital_auth_app", settings)
    assert app.check().ok
    api = await _api(settings)
    try:
        res = await confirmed(api)
        assert "電子署名を確認しました" in (await round_trip(res, emulator)).text
    finally:
        await api.close()
    emulator.secret = "changed"  # a wrong secret: the token endpoint says 401 → try again later
    api = await _api(settings)
    try:
        res = await confirmed(api)
        r = await res.http.post(res.app_url + "/sign/start", data={"csrf": res.csrf})
        assert r.status_code == 503
    finally:
        await api.close()
    broken = data_dir / "broken.pem"
    broken.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    bad = registry.create(
        "digital_auth_app", _settings(data_dir, pki, emulator, jpki_app_jwe_key_file=broken)
    )
    assert not bad.check().ok and "鍵ファイル" in bad.check().message
    assert not registry.create("digital_auth_app", sqlite_settings(data_dir)).check().ok
