"""差戻し in real headless Chromium: staff return one item → the resident (a guest, from the mailed
link on another device) fixes only that item → confirms → resubmits; axe-core on every new page."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import (
    PHONE,
    axe_violations,
    browser_context,
    guest_start,
    shot,
    submit_and_open_in_console,
)

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_staff_return_resident_fixes_one_item_and_resubmits(portal, browser, tmp_path):
    document = tmp_path / "免許証.pdf"
    document.write_bytes(PDF)
    phone = browser_context(browser, PHONE)
    page = phone.new_page()
    guest_start(page, portal, "koseki", "taro@example.jp")
    page.locator("#f-name").fill("下妻 太郎")
    page.locator("#f-tel").fill("0296-43-2110")
    page.locator("#f-domicile").fill("茨城県下妻市本城町2-22")
    page.locator("#f-head").fill("下妻 一郎")
    page.locator("#f-kind").select_option("koseki_full")
    page.locator("#f-copies").fill("1")
    page.locator("#f-id_document").set_input_files(str(document))
    page.get_by_role("button", name="入力内容を確認する").click()
    office, staff = submit_and_open_in_console(page, browser, portal)
    assert axe_violations(staff) == []
    staff.get_by_label("電話番号", exact=True).check()
    staff.get_by_label("電話番号の差戻し理由").fill("つながりません。番号を確認してください。")
    staff.get_by_role("button", name="差戻ししてメールで知らせる").click()
    assert "差戻ししました" in staff.content() and "差戻し中" in staff.content()
    assert axe_violations(staff) == []
    shot(staff, "10-console-returned")

    mail = next(b for s, b in portal.send_mail() if "修正をお願いします" in s)
    assert "・電話番号：つながりません。" in mail
    link = re.search(r"(http\S+/resume\?key=\S+)", mail).group(1)
    laptop = browser_context(browser)
    resident = laptop.new_page()
    resident.goto(portal.local(link))
    assert "申請内容の修正をお願いします" in resident.content() and "差戻し中" in resident.content()
    assert axe_violations(resident) == []
    shot(resident, "11-status-returned")
    resident.get_by_role("link", name="修正する").click()
    assert resident.locator("#f-tel").is_visible() and resident.locator("#f-name").count() == 0
    assert "茨城県下妻市本城町2-22" in resident.content()
    assert axe_violations(resident) == []
    shot(resident, "12-fix-page")
    resident.locator("#f-tel").fill("0296-43-2111")
    resident.get_by_role("button", name="修正内容を確認する").click()
    assert "修正内容の確認" in resident.content() and "0296432111" in resident.content()
    assert axe_violations(resident) == []
    shot(resident, "13-fix-confirm")
    resident.get_by_role("button", name="修正した内容で再提出する").click()
    assert "申請済み" in resident.content() and "修正して再提出（電話番号）" in resident.content()
    assert axe_violations(resident) == []

    staff.reload()
    assert "差戻し前: 0296432110" in staff.content() and "再提出: 0296432111" in staff.content()
    assert axe_violations(staff) == []
    shot(staff, "14-console-history")
    for context in (phone, office, laptop):
        context.close()
