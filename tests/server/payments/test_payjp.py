"""The ``payjp`` provider through the official SDK against a local HTTP server that answers with
PAY.JP's API responses (``payjp_responses/``): success, declines, network errors, idempotent
retries, webhook verification, and the webhook applied to an online application."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from server.config import Settings
from server.db.models import Payment
from server.deps import key_ring
from server.domain.payments.services import provider_for
from server.plugins.payments import PaymentDeclined, WebhookRejected, registry
from server.plugins.payments.payjp import PayjpProvider
from shared.errors import InvalidInput, ServiceUnavailable
from tests.server.payments.payjp_replay import RESPONSES, PayjpReplayServer

PAYMENT_ID = "6f1c2b8e-8d7a-4b5e-9c3f-0a1b2c3d4e5f"
CHARGE = "ch_fa990a4c10672a93053a774730b0a"
TOKEN = "tok_5ca06b51685e001723a2c3b4aeb4"
WEBHOOK_TOKEN = "whook_4a8b0c1d2e3f405162738495a6b7"


@pytest.fixture
def payjp_server() -> Iterator[PayjpReplayServer]:
    server = PayjpReplayServer().start()
    try:
        yield server
    finally:
        server.stop()


def payjp_settings(base: Settings, url: str, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "payment_provider": "payjp",
        "payjp_secret_key": "sk_test_c62fade9d045b54cd76d7036",
        "payjp_public_key": "pk_test_0383a1b8f91e8a6e3ea0e2a9",
        "payjp_webhook_token": WEBHOOK_TOKEN,
        "payjp_api_base": url,
        "payjp_timeout_s": 5.0,
        **changes,
    }
    return base.model_copy(update={k: _secret(k, v) for k, v in values.items()})


def _secret(name: str, value: Any) -> Any:
    from pydantic import SecretStr

    return SecretStr(value) if name in ("payjp_secret_key", "payjp_webhook_token") else value


@pytest.fixture
def provider(settings: Settings, payjp_server: PayjpReplayServer) -> PayjpProvider:
    p = registry.create(
        "payjp", b"", settings.public_base_url, settings=payjp_settings(settings, payjp_server.url)
    )
    assert isinstance(p, PayjpProvider)
    return p


def test_token_authorise_capture_refund(provider: PayjpProvider, payjp_server: PayjpReplayServer) -> None:
    """A Checkout token is charged with capture=false, then captured and refunded; each POST has
    its own Idempotency-Key and the secret key as Basic auth; no card data is sent."""
    r = payjp_server.replay
    r.script("POST", "/v1/charges", ["charge_authorised"])
    r.script("POST", f"/v1/charges/{CHARGE}/capture", ["charge_captured"])
    r.script("POST", f"/v1/charges/{CHARGE}/refund", ["charge_refunded"])
    charge = provider.authorise_token(payment_id=PAYMENT_ID, amount=1200, token=TOKEN)
    assert (charge.ref, charge.state) == (CHARGE, "authorised")
    [create] = r.calls("POST", "/v1/charges")
    assert create.form["card"] == [TOKEN] and create.form["capture"] == ["false"]
    assert create.form["amount"] == ["1200"] and create.form["currency"] == ["jpy"]
    assert create.form["metadata[payment_id]"] == [PAYMENT_ID] and create.form["expiry_days"] == ["7"]
    assert create.headers["authorization"].startswith("Basic ")
    assert not any(k in create.form for k in ("number", "card[number]", "cvc"))
    assert provider.capture(CHARGE, 1200).state == "captured"
    assert provider.refund(CHARGE, 1200).state == "refunded"
    keys = [c.headers["idempotency-key"] for c in r.requests]
    assert len(set(keys)) == 3 and keys[0] == f"{PAYMENT_ID}-{TOKEN}"


def test_saved_card_customer_then_charge(provider: PayjpProvider, payjp_server: PayjpReplayServer) -> None:
    """A saved card is a PAY.JP customer: we keep only ``cus_…`` and charge it later."""
    r = payjp_server.replay
    r.script("POST", "/v1/customers", ["customer_created"])
    r.script("POST", "/v1/charges", ["charge_customer_authorised"])
    card = provider.save_card(token=TOKEN, payer_ref="resident-42")
    customer = card.customer
    assert customer == "cus_121673955bd7aa144de5a8f6c262"
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("Visa", "4242", 12, 2030)
    [made] = r.calls("POST", "/v1/customers")
    assert made.form["card"] == [TOKEN] and made.form["metadata[payer]"] == ["resident-42"]
    charge = provider.authorise(payment_id=PAYMENT_ID, amount=1200, customer=customer)
    assert charge.state == "authorised"
    [create] = r.calls("POST", "/v1/charges")
    assert create.form["customer"] == [customer] and "card" not in create.form


def test_saved_card_shown_and_deleted(provider: PayjpProvider, payjp_server: PayjpReplayServer) -> None:
    """The card shown comes from ``GET /v1/customers/{id}`` (brand, last 4, expiry); deleting it
    is ``DELETE /v1/customers/{id}``; a customer PAY.JP no longer knows is simply no card."""
    r = payjp_server.replay
    cus = "cus_121673955bd7aa144de5a8f6c262"
    r.script("GET", f"/v1/customers/{cus}", ["customer_retrieved"])
    r.script("DELETE", f"/v1/customers/{cus}", ["customer_deleted"])
    card = provider.card_of(cus)
    assert card is not None and (card.brand, card.last4, card.exp_year) == ("Visa", "4242", 2030)
    provider.delete_card(cus)
    assert len(r.calls("DELETE", f"/v1/customers/{cus}")) == 1
    assert provider.card_of("cus_unknown000000000000") is None  # 404 invalid_id from the server
    assert provider.card_of("not-a-customer") is None
    assert len(r.requests) == 3


def test_partial_refunds_have_their_own_keys(
    provider: PayjpProvider, payjp_server: PayjpReplayServer
) -> None:
    """Two partial refunds of the same amount are two refunds at PAY.JP (distinct Idempotency-Keys),
    while a retry of one keeps its key."""
    r = payjp_server.replay
    r.script("POST", f"/v1/charges/{CHARGE}/refund", ["charge_refunded"])
    provider.refund(CHARGE, 300, refunded_before=0)
    provider.refund(CHARGE, 300, refunded_before=300)
    calls = r.calls("POST", f"/v1/charges/{CHARGE}/refund")
    assert [c.form["amount"] for c in calls] == [["300"], ["300"]]
    assert len({c.headers["idempotency-key"] for c in calls}) == 2


def test_void_releases_the_authorisation(provider: PayjpProvider, payjp_server: PayjpReplayServer) -> None:
    payjp_server.replay.script("POST", f"/v1/charges/{CHARGE}/refund", ["charge_voided"])
    assert provider.void(CHARGE).state == "voided"


@pytest.mark.parametrize(
    ("recording", "words"),
    [
        ("error_card_declined", "カード会社によって決済が承認されませんでした"),
        ("error_expired_card", "有効期限が切れています"),
    ],
)
def test_declines_are_japanese(
    provider: PayjpProvider, payjp_server: PayjpReplayServer, recording: str, words: str
) -> None:
    """A 402 card error becomes PaymentDeclined with a Japanese message; it is not retried."""
    payjp_server.replay.script("POST", "/v1/charges", [recording])
    with pytest.raises(PaymentDeclined) as info:
        provider.authorise_token(payment_id=PAYMENT_ID, amount=1200, token=TOKEN)
    assert words in info.value.message and info.value.http_status == 402
    assert len(payjp_server.replay.calls("POST", "/v1/charges")) == 1


def test_network_error_is_retried_with_the_same_key(
    provider: PayjpProvider, payjp_server: PayjpReplayServer
) -> None:
    """The connection drops, then a 500: the same request (same Idempotency-Key) succeeds on the third try."""
    payjp_server.replay.script("POST", "/v1/charges", ["drop", "error_server", "charge_authorised"])
    charge = provider.authorise_token(payment_id=PAYMENT_ID, amount=1200, token=TOKEN)
    assert charge.ref == CHARGE
    calls = payjp_server.replay.calls("POST", "/v1/charges")
    assert len(calls) == 3 and len({c.headers["idempotency-key"] for c in calls}) == 1


def test_lost_answer_does_not_charge_twice(provider: PayjpProvider, payjp_server: PayjpReplayServer) -> None:
    """PAY.JP made the charge but the answer was lost: the retry with the same key gets that charge
    back (PAY.JP answers an Idempotency-Key it has seen with the first result)."""
    r = payjp_server.replay
    r.script("POST", "/v1/charges", ["process_then_drop", "charge_authorised", "error_card_declined"])
    charge = provider.authorise_token(payment_id=PAYMENT_ID, amount=1200, token=TOKEN)
    assert charge.ref == CHARGE and len(r.calls("POST", "/v1/charges")) == 2
    # Asking again for the same payment (e.g. the resident pressed twice) is the same charge too.
    assert provider.authorise_token(payment_id=PAYMENT_ID, amount=1200, token=TOKEN).ref == CHARGE


def test_unreachable_payjp_is_a_japanese_error(settings: Settings) -> None:
    """Nobody listening: after the retries a ServiceUnavailable in Japanese, never a traceback."""
    from tests.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}"  # a port nobody listens on
    p = PayjpProvider(b"", "", payjp_settings(settings, url, payjp_max_retries=1))
    with pytest.raises(ServiceUnavailable) as info:
        p.capture(CHARGE, 1200)
    assert "PAY.JP" in info.value.message and "接続できません" in info.value.message


def test_state_errors_and_bad_token(provider: PayjpProvider, payjp_server: PayjpReplayServer) -> None:
    payjp_server.replay.script("POST", f"/v1/charges/{CHARGE}/capture", ["error_already_captured"])
    with pytest.raises(InvalidInput, match="すでに確定"):
        provider.capture(CHARGE, 1200)
    with pytest.raises(InvalidInput, match="カード情報"):
        provider.authorise_token(payment_id=PAYMENT_ID, amount=1200, token="4242424242424242")
    assert payjp_server.replay.calls("POST", "/v1/charges") == []  # a card number is never sent


def test_check(settings: Settings, payjp_server: PayjpReplayServer) -> None:
    r = payjp_server.replay
    r.script("GET", "/v1/accounts", ["account"])
    ok = PayjpProvider(b"", "", payjp_settings(settings, payjp_server.url)).check()
    assert ok.ok and "テストモード" in ok.message and ok.details["account"].startswith("acct_")
    r.script("GET", "/v1/accounts", ["error_invalid_api_key"])
    bad = PayjpProvider(b"", "", payjp_settings(settings, payjp_server.url)).check()
    assert not bad.ok and "API キーが正しくありません" in bad.message
    unset = PayjpProvider(b"", "", payjp_settings(settings, payjp_server.url, payjp_webhook_token=""))
    missing = unset.check()
    assert not missing.ok and "Webhook トークン" in missing.message
    mixed = PayjpProvider(b"", "", payjp_settings(settings, payjp_server.url, payjp_public_key="pk_live_x"))
    assert "本番・テスト" in mixed.check().message


def event_body(
    payment_id: str = PAYMENT_ID, *, amount: int = 1200, created: int | None = None, **changes: Any
) -> bytes:
    event = json.loads((RESPONSES / "event_charge_succeeded.json").read_text(encoding="utf-8"))
    event["created"] = int(time.time()) if created is None else created
    event["data"]["metadata"]["payment_id"] = payment_id
    event["data"]["amount"] = amount
    event.update(changes)
    return json.dumps(event).encode()


def test_webhook_verification(provider: PayjpProvider) -> None:
    """The webhook token is required and compared; livemode and age are checked."""
    headers = {"X-Payjp-Webhook-Token": WEBHOOK_TOKEN}
    event = provider.parse_webhook(headers, event_body())
    assert (event.kind, event.payment_id, event.ref, event.amount) == ("authorised", PAYMENT_ID, CHARGE, 1200)
    for bad_headers, body, words in [
        ({}, event_body(), "一致しません"),
        ({"X-Payjp-Webhook-Token": "whook_wrong"}, event_body(), "一致しません"),
        (headers, event_body(created=int(time.time()) - 4 * 86400), "古い"),
        (headers, event_body(livemode=True), "本番・テスト"),
        (headers, event_body(type="customer.created"), "対象外"),
        (headers, b"{not json", "形式"),
    ]:
        with pytest.raises(WebhookRejected, match=words):
            provider.parse_webhook(bad_headers, body)


async def test_webhook_submits_the_prepaid_application(
    settings: Settings, payjp_server: PayjpReplayServer
) -> None:
    """End to end: an application waiting for payment with ``payment_provider=payjp``; PAY.JP's
    charge.succeeded event at our webhook URL authorises it and submits the application, once."""
    from server.domain.eforms import services
    from server.plugins.notifications.memory import MemoryTransport
    from tests.conftest import DEMO_LG_CODE
    from tests.server.conftest import Api
    from tests.server.eforms.conftest import PORTAL
    from tests.server.eforms.test_hostile import _payment_pending

    base = settings.model_copy(update={"mail_transport": "memory", "public_base_url": "http://testserver"})
    MemoryTransport.sent.clear()
    api = Api(payjp_settings(base, payjp_server.url))
    try:
        async with api.db.tenant(DEMO_LG_CODE) as session:
            await services.import_procedures(session, DEMO_LG_CODE, include_examples=True)
        res, payment_id = await _payment_pending(api)
        assert isinstance(provider_for(api.settings, key_ring(api.app.state)), PayjpProvider)
        url = f"{PORTAL}/payments/webhook/payjp"
        http = api.client("192.0.2.10")
        body = event_body(payment_id, amount=600)
        r = await http.post(url, content=body, headers={"X-Payjp-Webhook-Token": "whook_forged"})
        assert r.status_code == 400
        r = await http.post(url, content=body, headers={"X-Payjp-Webhook-Token": WEBHOOK_TOKEN})
        assert r.status_code == 201, r.text
        r = await http.post(url, content=body, headers={"X-Payjp-Webhook-Token": WEBHOOK_TOKEN})
        assert r.status_code == 400 and r.json()["code"] == "payment.webhook_replayed"
        async with api.db.unbound() as s:
            payment = (await s.execute(sa.select(Payment))).scalar_one()
        assert (
            payment.state == "authorised" and payment.provider == "payjp" and payment.provider_ref == CHARGE
        )
        page = await res.http.get(res.app_url)
        assert "申請済み" in page.text
    finally:
        await api.close()


def test_recordings_are_valid_json() -> None:
    for path in Path(RESPONSES).glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))


async def test_pay_page_with_checkout_token(settings: Settings, payjp_server: PayjpReplayServer) -> None:
    """The pay page embeds PAY.JP Checkout (allowed by this page's CSP only, no card field); no
    token or a declined one shows the Japanese reason, a new card's token authorises the charge
    and submits the application."""
    from server.domain.eforms import services
    from server.plugins.notifications.memory import MemoryTransport
    from tests.conftest import DEMO_LG_CODE
    from tests.server.conftest import Api
    from tests.server.eforms.conftest import PDF, Resident, juminhyo_values

    base = settings.model_copy(update={"mail_transport": "memory", "public_base_url": "http://testserver"})
    MemoryTransport.sent.clear()
    api = Api(payjp_settings(base, payjp_server.url))
    try:
        async with api.db.tenant(DEMO_LG_CODE) as session:
            await services.import_procedures(session, DEMO_LG_CODE, include_examples=True)
        res = Resident(api)
        await res.start("juminhyo")
        await res.post_form(juminhyo_values(), files={"id_document": ("id.pdf", PDF, "application/pdf")})
        r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
        link = r.headers["location"]
        assert "/pay/" in link
        page = await res.http.get(link)
        assert page.status_code == 200
        assert 'src="https://checkout.pay.jp/"' in page.text and 'data-key="pk_test_' in page.text
        assert 'name="card"' not in page.text and "サンドボックス" not in page.text
        csp = page.headers["content-security-policy"]
        assert (
            "script-src 'self' https://checkout.pay.jp" in csp and "frame-src https://checkout.pay.jp" in csp
        )
        other = await res.http.get(res.app_url)
        assert "checkout.pay.jp" not in other.headers["content-security-policy"]

        no_token = await res.http.post(link, data={})
        assert no_token.status_code == 422 and "カード情報を受け取れませんでした" in no_token.text
        payjp_server.replay.script("POST", "/v1/charges", ["error_card_declined", "charge_authorised"])
        declined = await res.http.post(link, data={"payjp-token": TOKEN})
        assert declined.status_code == 402 and "カード会社によって決済が承認されませんでした" in declined.text
        paid = await res.http.post(link, data={"payjp-token": "tok_second_card_0123456789"})
        assert paid.status_code == 303 and paid.headers["location"].endswith("?done=1")
        async with api.db.unbound() as s:
            payment = (await s.execute(sa.select(Payment))).scalar_one()
        assert payment.state == "authorised" and payment.provider_ref == CHARGE
        assert "申請済み" in (await res.http.get(res.app_url)).text
        again = await res.http.post(link, data={"payjp-token": "tok_third_card_0123456789"})
        assert again.status_code == 409  # already paid: nothing charged twice
        assert len(payjp_server.replay.calls("POST", "/v1/charges")) == 2
    finally:
        await api.close()


async def test_saved_card_pages_through_payjp_customers(
    settings: Settings, payjp_server: PayjpReplayServer
) -> None:
    """With ``payjp``: the card page embeds Checkout (its CSP on that page only); the posted token
    becomes a PAY.JP customer, shown from ``GET /v1/customers/{id}``; a later application is paid
    with ``customer=cus_…`` (no token); replacing makes a new customer and deletes the old one;
    deleting calls ``DELETE /v1/customers/{id}``. Only the ``cus_…`` id is stored."""
    from datetime import UTC, datetime

    from server.db.models import ResidentAccount
    from server.domain.eforms import services
    from tests.conftest import DEMO_LG_CODE
    from tests.server.conftest import Api
    from tests.server.eforms.test_accounts import ACCOUNT, Browser
    from tests.server.eforms.test_saved_cards import CARD, prepaid_application

    base = settings.model_copy(update={"mail_transport": "memory", "public_base_url": "http://testserver"})
    api = Api(payjp_settings(base, payjp_server.url))
    r = payjp_server.replay
    first, second = "cus_121673955bd7aa144de5a8f6c262", "cus_8e2b7a41c90d4f3a5b6c7d8e9f01"
    try:
        async with api.db.tenant(DEMO_LG_CODE) as session:
            await services.import_procedures(session, DEMO_LG_CODE, include_examples=True)
        b = Browser(api)
        assert (await b.register()).status_code == 200
        async with api.db.unbound() as s:
            account = (await s.execute(sa.select(ResidentAccount))).scalar_one()
            account.email_verified_at = datetime.now(UTC)
            await s.commit()
        assert (await b.login()).status_code == 303
        page = await b.http.get(CARD)
        assert 'src="https://checkout.pay.jp/"' in page.text and 'name="card"' not in page.text
        assert "script-src 'self' https://checkout.pay.jp" in page.headers["content-security-policy"]
        assert "checkout.pay.jp" not in (await b.http.get(ACCOUNT)).headers["content-security-policy"]

        csrf = await b.csrf(CARD)
        bad = await b.http.post(CARD, data={"csrf": csrf})
        assert bad.status_code == 422 and "カード情報を受け取れませんでした" in bad.text
        r.script(
            "POST", "/v1/customers", ["error_card_declined", "customer_created", "customer_created_second"]
        )
        declined = await b.http.post(CARD, data={"csrf": csrf, "payjp-token": TOKEN})
        assert declined.status_code == 402 and "カード会社によって決済が承認されませんでした" in declined.text
        saved = await b.http.post(CARD, data={"csrf": csrf, "payjp-token": "tok_first_card_000000000001"})
        assert saved.status_code == 303
        r.script("GET", f"/v1/customers/{first}", ["customer_retrieved"])
        page = await b.http.get(CARD)
        assert "Visa" in page.text and "末尾 4242" in page.text and "12/2030" in page.text
        async with api.db.unbound() as s:
            stored = (await s.execute(sa.select(ResidentAccount))).scalar_one()
        assert (stored.payment_provider, stored.payment_customer) == ("payjp", first)

        _, pay_link = await prepaid_application(b)
        assert "登録済みのカード（Visa 末尾 4242" in (await b.http.get(pay_link)).text
        r.script("POST", "/v1/charges", ["charge_customer_authorised"])
        paid = await b.http.post(pay_link, data={"saved_card": "1"})
        assert paid.status_code == 303 and paid.headers["location"].endswith("?done=1")
        [charge] = r.calls("POST", "/v1/charges")
        assert charge.form["customer"] == [first] and "card" not in charge.form
        assert charge.form["capture"] == ["false"]

        r.script("DELETE", f"/v1/customers/{first}", ["customer_deleted"])
        r.script("DELETE", f"/v1/customers/{second}", ["customer_deleted"])
        replaced = await b.http.post(CARD, data={"csrf": csrf, "payjp-token": "tok_second_card_00000000002"})
        assert replaced.status_code == 303
        assert len(r.calls("DELETE", f"/v1/customers/{first}")) == 1
        r.script("GET", f"/v1/customers/{second}", ["customer_created_second"])
        page = await b.http.get(CARD)
        assert "MasterCard" in page.text and "末尾 4444" in page.text
        gone = await b.http.post(f"{CARD}/delete", data={"csrf": csrf})
        assert gone.status_code == 303 and len(r.calls("DELETE", f"/v1/customers/{second}")) == 1
        async with api.db.unbound() as s:
            stored = (await s.execute(sa.select(ResidentAccount))).scalar_one()
        assert stored.payment_customer is None
    finally:
        await api.close()


async def test_first_payment_keeps_the_card_as_a_payjp_customer(
    settings: Settings, payjp_server: PayjpReplayServer
) -> None:
    """「このカードを次回も使う」 with PAY.JP: the one Checkout token makes the customer, the charge
    goes to ``customer=cus_…`` (a token is used once); the next application offers that card."""
    from datetime import UTC, datetime

    from server.db.models import ResidentAccount
    from server.domain.eforms import services
    from tests.conftest import DEMO_LG_CODE
    from tests.server.conftest import Api
    from tests.server.eforms.test_accounts import Browser
    from tests.server.eforms.test_saved_cards import prepaid_application

    base = settings.model_copy(update={"mail_transport": "memory", "public_base_url": "http://testserver"})
    api = Api(payjp_settings(base, payjp_server.url))
    r = payjp_server.replay
    first = "cus_121673955bd7aa144de5a8f6c262"
    try:
        async with api.db.tenant(DEMO_LG_CODE) as session:
            await services.import_procedures(session, DEMO_LG_CODE, include_examples=True)
        b = Browser(api)
        assert (await b.register()).status_code == 200
        async with api.db.unbound() as s:
            account = (await s.execute(sa.select(ResidentAccount))).scalar_one()
            account.email_verified_at = datetime.now(UTC)
            await s.commit()
        assert (await b.login()).status_code == 303
        _, pay_link = await prepaid_application(b)
        page = await b.http.get(pay_link)
        form = page.text[page.text.index('id="payjp"') :]
        assert "このカードを次回も使う" in form and 'name="exp_month"' not in page.text
        csrf = await b.csrf(pay_link)
        r.script("POST", "/v1/customers", ["error_card_declined", "customer_created"])
        r.script("POST", "/v1/charges", ["charge_customer_authorised"])
        data = {"payjp-token": TOKEN, "save_card": "1", "csrf": csrf}
        declined = await b.http.post(pay_link, data=data)
        assert declined.status_code == 402 and "カード会社によって決済が承認されませんでした" in declined.text
        assert not r.calls("POST", "/v1/charges")  # no customer, no charge
        paid = await b.http.post(pay_link, data={**data, "payjp-token": "tok_first_card_000000000001"})
        assert paid.status_code == 303 and paid.headers["location"].endswith("?done=1")
        made = r.calls("POST", "/v1/customers")[-1]
        assert made.form["card"] == ["tok_first_card_000000000001"]
        [charge] = r.calls("POST", "/v1/charges")
        assert charge.form["customer"] == [first] and "card" not in charge.form
        assert charge.form["capture"] == ["false"]
        async with api.db.unbound() as s:
            stored = (await s.execute(sa.select(ResidentAccount))).scalar_one()
            payment = (await s.execute(sa.select(Payment))).scalar_one()
        assert (stored.payment_provider, stored.payment_customer) == ("payjp", first)
        assert payment.state == "authorised" and payment.provider_ref == "ch_1b2c3d4e5f60718293a4b5c6d7e8f"
        r.script("GET", f"/v1/customers/{first}", ["customer_retrieved"])
        _, second_link = await prepaid_application(b)
        assert "登録済みのカード（Visa 末尾 4242" in (await b.http.get(second_link)).text
    finally:
        await api.close()
