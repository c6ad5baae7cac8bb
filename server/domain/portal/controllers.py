"""HTTP routes of the resident portal (``/portal/{lg_code}/…``), all public.

A resident reaches an application only with its secret: an HttpOnly cookie scoped to the
application's path, set after the emailed code or from the resume link. Every form post carries
a token derived from that secret (CSRF). Errors are shown as Japanese HTML pages; field errors
stay on the form with an error summary, and everything typed survives.
"""

from __future__ import annotations

import hmac
import time
import uuid
import weakref
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_303_SEE_OTHER

from server.config import Settings
from server.db.engine import Database
from server.db.models import Application, Municipality, Procedure
from server.deps import key_ring
from server.domain import audit
from server.domain.accounts.access import PUBLIC
from server.domain.accounts.guards import request_client_ip
from server.domain.documents.controllers import blob_store
from server.domain.eforms import corporate, returns, services, versions
from server.domain.eforms import fields as F
from server.domain.eforms import files as files_store
from server.domain.eforms.services import STATUS_LABELS, ApplicationStatus
from server.domain.jpki import services as jpki
from server.domain.payments import services as payments
from server.domain.portal import account_pages, postal
from server.domain.portal import accounts as resident_accounts
from server.domain.portal.html import STATIC, csrf_token, page, verify_csrf
from server.domain.portal.summary import summary_of
from server.plugins.payments import PaymentDeclined, WebhookRejected
from shared.errors import Conflict, InvalidInput, MadoguchiError, NotFound, PermissionDenied
from shared.schemas.eform import AGGREGATE_MB, EformFieldType, EformProcedure
from shared.text.checkdigit import normalize_lg_code

MB = 1024 * 1024
FORM_BODY_LIMIT = (AGGREGATE_MB + 2) * MB

Req = Request[Any, Any, Any]


def _lg(lg_code: str) -> str:
    try:
        return normalize_lg_code(lg_code)
    except InvalidInput:
        raise NotFound() from None


#: How long a process reuses a municipality's page header (every portal page needs it; reading it
#: was a transaction of its own per request). A renamed municipality shows within this time.
SITE_TTL_SECONDS = 60.0
_sites: weakref.WeakKeyDictionary[Database, dict[str, tuple[float, dict[str, Any]]]] = (
    weakref.WeakKeyDictionary()
)


async def _site(db: Database, lg_code: str) -> dict[str, Any]:
    lg = _lg(lg_code)
    known = _sites.setdefault(db, {})
    hit = known.get(lg)
    if hit is not None and time.monotonic() - hit[0] < SITE_TTL_SECONDS:
        return dict(hit[1])
    async with db.unbound() as session:
        m = await session.get(Municipality, lg)
    if m is None:  # not remembered: a municipality added later gets its portal at once
        raise NotFound("この自治体のページはありません。")
    site = {
        "site_name": f"{m.name} オンライン申請",
        "home_url": f"/portal/{m.lg_code}/",
        "lg_code": m.lg_code,
    }
    known[lg] = (time.monotonic(), site)
    return dict(site)


def _app_url(lg_code: FromPath[str], app_id: uuid.UUID) -> str:
    return f"/portal/{lg_code}/applications/{app_id}"


def _cookie_name(app_id: uuid.UUID) -> str:
    return f"eform_{app_id.hex}"


def _cookie(settings: Settings, lg_code: FromPath[str], app_id: FromPath[uuid.UUID], secret: str) -> Cookie:
    return Cookie(
        key=_cookie_name(app_id),
        value=secret,
        path=_app_url(lg_code, app_id),
        httponly=True,
        samesite="lax",
        secure=settings.public_base_url.startswith("https://"),
        max_age=60 * 60 * 24 * 30,
    )


def _secret(request: Req, app_id: uuid.UUID) -> str | None:
    return request.cookies.get(_cookie_name(app_id))


def _check_csrf(secret: str | None, form: Any) -> None:
    verify_csrf(secret, form, code="eform.csrf")


def _looks_own(request: Req, app_id: uuid.UUID, form: Any) -> bool:
    """Whether a post carries the CSRF token of a cookie it holds (the application's, or a
    resident login's): only such a post has its files written before its transaction (not yet a
    check of who may change the application: :func:`_load` and :func:`_check_csrf` do that)."""
    sent = str(form.get("csrf") or "")
    login = account_pages.login_cookie(request)
    secrets_held = [_secret(request, app_id), f"account:{login}" if login else None]
    return any(s and hmac.compare_digest(sent, csrf_token(s)) for s in secrets_held)


async def stage_uploads(
    blobs: files_store.Changes, request: Req, lg_code: str, app_id: uuid.UUID, form: Any
) -> None:
    """Write the post's files before its transaction opens (see :mod:`server.domain.eforms.files`)."""
    if _looks_own(request, app_id, form):
        await blobs.stage(lg_code, app_id, {k: form.getall(k) for k in form})


def _ua(request: Req) -> str:
    return request.headers.get("user-agent", "")


