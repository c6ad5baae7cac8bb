"""The resident portal without JavaScript: guide, guest code, form, 一時保存, confirm, submit, status."""

from __future__ import annotations

import re

import sqlalchemy as sa

from server.db.models import Application, ApplicationFile
from tests.server.eforms.conftest import PDF, PORTAL, Resident, body_of, deliver, juminhyo_values


async def test_guide_lists_categories_and_searches(eapi):
    """The guide shows procedures by category, and search narrows them."""
    http = eapi.client("198.51.100.7")
    r = await http.get(f"{PORTAL}/")
    assert r.status_code == 200
    assert "戸籍・住民票" in r.text and "住民票の写しの交付申請" in r.text and "固定資産評価証明書" in r.text
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    r = await http.get(f"{PORTAL}/", params={"q": "固定資産"})
    assert "固定資産評価証明書" in r.text and "住民票の写しの交付申請" not in r.text
    r = await http.get(f"{PORTAL}/procedures/juminhyo")
    assert "用意するもの" in r.text and "1通300円" in r.text


async def test_unknown_municipality_and_procedure_are_html_404(eapi):
    """A wrong municipality or slug is a Japanese 404 page, not JSON."""
    http = eapi.client("198.51.100.7")
    r = await http.get("/portal/999999/")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    r = await http.get(f"{PORTAL}/procedures/nope")
    assert r.status_code == 404 and "受付期間外" in r.text


async def test_guest_code_opens_the_form_and_wrong_code_does_not(eapi):
    """The emailed code opens the draft; a wrong code is refused with a message."""
    res = Resident(eapi)
    r = await res.http.post(f"{PORTAL}/procedures/juminhyo/start", data={"email": "a@example.jp"})
    url = r.headers["location"].removesuffix("/verify")
    mails = await deliver(eapi)
    assert mails[-1]["To"] == "a@example.jp" and "確認コード" in body_of(mails[-1])
    page = await res.http.get(url + "/verify")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    r = await res.http.post(url + "/verify", data={"csrf": csrf, "code": "000000x"})
    assert r.status_code == 422 and "確認コードが正しくない" in r.text
    r = await res.http.get(url + "/form")
    assert r.status_code == 303 and r.headers["location"].endswith("/verify")


async def test_bad_email_is_a_field_error(eapi):
    """An invalid address stays on the guide page with the error at the field."""
    http = eapi.client("198.51.100.7")
    r = await http.post(f"{PORTAL}/procedures/juminhyo/start", data={"email": "not-an-address"})
    assert r.status_code == 422 and 'aria-invalid="true"' in r.text and "形式が正しくありません" in r.text


async def test_missing_fields_show_summary_and_field_errors_and_keep_input(eapi):
    """Confirm with gaps: 422, an error summary linking to fields, and typed values survive."""
    res = Resident(eapi)
    await res.start("juminhyo")
    r = await res.post_form({"name": "下妻 花子", "name_kana": "abc"})
    assert r.status_code == 422
    assert 'class="error-summary"' in r.text and 'href="#f-tel"' in r.text
    assert "カタカナで入力してください" in r.text
    assert 'value="下妻 花子"' in r.text


async def test_full_submission_with_condition_repeat_upload_and_prepayment(eapi):
    """A complete 住民票 application: condition, two repeats, upload, sandbox payment, mail."""
    res = Resident(eapi)
    await res.start("juminhyo")
    values = juminhyo_values(purpose="other", **{"persons__count": "2"})
    r = await res.post_form(values, files={"id_document": ("license.pdf", PDF, "application/pdf")})
    assert r.status_code == 422 and "使いみち（その他）" in r.text  # required by the condition
    values.update({"purpose_other": "銀行口座の開設", "persons.1.person_name": "下妻 花子"})
    r = await res.post_form(values)
    assert r.status_code == 303 and r.headers["location"].endswith("/confirm")
    r = await res.http.get(res.app_url + "/confirm")
    assert "銀行口座の開設" in r.text and "必要な人 2件目 氏名" in r.text and "license.pdf" in r.text
    assert "昭和55年4月1日" in r.text and "シモツマ　タロウ" in r.text and "600円" in r.text
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    assert r.status_code == 303 and "/pay/" in r.headers["location"]
    pay = r.headers["location"]
    r = await res.http.post(pay, data={"card": "4000 0000 0000 0002"})
    assert r.status_code == 402 and "できませんでした" in r.text
    r = await res.http.post(pay, data={"card": "4242 4242 4242 4242"})
    assert r.status_code == 303
    r = await res.http.get(res.app_url)
    assert "申請済み" in r.text and re.search(r"E-\d{8}-000001", r.text)
    mails = await deliver(eapi)
    assert any("申請を受け付けました" in m["Subject"] and "600円" in body_of(m) for m in mails)


