"""Staff accounts in the console (``user.manage``), the staff member's own page, and the e-mail
confirmation link (spec 002 (2)①).

Issuing an account, a new password or a new second factor shows the secret once on the answer
page (never stored in clear, never sent by mail). Every change is one audit event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pyotp
import sqlalchemy as sa
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from server.config import Settings
from server.db.engine import Database
from server.db.models import (
    Group,
    GroupPermission,
    Municipality,
    Organisation,
    OrganisationMember,
    Procedure,
    User,
    UserGroup,
)
from server.deps import key_ring
from server.domain import audit
from server.domain.accounts import services as accounts
from server.domain.accounts import staff
from server.domain.accounts.access import LOGGED_IN, PUBLIC, requires
from server.domain.accounts.guards import CONSOLE_PATH, request_client_ip
from server.domain.accounts.passwords import MAX_LENGTH, STAFF_MIN_LENGTH
from server.domain.accounts.services import Principal
from server.domain.console import pages
from server.domain.console.access import (
    MEMBER_ROLES,
    ROLE_LABELS,
    Role,
    overrides,
    role_named,
    set_override,
)
from server.domain.portal.html import page
from shared.errors import InvalidInput, NotFound
from shared.permissions import Permission
from shared.text.checkdigit import normalize_lg_code

Req = Request[Any, Any, Any]
_ctx = pages.context
MANAGE = requires(Permission.user_manage)
LABELS = {
    "username": "ログインID",
    "display_name": "表示名",
    "email": "メールアドレス",
    "groups": "グループ",
    "active": "有効・無効",
}


@dataclass
class ProcedureAccess:
    """One procedure of a 課 the staff member belongs to: his 課 role and his own override."""

    procedure: Procedure
    organisation: str
    base: Role
    own: Role | None


async def procedure_access(session: Any, user: User) -> list[ProcedureAccess]:
    """Every procedure of the staff member's 課, with the role he has there and his override."""
    rows = (
        await session.execute(
            sa.select(Procedure, Organisation.name, OrganisationMember.role)
            .join(Organisation, Organisation.id == Procedure.organisation_id)
            .join(OrganisationMember, OrganisationMember.organisation_id == Organisation.id)
            .where(OrganisationMember.user_id == user.id, Procedure.lg_code == user.lg_code)
            .order_by(Organisation.name, Procedure.title)
        )
    ).all()
    own = await overrides(session, user_id=user.id)
    return [ProcedureAccess(p, org, role_named(role) or Role.none, own.get(p.id)) for p, org, role in rows]


@dataclass
class StaffRow:
    user: User
    groups: list[str]
    orgs: list[tuple[str, str]]  # (課, role label)


def _form_text(form: Any, key: str, limit: int = 1000) -> str:
    return str(form.get(key) or "")[:limit]


def _uuids(values: list[Any]) -> list[uuid.UUID]:
    out = []
    for v in values:
        try:
            out.append(uuid.UUID(str(v)))
        except ValueError:
            continue
    return out


async def _rows(session: Any, lg_code: str) -> list[StaffRow]:
    users = list(
        (
            await session.execute(sa.select(User).where(User.lg_code == lg_code).order_by(User.username))
        ).scalars()
    )
    groups: dict[uuid.UUID, list[str]] = {}
    for uid, name in await session.execute(
        sa.select(UserGroup.user_id, Group.name)
        .join(Group, Group.id == UserGroup.group_id)
        .where(UserGroup.lg_code == lg_code)
        .order_by(Group.name)
    ):
        groups.setdefault(uid, []).append(name)
    orgs: dict[uuid.UUID, list[tuple[str, str]]] = {}
    for uid, name, role in await session.execute(
        sa.select(OrganisationMember.user_id, Organisation.name, OrganisationMember.role)
        .join(Organisation, Organisation.id == OrganisationMember.organisation_id)
        .where(OrganisationMember.lg_code == lg_code)
        .order_by(Organisation.name)
    ):
        r = role_named(role)
        orgs.setdefault(uid, []).append((name, ROLE_LABELS[r] if r is not None else role))
    return [StaffRow(u, groups.get(u.id, []), orgs.get(u.id, [])) for u in users]


