"""HTTP routes of the reports domain (contract: :mod:`shared.api_records`)."""

from __future__ import annotations

from urllib.parse import quote

import anyio.to_thread
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from server.config import Settings
from server.db.engine import Database
from server.domain.accounts.access import requires
from server.domain.accounts.services import Principal
from server.domain.reports import operations
from shared.api_records import ReportFormat
from shared.permissions import Permission


@get(
    "/api/v1/reports/operations",
    opt=requires(Permission.report_read),
    tags=["reports"],
    summary="運用報告 (手続き別・端末別・職員別・時間帯別の受付件数、処理時間) を JSON / CSV / PDF で",
    media_type="application/json",
)
async def operation_report(
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
    period: FromQuery[str],
    format: FromQuery[ReportFormat] = ReportFormat.json,
) -> Response[bytes]:
    """The period (``YYYY-MM`` or ``YYYY-MM-DD``) of the caller's municipality; audited."""
    report = await operations.build(db, principal.lg_code, period, actor=principal.actor, fmt=format)
    data = await anyio.to_thread.run_sync(operations.encode, report, format, settings.ipamj_font)
    headers = {"Cache-Control": "no-store"}
    if format is not ReportFormat.json:
        name = quote(operations.filename(report, format))
        disposition = "inline" if format is ReportFormat.pdf else "attachment"
        headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{name}"
    return Response(data, media_type=operations.MEDIA_TYPES[format], headers=headers)


route_handlers = [operation_report]
