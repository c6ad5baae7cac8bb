"""Operation reports the built-in scheduler stored (``report_files``): list and hash-verified read."""

from __future__ import annotations

import uuid

import anyio.to_thread
import sqlalchemy as sa

from server.db.engine import Database
from server.db.models import ReportFile
from server.domain import audit
from server.domain.accounts.services import Principal
from server.domain.documents.services import read_verified
from server.plugins.blobstore import BlobStore
from shared.api_records import ReportFormat, StoredReport
from shared.errors import InvalidInput, NotFound


async def listing(db: Database, lg_code: str) -> list[StoredReport]:
    async with db.tenant(lg_code) as session:
        rows = (
            await session.execute(
                sa.select(ReportFile).where(ReportFile.lg_code == lg_code).order_by(ReportFile.period.desc())
            )
        ).scalars()
        return [
            StoredReport(
                id=r.id,
                period=r.period,
                created_at=r.created_at,
                pdf_bytes=r.pdf_bytes,
                csv_bytes=r.csv_bytes,
            )
            for r in rows
        ]


async def content(
    db: Database, store: BlobStore, principal: Principal, report_id: uuid.UUID, fmt: ReportFormat
) -> tuple[str, bytes]:
    """``(period, bytes)`` of a stored report in ``fmt`` (PDF or CSV), audited."""
    if fmt is ReportFormat.json:
        raise InvalidInput("保存した運用報告は PDF か CSV で取得してください。", code="report.format")
    async with db.tenant(principal.lg_code) as session:
        row = (
            await session.execute(
                sa.select(ReportFile).where(
                    ReportFile.id == report_id, ReportFile.lg_code == principal.lg_code
                )
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFound("保存された運用報告が見つかりません。", code="report.not_found")
        key, digest = (
            (row.pdf_key, row.pdf_sha256) if fmt is ReportFormat.pdf else (row.csv_key, row.csv_sha256)
        )
        period = row.period
    data = await anyio.to_thread.run_sync(read_verified, store, key, digest)
    async with db.tenant(principal.lg_code) as session:
        await audit.record(
            session,
            lg_code=principal.lg_code,
            actor=principal.actor,
            action="operation_report_success",
            object_type="report_file",
            object_id=report_id,
            details={"period": period, "format": fmt.value, "stored": True},
        )
    return period, data
