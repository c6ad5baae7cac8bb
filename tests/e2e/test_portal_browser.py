"""A resident applies in real headless Chromium and staff review it; axe-core on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import DEMO_LG_CODE
from tests.e2e.conftest import (
    PHONE,
    axe_violations,
    browser_context,
    code_in,
    console_login,
    fill_tenshutsu,
    guest_start,
    shot,
    submit_and_open_in_console,
)

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_resident_applies_and_staff_review(portal, browser, tmp_path):
    """Guide → code → form (condition, repeat, upload) → 一時保存 → resume elsewhere → pay → staff."""
    document = tmp_path / "免許証.pdf"
    document.write_bytes(PDF)
    phone = browser_context(browser, PHONE)
    page = phone.new_page()
    page.goto(portal.url(f"/portal/{DEMO_LG_CODE}/"))
    assert axe_violations(page) == []
    page.get_by_label("手続きを探す").fill("住民票")
    page.get_by_role("button", name="検索").click()
    page.get_by_role("link", name="住民票の写しの交付申請").click()
    assert axe_violations(page) == []
    page.get_by_label("メールアドレス").fill("taro@example.jp")
    page.get_by_role("button", name="確認コードを送る").click()
    assert axe_violations(page) == []
    page.get_by_label("確認コード（6桁）").fill(code_in(portal.send_mail()))
    page.get_by_role("button", name="次へ").click()

    # The form: the condition is applied in the browser (JS) and checked again on the server.
    page.locator("#f-name").fill("下妻 太郎")
    page.locator("#f-name_kana").fill("しもつま たろう")
    page.locator("#f-birth_date-y").fill("55")
    page.locator("#f-birth_date-m").fill("4")
    page.locator("#f-birth_date-d").fill("1")
    other = page.locator("#f-purpose_other")
    expect(other).to_be_hidden()
    page.get_by_role("radio", name="その他").check()
    expect(other).to_be_visible()
    other.fill("銀行口座の開設")
    page.locator("#f-postal_code").fill("3040067")
    page.get_by_role("button", name="住所を検索").click()
    assert page.locator("#f-address").input_value().startswith("茨城県下妻市")
    page.locator("#f-address").fill("茨城県下妻市下妻乙124")
    page.locator("#f-tel").fill("0296-43-2111")
    page.locator("#f-copies").fill("2")
    page.locator("#f-persons-0-person_name").fill("下妻 太郎")
    page.get_by_role("button", name="必要な人を追加").click()
    page.locator("#f-persons-1-person_name").fill("下妻 花子")
    page.locator("#f-id_document").set_input_files(str(document))
    page.get_by_role("button", name="一時保存する").click()
    assert "一時保存しました" in page.content()
    assert axe_violations(page) == []
    shot(page, "01-form-saved")

    # Resume on another device from the mailed link: values and the file are there.
    link = re.search(r"(http\S+/resume\?key=\S+)", portal.send_mail()[-1][1]).group(1)
    laptop = browser_context(browser)
    page2 = laptop.new_page()
    page2.goto(portal.local(link))
    assert page2.locator("#f-persons-1-person_name").input_value() == "下妻 花子"
    assert "添付済み: 免許証.pdf" in page2.content()
    page2.get_by_role("button", name="入力内容を確認する").click()
    assert "入力内容の確認" in page2.content() and "600円" in page2.content()
    assert axe_violations(page2) == []
    shot(page2, "02-confirm")
    # 修正 of one item: only that field, then straight back to the confirmation page.
    page2.locator('a[href*="only=tel"]').click()
    assert page2.locator("#f-tel").is_visible() and page2.locator("#f-name").count() == 0
    assert axe_violations(page2) == []
    shot(page2, "02b-fix-one-item")
    page2.locator("#f-tel").fill("0296-43-2112")
    page2.get_by_role("button", name="修正して確認画面に戻る").click()
    assert "入力内容の確認" in page2.content() and "0296432112" in page2.content()
    assert "銀行口座の開設" in page2.content()
    page2.get_by_role("button", name="支払いに進む").click()
    assert axe_violations(page2) == []
    page2.get_by_label("カード番号").fill("4242 4242 4242 4242")
    page2.get_by_role("button", name="600円を支払う").click()
    assert "申請を受け付けました" in page2.content()
    reference = re.search(r"E-\d{8}-\d{6}", page2.content()).group(0)
    assert axe_violations(page2) == []
    shot(page2, "03-status")

    # Staff: console login, the application in the list, review with a mail to the resident.
    office = browser_context(browser)
    staff = office.new_page()
    console_login(staff, portal, "/console/")
    staff.get_by_role("link", name=reference).click()
    assert "銀行口座の開設" in staff.content() and "免許証.pdf" in staff.content()
    staff.get_by_label("審査完了").check()
    staff.get_by_role("button", name="状態を変更してメールで知らせる").click()
    assert "更新しました" in staff.content()
    assert axe_violations(staff) == []
    shot(staff, "04-console")
    subjects = [s for s, _ in portal.send_mail()]
    assert any("申請を受け付けました" in s for s in subjects)
    assert any("審査が完了しました" in s for s in subjects)

    # Capture, then a partial refund (an over-refund is refused in Japanese first).
    staff.get_by_role("button", name="売上確定").click()
    refund = staff.get_by_label(re.compile("返金額"))
    assert refund.input_value() == "600"
    refund.fill("700")
    staff.get_by_role("button", name="返金してメールで知らせる").click()
    assert "返金できるのは残り600円までです" in staff.content()
    staff.go_back()
    staff.reload()
    staff.get_by_label(re.compile("返金額")).fill("200")
    staff.get_by_role("button", name="返金してメールで知らせる").click()
    assert "（一部返金）" in staff.content() and "残り400円まで" in staff.content()
    assert axe_violations(staff) == []
    shot(staff, "05-console-partial-refund")
    assert any("手数料 200円 を返金しました" in b for _, b in portal.send_mail())
    for context in (phone, laptop, office):
        context.close()


def test_resident_signs_with_jpki_and_staff_see_the_signer(portal, browser, tmp_path):
    """転出届 needs a JPKI signature: confirm → 署名 (sandbox signing app) → submit → console 4情報."""
    document = tmp_path / "免許証.pdf"
    document.write_bytes(PDF)
    phone = browser_context(browser, PHONE)
    page = phone.new_page()
    page.goto(portal.url(f"/portal/{DEMO_LG_CODE}/procedures/tenshutsu"))
    assert "電子署名が必要です" in page.content()
    page.get_by_label("メールアドレス").fill("hanako@example.jp")
    page.get_by_role("button", name="確認コードを送る").click()
    page.get_by_label("確認コード（6桁）").fill(code_in(portal.send_mail()))
    page.get_by_role("button", name="次へ").click()
    fill_tenshutsu(page, "東京都千代田区霞が関三丁目1番1号", document)
    page.get_by_role("button", name="入力内容を確認する").click()
    assert "入力内容の確認" in page.content()
    page.get_by_role("button", name="電子署名に進む").click()
    assert "マイナンバーカードによる電子署名" in page.content()
    assert axe_violations(page) == []
    shot(page, "05-sign")
    page.get_by_role("button", name="署名する").click()
    assert "テスト用署名アプリ" in page.content()
    assert page.get_by_label("氏名").input_value() == "下妻 花子"
    assert axe_violations(page) == []
    shot(page, "06-sandbox-app")
    page.get_by_label("女").check()
    page.get_by_label("住所").fill("茨城県下妻市本城町二丁目22番地")
    page.get_by_role("button", name="署名する").click()
    assert "電子署名を確認しました" in page.content() and "茨城県下妻市本城町二丁目22番地" in page.content()
    assert axe_violations(page) == []
    shot(page, "07-signed")
    office, staff = submit_and_open_in_console(page, browser, portal)
    text = staff.content()
    assert "電子署名（公的個人認証）" in text and "有効" in text and "1985-05-06" in text and "女" in text
    assert axe_violations(staff) == []
    shot(staff, "08-console-signature")
    for context in (phone, office):
        context.close()


def test_corporate_number_lookup_with_javascript(portal, browser):
    """法人番号 → 名称を検索 fills name and address in place (sandbox lookup); not found says so."""
    context = browser_context(browser)
    page = context.new_page()
    guest_start(page, portal, "zei-shomei", "corp@example.jp")
    page.get_by_role("radio", name="法人").check()
    number = page.locator("#f-corporate_number")
    expect(number).to_be_visible()
    number.fill("7000012050002")
    page.get_by_role("button", name="名称を検索").click()
    page.get_by_text("見つかりませんでした").wait_for()
    assert page.locator("#f-name").input_value() == ""
    number.fill("2050001000001")
    page.get_by_role("button", name="名称を検索").click()
    page.get_by_text("を入れました").wait_for()
    assert page.locator("#f-name").input_value() == "株式会社しもつま見本商事"
    assert page.locator("#f-address").input_value() == "茨城県下妻市本城町二丁目22番地"
    assert "/form" in page.url  # filled in place, no round trip
    assert axe_violations(page) == []
    shot(page, "09-corporate-lookup")
    context.close()


def test_resident_keeps_a_card_on_the_account(portal, browser):
    """Register → verify → login → カードを登録 (a wrong expiry first) → see it → 削除; axe on each."""
    ctx = browser_context(browser, PHONE)
    page = ctx.new_page()
    account = f"/portal/{DEMO_LG_CODE}/account"
    page.goto(portal.url(f"{account}/register"))
    page.locator("#name").fill("下妻 花子")
    page.locator("#email").fill("hanako@example.jp")
    page.locator("#password").fill("correct horse battery")
    page.locator("#password2").fill("correct horse battery")
    page.get_by_role("button", name=re.compile("登録")).click()
    link = re.search(r"(http\S+/account/verify\?token=\S+)", portal.send_mail()[-1][1]).group(1)
    page.goto(portal.local(link))
    page.goto(portal.url(f"{account}/login"))
    page.locator("#email").fill("hanako@example.jp")
    page.locator("#password").fill("correct horse battery")
    page.get_by_role("button", name="ログイン").click()
    assert "カードは登録されていません" in page.content()
    page.get_by_role("link", name="カードを登録する").click()
    assert axe_violations(page) == []
    page.locator("#card").fill("4242 4242 4242 4242")
    page.locator("#exp_month").fill("13")
    page.locator("#exp_year").fill("2030")
    page.get_by_role("button", name="カードを登録する").click()
    assert "有効期限が正しくありません" in page.content()
    assert axe_violations(page) == []
    shot(page, "06-card-error")
    page.locator("#card").fill("4242 4242 4242 4242")
    page.locator("#exp_month").fill("12")
    page.get_by_role("button", name="カードを登録する").click()
    assert "末尾 4242" in page.content() and "12/2030" in page.content()
    assert axe_violations(page) == []
    shot(page, "07-card-saved")
    page.goto(portal.url(account))
    assert "登録済み: Visa 末尾 4242" in page.content()
    assert axe_violations(page) == []
    page.get_by_role("link", name="カードの変更・削除").click()
    page.get_by_role("button", name="このカードの登録を削除する").click()
    assert "カードの登録を削除しました" in page.content()
    assert axe_violations(page) == []
    ctx.close()
