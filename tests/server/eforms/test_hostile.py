"""Hostile input: oversized and mislabelled files, too many repeats, tampered fields, forged and
replayed payment webhooks, and 個人番号 that must never be stored or shown in clear."""

from __future__ import annotations

import json
import time

import sqlalchemy as sa

from server.db.models import Application, AuditEvent
from server.deps import key_ring
from server.domain.eforms import services
from server.domain.payments.services import provider_for
from server.plugins.payments.sandbox import SandboxProvider
from tests.conftest import DEMO_LG_CODE
from tests.server.conftest import BAD_MY_NUMBER, VALID_MY_NUMBER
from tests.server.eforms.conftest import PDF, PORTAL, Resident, deliver, juminhyo_values

MB = 1024 * 1024


async def test_mislabelled_and_wrong_extension_files_are_refused(eapi):
    """A script renamed .pdf and an .exe are refused by content and extension; nothing is stored."""
    res = Resident(eapi)
    await res.start("juminhyo")
    r = await res.post_form(
        {},
        files={"id_document": ("id.pdf", b"<script>alert(1)</script>", "application/pdf")},
        action="refresh",
    )
    assert r.status_code == 422 and "拡張子と一致しません" in r.text
    r = await res.post_form(
        {}, files={"id_document": ("tool.exe", b"MZ\x90\x00", "application/pdf")}, action="refresh"
    )
    assert r.status_code == 422 and "添付できるファイルの種類" in r.text
    r = await res.post_form({}, files={"id_document": ("photo.png", PDF, "image/png")}, action="refresh")
    assert r.status_code == 422 and "拡張子と一致しません" in r.text
    async with eapi.db.unbound() as s:
        assert (await s.execute(sa.text("SELECT count(*) FROM eform_attachments"))).scalar_one() == 0


async def test_oversized_file_is_refused(eapi):
    """A file over the procedure's per-file limit (10 MB) is refused with the limit in the message."""
    res = Resident(eapi)
    await res.start("juminhyo")
    big = b"%PDF-1.4\n" + b"0" * (10 * MB + 1)
    r = await res.post_form({}, files={"id_document": ("big.pdf", big, "application/pdf")}, action="refresh")
    assert r.status_code == 422 and "1ファイル10MBまで" in r.text


async def test_aggregate_limit_per_application():
    """The 100 MB total per application is enforced before a file is stored."""
    import pytest

    from server.domain.eforms.uploads import check_file
    from shared.errors import PayloadTooLarge
    from shared.schemas.eform import Uploads

    with pytest.raises(PayloadTooLarge) as info:
        check_file("a.pdf", b"%PDF-" + b"0" * (5 * MB), Uploads(max_file_mb=10), 96 * MB)
    assert "100MB" in info.value.message
    assert check_file("a.pdf", b"%PDF-1", Uploads(), 99 * MB).content_type == "application/pdf"


async def test_more_repeats_than_allowed_is_an_error(eapi):
    """A tampered group count above the maximum is refused and cut back to the maximum."""
    res = Resident(eapi)
    await res.start("juminhyo")
    data = juminhyo_values(**{"persons__count": "50"})
    r = await res.post_form(data)
    assert r.status_code == 422 and "必要な人は6件までです" in r.text
    assert r.text.count('class="item"') == 6
    r = await res.post_form({"persons__count": "6"}, action="add:persons")
    assert "6件までです" in r.text


async def test_tampered_choice_and_csrf_are_refused(eapi):
    """A value outside the options is a field error; a wrong CSRF token is a 403 page."""
    res = Resident(eapi)
    await res.start("juminhyo")
    r = await res.post_form(juminhyo_values(purpose="hack", include=["household", "evil"]))
    assert r.status_code == 422 and r.text.count("選択肢の中から選んでください") == 4  # summary + field
    res.csrf = "0" * 32
    r = await res.post_form(juminhyo_values())
    assert r.status_code == 403 and "有効期限" in r.text


async def test_script_in_text_is_stored_as_text_and_escaped(eapi):
    """Script typed into a field is kept verbatim and only ever rendered escaped."""
    res = Resident(eapi)
    await res.start("juminhyo")
    r = await res.post_form({"name": '"><script>alert(1)</script>'}, action="refresh")
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;" in r.text
    async with eapi.db.unbound() as s:
        values = (await s.execute(sa.select(Application.values))).scalar_one()
    assert values["name"] == '"><script>alert(1)</script>'