async def test_save_and_resume_from_another_device_keeps_files(eapi):
    """一時保存 mails a link; another browser opens the draft with values and the attached file."""
    res = Resident(eapi)
    await res.start("juminhyo")
    r = await res.post_form(
        {"name": "下妻 太郎"}, files={"id_document": ("id.pdf", PDF, "application/pdf")}, action="save"
    )
    assert r.status_code == 200 and "一時保存しました" in r.text
    link = re.search(r"(http://testserver\S+/resume\?key=\S+)", body_of((await deliver(eapi))[-1])).group(1)
    other = eapi.client("203.0.113.77")
    r = await other.get(link.removeprefix("http://testserver"))
    assert r.status_code == 303
    r = await other.get(r.headers["location"])
    assert r.status_code == 200 and 'value="下妻 太郎"' in r.text and "添付済み: id.pdf" in r.text
    stranger = eapi.client("203.0.113.78")
    r = await stranger.get(res.app_url + "/form")  # no cookie, no link: nothing to see
    assert r.status_code == 404


async def test_postal_code_fills_the_address_without_javascript(eapi):
    """住所を検索 fills a unique address; an ambiguous code offers every candidate."""
    res = Resident(eapi)
    await res.start("juminhyo")
    r = await res.post_form({"postal_code": "1000001"}, action="postal:postal_code")
    assert r.status_code == 200 and "東京都千代田区千代田" in r.text
    r = await res.post_form({"postal_code": "452-0961", "address": ""}, action="postal:postal_code")
    assert "春日一番割" in r.text and "春日稲荷" in r.text and "選んでください" in r.text
    r = await res.post_form({"postal_code": "452-0961", "address": ""}, action="address:address:1")
    assert 'value="愛知県清須市春日一番割"' in r.text
    api = await eapi.client("127.0.0.1").get("/portal/api/postal/4520961")
    assert len(api.json()["addresses"]) > 10


async def test_group_add_and_remove_buttons(eapi):
    """追加 and 削除 change the number of repeats and keep the other items' values."""
    res = Resident(eapi)
    await res.start("juminhyo")
    r = await res.post_form({"persons__count": "1", "persons.0.person_name": "一郎"}, action="add:persons")
    assert "必要な人 2件目" in r.text
    data = {"persons__count": "2", "persons.0.person_name": "一郎", "persons.1.person_name": "二郎"}
    r = await res.post_form(data, action="remove:persons:0")
    assert "必要な人 2件目" not in r.text and 'value="二郎"' in r.text


async def test_withdraw_a_submitted_application(eapi):
    """The resident withdraws; the status and the mail say so."""
    res = Resident(eapi)
    await res.start("koseki")
    r = await res.post_form(
        {
            "name": "下妻 太郎",
            "tel": "0296432111",
            "domicile": "茨城県下妻市本城町2-22",
            "head": "下妻 一郎",
            "kind": "koseki_full",
            "copies": "1",
        },
        files={"id_document": ("id.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 303
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=1")
    r = await res.http.post(res.app_url + "/withdraw", data={"csrf": res.csrf})
    r = await res.http.get(res.app_url)
    assert "取下げ" in r.text
    assert any("取り下げ" in m["Subject"] for m in await deliver(eapi))
    async with eapi.db.unbound() as s:
        assert (await s.execute(sa.select(sa.func.count()).select_from(ApplicationFile))).scalar_one() == 1
        assert (await s.execute(sa.select(Application.status))).scalar_one() == "withdrawn"
