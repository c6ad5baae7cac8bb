"""The staff console: cookie login through accounts, list and detail, status mails, payments, CSV."""

from __future__ import annotations

import re

import sqlalchemy as sa

from server.db.models import AuditEvent, Payment
from tests.conftest import DEMO_CLERK, DEMO_LG_CODE, DEMO_SUPERVISOR
from tests.server.eforms.conftest import PDF, Resident, body_of, deliver, juminhyo_values


async def staff(eapi, who=DEMO_SUPERVISOR, ip="127.0.0.1"):
    """A logged-in console browser and its CSRF token."""
    http = eapi.client(ip)
    r = await http.post(
        "/console/login", data={"lg_code": DEMO_LG_CODE, "username": who[0], "password": who[1]}
    )
    assert r.status_code == 303, r.text
    page = await http.get("/console/")
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    return http, match.group(1) if match else ""


async def submitted_koseki(eapi) -> Resident:
    """A submitted 戸籍 application (postpayment procedure)."""
    res = Resident(eapi)
    await res.start("koseki")
    data = {
        "name": "下妻 太郎<script>alert(1)</script>",
        "tel": "0296432111",
        "domicile": "茨城県下妻市本城町2-22",
        "head": "下妻 一郎",
        "kind": "koseki_part",
        "part_person": "葛\U000e0100西 花子",
        "copies": "1",
    }
    r = await res.post_form(data, files={"id_document": ("運転免許証.pdf", PDF, "application/pdf")})
    assert r.status_code == 303, r.text
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    assert r.status_code == 303
    await deliver(eapi)
    return res


async def test_console_requires_login_and_permission(eapi):
    """Without a cookie the console redirects to login; a counter clerk lacks eform.review."""
    http = eapi.client("127.0.0.1")
    r = await http.get("/console/")
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    r = await http.post("/console/login", data={"lg_code": DEMO_LG_CODE, "username": "demo", "password": "x"})
    assert r.status_code == 401 and "正しくありません" in r.text
    clerk, _ = await staff(eapi, DEMO_CLERK)
    r = await clerk.get("/console/")
    assert r.status_code == 403 and "権限がありません" in r.text


async def test_console_login_outside_lgwan_needs_allow_list_and_totp(eapi):
    """The accounts network rule holds for the console: outside LGWAN without TOTP is refused."""
    http = eapi.client("203.0.113.9")
    r = await http.post(
        "/console/login",
        data={"lg_code": DEMO_LG_CODE, "username": DEMO_SUPERVISOR[0], "password": DEMO_SUPERVISOR[1]},
    )
    assert r.status_code == 401 and "このネットワークからはログインできません" in r.text


async def test_review_flow_with_status_mail_postpayment_and_refund(eapi):
    """Staff see the application, review it, charge a postpayment, capture and refund; mails go out."""
    res = await submitted_koseki(eapi)
    http, csrf = await staff(eapi)
    r = await http.get("/console/", params={"procedure": "koseki", "status": "submitted"})
    assert "E-" in r.text and "CSV出力" in r.text
    r = await http.get(f"/console/applications/{res.app_id}")
    assert "&lt;script&gt;" in r.text and "<script>alert" not in r.text  # escaped, never executed
    assert "運転免許証.pdf" in r.text
    file_link = re.search(r'href="(/console/applications/[^"]+/files/[^"]+)"', r.text).group(1)
    r = await http.get(file_link)
    assert r.content == PDF and r.headers["content-disposition"].startswith("attachment")
    r = await http.post(
        f"/console/applications/{res.app_id}/status", data={"csrf": "wrong", "status": "reviewed"}
    )
    assert r.status_code == 403
    r = await http.post(
        f"/console/applications/{res.app_id}/status", data={"csrf": csrf, "status": "reviewed"}
    )
    assert r.status_code == 303
    r = await http.post(f"/console/applications/{res.app_id}/payment", data={"csrf": csrf, "amount": "450"})
    assert r.status_code == 303
    mails = await deliver(eapi)
    assert any("審査が完了しました" in m["Subject"] for m in mails)
    pay_mail = next(m for m in mails if "お支払いのお願い" in m["Subject"])
    assert "450円" in body_of(pay_mail)
    pay_link = re.search(r"http://testserver(\S+/pay/\S+)", body_of(pay_mail)).group(1)
    other_device = eapi.client("198.51.100.99")
    r = await other_device.post(pay_link, data={"card": "4242424242424242"})
    assert r.status_code == 303
    r = await other_device.get(r.headers["location"])
    assert "お支払いは完了しています" in r.text
    r = await http.get(f"/console/applications/{res.app_id}")
    capture = re.search(r'action="([^"]+/capture)"', r.text).group(1)
    assert (await http.post(capture, data={"csrf": csrf})).status_code == 303
    r = await http.get(f"/console/applications/{res.app_id}")
    refund = re.search(r'action="([^"]+/refund)"', r.text).group(1)
    assert (await http.post(refund, data={"csrf": csrf, "amount": "450"})).status_code == 303
    r = await http.get(f"/console/applications/{res.app_id}")
    assert "<td>返金済み</td>" in r.text
    assert any("返金しました" in m["Subject"] for m in await deliver(eapi))
    r = await http.post(
        f"/console/applications/{res.app_id}/status", data={"csrf": csrf, "status": "submitted"}
    )
    assert r.status_code == 409 and "変更できません" in r.text


