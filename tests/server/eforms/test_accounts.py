"""Resident accounts of the portal: register, verify by mail, login with lockout, logout, reset,
my applications — mails delivered over real SMTP (aiosmtpd on localhost)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from server.db.models import AuditEvent, ResidentAccount, ResidentAccountApplication
from server.domain import notifications
from server.domain.eforms.fields import corporate_number_ok
from tests.conftest import DEMO_LG_CODE, free_port
from tests.server.eforms.conftest import PDF, PORTAL
from tests.server.eforms.test_mail import Collect

ACCOUNT = f"{PORTAL}/account"
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def smtp(eapi):
    """A real SMTP server on localhost and settings that send to it."""
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings = eapi.settings.model_copy(
        update={"mail_transport": "smtp", "smtp_host": "127.0.0.1", "smtp_port": controller.port}
    )
    try:
        yield settings, handler
    finally:
        controller.stop()


async def mails(api, smtp) -> list[Any]:
    """Deliver the outbox over SMTP; the messages received now."""
    settings, handler = smtp
    before = len(handler.messages)
    await notifications.send_due(api.db, settings)
    return handler.messages[before:]


def text_of(message: Any) -> str:
    return message.get_payload(decode=True).decode("utf-8")


def link_in(message: Any) -> str:
    found = re.search(r"http://testserver(\S+token=\S+)", text_of(message))
    assert found is not None, text_of(message)
    return found.group(1)


def valid_corporate_number() -> str:
    body = "700110005901"  # 12 digits; the check digit is computed
    return next(f"{d}{body}" for d in "123456789" if corporate_number_ok(f"{d}{body}"))


class Browser:
    """A resident's browser without JavaScript."""

    def __init__(self, api, ip: str = "198.51.100.20") -> None:
        self.http = api.client(ip)

    async def csrf(self, path: str) -> str:
        r = await self.http.get(path)
        found = CSRF.search(r.text)
        assert found is not None, r.text
        return found.group(1)

    async def register(self, email: str = "hanako@example.jp", **over: str):
        data = {
            "csrf": await self.csrf(f"{ACCOUNT}/register"),
            "applicant_type": "individual",
            "name": "下妻 花子",
            "email": email,
            "password": PASSWORD,
            "password2": PASSWORD,
            **over,
        }
        return await self.http.post(f"{ACCOUNT}/register", data=data)

    async def login(self, email: str = "hanako@example.jp", password: str = PASSWORD):
        csrf = await self.csrf(f"{ACCOUNT}/login")
        return await self.http.post(
            f"{ACCOUNT}/login", data={"csrf": csrf, "email": email, "password": password}
        )


async def registered(api, smtp, browser: Browser, email: str = "hanako@example.jp", **over: str) -> None:
    r = await browser.register(email, **over)
    assert r.status_code == 200 and "確認メールを送りました" in r.text, r.text
    (mail,) = await mails(api, smtp)
    r = await browser.http.get(link_in(mail))
    assert r.status_code == 200 and "登録が完了しました" in r.text


KOSEKI = {
    "name": "下妻 花子",
    "tel": "0296432111",
    "domicile": "茨城県下妻市本城町2-22",
    "head": "下妻 一郎",
    "kind": "koseki_full",
    "copies": "1",
}


