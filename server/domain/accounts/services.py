"""Accounts: municipalities, groups, users, networks, login/logout and token authentication.

Every function that touches municipal rows takes a session already bound to the municipality
(``Database.tenant``). Login and authentication open their own transactions because a failed
login must still be recorded (failure counter, audit event) while the request answers with an
error.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import anyio.to_thread
import pyotp
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import Settings
from server.crypto import KeyRing
from server.db.engine import Database
from server.db.models import (
    AuthSession,
    Group,
    GroupPermission,
    Municipality,
    NetworkAllowance,
    User,
    UserGroup,
)
from server.domain import audit
from server.domain.accounts import lockout
from server.domain.accounts.network import in_networks
from server.domain.accounts.passwords import STAFF_MIN_LENGTH, hash_password, verify_password
from shared.api import LoginRequest
from shared.errors import (
    AccountLocked,
    AuthenticationFailed,
    AuthenticationRequired,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from shared.permissions import Permission
from shared.text.checkdigit import normalize_lg_code


@dataclass(frozen=True)
class Principal:
    """The logged-in user of a request."""

    user_id: uuid.UUID
    lg_code: str
    username: str
    display_name: str
    permissions: frozenset[str]
    groups: tuple[str, ...]
    session_id: uuid.UUID
    terminal_id: str | None = None
    client_ip: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def has(self, permission: Permission) -> bool:
        return permission.value in self.permissions

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(self.user_id, self.username, self.terminal_id, self.client_ip)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _totp_aad(user_id: uuid.UUID) -> str:
    return f"totp:{user_id}"


# ---------------------------------------------------------------- administration (CLI, later API)


async def create_municipality(session: AsyncSession, lg_code: str, name: str) -> Municipality:
    lg_code = normalize_lg_code(lg_code)
    if await session.get(Municipality, lg_code) is not None:
        raise Conflict(f"団体コード {lg_code} は登録済みです。")
    row = Municipality(lg_code=lg_code, name=name.strip())
    session.add(row)
    await session.flush()
    return row


async def get_group(session: AsyncSession, lg_code: str, name: str) -> Group | None:
    return (
        await session.execute(sa.select(Group).where(Group.lg_code == lg_code, Group.name == name))
    ).scalar_one_or_none()


async def create_group(
    session: AsyncSession,
    lg_code: str,
    name: str,
    permissions: Iterable[str],
    *,
    actor: audit.Actor = audit.SYSTEM,
) -> Group:
    """A group with ``permissions`` (names of :class:`Permission`; unknown names are refused)."""
    perms = sorted(set(permissions))
    known = {p.value for p in Permission}
    unknown = [p for p in perms if p not in known]
    if unknown:
        raise InvalidInput(f"存在しない権限名です: {', '.join(unknown)}", code="permission.unknown")
    if await get_group(session, lg_code, name) is not None:
        raise Conflict(f"グループ「{name}」は登録済みです。")
    group = Group(id=uuid.uuid4(), lg_code=lg_code, name=name)
    session.add(group)
    await session.flush()
    session.add_all(GroupPermission(lg_code=lg_code, group_id=group.id, permission=p) for p in perms)
    await audit.record(
        session,
        lg_code=lg_code,
        actor=actor,
        action="group_create_success",
        object_type="group",
        object_id=group.id,
        details={"permissions": perms},
    )
    await session.flush()
    return group


async def get_user(session: AsyncSession, lg_code: str, username: str) -> User | None:
    return (
        await session.execute(sa.select(User).where(User.lg_code == lg_code, User.username == username))
    ).scalar_one_or_none()


async def create_user(
    session: AsyncSession,
    keys: KeyRing | None,
    *,
    lg_code: str,
    username: str,
    display_name: str,
    password: str,
    groups: Iterable[str] = (),
    totp: bool = False,
    actor: audit.Actor = audit.SYSTEM,
    email: str | None = None,
    settings: Settings | None = None,
) -> tuple[User, str | None]:
    """Create a user in ``groups``. With ``totp`` returns the otpauth URI to show once.

    With ``email`` (and ``settings`` for the link) the address is stored unconfirmed and its
    confirmation link is mailed (:func:`server.domain.accounts.staff.set_email`).
    """
    if email is not None and settings is None:
        raise ValueError("settings are needed to mail the confirmation link")
    if len(password) < STAFF_MIN_LENGTH:
        raise InvalidInput(
            f"パスワードは{STAFF_MIN_LENGTH}文字以上にしてください。", code="password.too_short"
        )
    if await get_user(session, lg_code, username) is not None:
        raise Conflict(f"ユーザー「{username}」は登録済みです。")
    user = User(
        id=uuid.uuid4(),
        lg_code=lg_code,
        username=username,
        display_name=display_name,
        password_hash=await anyio.to_thread.run_sync(hash_password, password),
    )
    uri = None
    if totp:
        if keys is None:
            raise InvalidInput("TOTPには暗号鍵ファイルが必要です。", code="keys.required")
        secret = pyotp.random_base32()
        user.totp_secret, user.totp_key_id = keys.encrypt(secret, _totp_aad(user.id))
        uri = pyotp.TOTP(secret).provisioning_uri(name=f"{username}@{lg_code}", issuer_name="Madoguchi")
    session.add(user)
    await session.flush()
    for name in groups:
        group = await get_group(session, lg_code, name)
        if group is None:
            raise NotFound(f"グループ「{name}」がありません。", code="group.not_found")
        session.add(UserGroup(lg_code=lg_code, user_id=user.id, group_id=group.id))
    await audit.record(
        session,
        lg_code=lg_code,
        actor=actor,
        action="user_create_success",
        object_type="user",
        object_id=user.id,
        details={"groups": sorted(groups), "totp": totp},
    )
    if email is not None and settings is not None:
        from server.domain.accounts import staff  # staff builds on this module

        await staff.set_email(session, settings, user, email, actor)
    await session.flush()
    return user, uri


async def allow_network(session: AsyncSession, lg_code: str, cidr: str, note: str | None = None) -> None:
    try:
        network = str(ipaddress.ip_network(cidr, strict=False))
    except ValueError:
        raise InvalidInput("ネットワークはCIDR形式 (例: 203.0.113.0/24) で指定してください。") from None
    exists = (
        await session.execute(
            sa.select(NetworkAllowance).where(
                NetworkAllowance.lg_code == lg_code, NetworkAllowance.cidr == network
            )
        )
    ).scalar_one_or_none()
    if exists is None:
        session.add(NetworkAllowance(id=uuid.uuid4(), lg_code=lg_code, cidr=network, note=note))
        await audit.record(
            session,
            lg_code=lg_code,
            actor=audit.SYSTEM,
            action="network_allow_success",
            object_type="network",
            details={"cidr": network},
        )
        await session.flush()


async def user_permissions(session: AsyncSession, user: User) -> tuple[frozenset[str], tuple[str, ...]]:
    rows = (
        await session.execute(
            sa.select(Group.name, GroupPermission.permission)
            .select_from(UserGroup)
            .join(Group, Group.id == UserGroup.group_id)
            .outerjoin(GroupPermission, GroupPermission.group_id == Group.id)
            .where(UserGroup.user_id == user.id, UserGroup.lg_code == user.lg_code)
        )
    ).all()
    groups = tuple(sorted({r[0] for r in rows}))
    perms = frozenset(r[1] for r in rows if r[1] is not None)
    return perms, groups


# ---------------------------------------------------------------- login


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (±1 for clock drift) at which ``code`` is valid, or None."""
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // totp.interval
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _network_allowed(
    client_ip: str | None, lgwan: list[str], allowances: Iterable[str], has_totp: bool
) -> bool:
    """Inside LGWAN: yes. Outside: only from an allowed network and only with the second factor."""
    return in_networks(client_ip, lgwan) or (has_totp and in_networks(client_ip, allowances))


