"""運用報告 (spec 000 (2)②(ケ), 5(1)⑬): receptions of one municipality for one day or month.

Counted from ``receptions`` (every status) whose 受付日 (``business_date``, JST) lies in the
period: by procedure (MovementKind, Japanese label), by terminal, by clerk (``created_by``), by
hour of day (JST hour of ``created_at``, the moment the server stored it), and the processing time
``opened_at`` → ``created_at`` (receptions without ``opened_at`` or with a negative time are left out
of that part): median, 90th percentile (nearest rank) and buckets.

Outputs: :class:`~shared.api_records.OperationReport` (JSON), CSV (:func:`to_csv`, UTF-8 with BOM
when written) and a printable PDF with bar charts (:mod:`.operations_pdf`). Every report made is one
audit event ``operation_report_success``.
"""

from __future__ import annotations

import csv
import io
import math
import re
import statistics
from collections import Counter
from datetime import UTC, date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.db.engine import Database
from server.db.models import Municipality, Reception, User
from server.domain import audit
from shared.api_records import CountRow, OperationReport, ProcessingTime, ReportFormat
from shared.errors import InvalidInput
from shared.models.movement_notice import MovementKind

JST = ZoneInfo("Asia/Tokyo")

#: Upper bounds (minutes, exclusive) of the processing-time buckets; the last bucket is open.
BUCKET_MINUTES = (5, 10, 15, 20, 30, 60)

_PERIOD = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


class PeriodError(InvalidInput):
    code = "report.period"
    default_message = "期間は年月 (例: 2026-11) または日付 (例: 2026-11-05) で指定してください。"


def parse_period(period: str) -> tuple[date, date]:
    """``YYYY-MM`` → the month's first and last day; ``YYYY-MM-DD`` → that day twice."""
    match = _PERIOD.match(period.strip())
    if not match:
        raise PeriodError()
    year, month, day = int(match[1]), int(match[2]), match[3]
    try:
        first = date(year, month, int(day) if day else 1)
    except ValueError as exc:
        raise PeriodError(f"存在しない日付です: {period}") from exc
    if day:
        return first, first
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def bucket_labels() -> list[tuple[str, str]]:
    """(key, Japanese label) of each processing-time bucket, shortest first."""
    labels: list[tuple[str, str]] = []
    low = 0
    for high in BUCKET_MINUTES:
        labels.append((f"{low}-{high}", f"{low}分以上{high}分未満" if low else f"{high}分未満"))
        low = high
    labels.append((f"{low}-", f"{low}分以上"))
    return labels


