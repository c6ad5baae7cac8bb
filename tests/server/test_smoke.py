"""The basic API flow on SQLite: health, login, create and read a reception."""

from __future__ import annotations

from tests.server.conftest import Api, reception_body


async def test_health_ok(api: Api) -> None:
    """Health answers ok when the database answers, without a token."""
    r = await api.http.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json()["database"] == "ok"


async def test_login_create_read(api: Api) -> None:
    """A clerk logs in, creates a reception (201) and reads it back."""
    headers = await api.headers()
    r = await api.http.post("/api/v1/receptions", json=reception_body(), headers=headers)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r2 = await api.http.get(f"/api/v1/receptions/{rid}", headers=headers)
    assert r2.status_code == 200, r2.text
    assert r2.json()["reception_number"] == r.json()["reception_number"]


async def test_me(api: Api) -> None:
    """/auth/me tells the user, groups and permissions."""
    r = await api.http.get("/api/v1/auth/me", headers=await api.headers())
    assert r.status_code == 200
    assert "reception.create" in r.json()["permissions"]
