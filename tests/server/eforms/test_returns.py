"""差戻し: staff return a submitted application with the items to fix; the resident corrects only
those (the whole form still validated), confirms and resubmits; hostile posts change nothing."""

from __future__ import annotations

import email
import re

import sqlalchemy as sa

from server.db.models import Application, ApplicationFile, ApplicationReturn, AuditEvent
from server.domain.notifications import send_due
from server.plugins.notifications import open_transport
from tests.server.eforms.conftest import PDF, PNG, Resident, body_of, deliver, juminhyo_values
from tests.server.eforms.test_console import staff, submitted_koseki
from tests.server.eforms.test_mail import smtp_server  # noqa: F401  (fixture)


async def _state(eapi, res):
    async with eapi.db.unbound() as s:
        app = await s.get(Application, res.app_id)
        rows = (await s.execute(sa.select(ApplicationReturn))).scalars().all()
        files = (await s.execute(sa.select(ApplicationFile))).scalars().all()
        return app.status, dict(app.values), [(r.after, r.resubmitted_at) for r in rows], len(files)


async def returned(eapi, fields, reasons=None, comment="記載に誤りがあります。"):
    """A submitted 戸籍 application returned by the supervisor; the resident follows the mail link."""
    res = await submitted_koseki(eapi)
    http, csrf = await staff(eapi)
    data = {"csrf": csrf, "fields": fields, "comment": comment}
    data.update({f"reason:{p}": r for p, r in (reasons or {}).items()})
    r = await http.post(f"/console/applications/{res.app_id}/return", data=data)
    assert r.status_code == 303, r.text
    mails = await deliver(eapi)
    mail = next(m for m in mails if "修正をお願いします" in m["Subject"])
    link = re.search(r"http://testserver(\S+/resume\?key=\S+)", body_of(mail)).group(1)
    await follow(res, link)
    return res, http, csrf, mail


async def follow(res, link):
    """The mail's link (a guest, maybe on another device) opens it again with a new key."""
    r = await res.http.get(link)
    assert r.status_code == 303
    page = await res.http.get(res.app_url + "/fix")
    res.csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)


async def test_return_fix_one_item_and_resubmit(eapi):
    res, http, _csrf, mail = await returned(eapi, ["tel"], {"tel": "番号が1桁足りません。"})
    body = body_of(mail)
    assert "・電話番号：番号が1桁足りません。" in body and "記載に誤りがあります。" in body
    page = await res.http.get(res.app_url)
    assert "差戻し中" in page.text and "番号が1桁足りません。" in page.text and "/fix" in page.text

    form = await res.http.get(res.app_url + "/fix")
    assert form.status_code == 200
    assert 'name="tel"' in form.text and 'id="f-tel"' in form.text
    for other in ("name", "domicile", "kind", "id_document", "copies"):
        assert f'name="{other}"' not in form.text  # shown as text only
    assert "茨城県下妻市本城町2-22" in form.text and "運転免許証.pdf" in form.text

    r = await res.http.post(res.app_url + "/fix", data={"csrf": res.csrf, "action": "confirm", "tel": "12"})
    assert r.status_code == 422 and "電話番号は10桁または11桁" in r.text
    assert (await _state(eapi, res))[0] == "returned"
    r = await res.http.post(
        res.app_url + "/fix", data={"csrf": res.csrf, "action": "confirm", "tel": "029-999-0000"}
    )
    assert r.status_code == 303 and r.headers["location"].endswith("/fix/confirm")
    async with eapi.db.unbound() as s:  # staff still see what was submitted until the resubmission
        assert (await s.get(Application, res.app_id)).values["tel"] == "0296432111"
    confirm = await res.http.get(res.app_url + "/fix/confirm")
    assert "0299990000" in confirm.text and 'class="changed"' in confirm.text
    r = await res.http.post(res.app_url + "/fix/submit", data={"csrf": res.csrf})
    assert r.status_code == 303
    status, values, rows, _ = await _state(eapi, res)
    assert status == "submitted" and values["tel"] == "029-999-0000"
    assert values["name"].startswith("下妻 太郎") and rows[0][1] is not None
    mails = await deliver(eapi)
    assert any("申請を受け付けました" in m["Subject"] for m in mails)

    # Resubmitting twice is refused and changes nothing.
    r = await res.http.post(res.app_url + "/fix/submit", data={"csrf": res.csrf})
    assert r.status_code == 409 and "差戻し中ではない" in r.text
    r = await res.http.post(res.app_url + "/fix", data={"csrf": res.csrf, "tel": "0120000000"})
    assert r.status_code == 409
    assert (await _state(eapi, res))[1]["tel"] == "029-999-0000"

    detail = await http.get(f"/console/applications/{res.app_id}")
    assert "差戻しの記録" in detail.text and "差戻し前: 0296432111" in detail.text
    assert "再提出: 0299990000" in detail.text
    async with eapi.db.unbound() as s:
        actions = (await s.execute(sa.select(AuditEvent.action))).scalars().all()
        ret = (await s.execute(sa.select(ApplicationReturn))).scalar_one()
    assert "application_return_success" in actions and "application_resubmit_success" in actions
    assert ret.before["tel"] == "0296432111" and ret.after["tel"] == "029-999-0000" and ret.changed == ["tel"]


