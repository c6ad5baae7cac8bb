"""HTTP routes of the backups domain: the status the supervisor screen shows."""

from __future__ import annotations

import anyio.to_thread
from litestar import get
from litestar.di import NamedDependency

from server.config import Settings
from server.db.engine import Database
from server.domain.accounts.access import requires
from server.domain.backups import service
from shared.api_records import BackupStatus
from shared.permissions import Permission


@get(
    "/api/v1/records/backups",
    opt=requires(Permission.settings_manage),
    tags=["backups"],
    summary="バックアップの状態 (最終成功日時・容量・経過時間・最後の自動実行の結果)",
)
async def backup_status(settings: NamedDependency[Settings], db: NamedDependency[Database]) -> BackupStatus:
    """Generations kept, last success and its age in hours, and the last scheduled run's result."""
    from server.domain.scheduler import service as scheduler

    state = await anyio.to_thread.run_sync(service.status, settings)
    return state.model_copy(
        update={
            "last_scheduled": await scheduler.last_run(db, scheduler.BACKUP),
            "schedule": scheduler.describe(settings),
        }
    )


route_handlers = [backup_status]
