"""「申請前に修正が必要な箇所だけ修正できること」: each 修正 link of the confirmation page opens only
that item (server-rendered, no JavaScript); everything else stays as confirmed, and the resident
comes back to the confirmation page."""

from __future__ import annotations

import re

import sqlalchemy as sa

from server.db.models import Application
from tests.server.eforms.conftest import PDF, Resident, juminhyo_values


async def confirmed(eapi) -> Resident:
    res = Resident(eapi)
    await res.start("juminhyo")
    r = await res.post_form(juminhyo_values(), files={"id_document": ("id.pdf", PDF, "application/pdf")})
    assert r.status_code == 303 and r.headers["location"].endswith("/confirm")
    return res


async def test_fix_one_item_and_return_to_confirmation(eapi):
    res = await confirmed(eapi)
    page = await res.http.get(res.app_url + "/confirm")
    links = re.findall(r'href="([^"]+/form\?only=[^"#]+)#([^"]+)"', page.text)
    assert (f"{res.app_url}/form?only=tel", "f-tel") in links
    assert (f"{res.app_url}/form?only=persons", "f-persons-0-person_name") in links
    async with eapi.db.unbound() as s:
        before = dict((await s.execute(sa.select(Application))).scalar_one().values)

    form = await res.http.get(res.app_url + "/form?only=tel")
    assert form.status_code == 200 and "電話" in form.text and "の修正" in form.text
    assert (
        'id="f-tel"' in form.text and 'id="f-name"' not in form.text and 'id="f-id_document"' not in form.text
    )
    assert 'name="only" value="tel"' in form.text and 'data-rules="off"' in form.text
    assert "修正せずに確認画面に戻る" in form.text and 'value="save"' not in form.text

    r = await res.http.post(
        res.app_url + "/form",
        data={"csrf": res.csrf, "action": "confirm", "only": "tel", "tel": "029-999-0000"},
        files={"_": ("", b"", "x")},
    )
    assert r.status_code == 303 and r.headers["location"].endswith("/confirm")
    page = await res.http.get(res.app_url + "/confirm")
    assert "0299990000" in page.text or "029-999-0000" in page.text
    assert "下妻 太郎" in page.text and "id.pdf" in page.text and "昭和55年4月1日" in page.text
    async with eapi.db.unbound() as s:
        after = dict((await s.execute(sa.select(Application))).scalar_one().values)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed == {"tel"}

    # A group item opens the whole group; a wrong value is shown on that item only.
    form = await res.http.get(res.app_url + "/form?only=persons")
    assert 'id="f-persons-0-person_name"' in form.text and 'id="f-tel"' not in form.text
    r = await res.http.post(
        res.app_url + "/form",
        data={
            "csrf": res.csrf,
            "action": "confirm",
            "only": "persons",
            "persons__count": "1",
            "persons.0.person_name": "",
            "persons.0.relation": "本人",
        },
        files={"_": ("", b"", "x")},
    )
    assert r.status_code == 422 and 'name="only" value="persons"' in r.text and 'id="f-tel"' not in r.text


async def test_a_change_that_breaks_another_item_shows_the_whole_form(eapi):
    """Choosing その他 makes 使いみち（その他） required: it is not on the one-item page, so the
    whole form comes back with the error there (nothing typed is lost)."""
    res = await confirmed(eapi)
    r = await res.http.post(
        res.app_url + "/form",
        data={"csrf": res.csrf, "action": "confirm", "only": "purpose", "purpose": "other"},
        files={"_": ("", b"", "x")},
    )
    assert r.status_code == 422 and 'name="only"' not in r.text
    assert 'id="f-purpose_other"' in r.text and 'id="f-name"' in r.text and "下妻 太郎" in r.text
    r = await res.http.get(res.app_url + "/form?only=no-such-field")
    assert r.status_code == 200 and 'name="only"' not in r.text and 'id="f-name"' in r.text
