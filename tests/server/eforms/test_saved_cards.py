"""Saved cards (spec 002 6(1)④ 「2回目以降はクレジットカード情報の登録を不要」「随時修正」) with the
sandbox provider: register, see brand / last 4 / expiry (never the number), pay without typing,
replace, delete; bad cards and strangers refused in Japanese."""

from __future__ import annotations

import re

import sqlalchemy as sa

from server.db.models import Application, AuditEvent, Payment, ResidentAccount
from tests.server.eforms import test_accounts
from tests.server.eforms.conftest import PDF, PORTAL, juminhyo_values
from tests.server.eforms.test_accounts import ACCOUNT, CSRF, Browser, registered

smtp = test_accounts.smtp  # the real SMTP server (aiosmtpd) of the accounts tests

CARD = f"{ACCOUNT}/card"


async def add_card(b: Browser, number: str, month: str = "12", year: str = "2030"):
    csrf = await b.csrf(CARD)
    return await b.http.post(CARD, data={"csrf": csrf, "card": number, "exp_month": month, "exp_year": year})


async def prepaid_application(b: Browser) -> tuple[str, str]:
    """A 住民票 application of the logged-in account, submitted up to its pay page."""
    r = await b.http.get(f"{PORTAL}/procedures/juminhyo")
    csrf = CSRF.search(r.text).group(1)  # type: ignore[union-attr]
    r = await b.http.post(f"{PORTAL}/procedures/juminhyo/start-account", data={"csrf": csrf})
    app_url = r.headers["location"].removesuffix("/form")
    form = await b.http.get(app_url + "/form")
    app_csrf = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
    r = await b.http.post(
        app_url + "/form",
        data={"csrf": app_csrf, "action": "confirm", **juminhyo_values()},
        files={"id_document": ("id.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 303, r.text
    r = await b.http.post(app_url + "/submit", data={"csrf": app_csrf})
    assert "/pay/" in r.headers["location"]
    return app_url, r.headers["location"]


async def test_register_pay_replace_and_delete_a_saved_card(eapi, smtp):
    b = Browser(eapi)
    r = await b.http.get(CARD)
    assert r.status_code == 303 and r.headers["location"].endswith("/account/login")
    await registered(eapi, smtp, b)
    await b.login()
    r = await b.http.get(ACCOUNT)
    assert "カードは登録されていません" in r.text and f'href="{CARD}"' in r.text
    r = await b.http.get(CARD)
    assert r.status_code == 200 and "登録されているカードはありません" in r.text

    for number, month, year, status, words in [
        ("4000 0000 0000 0002", "12", "2030", 402, "このカードは登録できません"),
        ("12", "12", "2030", 402, "このカードは登録できません"),
        ("4242424242424242", "13", "2030", 422, "有効期限が正しくありません"),
        ("4242424242424242", "01", "2020", 422, "有効期限が正しくありません"),
        ("4242424242424242", "ab", "<script>", 422, "有効期限は数字で入力してください"),
    ]:
        r = await add_card(b, number, month, year)
        assert r.status_code == status and words in r.text, (number, month, year)
        assert "<script>" not in r.text
    r = await b.http.post(CARD, data={"csrf": "forged", "card": "4242424242424242"})
    assert r.status_code == 403
    async with eapi.db.unbound() as s:
        assert (await s.execute(sa.select(ResidentAccount.payment_customer))).scalar_one() is None

    r = await add_card(b, "4242 4242 4242 4242")
    assert r.status_code == 303 and r.headers["location"].endswith("?notice=saved")
    page = await b.http.get(r.headers["location"])
    assert "カードを登録しました" in page.text
    assert "Visa" in page.text and "末尾 4242" in page.text and "12/2030" in page.text
    assert (
        "4242424242424242" not in page.text
        and "4242 4242 4242 4242" not in page.text.split("テスト用カード番号")[0]
    )
    r = await b.http.get(ACCOUNT)
    assert "登録済み: Visa 末尾 4242（有効期限 12/2030）" in r.text
    async with eapi.db.unbound() as s:
        first = (await s.execute(sa.select(ResidentAccount))).scalar_one()
    assert first.payment_provider == "sandbox" and first.payment_customer.startswith("sb_cus_")
    assert "4242424242424242" not in first.payment_customer

    # 2回目以降: the pay page of the account's own application offers the saved card.
    _, pay_link = await prepaid_application(b)
    stranger = Browser(eapi, "203.0.113.77")  # has the pay link, not the login
    r = await stranger.http.get(pay_link)
    assert r.status_code == 200 and "登録済みのカード" not in r.text
    r = await stranger.http.post(pay_link, data={"saved_card": "1"})
    assert r.status_code == 409 and "登録済みのカードを使えません" in r.text
    r = await b.http.get(pay_link)
    assert "登録済みのカード（Visa 末尾 4242、有効期限 12/2030）" in r.text and 'name="saved_card"' in r.text
    r = await b.http.post(pay_link, data={"saved_card": "1"})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=1")
    async with eapi.db.unbound() as s:
        payment = (await s.execute(sa.select(Payment))).scalar_one()
        app = (await s.execute(sa.select(Application))).scalar_one()
    assert payment.state == "authorised" and payment.provider_ref and app.status == "submitted"
    r = await b.http.post(pay_link, data={"saved_card": "1"})
    assert r.status_code == 409  # paid once only

    # 随時修正: replace, then delete.
    r = await add_card(b, "5555555555554444", "1", "2031")
    assert r.status_code == 303
    page = await b.http.get(CARD)
    assert "MasterCard" in page.text and "末尾 4444" in page.text and "01/2031" in page.text
    assert "末尾 4242" not in page.text
    async with eapi.db.unbound() as s:
        second = (await s.execute(sa.select(ResidentAccount.payment_customer))).scalar_one()
    assert second != first.payment_customer
    csrf = await b.csrf(CARD)
    r = await b.http.post(f"{CARD}/delete", data={"csrf": csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("?notice=deleted")
    page = await b.http.get(r.headers["location"])
    assert "カードの登録を削除しました" in page.text and "登録されているカードはありません" in page.text
    r = await b.http.post(f"{CARD}/delete", data={"csrf": csrf})
    assert r.status_code == 409 and "登録されているカードはありません" in r.text
    async with eapi.db.unbound() as s:
        account = (await s.execute(sa.select(ResidentAccount))).scalar_one()
        events = (
            (await s.execute(sa.select(AuditEvent).where(AuditEvent.action.like("payment_%"))))
            .scalars()
            .all()
        )
    assert account.payment_customer is None and account.payment_provider is None
    actions = [e.action for e in events]
    assert actions.count("payment_card_save_success") == 2 and "payment_card_delete_success" in actions
    saved = [e.details for e in events if e.action == "payment_card_save_success"]
    assert [d["replaced"] for d in saved] == [False, True] and {d["last4"] for d in saved} == {"4242", "4444"}
    assert any(e.action == "payment_authorised_success" and e.details.get("saved_card") for e in events)
    assert not any("4242424242424242" in str(e.details) for e in events)


async def test_a_forged_customer_id_shows_no_card(eapi, smtp):
    """The sandbox customer id carries a MAC: one edited in the database is not a card."""
    b = Browser(eapi)
    await registered(eapi, smtp, b)
    await b.login()
    assert (await add_card(b, "4242424242424242")).status_code == 303
    async with eapi.db.unbound() as s:
        account = (await s.execute(sa.select(ResidentAccount))).scalar_one()
        account.payment_customer = re.sub(r"_4242_", "_9999_", account.payment_customer)
        await s.commit()
    r = await b.http.get(CARD)
    assert "末尾 9999" not in r.text and "確認できませんでした" in r.text


async def test_first_payment_can_keep_the_card_for_next_time(eapi, smtp):
    """「このカードを次回も使う」 on the pay page (sandbox): only for the logged-in owner, with the
    account's CSRF token; a bad expiry or a declined card saves nothing and charges nothing; then
    the card is kept at the provider and the next application is paid without typing."""
    b = Browser(eapi)
    await registered(eapi, smtp, b)
    await b.login()
    _, pay_link = await prepaid_application(b)
    page = await b.http.get(pay_link)
    assert "このカードを次回も使う" in page.text and 'name="exp_month"' in page.text
    assert "登録済みのカード" not in page.text
    stranger = Browser(eapi, "203.0.113.77")  # has the pay link, not the login
    assert "このカードを次回も使う" not in (await stranger.http.get(pay_link)).text
    card = {"card": "4242424242424242", "exp_month": "12", "exp_year": "2030", "save_card": "1"}
    r = await stranger.http.post(pay_link, data={**card, "csrf": "x"})
    assert r.status_code == 409 and "ログイン" in r.text
    r = await b.http.post(pay_link, data=card)  # no CSRF token of the account
    assert r.status_code == 403
    csrf = await b.csrf(pay_link)
    for change, status, words in [
        ({"exp_month": "13"}, 422, "有効期限が正しくありません"),
        ({"exp_year": "<script>"}, 422, "有効期限は数字で入力してください"),
        ({"card": "4000000000000002"}, 402, "このカードは登録できません"),
    ]:
        r = await b.http.post(pay_link, data={**card, **change, "csrf": csrf})
        assert r.status_code == status and words in r.text, change
        assert "<script>" not in r.text and 'name="save_card" value="1" checked' in r.text
    async with eapi.db.unbound() as s:
        assert (await s.execute(sa.select(ResidentAccount.payment_customer))).scalar_one() is None
        assert (await s.execute(sa.select(Payment.state))).scalar_one() == "requested"

    r = await b.http.post(pay_link, data={**card, "csrf": csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=1")
    async with eapi.db.unbound() as s:
        account = (await s.execute(sa.select(ResidentAccount))).scalar_one()
        payment = (await s.execute(sa.select(Payment))).scalar_one()
        app = (await s.execute(sa.select(Application))).scalar_one()
        actions = (await s.execute(sa.select(AuditEvent.action, AuditEvent.details))).all()
    assert account.payment_provider == "sandbox" and account.payment_customer.startswith("sb_cus_Visa_4242_")
    assert payment.state == "authorised" and app.status == "submitted"
    assert ("payment_card_save_success" in [a for a, _ in actions]) and any(
        a == "payment_authorised_success" and d.get("saved_card") for a, d in actions
    )
    assert not any("4242424242424242" in str(d) for _, d in actions)
    r = await b.http.post(pay_link, data={**card, "csrf": csrf})
    assert r.status_code == 409  # paid once only, the card not saved again

    # 2回目: nothing to type.
    _, second_link = await prepaid_application(b)
    page = await b.http.get(second_link)
    assert "登録済みのカード（Visa 末尾 4242、有効期限 12/2030）" in page.text
    r = await b.http.post(second_link, data={"saved_card": "1"})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=1")
    async with eapi.db.unbound() as s:
        states = (await s.execute(sa.select(Payment.state))).scalars().all()
    assert sorted(states) == ["authorised", "authorised"]
