"""Organisations (課) in the staff console: create, members and their role (``user.manage``)."""

from __future__ import annotations

import unicodedata
import uuid
from typing import Any

import sqlalchemy as sa
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from server.db.engine import Database
from server.db.models import Organisation, OrganisationMember, Procedure, User
from server.domain import audit
from server.domain.accounts.access import requires
from server.domain.accounts.guards import CONSOLE_PATH
from server.domain.accounts.services import Principal
from server.domain.console import pages
from server.domain.console.access import MEMBER_ROLES, role_named
from server.domain.portal.html import page
from shared.errors import Conflict, NotFound
from shared.permissions import Permission

Req = Request[Any, Any, Any]
NAME_MAX = 100


_ctx = pages.context


def clean_name(raw: str) -> tuple[str, str | None]:
    """NFC, spaces trimmed; the error message or None."""
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        return name, "組織名を入力してください。"
    if len(name) > NAME_MAX:
        return name[:NAME_MAX], f"組織名は{NAME_MAX}文字以内で入力してください。"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") for c in name):
        return name, "組織名に使えない文字が含まれています。"
    return name, None


async def _orgs(session: Any, lg_code: str) -> list[tuple[Organisation, int]]:
    counts = (
        sa.select(OrganisationMember.organisation_id, sa.func.count().label("n"))
        .group_by(OrganisationMember.organisation_id)
        .subquery()
    )
    rows = await session.execute(
        sa.select(Organisation, sa.func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.organisation_id == Organisation.id)
        .where(Organisation.lg_code == lg_code)
        .order_by(Organisation.name)
    )
    return [(o, int(n)) for o, n in rows.all()]


@get("/organisations", opt=requires(Permission.user_manage), include_in_schema=False)
async def organisations_page(
    request: Req, principal: NamedDependency[Principal], db: NamedDependency[Database]
) -> Response[str]:
    """The 課 of the municipality with their member counts, and a form to add one."""
    async with db.tenant(principal.lg_code) as session:
        orgs = await _orgs(session, principal.lg_code)
    return page(
        "console/organisations.html", _ctx(request, principal, orgs=orgs, errors={}, form={"name": ""})
    )


@post("/organisations", opt=requires(Permission.user_manage), include_in_schema=False)
async def create_organisation(
    request: Req, principal: NamedDependency[Principal], db: NamedDependency[Database]
) -> Response[Any]:
    """Add a 課; a duplicate or empty name comes back with the message at the field."""
    form = await request.form()
    pages.check_csrf(request, form)
    name, error = clean_name(str(form.get("name") or "")[:1000])
    async with db.tenant(principal.lg_code) as session:
        if error is None:
            taken = await session.scalar(
                sa.select(Organisation.id).where(
                    Organisation.lg_code == principal.lg_code, Organisation.name == name
                )
            )
            if taken is not None:
                error = "同じ名前の組織がすでにあります。"
        if error is None:
            org = Organisation(id=uuid.uuid4(), lg_code=principal.lg_code, name=name)
            session.add(org)
            await session.flush()
            await audit.record(
                session,
                lg_code=principal.lg_code,
                actor=principal.actor,
                action="organisation_create_success",
                object_type="organisation",
                object_id=org.id,
                details={"name": name},
            )
            return Redirect(f"{CONSOLE_PATH}/organisations/{org.id}", status_code=HTTP_303_SEE_OTHER)
        orgs = await _orgs(session, principal.lg_code)
    ctx = _ctx(request, principal, orgs=orgs, errors={"name": error}, form={"name": name})
    return page("console/organisations.html", ctx, status=422)


async def _org(session: Any, principal: Principal, org_id: uuid.UUID) -> Organisation:
    org: Organisation | None = await session.get(Organisation, org_id)
    if org is None or org.lg_code != principal.lg_code:
        raise NotFound("組織が見つかりません。", code="organisation.not_found")
    return org


