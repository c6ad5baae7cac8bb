"""HTTP routes of the staff console (``/console/…``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER
from pydantic import ValidationError

from server.config import Settings
from server.db.engine import Database
from server.db.models import Application, ApplicationFile, Payment, Procedure
from server.deps import key_ring, optional_key_ring
from server.domain import audit
from server.domain.accounts import services as accounts
from server.domain.accounts.access import LOGGED_IN, PUBLIC, requires
from server.domain.accounts.guards import CONSOLE_COOKIE, CONSOLE_PATH, request_client_ip
from server.domain.accounts.services import Principal
from server.domain.console import access, pages
from server.domain.console.access import Role
from server.domain.console.export import (
    APPLICANT_FIELD,
    APPLICANT_TYPE_LABELS,
    Row,
    applicant_type_of,
    columns_of,
    to_csv,
)
from server.domain.console.organisations import organisation_routes
from server.domain.console.procedures import procedure_routes
from server.domain.console.staff import staff_routes
from server.domain.documents.controllers import blob_store
from server.domain.eforms import fields as F
from server.domain.eforms import files as eform_files
from server.domain.eforms import returns as eform_returns
from server.domain.eforms import services
from server.domain.eforms.services import STAFF_TRANSITIONS, STATUS_LABELS
from server.domain.eforms.versions import definition_for
from server.domain.jpki import services as jpki
from server.domain.payments import services as payments
from server.domain.portal.html import SECURITY_HEADERS, page
from server.domain.portal.summary import summary_of
from shared.api import LoginRequest
from shared.errors import AuthenticationRequired, InvalidInput, MadoguchiError, NotFound
from shared.permissions import Permission

Req = Request[Any, Any, Any]
PAGE_SIZE = 100


_ctx = pages.context
_check_csrf = pages.check_csrf


# ---------------------------------------------------------------- login


@get("/login", opt=PUBLIC, include_in_schema=False)
async def login_page(request: Req) -> Response[str]:
    return page("console/login.html", _ctx(request, error=None, form={}))


@post("/login", opt=PUBLIC, include_in_schema=False)
async def login(
    request: Req, db: NamedDependency[Database], settings: NamedDependency[Settings]
) -> Response[Any]:
    """Password, lockout, network rule and TOTP exactly as the API login (accounts domain)."""
    form = await request.form()
    values = {k: str(form.get(k) or "")[:200] for k in ("lg_code", "username", "password", "totp_code")}
    try:
        req = LoginRequest(
            lg_code=values["lg_code"],
            username=values["username"],
            password=values["password"],
            totp_code=values["totp_code"] or None,
        )
        result = await accounts.login(
            db, settings, optional_key_ring(request.app.state), req, request_client_ip(request)
        )
    except (MadoguchiError, ValidationError) as exc:
        message = exc.message if isinstance(exc, MadoguchiError) else "入力内容を確認してください。"
        shown = {k: v for k, v in values.items() if k in ("lg_code", "username")}
        return page("console/login.html", _ctx(request, error=message, form=shown), status=401)
    cookie = Cookie(
        key=CONSOLE_COOKIE,
        value=result.token,
        path=CONSOLE_PATH,
        httponly=True,
        samesite="strict",
        secure=settings.public_base_url.startswith("https://"),
    )
    return Redirect(f"{CONSOLE_PATH}/", status_code=HTTP_303_SEE_OTHER, cookies=[cookie])


@post("/logout", opt=LOGGED_IN, include_in_schema=False)
async def logout(
    request: Req, principal: NamedDependency[Principal], db: NamedDependency[Database]
) -> Response[Any]:
    _check_csrf(request, await request.form())
    async with db.tenant(principal.lg_code) as session:
        await accounts.logout(session, principal)
    return Redirect(
        f"{CONSOLE_PATH}/login",
        status_code=HTTP_303_SEE_OTHER,
        cookies=[Cookie(key=CONSOLE_COOKIE, value="", path=CONSOLE_PATH, max_age=0, httponly=True)],
    )


# ---------------------------------------------------------------- applications


async def _procedures(session: Any, principal: Principal, need: Role = Role.view) -> list[Procedure]:
    """The procedures ``principal`` holds at least ``need`` on (his 課, or all with eform.all_orgs)."""
    query = (
        sa.select(Procedure)
        .where(Procedure.lg_code == principal.lg_code)
        .order_by(Procedure.category, Procedure.title)
    )
    rows = list((await session.execute(query)).scalars().all())
    roles = await access.roles_of(session, principal)
    return rows if roles is None else [p for p in rows if roles.get(p.id, Role.none) >= need]


def _filtered(
    lg_code: str,
    procedure_ids: list[uuid.UUID],
    status: str | None,
    reference: str | None,
    applicant: tuple[str, list[uuid.UUID]] | None = None,
) -> Any:
    query = sa.select(Application).where(
        Application.lg_code == lg_code,
        Application.reference.is_not(None),
        Application.procedure_id.in_(procedure_ids),
    )
    if applicant is not None:
        # 個人 / 法人 / 団体: chosen in the applicant_type field, or implied by a procedure that
        # admits that type only.
        kind, implied = applicant
        query = query.where(
            sa.or_(
                Application.values[APPLICANT_FIELD].as_string() == kind,
                Application.procedure_id.in_(implied),
            )
        )
    if status:
        query = query.where(Application.status == status)
    if reference:
        query = query.where(Application.reference.contains(reference.strip()[:30]))
    return query.order_by(Application.submitted_at.desc())


@get("/", opt=requires(Permission.eform_review), include_in_schema=False)
async def applications(
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    procedure: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    reference: FromQuery[str | None] = None,
    applicant_type: FromQuery[str | None] = None,
) -> Response[str]:
    """Submitted applications with filters (procedure, status, 申請番号, 申請者の属性)."""
    kind = applicant_type if applicant_type in APPLICANT_TYPE_LABELS else None
    async with db.tenant(principal.lg_code) as session:
        procs = await _procedures(session, principal)
        by_slug = {p.slug: p for p in procs}
        chosen = by_slug.get(procedure or "")
        ids = [chosen.id] if chosen else [p.id for p in procs]
        definitions = {p.id: services.definition_of(p) for p in procs}
        implied = [pid for pid, d in definitions.items() if [t.value for t in d.applicant_types] == [kind]]
        query = _filtered(principal.lg_code, ids, status, reference, (kind, implied) if kind else None)
        rows = (await session.execute(query.limit(PAGE_SIZE))).scalars().all()
    titles = {p.id: p.title for p in procs}
    kinds = {a.id: applicant_type_of(definitions[a.procedure_id], a.values or {}) for a in rows}
    ctx = _ctx(
        request,
        principal,
        rows=rows,
        titles=titles,
        procedures=procs,
        chosen=chosen,
        columns=columns_of(services.definition_of(chosen)) if chosen else {},
        kinds=kinds,
        applicant_labels=APPLICANT_TYPE_LABELS,
        filters={
            "procedure": procedure or "",
            "status": status or "",
            "reference": reference or "",
            "applicant_type": kind or "",
        },
    )
    return page("console/applications.html", ctx)


async def _load(
    session: Any, principal: Principal, app_id: uuid.UUID, need: Role = Role.view
) -> tuple[Application, Procedure]:
    """The application and its procedure, if ``principal`` holds ``need`` on the procedure."""
    app = await session.get(Application, app_id)
    if app is None or app.lg_code != principal.lg_code or app.reference is None:
        raise NotFound("申請が見つかりません。")
    row = await session.get(Procedure, app.procedure_id)
    assert row is not None
    await access.require(session, principal, row, need)
    return app, row


@get("/applications/{app_id:uuid}", opt=requires(Permission.eform_review), include_in_schema=False)
async def application_detail(
    app_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[str]:
    """One application: values, attachments, history, payments, and the actions."""
    async with access.tenant(db, principal) as session:
        app, row = await _load(session, principal, app_id)
        definition = await definition_for(session, app, row)
        files = await services.files_of(session, app)
        pays = await payments.payments_of(session, app)
        signatures = [s for s in await jpki.signatures_of(session, app) if s.state != "pending"]
        checked = F.validate(definition, dict(app.values or {}), app.sealed or {})
        history = _return_history(definition, await eform_returns.returns_of(session, app), files)
        kind = definition.applicant_type_of(checked.values)
        kind_label = APPLICANT_TYPE_LABELS[kind] if kind is not None and kind != "individual" else None
        await audit.record(
            session,
            lg_code=principal.lg_code,
            actor=principal.actor,
            action="application_read_success",
            object_type="application",
            object_id=app.id,
        )
    ctx = _ctx(
        request,
        principal,
        app=app,
        d=definition,
        summary=summary_of(definition, checked.values, {str(f.id): f for f in files}),
        files=files,
        payments=pays,
        signatures=signatures,
        # A 法人 / 団体 signs through its 代表者 or 担当者: the certificate's 氏名 / 住所 are that
        # person's, not the applicant's 名称 / 所在地, so they are not compared (shown as the signer).
        signer_match=jpki.compare(signatures[0].four_info or {}, checked.values)
        if signatures and not kind_label
        else [],
        applicant_kind=kind_label,
        jpki_needed=definition.jpki_needed(checked.values),
        transitions=STAFF_TRANSITIONS.get(app.status, {}),
        notice=request.query_params.get("notice"),
        returnable=eform_returns.returnable(definition, app)
        if app.status == services.ApplicationStatus.submitted
        else [],
        values_by_path={
            i.path: i.value for i in summary_of(definition, checked.values, {str(f.id): f for f in files})
        },
        returns=history,
    )
    return page("console/application.html", ctx)


def _jst(at: datetime) -> str:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(services.JST).strftime("%Y-%m-%d %H:%M")


def _return_history(definition: Any, rows: list[Any], files: list[Any]) -> list[dict[str, Any]]:
    """Each 差戻し with its items and reasons and, once resubmitted, what changed (before → after)."""
    by_id = {str(f.id): f for f in files}
    out = []
    for r in rows:
        before = {
            i.path: i.value
            for i in summary_of(
                definition, F.validate(definition, r.before or {}, r.before_sealed or {}).values, by_id
            )
        }
        after = {}
        if r.after is not None:
            checked = F.validate(definition, r.after, r.after_sealed or {})
            after = {i.path: i.value for i in summary_of(definition, checked.values, by_id)}
        out.append(
            {
                "row": r,
                "at": _jst(r.returned_at),
                "resubmitted": _jst(r.resubmitted_at) if r.resubmitted_at else "",
                "fields": [(F.label_of(definition, p), (r.reasons or {}).get(p, "")) for p in r.fields],
                "changes": [
                    (F.label_of(definition, p), before.get(p, "（未入力）"), after.get(p, "（未入力）"))
                    for p in (r.changed or [])
                ],
            }
        )
    return out


@post("/applications/{app_id:uuid}/return", opt=requires(Permission.eform_review), include_in_schema=False)
async def return_application(
    app_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """差戻し: the ticked items with their reasons; the resident gets the mail with a fix link."""
    form = await request.form()
    _check_csrf(request, form)
    paths = [str(p)[:200] for p in form.getall("fields", [])][:200]
    reasons = {str(k)[7:]: str(v)[:2000] for k, v in form.items() if str(k).startswith("reason:")}
    async with access.tenant(db, principal) as session:
        app, row = await _load(session, principal, app_id, Role.process)
        definition = await definition_for(session, app, row)
        await eform_returns.return_application(
            session,
            settings,
            principal.actor,
            app,
            row,
            definition,
            paths,
            reasons,
            str(form.get("comment") or "")[:2000],
        )
    return Redirect(f"{CONSOLE_PATH}/applications/{app_id}?notice=return", status_code=HTTP_303_SEE_OTHER)


@post("/applications/{app_id:uuid}/status", opt=requires(Permission.eform_review), include_in_schema=False)
async def change_status(
    app_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """A status change; the resident gets the procedure's mail for it."""
    form = await request.form()
    _check_csrf(request, form)
    async with access.tenant(db, principal) as session:
        app, row = await _load(session, principal, app_id, Role.process)
        await services.change_status(
            session,
            settings,
            principal.actor,
            app,
            row,
            str(form.get("status") or ""),
            str(form.get("comment") or ""),
        )
    return Redirect(f"{CONSOLE_PATH}/applications/{app_id}?notice=status", status_code=HTTP_303_SEE_OTHER)


