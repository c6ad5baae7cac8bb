"""申請者の種別 and who signs, in real headless Chromium: a resident account becomes a 法人 in
登録内容の変更 (法人番号 looked up), its new 固定資産評価証明 application has 法人 preselected with a
note; staff make the procedure require JPKI for 個人 only (builder) — the 法人's confirmation page
has no 署名 step — then for every applicant — the 法人's 署名 page says the 代表者 or 担当者 signs.
axe-core on every changed page."""

from __future__ import annotations

import re

import pytest

from tests.conftest import DEMO_LG_CODE
from tests.e2e.conftest import PHONE, axe_violations, browser_context, console_login, shot

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ACCOUNT = f"/portal/{DEMO_LG_CODE}/account"
PASSWORD = "correct horse battery"


def _jpki(staff, portal, signers: str) -> None:
    """The supervisor requires JPKI on 固定資産評価証明 for ``signers`` and publishes."""
    staff.goto(portal.url("/console/procedures"))
    staff.get_by_role("link", name="固定資産評価証明書の交付申請を編集").click()
    staff.get_by_label("マイナンバーカードによる公的個人認証（電子署名）を必要とする").check()
    label = "個人の申請だけ" if signers == "individual" else "すべての申請"
    staff.get_by_label(re.compile("^" + label)).check()
    assert axe_violations(staff) == []
    staff.get_by_role("button", name="保存して公開").click()
    assert "公開" in staff.content()


def test_corporation_account_preselected_and_signing_by_type(portal, browser, tmp_path):
    document = tmp_path / "登記事項証明書.pdf"
    document.write_bytes(PDF)
    ctx = browser_context(browser, PHONE)
    page = ctx.new_page()
    page.goto(portal.url(f"{ACCOUNT}/register"))
    page.locator("#name").fill("下妻 花子")
    page.locator("#email").fill("soumu@example.co.jp")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password2").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("登録")).click()
    link = re.search(r"(http\S+/account/verify\?token=\S+)", portal.send_mail()[-1][1]).group(1)  # type: ignore[union-attr]
    page.goto(portal.local(link))
    page.goto(portal.url(f"{ACCOUNT}/login"))
    page.locator("#email").fill("soumu@example.co.jp")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()

    # 登録内容の変更: 法人 without a number is refused at the field; the lookup fills the 名称.
    page.get_by_role("link", name=re.compile("登録内容の変更")).click()
    page.get_by_label("法人", exact=True).check()
    page.get_by_role("button", name="変更を保存する").click()
    assert "法人番号を入力してください。" in page.content()
    assert axe_violations(page) == []
    page.locator("#corporate_number").fill("2050001000001")
    page.get_by_role("button", name="名称を検索").click()
    assert "を名称に入れました" in page.content()
    assert page.locator("#name").input_value() != "下妻 花子"
    assert axe_violations(page) == []
    shot(page, "30-account-settings-lookup")
    page.get_by_role("button", name="変更を保存する").click()
    assert "登録内容を変更しました" in page.content()
    assert axe_violations(page) == []

    office = browser_context(browser)
    staff = office.new_page()
    console_login(staff, portal, "/console/")
    _jpki(staff, portal, "individual")

    # The account's new application: 法人 chosen, with the note; the 法人 fields follow the rule.
    page.goto(portal.url(f"/portal/{DEMO_LG_CODE}/procedures/kotei-hyoka"))
    assert "署名が必要なのは個人の申請だけです" in page.content()
    page.get_by_role("button", name="申請を始める").click()
    assert page.get_by_label("法人", exact=True).is_checked()
    assert "利用者登録の内容（法人）から選んであります" in page.content()
    assert axe_violations(page) == []
    shot(page, "31-form-applicant-preselected")
    page.locator("#f-corporate_number").fill("2050001000001")
    page.get_by_role("button", name="名称を検索").click()
    page.locator("#f-tel").fill("0296-43-2111")
    page.locator("#f-year").fill("2027")
    page.locator("#f-properties-0-property_kind").select_option("land")
    page.locator("#f-properties-0-location").fill("下妻市本城町二丁目22番")
    page.locator("#f-copies").fill("1")
    page.locator("#f-id_document").set_input_files(str(document))
    page.get_by_role("button", name="入力内容を確認する").click()
    assert "入力内容の確認" in page.content(), page.content()[:3000]
    assert "法人としての申請には電子署名は要りません" in page.content()
    assert page.get_by_role("button", name="電子署名に進む").count() == 0
    assert page.get_by_role("button", name="支払いに進む").count() == 1
    assert axe_violations(page) == []
    shot(page, "32-confirm-corporation-no-signature")

    # Now JPKI for every applicant: the 法人 goes to the 署名 step, signed by its 代表者 or 担当者.
    _jpki(staff, portal, "all")
    page.reload()
    page.get_by_role("button", name="電子署名に進む").click()
    assert "法人としての申請です" in page.content()
    assert "代表者または担当者の方が、ご本人のマイナンバーカードで署名してください" in page.content()
    assert axe_violations(page) == []
    shot(page, "33-sign-on-behalf-of-corporation")
    assert axe_violations(staff) == []
    shot(staff, "34-builder-jpki-signers")
