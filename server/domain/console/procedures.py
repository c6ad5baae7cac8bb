"""Procedures in the staff console: list, form builder (new / edit / save / publish), preview,
per-procedure roles, starter import. Needs ``eform.manage`` and the edit role on the procedure."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from server.db.engine import Database
from server.db.models import Organisation, OrganisationMember, Procedure, User
from server.domain import audit
from server.domain.accounts.access import requires
from server.domain.accounts.guards import CONSOLE_COOKIE, CONSOLE_PATH
from server.domain.accounts.services import Principal
from server.domain.console import access, builder, pages
from server.domain.console.access import Role, role_named
from server.domain.eforms import fields as F
from server.domain.eforms import services, versions
from server.domain.portal.html import csrf_token, page
from shared.errors import PermissionDenied
from shared.permissions import Permission
from shared.schemas.eform import MAX_FIELDS, MAX_FILE_MB, EformFieldType, EformProcedure, MailEvent

Req = Request[Any, Any, Any]
MANAGE = requires(Permission.eform_manage)


_ctx = pages.context
_csrf = pages.check_csrf


async def _visible(
    session: Any, principal: Principal
) -> tuple[list[Procedure], dict[uuid.UUID, Role] | None]:
    rows = list(
        (
            await session.execute(
                sa.select(Procedure)
                .where(Procedure.lg_code == principal.lg_code)
                .order_by(Procedure.category, Procedure.title)
            )
        )
        .scalars()
        .all()
    )
    roles = await access.roles_of(session, principal)
    return (rows if roles is None else [p for p in rows if p.id in roles]), roles


async def _editable_orgs(
    session: Any, principal: Principal, row: Procedure | None = None
) -> list[Organisation]:
    """課 a new procedure may be put in: all with eform.all_orgs, else those he edits in; plus
    ``row``'s own 課 (he may edit it through a per-procedure role)."""
    query = (
        sa.select(Organisation).where(Organisation.lg_code == principal.lg_code).order_by(Organisation.name)
    )
    if not principal.has(Permission.eform_all_orgs):
        query = query.join(OrganisationMember, OrganisationMember.organisation_id == Organisation.id).where(
            OrganisationMember.user_id == principal.user_id, OrganisationMember.role == Role.edit.name
        )
    orgs = list((await session.execute(query)).scalars().all())
    if row is not None and row.organisation_id and row.organisation_id not in {o.id for o in orgs}:
        current = await session.get(Organisation, row.organisation_id)
        if current is not None:
            orgs.append(current)
    return orgs


async def _procedure(session: Any, principal: Principal, proc_id: uuid.UUID, need: Role) -> Procedure:
    row: Procedure | None = await session.get(Procedure, proc_id)
    if row is None or row.lg_code != principal.lg_code:
        raise access.not_found()
    await access.require(session, principal, row, need)
    return row


@asynccontextmanager
async def _posted(
    request: Req, principal: Principal, db: Database, proc_id: uuid.UUID
) -> AsyncIterator[tuple[Any, Any, Procedure]]:
    """A console form posted about one procedure: (form, session, row), CSRF and the edit role
    checked — what publish, preview, roles and reorder all start with."""
    form = await request.form()
    _csrf(request, form)
    async with access.tenant(db, principal) as session:
        yield form, session, await _procedure(session, principal, proc_id, Role.edit)


# ---------------------------------------------------------------- list, import, publish


@get("/procedures", opt=MANAGE, include_in_schema=False)
async def procedures_page(
    request: Req, principal: NamedDependency[Principal], db: NamedDependency[Database]
) -> Response[str]:
    """The procedures of the staff member's 課 with their publish state and role."""
    async with db.tenant(principal.lg_code) as session:
        procs, roles = await _visible(session, principal)
        orgs = {o.id: o.name for o in (await session.execute(sa.select(Organisation))).scalars().all()}
    ctx = _ctx(
        request,
        principal,
        procedures=procs,
        roles=roles,
        orgs=orgs,
        notice=request.query_params.get("notice"),
    )
    return page("console/procedures.html", ctx)


