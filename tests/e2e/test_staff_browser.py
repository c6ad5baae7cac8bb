"""Staff accounts in real Chromium: issue an account with an address, the error summary, the edit
page, the staff member's own page and the confirmation link from the mail (real SMTP); axe-core
on every page. Names and addresses are synthetic."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, browser_context, console_login, shot

pytestmark = pytest.mark.browser


def test_staff_console_pages(portal, browser):
    context = browser_context(browser)
    page = context.new_page()
    console_login(page, portal)

    page.get_by_role("link", name="職員", exact=True).click()
    expect(page.get_by_role("heading", name="職員アカウント")).to_be_visible()
    assert axe_violations(page) == []
    # Errors first: a taken login id and a broken address.
    page.get_by_label("ログインID").fill("demo")
    page.get_by_label("表示名").fill("佐藤 花子（合成）")
    page.get_by_label("メールアドレス（任意）").fill("sato@@example")
    page.get_by_role("button", name="発行する").click()
    assert "このログインIDはすでに使われています" in page.content()
    assert "メールアドレスの形式が正しくありません" in page.content()
    assert axe_violations(page) == []
    page.get_by_label("ログインID").fill("sato.h")
    page.get_by_label("メールアドレス（任意）").fill("sato.h@city.example.lg.jp")
    page.get_by_label("窓口").check()
    page.get_by_role("button", name="発行する").click()
    expect(page.get_by_role("heading", name="アカウントを発行しました")).to_be_visible()
    password = page.locator("dd code").first.inner_text()
    assert len(password) >= 12
    assert axe_violations(page) == []
    shot(page, "20-staff-issued")

    page.get_by_role("link", name="職員の一覧へ").click()
    assert "sato.h@city.example.lg.jp" in page.content() and "未確認" in page.content()
    assert axe_violations(page) == []
    shot(page, "21-staff-list")

    page.get_by_role("link", name="佐藤 花子（合成）").click()
    assert axe_violations(page) == []
    page.get_by_label("表示名").fill("")
    page.get_by_role("button", name="保存する").click()
    assert "表示名を入力してください" in page.content()
    assert axe_violations(page) == []
    page.get_by_label("表示名").fill("佐藤 花子（合成）")
    page.get_by_role("button", name="保存する").click()
    assert "保存しました" in page.content()
    shot(page, "22-staff-member")

    # The new member confirms the address from the mail and opts in on his own page.
    mails = portal.send_mail()
    link = next(re.search(r"(http\S+/console/verify-email\S+)", b).group(1) for s, b in mails if "確認" in s)
    staff = context.new_page()
    staff.goto(portal.local(link))
    expect(staff.get_by_role("heading", name="メールアドレスを確認しました")).to_be_visible()
    assert axe_violations(staff) == []
    staff.goto(portal.local(link))
    expect(staff.get_by_role("heading", name="このリンクは使えません")).to_be_visible()

    page.get_by_role("link", name="マイアカウント").click()
    expect(page.get_by_role("heading", name="マイアカウント")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("メールアドレス").fill("admin@city.example.lg.jp")
    page.get_by_label("所属課の手続きに申請が届いたらメールで知らせる").check()
    page.get_by_role("button", name="保存する").click()
    assert "確認リンクを送りました" in page.content()
    assert axe_violations(page) == []
    shot(page, "23-my-account")
    context.close()
