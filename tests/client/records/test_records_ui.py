"""Supervisor records screens offscreen against a live server: search, open, PDF, backup status."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

pytest.importorskip("PySide6")

from pytestqt.qtbot import QtBot

from client.app.context import AppContext, build_context
from client.app.main import create_application
from client.app.settings import ClientSettings
from client.ui.supervisor.records import RecordsPanel
from client.ui.worker import wait_for_background
from tests.conftest import LiveServer, start_live_server
from tests.server.conftest import reception_body
from tests.server.records import files

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for this module; overrides the per-test fixture."""
    srv = start_live_server(tmp_path_factory.mktemp("records-ui") / "server")
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def ctx(client_settings: ClientSettings, live_server: LiveServer) -> Iterator[AppContext]:
    create_application()
    context = build_context(client_settings.model_copy(update={"server_url": live_server.url}))
    try:
        yield context
    finally:
        wait_for_background(5000)
        context.close()


def _seed(live_server: LiveServer) -> tuple[str, str]:
    """One reception with a PDF attachment, made by the supervisor over HTTP; returns its token."""
    user, password = live_server.supervisor
    with httpx.Client(base_url=live_server.url, timeout=60) as http:
        token = http.post(
            "/api/v1/auth/login",
            json={"lg_code": live_server.lg_code, "username": user, "password": password},
        ).json()["token"]
        h = {"Authorization": f"Bearer {token}"}
        body = reception_body(family_name="髙橋", family_name_kana="タカハシ")
        rec = http.post("/api/v1/receptions", json=body, headers=h).json()
        r = http.post(
            f"/api/v1/receptions/{rec['id']}/attachments?document_class=power_of_attorney&filename=inin.pdf",
            content=files.pdf(2),
            headers=h,
        )
        assert r.status_code == 201, r.text
    return token, rec["reception_number"]


def test_search_open_and_fetch_pdf(
    qtbot: QtBot, ctx: AppContext, live_server: LiveServer, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Searching 高橋 in kana finds the reception; opening it shows persons and the 委任状; the PDF
    is fetched (hash-verified by the server) and handed to the system viewer."""
    token, number = _seed(live_server)
    ctx.session = type("S", (), {"token": token})()  # type: ignore[assignment]
    opened: list[str] = []
    monkeypatch.setattr(
        "client.ui.supervisor.records.panel.QDesktopServices.openUrl",
        lambda url: opened.append(url.toLocalFile()),
    )
    panel = RecordsPanel(ctx)
    qtbot.addWidget(panel)
    tab = panel.search_tab
    tab.name.setText("ﾀｶﾊｼ")
    tab.search()
    qtbot.waitUntil(
        lambda: number in [tab.table.item(r, 0).text() for r in range(tab.table.rowCount())], timeout=10000
    )
    row = [tab.table.item(r, 0).text() for r in range(tab.table.rowCount())].index(number)
    assert tab.table.item(row, 7).text() == "1"
    # The 受付番号 is shown whole, not elided.
    assert tab.table.columnWidth(0) > tab.table.fontMetrics().horizontalAdvance(number)
    assert "1 / 1 ページ" in tab.page_label.text()
    tab.open_row(row)
    qtbot.waitUntil(lambda: tab.attachments.count() == 1, timeout=10000)
    assert number in tab.detail.toPlainText() and "髙橋" in tab.detail.toPlainText()
    # The 転入's addresses, as on the form.
    assert "新住所: 茨城県下妻市本城町2-22" in tab.detail.toPlainText()
    assert "従前の住所: 茨城県つくば市研究学園1-1-1" in tab.detail.toPlainText()
    assert "転出先" not in tab.detail.toPlainText()
    assert "委任状" in tab.attachments.item(0).text()
    tab.open_attachment(tab.attachments.item(0))
    qtbot.waitUntil(lambda: bool(opened), timeout=10000)
    assert tab.last_pdf is not None and tab.last_pdf.read_bytes().startswith(b"%PDF-")


def test_errors_are_shown_in_japanese_and_backup_status(
    qtbot: QtBot, ctx: AppContext, live_server: LiveServer
) -> None:
    """A bad page request shows the server's Japanese error; the backup tab shows the newest backup."""
    token, _number = _seed(live_server)
    subprocess.run(
        [sys.executable, "-m", "server", "backup"], env=live_server.env, check=True, capture_output=True
    )
    ctx.session = type("S", (), {"token": token})()  # type: ignore[assignment]
    panel = RecordsPanel(ctx)
    qtbot.addWidget(panel)
    tab = panel.search_tab
    tab.birth_date.setText("not-a-date")
    tab.search()
    qtbot.waitUntil(lambda: bool(tab.error.text()), timeout=10000)
    assert any("\u3040" <= ch <= "\u30ff" for ch in tab.error.text())
    panel.backup_tab.refresh()
    qtbot.waitUntil(lambda: panel.backup_tab.table.rowCount() >= 1, timeout=10000)
    assert "時間" in panel.backup_tab.age.text()


def test_capped_count_is_shown_as_at_least(qtbot: QtBot, ctx: AppContext) -> None:
    """A total the server stopped counting at reads 「1000 件以上」 and the next page stays
    reachable while pages come back full; an exact total shows pages of the whole."""
    from datetime import UTC, date, datetime
    from uuid import uuid4

    from shared.api_records import ReceptionPage, ReceptionSummary

    panel = RecordsPanel(ctx)
    qtbot.addWidget(panel)
    tab = panel.search_tab
    item = ReceptionSummary(
        id=uuid4(),
        reception_number="20261130-0001",
        business_date=date(2026, 11, 30),
        kind="move_in",
        status="confirmed",
        terminal_id="T-01",
        clerk="demo",
        created_at=datetime(2026, 11, 30, 1, tzinfo=UTC),
        names=["佐藤 太郎"],
        attachment_count=0,
    )
    full = [item] * 50
    tab._show_page(
        ReceptionPage(items=full, total=1000, page=3, page_size=50, limited_to_own=False, total_capped=True)
    )
    assert tab.page_label.text() == "3 ページ（1000 件以上）"
    assert tab.next_button.isEnabled() and tab.prev_button.isEnabled()
    tab._show_page(
        ReceptionPage(
            items=full[:7], total=1000, page=25, page_size=50, limited_to_own=False, total_capped=True
        )
    )
    assert not tab.next_button.isEnabled()
    tab._show_page(ReceptionPage(items=full, total=120, page=1, page_size=50, limited_to_own=False))
    assert tab.page_label.text() == "1 / 3 ページ（全 120 件）" and tab.next_button.isEnabled()