async def _allowances(session: AsyncSession, lg_code: str) -> list[str]:
    query = sa.select(NetworkAllowance.cidr).where(NetworkAllowance.lg_code == lg_code)
    return list((await session.execute(query)).scalars())


NETWORK_DENIED = (
    "このネットワークからはログインできません。LGWAN内の端末か、許可されたネットワークから"
    "二要素認証でログインしてください。"
)


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_at: datetime
    principal: Principal


class _Refused(Exception):
    """Internal: commit the bookkeeping, then raise ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error


async def login(
    db: Database, settings: Settings, keys: KeyRing | None, req: LoginRequest, client_ip: str | None
) -> LoginResult:
    """Check password, lockout, network and TOTP; on success store a new session.

    Failures are counted and audited in a committed transaction before the error is raised.
    """
    try:
        lg_code = normalize_lg_code(req.lg_code)
    except InvalidInput:
        raise AuthenticationFailed() from None
    async with db.unbound() as session:
        if await session.get(Municipality, lg_code) is None:
            await anyio.to_thread.run_sync(verify_password, None, req.password)
            raise AuthenticationFailed()
    async with db.tenant(lg_code) as session:
        outcome = await _login_bound(session, settings, keys, req, lg_code, client_ip)
    if isinstance(outcome, _Refused):  # bookkeeping is committed; now answer with the error
        raise outcome.error
    return outcome


async def _login_bound(
    session: AsyncSession,
    settings: Settings,
    keys: KeyRing | None,
    req: LoginRequest,
    lg_code: str,
    client_ip: str | None,
) -> LoginResult | _Refused:
    now = datetime.now(UTC)
    user = await get_user(session, lg_code, req.username)

    async def refuse(error: Exception, reason: str, *, count: bool = False) -> _Refused:
        if user is not None and count and lockout.record_failure(user, settings, now):
            reason = "locked"
            error = AccountLocked()
        who = audit.Actor(user.id if user else None, req.username, req.terminal_id, client_ip)
        await audit.record(
            session,
            lg_code=lg_code,
            actor=who,
            action="auth_login_failure",
            object_type="user",
            object_id=user.id if user else None,
            details={"reason": reason},
        )
        return _Refused(error)

    if user is None or not user.is_active:
        await anyio.to_thread.run_sync(verify_password, None, req.password)
        return await refuse(AuthenticationFailed(), "unknown_user" if user is None else "inactive")
    if lockout.is_locked(user, now):
        return await refuse(AccountLocked(), "locked")
    if not await anyio.to_thread.run_sync(verify_password, user.password_hash, req.password):
        return await refuse(AuthenticationFailed(), "password", count=True)

    if not in_networks(client_ip, settings.lgwan_networks) and not _network_allowed(
        client_ip, settings.lgwan_networks, await _allowances(session, lg_code), user.has_totp
    ):
        return await refuse(PermissionDenied(NETWORK_DENIED, code="auth.network_denied"), "network")

    if user.has_totp:
        if not req.totp_code:
            return await refuse(
                AuthenticationFailed("二要素認証のコードを入力してください。", code="auth.totp_required"),
                "totp_required",
            )
        if keys is None:
            return await refuse(AuthenticationFailed(), "keys_unavailable")
        assert user.totp_secret is not None and user.totp_key_id is not None
        secret = keys.decrypt(user.totp_secret, user.totp_key_id, _totp_aad(user.id))
        step = _totp_step(secret, req.totp_code.strip(), now)
        if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
            return await refuse(
                AuthenticationFailed("二要素認証のコードが正しくありません。", code="auth.totp_invalid"),
                "totp_invalid",
                count=True,
            )

        user.totp_last_step = step

    lockout.clear(user)
    token = f"{lg_code}.{secrets.token_urlsafe(32)}"
    expires = now + timedelta(minutes=settings.session_ttl_minutes)
    auth = AuthSession(
        id=uuid.uuid4(),
        lg_code=lg_code,
        user_id=user.id,
        token_hash=hash_token(token),
        expires_at=expires,
        terminal_id=req.terminal_id,
        client_ip=client_ip,
    )
    session.add(auth)
    perms, groups = await user_permissions(session, user)
    principal = Principal(
        user_id=user.id,
        lg_code=lg_code,
        username=user.username,
        display_name=user.display_name,
        permissions=perms,
        groups=groups,
        session_id=auth.id,
        terminal_id=req.terminal_id,
        client_ip=client_ip,
    )
    await audit.record(
        session,
        lg_code=lg_code,
        actor=principal.actor,
        action="auth_login_success",
        object_type="user",
        object_id=user.id,
    )
    return LoginResult(token=token, expires_at=expires, principal=principal)


# ---------------------------------------------------------------- token authentication


def tenant_of_token(token: str) -> str:
    """The lg_code prefix of a token (``<lg_code>.<random>``), or AuthenticationRequired."""
    lg_code, sep, rest = token.partition(".")
    if not sep or not rest or len(lg_code) != 6 or not lg_code.isdigit():
        raise AuthenticationRequired()
    return lg_code


#: One statement (every request pays it): the session, its user and the user's groups and
#: permissions, one row per permission. Built once: the statement object keeps its SQLAlchemy
#: cache key, so no request builds it or computes the key again. Columns, not entities: no ORM
#: objects built for each of the rows.
_AUTHENTICATE = (
    sa.select(
        AuthSession.id.label("session_id"),
        AuthSession.revoked_at,
        AuthSession.expires_at,
        AuthSession.terminal_id,
        User.id.label("user_id"),
        User.lg_code,
        User.username,
        User.display_name,
        User.is_active,
        User.totp_secret.is_not(None).label("has_totp"),
        Group.name,
        GroupPermission.permission,
    )
    .join(User, User.id == AuthSession.user_id)
    .outerjoin(UserGroup, sa.and_(UserGroup.user_id == User.id, UserGroup.lg_code == User.lg_code))
    .outerjoin(Group, Group.id == UserGroup.group_id)
    .outerjoin(GroupPermission, GroupPermission.group_id == Group.id)
    .where(AuthSession.token_hash == sa.bindparam("token_hash"), AuthSession.lg_code == sa.bindparam("lg"))
)


async def authenticate(
    session: AsyncSession,
    token: str,
    *,
    terminal_id: str | None,
    client_ip: str | None,
    lgwan_networks: list[str],
) -> Principal:
    """The principal of a valid token, in a session bound to the token's municipality.

    The network rule of login holds for every request: a token taken outside LGWAN works only
    from an allowed network and only for a user with the second factor.
    """
    lg_code = tenant_of_token(token)
    rows = (await session.execute(_AUTHENTICATE, {"token_hash": hash_token(token), "lg": lg_code})).all()
    if not rows:
        raise AuthenticationRequired()
    auth = user = rows[0]
    now = datetime.now(UTC)
    if auth.revoked_at is not None:
        raise AuthenticationRequired(
            "ログアウト済みです。もう一度ログインしてください。", code="auth.revoked"
        )
    if auth.expires_at <= now:
        raise AuthenticationRequired(
            "ログインの有効期限が切れました。もう一度ログインしてください。", code="auth.expired"
        )
    if not user.is_active or user.lg_code != lg_code:
        raise AuthenticationRequired()
    if not in_networks(client_ip, lgwan_networks) and not _network_allowed(
        client_ip, lgwan_networks, await _allowances(session, lg_code), user.has_totp
    ):
        raise PermissionDenied(NETWORK_DENIED, code="auth.network_denied")
    groups = tuple(sorted({r.name for r in rows if r.name is not None}))
    perms = frozenset(r.permission for r in rows if r.permission is not None)
    return Principal(
        user_id=user.user_id,
        lg_code=lg_code,
        username=user.username,
        display_name=user.display_name,
        permissions=perms,
        groups=groups,
        session_id=auth.session_id,
        terminal_id=terminal_id or auth.terminal_id,
        client_ip=client_ip,
    )


async def logout(session: AsyncSession, principal: Principal) -> None:
    auth = await session.get(AuthSession, principal.session_id)
    if auth is not None and auth.revoked_at is None:
        auth.revoked_at = datetime.now(UTC)
    await audit.record(
        session,
        lg_code=principal.lg_code,
        actor=principal.actor,
        action="auth_logout_success",
        object_type="user",
        object_id=principal.user_id,
    )
