"""Staff build a form in real Chromium (condition + repeat), publish it, a resident fills it in;
axe-core on the builder, the organisation screens and the resident account pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import DEMO_LG_CODE
from tests.e2e.conftest import (
    PHONE,
    SCREENSHOTS,
    axe_violations,
    browser_context,
    code_in,
    console_login,
    guest_start,
    shot,
)

pytestmark = pytest.mark.browser


def test_staff_build_publish_and_resident_applies(portal, browser):
    office = browser_context(browser)
    staff = office.new_page()
    console_login(staff, portal)

    # Organisation (課) with a member.
    staff.get_by_role("link", name="組織").click()
    assert axe_violations(staff) == []
    staff.get_by_role("button", name="追加する").click()
    assert "組織名を入力してください" in staff.content()
    assert axe_violations(staff) == []
    staff.get_by_label("組織名").fill("子育て支援課")
    staff.get_by_role("button", name="追加する").click()
    staff.get_by_label("職員", exact=True).select_option(label="デモ 窓口職員（demo）")
    staff.get_by_label("処理").check()
    staff.get_by_role("button", name="保存する").click()
    assert "所属と権限を保存しました" in staff.content()
    assert axe_violations(staff) == []
    shot(staff, "10-organisation")

    # The builder from a blank form.
    staff.get_by_role("link", name="手続き", exact=True).click()
    assert axe_violations(staff) == []
    staff.get_by_role("link", name="新しい手続きを作る").click()
    assert axe_violations(staff) == []
    staff.get_by_role("link", name="白紙から作る").click()
    staff.locator("#title").fill("子育て支援の申請")
    staff.locator("#slug").fill("Kosodate Shien")  # bad on purpose
    staff.locator("#organisation_id").select_option(label="子育て支援課")
    staff.get_by_role("button", name="選択（ラジオボタン）を追加").click()
    staff.locator("#fields-1-label").fill("種別")
    staff.locator("#fields-1-name").fill("kind")
    staff.locator("#fields-1-options").fill("hoiku:保育\nother:その他")
    expect(staff.locator("#fields-1-max_length")).to_be_hidden()  # JS shows only what fits the type
    staff.get_by_role("button", name="1行の文字を追加").click()
    staff.locator("#fields-2-label").fill("種別（その他）")
    staff.locator("#fields-2-name").fill("kind_other")
    staff.locator("#fields-2 > details > summary").click()
    staff.locator("#fields-2-vis-0-field").select_option("kind")  # one condition row
    staff.locator("#fields-2-vis-0-value").fill("other")
    staff.locator("#fields-2-show_required").check()
    staff.get_by_role("button", name="繰り返し要素を追加").click()
    staff.locator("#fields-3-label").fill("子ども")
    staff.locator("#fields-3-name").fill("children")
    staff.locator("#fields-3-max_repeat").fill("3")
    staff.get_by_role("button", name="項目4の中に項目を追加").click()
    staff.locator("#fields-3-fields-0-label").fill("子の氏名")
    staff.locator("#fields-3-fields-0-name").fill("child_name")
    staff.locator("#fields-3-fields-0-required").check()
    staff.get_by_role("button", name="下書き保存", exact=True).click()
    # The bad slug comes back at the field and in the summary; everything typed is kept.
    summary = staff.locator("#error-summary")
    assert "URL" in summary.inner_text() and "英小文字" in staff.locator("#slug-error").inner_text()
    assert staff.locator("#fields-3-fields-0-label").input_value() == "子の氏名"
    assert axe_violations(staff) == []
    shot(staff, "11-builder-error")
    staff.locator("#slug").fill("kosodate")
    staff.get_by_role("button", name="保存してプレビュー").click()

    # Preview: the portal's own form with rules and repeats.
    assert "プレビュー" in staff.content()
    other = staff.locator("#f-kind_other")
    expect(other).to_be_hidden()
    staff.get_by_role("radio", name="その他").check()
    expect(other).to_be_visible()
    staff.get_by_role("button", name="子どもを追加").click()
    expect(staff.locator("#f-children-0-child_name")).to_be_visible()
    assert axe_violations(staff) == []
    shot(staff, "12-preview")
    staff.goto(staff.url.replace("/preview/form", "/edit").replace("/preview", "/edit"))
    assert axe_violations(staff) == []
    shot(staff, "13-builder")
    staff.get_by_role("button", name="保存して公開").click()
    assert "公開しました" in staff.content()
    staff.goto(staff.url.split("?")[0].replace("/edit", "/access"))
    staff.get_by_label("demoの権限").select_option("view")
    staff.get_by_role("button", name="demoの権限を保存").click()
    assert "権限を保存しました" in staff.content()
    assert axe_violations(staff) == []
    shot(staff, "14-procedure-access")

    # A resident applies.
    phone = browser_context(browser, PHONE)
    page = phone.new_page()
    page.goto(portal.url(f"/portal/{DEMO_LG_CODE}/procedures/kosodate"))
    assert "子育て支援の申請" in page.content()
    page.get_by_label("メールアドレス").fill("hanako@example.jp")
    page.get_by_role("button", name="確認コードを送る").click()
    page.get_by_label("確認コード（6桁）").fill(code_in(portal.send_mail()))
    page.get_by_role("button", name="次へ").click()
    page.locator("#f-name").fill("下妻 花子")
    expect(page.locator("#f-kind_other")).to_be_hidden()
    page.get_by_role("radio", name="その他").check()
    page.locator("#f-kind_other").fill("一時預かり")
    page.get_by_role("button", name="子どもを追加").click()
    page.locator("#f-children-0-child_name").fill("下妻 一郎")
    page.get_by_role("button", name="子どもを追加").click()
    page.locator("#f-children-1-child_name").fill("下妻 二郎")
    page.get_by_role("button", name="入力内容を確認する").click()
    assert "一時預かり" in page.content() and "下妻 二郎" in page.content()
    page.get_by_role("button", name=re.compile("申請する")).click()
    assert "申請を受け付けました" in page.content()
    reference = re.search(r"E-\d{8}-\d{6}", page.content()).group(0)
    assert axe_violations(page) == []
    staff.goto(portal.url("/console/"))
    staff.get_by_role("link", name=reference).click()
    assert "下妻 二郎" in staff.content()
    for context in (office, phone):
        context.close()


def test_resident_account_pages_pass_axe(portal, browser):
    """register → mailed link → login → my applications → logout → reset → reset confirm."""
    context = browser_context(browser, PHONE)
    page = context.new_page()
    account = portal.url(f"/portal/{DEMO_LG_CODE}/account")
    page.goto(account + "/register")
    assert axe_violations(page) == []
    page.get_by_role("button", name="登録する").click()  # empty: errors
    assert axe_violations(page) == []
    page.get_by_label("個人").check()
    page.locator("#name").fill("下妻 花子")
    page.locator("#email").fill("hanako@example.jp")
    page.locator("#password").fill("correct horse battery")
    page.locator("#password2").fill("correct horse battery")
    page.get_by_role("button", name="登録する").click()
    assert axe_violations(page) == []
    link = re.search(r"(http\S+token=\S+)", portal.send_mail()[-1][1]).group(1)
    page.goto(portal.local(link))
    assert axe_violations(page) == []
    page.goto(account + "/login")
    assert axe_violations(page) == []
    page.locator("#email").fill("hanako@example.jp")
    page.locator("#password").fill("wrong password!")
    page.get_by_role("button", name="ログイン").click()
    assert axe_violations(page) == []
    page.locator("#email").fill("hanako@example.jp")
    page.locator("#password").fill("correct horse battery")
    page.get_by_role("button", name="ログイン").click()
    page.goto(account)
    assert "下妻 花子" in page.content()
    assert axe_violations(page) == []
    shot(page, "20-my-applications")
    page.get_by_role("button", name="ログアウト").click()
    page.goto(account + "/reset")
    assert axe_violations(page) == []
    page.locator("#email").fill("hanako@example.jp")
    page.get_by_role("button", name="再設定のリンクを送る").click()
    assert axe_violations(page) == []
    link = re.search(r"(http\S+token=\S+)", portal.send_mail()[-1][1]).group(1)
    page.goto(portal.local(link))
    assert axe_violations(page) == []
    page.locator("#password").fill("short")
    page.get_by_role("button", name="パスワードを設定する").click()
    assert axe_violations(page) == []  # the error state too
    page.locator("#password").fill("another horse battery")
    page.locator("#password2").fill("another horse battery")
    page.get_by_role("button", name="パスワードを設定する").click()
    assert axe_violations(page) == []
    context.close()


def test_drag_a_field_and_build_an_or_rule(portal, browser):
    """Drag and drop reorders the fields (stored in the draft without a page load), the keyboard
    buttons do the same, the condition editor builds an or-rule, and the resident's form shows
    the field exactly when one of the conditions holds."""
    office = browser_context(browser)
    staff = office.new_page()
    console_login(staff, portal)
    staff.goto(portal.url("/console/procedures/new?template="))
    staff.locator("#title").fill("ドラッグと条件の試験")
    staff.locator("#slug").fill("drag-rule")
    for kind, label, name in (
        ("1行の文字", "備考", "note"),
        ("選択（ラジオボタン）", "種別", "kind"),
        ("数値", "人数", "count"),
    ):
        staff.get_by_role("button", name=f"{kind}を追加").click()
        n = staff.locator("#fields > .builder-field").count() - 1
        staff.locator(f"#fields-{n}-label").fill(label)
        staff.locator(f"#fields-{n}-name").fill(name)
    staff.locator("#fields-2-options").fill("a:保育\nother:その他")
    staff.get_by_role("button", name="下書き保存", exact=True).click()
    assert "下書きを保存しました" in staff.content()

    # Drag 種別 (3rd) above 備考 (2nd): saved to the draft, the page renumbered in place. (A tall
    # window: both fields in view, as a staff member would scroll before dragging.)
    staff.set_viewport_size({"width": 1280, "height": 3000})
    staff.locator("#fields-2 > .drag-handle").drag_to(
        staff.locator("#fields-1"), target_position={"x": 40, "y": 12}
    )
    status = staff.locator("#order-status")
    status.filter(has_text="並び順を下書きに保存しました").wait_for()
    assert "項目「種別」を2番目に移動しました" in status.inner_text()
    assert staff.locator("#fields-1-name").input_value() == "kind"
    assert staff.locator("#fields-2-name").input_value() == "note"
    assert staff.locator("#fields-2 > legend").inner_text().startswith("項目3「備考」")
    staff.set_viewport_size({"width": 1280, "height": 900})
    # The keyboard way: 人数 up above 備考 (focus stays on the moved field's button).
    staff.locator("#fields-3 .row-actions").get_by_role("button", name="項目4を上へ").focus()
    staff.keyboard.press("Enter")
    status.filter(has_text="項目「人数」を3番目").wait_for()
    assert staff.locator("#fields-2-name").input_value() == "count"
    assert (
        staff.locator("#fields-2 .row-actions")
        .get_by_role("button", name="項目3を上へ")
        .evaluate("b => b === document.activeElement")
    )
    assert [staff.locator(f"#fields-{i}-name").input_value() for i in range(4)] == [
        "name",
        "kind",
        "count",
        "note",
    ]

    # The or-rule on 備考: 種別 = その他, or 人数 > 2 (the second row after 行を増やす).
    staff.locator("#fields-3 > details > summary").click()
    staff.locator("#fields-3-vis_join").select_option("or")
    staff.locator("#fields-3-vis-0-field").select_option("kind")
    staff.locator("#fields-3-vis-0-value").fill("other")
    staff.get_by_role("button", name="表示条件の行を増やす").last.click()
    staff.locator("#fields-3-vis-1-field").select_option("count")
    staff.locator("#fields-3-vis-1-op").select_option("gt")
    staff.locator("#fields-3-vis-1-value").fill("2")
    staff.get_by_role("button", name="下書き保存", exact=True).click()
    assert "下書きを保存しました" in staff.content()
    assert staff.locator("#fields-3-vis_join").input_value() == "or"  # shown back in the editor
    assert staff.locator("#fields-3-vis-1-value").input_value() == "2"
    expect(staff.locator("#fields-3-vis")).to_be_visible()  # conditions set: the editor opens itself
    assert axe_violations(staff) == []
    shot(staff, "15-builder-conditions")
    SCREENSHOTS.mkdir(exist_ok=True)
    staff.locator("#fields-3").screenshot(path=str(SCREENSHOTS / "16-condition-editor.png"))
    staff.get_by_role("button", name="保存して公開").click()
    assert "公開しました" in staff.content()

    # The resident's form honours the rule (in the browser and on the server).
    phone = browser_context(browser, PHONE)
    page = phone.new_page()
    guest_start(page, portal, "drag-rule", "jiro@example.jp")
    form = page.locator("form#eform").inner_html()
    assert form.index("種別") < form.index("人数") < form.index("備考")  # the dragged order
    note = page.locator("#f-note")
    page.locator("#f-name").fill("下妻 次郎")
    expect(note).to_be_hidden()
    page.get_by_role("radio", name="その他").check()
    expect(note).to_be_visible()
    page.get_by_role("radio", name="保育").check()
    expect(note).to_be_hidden()
    page.locator("#f-count").fill("3")
    page.locator("#f-count").press("Tab")
    expect(note).to_be_visible()
    page.locator("#f-note").fill("三人で利用")
    page.get_by_role("button", name="入力内容を確認する").click()
    assert "三人で利用" in page.content()
    assert axe_violations(page) == []
    for context in (office, phone):
        context.close()
