"""Staff accounts in the console (spec 002 (2)①): issue, edit, disable, TOTP, the address with its
single-use expiring link, the staff member's own page, and the notice of a new application over
real SMTP (aiosmtpd). All names and addresses here are synthetic."""

from __future__ import annotations

import email
import re
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from server.db.models import AuditEvent, OutboxMail, Procedure, User
from server.domain import notifications
from server.domain.accounts import staff as staff_domain
from server.plugins.notifications import open_transport
from tests.conftest import DEMO_CLERK, DEMO_LG_CODE, DEMO_SUPERVISOR
from tests.server.eforms.builder_helpers import console, make_org, make_staff
from tests.server.eforms.conftest import PDF, Resident, body_of, deliver
from tests.server.eforms.test_mail import smtp_server  # noqa: F401

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
LINK = re.compile(r"http://testserver(/console/verify-email\?lg=\d+&token=[\w-]+)")


async def _admin(eapi):
    http, _ = await console(eapi, *DEMO_SUPERVISOR)
    r = await http.get("/console/staff")
    assert r.status_code == 200, r.text
    return http, CSRF.search(r.text).group(1)


async def _user(eapi, username) -> User:
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        return (await s.execute(sa.select(User).where(User.username == username))).scalar_one()


async def _group_id(eapi, name) -> str:
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        from server.db.models import Group

        return str((await s.execute(sa.select(Group.id).where(Group.name == name))).scalar_one())


async def _actions(eapi) -> list[str]:
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        return list((await s.execute(sa.select(AuditEvent.action).order_by(AuditEvent.seq))).scalars())


def _verify_path(mails) -> str:
    for m in reversed(mails):
        found = LINK.search(body_of(m))
        if found:
            return found.group(1)
    raise AssertionError("no confirmation link mailed")


async def test_issue_account_shows_password_once_and_it_logs_in(eapi):
    http, csrf = await _admin(eapi)
    r = await http.get("/console/staff")
    assert "デモ 窓口職員" in r.text and "demo-admin" in r.text and "未登録" in r.text
    counter = await _group_id(eapi, "窓口")
    r = await http.post(
        "/console/staff",
        data={
            "csrf": csrf,
            "username": "yamada.t",
            "display_name": "山田 太郎（合成）",
            "email": "ＹＡＭＡＤＡ@City.Example.LG.JP",
            "groups": [counter],
            "totp": "1",
        },
    )
    assert r.status_code == 200, r.text
    password = re.search(r"初期パスワード</dt><dd><code>(\w+)</code>", r.text).group(1)
    assert len(password) == staff_domain.INITIAL_PASSWORD_LENGTH
    assert "otpauth://totp/" in r.text
    user = await _user(eapi, "yamada.t")
    assert user.email == "YAMADA@city.example.lg.jp"  # NFKC, domain lower-cased, local part kept
    assert user.email_verified_at is None and user.has_totp
    assert password not in user.password_hash
    # The list shows the new account; the password is never shown again.
    r = await http.get("/console/staff")
    assert "山田 太郎（合成）" in r.text and "未確認" in r.text and password not in r.text
    r = await http.get(f"/console/staff/{user.id}")
    assert password not in r.text and "otpauth" not in r.text
    # The confirmation mail went out with the link.
    mails = await deliver(eapi)
    assert mails[-1]["To"] == "YAMADA@city.example.lg.jp"
    assert "yamada.t" in body_of(mails[-1]) and _verify_path(mails)
    # A TOTP user from inside LGWAN still needs the code; without TOTP the password alone works.
    await http.post(
        f"/console/staff/{user.id}/totp", data={"csrf": csrf, "action": "clear"}, follow_redirects=False
    )
    login = await eapi.login("yamada.t", password)
    assert login.status_code == 200, login.text
    assert login.json()["user"]["email"] == "YAMADA@city.example.lg.jp"
    assert login.json()["user"]["email_verified"] is False
    actions = await _actions(eapi)
    assert "user_create_success" in actions and "user_email_set_success" in actions
    assert "user_totp_reset_success" in actions


