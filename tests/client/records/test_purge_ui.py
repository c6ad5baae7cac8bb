"""Supervisor tab 保存期限と削除 offscreen against a live server: change a retention class, plan,
confirm, run the purge on the server, and see the deletion record; a clerk cannot edit or purge."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
from server.domain.documents.services import add_years
from shared.api import UserInfo
from tests.conftest import DEMO_CLERK, LiveServer, start_live_server
from tests.server.conftest import reception_body
from tests.server.records import files

pytestmark = pytest.mark.ui
TODAY = datetime.now(UTC).date()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    srv = start_live_server(tmp_path_factory.mktemp("purge-ui") / "server")
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


def _login(live_server: LiveServer, user: tuple[str, str]) -> Session:
    with httpx.Client(base_url=live_server.url, timeout=60) as http:
        answer = http.post(
            "/api/v1/auth/login",
            json={"lg_code": live_server.lg_code, "username": user[0], "password": user[1]},
        ).json()
    return Session(live_server.url, answer["token"], None, UserInfo.model_validate(answer["user"]))


def _reception(live_server: LiveServer, token: str, years_ago: int, classes: list[str]) -> dict[str, Any]:
    """A reception received ``years_ago`` years back with one PDF per class."""
    h = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=live_server.url, headers=h, timeout=120) as http:
        rec = http.post("/api/v1/receptions", json=reception_body()).json()
        db = sqlite3.connect(live_server.data_dir / "madoguchi.db")
        with db:
            db.execute(
                "UPDATE receptions SET business_date = ? WHERE id = ?",
                (add_years(TODAY, -years_ago).isoformat(), uuid.UUID(rec["id"]).hex),
            )
        db.close()
        for cls in classes:
            r = http.post(
                f"/api/v1/receptions/{rec['id']}/attachments?document_class={cls}", content=files.pdf()
            )
            assert r.status_code == 201, r.text
    return dict(rec)


def _closed_application(live_server: LiveServer, years_ago: int) -> tuple[str, Path]:
    """A synthetic online application completed ``years_ago`` years back with one file (written
    into the live server's database and blob store); its 申請番号 and the blob's path."""
    import hashlib

    import sqlalchemy as sa
    from sqlalchemy.orm import Session as OrmSession

    from server.db.models import Application, ApplicationFile, Procedure

    day = add_years(TODAY, -years_ago)
    at = datetime(day.year, day.month, day.day, 3, tzinfo=UTC)
    pid, app_id, fid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    reference = f"E-{day:%Y%m%d}-000001"
    key = f"eform/{live_server.lg_code}/{app_id}/{fid}"
    data = b"%PDF-1.4 synthetic\n%%EOF\n"
    blob = live_server.data_dir / "blobs" / key
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(data)
    engine = sa.create_engine(f"sqlite:///{live_server.data_dir / 'madoguchi.db'}")
    with OrmSession(engine) as orm, orm.begin():
        lg = live_server.lg_code
        orm.add(
            Procedure(id=pid, lg_code=lg, slug="ui-retention", title="合成", category="試験", definition={})
        )
        orm.flush()
        history = [{"at": at.isoformat(), "status": "completed", "by": "staff"}]
        orm.add(
            Application(
                id=app_id,
                lg_code=lg,
                procedure_id=pid,
                reference=reference,
                status="completed",
                email="taro@example.jp",
                access_hash="0" * 64,
                values={},
                sealed={},
                history=history,
                created_at=at,
                updated_at=at,
            )
        )
        orm.flush()
        orm.add(
            ApplicationFile(
                id=fid,
                lg_code=lg,
                application_id=app_id,
                field="f",
                filename="a.pdf",
                content_type="application/pdf",
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                blob_key=key,
            )
        )
    engine.dispose()
    return reference, blob


def test_change_class_plan_confirm_run_and_record(
    qtbot: QtBot, ctx: AppContext, live_server: LiveServer, tmp_path: Path
) -> None:
    """交付請求書 set to 1 year; the plan lists the 6-year-old reception whole and only the expired
    交付請求書 of the 2-year-old one; nothing runs before the confirmation; afterwards the server
    has deleted exactly that and the record is shown."""
    admin = _login(live_server, live_server.supervisor)
    young = _reception(live_server, admin.token, 2, ["issuance_request", "notice_form"])
    old = _reception(live_server, admin.token, 6, ["power_of_attorney"])
    reference, blob = _closed_application(live_server, 6)
    ctx.session = admin
    panel = RecordsPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1100, 900)
    panel.setCurrentWidget(panel.purge_tab)
    panel.show()
    tab = panel.purge_tab
    assert panel.tabText(panel.indexOf(tab)) == "保存期限と削除"

    tab.load_classes()
    qtbot.waitUntil(lambda: tab.class_table.rowCount() == 8, timeout=10000)
    labels = [tab.class_table.item(r, 0).text() for r in range(8)]
    assert "交付請求書" in labels and "異動届" in labels and "電子申請" in labels
    assert all(s.isEnabled() for s in tab.spins) and tab.spins[0].minimum() == 1
    tab.set_years("交付請求書", 1)
    tab.save_classes()
    qtbot.waitUntil(lambda: "変更しました" in tab.message.text(), timeout=10000)
    with httpx.Client(
        base_url=live_server.url, timeout=60, headers={"Authorization": f"Bearer {admin.token}"}
    ) as http:
        years = {c["document_class"]: c["years"] for c in http.get("/api/v1/records/retention").json()}
    assert years["issuance_request"] == 1

    tab.plan()
    qtbot.waitUntil(lambda: tab.item_table.rowCount() == 3, timeout=10000)
    counts = {tab.count_table.item(r, 0).text(): tab.count_table.item(r, 1).text() for r in range(3)}
    assert counts == {"委任状": "1", "交付請求書": "1", "電子申請": "1"}
    scopes = {tab.item_table.item(r, 0).text(): tab.item_table.item(r, 2).text() for r in range(3)}
    assert scopes == {
        old["reception_number"]: "受付ごと",
        young["reception_number"]: "文書だけ",
        reference: "電子申請",
    }
    assert "電子申請 1 件" in tab.summary.text()
    assert "3 件" in tab.confirm.text() and not tab.run_button.isEnabled()
    tab.run()  # without the confirmation: refused on the screen, nothing sent
    assert "確認欄" in tab.error.text()
    tab.grab().save(str(Path(os.environ.get("MADOGUCHI_SCREENSHOT_DIR", tmp_path)) / "purge-plan.png"))
    tab.confirm.setChecked(True)
    assert tab.run_button.isEnabled()
    tab.run_button.click()
    qtbot.waitUntil(lambda: "削除しました" in tab.message.text(), timeout=20000)
    qtbot.waitUntil(lambda: tab.job_table.rowCount() == 1, timeout=10000)
    assert tab.job_table.item(0, 4).text() == "完了"
    assert all(tab.item_table.item(r, 5).text().startswith("削除") for r in range(3))
    assert not blob.exists()
    shot = Path(os.environ.get("MADOGUCHI_SCREENSHOT_DIR", tmp_path)) / "purge-done.png"
    panel.grab().save(str(shot))
    assert shot.stat().st_size > 10_000

    with httpx.Client(
        base_url=live_server.url, timeout=60, headers={"Authorization": f"Bearer {admin.token}"}
    ) as http:
        assert http.get(f"/api/v1/records/receptions/{old['id']}").status_code == 404
        left = http.get(f"/api/v1/records/receptions/{young['id']}").json()["attachments"]
    assert [a["document_class"] for a in left] == ["notice_form"]
    tab.summary.clear()
    tab.open_job(0)
    qtbot.waitUntil(lambda: "削除済み" in tab.summary.text(), timeout=10000)


def test_clerk_can_neither_edit_nor_purge(qtbot: QtBot, ctx: AppContext, live_server: LiveServer) -> None:
    """Without 設定の管理 / 記録の削除 the controls are off, and the server says why in Japanese."""
    ctx.session = _login(live_server, DEMO_CLERK)
    panel = RecordsPanel(ctx)
    qtbot.addWidget(panel)
    tab = panel.purge_tab
    assert not tab.save_button.isEnabled() and not tab.plan_button.isEnabled()
    assert "権限" in tab.class_note.text()
    tab.load_classes()
    qtbot.waitUntil(lambda: bool(tab.error.text()), timeout=10000)
    assert any("\u3040" <= ch <= "\u30ff" for ch in tab.error.text())
