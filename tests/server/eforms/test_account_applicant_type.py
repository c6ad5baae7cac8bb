"""An account's 申請者の種別 (個人 / 法人 / 団体): changed in 登録内容の変更 (法人番号 checked and looked up,
audited), preselected in the ``applicant_type`` field of the account's new applications with a
note, still changeable there; guests choose as before."""

from __future__ import annotations

import sqlalchemy as sa

from server.db.models import Application, AuditEvent, ResidentAccount
from tests.conftest import DEMO_LG_CODE
from tests.server.eforms.conftest import PORTAL, Resident
from tests.server.eforms.test_accounts import (
    ACCOUNT,
    CSRF,
    Browser,
    registered,
    smtp,  # noqa: F401  (fixture)
    valid_corporate_number,
)

SANDBOX_CORPORATION = "2050001000001"  # one of the sandbox lookup's fictitious corporations
NOTE = "利用者登録の内容（法人）から選んであります"


async def _settings(b: Browser) -> tuple[str, str]:
    r = await b.http.get(f"{ACCOUNT}/settings")
    assert r.status_code == 200, r.text
    return r.text, CSRF.search(r.text).group(1)  # type: ignore[union-attr]


async def _start(b: Browser, slug: str) -> str:
    r = await b.http.get(f"{PORTAL}/procedures/{slug}")
    csrf = CSRF.search(r.text).group(1)  # type: ignore[union-attr]
    r = await b.http.post(f"{PORTAL}/procedures/{slug}/start-account", data={"csrf": csrf})
    assert r.status_code == 303, r.text
    return r.headers["location"].removesuffix("/form")


