"""HTTP routes of the reports domain (contract: :mod:`shared.api_records`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from uuid import UUID

import anyio.to_thread
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from server.config import Settings
from server.db.engine import Database
from server.domain.accounts.access import requires
from server.domain.accounts.services import Principal
from server.domain.reports import operations, stored
from shared.api_records import ReportFormat, StoredReport
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


@get(
    "/api/v1/reports/operations/stored",
    opt=requires(Permission.report_read),
    tags=["reports"],
    summary="自動作成した月次の運用報告の一覧 (新しい順)",
)
async def stored_reports(
    principal: NamedDependency[Principal], db: NamedDependency[Database]
) -> list[StoredReport]:
    """Monthly reports the built-in scheduler stored for the caller's municipality."""
    return await stored.listing(db, principal.lg_code)


@get(
    "/api/v1/reports/operations/stored/{report_id:uuid}",
    opt=requires(Permission.report_read),
    tags=["reports"],
    summary="自動作成した運用報告のファイル (PDF / CSV、ハッシュを検証して返す)",
    media_type="application/pdf",
)
async def stored_report_file(
    report_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    format: FromQuery[ReportFormat] = ReportFormat.pdf,
) -> Response[bytes]:
    """The stored PDF or CSV; audited as ``operation_report_success`` with ``stored``."""
    from server.domain.documents.controllers import blob_store

    period, data = await stored.content(db, blob_store(request.app.state), principal, report_id, format)
    name = quote(f"運用報告_{principal.lg_code}_{period}.{format.value}")
    disposition = "inline" if format is ReportFormat.pdf else "attachment"
    headers = {"Cache-Control": "no-store", "Content-Disposition": f"{disposition}; filename*=UTF-8''{name}"}
    return Response(data, media_type=operations.MEDIA_TYPES[format], headers=headers)


route_handlers = [operation_report, stored_reports, stored_report_file]