async def test_register_verify_login_apply_and_see_it_in_my_applications(eapi, smtp):
    """Register → mail over SMTP → verify → login → start and submit → listed with its status."""
    b = Browser(eapi)
    r = await b.register()
    assert r.status_code == 200 and "確認メールを送りました" in r.text
    (mail,) = await mails(eapi, smtp)
    assert mail["To"] == "hanako@example.jp" and "/account/verify?token=" in text_of(mail)
    r = await b.login()
    assert r.status_code == 401 and "メールアドレスの確認が済んでいません" in r.text
    r = await b.http.get(link_in(mail))
    assert r.status_code == 200 and "登録が完了しました" in r.text
    r = await b.http.get(link_in(mail))
    assert r.status_code == 400  # the link works once
    r = await b.login()
    assert r.status_code == 303 and r.headers["location"] == f"{ACCOUNT}"
    r = await b.http.get(ACCOUNT)
    assert r.status_code == 200 and "下妻 花子" in r.text and "まだ申請はありません" in r.text

    r = await b.http.get(f"{PORTAL}/procedures/koseki")
    assert "下妻 花子 さんとしてログインしています" in r.text
    csrf = CSRF.search(r.text).group(1)  # type: ignore[union-attr]
    r = await b.http.post(f"{PORTAL}/procedures/koseki/start-account", data={"csrf": csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("/form")
    app_url = r.headers["location"].removesuffix("/form")
    assert await mails(eapi, smtp) == []  # no code to type: the address is verified already
    form = await b.http.get(app_url + "/form")
    assert form.status_code == 200
    app_csrf = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
    r = await b.http.post(
        app_url + "/form",
        data={"csrf": app_csrf, "action": "confirm", **KOSEKI},
        files={"id_document": ("id.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 303, r.text
    r = await b.http.get(ACCOUNT)
    assert "戸籍" in r.text and "一時保存" in r.text and app_url in r.text
    r = await b.http.post(app_url + "/submit", data={"csrf": app_csrf})
    assert r.status_code == 303
    r = await b.http.get(ACCOUNT)
    assert "申請済み" in r.text and re.search(r"E-\d{8}-\d{6}", r.text)
    (submitted,) = await mails(eapi, smtp)
    assert submitted["To"] == "hanako@example.jp"

    other = Browser(eapi, "203.0.113.9")  # another device: the login alone opens the application
    await other.login()
    r = await other.http.get(app_url)
    assert r.status_code == 200 and "申請済み" in r.text
    stranger = Browser(eapi, "203.0.113.10")
    r = await stranger.http.get(app_url)
    assert r.status_code == 404
    async with eapi.db.unbound() as s:
        assert (
            await s.execute(sa.select(sa.func.count()).select_from(ResidentAccountApplication))
        ).scalar() == 1


async def test_wrong_passwords_lock_the_account(eapi, smtp):
    """After lockout_threshold wrong passwords even the right one is refused, with a message."""
    b = Browser(eapi)
    await registered(eapi, smtp, b)
    for _ in range(eapi.settings.lockout_threshold - 1):
        r = await b.login(password="wrong password!")
        assert r.status_code == 401 and "正しくありません" in r.text
    r = await b.login(password="wrong password!")
    assert r.status_code == 401 and "しばらくログインできません" in r.text
    r = await b.login()
    assert r.status_code == 401 and "しばらくログインできません" in r.text
    r = await b.login(email="nobody@example.jp")
    assert r.status_code == 401 and "メールアドレスまたはパスワードが正しくありません" in r.text
    async with eapi.db.unbound() as s:
        account = (await s.execute(sa.select(ResidentAccount))).scalar_one()
        assert account.locked_until is not None and account.locked_until > datetime.now(UTC)
        actions = (await s.execute(sa.select(AuditEvent.action))).scalars().all()
        assert "resident_account_login_failure" in actions


async def test_password_reset_is_single_use_expires_and_does_not_enumerate(eapi, smtp):
    """Same answer for known and unknown addresses; the link sets a password once, then never."""
    b = Browser(eapi)
    await registered(eapi, smtp, b)
    for _ in range(eapi.settings.lockout_threshold):
        await b.login(password="wrong password!")  # locked; the reset lifts it
    answers = []
    for email in ("hanako@example.jp", "nobody@example.jp"):
        csrf = await b.csrf(f"{ACCOUNT}/reset")
        r = await b.http.post(f"{ACCOUNT}/reset", data={"csrf": csrf, "email": email})
        assert r.status_code == 200
        answers.append(r.text.replace(csrf, ""))
    assert answers[0] == answers[1] and "登録されている場合は" in answers[0]
    (mail,) = await mails(eapi, smtp)
    assert mail["To"] == "hanako@example.jp"
    link = link_in(mail)
    token = link.split("token=")[1]
    page = await b.http.get(link)
    assert page.status_code == 200 and "新しいパスワード" in page.text
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    short = {"csrf": csrf, "token": token, "password": "short", "password2": "short"}
    r = await b.http.post(f"{ACCOUNT}/reset/confirm", data=short)
    assert r.status_code == 422 and "10文字以上" in r.text
    new = {
        "csrf": csrf,
        "token": token,
        "password": "a brand new passphrase",
        "password2": "a brand new passphrase",
    }
    r = await b.http.post(f"{ACCOUNT}/reset/confirm", data=new)
    assert r.status_code == 200 and "パスワードを変更しました" in r.text
    r = await b.http.post(
        f"{ACCOUNT}/reset/confirm", data={**new, "password": "x" * 12, "password2": "x" * 12}
    )
    assert r.status_code == 400 and "使用済み" in r.text  # reuse refused
    assert (await b.http.get(link)).status_code == 400
    assert (await b.login()).status_code == 401  # the old password is gone
    assert (await b.login(password="a brand new passphrase")).status_code == 303

    csrf = await b.csrf(f"{ACCOUNT}/reset")
    await b.http.post(f"{ACCOUNT}/reset", data={"csrf": csrf, "email": "hanako@example.jp"})
    (mail,) = await mails(eapi, smtp)
    link = link_in(mail)
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        await s.execute(
            sa.update(ResidentAccount).values(reset_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    r = await b.http.get(link)
    assert r.status_code == 400 and "有効期限が切れています" in r.text
    expired = {
        **new,
        "csrf": await b.csrf(f"{ACCOUNT}/reset"),
        "token": link.split("token=")[1],
        "password": "y" * 12,
        "password2": "y" * 12,
    }
    r = await b.http.post(f"{ACCOUNT}/reset/confirm", data=expired)
    assert r.status_code == 400
    assert (await b.login(password="y" * 12)).status_code == 401


async def test_registering_a_known_address_reveals_nothing(eapi, smtp):
    """A second registration with the same address looks the same; the owner is told by mail."""
    b = Browser(eapi)
    await registered(eapi, smtp, b)
    r = await Browser(eapi, "203.0.113.5").register(name="別人")
    assert r.status_code == 200 and "確認メールを送りました" in r.text
    (mail,) = await mails(eapi, smtp)
    assert "既に利用者登録されています" in text_of(mail) and "token=" not in text_of(mail)
    async with eapi.db.unbound() as s:
        assert (await s.execute(sa.select(ResidentAccount.name))).scalars().all() == ["下妻 花子"]


async def test_logout_ends_the_login_even_for_a_copied_cookie(eapi, smtp):
    """After logout the old login cookie no longer opens my page."""
    b = Browser(eapi)
    await registered(eapi, smtp, b)
    await b.login()
    stolen = b.http.cookies.get("portal_account")
    r = await b.http.get(ACCOUNT)
    csrf = CSRF.search(r.text).group(1)  # type: ignore[union-attr]
    r = await b.http.post(f"{ACCOUNT}/logout", data={"csrf": csrf})
    assert r.status_code == 303 and "out=1" in r.headers["location"]
    thief = eapi.client("203.0.113.66")
    thief.cookies.set("portal_account", stolen)
    r = await thief.get(ACCOUNT)
    assert r.status_code == 303 and r.headers["location"].endswith("/account/login")


async def test_csrf_is_enforced_on_every_account_form(eapi, smtp):
    """Posts without the token of the visitor's cookie are refused with a Japanese page."""
    b = Browser(eapi)
    await registered(eapi, smtp, b)
    await b.http.get(f"{ACCOUNT}/login")  # has a CSRF cookie, but sends a wrong token
    for path, data in [
        ("/register", {"email": "x@example.jp", "name": "x", "applicant_type": "individual"}),
        ("/login", {"email": "hanako@example.jp", "password": PASSWORD}),
        ("/reset", {"email": "hanako@example.jp"}),
        ("/reset/confirm", {"token": "x", "password": PASSWORD, "password2": PASSWORD}),
        ("/logout", {}),
    ]:
        r = await b.http.post(ACCOUNT + path, data={**data, "csrf": "0" * 32})
        assert r.status_code == 403 and "有効期限が切れました" in r.text, path
    await b.login()
    r = await b.http.post(f"{PORTAL}/procedures/koseki/start-account", data={})
    assert r.status_code == 403
    fresh = eapi.client("203.0.113.44")  # no cookie at all
    r = await fresh.post(f"{ACCOUNT}/login", data={"email": "hanako@example.jp", "password": PASSWORD})
    assert r.status_code == 403
    assert await mails(eapi, smtp) == []


async def test_hostile_and_overlong_input(eapi, smtp):
    """Script in the name is shown as text; overlong fields are refused with Japanese messages."""
    b = Browser(eapi)
    r = await b.register(
        name="x" * 101, email=("a" * 250) + "@example.jp", password="p" * 129, password2="p" * 129
    )
    assert r.status_code == 422
    assert "100文字以内で入力してください" in r.text
    assert "254文字以内で入力してください" in r.text
    assert "128文字以内で入力してください" in r.text
    assert 'aria-invalid="true"' in r.text and 'class="error-summary"' in r.text
    r = await b.register(name="会社\x00名", applicant_type="corporation", corporate_number="1234567890123")
    assert (
        r.status_code == 422 and "使えない文字" in r.text and "法人番号（13桁）が正しくありません" in r.text
    )
    r = await b.register(applicant_type="mayor")
    assert r.status_code == 422 and "申請者の種別を選んでください" in r.text
    assert await mails(eapi, smtp) == []

    script = '<script>alert("x")</script>'
    await registered(eapi, smtp, b, name=script)
    await b.login()
    r = await b.http.get(ACCOUNT)
    assert script not in r.text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in r.text


async def test_corporation_account_and_applicant_types(eapi, smtp):
    """A 法人 registers with its 法人番号; a procedure for 個人 only refuses it politely."""
    b = Browser(eapi)
    number = valid_corporate_number()
    await registered(
        eapi,
        smtp,
        b,
        "soumu@example.co.jp",
        applicant_type="corporation",
        name="株式会社しもつま",
        corporate_number=number,
    )
    await b.login("soumu@example.co.jp")
    r = await b.http.get(ACCOUNT)
    assert "法人" in r.text and number in r.text and "株式会社しもつま" in r.text
    r = await b.http.get(f"{PORTAL}/procedures/koseki")
    csrf = CSRF.search(r.text).group(1)  # type: ignore[union-attr]
    r = await b.http.post(f"{PORTAL}/procedures/koseki/start-account", data={"csrf": csrf})
    assert r.status_code == 403 and "個人の方が申請できます" in r.text
