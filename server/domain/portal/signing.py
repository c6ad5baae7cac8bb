"""The 署名 step of the portal: after the confirmation page, before submission (spec 002 6(1)③).

``/applications/{id}/sign`` explains the step and offers: the signing app (``sandbox`` page or
the デジタル認証アプリ), or — without a phone — downloading the application's canonical data
and uploading a detached CMS signature file (.p7s) made with the card on a PC. The result page
shows the verified 基本4情報; only then can the resident submit. Works without JavaScript.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from server.config import Settings
from server.db.engine import Database
from server.domain import audit
from server.domain.accounts.access import PUBLIC
from server.domain.documents.controllers import blob_store
from server.domain.documents.services import IntegrityFailure
from server.domain.eforms import fields as F
from server.domain.eforms import services
from server.domain.eforms.services import ApplicationStatus
from server.domain.jpki import services as jpki
from server.domain.jpki import verify as V
from server.domain.jpki.certinfo import GENDER_LABELS, FourInfo
from server.domain.portal import controllers as C
from server.domain.portal.html import csrf_token, page
from server.plugins.blobstore import BlobMissing
from server.plugins.jpki.sandbox import VARIANTS, SandboxSigningApp
from shared.errors import Conflict, NotFound

Req = Request[Any, Any, Any]
#: Cookie (path ``/portal/{lg_code}/sign/``) naming the application last sent to the signing app.
SIGNING_COOKIE = "portal_signing"
SIGNATURE_UPLOAD_LIMIT = V.MAX_SIGNATURE_BYTES * 2 + 64 * 1024


@asynccontextmanager
async def _files_checked(db: Database, lg_code: str, app_id: uuid.UUID) -> AsyncIterator[None]:
    """Audit a changed or missing attached file found while building the data to sign."""
    try:
        yield
    except (IntegrityFailure, BlobMissing) as exc:
        async with db.tenant(lg_code) as session:
            await audit.record(
                session,
                lg_code=lg_code,
                actor=audit.Actor(username=f"resident:{str(app_id)[:8]}"),
                action="attachment_read_failure",
                object_type="application",
                object_id=app_id,
                details={"code": exc.error_code, "during": "jpki"},
            )
        raise


async def _not_signable(session: Any, app: Any, definition: Any) -> bool:
    """Signed: a draft, or an application returned for correction (差戻し中, its corrected version),
    of an applicant the procedure asks to sign (``jpki_signers``: a 法人 / 団体 only with ``all``)."""
    if app.status not in (ApplicationStatus.draft, ApplicationStatus.returned):
        return True
    return not await jpki.needed(session, app, definition)


async def _checked(session: Any, app: Any, definition: Any) -> F.Checked:
    """The version to sign, checked: the draft, or the working copy of a 差戻し."""
    raw, sealed, _since = await jpki.signed_version(session, app)
    return F.validate(definition, raw, sealed)


def _review_url(lg_code: str, app: Any) -> str:
    """Where the whole version to sign is shown: the confirmation page, or the correction's."""
    base = C._app_url(lg_code, app.id)
    return f"{base}/fix/confirm" if app.status == ApplicationStatus.returned else f"{base}/confirm"