# ---------------------------------------------------------------- guide


@get("/", opt=PUBLIC, include_in_schema=False)
async def index(
    lg_code: FromPath[str], request: Req, db: NamedDependency[Database], q: FromQuery[str | None] = None
) -> Response[str]:
    """The procedure guide: categories, search."""
    site = await _site(db, lg_code)
    async with db.tenant(site["lg_code"]) as session:
        rows = await services.published_procedures(session, site["lg_code"], (q or "")[:100])
    categories: dict[str, list[Procedure]] = {}
    for r in rows:
        categories.setdefault(r.category, []).append(r)
    return page(
        "portal/index.html",
        {**site, "q": (q or "")[:100], "count": len(rows), "categories": list(categories.items())},
        user_agent=_ua(request),
    )


async def _account_context(request: Req, settings: Settings, site: dict[str, Any], session: Any) -> Any:
    """Who is logged in (for the page header and the account start button), the CSRF token, cookies."""
    account = await resident_accounts.current_account(
        session, key_ring(request.app.state), site["lg_code"], account_pages.login_cookie(request)
    )
    secret, cookies = account_pages.csrf_cookie(request, settings, site["lg_code"])
    ctx = {
        "account": account,
        "logged_in": account is not None,
        "account_url": f"{site['home_url']}account",
        "account_csrf": csrf_token(secret),
    }
    return ctx, cookies


