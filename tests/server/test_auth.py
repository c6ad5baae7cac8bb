"""Authentication and authorisation: passwords, lockout, TOTP, tokens, permissions, networks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pyotp
import sqlalchemy as sa

from server.crypto import load_key_ring
from server.db.models import AuditEvent, AuthSession
from server.domain.accounts import services
from shared.permissions import Permission
from tests.conftest import DEMO_CLERK, DEMO_LG_CODE
from tests.server.conftest import OUTSIDE_IP, Api, reception_body


async def _add_user(
    api: Api, username: str, permissions: list[Permission], *, totp: bool = False
) -> str | None:
    keys = load_key_ring(api.settings.key_path)
    async with api.db.tenant(DEMO_LG_CODE) as session:
        group_name = f"g-{username}"
        await services.create_group(session, DEMO_LG_CODE, group_name, [p.value for p in permissions])
        _user, uri = await services.create_user(
            session,
            keys,
            lg_code=DEMO_LG_CODE,
            username=username,
            display_name=username,
            password="password-123",
            groups=[group_name],
            totp=totp,
        )
    return pyotp.parse_uri(uri).secret if uri else None


def _wrong_code(secret: str) -> str:
    """A six-digit code that is not valid now nor in the neighbouring time steps."""
    totp = pyotp.TOTP(secret)
    now = datetime.now(UTC).timestamp()
    near = {totp.at(now + d) for d in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in near)


async def _actions(api: Api) -> list[str]:
    async with api.db.tenant(DEMO_LG_CODE) as session:
        return list((await session.execute(sa.select(AuditEvent.action).order_by(AuditEvent.seq))).scalars())


async def test_wrong_password(api: Api) -> None:
    """A wrong password answers 401 auth.failed in Japanese and is audited as a failure."""
    r = await api.login(DEMO_CLERK[0], "wrong-password")
    assert r.status_code == 401
    assert r.json()["code"] == "auth.failed"
    assert "パスワード" in r.json()["message"]
    assert (await _actions(api))[-1] == "auth_login_failure"


async def test_unknown_user_and_municipality(api: Api) -> None:
    """Unknown users and unknown municipalities get the same 401 as a wrong password."""
    assert (await api.login("nobody", "x")).json()["code"] == "auth.failed"
    assert (await api.login("demo", "madoguchi-demo", lg_code="131016")).json()["code"] == "auth.failed"


async def test_lockout(api: Api) -> None:
    """After the threshold of failures the account is locked, even for the right password."""
    for _ in range(api.settings.lockout_threshold - 1):
        assert (await api.login(DEMO_CLERK[0], "bad")).status_code == 401
    r = await api.login(DEMO_CLERK[0], "bad")
    assert r.status_code == 423
    assert r.json()["code"] == "auth.locked"
    assert "ロック" in r.json()["message"]
    r = await api.login(*DEMO_CLERK)
    assert r.status_code == 423


async def test_totp_required_invalid_valid(api: Api) -> None:
    """A TOTP user needs a code: none → totp_required, wrong → totp_invalid, right → token."""
    secret = await _add_user(api, "totp-user", [Permission.reception_read], totp=True)
    assert secret
    r = await api.login("totp-user", "password-123")
    assert (r.status_code, r.json()["code"]) == (401, "auth.totp_required")
    r = await api.login(
        "totp-user", "password-123", totp_code="000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    )
    assert (r.status_code, r.json()["code"]) == (401, "auth.totp_invalid")
    r = await api.login("totp-user", "password-123", totp_code=pyotp.TOTP(secret).now())
    assert r.status_code == 200, r.text


async def test_totp_secret_encrypted(api: Api) -> None:
    """The TOTP secret is stored encrypted, not in base32 clear text."""
    secret = await _add_user(api, "totp-enc", [], totp=True)
    async with api.db.unbound() as session:
        raw = (
            await session.execute(sa.text("SELECT totp_secret FROM users WHERE username='totp-enc'"))
        ).scalar()
    assert secret and secret.encode() not in bytes(raw)


async def test_no_token_and_bad_token(api: Api) -> None:
    """Without or with a made-up token a protected route answers 401 in Japanese."""
    r = await api.http.get("/api/v1/auth/me")
    assert (r.status_code, r.json()["code"]) == (401, "auth.required")
    r = await api.http.get("/api/v1/auth/me", headers={"Authorization": "Bearer 082104.nonsense"})
    assert r.status_code == 401
    r = await api.http.get("/api/v1/auth/me", headers={"Authorization": "Bearer garbage"})
    assert r.status_code == 401


async def test_expired_token(api: Api) -> None:
    """A token past its expiry answers 401 auth.expired."""
    headers = await api.headers()
    async with api.db.tenant(DEMO_LG_CODE) as session:
        await session.execute(
            sa.update(AuthSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    r = await api.http.get("/api/v1/auth/me", headers=headers)
    assert (r.status_code, r.json()["code"]) == (401, "auth.expired")


async def test_logout_revokes(api: Api) -> None:
    """After logout the same token answers 401 auth.revoked; logout is audited."""
    headers = await api.headers()
    assert (await api.http.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    r = await api.http.get("/api/v1/auth/me", headers=headers)
    assert (r.status_code, r.json()["code"]) == (401, "auth.revoked")
    assert "auth_logout_success" in await _actions(api)


async def test_token_only_hashed(api: Api) -> None:
    """The database holds only the SHA-256 of the token, never the token."""
    token = await api.token()
    async with api.db.unbound() as session:
        hashes = (await session.execute(sa.text("SELECT token_hash FROM auth_sessions"))).scalars().all()
    assert token not in hashes
    assert services.hash_token(token) in hashes


async def test_missing_permission_403_no_data(api: Api) -> None:
    """A user without reception.read gets 403 with only code and message; the refusal is audited."""
    await _add_user(api, "no-read", [Permission.reception_create])
    creator = await api.headers()
    created = (await api.http.post("/api/v1/receptions", json=reception_body(), headers=creator)).json()
    headers = await api.headers("no-read", "password-123")
    r = await api.http.get(f"/api/v1/receptions/{created['id']}", headers=headers)
    assert r.status_code == 403
    assert set(r.json()) == {"code", "message"}
    assert r.json()["code"] == "permission.denied"
    assert "permission_check_denied" in await _actions(api)


async def test_outside_network_refused(api: Api) -> None:
    """From outside LGWAN, a login is refused without allow-list, and without TOTP even if allowed."""
    outside = api.client(OUTSIDE_IP)
    r = await api.login(*DEMO_CLERK, client=outside)
    assert (r.status_code, r.json()["code"]) == (403, "auth.network_denied")
    async with api.db.tenant(DEMO_LG_CODE) as session:
        await services.allow_network(session, DEMO_LG_CODE, "203.0.113.0/24")
    r = await api.login(*DEMO_CLERK, client=outside)
    assert (r.status_code, r.json()["code"]) == (403, "auth.network_denied")
    secret = await _add_user(api, "remote", [Permission.reception_read], totp=True)
    assert secret
    r = await api.login("remote", "password-123", client=outside, totp_code=pyotp.TOTP(secret).now())
    assert r.status_code == 200, r.text


async def test_forwarded_for_only_from_trusted_proxy(make_api: Callable[..., Api]) -> None:
    """X-Forwarded-For counts only when the peer is a trusted proxy."""
    api = make_api(trusted_proxies=["127.0.0.0/8"], lgwan_networks=["10.0.0.0/8"])
    try:
        proxied = api.client("127.0.0.1", headers={"X-Forwarded-For": "10.1.2.3"})
        assert (await api.login(*DEMO_CLERK, client=proxied)).status_code == 200
        spoofed = api.client(OUTSIDE_IP, headers={"X-Forwarded-For": "10.1.2.3"})
        assert (await api.login(*DEMO_CLERK, client=spoofed)).status_code == 403
    finally:
        await api.close()


async def test_totp_code_used_once(api: Api) -> None:
    """The same TOTP code cannot log in twice (replay)."""
    secret = await _add_user(api, "totp-once", [Permission.reception_read], totp=True)
    assert secret
    code = pyotp.TOTP(secret).now()
    assert (await api.login("totp-once", "password-123", totp_code=code)).status_code == 200
    r = await api.login("totp-once", "password-123", totp_code=code)
    assert (r.status_code, r.json()["code"]) == (401, "auth.totp_invalid")


async def test_token_refused_from_outside(api: Api) -> None:
    """A token obtained inside LGWAN is refused when used from an outside address."""
    headers = await api.headers()
    r = await api.client(OUTSIDE_IP).get("/api/v1/auth/me", headers=headers)
    assert (r.status_code, r.json()["code"]) == (403, "auth.network_denied")
