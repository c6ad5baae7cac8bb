"""The staff member's own password change at /console/account/password: current password
required (wrong ones count toward the lockout), the staff rules, the other sessions end, TOTP
stays, one audit event per attempt, CSRF."""

from __future__ import annotations

import re

import sqlalchemy as sa

from server.db.models import AuditEvent, User
from tests.conftest import DEMO_LG_CODE
from tests.server.eforms.builder_helpers import PASSWORD, console, make_staff

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
NEW = "あたらしい-Passw0rd"


async def _page(http):
    r = await http.get("/console/account")
    assert r.status_code == 200, r.text
    return r, CSRF.search(r.text).group(1)


async def _events(eapi, action):
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        rows = await s.execute(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        )
        return list(rows.scalars())


async def _change(http, csrf, current, new, again=None):
    return await http.post(
        "/console/account/password",
        data={"csrf": csrf, "current_password": current, "new_password": new, "new_password2": again or new},
    )


async def test_change_own_password_ends_other_sessions_and_keeps_totp(eapi):
    await make_staff(eapi, "suzuki", ["eform.review"])
    other, _ = await console(eapi, "suzuki")
    here, _ = await console(eapi, "suzuki")
    r, csrf = await _page(here)
    assert "パスワードの変更" in r.text and 'autocomplete="current-password"' in r.text

    r = await _change(here, csrf, PASSWORD, NEW)
    assert r.status_code == 303 and r.headers["location"].endswith("notice=password")
    r = await here.get("/console/account?notice=password")
    assert r.status_code == 200 and "パスワードを変更しました" in r.text
    # The other browser is logged out at its next request; this one goes on.
    assert (await other.get("/console/account")).status_code == 303
    assert (await here.get("/console/account")).status_code == 200
    # Old password refused, new one works.
    fresh = eapi.client("127.0.0.1")
    r = await fresh.post(
        "/console/login", data={"lg_code": DEMO_LG_CODE, "username": "suzuki", "password": PASSWORD}
    )
    assert r.status_code != 303
    await console(eapi, "suzuki", NEW)
    [event] = await _events(eapi, "user_password_change_success")
    assert event.details == {"sessions_ended": 1}
    assert NEW not in str(event.details) and PASSWORD not in str(event.details)


async def test_totp_secret_is_not_touched(eapi):
    await make_staff(eapi, "tanaka", ["eform.review"])
    http, _ = await console(eapi, "tanaka")
    _, csrf = await _page(http)
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        user = (await s.execute(sa.select(User).where(User.username == "tanaka"))).scalar_one()
        user.totp_secret, user.totp_key_id = b"sealed-secret", "k1"
    r = await _change(http, csrf, PASSWORD, NEW)
    assert r.status_code == 303
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        user = (await s.execute(sa.select(User).where(User.username == "tanaka"))).scalar_one()
        assert (user.totp_secret, user.totp_key_id) == (b"sealed-secret", "k1")


async def test_wrong_current_password_weak_and_hostile_input_are_refused_in_japanese(eapi):
    await make_staff(eapi, "sato", ["eform.review"])
    http, _ = await console(eapi, "sato")
    _, csrf = await _page(http)
    cases = [
        ("", NEW, NEW, "current_password", "今のパスワードを入力してください"),
        ("wrong-password", NEW, NEW, "current_password", "今のパスワードが正しくありません"),
        (PASSWORD, "short", "short", "new_password", "8文字以上"),
        (PASSWORD, "x" * 129, "x" * 129, "new_password", "128文字以内"),
        (PASSWORD, "SATO-is-me-2026", "SATO-is-me-2026", "new_password", "ログインIDを含む"),
        (PASSWORD, " spaced-password ", " spaced-password ", "new_password", "空白"),
        (PASSWORD, NEW, NEW + "x", "new_password2", "一致しません"),
        (PASSWORD, PASSWORD, PASSWORD, "new_password", "今と同じパスワード"),
        (
            PASSWORD,
            "<script>alert(1)</script>",
            "<script>alert(1)</script>x",
            "new_password2",
            "一致しません",
        ),
    ]
    for current, new, again, key, message in cases:
        r = await _change(http, csrf, current, new, again)
        assert r.status_code == 422, (key, r.text)
        assert message in r.text, message
        assert f'id="{key}-error"' in r.text and 'aria-invalid="true"' in r.text
        assert "<script>alert" not in r.text  # never typed back
        assert new not in r.text or new in ("short",)
    failures = await _events(eapi, "user_password_change_failure")
    assert len(failures) == len(cases)
    assert {f.details["reason"] for f in failures} >= {"current_missing", "current_password", "rules"}
    # Still the old password.
    await console(eapi, "sato")


async def test_wrong_current_passwords_lock_like_a_login(eapi):
    await make_staff(eapi, "ito", ["eform.review"])
    http, _ = await console(eapi, "ito")
    _, csrf = await _page(http)
    for _ in range(eapi.settings.lockout_threshold):
        r = await _change(http, csrf, "not-my-password", NEW)
        assert r.status_code == 422
    assert "しばらく変更できません" in r.text
    # Even the right password is refused while locked.
    r = await _change(http, csrf, PASSWORD, NEW)
    assert r.status_code == 422 and "しばらく変更できません" in r.text
    reasons = [e.details["reason"] for e in await _events(eapi, "user_password_change_failure")]
    assert reasons[-2:] == ["locked", "locked"]


async def test_csrf_and_login_needed(eapi):
    await make_staff(eapi, "kato", ["eform.review"])
    http, _ = await console(eapi, "kato")
    r = await _change(http, "0" * 64, PASSWORD, NEW)
    assert r.status_code == 403
    anonymous = eapi.client("127.0.0.1")
    r = await anonymous.post(
        "/console/account/password",
        data={"current_password": PASSWORD, "new_password": NEW, "new_password2": NEW},
    )
    assert r.status_code in (303, 401, 403)
    await console(eapi, "kato")  # unchanged
