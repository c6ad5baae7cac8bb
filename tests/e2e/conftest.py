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

from tests.conftest import DEMO_LG_CODE, LiveServer, free_port, need, start_live_server

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