async def test_tampering_is_refused_and_changes_nothing(eapi):
    res, _http, _csrf, _ = await returned(eapi, ["tel"])
    before = await _state(eapi, res)
    for data in (
        {"tel": "0299990000", "name": "なりすまし"},  # an item that was not flagged
        {"tel": "0299990000", "part_person": "隠れた項目"},  # a field hidden by the rules
        {"tel": "0299990000", "kind__count": "3"},
        {"tel": "0299990000", "id_document__remove": "1"},
    ):
        r = await res.http.post(res.app_url + "/fix", data={"csrf": res.csrf, "action": "confirm", **data})
        assert r.status_code == 403 and "差戻しで修正を求められた項目以外は変更できません" in r.text
    r = await res.http.post(
        res.app_url + "/fix",
        data={"csrf": res.csrf, "action": "confirm"},
        files={"id_document": ("x.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 403
    r = await res.http.post(res.app_url + "/fix", data={"csrf": "wrong", "tel": "0299990000"})
    assert r.status_code == 403
    # Another person's browser (no cookie, no login) does not even see it.
    stranger = res.api.client("203.0.113.50")
    for path in ("/fix", "/fix/confirm"):
        r = await stranger.get(res.app_url + path)
        assert r.status_code == 404 and "申請が見つかりません" in r.text
    r = await stranger.post(res.app_url + "/fix/submit", data={"csrf": res.csrf})
    assert r.status_code == 404
    assert await _state(eapi, res) == before


async def test_whole_form_rules_still_apply(eapi):
    """Changing 請求するもの to 抄本 makes 抄本が必要な人 required; it was not flagged, so the
    resident is told and cannot resubmit until the change is taken back."""
    res, *_ = await returned(eapi, ["kind"], {"kind": "種類を選び直してください。"})
    r = await res.http.post(
        res.app_url + "/fix", data={"csrf": res.csrf, "action": "confirm", "kind": "koseki_full"}
    )
    assert r.status_code == 303  # the submitted one was 抄本 with the name: 謄本 drops it
    r = await res.http.post(
        res.app_url + "/fix", data={"csrf": res.csrf, "action": "confirm", "kind": "nonsense"}
    )
    assert r.status_code == 422 and "選択肢の中から選んでください" in r.text
    r = await res.http.post(res.app_url + "/fix/submit", data={"csrf": res.csrf})
    assert r.status_code == 422 and (await _state(eapi, res))[0] == "returned"


async def test_rule_breaking_unflagged_item_is_explained(eapi):
    res = await submitted_koseki(eapi)
    http, csrf = await staff(eapi)
    # Make it 謄本 first through a return of kind, then return kind again and pick 抄本.
    async with eapi.db.unbound() as s:
        app = await s.get(Application, res.app_id)
        app.values = {**app.values, "kind": "koseki_full", "part_person": ""}
        await s.commit()
    r = await http.post(
        f"/console/applications/{res.app_id}/return",
        data={"csrf": csrf, "fields": ["kind"], "comment": "確認"},
    )
    assert r.status_code == 303
    mail = next(m for m in await deliver(eapi) if "修正をお願いします" in m["Subject"])
    await follow(res, re.search(r"http://testserver(\S+/resume\?key=\S+)", body_of(mail)).group(1))
    r = await res.http.post(
        res.app_url + "/fix", data={"csrf": res.csrf, "action": "confirm", "kind": "koseki_part"}
    )
    assert r.status_code == 422 and "抄本が必要な人の氏名: 入力してください" in r.text
    assert "差戻しの対象でない項目に誤り" in r.text


async def test_file_item(eapi):
    """A flagged file may be replaced (the old one is kept for the returned version)."""
    res, http, _csrf, _ = await returned(eapi, ["id_document"], {"id_document": "画像が読めません。"})
    _, _, _, files_before = await _state(eapi, res)
    form = await res.http.get(res.app_url + "/fix")
    assert 'type="file"' in form.text and 'name="id_document"' in form.text
    r = await res.http.post(
        res.app_url + "/fix",
        data={"csrf": res.csrf, "action": "confirm"},
        files={"id_document": ("fake.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
    )
    assert r.status_code == 422 and "ファイル" in r.text
    for name in ("first.png", "second.png"):
        r = await res.http.post(
            res.app_url + "/fix",
            data={"csrf": res.csrf, "action": "confirm"},
            files={"id_document": (name, PNG, "image/png")},
        )
        assert r.status_code == 303
    assert (await _state(eapi, res))[3] == files_before + 1  # "first.png" was a draft: dropped
    await res.http.post(res.app_url + "/fix/submit", data={"csrf": res.csrf})
    detail = await http.get(f"/console/applications/{res.app_id}")
    assert "運転免許証.pdf" in detail.text and "second.png" in detail.text
    assert "差戻し前: 運転免許証.pdf" in detail.text and "再提出: second.png" in detail.text


async def test_staff_input_errors_and_permission(eapi):
    from tests.conftest import DEMO_CLERK

    res = await submitted_koseki(eapi)
    http, csrf = await staff(eapi)
    detail = await http.get(f"/console/applications/{res.app_id}")
    assert "差戻ししてメールで知らせる" in detail.text and 'value="part_person"' in detail.text
    url = f"/console/applications/{res.app_id}/return"
    for data, words in (
        ({"comment": "理由"}, "1つ以上選んでください"),
        ({"fields": ["tel"]}, "理由を、項目ごと"),
        ({"fields": ["tel", "name"], "reason:tel": "桁不足"}, "理由を、項目ごと"),
        ({"fields": ["no_such"], "comment": "x"}, "差戻しできない項目"),
        ({"fields": ["tel"], "comment": "あ" * 501}, "500文字以内"),
    ):
        r = await http.post(url, data={"csrf": csrf, **data})
        assert r.status_code == 422 and words in r.text, (data, r.text)
    r = await http.post(url, data={"csrf": "bad", "fields": ["tel"], "comment": "x"})
    assert r.status_code == 403
    clerk, clerk_csrf = await staff(eapi, DEMO_CLERK)
    r = await clerk.post(url, data={"csrf": clerk_csrf, "fields": ["tel"], "comment": "x"})
    assert r.status_code == 403
    assert (await _state(eapi, res))[0] == "submitted"
    r = await http.post(url, data={"csrf": csrf, "fields": ["tel"], "reason:tel": "桁不足"})
    assert r.status_code == 303
    r = await http.post(url, data={"csrf": csrf, "fields": ["tel"], "reason:tel": "桁不足"})
    assert r.status_code == 409  # already 差戻し中
    detail = await http.get(f"/console/applications/{res.app_id}")
    assert "差戻し中" in detail.text and "まだです（差戻し中）" in detail.text
    assert 'value="rejected"' in detail.text  # never corrected: staff may still refuse it


async def test_withdraw_while_returned(eapi):
    res, *_ = await returned(eapi, ["tel"])
    r = await res.http.post(res.app_url + "/withdraw", data={"csrf": res.csrf})
    assert r.status_code == 303 and (await _state(eapi, res))[0] == "withdrawn"
    r = await res.http.get(res.app_url + "/fix")
    assert r.status_code == 303


async def test_return_mail_arrives_over_smtp(eapi, smtp_server):  # noqa: F811
    controller, handler = smtp_server
    res = await submitted_koseki(eapi)
    http, csrf = await staff(eapi)
    r = await http.post(
        f"/console/applications/{res.app_id}/return",
        data={"csrf": csrf, "fields": ["domicile"], "reason:domicile": "番地が抜けています。"},
    )
    assert r.status_code == 303
    settings = eapi.settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": controller.port})
    sent, failed = await send_due(
        eapi.db, settings, transport=open_transport(settings.model_copy(update={"mail_transport": "smtp"}))
    )
    assert failed == 0 and sent >= 1
    msg = next(
        m
        for m in handler.messages
        if "修正をお願いします" in str(email.header.make_header(email.header.decode_header(m["Subject"])))
    )
    text = msg.get_payload(decode=True).decode("utf-8")
    assert "・本籍：番地が抜けています。" in text and "/resume?key=" in text


async def test_old_cookie_gives_way_to_the_mail_link(eapi):
    """The cookie of the resident's own browser is replaced by the mail's link; the status page
    without any key stays closed to others (guests come back through the link)."""
    res = await submitted_koseki(eapi)
    http, csrf = await staff(eapi)
    await http.post(
        f"/console/applications/{res.app_id}/return", data={"csrf": csrf, "fields": ["tel"], "comment": "x"}
    )
    r = await res.http.get(res.app_url + "/fix")
    assert r.status_code == 404  # old cookie: the new secret is only in the mail
    other = Resident(eapi)
    other.http = eapi.client("198.51.100.200")
    r = await other.http.get(res.app_url)
    assert r.status_code == 404


async def test_repeat_group_item_of_a_prepaid_procedure(eapi):
    """One item of a repeating group can be flagged; the fee's 通数 cannot (it was paid)."""
    res = Resident(eapi)
    await res.start("juminhyo")
    values = juminhyo_values(**{"persons__count": "2", "persons.1.person_name": "下妻 花子"})
    r = await res.post_form(values, files={"id_document": ("id.png", PNG, "image/png")})
    assert r.status_code == 303, r.text
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    await res.http.post(r.headers["location"], data={"card": "4242424242424242"})
    await deliver(eapi)
    http, csrf = await staff(eapi)
    detail = await http.get(f"/console/applications/{res.app_id}")
    assert "必要な人 2件目 氏名" in detail.text and 'value="persons.1.person_name"' in detail.text
    assert 'value="copies"' not in detail.text
    url = f"/console/applications/{res.app_id}/return"
    r = await http.post(url, data={"csrf": csrf, "fields": ["copies"], "comment": "x"})
    assert r.status_code == 422
    r = await http.post(
        url,
        data={
            "csrf": csrf,
            "fields": ["persons.1.person_name"],
            "reason:persons.1.person_name": "字が違います",
        },
    )
    assert r.status_code == 303
    mail = next(m for m in await deliver(eapi) if "修正をお願いします" in m["Subject"])
    assert "・必要な人 2件目 氏名：字が違います" in body_of(mail)
    await follow(res, re.search(r"http://testserver(\S+/resume\?key=\S+)", body_of(mail)).group(1))
    form = await res.http.get(res.app_url + "/fix")
    assert 'name="persons.1.person_name"' in form.text and 'name="persons.0.person_name"' not in form.text
    r = await res.http.post(
        res.app_url + "/fix",
        data={"csrf": res.csrf, "persons.0.person_name": "x", "persons.1.person_name": "y"},
    )
    assert r.status_code == 403
    r = await res.http.post(
        res.app_url + "/fix",
        data={"csrf": res.csrf, "action": "confirm", "persons.1.person_name": "下妻 華子"},
    )
    assert r.status_code == 303
    r = await res.http.post(res.app_url + "/fix/submit", data={"csrf": res.csrf})
    assert r.status_code == 303
    status, values, _rows, _ = await _state(eapi, res)
    assert status == "submitted" and values["persons.1.person_name"] == "下妻 華子"
    assert values["persons.0.person_name"] == "下妻 太郎" and values["copies"] == "2"
