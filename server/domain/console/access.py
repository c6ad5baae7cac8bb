"""Who may see and act on which procedure: organisations (課) and per-procedure roles.

A staff member holds a global permission (``eform.review``, ``eform.manage``, ``payment.refund``)
through his groups **and** a role on the procedure: the role of his 課 membership, or the role set
for him on this one procedure. ``eform.all_orgs`` gives the edit role on every procedure. A
procedure outside his 課 (or set to "none" for him) does not exist for him (404); one he may see
but not change answers 403. Deny by default: a procedure without a 課 is seen only with
``eform.all_orgs``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import IntEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.engine import Database
from server.db.models import OrganisationMember, Procedure, ProcedureRole, User
from server.domain import audit
from server.domain.accounts.services import Principal
from shared.errors import NotFound, PermissionDenied
from shared.permissions import Permission


class Role(IntEnum):
    """A staff member's role on one procedure; each includes the ones below."""

    none = 0  # 権限なし (見えない)
    view = 1  # 閲覧: 一覧・詳細・添付・CSV
    process = 2  # 処理: 状態の変更・決済
    edit = 3  # 編集: フォームの編集・公開


ROLE_LABELS: dict[Role, str] = {
    Role.none: "権限なし",
    Role.view: "閲覧",
    Role.process: "処理",
    Role.edit: "編集",
}
#: Roles a 課 membership may carry (a membership without a role makes no sense).
MEMBER_ROLES = (Role.view, Role.process, Role.edit)


def role_named(name: str) -> Role | None:
    return next((r for r in Role if r.name == name), None)


class _Refusal:
    procedure_id: uuid.UUID
    need: Role


class ProcedureDenied(_Refusal, PermissionDenied):
    """The procedure is visible to the staff member but above his role (403, audited)."""

    def __init__(self, procedure_id: uuid.UUID, need: Role) -> None:
        super().__init__("この手続きを操作する権限がありません。", code="eform.procedure_denied")
        self.procedure_id, self.need = procedure_id, need


class ProcedureHidden(_Refusal, NotFound):
    """The procedure is outside the staff member's 課 (404 so its existence is not told; audited)."""

    def __init__(self, procedure_id: uuid.UUID, need: Role) -> None:
        super().__init__("手続きが見つかりません。", code="eform.procedure_not_found")
        self.procedure_id, self.need = procedure_id, need


async def roles_of(session: AsyncSession, principal: Principal) -> dict[uuid.UUID, Role] | None:
    """Role per procedure id for ``principal``; None means every procedure with the edit role."""
    if principal.has(Permission.eform_all_orgs):
        return None
    memberships = (
        await session.execute(
            sa.select(OrganisationMember.organisation_id, OrganisationMember.role).where(
                OrganisationMember.lg_code == principal.lg_code,
                OrganisationMember.user_id == principal.user_id,
            )
        )
    ).all()
    by_org = {org: role_named(role) or Role.none for org, role in memberships}
    roles: dict[uuid.UUID, Role] = {}
    if by_org:
        procs = await session.execute(
            sa.select(Procedure.id, Procedure.organisation_id).where(
                Procedure.lg_code == principal.lg_code, Procedure.organisation_id.in_(list(by_org))
            )
        )
        for pid, org in procs.all():
            roles[pid] = by_org[org]
        overrides = await session.execute(
            sa.select(ProcedureRole.procedure_id, ProcedureRole.role).where(
                ProcedureRole.lg_code == principal.lg_code,
                ProcedureRole.user_id == principal.user_id,
                ProcedureRole.procedure_id.in_(list(roles)),
            )
        )
        for pid, role in overrides.all():
            roles[pid] = role_named(role) or Role.none
    return {pid: r for pid, r in roles.items() if r > Role.none}


async def role_on(session: AsyncSession, principal: Principal, procedure: Procedure) -> Role:
    roles = await roles_of(session, principal)
    return Role.edit if roles is None else roles.get(procedure.id, Role.none)


async def require(session: AsyncSession, principal: Principal, procedure: Procedure, need: Role) -> Role:
    """The principal's role on ``procedure`` if it is at least ``need``; otherwise 404 / 403."""
    role = await role_on(session, principal, procedure)
    if role < need:
        raise (ProcedureHidden if role == Role.none else ProcedureDenied)(procedure.id, need)
    return role


@asynccontextmanager
async def tenant(db: Database, principal: Principal) -> AsyncIterator[AsyncSession]:
    """``db.tenant`` for console routes: a refused procedure is audited in its own transaction."""
    try:
        async with db.tenant(principal.lg_code) as session:
            yield session
    except (ProcedureDenied, ProcedureHidden) as exc:
        async with db.tenant(principal.lg_code) as session:
            await audit.record(
                session,
                lg_code=principal.lg_code,
                actor=principal.actor,
                action="procedure_access_denied",
                object_type="procedure",
                object_id=exc.procedure_id,
                details={"need": exc.need.name},
            )
        raise


async def overrides(
    session: AsyncSession, *, procedure_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None
) -> dict[uuid.UUID, Role | None]:
    """Per-procedure roles set for one procedure (keyed by user) or for one user (by procedure)."""
    query = sa.select(ProcedureRole.user_id, ProcedureRole.procedure_id, ProcedureRole.role)
    if procedure_id is not None:
        query = query.where(ProcedureRole.procedure_id == procedure_id)
    if user_id is not None:
        query = query.where(ProcedureRole.user_id == user_id)
    rows = (await session.execute(query)).all()
    return {(pid if procedure_id is None else uid): role_named(role) for uid, pid, role in rows}


async def set_override(
    session: AsyncSession, principal: Principal, procedure: Procedure, user: User, role: Role | None
) -> None:
    """Set ``user``'s own role on ``procedure`` (None: back to his 課's role); audited."""
    current = await session.get(ProcedureRole, (procedure.id, user.id))
    if role is None:
        if current is not None:
            await session.delete(current)
    elif current is None:
        session.add(
            ProcedureRole(
                lg_code=procedure.lg_code, procedure_id=procedure.id, user_id=user.id, role=role.name
            )
        )
    else:
        current.role = role.name
    await audit.record(
        session,
        lg_code=principal.lg_code,
        actor=principal.actor,
        action="procedure_role_success",
        object_type="procedure",
        object_id=procedure.id,
        details={"user": user.username, "role": role.name if role is not None else "inherit"},
    )


def not_found() -> NotFound:
    return NotFound("手続きが見つかりません。", code="eform.procedure_not_found")