async def test_hostile_input_on_issue(eapi):
    http, csrf = await _admin(eapi)
    cases = [
        ({"username": "demo", "display_name": "重複"}, "このログインIDはすでに使われています"),
        ({"username": "", "display_name": "空"}, "ログインIDを入力してください"),
        ({"username": "a" * 101, "display_name": "長い"}, "100文字以内"),
        ({"username": "山田", "display_name": "全角"}, "半角英数字"),
        ({"username": "x<script>", "display_name": "記号"}, "半角英数字"),
        ({"username": "ok1", "display_name": ""}, "表示名を入力してください"),
        ({"username": "ok2", "display_name": "名\u202e前"}, "使えない文字"),
        ({"username": "ok3", "display_name": "名", "email": "not-an-address"}, "形式が正しくありません"),
        ({"username": "ok4", "display_name": "名", "email": "a@b"}, "形式が正しくありません"),
        ({"username": "ok5", "display_name": "名", "email": "a\r\nBcc: x@example.jp@example.jp"}, "形式"),
        ({"username": "ok6", "display_name": "名", "email": "a" * 250 + "@example.jp"}, "254文字以内"),
    ]
    for data, message in cases:
        r = await http.post("/console/staff", data={"csrf": csrf, **data})
        assert r.status_code == 422, (data, r.status_code)
        assert message in r.text, (data, message)
        assert 'role="alert"' in r.text
    # What was typed comes back (escaped), nothing was created.
    r = await http.post(
        "/console/staff", data={"csrf": csrf, "username": "ok7", "display_name": "<b>x</b>", "email": "bad"}
    )
    assert 'value="ok7"' in r.text and "&lt;b&gt;x&lt;/b&gt;" in r.text and "<b>x</b>" not in r.text
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        assert (await s.execute(sa.select(sa.func.count()).select_from(User))).scalar_one() == 2
    # An oversized body is cut, not stored.
    r = await http.post(
        "/console/staff", data={"csrf": csrf, "username": "z" * 100_000, "display_name": "名"}
    )
    assert r.status_code == 422


async def test_csrf_and_permission(eapi):
    http, _csrf = await _admin(eapi)
    demo = await _user(eapi, "demo")
    for url, data in [
        ("/console/staff", {"username": "evil", "display_name": "x"}),
        (f"/console/staff/{demo.id}", {"display_name": "x"}),
        (f"/console/staff/{demo.id}/active", {"active": "0"}),
        (f"/console/staff/{demo.id}/totp", {"action": "reset"}),
        (f"/console/staff/{demo.id}/password", {}),
        ("/console/account", {"email": "x@example.jp"}),
    ]:
        for token in (None, "0" * 64):
            body = data if token is None else {"csrf": token, **data}
            r = await http.post(url, data=body)
            assert r.status_code == 403, (url, token, r.status_code)
    assert (await _user(eapi, "demo")).is_active
    assert await eapi.login(*DEMO_CLERK) and (await eapi.login(*DEMO_CLERK)).status_code == 200
    # A counter clerk (no user.manage) is refused on every staff route, but has his own page.
    clerk, ccsrf = await console(eapi, *DEMO_CLERK)
    admin = await _user(eapi, "demo-admin")
    for method, url in [
        ("GET", "/console/staff"),
        ("POST", "/console/staff"),
        ("GET", f"/console/staff/{admin.id}"),
        ("POST", f"/console/staff/{admin.id}"),
        ("POST", f"/console/staff/{admin.id}/active"),
        ("POST", f"/console/staff/{admin.id}/totp"),
        ("POST", f"/console/staff/{admin.id}/password"),
    ]:
        r = await (
            clerk.get(url) if method == "GET" else clerk.post(url, data={"csrf": ccsrf, "active": "0"})
        )
        assert r.status_code == 403 and "権限がありません" in r.text, (method, url)
    r = await clerk.get("/console/account")
    assert r.status_code == 200 and "マイアカウント" in r.text
    # A user id of nobody: 404, not a crash.
    r = await http.get(f"/console/staff/{uuid.uuid4()}")
    assert r.status_code == 404


