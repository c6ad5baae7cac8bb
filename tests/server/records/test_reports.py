"""Audit analysis: night, weekend and Japanese-holiday access, failed logins, 個人番号 displays."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import sqlalchemy as sa

from server.db.models import AuditEvent
from server.domain.reports import audit_analysis
from tests.server.conftest import Api


async def _at(api: Api, when: datetime, action: str, username: str = "demo", shown: bool = False) -> None:
    """An event moved to ``when`` (triggers dropped by the test; the chain is not verified here)."""
    from server.domain import audit

    async with api.db.tenant("082104") as session:
        row = await audit.record(
            session,
            lg_code="082104",
            actor=audit.Actor(uuid.uuid4(), username),
            action=action,
            my_number_shown=shown,
        )
        row_id = row.id
    async with api.db.unbound() as session:
        await session.execute(sa.update(AuditEvent).where(AuditEvent.id == row_id).values(occurred_at=when))


async def test_audit_analysis_flags_out_of_hours_holidays_failures_and_my_number(api: Api) -> None:
    """23:00 JST, 元日 and Saturday access, 3 failed logins and a 個人番号 display are counted."""
    async with api.db.unbound() as session:
        triggers = [
            r[0]
            for r in (
                await session.execute(
                    sa.text("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_events'")
                )
            ).all()
        ]
        for t in triggers:
            await session.execute(sa.text(f'DROP TRIGGER "{t}"'))
    await _at(api, datetime(2026, 1, 5, 14, 0, tzinfo=UTC), "reception_search_success")  # 23:00 JST Monday
    await _at(api, datetime(2026, 1, 1, 1, 0, tzinfo=UTC), "reception_view_success")  # 元日 10:00 JST
    await _at(api, datetime(2026, 1, 10, 1, 0, tzinfo=UTC), "reception_view_success", shown=True)  # Saturday
    for _ in range(3):
        await _at(api, datetime(2026, 1, 6, 1, 0, tzinfo=UTC), "auth_login_failure", username="intruder")
    await _at(api, datetime(2026, 1, 6, 1, 0, tzinfo=UTC), "reception_search_success", username="demo-admin")
    lines = {
        x.username: x
        for x in await audit_analysis.analyse(api.db, "082104", date(2026, 1, 1), date(2026, 1, 31))
    }
    demo = lines["demo"]
    assert (demo.night, demo.holiday, demo.weekend, demo.my_number_shown, demo.reads) == (1, 1, 1, 1, 3)
    assert "時間外" in demo.flags
    assert lines["intruder"].failed_logins == 3 and "ログイン失敗が多い" in lines["intruder"].flags
    assert lines["demo-admin"].flags == []
    text = audit_analysis.to_csv(list(lines.values()))
    assert text.startswith("ログインID,操作数,夜間,土日,祝日")