async def test_status_mail_uses_the_procedures_own_text(eapi):
    """住民票 has its own 'completed' text with placeholders; it is what the resident receives."""
    res = Resident(eapi)
    await res.start("juminhyo")
    r = await res.post_form(
        juminhyo_values(), files={"id_document": ("id.png", b"\x89PNG\r\n\x1a\n" + b"0" * 10, "image/png")}
    )
    assert r.status_code == 303
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    pay = r.headers["location"]
    await res.http.post(pay, data={"card": "4242424242424242"})
    http, csrf = await staff(eapi)
    for status in ("reviewed", "completed"):
        await http.post(f"/console/applications/{res.app_id}/status", data={"csrf": csrf, "status": status})
    mails = await deliver(eapi)
    done = next(m for m in mails if "発送しました" in m["Subject"])
    assert "下妻 太郎 様" in body_of(done) and re.search(r"E-\d{8}-\d{6}", done["Subject"])


async def test_csv_export_utf8_bom_and_shift_jis(eapi):
    """CSV with chosen columns and Japanese headers, in UTF-8 with BOM and in Shift_JIS."""
    await submitted_koseki(eapi)
    http, _ = await staff(eapi)
    params = {"procedure": "koseki", "column": ["reference", "f.name", "f.kind", "f.part_person"]}
    r = await http.get("/console/export.csv", params={**params, "encoding": "utf-8"})
    assert r.content.startswith(b"\xef\xbb\xbf")
    text = r.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "申請番号,請求者の氏名,請求するもの,抄本が必要な人の氏名"
    assert "戸籍抄本（個人事項証明）" in text
    r = await http.get("/console/export.csv", params={**params, "encoding": "sjis"})
    sjis = r.content.decode("cp932")
    assert sjis.splitlines()[0].startswith("申請番号,請求者の氏名") and "葛西 花子" in sjis
    assert "shift_jis" in r.headers["content-type"].lower()


async def captured_payment(eapi):
    """A 戸籍 application whose 450円 postpayment is paid and captured; the staff browser."""
    res = await submitted_koseki(eapi)
    http, csrf = await staff(eapi)
    await http.post(f"/console/applications/{res.app_id}/status", data={"csrf": csrf, "status": "reviewed"})
    await http.post(f"/console/applications/{res.app_id}/payment", data={"csrf": csrf, "amount": "450"})
    mails = await deliver(eapi)
    pay_mail = next(m for m in mails if "お支払いのお願い" in m["Subject"])
    pay_link = re.search(r"http://testserver(\S+/pay/\S+)", body_of(pay_mail)).group(1)
    assert (await res.http.post(pay_link, data={"card": "4242424242424242"})).status_code == 303
    r = await http.get(f"/console/applications/{res.app_id}")
    capture = re.search(r'action="([^"]+/capture)"', r.text).group(1)
    assert (await http.post(capture, data={"csrf": csrf})).status_code == 303
    return res, http, csrf


async def test_partial_refunds_up_to_what_was_captured(eapi):
    """Several partial refunds (the same amount twice too), each audited and mailed with its own
    amount; garbage, zero, negative and more than what is left are refused in Japanese."""
    res, http, csrf = await captured_payment(eapi)
    r = await http.get(f"/console/applications/{res.app_id}")
    refund = re.search(r'action="([^"]+/refund)"', r.text).group(1)
    assert "残り450円まで" in r.text
    for bad, words in [
        ("abc", "数字で入力してください"),
        ("", "金額を入力してください"),
        ("-5", "1円以上"),
        ("0", "1円以上"),
        ("1e3", "数字で入力してください"),
        ("451", "返金できるのは残り450円まで"),
        ("9" * 40, "数字で入力してください"),
    ]:
        r = await http.post(refund, data={"csrf": csrf, "amount": bad})
        assert r.status_code == 422 and words in r.text, (bad, r.status_code)
    assert (await http.post(refund, data={"csrf": "wrong", "amount": "10"})).status_code == 403
    async with eapi.db.unbound() as s:
        assert (await s.execute(sa.select(Payment))).scalar_one().refunded_amount == 0
    for amount in ("１００円", "100", "1,00"):
        assert (await http.post(refund, data={"csrf": csrf, "amount": amount})).status_code == 303
    r = await http.get(f"/console/applications/{res.app_id}")
    assert "（一部返金）" in r.text and "残り150円まで" in r.text
    r = await http.post(refund, data={"csrf": csrf, "amount": "151"})
    assert r.status_code == 422 and "残り150円までです（決済額450円、返金済み300円）" in r.text
    assert (await http.post(refund, data={"csrf": csrf, "amount": "150"})).status_code == 303
    r = await http.get(f"/console/applications/{res.app_id}")
    assert "<td>返金済み</td>" in r.text and "/refund" not in r.text
    assert (await http.post(refund, data={"csrf": csrf, "amount": "1"})).status_code == 409
    mails = [m for m in await deliver(eapi) if "返金しました" in m["Subject"]]
    assert sorted(re.search(r"手数料 (\d+)円", body_of(m)).group(1) for m in mails) == [
        "100",
        "100",
        "100",
        "150",
    ]
    async with eapi.db.unbound() as s:
        payment = (await s.execute(sa.select(Payment))).scalar_one()
        events = (
            (await s.execute(sa.select(AuditEvent).where(AuditEvent.action == "payment_refund_success")))
            .scalars()
            .all()
        )
    assert payment.state == "refunded" and payment.refunded_amount == 450
    assert sorted(e.details["amount"] for e in events) == [100, 100, 100, 150]
