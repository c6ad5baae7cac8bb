"""Audit analysis for the PIA (spec (4)③): per user, access at night, on weekends and on Japanese
holidays (``holidays`` package, maintained), failed logins, 個人番号 displays, and searches/views
far above the others (more than ``factor`` × the median of users who searched at all).

Reads ``audit_events`` of one municipality for a period (JST days) and returns rows for a CSV.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import sqlalchemy as sa

from server.db.engine import Database
from server.db.models import AuditEvent
from server.domain import audit

JST = ZoneInfo("Asia/Tokyo")
NIGHT_START, NIGHT_END = time(22, 0), time(6, 0)
READ_ACTIONS = {
    "reception_search_success",
    "reception_view_success",
    "reception_read_success",
    "resident_search_success",
}


@dataclass
class UserLine:
    username: str
    events: int = 0
    night: int = 0
    weekend: int = 0
    holiday: int = 0
    failed_logins: int = 0
    my_number_shown: int = 0
    reads: int = 0
    flags: list[str] = field(default_factory=list)


HEADER = [
    "ログインID",
    "操作数",
    "夜間",
    "土日",
    "祝日",
    "ログイン失敗",
    "個人番号表示",
    "検索・閲覧",
    "注意",
]


async def analyse(
    db: Database, lg_code: str, date_from: date, date_to: date, *, factor: float = 5.0
) -> list[UserLine]:
    start = datetime.combine(date_from, time(0), JST).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time(0), JST).astimezone(UTC)
    jp_holidays = holidays.country_holidays("JP", years=range(date_from.year, date_to.year + 1))
    lines: dict[str, UserLine] = defaultdict(lambda: UserLine(""))
    async with db.tenant(lg_code) as session:
        result = await session.stream(
            sa.select(
                AuditEvent.username, AuditEvent.occurred_at, AuditEvent.action, AuditEvent.my_number_shown
            )
            .where(
                AuditEvent.lg_code == lg_code, AuditEvent.occurred_at >= start, AuditEvent.occurred_at < end
            )
            .order_by(AuditEvent.seq)
        )
        async for username, occurred_at, action, shown in result:
            name = username or "(不明)"
            line = lines[name]
            line.username = name
            line.events += 1
            local = occurred_at.astimezone(JST)
            if local.time() >= NIGHT_START or local.time() < NIGHT_END:
                line.night += 1
            if local.weekday() >= 5:
                line.weekend += 1
            if local.date() in jp_holidays:
                line.holiday += 1
            if action == "auth_login_failure":
                line.failed_logins += 1
            if shown:
                line.my_number_shown += 1
            if action in READ_ACTIONS:
                line.reads += 1
        await audit.record(
            session,
            lg_code=lg_code,
            actor=audit.SYSTEM,
            action="audit_analysis_success",
            object_type="report",
            details={"from": date_from.isoformat(), "to": date_to.isoformat()},
        )
    readers = [line.reads for line in lines.values() if line.reads]
    typical = statistics.median(readers) if readers else 0
    for line in lines.values():
        if line.night or line.holiday or line.weekend:
            line.flags.append("時間外")
        if line.failed_logins >= 3:
            line.flags.append("ログイン失敗が多い")
        if typical and line.reads > factor * typical and line.reads >= 20:
            line.flags.append("検索・閲覧が突出")
    return sorted(lines.values(), key=lambda x: (not x.flags, x.username))


def to_csv(lines: list[UserLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for x in lines:
        writer.writerow(
            [
                x.username,
                x.events,
                x.night,
                x.weekend,
                x.holiday,
                x.failed_logins,
                x.my_number_shown,
                x.reads,
                "・".join(x.flags),
            ]
        )
    return out.getvalue()


def summary(lines: list[UserLine]) -> Counter[str]:
    return Counter(flag for line in lines for flag in line.flags)
