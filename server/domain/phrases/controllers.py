"""HTTP routes of the phrases domain (contract: :mod:`shared.api_counter`)."""

from __future__ import annotations

from uuid import UUID

from litestar import delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from server.config import Settings
from server.db.engine import Database
from server.domain.accounts.access import requires
from server.domain.accounts.services import Principal
from server.domain.phrases import services
from shared.api_counter import PhraseList, PhraseRead, PhraseScope, PhraseWrite
from shared.permissions import Permission

OWN = requires(Permission.reception_create)
OFFICE = requires(Permission.phrase_manage)


@get("/api/v1/phrases", opt=OWN, tags=["phrases"], summary="語句の一覧 (自分の語句と団体共通の語句)")
async def list_phrases(principal: NamedDependency[Principal], db: NamedDependency[Database]) -> PhraseList:
    """Everything the caller's picker offers (his own and the office's phrases)."""
    return await services.list_phrases(db, principal)


@post("/api/v1/phrases", opt=OWN, status_code=HTTP_201_CREATED, tags=["phrases"], summary="自分の語句を登録")
async def create_own(
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
    data: JSONBody[PhraseWrite],
) -> PhraseRead:
    """Add a phrase to the caller's own list; audited."""
    return await services.create(db, settings, principal, PhraseScope.user, data)


@put("/api/v1/phrases/{phrase_id:uuid}", opt=OWN, tags=["phrases"], summary="自分の語句を変更")
async def update_own(
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    phrase_id: FromPath[UUID],
    data: JSONBody[PhraseWrite],
) -> PhraseRead:
    """Change one of the caller's own phrases (``version`` as read); audited."""
    return await services.update(db, principal, PhraseScope.user, phrase_id, data)


@delete(
    "/api/v1/phrases/{phrase_id:uuid}",
    opt=OWN,
    status_code=HTTP_204_NO_CONTENT,
    tags=["phrases"],
    summary="自分の語句を削除",
)
async def delete_own(
    principal: NamedDependency[Principal], db: NamedDependency[Database], phrase_id: FromPath[UUID]
) -> None:
    """Remove one of the caller's own phrases; audited."""
    await services.delete(db, principal, PhraseScope.user, phrase_id)


@post(
    "/api/v1/phrases/office",
    opt=OFFICE,
    status_code=HTTP_201_CREATED,
    tags=["phrases"],
    summary="団体共通の語句を登録",
)
async def create_office(
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
    data: JSONBody[PhraseWrite],
) -> PhraseRead:
    """Add a phrase to the municipality's shared list; audited."""
    return await services.create(db, settings, principal, PhraseScope.office, data)


@put("/api/v1/phrases/office/{phrase_id:uuid}", opt=OFFICE, tags=["phrases"], summary="団体共通の語句を変更")
async def update_office(
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    phrase_id: FromPath[UUID],
    data: JSONBody[PhraseWrite],
) -> PhraseRead:
    """Change a shared phrase (``version`` as read); audited."""
    return await services.update(db, principal, PhraseScope.office, phrase_id, data)


@delete(
    "/api/v1/phrases/office/{phrase_id:uuid}",
    opt=OFFICE,
    status_code=HTTP_204_NO_CONTENT,
    tags=["phrases"],
    summary="団体共通の語句を削除",
)
async def delete_office(
    principal: NamedDependency[Principal], db: NamedDependency[Database], phrase_id: FromPath[UUID]
) -> None:
    """Remove a shared phrase; audited."""
    await services.delete(db, principal, PhraseScope.office, phrase_id)


route_handlers = [
    list_phrases,
    create_own,
    update_own,
    delete_own,
    create_office,
    update_office,
    delete_office,
]