def _bucket_index(seconds: float) -> int:
    for i, high in enumerate(BUCKET_MINUTES):
        if seconds < high * 60:
            return i
    return len(BUCKET_MINUTES)


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _rows(counter: Counter[str], labels: dict[str, str]) -> list[CountRow]:
    return [
        CountRow(key=key, label=labels.get(key, key), count=n)
        for key, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


async def build(
    db: Database, lg_code: str, period: str, *, actor: audit.Actor, fmt: ReportFormat = ReportFormat.json
) -> OperationReport:
    """Count the period's receptions and record one audit event (``fmt`` is what was asked for)."""
    date_from, date_to = parse_period(period)
    async with db.tenant(lg_code) as session:
        municipality = await session.get(Municipality, lg_code)
        result = await session.execute(
            sa.select(
                Reception.kind,
                Reception.terminal_id,
                Reception.opened_at,
                Reception.created_at,
                User.id,
                User.username,
                User.display_name,
            )
            .join(User, User.id == Reception.created_by)
            .where(
                Reception.lg_code == lg_code,
                Reception.business_date >= date_from,
                Reception.business_date <= date_to,
            )
        )
        kinds: Counter[str] = Counter()
        terminals: Counter[str] = Counter()
        clerks: Counter[str] = Counter()
        clerk_labels: dict[str, str] = {}
        hours = [0] * 24
        durations: list[float] = []
        total = 0
        for kind, terminal, opened_at, created_at, _user_id, username, display_name in result:
            total += 1
            kinds[kind] += 1
            terminals[terminal or ""] += 1
            clerks[username] += 1
            clerk_labels[username] = f"{display_name} ({username})"
            hours[created_at.astimezone(JST).hour] += 1
            if opened_at is not None:
                seconds = (created_at.astimezone(UTC) - opened_at.astimezone(UTC)).total_seconds()
                if seconds >= 0:
                    durations.append(seconds)
        await audit.record(
            session,
            lg_code=lg_code,
            actor=actor,
            action="operation_report_success",
            object_type="report",
            details={"period": period, "format": fmt.value, "receptions": total},
        )
    buckets = Counter(_bucket_index(s) for s in durations)
    kind_labels = {k.value: k.label for k in MovementKind}
    return OperationReport(
        lg_code=lg_code,
        municipality=municipality.name if municipality else lg_code,
        period=period.strip(),
        date_from=date_from,
        date_to=date_to,
        total=total,
        by_kind=_rows(kinds, kind_labels),
        by_terminal=_rows(terminals, {"": "(端末不明)"}),
        by_clerk=_rows(clerks, clerk_labels),
        by_hour=hours,
        processing=ProcessingTime(
            measured=len(durations),
            median_seconds=statistics.median(durations) if durations else None,
            p90_seconds=percentile(durations, 0.9),
            buckets=[
                CountRow(key=key, label=label, count=buckets.get(i, 0))
                for i, (key, label) in enumerate(bucket_labels())
            ],
        ),
    )


def minutes(seconds: float | None) -> str:
    """Seconds as minutes with one decimal, or ``-`` when there is nothing to show."""
    return "-" if seconds is None else f"{seconds / 60:.1f}"


def period_label(report: OperationReport) -> str:
    if report.date_from == report.date_to:
        d = report.date_from
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{report.date_from.year}年{report.date_from.month}月"


def to_csv(report: OperationReport) -> str:
    """Long format ``区分,項目,件数`` (one line per count; statistics in minutes). No BOM: the
    writer adds it (``utf-8-sig``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["区分", "項目", "値"])
    writer.writerow(["団体", report.municipality, report.lg_code])
    writer.writerow(["期間", f"{report.date_from.isoformat()}〜{report.date_to.isoformat()}", ""])
    writer.writerow(["合計", "受付件数", report.total])
    for row in report.by_kind:
        writer.writerow(["手続き別", row.label, row.count])
    for row in report.by_terminal:
        writer.writerow(["端末別", _neutralise(row.label), row.count])
    for row in report.by_clerk:
        writer.writerow(["職員別", _neutralise(row.label), row.count])
    for hour, count in enumerate(report.by_hour):
        writer.writerow(["時間帯別", f"{hour:02d}時台", count])
    p = report.processing
    writer.writerow(["処理時間", "計測件数", p.measured])
    writer.writerow(["処理時間", "中央値(分)", minutes(p.median_seconds)])
    writer.writerow(["処理時間", "90パーセンタイル(分)", minutes(p.p90_seconds)])
    for row in p.buckets:
        writer.writerow(["処理時間の分布", row.label, row.count])
    return out.getvalue()


def _neutralise(text: str) -> str:
    """A value a spreadsheet would take for a formula gets a leading quote."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def filename(report: OperationReport, fmt: ReportFormat) -> str:
    return f"運用報告_{report.lg_code}_{report.period}.{fmt.value}"


MEDIA_TYPES = {
    ReportFormat.json: "application/json",
    ReportFormat.csv: "text/csv; charset=utf-8",
    ReportFormat.pdf: "application/pdf",
}


def encode(report: OperationReport, fmt: ReportFormat, font: Path | None = None) -> bytes:
    """The report as file bytes: JSON, CSV (UTF-8 with BOM, CRLF) or PDF (in IPAmj明朝 from
    ``font``, default Debian's path). Call in a worker thread for PDF (rendering takes a moment)."""
    if fmt is ReportFormat.pdf:
        from server.domain.reports import operations_pdf

        return operations_pdf.render(report, font=font)
    if fmt is ReportFormat.csv:
        return to_csv(report).encode("utf-8-sig")
    return report.model_dump_json(indent=2).encode()
