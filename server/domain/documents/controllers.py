"""HTTP routes of the documents domain (contract: :mod:`shared.api_records`)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.status_codes import HTTP_201_CREATED

from server.config import Settings
from server.db.engine import Database
from server.deps import key_ring
from server.domain.accounts.access import requires
from server.domain.accounts.guards import DeferredPrincipal
from server.domain.accounts.services import Principal
from server.domain.documents import services
from server.plugins.blobstore import BlobStore, open_store
from shared.api_records import AttachmentRead, DocumentClass, ReceptionPage, ReceptionRecord, SortKey
from shared.errors import PayloadTooLarge
from shared.models.movement_notice import MovementKind
from shared.permissions import Permission


def blob_store(state: State) -> BlobStore:
    """The app's blob store, built on first use from the settings."""
    store: BlobStore | None = state.get("blob_store")
    if store is None:
        store = open_store(state.settings)
        state.blob_store = store
    return store


async def _read_body(request: Request[Any, Any, Any], limit: int) -> bytes:
    """The request body, refused as soon as it exceeds ``limit`` (never buffered beyond it)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"ファイルが大きすぎます (上限 {limit / 1_000_000:g} MB)。"
                "解像度を下げるか分けて登録してください。",
                code="attachment.too_large",
            )
        chunks.append(chunk)
    return b"".join(chunks)


@post(
    "/api/v1/receptions/{reception_id:uuid}/attachments",
    opt=requires(Permission.reception_create),
    status_code=HTTP_201_CREATED,
    request_max_body_size=None,
    tags=["documents"],
    summary="受付に文書を添付 (本文はファイルそのもの。形式は内容で判定)",
)
async def upload_attachment(
    reception_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
    document_class: FromQuery[DocumentClass] = DocumentClass.scan,
    filename: FromQuery[str | None] = None,
    client_key: FromQuery[UUID | None] = None,
) -> AttachmentRead:
    """Check, convert to PDF and archive one file; refused files leave nothing stored.

    With ``client_key`` the upload is idempotent: the same key again answers the stored document.
    """
    data = await _read_body(request, settings.attachment_max_bytes)
    return await services.upload(
        db,
        blob_store(request.app.state),
        settings,
        principal,
        reception_id,
        data,
        document_class,
        filename,
        client_key=client_key,
    )


@get(
    "/api/v1/receptions/{reception_id:uuid}/attachments",
    opt=requires(Permission.reception_read),
    tags=["documents"],
    summary="受付の添付文書の一覧",
)
async def list_attachments(
    reception_id: FromPath[UUID], principal: NamedDependency[Principal], db: NamedDependency[Database]
) -> list[AttachmentRead]:
    """Attachments of one reception (metadata only)."""
    return await services.list_attachments(db, principal, reception_id)


@get(
    "/api/v1/attachments/{attachment_id:uuid}/content",
    opt=requires(Permission.reception_read),
    tags=["documents"],
    summary="添付文書の PDF (ハッシュを検証して返す)",
    media_type="application/pdf",
)
async def attachment_content(
    attachment_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[bytes]:
    """The archived PDF; 500 with a Japanese message if its SHA-256 does not match."""
    meta, data = await services.content(db, blob_store(request.app.state), principal, attachment_id)
    name = quote(f"{meta.filename.rsplit('.', 1)[0]}.pdf")
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{name}",
            "X-Content-SHA256": meta.sha256,
            "Cache-Control": "no-store",
        },
    )


@get(
    "/api/v1/records/receptions",
    opt=requires(Permission.reception_read, in_handler_transaction=True),
    tags=["documents"],
    summary="受付の検索 (record.search がなければ自分の受付のみ)",
)
async def search_receptions(
    deferred_principal: NamedDependency[DeferredPrincipal],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
    name: FromQuery[str | None] = None,
    birth_date: FromQuery[date | None] = None,
    date_from: FromQuery[date | None] = None,
    date_to: FromQuery[date | None] = None,
    reception_number: FromQuery[str | None] = None,
    confirmation_number: FromQuery[str | None] = None,
    kind: FromQuery[MovementKind | None] = None,
    status: FromQuery[str | None] = None,
    clerk: FromQuery[str | None] = None,
    terminal_id: FromQuery[str | None] = None,
    sort: FromQuery[SortKey] = SortKey.reception_number,
    descending: FromQuery[bool] = True,
    page: FromQuery[int] = 1,
    page_size: FromQuery[int] = 50,
) -> ReceptionPage:
    """Search receptions by name (kanji, kana, romaji), dates, numbers, kind, status, clerk, terminal."""
    query = services.SearchQuery(
        name=name,
        birth_date=birth_date,
        date_from=date_from,
        date_to=date_to,
        reception_number=reception_number,
        confirmation_number=confirmation_number,
        kind=kind.value if kind else None,
        status=status,
        clerk=clerk,
        terminal_id=terminal_id,
        sort=sort,
        descending=descending,
        page=page,
        page_size=page_size,
    )
    async with deferred_principal.audited():
        return await services.search(db, settings, deferred_principal, query)


@get(
    "/api/v1/records/receptions/{reception_id:uuid}",
    opt=requires(Permission.reception_read),
    tags=["documents"],
    summary="受付の表示 (届出・添付文書)",
)
async def view_reception(
    reception_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> ReceptionRecord:
    """One reception with its attachments; 個人番号 only with my_number.view."""
    keys = key_ring(request.app.state) if principal.has(Permission.my_number_view) else None
    return await services.record(db, keys, principal, reception_id)


route_handlers = [upload_attachment, list_attachments, attachment_content, search_receptions, view_reception]
