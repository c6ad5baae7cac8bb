"""Helpers for the records tests: receptions made through the API."""

from __future__ import annotations

from typing import Any

from tests.server.conftest import Api, reception_body


async def make_reception(api: Api, headers: dict[str, str], **kw: Any) -> dict[str, Any]:
    """Submit one reception through the API and return its JSON."""
    terminal = kw.pop("terminal_id", "T-01")
    confirmation = kw.pop("confirmation_number", None)
    body = reception_body(**kw)
    body["terminal_id"] = terminal
    if confirmation:
        body["notice"]["confirmation_number"] = confirmation
    r = await api.http.post("/api/v1/receptions", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def actions(api: Api) -> list[str]:
    """The audit log's actions, oldest first."""
    import sqlalchemy as sa

    from server.db.models import AuditEvent

    async with api.db.unbound() as session:
        return list((await session.execute(sa.select(AuditEvent.action).order_by(AuditEvent.seq))).scalars())
