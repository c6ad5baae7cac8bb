"""Error answers: unexpected errors, database down, demo launcher decisions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from litestar import Litestar, get

from server import demo
from server.app import create_app
from server.config import Settings
from server.errors import EXCEPTION_HANDLERS
from tests.server.conftest import VALID_MY_NUMBER


async def test_unexpected_error_is_generic_and_not_logged_with_data(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """An unknown exception → 500 with a Japanese generic message; neither body nor log has the data."""

    @get("/boom", sync_to_thread=False, opt={"access": "public"})
    def boom() -> None:
        raise RuntimeError(f"個人番号 {VALID_MY_NUMBER} broke something")

    app = Litestar([boom], exception_handlers=EXCEPTION_HANDLERS)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.get("/boom")
    assert r.status_code == 500
    assert r.json()["code"] == "server.error"
    assert "エラー" in r.json()["message"]
    assert VALID_MY_NUMBER not in r.text

    await asyncio.sleep(0.2)  # the log line passes through a queue handler thread
    err = capfd.readouterr().err
    assert "RuntimeError" in err
    assert VALID_MY_NUMBER not in err


async def test_health_degraded_when_database_unreachable(tmp_path: Path) -> None:
    """Health answers 503 degraded (in JSON) when the database cannot be opened."""
    settings = Settings(data_dir=tmp_path, database_url="sqlite+aiosqlite:////nonexistent/folder/x.db")
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.get("/api/v1/health")
    await app.state.db.dispose()
    assert r.status_code == 503
    assert r.json()["status"] == "degraded"


async def test_unknown_route_japanese_404(tmp_path: Path) -> None:
    """An unknown path answers 404 with the Japanese ErrorBody."""
    app = create_app(Settings(data_dir=tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.get("/api/v1/nothing-here")
    await app.state.db.dispose()
    assert r.status_code == 404
    assert r.json() == {"code": "not_found", "message": "対象が見つかりません。"}


def test_demo_display_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo launcher starts the client only with a display (Linux: DISPLAY or WAYLAND_DISPLAY)."""
    monkeypatch.setattr(demo.sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert demo.has_display() is False
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert demo.has_display() is True


def test_settings_documented() -> None:
    """Every settings field carries a docstring (the operator's documentation)."""
    missing = [name for name, f in Settings.model_fields.items() if not f.description]
    assert missing == []
