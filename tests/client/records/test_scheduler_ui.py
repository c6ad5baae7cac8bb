"""The built-in scheduler starts with a live server (times set so its jobs are due at once): the
backup tab shows the last automatic backup and the reports tab fetches the stored monthly report."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("PySide6")

from pytestqt.qtbot import QtBot

from client.app.context import AppContext, build_context
from client.app.main import create_application
from client.app.settings import ClientSettings
from client.core.auth import Session
from client.ui.supervisor.records import RecordsPanel
from client.ui.worker import wait_for_background
from shared.api import UserInfo
from tests.conftest import LiveServer, start_live_server

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    srv = start_live_server(
        tmp_path_factory.mktemp("scheduler-ui") / "server",
        {
            "MADOGUCHI_SCHEDULER_ENABLED": "1",
            "MADOGUCHI_SCHEDULER_INTERVAL_SECONDS": "5",
            "MADOGUCHI_SCHEDULE_BACKUP_TIME": "00:00",
            "MADOGUCHI_SCHEDULE_REPORT_TIME": "00:00",
        },
    )
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


def test_scheduled_backup_and_stored_report_on_the_supervisor_screens(
    qtbot: QtBot, ctx: AppContext, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    user, password = live_server.supervisor
    with httpx.Client(base_url=live_server.url, timeout=60) as http:
        answer = http.post(
            "/api/v1/auth/login",
            json={"lg_code": live_server.lg_code, "username": user, "password": password},
        ).json()
    ctx.session = Session(live_server.url, answer["token"], None, UserInfo.model_validate(answer["user"]))
    opened: list[str] = []
    monkeypatch.setattr(
        "client.ui.supervisor.records.reports.QDesktopServices.openUrl",
        lambda url: opened.append(url.toLocalFile()),
    )
    panel = RecordsPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1000, 600)
    panel.setCurrentWidget(panel.backup_tab)
    panel.show()
    tab = panel.backup_tab

    def backed_up() -> bool:
        tab.refresh()
        wait_for_background(5000)
        return "成功" in tab.scheduled.text()

    qtbot.waitUntil(backed_up, timeout=60000)
    assert tab.table.rowCount() == 1 and "検証" in tab.scheduled_message.text()
    assert "毎日 00:00" in tab.schedule.text()
    shot = Path(os.environ.get("MADOGUCHI_SCREENSHOT_DIR", tmp_path)) / "backup-scheduled.png"
    panel.grab().save(str(shot))

    reports = panel.reports_tab

    def stored() -> bool:
        reports.load_stored()
        wait_for_background(5000)
        return reports.stored.count() >= 1

    qtbot.waitUntil(stored, timeout=60000)
    panel.setCurrentWidget(reports)
    reports.grab().save(str(shot.with_name("reports-stored.png")))
    reports.open_stored_pdf()
    qtbot.waitUntil(lambda: bool(opened), timeout=10000)
    assert Path(opened[0]).read_bytes().startswith(b"%PDF-")
    target = tmp_path / "report.csv"
    reports.save_stored_csv(str(target))
    # The panel says it has saved once the whole file is in place (written under a temporary name,
    # then renamed), so the file is never seen empty or half-written.
    qtbot.waitUntil(lambda: "保存しました" in reports.error.text(), timeout=30000)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
    assert target.read_bytes().decode("utf-8-sig").startswith("区分,項目,値")