async def test_edit_groups_organisations_disable_and_password(eapi):
    http, csrf = await _admin(eapi)
    org = await make_org(eapi, "市民課（合成）", {})
    demo = await _user(eapi, "demo")
    admins = await _group_id(eapi, "管理者")
    counter = await _group_id(eapi, "窓口")
    r = await http.post(
        f"/console/staff/{demo.id}",
        data={
            "csrf": csrf,
            "display_name": "デモ 窓口職員（改）",
            "email": "",
            "groups": [counter, admins],
            f"org-{org}": "process",
        },
    )
    assert r.status_code == 303
    r = await http.get("/console/staff")
    assert "デモ 窓口職員（改）" in r.text and "市民課（合成）（処理）" in r.text and "窓口、管理者" in r.text
    # A role that does not exist comes back at its field.
    r = await http.post(
        f"/console/staff/{demo.id}",
        data={"csrf": csrf, "display_name": "x", "groups": [counter], f"org-{org}": "owner"},
    )
    assert r.status_code == 422 and "権限（閲覧・処理・編集）を選んでください" in r.text
    # Nobody takes user.manage away from himself.
    me = await _user(eapi, "demo-admin")
    r = await http.post(
        f"/console/staff/{me.id}", data={"csrf": csrf, "display_name": "管理者", "groups": [counter]}
    )
    assert r.status_code == 422 and "自分自身から職員管理の権限" in r.text
    # Out of the 課 again, back to 窓口 only.
    r = await http.post(
        f"/console/staff/{demo.id}",
        data={"csrf": csrf, "display_name": "デモ 窓口職員", "groups": [counter], f"org-{org}": ""},
    )
    assert r.status_code == 303
    r = await http.get(f"/console/staff/{demo.id}")
    assert '<option value="process" selected' not in r.text
    # Disable: the login is refused and a live session stops working; enable again.
    clerk, _ = await console(eapi, *DEMO_CLERK)
    r = await http.post(f"/console/staff/{demo.id}/active", data={"csrf": csrf, "active": "0"})
    assert r.status_code == 303
    assert (await eapi.login(*DEMO_CLERK)).status_code == 401
    assert (await clerk.get("/console/account")).status_code == 303  # back to the login page
    r = await http.get("/console/staff")
    assert "<strong>無効</strong>" in r.text
    r = await http.post(f"/console/staff/{demo.id}/active", data={"csrf": csrf, "active": "1"})
    assert (await eapi.login(*DEMO_CLERK)).status_code == 200
    # One's own account cannot be disabled.
    r = await http.post(f"/console/staff/{me.id}/active", data={"csrf": csrf, "active": "0"})
    assert r.status_code == 422 and "無効にできません" in r.text
    # A new password, shown once; the old one stops working.
    r = await http.post(f"/console/staff/{demo.id}/password", data={"csrf": csrf})
    password = re.search(r"新しいパスワード</dt><dd><code>(\w+)</code>", r.text).group(1)
    assert (await eapi.login(*DEMO_CLERK)).status_code == 401
    assert (await eapi.login("demo", password)).status_code == 200
    actions = await _actions(eapi)
    for action in (
        "user_update_success",
        "user_disable_success",
        "user_enable_success",
        "user_password_reset_success",
    ):
        assert action in actions, action


