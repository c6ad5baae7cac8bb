"""HTTP routes of the backups domain: the status the supervisor screen shows."""

from __future__ import annotations

import anyio.to_thread
from litestar import get
from litestar.di import NamedDependency

from server.config import Settings
from server.domain.accounts.access import requires
from server.domain.backups import service
from shared.api_records import BackupStatus
from shared.permissions import Permission


@get(
    "/api/v1/records/backups",
    opt=requires(Permission.settings_manage),
    tags=["backups"],
    summary="バックアップの状態 (最終成功日時・容量・経過時間)",
)
async def backup_status(settings: NamedDependency[Settings]) -> BackupStatus:
    """Generations kept, last success and its age in hours."""
    return await anyio.to_thread.run_sync(service.status, settings)


route_handlers = [backup_status]
