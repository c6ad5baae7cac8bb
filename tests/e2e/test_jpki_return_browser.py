"""差戻し of a procedure that needs a JPKI signature, in real headless Chromium: a signed 転出届 is
returned for one item → the resident fixes it from the mailed link → signs the corrected version
(sandbox signing app) → resubmits; staff see the new signature and the replaced one."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import (
    PHONE,
    axe_violations,
    browser_context,
    fill_tenshutsu,
    guest_start,
    shot,
    submit_and_open_in_console,
)

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
OLD_ADDRESS = "東京都千代田区霞が関三丁目1番1号"
NEW_ADDRESS = "東京都千代田区霞が関三丁目1番2号"


def _sandbox_sign(page) -> None:
    page.get_by_role("button", name="署名する").click()
    assert "テスト用署名アプリ" in page.content()
    page.get_by_label("女").check()
    page.get_by_label("住所").fill("茨城県下妻市本城町二丁目22番地")
    page.get_by_role("button", name="署名する").click()
    assert "電子署名を確認しました" in page.content()


def test_signed_application_returned_corrected_signed_again_and_resubmitted(portal, browser, tmp_path):
    document = tmp_path / "免許証.pdf"
    document.write_bytes(PDF)
    phone = browser_context(browser, PHONE)
    page = phone.new_page()
    guest_start(page, portal, "tenshutsu", "hanako@example.jp")
    fill_tenshutsu(page, OLD_ADDRESS, document)
    page.get_by_role("button", name="入力内容を確認する").click()
    page.get_by_role("button", name="電子署名に進む").click()
    _sandbox_sign(page)
    office, staff = submit_and_open_in_console(page, browser, portal)
    assert "電子署名（公的個人認証）" in staff.content()
    staff.get_by_label("転出先の住所", exact=True).check()
    staff.get_by_label("転出先の住所の差戻し理由").fill("番地を確認してください。")
    staff.get_by_role("button", name="差戻ししてメールで知らせる").click()
    assert "差戻ししました" in staff.content()
    assert axe_violations(staff) == []

    mail = next(b for s, b in portal.send_mail() if "修正をお願いします" in s)
    link = re.search(r"(http\S+/resume\?key=\S+)", mail).group(1)
    laptop = browser_context(browser)
    resident = laptop.new_page()
    resident.goto(portal.local(link))
    resident.get_by_role("link", name="修正する").click()
    resident.locator("#f-new_address").fill(NEW_ADDRESS)
    resident.get_by_role("button", name="修正内容を確認する").click()
    assert "修正内容の確認" in resident.content() and NEW_ADDRESS in resident.content()
    assert axe_violations(resident) == []
    shot(resident, "20-jpki-fix-confirm")
    resident.get_by_role("button", name="電子署名に進む").click()
    assert "差戻しで修正した内容に、あらためて電子署名をしてください" in resident.content()
    assert "電子署名を確認しました" not in resident.content()
    assert axe_violations(resident) == []
    shot(resident, "21-jpki-sign-again")
    _sandbox_sign(resident)
    assert axe_violations(resident) == []
    shot(resident, "22-jpki-signed-again")
    resident.get_by_role("button", name="修正した内容で再提出する").click()
    assert "申請済み" in resident.content() and "修正して再提出（転出先の住所）" in resident.content()

    staff.reload()
    text = staff.content()
    assert "差戻し前の内容への署名（再提出で置き換え済み・記録として保存）" in text
    assert "<strong>有効</strong>" in text and f"再提出: {NEW_ADDRESS}" in text
    assert axe_violations(staff) == []
    shot(staff, "23-console-two-signatures")
    for context in (phone, office, laptop):
        context.close()