async def test_verification_link_works_once_and_expires(eapi):
    clerk, csrf = await console(eapi, *DEMO_CLERK)
    r = await clerk.get("/console/account")
    csrf = CSRF.search(r.text).group(1)
    r = await clerk.post("/console/account", data={"csrf": csrf, "email": "bad@@example.jp"})
    assert r.status_code == 422 and "形式が正しくありません" in r.text
    r = await clerk.post("/console/account", data={"csrf": csrf, "email": " demo@example.jp ", "notify": "1"})
    assert r.status_code == 303 and r.headers["location"].endswith("notice=mailed")
    link = _verify_path(await deliver(eapi))
    anonymous = eapi.client("127.0.0.1")  # the link works without logging in (opened from the mail)
    r = await anonymous.get(link)
    assert r.status_code == 200 and "メールアドレスを確認しました" in r.text
    user = await _user(eapi, "demo")
    assert user.email == "demo@example.jp" and user.email_verified and user.notify_submissions
    # Single use.
    r = await anonymous.get(link)
    assert r.status_code == 410 and "このリンクは使えません" in r.text
    # Saving the same confirmed address again sends nothing.
    await clerk.post("/console/account", data={"csrf": csrf, "email": "demo@example.jp", "notify": "1"})
    assert await deliver(eapi) == []
    # A new address is unconfirmed until its own link is opened; an expired link is refused.
    await clerk.post("/console/account", data={"csrf": csrf, "email": "demo2@example.jp", "notify": "1"})
    first = _verify_path(await deliver(eapi))
    assert not (await _user(eapi, "demo")).email_verified
    # Saving the unconfirmed address again keeps its link; asking to resend replaces it.
    await clerk.post("/console/account", data={"csrf": csrf, "email": "demo2@example.jp", "notify": "1"})
    assert await deliver(eapi) == []
    r = await clerk.get("/console/account")
    assert "確認リンクをもう一度送る" in r.text
    await clerk.post(
        "/console/account", data={"csrf": csrf, "email": "demo2@example.jp", "notify": "1", "resend": "1"}
    )
    link = _verify_path(await deliver(eapi))
    assert link != first and (await anonymous.get(first)).status_code == 410
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        row = (await s.execute(sa.select(User).where(User.username == "demo"))).scalar_one()
        row.email_token_expires_at = datetime.now(UTC) - timedelta(seconds=1)
    r = await anonymous.get(link)
    assert r.status_code == 410
    assert not (await _user(eapi, "demo")).email_verified
    # Forged, overlong and wrong-municipality links.
    for bad in (
        "/console/verify-email?lg=082104&token=x",
        "/console/verify-email?lg=999999&token=x",
        "/console/verify-email?lg=abc&token=" + "a" * 5000,
        "/console/verify-email",
    ):
        assert (await anonymous.get(bad)).status_code == 410, bad
    actions = await _actions(eapi)
    assert actions.count("user_email_verify_success") == 1
    assert actions.count("user_email_verify_failure") >= 3
    # The REST user info carries the address.
    me = await eapi.http.get("/api/v1/auth/me", headers=await eapi.headers(*DEMO_CLERK))
    assert me.json()["email"] == "demo2@example.jp" and me.json()["email_verified"] is False
    # Clearing the address.
    await clerk.post("/console/account", data={"csrf": csrf, "email": ""})
    assert (await _user(eapi, "demo")).email is None


async def _confirmed_member(eapi, username, address, *, notify=True, verify=True):
    await make_staff(eapi, username, ["eform.review"])
    http, csrf = await console(eapi, username)
    r = await http.get("/console/account")
    csrf = CSRF.search(r.text).group(1)
    data = {"csrf": csrf, "email": address}
    if notify:
        data["notify"] = "1"
    await http.post("/console/account", data=data)
    link = _verify_path(await deliver(eapi))
    if verify:
        assert (await eapi.client("127.0.0.1").get(link)).status_code == 200