@get("/procedures/{slug:str}", opt=PUBLIC, include_in_schema=False)
async def procedure_page(
    lg_code: FromPath[str],
    slug: FromPath[str],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[str]:
    """One procedure's guide page with the buttons into its form (logged in, or guest by code)."""
    site = await _site(db, lg_code)
    async with db.tenant(site["lg_code"]) as session:
        row = await services.procedure_by_slug(session, site["lg_code"], slug)
        ctx, cookies = await _account_context(request, settings, site, session)
    return page(
        "portal/procedure.html",
        {**site, **ctx, "d": services.definition_of(row)},
        cookies=cookies,
        user_agent=_ua(request),
    )


@post("/procedures/{slug:str}/start-account", opt=PUBLIC, include_in_schema=False)
async def start_account(
    lg_code: FromPath[str],
    slug: FromPath[str],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """Start as the logged-in account: a draft linked to it, straight to the form."""
    site = await _site(db, lg_code)
    form = await request.form()
    account_pages.check_csrf(request, form)
    async with db.tenant(site["lg_code"]) as session:
        account = await resident_accounts.current_account(
            session, key_ring(request.app.state), site["lg_code"], account_pages.login_cookie(request)
        )
        if account is None:
            return Redirect(f"{site['home_url']}account/login", status_code=HTTP_303_SEE_OTHER)
        row = await services.procedure_by_slug(session, site["lg_code"], slug)
        app, secret = await resident_accounts.start_application(
            session, account, row, services.definition_of(row), request_client_ip(request)
        )
    return Redirect(
        f"{_app_url(site['lg_code'], app.id)}/form",
        status_code=HTTP_303_SEE_OTHER,
        cookies=[_cookie(settings, site["lg_code"], app.id, secret)],
    )


@post("/procedures/{slug:str}/start", opt=PUBLIC, include_in_schema=False)
async def start(
    lg_code: FromPath[str],
    slug: FromPath[str],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """Guest start: mail a code, set the application's cookie, go to the code page."""
    site = await _site(db, lg_code)
    form = await request.form()
    email = str(form.get("email") or "")[:300]
    try:
        async with db.tenant(site["lg_code"]) as session:
            row = await services.procedure_by_slug(session, site["lg_code"], slug)
            definition = services.definition_of(row)
            if not definition.guest_allowed:
                raise PermissionDenied("この手続きは利用者登録が必要です。")
            app, secret = await services.start_guest(
                session, settings, row, email, request_client_ip(request)
            )
    except InvalidInput as exc:
        async with db.tenant(site["lg_code"]) as session:
            row = await services.procedure_by_slug(session, site["lg_code"], slug)
            account_ctx, cookies = await _account_context(request, settings, site, session)
        ctx = {**site, **account_ctx, "d": services.definition_of(row), "error": exc.message, "email": email}
        return page("portal/procedure.html", ctx, status=422, cookies=cookies, user_agent=_ua(request))
    return Redirect(
        f"{_app_url(site['lg_code'], app.id)}/verify",
        status_code=HTTP_303_SEE_OTHER,
        cookies=[_cookie(settings, site["lg_code"], app.id, secret)],
    )


# ---------------------------------------------------------------- the application


async def _load(
    db: Database, site: dict[str, Any], request: Req, app_id: FromPath[uuid.UUID], session: Any
) -> tuple[Application, Procedure, EformProcedure, str]:
    """The application opened by its cookie, or by the login of the account that started it.

    With the login, the returned secret (that the CSRF token is derived from) is the login cookie.
    """
    secret = _secret(request, app_id)
    try:
        app, row = await services.opened_by_resident(session, site["lg_code"], app_id, secret)
    except NotFound:
        login = account_pages.login_cookie(request)
        account = await resident_accounts.current_account(
            session, key_ring(request.app.state), site["lg_code"], login
        )
        if account is None or login is None or not await resident_accounts.owns(session, account, app_id):
            raise
        app = await session.get(Application, app_id)
        secret = f"account:{login}"
        row = await session.get(Procedure, app.procedure_id)
    assert row is not None and secret is not None
    return app, row, await versions.definition_for(session, app, row), secret


@get("/applications/{app_id:uuid}/verify", opt=PUBLIC, include_in_schema=False)
async def verify_page(
    lg_code: FromPath[str], app_id: FromPath[uuid.UUID], request: Req, db: NamedDependency[Database]
) -> Response[Any]:
    site = await _site(db, lg_code)
    async with db.tenant(site["lg_code"]) as session:
        app, _row, _d, secret = await _load(db, site, request, app_id, session)
    if app.status != ApplicationStatus.unverified:
        return Redirect(f"{_app_url(site['lg_code'], app_id)}/form", status_code=HTTP_303_SEE_OTHER)
    ctx = {
        **site,
        "app_url": _app_url(site["lg_code"], app_id),
        "email": app.email,
        "csrf": csrf_token(secret),
    }
    return page("portal/verify.html", ctx, user_agent=_ua(request))


@post("/applications/{app_id:uuid}/verify", opt=PUBLIC, include_in_schema=False)
async def verify(
    lg_code: FromPath[str],
    app_id: FromPath[uuid.UUID],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """Check the emailed code."""
    site = await _site(db, lg_code)
    form = await request.form()
    async with db.tenant(site["lg_code"]) as session:
        app, _row, _d, secret = await _load(db, site, request, app_id, session)
        _check_csrf(secret, form)
        ok = await services.verify_code(session, settings, app, secret, str(form.get("code") or "")[:20])
        email = app.email
    if ok:
        return Redirect(f"{_app_url(site['lg_code'], app_id)}/form", status_code=HTTP_303_SEE_OTHER)
    ctx = {
        **site,
        "app_url": _app_url(site["lg_code"], app_id),
        "email": email,
        "csrf": csrf_token(secret),
        "error": "確認コードが正しくないか、有効期限が切れています。",
    }
    return page("portal/verify.html", ctx, status=422, user_agent=_ua(request))


@get("/applications/{app_id:uuid}/resume", opt=PUBLIC, include_in_schema=False)
async def resume(
    lg_code: FromPath[str],
    app_id: FromPath[uuid.UUID],
    key: FromQuery[str],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """The link of the 一時保存 mail: sets the cookie on this device and opens the draft."""
    site = await _site(db, lg_code)
    async with db.tenant(site["lg_code"]) as session:
        app = await services.for_resident(session, site["lg_code"], app_id, key[:100])
    target = "/form" if app.status == ApplicationStatus.draft else ""
    return Redirect(
        f"{_app_url(site['lg_code'], app_id)}{target}",
        status_code=HTTP_303_SEE_OTHER,
        cookies=[_cookie(settings, site["lg_code"], app_id, key[:100])],
    )


def _form_context(
    site: dict[str, Any],
    app: Application,
    definition: EformProcedure,
    secret: str,
    raw: dict[str, Any],
    errors: dict[str, str],
    files: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    accept = ",".join(f".{e}" for e in definition.uploads.extensions)
    counts = {f.name: F.group_count(f, raw) for f in definition.fields if f.type == EformFieldType.group}
    return {
        **site,
        "d": definition,
        "app_url": _app_url(site["lg_code"], app.id),
        "csrf": csrf_token(secret),
        "raw": raw,
        "errors": errors,
        "files": files,
        "sealed": app.sealed or {},
        "counts": counts,
        "accept": accept,
        "candidates": None,
        "corporate": None,
        "notice": None,
        "only": None,
        "only_label": None,
        "applicant_note": None,
        **extra,
    }


def _only(definition: EformProcedure, name: str) -> dict[str, Any]:
    """``only=<field>`` (a 修正 link of the confirmation page): the form shows that item (a whole
    group for a group's item) and nothing else; an unknown name means the whole form."""
    f = definition.field(name[:100]) if name else None
    if f is None or f.type == EformFieldType.heading:
        return {"only": None, "only_label": None}
    return {"only": f.name, "only_label": f.label}


def _belongs(path: str, name: str) -> bool:
    return path == name or path.startswith((f"{name}.", f"{name}__"))


def _keep_others(raw: dict[str, Any], form: dict[str, list[Any]], only: str) -> dict[str, list[Any]]:
    """A post of one item: every other field keeps its confirmed raw value (they are not on the page)."""
    merged = {k: v for k, v in form.items()}
    for path, value in raw.items():
        if not _belongs(path, only) and path not in merged:
            merged[path] = list(value) if isinstance(value, list) else [value]
    return merged


@get("/applications/{app_id:uuid}/form", opt=PUBLIC, include_in_schema=False)
async def form_page(
    lg_code: FromPath[str],
    app_id: FromPath[uuid.UUID],
    request: Req,
    db: NamedDependency[Database],
    only: FromQuery[str] = "",
) -> Response[Any]:
    """The form with what was typed so far (or only one item of it, from the confirmation page)."""
    site = await _site(db, lg_code)
    async with db.tenant(site["lg_code"]) as session:
        app, _row, definition, secret = await _load(db, site, request, app_id, session)
        if app.status == ApplicationStatus.unverified:
            return Redirect(f"{_app_url(site['lg_code'], app_id)}/verify", status_code=HTTP_303_SEE_OTHER)
        if app.status != ApplicationStatus.draft:
            return Redirect(_app_url(site["lg_code"], app_id), status_code=HTTP_303_SEE_OTHER)
        raw = dict(app.values or {})
        files = await services.files_shown(session, app, definition, raw)
        note = await resident_accounts.applicant_note(session, app, definition, raw)
    return page(
        "portal/form.html",
        _form_context(
            site, app, definition, secret, raw, {}, files, applicant_note=note, **_only(definition, only)
        ),
        user_agent=_ua(request),
    )


def _address_actions(definition: EformProcedure, raw: dict[str, Any], action: str) -> dict[str, Any] | None:
    """``postal:<field>`` looks the code up; ``address:<field>:<i>`` takes the i-th candidate."""
    kind, _, rest = action.partition(":")
    if kind == "postal":
        f = definition.field(rest)
        if f is None or f.address_field is None:
            return None
        items = postal.addresses(str(raw.get(rest, "")))
        if len(items) == 1 and not str(raw.get(f.address_field, "")).strip():
            raw[f.address_field] = items[0]
        return {"path": rest, "found": items}
    if kind == "address":
        target, _, index = rest.partition(":")
        source = next((f for f in definition.fields if f.address_field == target), None)
        if source is None:
            return None
        items = postal.addresses(str(raw.get(source.name, "")))
        if index.isdigit() and int(index) < len(items):
            raw[target] = items[int(index)]
    return None


async def _corporate_action(
    request: Req, settings: Settings, definition: EformProcedure, raw: dict[str, Any], action: str
) -> dict[str, Any] | None:
    """``corporate:<field>`` looks the 法人番号 up and fills the name and address fields.

    Whatever goes wrong (wrong number, not found, service down, too many lookups) is a message at
    the field; the resident can always type the name by hand.
    """
    kind, _, name = action.partition(":")
    f = definition.field(name) if kind == "corporate" else None
    if f is None or f.type != EformFieldType.corporate_number:
        return None
    try:
        guard = corporate.guard_of(request.app.state)
        found = await guard.find(str(raw.get(name, "")), request_client_ip(request))
    except MadoguchiError as exc:
        return {"path": name, "found": None, "error": exc.message}
    if f.name_field:
        raw[f.name_field] = found.name
    if f.address_field:
        raw[f.address_field] = found.address
    return {
        "path": name,
        "found": found,
        "error": corporate.CLOSED if found.closed else None,
        "notice": corporate.notice(settings),
    }


@post(
    "/applications/{app_id:uuid}/form",
    opt=PUBLIC,
    include_in_schema=False,
    request_max_body_size=FORM_BODY_LIMIT,
)
async def form_post(
    lg_code: FromPath[str],
    app_id: FromPath[uuid.UUID],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """Take the post into the draft, then: re-show, 一時保存, or go to the confirmation page."""
    site = await _site(db, lg_code)
    form = await request.form()
    multi = {k: form.getall(k) for k in form}
    action = str(form.get("action") or "refresh")[:100]
    keys = key_ring(request.app.state)
    notice = None
    candidates = None
    async with files_store.changes(blob_store(request.app.state)) as blobs:
        await stage_uploads(blobs, request, site["lg_code"], app_id, form)
        async with db.tenant(site["lg_code"]) as session:
            app, row, definition, secret = await _load(db, site, request, app_id, session)
            _check_csrf(secret, form)
            if app.status != ApplicationStatus.draft:
                return Redirect(_app_url(site["lg_code"], app_id), status_code=HTTP_303_SEE_OTHER)
            one = _only(definition, str(form.get("only") or ""))
            if one["only"]:
                multi = _keep_others(dict(app.values or {}), multi, one["only"])
            result = await services.update_from_form(session, keys, app, definition, multi, action, blobs)
            raw = dict(result.raw)
            candidates = _address_actions(definition, raw, action)
            corporate = await _corporate_action(request, settings, definition, raw, action)
            if raw != result.raw:
                app.values = raw
                result.checked = F.validate(definition, raw, app.sealed or {})
            cookies = []
            if action == "save":
                secret = await services.save_notice(session, settings, app, row)
                cookies.append(_cookie(settings, site["lg_code"], app_id, secret))
                notice = "入力内容を一時保存しました。続きを入力するためのリンクをメールで送りました。"
            files = {str(f.id): f for f in result.files}
            if action == "confirm" and result.checked.ok:
                return Redirect(
                    f"{_app_url(site['lg_code'], app_id)}/confirm", status_code=HTTP_303_SEE_OTHER
                )
            note = await resident_accounts.applicant_note(session, app, definition, raw)
    errors = result.checked.errors if action == "confirm" else result.posted_errors
    if one["only"] and any(not _belongs(p, one["only"]) for p in errors):
        # The change made another item wrong (e.g. a rule now requires it): show the whole form.
        one = {"only": None, "only_label": None}
    ctx = _form_context(
        site,
        app,
        definition,
        secret,
        raw,
        errors,
        files,
        notice=notice,
        candidates=candidates,
        corporate=corporate,
        applicant_note=note,
        **one,
    )
    return page(
        "portal/form.html", ctx, status=422 if errors else 200, cookies=cookies, user_agent=_ua(request)
    )


APPLICANT_TYPE_LABELS = {"individual": "個人", "corporation": "法人", "group": "団体"}


def jpki_context(definition: EformProcedure, values: dict[str, Any]) -> dict[str, Any]:
    """For the confirmation pages: whether this applicant signs (``jpki``), and, for a JPKI
    procedure that does not ask this applicant (a 法人 / 団体 with ``jpki_signers: individual``),
    the type to name in the note (``jpki_waived``)."""
    needed = definition.jpki_needed(values)
    kind = definition.applicant_type_of(values)
    waived = definition.jpki_required and not needed and kind is not None
    return {"jpki": needed, "jpki_waived": APPLICANT_TYPE_LABELS[kind] if waived and kind else None}


@get("/applications/{app_id:uuid}/confirm", opt=PUBLIC, include_in_schema=False)
async def confirm_page(
    lg_code: FromPath[str], app_id: FromPath[uuid.UUID], request: Req, db: NamedDependency[Database]
) -> Response[Any]:
    """Everything entered, with a 修正 link per item and the submit button."""
    site = await _site(db, lg_code)
    async with db.tenant(site["lg_code"]) as session:
        app, _row, definition, secret = await _load(db, site, request, app_id, session)
        if app.status != ApplicationStatus.draft:
            return Redirect(_app_url(site["lg_code"], app_id), status_code=HTTP_303_SEE_OTHER)
        files = {str(f.id): f for f in await services.files_of(session, app)}
        checked = F.validate(definition, dict(app.values or {}), app.sealed or {})
    if not checked.ok:
        ctx = _form_context(site, app, definition, secret, dict(app.values or {}), checked.errors, files)
        return page("portal/form.html", ctx, status=422, user_agent=_ua(request))
    ctx = {
        **site,
        "d": definition,
        "app_url": _app_url(site["lg_code"], app_id),
        "csrf": csrf_token(secret),
        "summary": summary_of(definition, checked.values, files),
        "amount": services.fee_of(definition, checked.values),
        **jpki_context(definition, checked.values),
    }
    return page("portal/confirm.html", ctx, user_agent=_ua(request))


@post("/applications/{app_id:uuid}/submit", opt=PUBLIC, include_in_schema=False)
async def submit(
    lg_code: FromPath[str],
    app_id: FromPath[uuid.UUID],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """Submit (or, for a prepayment, go to the payment page first)."""
    site = await _site(db, lg_code)
    form = await request.form()
    async with db.tenant(site["lg_code"]) as session:
        app, row, definition, secret = await _load(db, site, request, app_id, session)
        _check_csrf(secret, form)
        if (
            definition.jpki_needed(app.values or {})
            and app.status == ApplicationStatus.draft
            and F.validate(definition, dict(app.values or {}), app.sealed or {}).ok
            and await jpki.valid_signature(session, app, row) is None
        ):
            return Redirect(f"{_app_url(site['lg_code'], app_id)}/sign", status_code=HTTP_303_SEE_OTHER)
        # The last thing this transaction does when it submits: commit with the last writes.
        checked = await services.submit(session, settings, app, row, commit=True)
        if not checked.ok:
            files = {str(f.id): f for f in await services.files_of(session, app)}
            ctx = _form_context(site, app, definition, secret, dict(app.values or {}), checked.errors, files)
            return page("portal/form.html", ctx, status=422, user_agent=_ua(request))
        if app.status == ApplicationStatus.payment:
            assert app.amount is not None
            payment, pay_secret = await payments.request(session, settings, app, "prepayment", app.amount)
            target = payments.pay_url(settings, payment, pay_secret).removeprefix(settings.public_base_url)
            return Redirect(target, status_code=HTTP_303_SEE_OTHER)
    return Redirect(f"{_app_url(site['lg_code'], app_id)}?done=1", status_code=HTTP_303_SEE_OTHER)


@get("/applications/{app_id:uuid}", opt=PUBLIC, include_in_schema=False)
async def status_page(
    lg_code: FromPath[str],
    app_id: FromPath[uuid.UUID],
    request: Req,
    db: NamedDependency[Database],
    done: FromQuery[int] = 0,
) -> Response[Any]:
    """The status of the application, its history and what was submitted."""
    site = await _site(db, lg_code)
    async with db.tenant(site["lg_code"]) as session:
        app, _row, definition, secret = await _load(db, site, request, app_id, session)
        files = {str(f.id): f for f in await services.files_of(session, app)}
        pays = await payments.payments_of(session, app)
        signed = next((s for s in await jpki.signatures_of(session, app) if s.state == "valid"), None)
        returned = None
        if app.status == ApplicationStatus.returned:
            ret = await returns.open_return(session, app)
            returned = {
                "comment": ret.comment,
                "fields": [(F.label_of(definition, p), (ret.reasons or {}).get(p, "")) for p in ret.fields],
            }
    summary = None
    if app.status not in (ApplicationStatus.unverified, ApplicationStatus.draft):
        checked = F.validate(definition, dict(app.values or {}), app.sealed or {})
        summary = summary_of(definition, checked.values, files)
    ctx = {
        **site,
        "d": definition,
        "app": app,
        "app_url": _app_url(site["lg_code"], app_id),
        "csrf": csrf_token(secret),
        "status_label": STATUS_LABELS.get(app.status, app.status),
        "labels": STATUS_LABELS,
        "summary": summary,
        "just_submitted": bool(done) and app.status == ApplicationStatus.submitted,
        "payment_state": PAYMENT_LABELS.get(pays[-1].state) if pays else None,
        "pay_link": None,
        "returned": returned,
        "signed": signed
        if app.status not in (ApplicationStatus.unverified, ApplicationStatus.draft)
        else None,
    }
    return page("portal/status.html", ctx, user_agent=_ua(request))


PAYMENT_LABELS = {
    "requested": "お支払い待ち",
    "authorised": "お支払い済み（確定前）",
    "captured": "お支払い済み",
    "voided": "取消",
    "refunded": "返金済み",
    "failed": "失敗",
}


@post("/applications/{app_id:uuid}/withdraw", opt=PUBLIC, include_in_schema=False)
async def withdraw(
    lg_code: FromPath[str],
    app_id: FromPath[uuid.UUID],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    site = await _site(db, lg_code)
    form = await request.form()
    async with (
        files_store.changes(blob_store(request.app.state)) as blobs,
        db.tenant(site["lg_code"]) as session,
    ):
        app, row, _d, secret = await _load(db, site, request, app_id, session)
        _check_csrf(secret, form)
        await services.withdraw(session, settings, app, row, blobs)
    return Redirect(_app_url(site["lg_code"], app_id), status_code=HTTP_303_SEE_OTHER)


# ---------------------------------------------------------------- payment (sandbox hosted page)


@get("/pay/{payment_id:uuid}", opt=PUBLIC, include_in_schema=False)
async def pay_page(
    lg_code: FromPath[str],
    payment_id: FromPath[uuid.UUID],
    key: FromQuery[str],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """The card page: the sandbox's test form, or PAY.JP Checkout (the card never reaches us)."""
    site = await _site(db, lg_code)
    async with db.tenant(site["lg_code"]) as session:
        payment = await payments.for_payer(session, site["lg_code"], payment_id, key[:100])
        app = await session.get(Application, payment.application_id)
        row = await session.get(Procedure, app.procedure_id) if app else None
        saved = await _saved_card_for(request, settings, session, payment)
        choice = (
            await _save_choice(request, settings, session, payment) if payment.state == "requested" else {}
        )
    ctx = {
        **site,
        **choice,
        "title": row.title if row else "",
        "amount": payment.amount,
        "done": payment.state != "requested",
        "action": f"/portal/{site['lg_code']}/pay/{payment_id}?key={key[:100]}",
        "saved_card": saved[1] if saved else None,
        **_payjp_context(settings, payment.provider),
    }
    return page("portal/pay.html", ctx, user_agent=_ua(request), csp_sources=_pay_csp(payment.provider))


async def _payer_account(request: Req, session: Any, payment: Any) -> Any:
    """The logged-in account that owns the application being paid, else None (a guest)."""
    from server.domain.portal import accounts
    from server.domain.portal.account_pages import login_cookie

    keys = key_ring(request.app.state)
    account = await accounts.current_account(session, keys, payment.lg_code, login_cookie(request))
    if account is None or not await accounts.owns(session, account, payment.application_id):
        return None
    return account


async def _saved_card_for(
    request: Req, settings: Settings, session: Any, payment: Any
) -> tuple[Any, Any] | None:
    """The logged-in account and its saved card, when the account owns the application being paid
    and the card is kept by this payment's provider; else None (a guest pays as before)."""
    account = await _payer_account(request, session, payment)
    if account is None or account.payment_provider != payment.provider:
        return None
    try:
        card = await payments.saved_card(settings, key_ring(request.app.state), account)
    except MadoguchiError:  # the provider cannot be asked now: the card form still works
        return None
    return (account, card) if card is not None else None


async def _save_choice(request: Req, settings: Settings, session: Any, payment: Any) -> dict[str, Any]:
    """「このカードを次回も使う」 is offered to the logged-in owner of the application, when the
    payment goes through the provider that keeps cards (the account's CSRF token comes along)."""
    from server.domain.portal.account_pages import CSRF_COOKIE

    secret = request.cookies.get(CSRF_COOKIE)
    provider = payments.provider_for(settings, key_ring(request.app.state), payment.provider)
    if (
        not secret
        or payment.provider != settings.payment_provider
        or not provider.supports_saved_cards
        or await _payer_account(request, session, payment) is None
    ):
        return {}
    return {"can_save": True, "csrf": csrf_token(secret)}


def _pay_again(
    request: Req,
    site: dict[str, Any],
    settings: Settings,
    payment: Any,
    key: str,
    exc: MadoguchiError,
    **extra: Any,
) -> Response[Any]:
    """The pay page again with the provider's (or our) Japanese message; nothing was charged."""
    ctx = {
        **site,
        "title": "",
        "amount": payment.amount,
        "done": False,
        "error": exc.message,
        "error_field": getattr(exc, "field", None),
        "action": f"/portal/{site['lg_code']}/pay/{payment.id}?key={key[:100]}",
        **_payjp_context(settings, payment.provider),
        **extra,
    }
    status = 402 if isinstance(exc, PaymentDeclined) else exc.http_status
    return page(
        "portal/pay.html", ctx, status=status, user_agent=_ua(request), csp_sources=_pay_csp(payment.provider)
    )


#: PAY.JP Checkout: its script and the card form it frames (card data goes from there to PAY.JP).
PAYJP_CSP = {"script-src": "https://checkout.pay.jp", "frame-src": "https://checkout.pay.jp"}


def _payjp_context(settings: Settings, provider_id: str) -> dict[str, Any]:
    return {"payjp_key": settings.payjp_public_key} if provider_id == "payjp" else {}


def _pay_csp(provider_id: str) -> dict[str, str] | None:
    return PAYJP_CSP if provider_id == "payjp" else None


@post("/pay/{payment_id:uuid}", opt=PUBLIC, include_in_schema=False)
async def pay(
    lg_code: FromPath[str],
    payment_id: FromPath[uuid.UUID],
    key: FromQuery[str],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """Sandbox: charge the test card, then deliver the provider's signed webhook to ourselves.
    PAY.JP: authorise the Checkout token (``payjp-token``); PAY.JP's webhook follows."""
    site = await _site(db, lg_code)
    form = await request.form()
    keys = key_ring(request.app.state)
    async with db.tenant(site["lg_code"]) as session:
        payment = await payments.for_payer(session, site["lg_code"], payment_id, key[:100])
        provider = payments.provider_for(settings, keys, payment.provider)
        actor = audit.Actor(username="resident", client_ip=request_client_ip(request))
        back = f"/portal/{site['lg_code']}/pay/{payment_id}?key={key[:100]}"
        done = f"{_app_url(site['lg_code'], payment.application_id)}?done=1"
        after = done if payment.kind == "prepayment" else back
        if form.get("saved_card"):  # 2回目以降: the card kept by the provider, nothing typed
            saved = await _saved_card_for(request, settings, session, payment)
            if saved is None:
                raise Conflict(
                    "登録済みのカードを使えません。ログインし直すか、カード情報を入力してください。",
                    code="payment.no_saved_card",
                )
            try:
                await payments.pay_with_saved_card(session, settings, keys, payment, saved[0], actor)
            except PaymentDeclined as exc:
                return _pay_again(request, site, settings, payment, key, exc, saved_card=saved[1])
            return Redirect(after, status_code=HTTP_303_SEE_OTHER)
        account = None
        if form.get("save_card"):  # 初回: 「このカードを次回も使う」
            from server.domain.portal.account_pages import check_csrf as check_account_csrf

            account = await _payer_account(request, session, payment)
            if account is None or not (await _save_choice(request, settings, session, payment)):
                raise Conflict(
                    "カードを次回も使うには、申請したアカウントでログインしてからお支払いください。",
                    code="payment.no_saved_card",
                )
            check_account_csrf(request, form)
        kept: dict[str, Any] = {"can_save": account is not None, "save_checked": account is not None}
        if account is not None:
            kept["csrf"] = str(form.get("csrf") or "")
        if getattr(provider, "authorise_token", None) is not None:
            token = str(form.get("payjp-token") or "")[:100]
            try:
                if account is not None:
                    await payments.pay_and_save_card(session, settings, keys, payment, account, token, actor)
                else:
                    await payments.pay_with_token(session, settings, provider, payment, token, actor)
            except (PaymentDeclined, InvalidInput) as exc:
                return _pay_again(request, site, settings, payment, key, exc, **kept)
            return Redirect(after, status_code=HTTP_303_SEE_OTHER)
        card_number = str(form.get("card") or "")[:30]
        tokenise = getattr(provider, "tokenise", None)
        if account is not None and tokenise is not None:
            month, year = str(form.get("exp_month") or "")[:4], str(form.get("exp_year") or "")[:6]
            try:
                token = tokenise(card_number=card_number, exp_month=month, exp_year=year)
                await payments.pay_and_save_card(session, settings, keys, payment, account, token, actor)
            except (PaymentDeclined, InvalidInput) as exc:
                return _pay_again(
                    request, site, settings, payment, key, exc, exp_month=month, exp_year=year, **kept
                )
            return Redirect(after, status_code=HTTP_303_SEE_OTHER)
        pay_with_card = getattr(provider, "pay_with_card", None)
        if pay_with_card is None or payment.state != "requested":
            raise NotFound()
        try:
            body, signature = pay_with_card(
                payment_id=str(payment.id), amount=payment.amount, card_number=card_number
            )
        except PaymentDeclined as exc:
            choice = await _save_choice(request, settings, session, payment)
            return _pay_again(request, site, settings, payment, key, exc, **choice)
        await payments.handle_webhook(
            session, settings, provider, site["lg_code"], {"x-sandbox-signature": signature}, body
        )
    # A prepayment came from the confirmation page: back to the application.
    return Redirect(after, status_code=HTTP_303_SEE_OTHER)


# ---------------------------------------------------------------- HTML errors


def html_error(request: Req, exc: Exception) -> Response[Any]:
    """Expected errors as a Japanese page (the JSON API keeps its JSON errors)."""
    if isinstance(exc, MadoguchiError):
        status, message = exc.http_status, exc.message
    elif isinstance(exc, HTTPException):
        status = exc.status_code
        message = "送信されたデータが大きすぎます。" if status == 413 else "ページを表示できません。"
    else:
        raise exc
    lg_code = request.path_params.get("lg_code", "")
    site = {"site_name": "オンライン申請", "home_url": f"/portal/{lg_code}/" if lg_code else "/"}
    return page("portal/error.html", {**site, "message": message}, status=status, user_agent=_ua(request))


from server.domain.portal import corrections, signing  # noqa: E402  (uses the helpers above)

portal_router = Router(
    path="/portal/{lg_code:str}",
    route_handlers=[
        index,
        procedure_page,
        start,
        start_account,
        *account_pages.route_handlers,
        verify_page,
        verify,
        resume,
        form_page,
        form_post,
        confirm_page,
        submit,
        *signing.route_handlers,
        *corrections.route_handlers,
        status_page,
        withdraw,
        pay_page,
        pay,
    ],
    exception_handlers={MadoguchiError: html_error, HTTPException: html_error},
)


@post(
    "/portal/{lg_code:str}/payments/webhook/{provider_id:str}",
    opt=PUBLIC,
    tags=["payments"],
    summary="決済通知",
)
async def webhook(
    lg_code: FromPath[str],
    provider_id: FromPath[str],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> dict[str, bool]:
    """A payment provider's signed event; replays and stale or forged events are refused."""
    lg = _lg(lg_code)
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    provider = payments.provider_for(settings, key_ring(request.app.state), provider_id)
    try:
        async with db.tenant(lg) as session:
            await payments.handle_webhook(session, settings, provider, lg, headers, body)
    except WebhookRejected as exc:
        async with db.tenant(lg) as session:
            await audit.record(
                session,
                lg_code=lg,
                actor=audit.Actor(
                    username=f"provider:{provider.plugin_id}", client_ip=request_client_ip(request)
                ),
                action="payment_webhook_denied",
                object_type="payment",
                details={"code": exc.error_code},
            )
        raise
    return {"ok": True}


@get("/portal/api/postal/{code:str}", opt=PUBLIC, tags=["portal"], summary="郵便番号から住所")
async def postal_lookup(code: FromPath[str]) -> dict[str, list[str]]:
    """Addresses of a postal code from the offline Japan Post data (several are possible)."""
    return {"addresses": list(postal.addresses(code[:10]))}


@get("/portal/api/corporate/{number:str}", opt=PUBLIC, tags=["portal"], summary="法人番号から名称と所在地")
async def corporate_lookup(
    number: FromPath[str], request: Req, settings: NamedDependency[Settings]
) -> dict[str, Any]:
    """Name and head-office address of a 法人番号 from the configured lookup (国税庁 Web-API or
    sandbox), answers reused for ``corporate_lookup_cache_seconds``. Errors: 422 wrong number,
    404 not found, 429 too many lookups from this client (``corporate_lookup_per_minute``), 503
    service unreachable (Japanese message)."""
    guard = corporate.guard_of(request.app.state)
    found = await guard.find(number[:40], request_client_ip(request))
    return {"corporation": found.as_dict(), "notice": corporate.notice(settings)}


route_handlers: list[Any] = [
    portal_router,
    webhook,
    postal_lookup,
    corporate_lookup,
    create_static_files_router(path="/static", directories=[STATIC], opt=PUBLIC),
]