async def _orgs(session: Any, lg_code: str) -> list[Organisation]:
    query = sa.select(Organisation).where(Organisation.lg_code == lg_code).order_by(Organisation.name)
    return list((await session.execute(query)).scalars())


async def _list_page(
    request: Req,
    principal: Principal,
    session: Any,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> Response[str]:
    ctx = _ctx(
        request,
        principal,
        rows=await _rows(session, principal.lg_code),
        groups=await staff.groups_of(session, principal.lg_code),
        errors=errors or {},
        form=form or {"username": "", "display_name": "", "email": "", "groups": [], "totp": False},
        notice=request.query_params.get("notice"),
    )
    return page("console/staff.html", ctx, status=status)


@get("/staff", opt=MANAGE, include_in_schema=False)
async def staff_page(
    request: Req, principal: NamedDependency[Principal], db: NamedDependency[Database]
) -> Response[str]:
    """Every staff account with groups, 課, address state, active and second factor; the issue form."""
    async with db.tenant(principal.lg_code) as session:
        return await _list_page(request, principal, session)


@post("/staff", opt=MANAGE, include_in_schema=False)
async def issue_account(
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[str]:
    """Issue an account with a generated password (and TOTP when ticked), shown once."""
    form = await request.form()
    pages.check_csrf(request, form)
    username, e_user = staff.clean_username(_form_text(form, "username"))
    display, e_display = staff.clean_display_name(_form_text(form, "display_name"))
    raw_email = _form_text(form, "email")
    email, e_email = staff.clean_email(raw_email)
    group_ids = _uuids(form.getall("groups", []))
    totp = form.get("totp") == "1"
    errors = {k: v for k, v in (("username", e_user), ("display_name", e_display), ("email", e_email)) if v}
    typed = {
        "username": username,
        "display_name": display,
        "email": raw_email[:300],
        "groups": [str(g) for g in group_ids],
        "totp": totp,
    }
    async with db.tenant(principal.lg_code) as session:
        if e_user is None and await accounts.get_user(session, principal.lg_code, username) is not None:
            errors["username"] = "このログインIDはすでに使われています。"
        if errors:
            return await _list_page(request, principal, session, errors=errors, form=typed, status=422)
        password = staff.new_password()
        chosen = [g.name for g in await staff.groups_of(session, principal.lg_code) if g.id in group_ids]
        user, uri = await accounts.create_user(
            session,
            key_ring(request.app.state) if totp else None,
            lg_code=principal.lg_code,
            username=username,
            display_name=display,
            password=password,
            groups=chosen,
            totp=totp,
            actor=principal.actor,
            email=email,
            settings=settings,
        )
        return _issued(request, principal, user, password=password, uri=uri, new=True)


def _issued(
    request: Req,
    principal: Principal,
    user: User,
    *,
    password: str | None,
    uri: str | None,
    new: bool = False,
) -> Response[str]:
    secret = pyotp.parse_uri(uri).secret if uri else None
    ctx = _ctx(request, principal, user=user, password=password, uri=uri, secret=secret, new=new)
    return page("console/staff_issued.html", ctx)


async def _user(session: Any, principal: Principal, user_id: uuid.UUID) -> User:
    user: User | None = await session.get(User, user_id)
    if user is None or user.lg_code != principal.lg_code:
        raise NotFound("職員が見つかりません。", code="user.not_found")
    return user


async def _member_page(
    request: Req,
    principal: Principal,
    session: Any,
    user: User,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
    status: int = 200,
    proc_errors: dict[str, str] | None = None,
) -> Response[str]:
    mine = set(
        (await session.execute(sa.select(UserGroup.group_id).where(UserGroup.user_id == user.id))).scalars()
    )
    roles = dict(
        (
            await session.execute(
                sa.select(OrganisationMember.organisation_id, OrganisationMember.role).where(
                    OrganisationMember.user_id == user.id
                )
            )
        ).all()
    )
    form = typed or {
        "display_name": user.display_name,
        "email": user.email or "",
        "groups": [str(g) for g in mine],
        "orgs": {str(k): v for k, v in roles.items()},
        "notify": user.notify_submissions,
    }
    ctx = _ctx(
        request,
        principal,
        user=user,
        groups=await staff.groups_of(session, principal.lg_code),
        orgs=await _orgs(session, principal.lg_code),
        form=form,
        errors=errors or {},
        notice=request.query_params.get("notice"),
        myself=user.id == principal.user_id,
        procedures=await procedure_access(session, user),
        proc_errors=proc_errors or {},
    )
    return page("console/staff_member.html", ctx, status=status)


@get("/staff/{user_id:uuid}", opt=MANAGE, include_in_schema=False)
async def member_page(
    user_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[str]:
    """One account: name, address, groups, 課, and the buttons for state, password and TOTP."""
    async with db.tenant(principal.lg_code) as session:
        user = await _user(session, principal, user_id)
        return await _member_page(request, principal, session, user)


@post("/staff/{user_id:uuid}", opt=MANAGE, include_in_schema=False)
async def save_member(
    user_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """Save display name, address (a new one is mailed its link), notice opt-in, groups and 課."""
    form = await request.form()
    pages.check_csrf(request, form)
    display, e_display = staff.clean_display_name(_form_text(form, "display_name"))
    raw_email = _form_text(form, "email")
    email, e_email = staff.clean_email(raw_email)
    group_ids = _uuids(form.getall("groups", []))
    notify = form.get("notify") == "1"
    errors = {k: v for k, v in (("display_name", e_display), ("email", e_email)) if v}
    async with db.tenant(principal.lg_code) as session:
        user = await _user(session, principal, user_id)
        orgs = await _orgs(session, principal.lg_code)
        roles: dict[uuid.UUID, str | None] = {}
        for org in orgs:
            value = _form_text(form, f"org-{org.id}", 20)
            role = role_named(value)
            if value and role not in MEMBER_ROLES:
                errors[f"org-{org.id}"] = "権限（閲覧・処理・編集）を選んでください。"
            roles[org.id] = role.name if role is not None and value else None
        if user.id == principal.user_id:
            manage = {
                g.id
                for g in await staff.groups_of(session, principal.lg_code)
                if Permission.user_manage.value in await _group_permissions(session, g.id)
            }
            if manage and not manage & set(group_ids):
                errors["groups"] = "自分自身から職員管理の権限を外すことはできません。"
        if errors:
            typed = {
                "display_name": display,
                "email": raw_email[:300],
                "groups": [str(g) for g in group_ids],
                "orgs": {str(k): v or "" for k, v in roles.items()},
                "notify": notify,
            }
            return await _member_page(
                request, principal, session, user, errors=errors, typed=typed, status=422
            )
        changed: dict[str, Any] = {}
        if display != user.display_name:
            user.display_name = display
            changed["display_name"] = True
        if notify != user.notify_submissions:
            user.notify_submissions = notify
            changed["notify"] = notify
        added, removed = await staff.set_groups(session, user, group_ids)
        if added or removed:
            changed["groups_added"], changed["groups_removed"] = added, removed
        org_changes = await staff.set_memberships(session, user, roles)
        if org_changes:
            changed["organisations"] = org_changes
        if changed:
            await audit.record(
                session,
                lg_code=principal.lg_code,
                actor=principal.actor,
                action="user_update_success",
                object_type="user",
                object_id=user.id,
                details=changed,
            )
        resend = form.get("resend") == "1"
        mailed = await staff.set_email(session, settings, user, email, principal.actor, resend=resend)
    notice = "mailed" if mailed else "saved"
    return Redirect(f"{CONSOLE_PATH}/staff/{user_id}?notice={notice}", status_code=HTTP_303_SEE_OTHER)


@post("/staff/{user_id:uuid}/procedures", opt=MANAGE, include_in_schema=False)
async def save_procedure_roles(
    user_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[Any]:
    """His own role on each procedure of his 課 (``proc-<id>``: inherit / none / view / process /
    edit); one ``procedure_role_success`` per procedure that changed."""
    form = await request.form()
    pages.check_csrf(request, form)
    async with db.tenant(principal.lg_code) as session:
        user = await _user(session, principal, user_id)
        rows = await procedure_access(session, user)
        errors: dict[str, str] = {}
        wanted: dict[uuid.UUID, Role | None] = {}
        for row in rows:
            key = f"proc-{row.procedure.id}"
            choice = _form_text(form, key, 20) or "inherit"
            role = role_named(choice)
            if role is None and choice != "inherit":
                errors[key] = "権限（課の権限のまま・権限なし・閲覧・処理・編集）を選んでください。"
            wanted[row.procedure.id] = role
        if errors:
            return await _member_page(request, principal, session, user, status=422, proc_errors=errors)
        for row in rows:
            role = wanted[row.procedure.id]
            if role != row.own:
                await set_override(session, principal, row.procedure, user, role)
    return Redirect(f"{CONSOLE_PATH}/staff/{user_id}?notice=procedures", status_code=HTTP_303_SEE_OTHER)


async def _group_permissions(session: Any, group_id: uuid.UUID) -> set[str]:
    query = sa.select(GroupPermission.permission).where(GroupPermission.group_id == group_id)
    return set((await session.execute(query)).scalars())


@post("/staff/{user_id:uuid}/active", opt=MANAGE, include_in_schema=False)
async def set_active(
    user_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[Any]:
    """Disable (``active=0``) or enable an account; one's own account cannot be disabled."""
    form = await request.form()
    pages.check_csrf(request, form)
    active = form.get("active") == "1"
    async with db.tenant(principal.lg_code) as session:
        user = await _user(session, principal, user_id)
        if user.id == principal.user_id and not active:
            raise InvalidInput("自分自身のアカウントは無効にできません。", code="user.self_disable")
        if user.is_active != active:
            user.is_active = active
            if active:
                user.failed_logins, user.locked_until = 0, None
            await audit.record(
                session,
                lg_code=principal.lg_code,
                actor=principal.actor,
                action="user_enable_success" if active else "user_disable_success",
                object_type="user",
                object_id=user.id,
            )
    notice = "enabled" if active else "disabled"
    return Redirect(f"{CONSOLE_PATH}/staff/{user_id}?notice={notice}", status_code=HTTP_303_SEE_OTHER)


@post("/staff/{user_id:uuid}/totp", opt=MANAGE, include_in_schema=False)
async def reset_totp(
    user_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[Any]:
    """A new TOTP secret (``action=reset``, shown once) or none at all (``action=clear``)."""
    form = await request.form()
    pages.check_csrf(request, form)
    action = form.get("action")
    if action not in ("reset", "clear"):
        raise InvalidInput("操作を選んでください。", code="user.totp_action")
    async with db.tenant(principal.lg_code) as session:
        user = await _user(session, principal, user_id)
        uri = None
        if action == "reset":
            uri = staff.totp_uri(key_ring(request.app.state), user)
        else:
            user.totp_secret = user.totp_key_id = None
            user.totp_last_step = None
        await audit.record(
            session,
            lg_code=principal.lg_code,
            actor=principal.actor,
            action="user_totp_reset_success",
            object_type="user",
            object_id=user.id,
            details={"totp": "set" if uri else "cleared"},
        )
        if uri is None:
            return Redirect(
                f"{CONSOLE_PATH}/staff/{user_id}?notice=totp_cleared", status_code=HTTP_303_SEE_OTHER
            )
        return _issued(request, principal, user, password=None, uri=uri)


@post("/staff/{user_id:uuid}/password", opt=MANAGE, include_in_schema=False)
async def new_password(
    user_id: FromPath[uuid.UUID],
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[Any]:
    """A new generated password, shown once; the lockout is lifted."""
    pages.check_csrf(request, await request.form())
    async with db.tenant(principal.lg_code) as session:
        user = await _user(session, principal, user_id)
        password = await staff.reset_password(session, user, principal.actor)
        return _issued(request, principal, user, password=password, uri=None)


# ---------------------------------------------------------------- the staff member's own page


async def _account_page(
    request: Req,
    principal: Principal,
    user: User,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
    status: int = 200,
) -> Response[str]:
    form = typed or {"email": user.email or "", "notify": user.notify_submissions}
    ctx = _ctx(
        request,
        principal,
        user=user,
        form=form,
        errors=errors or {},
        notice=request.query_params.get("notice"),
        min_length=STAFF_MIN_LENGTH,
    )
    return page("console/account.html", ctx, status=status)


@get("/account", opt=LOGGED_IN, include_in_schema=False)
async def account_page(
    request: Req, principal: NamedDependency[Principal], db: NamedDependency[Database]
) -> Response[str]:
    """The logged-in staff member's own address and notice opt-in."""
    async with db.tenant(principal.lg_code) as session:
        user = await _user(session, principal, principal.user_id)
        return await _account_page(request, principal, user)


@post("/account", opt=LOGGED_IN, include_in_schema=False)
async def save_account(
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """Set one's own address (its link is mailed) and whether new applications are notified."""
    form = await request.form()
    pages.check_csrf(request, form)
    raw_email = _form_text(form, "email")
    email, error = staff.clean_email(raw_email)
    notify = form.get("notify") == "1"
    async with db.tenant(principal.lg_code) as session:
        user = await _user(session, principal, principal.user_id)
        if error:
            typed = {"email": raw_email[:300], "notify": notify}
            return await _account_page(
                request, principal, user, errors={"email": error}, typed=typed, status=422
            )
        if notify != user.notify_submissions:
            user.notify_submissions = notify
            await audit.record(
                session,
                lg_code=principal.lg_code,
                actor=principal.actor,
                action="user_update_success",
                object_type="user",
                object_id=user.id,
                details={"notify": notify},
            )
        resend = form.get("resend") == "1"
        mailed = await staff.set_email(session, settings, user, email, principal.actor, resend=resend)
    notice = "mailed" if mailed else "saved"
    return Redirect(f"{CONSOLE_PATH}/account?notice={notice}", status_code=HTTP_303_SEE_OTHER)


@post("/account/password", opt=LOGGED_IN, include_in_schema=False)
async def change_own_password(
    request: Req,
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """Change one's own password: the current one is required; the other sessions end, TOTP stays."""
    form = await request.form()
    pages.check_csrf(request, form)
    async with db.tenant(principal.lg_code) as session:
        user = await _user(session, principal, principal.user_id)
        errors = await staff.change_password(
            session,
            settings,
            user,
            current=str(form.get("current_password") or "")[: MAX_LENGTH + 1],
            new=str(form.get("new_password") or "")[: MAX_LENGTH + 1],
            again=str(form.get("new_password2") or "")[: MAX_LENGTH + 1],
            actor=principal.actor,
            keep_session=principal.session_id,
        )
        if errors:
            # Passwords are never typed back into the page.
            return await _account_page(request, principal, user, errors=errors, status=422)
    return Redirect(f"{CONSOLE_PATH}/account?notice=password", status_code=HTTP_303_SEE_OTHER)


@get("/verify-email", opt=PUBLIC, include_in_schema=False)
async def verify_email(
    request: Req,
    db: NamedDependency[Database],
    lg: FromQuery[str] = "",
    token: FromQuery[str] = "",
) -> Response[str]:
    """The link of the confirmation mail: works once and only before it expires."""
    user = None
    try:
        lg_code = normalize_lg_code(lg[:20])
    except InvalidInput:
        lg_code = None
    if lg_code is not None:
        async with db.unbound() as session:
            known = await session.get(Municipality, lg_code) is not None
        if known:
            async with db.tenant(lg_code) as session:
                user = await staff.verify_email(session, lg_code, token[:200], request_client_ip(request))
    ctx = _ctx(request, None, ok=user is not None)
    return page("console/email_verified.html", ctx, status=200 if user is not None else 410)


staff_routes: list[Any] = [
    staff_page,
    issue_account,
    member_page,
    save_member,
    save_procedure_roles,
    set_active,
    reset_totp,
    new_password,
    account_page,
    save_account,
    change_own_password,
    verify_email,
]
