"""End-to-end fixtures: a live server with the starter procedures, a real SMTP sink, Chromium.

Chromium is Debian's (``/usr/bin/chromium``, apt package ``chromium``); Playwright never
downloads a browser. axe-core comes from the npm registry: ``npm ci --prefix tests/e2e``
puts it in ``tests/e2e/node_modules`` where :func:`axe_violations` finds it.
"""

from __future__ import annotations

import email
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEMO_LG_CODE, DEMO_SUPERVISOR, LiveServer, free_port, need, start_live_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).parent / "screenshots"
PUBLIC = "http://madoguchi.test"


@dataclass
class Inbox:
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def bodies(self) -> list[tuple[str, str]]:
        out = []
        for m in self.messages:
            subject = str(email.header.make_header(email.header.decode_header(m["Subject"])))
            out.append((subject, m.get_payload(decode=True).decode("utf-8")))
        return out


@dataclass
class Portal:
    server: LiveServer
    inbox: Inbox

    def url(self, path: str = "") -> str:
        return f"{self.server.url}{path}"

    def send_mail(self) -> list[tuple[str, str]]:
        """Run ``madoguchi-server mail send`` once; the mails that arrived so far."""
        before = len(self.inbox.messages)
        subprocess.run(
            [sys.executable, "-m", "server", "mail", "send"],
            env=self.server.env,
            check=True,
            capture_output=True,
        )
        return self.inbox.bodies()[before:]

    def local(self, link: str) -> str:
        return link.replace(PUBLIC, self.server.url)


@pytest.fixture
def portal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Portal]:
    if not CHROMIUM.exists():
        need("Debian chromium is not installed (apt-get install chromium)")
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    monkeypatch.setenv("MADOGUCHI_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MADOGUCHI_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("MADOGUCHI_PUBLIC_BASE_URL", PUBLIC)
    server = start_live_server(
        tmp_path / "server", setup=(("eforms", "import", "--lg-code", DEMO_LG_CODE, "--publish"),)
    )
    try:
        yield Portal(server, inbox)
    finally:
        server.stop()
        smtp.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def axe_violations(page: Any) -> list[str]:
    """axe-core WCAG 2.1 A/AA violations of the page (JIS X 8341-3 AA is WCAG 2.0 AA)."""
    if not AXE.exists():
        need("axe-core not installed: npm ci --prefix tests/e2e")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
    )
    return list(result)


def shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def code_in(mails: list[tuple[str, str]]) -> str:
    for _subject, body in reversed(mails):
        m = re.search(r"確認コード: (\d{6})", body)
        if m:
            return m.group(1)
    raise AssertionError("no code mail")


PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}


def browser_context(browser: Any, viewport: dict[str, int] = DESK) -> Any:
    """A Japanese-locale context (a phone or a desk), 8 s for every wait."""
    context = browser.new_context(viewport=viewport, bypass_csp=True, locale="ja-JP")
    context.set_default_timeout(8000)
    return context


def console_login(
    page: Any,
    portal: Portal,
    path: str = "/console/login",
    user: str = DEMO_SUPERVISOR[0],
    password: str = DEMO_SUPERVISOR[1],
) -> None:
    """Log in to the staff console (the demo supervisor unless told otherwise)."""
    page.goto(portal.url(path))
    page.get_by_label("団体コード").fill(DEMO_LG_CODE)
    page.get_by_label("ユーザーID").fill(user)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()


def guest_start(page: Any, portal: Portal, slug: str, email: str) -> None:
    """Open a procedure of the demo municipality as a guest: mail address, the mailed code, 次へ."""
    page.goto(portal.url(f"/portal/{DEMO_LG_CODE}/procedures/{slug}"))
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_role("button", name="確認コードを送る").click()
    page.get_by_label("確認コード（6桁）").fill(code_in(portal.send_mail()))
    page.get_by_role("button", name="次へ").click()


def fill_tenshutsu(page: Any, new_address: str, document: Path) -> None:
    """The 転出届 starter's form for 下妻 花子 (昭和60年5月6日 born, moving alone), with an ID document."""
    page.locator("#f-name").fill("下妻 花子")
    page.locator("#f-name_kana").fill("シモツマ ハナコ")
    page.locator("#f-birth_date-y").fill("60")
    page.locator("#f-birth_date-m").fill("5")
    page.locator("#f-birth_date-d").fill("6")
    page.locator("#f-moving_date").fill("2027-03-31")
    page.locator("#f-new_address").fill(new_address)
    page.locator("#f-movers-0-mover_name").fill("下妻 花子")
    page.locator("#f-movers-0-mover_birth_date-y").fill("60")
    page.locator("#f-movers-0-mover_birth_date-m").fill("5")
    page.locator("#f-movers-0-mover_birth_date-d").fill("6")
    page.locator("#f-id_document").set_input_files(str(document))


def submit_and_open_in_console(page: Any, browser: Any, portal: Portal) -> tuple[Any, Any]:
    """The resident presses 申請する; the supervisor logs in to the console in a desk browser and
    opens the new application (by its 申請番号) from the list. Returns that context and its page."""
    page.get_by_role("button", name="申請する").click()
    assert "申請を受け付けました" in page.content()
    found = re.search(r"E-\d{8}-\d{6}", page.content())
    assert found is not None
    office = browser_context(browser)
    staff = office.new_page()
    console_login(staff, portal, "/console/")
    staff.get_by_role("link", name=found.group(0)).click()
    return office, staff
