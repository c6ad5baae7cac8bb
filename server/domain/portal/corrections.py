"""The resident's side of 差戻し: ``/applications/{id}/fix`` (correction page), its confirmation
page and the resubmission. Only the items staff flagged are inputs; everything else is shown
read-only and cannot be posted (``eforms/returns.py`` refuses it). Works without JavaScript.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import Settings
from server.db.engine import Database
from server.db.models import Application, ApplicationFile, ApplicationReturn
from server.deps import key_ring
from server.domain.accounts.access import PUBLIC
from server.domain.accounts.guards import request_client_ip
from server.domain.documents.controllers import blob_store
from server.domain.eforms import fields as F
from server.domain.eforms import files as files_store
from server.domain.eforms import returns, services
from server.domain.eforms.services import ApplicationStatus
from server.domain.jpki import services as jpki
from server.domain.portal import controllers as C
from server.domain.portal.html import csrf_token, page
from server.domain.portal.summary import display, summary_of
from shared.schemas.eform import AGGREGATE_MB, EformProcedure

Req = Request[Any, Any, Any]
#: As the form page (``controllers.FORM_BODY_LIMIT``): every attachment at its limit, plus the fields.
FORM_BODY_LIMIT = (AGGREGATE_MB + 2) * 1024 * 1024


def rows_of(
    definition: EformProcedure,
    ret: ApplicationReturn,
    raw: dict[str, Any],
    sealed: dict[str, Any],
    files: dict[str, Any],
) -> list[dict[str, Any]]:
    """Every item of the form in order: flagged ones as inputs (with their reason), others as text."""
    checked = F.validate(definition, raw, sealed)
    shown = {path for path, _f in F.visible_paths(definition, raw, sealed)}
    texts = {i.path: i.value for i in summary_of(definition, checked.values, files)}
    rows = []
    for path, f in F.leaf_paths(definition, raw):
        flagged = path in ret.fields
        if not flagged and path not in shown:
            continue
        rows.append(
            {
                "path": path,
                "field": f,
                "label": F.label_of(definition, path),
                "flagged": flagged,
                "reason": (ret.reasons or {}).get(path, ""),
                "text": texts.get(path) or display(f, None, files),
            }
        )
    return rows


def _context(
    site: dict[str, Any],
    app: Application,
    definition: EformProcedure,
    ret: ApplicationReturn,
    secret: str,
    files: dict[str, Any],
    errors: dict[str, str],
) -> dict[str, Any]:
    raw, sealed = returns.working(ret)
    return {
        **site,
        "d": definition,
        "app": app,
        "ret": ret,
        "app_url": C._app_url(site["lg_code"], app.id),
        "csrf": csrf_token(secret),
        "raw": raw,
        "sealed": sealed,
        "files": files,
        "errors": errors,
        "others": {p: m for p, m in errors.items() if p not in ret.fields},
        "rows": rows_of(definition, ret, raw, sealed, files),
        "accept": ",".join(f".{e}" for e in definition.uploads.extensions),
        "has_file": any(F.T.file == f.type for p, f in F.leaf_paths(definition, raw) if p in ret.fields),
    }


async def _open_return(
    session: AsyncSession, app: Application
) -> tuple[ApplicationReturn, dict[str, ApplicationFile]]:
    """The open 差戻し of ``app`` and its files by id (what every correction page shows)."""
    ret = await returns.open_return(session, app)
    return ret, {str(f.id): f for f in await services.files_of(session, app)}


@get("/applications/{app_id:uuid}/fix", opt=PUBLIC, include_in_schema=False)
async def fix_page(
    lg_code: FromPath[str], app_id: FromPath[uuid.UUID], request: Req, db: NamedDependency[Database]
) -> Response[Any]:
    """The correction page: the reason, the flagged items as inputs, the rest read-only."""
    site = await C._site(db, lg_code)
    async with db.tenant(site["lg_code"]) as session:
        app, _row, definition, secret = await C._load(db, site, request, app_id, session)
        if app.status != ApplicationStatus.returned:
            return Redirect(C._app_url(site["lg_code"], app_id), status_code=HTTP_303_SEE_OTHER)
        ret, files = await _open_return(session, app)
    ctx = _context(site, app, definition, ret, secret, files, {})
    return page("portal/fix.html", ctx, user_agent=C._ua(request))


@post(
    "/applications/{app_id:uuid}/fix",
    opt=PUBLIC,
    include_in_schema=False,
    request_max_body_size=FORM_BODY_LIMIT,
)
async def fix_post(
    lg_code: FromPath[str],
    app_id: FromPath[uuid.UUID],
    request: Req,
    db: NamedDependency[Database],
) -> Response[Any]:
    """Take the flagged items; on 確認 with the whole application valid, go to the confirmation."""
    site = await C._site(db, lg_code)
    form = await request.form()
    multi = {k: form.getall(k) for k in form}
    action = str(form.get("action") or "refresh")[:100]
    async with files_store.changes(blob_store(request.app.state)) as blobs:
        await C.stage_uploads(blobs, request, site["lg_code"], app_id, form)
        async with db.tenant(site["lg_code"]) as session:
            app, _row, definition, secret = await C._load(db, site, request, app_id, session)
            C._check_csrf(secret, form)
            keys = key_ring(request.app.state)
            result = await returns.correct(session, keys, app, definition, multi, blobs)
            ret, files = await _open_return(session, app)
            if action == "confirm" and result.checked.ok:
                return Redirect(
                    f"{C._app_url(site['lg_code'], app_id)}/fix/confirm", status_code=HTTP_303_SEE_OTHER
                )
            errors = result.checked.errors if action == "confirm" else result.posted_errors
            ctx = _context(site, app, definition, ret, secret, files, errors)
    return page("portal/fix.html", ctx, status=422 if errors else 200, user_agent=C._ua(request))


@get("/applications/{app_id:uuid}/fix/confirm", opt=PUBLIC, include_in_schema=False)
async def fix_confirm_page(
    lg_code: FromPath[str], app_id: FromPath[uuid.UUID], request: Req, db: NamedDependency[Database]
) -> Response[Any]:
    """The whole corrected application, changed items marked, and the 再提出 button."""
    site = await C._site(db, lg_code)
    async with db.tenant(site["lg_code"]) as session:
        app, _row, definition, secret = await C._load(db, site, request, app_id, session)
        if app.status != ApplicationStatus.returned:
            return Redirect(C._app_url(site["lg_code"], app_id), status_code=HTTP_303_SEE_OTHER)
        ret, files = await _open_return(session, app)
    raw, sealed = returns.working(ret)
    checked = F.validate(definition, raw, sealed)
    if not checked.ok:
        ctx = _context(site, app, definition, ret, secret, files, checked.errors)
        return page("portal/fix.html", ctx, status=422, user_agent=C._ua(request))
    changed = set(returns.changed_paths(definition, ret.before or {}, raw, ret.before_sealed or {}, sealed))
    ctx = {
        **site,
        "d": definition,
        "app_url": C._app_url(site["lg_code"], app_id),
        "csrf": csrf_token(secret),
        "summary": summary_of(definition, checked.values, files),
        "changed": changed,
        **C.jpki_context(definition, raw),
    }
    return page("portal/fix_confirm.html", ctx, user_agent=C._ua(request))


@post("/applications/{app_id:uuid}/fix/submit", opt=PUBLIC, include_in_schema=False)
async def fix_submit(
    lg_code: FromPath[str],
    app_id: FromPath[uuid.UUID],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """再提出: validate the whole corrected application and hand it in again."""
    site = await C._site(db, lg_code)
    form = await request.form()
    async with db.tenant(site["lg_code"]) as session:
        app, row, definition, secret = await C._load(db, site, request, app_id, session)
        C._check_csrf(secret, form)
        # A JPKI procedure: the corrected version needs the resident's signature first (the 署名
        # step then resubmits).
        if (
            app.status == ApplicationStatus.returned
            and await jpki.needed(session, app, definition)
            and await jpki.valid_signature(session, app, row) is None
        ):
            return Redirect(f"{C._app_url(site['lg_code'], app_id)}/sign", status_code=HTTP_303_SEE_OTHER)
        checked = await returns.resubmit(session, settings, app, row, definition, request_client_ip(request))
        if not checked.ok:
            ret = await returns.open_return(session, app)
            files = {str(f.id): f for f in await services.files_of(session, app)}
            ctx = _context(site, app, definition, ret, secret, files, checked.errors)
            return page("portal/fix.html", ctx, status=422, user_agent=C._ua(request))
    return Redirect(f"{C._app_url(site['lg_code'], app_id)}?done=1", status_code=HTTP_303_SEE_OTHER)


route_handlers = [fix_page, fix_post, fix_confirm_page, fix_submit]