@get("/applications/{app_id:uuid}/sign", opt=PUBLIC, include_in_schema=False)
async def sign_page(
    lg_code: FromPath[str],
    app_id: FromPath[uuid.UUID],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """The 署名 step: how to sign, the last attempt's result, and the submit button once valid."""
    site = await C._site(db, lg_code)
    async with db.tenant(site["lg_code"]) as session:
        app, row, definition, secret = await C._load(db, site, request, app_id, session)
        if await _not_signable(session, app, definition):
            return Redirect(C._app_url(site["lg_code"], app_id), status_code=HTTP_303_SEE_OTHER)
        checked = await _checked(session, app, definition)
        if not checked.ok:  # only a complete application is signed: the confirm page shows the gaps
            return Redirect(_review_url(site["lg_code"], app), status_code=HTTP_303_SEE_OTHER)
        returned = app.status == ApplicationStatus.returned
        valid = await jpki.valid_signature(session, app, row)
        attempts = await jpki.signatures_of(session, app)
        amount = services.fee_of(definition, checked.values)
    last = next((s for s in attempts if s.state != "pending"), None)
    error = (
        last.result.get("message")
        if last is not None and last.state == "rejected" and valid is None
        else None
    )
    plugin = jpki.signing_app(settings)
    ctx = {
        **site,
        "d": definition,
        "app_url": C._app_url(site["lg_code"], app_id),
        "csrf": csrf_token(secret),
        "valid": valid,
        "error": error,
        # The app's side ended (declined, expired, unreadable result, API down) vs. a signature
        # that arrived and failed verification.
        "error_heading": "電子署名が完了していません"
        if error and str(last.result.get("code", "")).startswith("jpki.app_")  # type: ignore[union-attr]
        else "電子署名を確認できませんでした",
        "amount": amount,
        "returned": returned,
        "review_url": _review_url(site["lg_code"], app),
        "app_label": plugin.label,
        "app_is_fake": plugin.is_fake,
        # A 法人 / 団体 (procedures with ``jpki_signers: all``): the person filing signs as 代表者 or 担当者.
        "on_behalf": C.APPLICANT_TYPE_LABELS.get(str(definition.applicant_type_of(checked.values) or ""))
        if definition.applicant_type_of(checked.values) not in (None, "individual")
        else None,
    }
    return page("portal/sign.html", ctx, status=422 if error else 200, user_agent=C._ua(request))


@post("/applications/{app_id:uuid}/sign/start", opt=PUBLIC, include_in_schema=False)
async def sign_start(
    lg_code: FromPath[str],
    app_id: FromPath[uuid.UUID],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """Open a transaction at the signing app and send the resident there."""
    site = await C._site(db, lg_code)
    form = await request.form()
    async with _files_checked(db, site["lg_code"], app_id), db.tenant(site["lg_code"]) as session:
        app, row, definition, secret = await C._load(db, site, request, app_id, session)
        C._check_csrf(secret, form)
        if await _not_signable(session, app, definition):
            raise Conflict("この申請は署名できません。", code="jpki.not_signable")
        if not (await _checked(session, app, definition)).ok:
            return Redirect(_review_url(site["lg_code"], app), status_code=HTTP_303_SEE_OTHER)
        if jpki.signing_app(settings).fixed_return:  # one registered redirect URI per municipality
            back = f"{settings.public_base_url}/portal/{site['lg_code']}/sign/return"
        else:
            back = f"{settings.public_base_url}{C._app_url(site['lg_code'], app_id)}/sign/return"
        target = await jpki.begin(session, settings, app, row, back)
    # Which application this browser last sent to the signing app, for the one registered return
    # address: an answer that comes back after its attempt was swept can still lead the resident
    # to the application's 署名 page (which checks the application's own cookie as always).
    signing_cookie = Cookie(
        key=SIGNING_COOKIE,
        value=str(app_id),
        path=f"/portal/{site['lg_code']}/sign/",
        httponly=True,
        samesite="lax",
        secure=settings.public_base_url.startswith("https://"),
        max_age=24 * 3600,
    )
    return Redirect(target, status_code=HTTP_303_SEE_OTHER, cookies=[signing_cookie])


def _late(request: Req, lg_code: str, app_id: uuid.UUID | None, exc: NotFound) -> Response[Any]:
    """An answer of the signing app with no open attempt (too late and swept, already used, or
    forged): 404 with the Japanese reason and, when the application is known, the way back to its
    署名 page to start again."""
    ctx = {
        "site_name": "オンライン申請",
        "home_url": f"/portal/{lg_code}/",
        "heading": "署名の受付が終わっています",
        "message": exc.message,
        "again_url": f"{C._app_url(lg_code, app_id)}/sign" if app_id is not None else None,
    }
    return page("portal/error.html", ctx, status=404, user_agent=C._ua(request))


def _known_app(request: Req) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(request.cookies.get(SIGNING_COOKIE, ""))[:36])
    except ValueError:
        return None


def _return_params(request: Req) -> dict[str, str]:
    """The signing app's answer on the return URL (each value cut to 2,000 characters)."""
    return {k: str(v)[:2000] for k, v in request.query_params.items() if len(k) <= 40}


@get("/sign/return", opt=PUBLIC, include_in_schema=False)
async def sign_return_registered(
    lg_code: FromPath[str], request: Req, db: NamedDependency[Database]
) -> Response[Any]:
    """The one return address registered with the signing app (OAuth ``redirect_uri``): find the
    application of the open attempt by ``state`` and hand the answer on to its own return URL,
    where the application's cookie (scoped to its path) is sent and checked."""
    site = await C._site(db, lg_code)
    params = _return_params(request)
    state = params.get("state", "")[:200]
    try:
        if not state:
            raise NotFound(jpki.UNKNOWN_TRANSACTION, code="jpki.transaction_unknown")
        async with db.tenant(site["lg_code"]) as session:
            app_id = await jpki.pending_by_transaction(session, site["lg_code"], state)
    except NotFound as exc:
        return _late(request, site["lg_code"], _known_app(request), exc)
    target = f"{C._app_url(site['lg_code'], app_id)}/sign/return?{urlencode(params)}"
    return Redirect(target, status_code=HTTP_303_SEE_OTHER)


@get("/applications/{app_id:uuid}/sign/return", opt=PUBLIC, include_in_schema=False)
async def sign_return(
    lg_code: FromPath[str],
    app_id: FromPath[uuid.UUID],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """Back from the signing app: fetch and verify; the 署名 page shows the outcome (also a
    refusal: declined, expired, a result that does not decrypt or verify)."""
    site = await C._site(db, lg_code)
    params = _return_params(request)
    tx = (params.get("tx") or params.get("state") or "")[:200]
    late: Response[Any] | None = None
    async with _files_checked(db, site["lg_code"], app_id), db.tenant(site["lg_code"]) as session:
        app, row, definition, _secret = await C._load(db, site, request, app_id, session)
        if await _not_signable(session, app, definition):
            return Redirect(C._app_url(site["lg_code"], app_id), status_code=HTTP_303_SEE_OTHER)
        try:
            await jpki.complete(session, settings, app, row, tx, params)
        except NotFound as exc:  # no open attempt: the resident (cookie checked) may start again
            late = _late(request, site["lg_code"], app_id, exc)
    if late is not None:
        return late
    return Redirect(f"{C._app_url(site['lg_code'], app_id)}/sign", status_code=HTTP_303_SEE_OTHER)


@get("/applications/{app_id:uuid}/sign/data", opt=PUBLIC, include_in_schema=False)
async def sign_data(
    lg_code: FromPath[str], app_id: FromPath[uuid.UUID], request: Req, db: NamedDependency[Database]
) -> Response[bytes]:
    """The canonical bytes to sign with a PC signing tool (detached CMS, .p7s)."""
    site = await C._site(db, lg_code)
    async with _files_checked(db, site["lg_code"], app_id), db.tenant(site["lg_code"]) as session:
        app, row, definition, _secret = await C._load(db, site, request, app_id, session)
        if await _not_signable(session, app, definition):
            raise NotFound()
        content = await jpki.canonical_of(session, app, row, blob_store(request.app.state))
    return Response(
        content,
        media_type="application/json; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="application-{app_id}.json"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@post(
    "/applications/{app_id:uuid}/sign/upload",
    opt=PUBLIC,
    include_in_schema=False,
    request_max_body_size=SIGNATURE_UPLOAD_LIMIT,
)
async def sign_upload(
    lg_code: FromPath[str],
    app_id: FromPath[uuid.UUID],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """A signature file made on a PC over the downloaded data."""
    site = await C._site(db, lg_code)
    form = await request.form()
    upload = form.get("signature")
    read = getattr(upload, "read", None)
    data = await read() if read is not None else b""
    async with _files_checked(db, site["lg_code"], app_id), db.tenant(site["lg_code"]) as session:
        app, row, definition, secret = await C._load(db, site, request, app_id, session)
        C._check_csrf(secret, form)
        if await _not_signable(session, app, definition):
            raise Conflict("この申請は署名できません。", code="jpki.not_signable")
        if not data:
            raise V.SignatureRejected("署名ファイル（.p7s）を選んでください。", code="jpki.no_file")
        await jpki.upload(session, settings, app, row, data)
    return Redirect(f"{C._app_url(site['lg_code'], app_id)}/sign", status_code=HTTP_303_SEE_OTHER)


# ---------------------------------------------------------------- the sandbox signing app's page


def _sandbox(settings: Settings) -> SandboxSigningApp:
    plugin = jpki.signing_app(settings)
    if not isinstance(plugin, SandboxSigningApp):
        raise NotFound()
    return plugin


def _guess(values: dict[str, Any]) -> FourInfo:
    def first(*names: str) -> str:
        return next((str(values[n]) for n in names if values.get(n)), "")

    return FourInfo(
        name=first("name", "applicant_name") or "窓口 花子",
        birth_date=first("birth_date") or "1985-04-01",
        gender="2",
        address=first("address") or "茨城県下妻市本城町二丁目22番地",
    )


@get("/applications/{app_id:uuid}/sign/sandbox", opt=PUBLIC, include_in_schema=False)
async def sandbox_page(
    lg_code: FromPath[str],
    app_id: FromPath[uuid.UUID],
    tx: FromQuery[str],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """Sandbox: the test "signing app" (a real app runs on the resident's phone)."""
    site = await C._site(db, lg_code)
    plugin = _sandbox(settings)
    async with db.tenant(site["lg_code"]) as session:
        app, _row, definition, secret = await C._load(db, site, request, app_id, session)
        values = (await _checked(session, app, definition)).values
    if plugin.pending(tx[:200]) is None:
        raise NotFound("署名の手続きが見つかりません。もう一度「署名する」からやり直してください。")
    ctx = {
        **site,
        "app_url": C._app_url(site["lg_code"], app_id),
        "csrf": csrf_token(secret),
        "tx": tx[:200],
        "info": _guess(values),
        "genders": GENDER_LABELS,
        "variants": VARIANTS,
    }
    return page("portal/sign_sandbox.html", ctx, user_agent=C._ua(request))


@post("/applications/{app_id:uuid}/sign/sandbox", opt=PUBLIC, include_in_schema=False)
async def sandbox_sign(
    lg_code: FromPath[str],
    app_id: FromPath[uuid.UUID],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """Sandbox: sign with a freshly issued test certificate, then go back like a real app does."""
    site = await C._site(db, lg_code)
    plugin = _sandbox(settings)
    form = await request.form()
    async with db.tenant(site["lg_code"]) as session:
        _app, _row, _definition, secret = await C._load(db, site, request, app_id, session)
        C._check_csrf(secret, form)

    def text(name: str, default: str, limit: int = 200) -> str:
        return str(form.get(name) or default)[:limit].strip() or default

    gender = text("gender", "3", 1)
    info = FourInfo(
        name=text("name", "窓口 花子", 100),
        birth_date=text("birth_date", "1985-04-01", 10),
        gender=gender if gender in GENDER_LABELS else "3",
        address=text("address", "茨城県下妻市", 200),
    )
    variant = text("variant", "valid", 10)
    tx = text("tx", "", 200)
    back = plugin.sign(tx, info, variant if variant in VARIANTS else "valid")
    target = back.removeprefix(settings.public_base_url)
    return Redirect(f"{target}?tx={tx}", status_code=HTTP_303_SEE_OTHER)


route_handlers = [
    sign_page,
    sign_start,
    sign_return_registered,
    sign_return,
    sign_data,
    sign_upload,
    sandbox_page,
    sandbox_sign,
]
