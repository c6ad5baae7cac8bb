"""HTTP routes of the receptions domain."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from server.crypto import KeyRing
from server.db.engine import Database
from server.deps import key_ring
from server.domain.accounts.access import requires
from server.domain.accounts.services import Principal
from server.domain.receptions import services
from shared.api import ReceptionCreate, ReceptionRead
from shared.permissions import Permission


def _keys_for(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    data: ReceptionCreate | None = None,
) -> KeyRing | None:
    needed = principal.has(Permission.my_number_view) or (
        data is not None and any(p.my_number for p in data.notice.persons)
    )
    return key_ring(request.app.state) if needed else None


@post(
    "/api/v1/receptions",
    opt=requires(Permission.reception_create),
    status_code=HTTP_201_CREATED,
    tags=["receptions"],
    summary="受付の登録 (client_key で冪等)",
    responses={},
)
async def create_reception(
    data: JSONBody[ReceptionCreate],
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[ReceptionRead]:
    """Store a reception; the same client_key again answers 200 with the stored one."""
    read, created = await services.create(db, _keys_for(request, principal, data), principal, data)
    return Response(read, status_code=HTTP_201_CREATED if created else HTTP_200_OK)


@get(
    "/api/v1/receptions/{reception_id:uuid}",
    opt=requires(Permission.reception_read),
    tags=["receptions"],
    summary="受付の照会",
)
async def get_reception(
    reception_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> ReceptionRead:
    """One reception; 個人番号 only with my_number.view."""
    return await services.read(db, _keys_for(request, principal), principal, reception_id)


route_handlers = [create_reception, get_reception]