async def test_new_application_notice_reaches_the_organisation_over_smtp(eapi, smtp_server):  # noqa: F811
    """Only confirmed, opted-in members of the procedure's 課 get it; it names no applicant data."""
    controller, handler = smtp_server
    await _confirmed_member(eapi, "kakari", "kakari@city.example.jp")
    await _confirmed_member(eapi, "unconfirmed", "unconfirmed@city.example.jp", verify=False)
    await _confirmed_member(eapi, "quiet", "quiet@city.example.jp", notify=False)
    await _confirmed_member(eapi, "elsewhere", "elsewhere@city.example.jp")
    org = await make_org(eapi, "市民課", {"kakari": "view", "unconfirmed": "view", "quiet": "edit"})
    await make_org(eapi, "税務課", {"elsewhere": "edit"})
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        row = (await s.execute(sa.select(Procedure).where(Procedure.slug == "koseki"))).scalar_one()
        row.organisation_id = uuid.UUID(org)
    res = Resident(eapi)
    await res.start("koseki", email="resident@example.net")
    values = {
        "name": "下妻 太郎",
        "tel": "0296432111",
        "domicile": "茨城県下妻市本城町2-22",
        "head": "下妻 一郎",
        "kind": "koseki_full",
        "copies": "1",
    }
    r = await res.post_form(values, files={"id_document": ("id.pdf", PDF, "application/pdf")})
    assert r.status_code == 303, r.text
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    assert r.status_code == 303
    settings = eapi.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": controller.port, "mail_transport": "smtp"}
    )
    sent, failed = await notifications.send_due(eapi.db, settings, transport=open_transport(settings))
    assert failed == 0 and sent == 2  # the resident's receipt and kakari's notice
    by_to = {m["To"]: m for m in handler.messages}
    assert set(by_to) == {"resident@example.net", "kakari@city.example.jp"}
    notice = by_to["kakari@city.example.jp"]
    subject = str(email.header.make_header(email.header.decode_header(notice["Subject"])))
    body = notice.get_payload(decode=True).decode("utf-8")
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        app_ref = (
            (
                await s.execute(
                    sa.select(OutboxMail.event).where(OutboxMail.to_addr == "kakari@city.example.jp")
                )
            )
            .scalars()
            .all()
        )
    assert "staff_submission_notice" in app_ref
    reference = re.search(r"E-\d{8}-\d{6}", subject).group(0)
    assert reference in body and "戸籍" in body
    assert f"http://testserver/console/applications/{res.app_id}" in body
    for private in ("下妻", "0296432111", "本城町", "resident@example.net"):
        assert private not in body and private not in subject


async def test_procedure_without_organisation_notifies_nobody(eapi):
    await _confirmed_member(eapi, "kakari", "kakari@city.example.jp")
    await make_org(eapi, "市民課", {"kakari": "view"})
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        row = (await s.execute(sa.select(Procedure).where(Procedure.slug == "koseki"))).scalar_one()
        assert row.organisation_id is None
        assert await staff_domain.notice_recipients(s, row) == []


async def test_cli_user_create_with_email(eapi):
    from tests.server.test_cli import cli

    folder = eapi.settings.data_dir
    base = [
        "user",
        "create",
        "--lg-code",
        DEMO_LG_CODE,
        "--display-name",
        "CLI 職員",
        "--password",
        "cli-pass-1",
    ]
    r = cli(folder, *base, "--username", "cli1", "--email", "壊れた")
    assert r.returncode != 0 and "形式が正しくありません" in r.stderr
    r = cli(folder, *base, "--username", "cli2", "--email", "Cli2@Example.JP")
    assert r.returncode == 0, r.stderr
    assert "確認リンク" in r.stdout
    user = await _user(eapi, "cli2")
    assert user.email == "Cli2@example.jp" and not user.email_verified
    mails = await deliver(eapi)  # the CLI's own settings build the link on its public URL
    assert mails[-1]["To"] == "Cli2@example.jp" and "/console/verify-email?lg=" in body_of(mails[-1])