async def test_settings_change_the_type_and_new_applications_preselect_it(eapi, smtp):  # noqa: F811
    b = Browser(eapi)
    await registered(eapi, smtp, b)  # 個人 "下妻 花子"
    await b.login()
    home = await b.http.get(ACCOUNT)
    assert "登録内容の変更" in home.text
    page, csrf = await _settings(b)
    assert 'value="individual" checked' in page

    # 法人 without a 法人番号, then with a wrong one: the message at the field, what was typed kept.
    data = {"csrf": csrf, "applicant_type": "corporation", "name": "株式会社しもつま", "action": "save"}
    r = await b.http.post(f"{ACCOUNT}/settings", data={**data, "corporate_number": ""})
    assert (
        r.status_code == 422
        and "法人番号を入力してください。" in r.text
        and 'value="株式会社しもつま"' in r.text
    )
    r = await b.http.post(f"{ACCOUNT}/settings", data={**data, "corporate_number": "1234567890123"})
    assert r.status_code == 422 and "法人番号（13桁）が正しくありません。" in r.text
    r = await b.http.post(f"{ACCOUNT}/settings", data={**data, "name": "<script>x</script>" * 20})
    assert r.status_code == 422 and "<script>x" not in r.text and "100文字以内" in r.text
    # 名称を検索: the sandbox lookup fills the 名称 (全角 digits and hyphens accepted); nothing saved.
    wide = "２０５０００１－０００００１"
    r = await b.http.post(
        f"{ACCOUNT}/settings", data={**data, "name": "", "corporate_number": wide, "action": "lookup"}
    )
    assert r.status_code == 200 and "を名称に入れました" in r.text and "まだ保存していません" in r.text
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        account = (await s.execute(sa.select(ResidentAccount))).scalar_one()
        assert account.applicant_type == "individual"
    name = r.text.split('id="name" name="name" type="text" value="', 1)[1].split('"', 1)[0]
    assert name and name != "下妻 花子"
    # Without the account's CSRF token nothing changes.
    r = await b.http.post(f"{ACCOUNT}/settings", data={**data, "csrf": "x" * 40, "corporate_number": wide})
    assert r.status_code == 403
    r = await b.http.post(
        f"{ACCOUNT}/settings", data={**data, "name": name, "corporate_number": wide}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].endswith("/account/settings?saved=1")
    page = (await b.http.get(r.headers["location"])).text
    assert "登録内容を変更しました" in page and 'value="corporation" checked' in page
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        account = (await s.execute(sa.select(ResidentAccount))).scalar_one()
        assert (account.applicant_type, account.corporate_number) == ("corporation", SANDBOX_CORPORATION)
        event = (
            await s.execute(
                sa.select(AuditEvent).where(AuditEvent.action == "resident_account_update_success")
            )
        ).scalar_one()
        assert event.details["applicant_type"] == {"from": "individual", "to": "corporation"}
        assert set(event.details["changed"]) == {"applicant_type", "name", "corporate_number"}
        assert name not in str(event.details)  # the name itself is not in the audit log

    # A procedure admitting 個人・法人・団体: the 法人 is chosen, with the note; still changeable.
    app_url = await _start(b, "kotei-hyoka")
    form = await b.http.get(app_url + "/form")
    assert 'name="applicant_type" value="corporation" checked' in form.text
    assert NOTE in form.text and 'aria-describedby="f-applicant_type-note"' in form.text
    csrf = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
    r = await b.http.post(
        app_url + "/form",
        data={"csrf": csrf, "action": "refresh", "applicant_type": "individual"},
        files={"_": ("", b"", "x")},
    )
    assert 'name="applicant_type" value="individual" checked' in r.text
    assert "利用者登録の申請者の種別は「法人」です。" in r.text and NOTE not in r.text
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        app = await s.get(Application, __import__("uuid").UUID(app_url.rsplit("/", 1)[1]))
        assert app is not None and app.values["applicant_type"] == "individual"
    # A 個人-only procedure refuses the 法人 account and says where the type is changed.
    r = await b.http.post(
        f"{PORTAL}/procedures/koseki/start-account",
        data={"csrf": CSRF.search((await b.http.get(f"{PORTAL}/procedures/koseki")).text).group(1)},  # type: ignore[union-attr]
    )
    assert r.status_code == 403 and "登録内容の変更" in r.text

    # Back to 団体: the 法人番号 is dropped (kept for 法人 only), and the next application says 団体.
    page, csrf = await _settings(b)
    r = await b.http.post(
        f"{ACCOUNT}/settings",
        data={"csrf": csrf, "applicant_type": "group", "name": "しもつま自治会", "corporate_number": wide},
    )
    assert r.status_code == 303
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        account = (await s.execute(sa.select(ResidentAccount))).scalar_one()
        assert (account.applicant_type, account.corporate_number) == ("group", None)
    app_url = await _start(b, "kotei-hyoka")
    form = await b.http.get(app_url + "/form")
    assert (
        'name="applicant_type" value="group" checked' in form.text
        and "（団体）から選んであります" in form.text
    )


async def test_guests_choose_and_logged_out_visitors_are_sent_to_login(eapi, smtp):  # noqa: F811
    res = Resident(eapi)
    await res.start("kotei-hyoka")
    form = await res.http.get(res.app_url + "/form")
    assert 'name="applicant_type" value="corporation" checked' not in form.text
    assert "から選んであります" not in form.text and "field-note" not in form.text
    stranger = Browser(eapi, "203.0.113.50")
    r = await stranger.http.get(f"{ACCOUNT}/settings", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/account/login")
    csrf = await stranger.csrf(f"{ACCOUNT}/login")
    r = await stranger.http.post(
        f"{ACCOUNT}/settings",
        data={"csrf": csrf, "applicant_type": "group", "name": "x"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("/account/login")
    # Registering as 法人 with a valid number still works as before.
    b = Browser(eapi, "198.51.100.77")
    number = valid_corporate_number()
    await registered(
        eapi,
        smtp,
        b,
        "corp@example.co.jp",
        applicant_type="corporation",
        name="株式会社X",
        corporate_number=number,
    )
    await b.login("corp@example.co.jp")
    app_url = await _start(b, "zei-shomei")
    form = await b.http.get(app_url + "/form")
    assert 'name="applicant_type" value="corporation" checked' in form.text
