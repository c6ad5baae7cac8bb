"""HTTP routes of the retention domain: retention classes and purge jobs (contract:
:mod:`shared.api_records`). The purge routes use the same service as ``madoguchi-server purge``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from server.config import Settings
from server.db.engine import Database
from server.domain.accounts.access import requires
from server.domain.accounts.services import Principal
from server.domain.documents.controllers import blob_store
from server.domain.retention import classes, service
from shared.api_records import (
    DocumentClass,
    PurgeJobDetail,
    PurgeJobRead,
    PurgeRunRequest,
    RetentionClassRead,
    RetentionClassUpdate,
)
from shared.errors import Conflict, InvalidInput
from shared.permissions import Permission


@get(
    "/api/v1/records/retention",
    opt=requires(Permission.mode_supervisor),
    tags=["retention"],
    summary="保存区分 (文書の種類ごとの保存年数)",
)
async def list_retention(
    principal: NamedDependency[Principal], db: NamedDependency[Database], settings: NamedDependency[Settings]
) -> list[RetentionClassRead]:
    """Every document class of the caller's municipality with its years and default."""
    async with db.tenant(principal.lg_code) as session:
        return await classes.effective(session, settings, principal.lg_code)


@put(
    "/api/v1/records/retention/{document_class:str}",
    opt=requires(Permission.settings_manage),
    tags=["retention"],
    summary="保存区分の変更 (1年未満は不可。旧値と新値を記録)",
)
async def update_retention(
    document_class: FromPath[DocumentClass],
    data: JSONBody[RetentionClassUpdate],
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> RetentionClassRead:
    """Set the years of one class; the documents already archived in it get the new date."""
    return await classes.update(
        db, settings, principal.lg_code, document_class, data.years, actor=principal.actor
    )


@post(
    "/api/v1/records/purge/plan",
    opt=requires(Permission.record_purge),
    status_code=200,
    tags=["retention"],
    summary="保存期限を過ぎた受付・文書の削除一覧を作成 (未完了の一覧があればそれを返す)",
)
async def purge_plan(
    principal: NamedDependency[Principal], db: NamedDependency[Database], settings: NamedDependency[Settings]
) -> PurgeJobDetail:
    """Fix the list of what has expired under the current retention classes."""
    job = await service.plan(db, settings, principal.lg_code, planned_by=principal.username)
    return await service.describe(db, principal.lg_code, job.id)


@get(
    "/api/v1/records/purge/jobs",
    opt=requires(Permission.record_purge),
    tags=["retention"],
    summary="削除の記録 (削除ジョブの一覧、新しい順)",
)
async def purge_jobs(
    principal: NamedDependency[Principal], db: NamedDependency[Database]
) -> list[PurgeJobRead]:
    """The municipality's purge jobs, newest first."""
    return await service.jobs(db, principal.lg_code)


@get(
    "/api/v1/records/purge/jobs/{job_id:uuid}",
    opt=requires(Permission.record_purge),
    tags=["retention"],
    summary="削除ジョブの内容 (種類別の件数と一覧)",
)
async def purge_job(
    job_id: FromPath[UUID], principal: NamedDependency[Principal], db: NamedDependency[Database]
) -> PurgeJobDetail:
    """One job with its counts per class and its items (the deletion record once run)."""
    return await service.describe(db, principal.lg_code, job_id)


@post(
    "/api/v1/records/purge/jobs/{job_id:uuid}/run",
    opt=requires(Permission.record_purge),
    status_code=200,
    tags=["retention"],
    summary="削除の実行 (確認と一覧の件数が必要)",
)
async def purge_run(
    job_id: FromPath[UUID],
    data: JSONBody[PurgeRunRequest],
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> PurgeJobDetail:
    """Delete exactly the job's list after an explicit confirmation of that list's size."""
    if not data.confirm:
        raise InvalidInput(
            "削除の確認がされていません。一覧を確かめてから確認してください。", code="purge.unconfirmed"
        )
    current = await service.describe(db, principal.lg_code, job_id, limit=0)
    if current.job.status == "done":
        raise Conflict("この削除ジョブは実行済みです。", code="purge.done")
    if data.item_count != current.job.item_count:
        raise Conflict(
            f"確認した件数 ({data.item_count} 件) が一覧 ({current.job.item_count} 件) と違います。"
            "一覧を表示し直してください。",
            code="purge.count_mismatch",
        )
    await service.execute(
        db, blob_store(request.app.state), principal.lg_code, job_id, executed_by=principal.username
    )
    return await service.describe(db, principal.lg_code, job_id)


route_handlers = [list_retention, update_retention, purge_plan, purge_jobs, purge_job, purge_run]
