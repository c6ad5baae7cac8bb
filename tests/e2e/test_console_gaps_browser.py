"""The staff console gaps of issue 6 in real Chromium, axe-core on every page touched:
the own password change (another browser is logged out), a 課 given procedures and a member's
role per procedure by a supervisor, the applications list by 申請者の属性; in the builder every
starter saved unchanged keeps its JSON, the 法人番号 targets and condition values are picked
from lists, and the fields inside a repeating group move by drag and drop and by keyboard."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.conftest import DEMO_SUPERVISOR
from tests.e2e.conftest import SCREENSHOTS, axe_violations, browser_context, console_login, shot

pytestmark = pytest.mark.browser
NEW_PASSWORD = "kinou-no-ame-2026"


def _db(portal):
    return sqlite3.connect(portal.server.data_dir / "madoguchi.db")


def _procedures(portal) -> dict[str, tuple[str, dict, dict | None]]:
    with _db(portal) as conn:
        rows = conn.execute("select slug, id, definition, draft_definition from eform_procedures").fetchall()
    out = {}
    for slug, pid, definition, draft in rows:
        ident = pid if "-" in str(pid) else f"{pid[:8]}-{pid[8:12]}-{pid[12:16]}-{pid[16:20]}-{pid[20:]}"
        out[slug] = (ident, json.loads(definition), json.loads(draft) if draft else None)
    return out


def test_password_organisation_roles_and_applicant_filter(portal, browser):
    office, elsewhere = browser_context(browser), browser_context(browser)
    page, other = office.new_page(), elsewhere.new_page()
    console_login(page, portal)
    console_login(other, portal)  # the same staff member in another browser

    # Own password: a wrong current one first (message at the field), then the change.
    page.get_by_role("link", name="マイアカウント").click()
    assert page.get_by_role("heading", name="パスワードの変更").is_visible()
    assert axe_violations(page) == []
    page.get_by_label("今のパスワード").fill("not-my-password")
    page.locator("#new_password").fill(NEW_PASSWORD)
    page.get_by_label("新しいパスワード（確認のためもう一度）").fill(NEW_PASSWORD)
    page.get_by_role("button", name="パスワードを変更する").click()
    assert "今のパスワードが正しくありません" in page.locator("#current_password-error").inner_text()
    assert page.locator("#new_password").input_value() == ""  # never typed back
    assert axe_violations(page) == []
    shot(page, "40-account-password-error")
    page.get_by_label("今のパスワード").fill(DEMO_SUPERVISOR[1])
    page.locator("#new_password").fill(NEW_PASSWORD)
    page.locator("#new_password2").fill(NEW_PASSWORD)
    page.get_by_role("button", name="パスワードを変更する").click()
    assert "パスワードを変更しました" in page.locator(".notice").inner_text()
    assert axe_violations(page) == []
    shot(page, "41-account-password-changed")
    other.goto(portal.url("/console/"))
    assert other.url.endswith("/console/login")  # the other browser's session ended
    console_login(other, portal, password=NEW_PASSWORD)
    assert other.get_by_role("heading", name="申請一覧").is_visible()

    # A 課 given two procedures; its member's own role on one of them.
    page.get_by_role("link", name="組織").click()
    page.get_by_label("組織名").fill("税務課")
    page.get_by_role("button", name="追加する").click()
    page.get_by_label("職員", exact=True).select_option(label="デモ 窓口職員（demo）")
    page.get_by_label("処理").check()
    page.get_by_role("button", name="保存する").click()
    for title in ("納税・所得・課税証明書の交付申請", "固定資産評価証明書の交付申請"):
        page.get_by_label("この組織に担当させる手続き").select_option(label=f"{title}（担当課なし）")
        page.get_by_role("button", name="担当させる").click()
        assert "担当にしました" in page.content()
    assert page.get_by_role("button", name="固定資産評価証明書の交付申請を担当から外す").is_visible()
    assert axe_violations(page) == []
    shot(page, "42-organisation-procedures")
    page.get_by_role("link", name="デモ 窓口職員（demo）").click()
    page.get_by_label("固定資産評価証明書の交付申請の権限").select_option("none")
    page.get_by_role("button", name="手続きごとの権限を保存する").click()
    assert "手続きごとの権限を保存しました" in page.content()
    assert page.get_by_label("固定資産評価証明書の交付申請の権限").input_value() == "none"
    assert axe_violations(page) == []
    shot(page, "43-staff-procedure-roles")

    # The applications list by 申請者の属性.
    page.get_by_role("link", name="申請一覧").click()
    page.get_by_label("申請者の属性").select_option(label="法人")
    page.get_by_role("button", name="絞り込む").click()
    assert "applicant_type=corporation" in page.url
    assert page.get_by_role("columnheader", name="申請者の属性").is_visible()
    assert axe_violations(page) == []
    shot(page, "44-applications-by-applicant-type")
    office.close()
    elsewhere.close()


def test_builder_keeps_everything_and_moves_inside_a_group(portal, browser):
    context = browser_context(browser)
    page = context.new_page()
    console_login(page, portal)
    before = _procedures(portal)
    assert {"zei-shomei", "kotei-hyoka", "juminhyo"} <= set(before)

    # Every starter opened and saved unchanged: the same definition JSON.
    for slug, (pid, _definition, _draft) in sorted(before.items()):
        page.goto(portal.url(f"/console/procedures/{pid}/edit"))
        page.get_by_role("button", name="下書き保存", exact=True).click()
        assert "下書きを保存しました" in page.content(), slug
    after = _procedures(portal)
    for slug, (_pid, definition, _draft) in before.items():
        assert after[slug][2] == definition, slug

    # 法人番号: 名称 / 所在地 targets from lists; the condition value from the options.
    zei = before["zei-shomei"][0]
    page.goto(portal.url(f"/console/procedures/{zei}/edit"))
    name_field = page.locator("#fields-2").get_by_label("名称を入れる項目")
    assert name_field.input_value() == "name"
    assert name_field.locator("option", has_text="申請者の種別").count() == 0
    assert page.locator("#fields-2-address_field").input_value() == "address"
    assert page.locator("#fields-2 > details").get_attribute("open") is not None  # rule set: open
    value = page.locator("#fields-2-vis-0-value")
    assert value.evaluate("e => e.tagName") == "SELECT" and value.input_value() == "corporation"
    texts = value.evaluate("s => [...s.options].map(o => o.textContent)")
    assert texts == ["個人（individual）", "法人（corporation）", "団体（group）"]
    # A new row (JavaScript): choosing 申請者の種別 offers its options on the value.
    page.locator("#fields-3 > details > summary").click()
    page.locator("#fields-3-vis-0-field").select_option("applicant_type")
    fresh = page.locator("#fields-3-vis-0-value")
    listed = page.locator(f"#{fresh.get_attribute('list')} option")
    assert [listed.nth(i).get_attribute("value") for i in range(listed.count())] == [
        "individual",
        "corporation",
        "group",
    ]
    fresh.fill("group")
    assert axe_violations(page) == []
    page.locator("#fields-2").screenshot(path=str(SCREENSHOTS / "45-corporate-targets-and-condition.png"))

    # Inside the repeating group 物件 (項目6): drag 所在地 above 種類, then back with the keyboard.
    kotei = before["kotei-hyoka"][0]
    page.goto(portal.url(f"/console/procedures/{kotei}/edit"))
    page.set_viewport_size({"width": 1280, "height": 3000})
    page.locator("#fields-5-fields-1 > .drag-handle").drag_to(
        page.locator("#fields-5-fields-0"), target_position={"x": 40, "y": 12}
    )
    status = page.locator("#order-status")
    status.filter(has_text="並び順を下書きに保存しました").wait_for()
    assert "「物件」の中の1番目に移動しました" in status.inner_text()
    assert page.locator("#fields-5-fields-0-name").input_value() == "location"
    assert page.locator("#fields-5-fields-1 > legend").inner_text().startswith("項目6-2「種類」")
    draft = _procedures(portal)["kotei-hyoka"][2]
    group = next(f for f in draft["fields"] if f["name"] == "properties")
    assert [c["name"] for c in group["fields"]] == ["location", "property_kind"]
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#fields-5-fields-1 .row-actions").get_by_role("button", name="項目6-2を上へ").focus()
    page.keyboard.press("Enter")
    status.filter(has_text="項目「種類」を「物件」の中の1番目").wait_for()
    assert page.locator("#fields-5-fields-0-name").input_value() == "property_kind"
    assert (
        page.locator("#fields-5-fields-0 .row-actions")
        .get_by_role("button", name="項目6-1を下へ")
        .evaluate("b => b === document.activeElement")
    )
    draft = _procedures(portal)["kotei-hyoka"][2]
    group = next(f for f in draft["fields"] if f["name"] == "properties")
    assert [c["name"] for c in group["fields"]] == ["property_kind", "location"]
    assert axe_violations(page) == []
    shot(page, "46-builder-group-reorder")
    # The page still saves as a whole after the moves.
    page.get_by_role("button", name="下書き保存", exact=True).click()
    assert "下書きを保存しました" in page.content()
    context.close()