async def test_my_number_is_checked_encrypted_and_never_shown(eapi):
    """個人番号: wrong check digit refused; stored only encrypted; decryptable with the key ring."""
    async with eapi.db.tenant(DEMO_LG_CODE) as s:
        row = (
            await s.execute(sa.text("SELECT id FROM eform_procedures WHERE slug='inkan-shomei'"))
        ).scalar_one()
        await s.execute(
            sa.text("UPDATE eform_procedures SET definition = :d WHERE id = :i"),
            {"d": json.dumps(_guest_inkan()), "i": row},
        )
    res = Resident(eapi)
    await res.start("inkan-shomei")
    r = await res.post_form({"my_number": BAD_MY_NUMBER}, action="refresh")
    assert r.status_code == 422 and "検査用数字" in r.text and BAD_MY_NUMBER not in r.text
    r = await res.post_form({"my_number": VALID_MY_NUMBER}, action="refresh")
    assert r.status_code == 200 and VALID_MY_NUMBER not in r.text and "暗号化して保存しました" in r.text
    async with eapi.db.unbound() as s:
        app = (await s.execute(sa.select(Application))).scalar_one()
        dump = (await s.execute(sa.text("SELECT * FROM eform_applications"))).all()
    assert VALID_MY_NUMBER not in repr(dump)
    assert services.reveal_my_number(key_ring(eapi.app.state), app, "my_number") == VALID_MY_NUMBER


def _guest_inkan():
    import yaml

    d = yaml.safe_load((services.starter_folder() / "inkan-shomei.yaml").read_text(encoding="utf-8"))
    return {**d, "guest_allowed": True}


async def _payment_pending(eapi) -> tuple[Resident, str]:
    res = Resident(eapi)
    await res.start("juminhyo")
    await res.post_form(juminhyo_values(), files={"id_document": ("id.pdf", PDF, "application/pdf")})
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    payment_id = r.headers["location"].split("/pay/")[1].split("?")[0]
    return res, payment_id


async def test_forged_stale_and_replayed_webhooks_are_refused(eapi):
    """Only a fresh, correctly signed webhook counts, and only once; refusals are audited."""
    res, payment_id = await _payment_pending(eapi)
    provider = provider_for(eapi.settings, key_ring(eapi.app.state))
    assert isinstance(provider, SandboxProvider)
    url = f"{PORTAL}/payments/webhook/sandbox"
    http = eapi.client("192.0.2.10")
    body, sig = provider.signed_event(payment_id=payment_id, kind="authorised", amount=600, event_id="evt_1")
    forged = body.replace(b"600", b"1")
    r = await http.post(url, content=forged, headers={"x-sandbox-signature": sig})
    assert r.status_code == 400 and r.json()["code"] == "payment.webhook_rejected"
    old_body, old_sig = provider.signed_event(
        payment_id=payment_id, kind="authorised", amount=600, event_id="evt_0", at=int(time.time()) - 3600
    )
    r = await http.post(url, content=old_body, headers={"x-sandbox-signature": old_sig})
    assert r.status_code == 400 and "古い" in r.json()["message"]
    r = await http.post(url, content=body, headers={"x-sandbox-signature": sig})
    assert r.status_code == 201, r.text
    r = await http.post(url, content=body, headers={"x-sandbox-signature": sig})
    assert r.status_code == 400 and r.json()["code"] == "payment.webhook_replayed"
    r = await res.http.get(res.app_url)
    assert "申請済み" in r.text
    submitted = [m for m in await deliver(eapi) if "受け付けました" in m["Subject"]]
    assert len(submitted) == 1  # the replay did not submit twice
    async with eapi.db.unbound() as s:
        denied = (
            await s.execute(sa.select(sa.func.count()).where(AuditEvent.action == "payment_webhook_denied"))
        ).scalar_one()
    assert denied == 3


async def test_foreign_application_id_is_not_found(eapi):
    """Another resident's application cannot be opened by guessing its id."""
    res = Resident(eapi)
    await res.start("juminhyo")
    stranger = eapi.client("198.51.100.200")
    for path in ("", "/form", "/confirm"):
        r = await stranger.get(res.app_url + path)
        assert r.status_code == 404