@post("/procedures/import", opt=MANAGE, include_in_schema=False)
async def import_starters(
    request: Req, principal: NamedDependency[Principal], db: NamedDependency[Database]
) -> Response[Any]:
    """Create the starter procedures not there yet (without a 課: eform.all_orgs only); a
    procedure edited in the builder is never overwritten."""
    _csrf(request, await request.form())
    if not principal.has(Permission.eform_all_orgs):
        raise PermissionDenied("標準の手続きの取り込みには「全課の手続き・申請」の権限が必要です。")
    async with db.tenant(principal.lg_code) as session:
        await services.import_procedures(
            session, principal.lg_code, publish=False, actor=principal.actor, only_new=True
        )
    return Redirect(f"{CONSOLE_PATH}/procedures", status_code=HTTP_303_SEE_OTHER)


@post("/procedures/{proc_id:uuid}/publish", opt=MANAGE, include_in_schema=False)
async def publish(
    proc_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[Any]:
    """Publish (the pending draft, if any) or withdraw a procedure from the portal."""
    async with _posted(request, principal, db, proc_id) as (form, session, row):
        if form.get("published") == "1":
            if row.draft_definition is not None:
                await versions.publish(
                    session, principal.actor, row, EformProcedure.model_validate(row.draft_definition)
                )
            row.published = True
        else:
            row.published = False
        await audit.record(
            session,
            lg_code=principal.lg_code,
            actor=principal.actor,
            action="procedure_publish_success",
            object_type="procedure",
            object_id=row.id,
            details={"published": row.published, "version": row.version},
        )
    return Redirect(f"{CONSOLE_PATH}/procedures", status_code=HTTP_303_SEE_OTHER)


# ---------------------------------------------------------------- builder


def _builder_page(
    request: Req,
    principal: Principal,
    state: builder.State,
    *,
    row: Procedure | None,
    orgs: list[Organisation],
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response[str]:
    ctx = _ctx(
        request,
        principal,
        s=state,
        row=row,
        orgs=orgs,
        errors=errors or {},
        labels=builder.labels_for(state),
        notice=notice,
        action_url=f"{CONSOLE_PATH}/procedures/{row.id}/edit" if row else f"{CONSOLE_PATH}/procedures/new",
        types=builder.TYPE_LABELS,
        applicant_labels=builder.APPLICANT_LABELS,
        mail_labels=builder.MAIL_LABELS,
        payment_labels=builder.PAYMENT_LABELS,
        placeholders=builder.PLACEHOLDERS,
        cond_ops=builder.COND_OPS,
        cond_joins=builder.COND_JOINS,
        cond_types=builder.COND_TYPES,
        corporate_targets=builder.CORPORATE_TARGETS,
        value_choices=builder.value_choices,
        errors_under=_errors_under,
        base=fingerprint(row) if row else "",
        defaults=_default_mails(),
        max_file_mb=MAX_FILE_MB,
    )
    return page("console/builder.html", ctx, status=status)


def _errors_under(errors: dict[str, str], prefix: str) -> bool:
    return any(k.startswith(prefix) for k in errors)


def _default_mails() -> dict[str, Any]:
    from server.domain.eforms.mails import DEFAULTS

    return {e.value: DEFAULTS[e] for e in MailEvent}


@get("/procedures/new", opt=MANAGE, include_in_schema=False)
async def new_page(
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    template: FromQuery[str | None] = None,
) -> Response[str]:
    """Choose a starter (or blank); with ``template`` the builder opens on a copy of it."""
    async with db.tenant(principal.lg_code) as session:
        orgs = await _editable_orgs(session, principal)
    starters = builder.starters()
    if template is None:
        return page("console/procedure_new.html", _ctx(request, principal, starters=starters))
    chosen = next((s for s in starters if s.slug == template), None)
    state = builder.state_of(chosen.definition) if chosen else builder.blank_state()
    if chosen:
        state["slug"] = ""
        # A copy is a procedure in use, not the starter's example.
        state["keep"] = builder.without(state["keep"], "example")
    if len(orgs) == 1:
        state["organisation_id"] = str(orgs[0].id)
    return _builder_page(request, principal, state, row=None, orgs=orgs)


async def _slug_taken(session: Any, lg_code: str, slug: str, own: uuid.UUID | None) -> bool:
    found = await session.scalar(
        sa.select(Procedure.id).where(Procedure.lg_code == lg_code, Procedure.slug == slug)
    )
    return found is not None and found != own


async def _org_choice(
    session: Any, principal: Principal, state: builder.State, orgs: list[Organisation], errors: dict[str, str]
) -> uuid.UUID | None:
    text = state["organisation_id"].strip()
    allowed = {str(o.id): o.id for o in orgs}
    if not text:
        if principal.has(Permission.eform_all_orgs):
            return None
        errors["organisation_id"] = (
            "担当課を選んでください。"
            if orgs
            else "編集の権限がある課がありません。管理者に組織（課）への所属を依頼してください。"
        )
        return None
    if text not in allowed:
        errors["organisation_id"] = "担当課を一覧から選んでください（編集の権限がある課だけ選べます）。"
        return None
    return allowed[text]


async def _handle(
    request: Req, principal: Principal, db: Database, proc_id: uuid.UUID | None
) -> Response[Any]:
    form = await request.form()
    _csrf(request, form)
    multi = {k: form.getall(k) for k in form}
    state = builder.state_from_form(multi)
    action = str(form.get("action") or "save")[:60]
    async with access.tenant(db, principal) as session:
        row = await _procedure(session, principal, proc_id, Role.edit) if proc_id else None
        orgs = await _editable_orgs(session, principal, row)
        if action not in ("save", "publish", "preview"):
            problem = builder.apply(state, action)
            errors = {"fields": problem} if problem else builder.dangling(state)
            return _builder_page(request, principal, state, row=row, orgs=orgs, errors=errors)
        built = builder.build(state)
        errors = built.errors
        org_id = await _org_choice(session, principal, state, orgs, errors)
        if built.definition is not None and await _slug_taken(
            session, principal.lg_code, built.definition.slug, row.id if row else None
        ):
            errors["slug"] = "このURLは別の手続きで使われています。別のURLにしてください。"
        if errors or built.definition is None:
            return _builder_page(request, principal, state, row=row, orgs=orgs, errors=errors, status=422)
        d = built.definition
        created = row is None
        if row is None:
            row = Procedure(
                id=uuid.uuid4(),
                lg_code=principal.lg_code,
                slug=d.slug,
                title=d.title,
                category=d.category,
                definition=d.model_dump(mode="json", exclude_none=True),
                published=False,
                version=1,
            )
            session.add(row)
        row.slug = d.slug
        row.organisation_id = org_id
        row.publish_from, row.publish_until = built.publish_from, built.publish_until
        await _store_draft(session, row, d)
        version = None
        if action == "publish":
            version = await versions.publish(session, principal.actor, row, d)
        await audit.record(
            session,
            lg_code=principal.lg_code,
            actor=principal.actor,
            action="procedure_publish_success" if action == "publish" else "procedure_save_success",
            object_type="procedure",
            object_id=row.id,
            details={"slug": d.slug, "created": created, "version": version, "fields": len(d.fields)},
        )
        target = row.id
    if action == "preview":
        return Redirect(f"{CONSOLE_PATH}/procedures/{target}/preview", status_code=HTTP_303_SEE_OTHER)
    notice = "published" if action == "publish" else "saved"
    return Redirect(
        f"{CONSOLE_PATH}/procedures/{target}/edit?notice={notice}", status_code=HTTP_303_SEE_OTHER
    )


async def _store_draft(session: Any, row: Procedure, d: EformProcedure) -> None:
    """Keep ``d`` as the pending draft; a procedure never published and never applied to takes it
    live at once (there is nobody to protect from the change)."""
    data = d.model_dump(mode="json", exclude_none=True)
    if not row.published and not await _has_submitted(session, row):
        row.definition, row.title, row.category = data, d.title, d.category
    row.draft_definition = data
    await session.flush()


def fingerprint(row: Procedure) -> str:
    """What the builder page was built from (the draft or live definition and the version): a
    reorder posted from an older page is refused instead of undoing someone's change."""
    data = row.draft_definition if row.draft_definition is not None else row.definition
    text = json.dumps([row.version, row.published, data], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@post("/procedures/{proc_id:uuid}/order", opt=MANAGE, include_in_schema=False)
async def reorder(
    proc_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[Any]:
    """The builder's drag and drop: the new order of the top-level fields (``order`` = field
    names) or, with ``group``, of the fields inside that repeating group; stored in the draft.
    JSON for the page's script; the live version is never touched."""
    async with _posted(request, principal, db, proc_id) as (form, session, row):
        if str(form.get("base") or "") != fingerprint(row):
            return _order_reply(
                409,
                "この手続きは、この画面を開いた後に保存または公開されました。"
                "画面を読み込み直してから並べ替えてください。",
            )
        order = [str(v)[:100] for v in form.getall("order")] if "order" in form else []
        group = str(form.get("group") or "")[:100]
        d = EformProcedure.model_validate(row.draft_definition or row.definition)
        state = builder.state_of(d)
        target: dict[str, Any] | None = state
        if group:
            target = next(
                (f for f in state["fields"] if f["name"] == group and f["type"] == EformFieldType.group),
                None,
            )
        if target is None:
            return _order_reply(422, "並べ替える繰り返し要素が見つかりません。画面を読み込み直してください。")
        problem = builder.reorder(target, order[: MAX_FIELDS + 1])
        if problem:
            return _order_reply(422, problem)
        problems = builder.dangling(state)
        if problems:
            labels = builder.labels_for(state)
            key, message = next(iter(problems.items()))
            return _order_reply(422, f"{labels.get(key, '')}: {message}")
        if group:
            owner = d.field(group)
            assert owner is not None
            by_child = {c.name: c for c in owner.fields}
            regrouped = owner.model_copy(update={"fields": [by_child[n] for n in order]})
            moved = d.model_copy(update={"fields": [regrouped if f is owner else f for f in d.fields]})
        else:
            by_name = {f.name: f for f in d.fields}
            moved = d.model_copy(update={"fields": [by_name[n] for n in order]})
        await _store_draft(session, row, moved)
        await audit.record(
            session,
            lg_code=principal.lg_code,
            actor=principal.actor,
            action="procedure_save_success",
            object_type="procedure",
            object_id=row.id,
            details={"slug": d.slug, "reordered": True, "fields": len(order), "group": group or None},
        )
        base = fingerprint(row)
    return _order_reply(200, "並び順を下書きに保存しました。", base=base)


def _order_reply(status: int, message: str, base: str | None = None) -> Response[Any]:
    return Response(
        {"ok": status == 200, "message": message, **({"base": base} if base else {})}, status_code=status
    )


async def _has_submitted(session: Any, row: Procedure) -> bool:
    from server.db.models import Application

    found = await session.scalar(
        sa.select(Application.id)
        .where(Application.procedure_id == row.id, Application.reference.is_not(None))
        .limit(1)
    )
    return found is not None


@post("/procedures/new", opt=MANAGE, include_in_schema=False)
async def create(
    request: Req, principal: NamedDependency[Principal], db: NamedDependency[Database]
) -> Response[Any]:
    """Builder actions on a procedure not saved yet; 保存 creates it (unpublished)."""
    return await _handle(request, principal, db, None)


@get("/procedures/{proc_id:uuid}/edit", opt=MANAGE, include_in_schema=False)
async def edit_page(
    proc_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[Any]:
    """The builder on the pending draft (or the live definition)."""
    async with access.tenant(db, principal) as session:
        row = await _procedure(session, principal, proc_id, Role.edit)
        orgs = await _editable_orgs(session, principal, row)
    d = EformProcedure.model_validate(row.draft_definition or row.definition)
    state = builder.state_of(
        d,
        organisation_id=str(row.organisation_id or ""),
        publish_from=row.publish_from,
        publish_until=row.publish_until,
    )
    notice = {
        "saved": "下書きを保存しました。公開するまで利用者には見えません。",
        "published": "公開しました。受付済みの申請は申請時の定義のまま表示されます。",
    }.get(request.query_params.get("notice") or "")
    return _builder_page(request, principal, state, row=row, orgs=orgs, notice=notice)


@post("/procedures/{proc_id:uuid}/edit", opt=MANAGE, include_in_schema=False)
async def edit(
    proc_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[Any]:
    """Builder actions: 追加 / 削除 / 並べ替え (no save), 下書き保存, プレビュー, 公開."""
    return await _handle(request, principal, db, proc_id)


# ---------------------------------------------------------------- preview


def _preview(
    request: Req,
    row: Procedure,
    d: EformProcedure,
    raw: dict[str, Any],
    errors: dict[str, str],
    notice: str | None,
) -> Response[str]:
    counts = {f.name: F.group_count(f, raw) for f in d.fields if f.type == EformFieldType.group}
    ctx = {
        "site_name": "プレビュー（職員用・送信されません）",
        "home_url": f"{CONSOLE_PATH}/procedures/{row.id}/edit",
        "d": d,
        "app_url": f"{CONSOLE_PATH}/procedures/{row.id}/preview",
        "csrf": csrf_token(request.cookies.get(CONSOLE_COOKIE, "")),
        "raw": raw,
        "errors": errors,
        "files": {},
        "sealed": {},
        "counts": counts,
        "accept": ",".join(f".{e}" for e in d.uploads.extensions),
        "candidates": None,
        "notice": notice
        or "プレビューです。入力しても申請にはなりません。条件による表示や繰り返しを試せます。",
    }
    return page("portal/form.html", ctx, status=422 if errors else 200)


@get("/procedures/{proc_id:uuid}/preview", opt=MANAGE, include_in_schema=False)
async def preview_page(
    proc_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[str]:
    """The draft as the resident will see it (the portal's own form template)."""
    async with access.tenant(db, principal) as session:
        row = await _procedure(session, principal, proc_id, Role.edit)
    d = EformProcedure.model_validate(row.draft_definition or row.definition)
    return _preview(request, row, d, {}, {}, None)


@post("/procedures/{proc_id:uuid}/preview/form", opt=MANAGE, include_in_schema=False)
async def preview_post(
    proc_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[str]:
    """The preview's buttons: rules re-evaluated, repeats added / removed, 確認 shows the errors."""
    async with _posted(request, principal, db, proc_id) as (form, _session, row):
        pass
    d = EformProcedure.model_validate(row.draft_definition or row.definition)
    multi = {k: form.getall(k) for k in form if not hasattr(form.get(k), "filename")}
    action = str(form.get("action") or "refresh")[:100]
    raw, posted = F.take_input(d, multi, {}, action)
    checked = F.validate(d, raw, {})
    errors = checked.errors if action == "confirm" else posted.errors
    notice = (
        "入力内容に誤りはありません（プレビューのため申請はされません）。"
        if action == "confirm" and not errors
        else None
    )
    return _preview(request, row, d, raw, errors, notice)


# ---------------------------------------------------------------- per-procedure roles


async def _access_rows(session: Any, row: Procedure) -> list[tuple[User, Role, Role | None]]:
    if row.organisation_id is None:
        return []
    members = (
        await session.execute(
            sa.select(User, OrganisationMember.role)
            .join(OrganisationMember, OrganisationMember.user_id == User.id)
            .where(OrganisationMember.organisation_id == row.organisation_id)
            .order_by(User.username)
        )
    ).all()
    own = await access.overrides(session, procedure_id=row.id)
    return [(u, role_named(r) or Role.none, own.get(u.id)) for u, r in members]


@get("/procedures/{proc_id:uuid}/access", opt=MANAGE, include_in_schema=False)
async def access_page(
    proc_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[str]:
    """Who of the 課 may view / process / edit this one procedure."""
    async with access.tenant(db, principal) as session:
        row = await _procedure(session, principal, proc_id, Role.edit)
        rows = await _access_rows(session, row)
        org = await session.get(Organisation, row.organisation_id) if row.organisation_id else None
    ctx = _ctx(request, principal, row=row, rows=rows, org=org, notice=request.query_params.get("notice"))
    return page("console/procedure_access.html", ctx)


@post("/procedures/{proc_id:uuid}/access", opt=MANAGE, include_in_schema=False)
async def set_access(
    proc_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[Any]:
    """Set (or clear: ``inherit``) one member's role on this procedure."""
    async with _posted(request, principal, db, proc_id) as (form, session, row):
        members = {str(u.id): u for u, _r, _o in await _access_rows(session, row)}
        user = members.get(str(form.get("user_id") or ""))
        choice = str(form.get("role") or "")
        role = role_named(choice)
        if user is None or (role is None and choice != "inherit"):
            raise access.not_found() if user is None else PermissionDenied("権限の指定が正しくありません。")
        await access.set_override(session, principal, row, user, role)
    return Redirect(
        f"{CONSOLE_PATH}/procedures/{proc_id}/access?notice=saved", status_code=HTTP_303_SEE_OTHER
    )


procedure_routes: list[Any] = [
    procedures_page,
    import_starters,
    publish,
    new_page,
    create,
    edit_page,
    edit,
    reorder,
    preview_page,
    preview_post,
    access_page,
    set_access,
]