async def _org_page(
    request: Req,
    principal: Principal,
    session: Any,
    org: Organisation,
    errors: dict[str, str] | None = None,
    status: int = 200,
    typed: str | None = None,
) -> Response[str]:
    members = (
        await session.execute(
            sa.select(User, OrganisationMember.role)
            .join(OrganisationMember, OrganisationMember.user_id == User.id)
            .where(OrganisationMember.organisation_id == org.id)
            .order_by(User.username)
        )
    ).all()
    users = (
        (
            await session.execute(
                sa.select(User).where(User.lg_code == principal.lg_code).order_by(User.username)
            )
        )
        .scalars()
        .all()
    )
    every = (
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
    procs = [p for p in every if p.organisation_id == org.id]
    names = {o.id: o.name for o, _n in await _orgs(session, principal.lg_code)}
    others = [
        (p, names.get(p.organisation_id) if p.organisation_id else None)
        for p in every
        if p.organisation_id != org.id
    ]
    ctx = _ctx(
        request,
        principal,
        org=org,
        members=[(u, role_named(r)) for u, r in members],
        users=users,
        procedures=procs,
        others=others,
        errors=errors or {},
        notice=request.query_params.get("notice"),
        typed=org.name if typed is None else typed,
    )
    return page("console/organisation.html", ctx, status=status)


@get("/organisations/{org_id:uuid}", opt=requires(Permission.user_manage), include_in_schema=False)
async def organisation_page(
    org_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[str]:
    """One 課: its members and their role, its procedures, the add-member form."""
    async with db.tenant(principal.lg_code) as session:
        org = await _org(session, principal, org_id)
        return await _org_page(request, principal, session, org)


@post("/organisations/{org_id:uuid}/members", opt=requires(Permission.user_manage), include_in_schema=False)
async def set_member(
    org_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[Any]:
    """Add a staff member to the 課 or change his role; ``remove=1`` takes him out."""
    form = await request.form()
    pages.check_csrf(request, form)
    async with db.tenant(principal.lg_code) as session:
        org = await _org(session, principal, org_id)
        errors: dict[str, str] = {}
        try:
            user_id = uuid.UUID(str(form.get("user_id") or ""))
        except ValueError:
            user_id = None
        user = await session.get(User, user_id) if user_id else None
        if user is None or user.lg_code != principal.lg_code:
            errors["user_id"] = "職員を選んでください。"
        remove = form.get("remove") == "1"
        role = role_named(str(form.get("role") or ""))
        if not remove and role not in MEMBER_ROLES:
            errors["role"] = "権限（閲覧・処理・編集）を選んでください。"
        if errors or user is None or (role is None and not remove):
            return await _org_page(request, principal, session, org, errors, status=422)
        role_name = role.name if role is not None else None
        member = await session.get(OrganisationMember, (org.id, user.id))
        if remove:
            if member is not None:
                await session.delete(member)
        elif member is None:
            session.add(
                OrganisationMember(
                    lg_code=principal.lg_code, organisation_id=org.id, user_id=user.id, role=role_name
                )
            )
        else:
            member.role = str(role_name)
        await audit.record(
            session,
            lg_code=principal.lg_code,
            actor=principal.actor,
            action="organisation_member_success",
            object_type="organisation",
            object_id=org.id,
            details={"user": user.username, "role": None if remove else role_name},
        )
    notice = "removed" if remove else "saved"
    return Redirect(f"{CONSOLE_PATH}/organisations/{org_id}?notice={notice}", status_code=HTTP_303_SEE_OTHER)


@post(
    "/organisations/{org_id:uuid}/procedures", opt=requires(Permission.user_manage), include_in_schema=False
)
async def assign_procedure(
    org_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[Any]:
    """Make this 課 the one in charge of a procedure (``action=assign``; it leaves its former 課),
    or take it away (``action=release``: then only staff with 全課の権限 see it)."""
    form = await request.form()
    pages.check_csrf(request, form)
    action = str(form.get("action") or "")
    async with db.tenant(principal.lg_code) as session:
        org = await _org(session, principal, org_id)
        try:
            proc_id = uuid.UUID(str(form.get("procedure_id") or ""))
        except ValueError:
            proc_id = None
        proc: Procedure | None = await session.get(Procedure, proc_id) if proc_id else None
        if proc is None or proc.lg_code != principal.lg_code or action not in ("assign", "release"):
            return await _org_page(
                request, principal, session, org, {"procedure_id": "手続きを選んでください。"}, status=422
            )
        if action == "release" and proc.organisation_id != org.id:
            raise Conflict("この手続きはこの組織の担当ではありません。", code="organisation.not_in_charge")
        before = proc.organisation_id
        proc.organisation_id = org.id if action == "assign" else None
        if before != proc.organisation_id:
            await audit.record(
                session,
                lg_code=principal.lg_code,
                actor=principal.actor,
                action="procedure_organisation_success",
                object_type="procedure",
                object_id=proc.id,
                details={
                    "slug": proc.slug,
                    "from": str(before) if before else None,
                    "to": str(proc.organisation_id) if proc.organisation_id else None,
                },
            )
    notice = "assigned" if action == "assign" else "released"
    return Redirect(f"{CONSOLE_PATH}/organisations/{org_id}?notice={notice}", status_code=HTTP_303_SEE_OTHER)


@post("/organisations/{org_id:uuid}/rename", opt=requires(Permission.user_manage), include_in_schema=False)
async def rename_organisation(
    org_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[Any]:
    """Rename a 課 (same rules as a new one)."""
    form = await request.form()
    pages.check_csrf(request, form)
    name, error = clean_name(str(form.get("name") or "")[:1000])
    async with db.tenant(principal.lg_code) as session:
        org = await _org(session, principal, org_id)
        if error is None:
            taken = await session.scalar(
                sa.select(Organisation.id).where(
                    Organisation.lg_code == principal.lg_code,
                    Organisation.name == name,
                    Organisation.id != org.id,
                )
            )
            if taken is not None:
                error = "同じ名前の組織がすでにあります。"
        if error is not None:
            return await _org_page(request, principal, session, org, {"name": error}, status=422, typed=name)
        old, org.name = org.name, name
        await audit.record(
            session,
            lg_code=principal.lg_code,
            actor=principal.actor,
            action="organisation_rename_success",
            object_type="organisation",
            object_id=org.id,
            details={"from": old, "to": name},
        )
    return Redirect(f"{CONSOLE_PATH}/organisations/{org_id}?notice=renamed", status_code=HTTP_303_SEE_OTHER)


@post("/organisations/{org_id:uuid}/delete", opt=requires(Permission.user_manage), include_in_schema=False)
async def delete_organisation(
    org_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[Any]:
    """Delete a 課 that owns no procedure (its memberships go with it)."""
    pages.check_csrf(request, await request.form())
    async with db.tenant(principal.lg_code) as session:
        org = await _org(session, principal, org_id)
        owns = await session.scalar(
            sa.select(Procedure.id).where(Procedure.organisation_id == org.id).limit(1)
        )
        if owns is not None:
            raise Conflict(
                "この組織が担当する手続きがあります。先に手続きの担当課を変えてください。",
                code="organisation.in_use",
            )
        await session.execute(
            sa.delete(OrganisationMember).where(OrganisationMember.organisation_id == org.id)
        )
        await session.delete(org)
        await audit.record(
            session,
            lg_code=principal.lg_code,
            actor=principal.actor,
            action="organisation_delete_success",
            object_type="organisation",
            object_id=org_id,
            details={"name": org.name},
        )
    return Redirect(f"{CONSOLE_PATH}/organisations", status_code=HTTP_303_SEE_OTHER)


organisation_routes: list[Any] = [
    organisations_page,
    create_organisation,
    organisation_page,
    set_member,
    assign_procedure,
    rename_organisation,
    delete_organisation,
]