@post("/applications/{app_id:uuid}/payment", opt=requires(Permission.payment_refund), include_in_schema=False)
async def request_payment(
    app_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """事後決済: set the amount; the resident gets a pay link by mail."""
    form = await request.form()
    _check_csrf(request, form)
    try:
        amount = int(str(form.get("amount") or "").replace(",", ""))
    except ValueError:
        raise InvalidInput("金額は数字で入力してください。", field="amount") from None
    async with access.tenant(db, principal) as session:
        app, row = await _load(session, principal, app_id, Role.process)
        await payments.request_postpayment(session, settings, principal.actor, app, row, amount)
    return Redirect(f"{CONSOLE_PATH}/applications/{app_id}?notice=payment", status_code=HTTP_303_SEE_OTHER)


@post(
    "/applications/{app_id:uuid}/payments/{payment_id:uuid}/{operation:str}",
    opt=requires(Permission.payment_refund),
    include_in_schema=False,
)
async def settle_payment(
    app_id: FromPath[uuid.UUID],
    payment_id: FromPath[uuid.UUID],
    operation: FromPath[str],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """Capture, void or refund a payment (a refund of the typed amount: whole or part)."""
    form = await request.form()
    _check_csrf(request, form)
    if operation not in ("capture", "void", "refund"):
        raise NotFound()
    amount = payments.parse_yen(str(form.get("amount") or "")[:40]) if operation == "refund" else None
    async with access.tenant(db, principal) as session:
        app, row = await _load(session, principal, app_id, Role.process)
        payment = await session.get(Payment, payment_id)
        if payment is None or payment.application_id != app.id:
            raise NotFound()
        await payments.settle(
            session,
            settings,
            key_ring(request.app.state),
            principal.actor,
            app,
            row,
            payment,
            operation,
            amount,
        )
    return Redirect(
        f"{CONSOLE_PATH}/applications/{app_id}?notice={operation}", status_code=HTTP_303_SEE_OTHER
    )


@get(
    "/applications/{app_id:uuid}/files/{file_id:uuid}",
    opt=requires(Permission.eform_review),
    include_in_schema=False,
)
async def download(
    request: Req,
    app_id: FromPath[uuid.UUID],
    file_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[bytes]:
    """An attachment, always as a download (never rendered inline)."""
    async with access.tenant(db, principal) as session:
        app, _row = await _load(session, principal, app_id)
        f = await session.get(ApplicationFile, file_id)
        if f is None or f.application_id != app.id:
            raise NotFound()
    try:
        data = await eform_files.read(blob_store(request.app.state), f)
    except MadoguchiError as exc:
        async with access.tenant(db, principal) as session:
            await audit.record(
                session,
                lg_code=principal.lg_code,
                actor=principal.actor,
                action="attachment_download_failure",
                object_type="application",
                object_id=app.id,
                details={"file": str(f.id), "code": exc.error_code},
            )
        raise
    async with access.tenant(db, principal) as session:
        await audit.record(
            session,
            lg_code=principal.lg_code,
            actor=principal.actor,
            action="attachment_download_success",
            object_type="application",
            object_id=app.id,
            details={"file": str(f.id)},
        )
    return Response(
        data,
        media_type=f.content_type,
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(f.filename)}",
        },
    )


@get("/export.csv", opt=requires(Permission.eform_review), include_in_schema=False)
async def export_csv(
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    procedure: FromQuery[str],
    encoding: FromQuery[str] = "utf-8",
    status: FromQuery[str | None] = None,
    applicant_type: FromQuery[str | None] = None,
) -> Response[bytes]:
    """The filtered applications of one procedure as CSV (columns chosen with ``column=``)."""
    columns = request.query_params.getall("column", [])
    async with access.tenant(db, principal) as session:
        procs = {p.slug: p for p in await _procedures(session, principal)}
        row = procs.get(procedure)
        if row is None:
            raise NotFound("手続きを選んでください。")
        definition = services.definition_of(row)
        kind = applicant_type if applicant_type in APPLICANT_TYPE_LABELS else None
        implied = [row.id] if kind and [t.value for t in definition.applicant_types] == [kind] else []
        query = _filtered(principal.lg_code, [row.id], status, None, (kind, implied) if kind else None)
        apps = (await session.execute(query)).scalars().all()
        out = []
        for app in apps:
            files = {str(f.id): f for f in await services.files_of(session, app)}
            own = await definition_for(session, app, row)
            checked = F.validate(own, dict(app.values or {}), app.sealed or {})
            base = {
                "reference": app.reference,
                "status": STATUS_LABELS.get(app.status, app.status),
                "submitted_at": app.submitted_at.astimezone(services.JST).strftime("%Y-%m-%d %H:%M")
                if app.submitted_at
                else "",
                "email": app.email,
                "amount": app.amount,
                "applicant_type": APPLICANT_TYPE_LABELS.get(
                    applicant_type_of(own, app.values or {}) or "", ""
                ),
            }
            out.append(Row(base, checked.values, files))
        await audit.record(
            session,
            lg_code=principal.lg_code,
            actor=principal.actor,
            action="application_export_success",
            object_type="procedure",
            object_id=row.id,
            details={"count": len(out), "encoding": encoding, "applicant_type": kind},
        )
    enc = "sjis" if encoding.lower() in ("sjis", "shift_jis", "cp932") else "utf-8"
    data = to_csv(definition, columns, out, enc)
    stamp = datetime.now(UTC).astimezone(services.JST).strftime("%Y%m%d%H%M")
    name = f"{row.slug}-{stamp}.csv"
    charset = "Shift_JIS" if enc == "sjis" else "utf-8"
    return Response(
        data,
        media_type=f"text/csv; charset={charset}",
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )


# ---------------------------------------------------------------- errors


def console_error(request: Req, exc: Exception) -> Response[Any]:
    """Not logged in: to the login page. Other expected errors: a Japanese page."""
    if isinstance(exc, AuthenticationRequired):
        return Redirect(f"{CONSOLE_PATH}/login", status_code=HTTP_303_SEE_OTHER)
    if isinstance(exc, MadoguchiError):
        status, message = exc.http_status, exc.message
    elif isinstance(exc, HTTPException):
        status, message = exc.status_code, "ページを表示できません。"
    else:
        raise exc
    return page("console/error.html", _ctx(request, message=message), status=status)


console_router = Router(
    path=CONSOLE_PATH,
    route_handlers=[
        login_page,
        login,
        logout,
        applications,
        application_detail,
        change_status,
        return_application,
        request_payment,
        settle_payment,
        download,
        export_csv,
        *procedure_routes,
        *organisation_routes,
        *staff_routes,
    ],
    exception_handlers={MadoguchiError: console_error, HTTPException: console_error},
)

route_handlers: list[Any] = [console_router]
