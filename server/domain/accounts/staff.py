"""Staff accounts managed in the console (spec 002 (2)①): issue, edit, disable, second factor,
the staff member's e-mail address with its single-use confirmation link, and the notice of a
new application to the staff of the procedure's 課.

Every function takes a session bound to the municipality and writes one audit event per change
(never the address itself: the log says *that* it changed). Mails go through the outbox in the
same transaction, so a mail leaves only if the change committed.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
import pyotp
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import Settings
from server.crypto import KeyRing
from server.db.models import (
    AuthSession,
    Group,
    OrganisationMember,
    OutboxMail,
    Procedure,
    ProcedureRole,
    User,
    UserGroup,
)
from server.domain import audit, notifications
from server.domain.accounts import lockout
from server.domain.accounts.passwords import MAX_LENGTH, STAFF_MIN_LENGTH, hash_password, verify_password
from server.domain.accounts.services import _totp_aad

EMAIL_MAX = 254
USERNAME_MAX = 100
DISPLAY_MAX = 100
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
#: Letters of a generated initial password: no 0/O, 1/l/I that are misread when handed over.
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105
INITIAL_PASSWORD_LENGTH = 14
#: Inputs of the own-password form (the keys of its errors).
CURRENT_KEY, NEW_KEY, AGAIN_KEY = "current_password", "new_password", "new_password2"

VERIFY_SUBJECT = "【窓口】メールアドレスの確認"
NOTICE_SUBJECT = "【窓口】新しい申請が届きました（{reference}）"
_FOOTER = "\n\n※このメールは送信専用です。心当たりのない場合はシステム管理者に連絡してください。\n"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------- input


def clean_email(raw: str) -> tuple[str | None, str | None]:
    """The normalised address (None when left empty) and the error message or None.

    NFKC turns full-width letters and ＠ typed with a Japanese IME into ASCII; spaces are trimmed
    and the domain is lower-cased (the local part is kept: some mail servers tell case apart).
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        return None, None
    if len(text) > EMAIL_MAX:
        return None, f"メールアドレスは{EMAIL_MAX}文字以内で入力してください。"
    if not _EMAIL_RE.match(text):
        return None, "メールアドレスの形式が正しくありません（例: taro.yamada@city.example.lg.jp）。"
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}", None


def clean_display_name(raw: str) -> tuple[str, str | None]:
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        return name, "表示名を入力してください。"
    if len(name) > DISPLAY_MAX:
        return name[:DISPLAY_MAX], f"表示名は{DISPLAY_MAX}文字以内で入力してください。"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") for c in name):
        return name, "表示名に使えない文字が含まれています。"
    return name, None


def clean_username(raw: str) -> tuple[str, str | None]:
    name = unicodedata.normalize("NFKC", raw).strip()
    if not name:
        return name, "ログインIDを入力してください。"
    if len(name) > USERNAME_MAX:
        return name[:USERNAME_MAX], f"ログインIDは{USERNAME_MAX}文字以内で入力してください。"
    if not USERNAME_RE.match(name):
        return name, "ログインIDは半角英数字と . _ - で入力してください（先頭は英数字）。"
    return name, None


def new_password() -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(INITIAL_PASSWORD_LENGTH))


# ---------------------------------------------------------------- account changes


async def groups_of(session: AsyncSession, lg_code: str) -> list[Group]:
    query = sa.select(Group).where(Group.lg_code == lg_code).order_by(Group.name)
    return list((await session.execute(query)).scalars())


async def set_groups(
    session: AsyncSession, user: User, group_ids: Iterable[uuid.UUID]
) -> tuple[list[str], list[str]]:
    """Make ``user`` a member of exactly ``group_ids`` (of his municipality); (added, removed) names."""
    groups = {g.id: g for g in await groups_of(session, user.lg_code)}
    wanted = {gid for gid in group_ids if gid in groups}
    current = set(
        (await session.execute(sa.select(UserGroup.group_id).where(UserGroup.user_id == user.id))).scalars()
    )
    for gid in wanted - current:
        session.add(UserGroup(lg_code=user.lg_code, user_id=user.id, group_id=gid))
    if current - wanted:
        await session.execute(
            sa.delete(UserGroup).where(UserGroup.user_id == user.id, UserGroup.group_id.in_(current - wanted))
        )
    await session.flush()
    return sorted(groups[g].name for g in wanted - current), sorted(
        groups[g].name for g in current - wanted if g in groups
    )


async def set_memberships(
    session: AsyncSession, user: User, roles: Mapping[uuid.UUID, str | None]
) -> list[str]:
    """Set the role in each 課 of ``roles`` (None: not a member); names of what changed."""
    changed = []
    for org_id, role in roles.items():
        member = await session.get(OrganisationMember, (org_id, user.id))
        if role is None and member is not None:
            await session.delete(member)
            changed.append(f"{org_id}:-")
        elif role is not None and member is None:
            session.add(
                OrganisationMember(lg_code=user.lg_code, organisation_id=org_id, user_id=user.id, role=role)
            )
            changed.append(f"{org_id}:{role}")
        elif role is not None and member is not None and member.role != role:
            member.role = role
            changed.append(f"{org_id}:{role}")
    await session.flush()
    return changed


def totp_uri(keys: KeyRing, user: User) -> str:
    """A new TOTP secret for ``user`` (encrypted into the row); the otpauth URI to show once."""
    secret = pyotp.random_base32()
    user.totp_secret, user.totp_key_id = keys.encrypt(secret, _totp_aad(user.id))
    user.totp_last_step = None
    return pyotp.TOTP(secret).provisioning_uri(
        name=f"{user.username}@{user.lg_code}", issuer_name="Madoguchi"
    )


async def reset_password(session: AsyncSession, user: User, actor: audit.Actor) -> str:
    """A new generated password (shown once); the lockout is lifted."""
    password = new_password()
    user.password_hash = await anyio.to_thread.run_sync(hash_password, password)
    user.failed_logins = 0
    user.locked_until = None
    await audit.record(
        session,
        lg_code=user.lg_code,
        actor=actor,
        action="user_password_reset_success",
        object_type="user",
        object_id=user.id,
    )
    return password


def check_new_password(user: User, password: str, again: str) -> dict[str, str]:
    """The staff password rules (length as for ``user create``; not the login id; typed twice)."""
    errors: dict[str, str] = {}
    if not password:
        errors[NEW_KEY] = "新しいパスワードを入力してください。"
    elif len(password) > MAX_LENGTH:
        errors[NEW_KEY] = f"パスワードは{MAX_LENGTH}文字以内で入力してください。"
    elif len(password) < STAFF_MIN_LENGTH:
        errors[NEW_KEY] = f"パスワードは{STAFF_MIN_LENGTH}文字以上にしてください。"
    elif password.strip() != password:
        errors[NEW_KEY] = "パスワードの最初と最後に空白は使えません。"
    elif user.username.casefold() in password.casefold():
        errors[NEW_KEY] = "ログインIDを含むパスワードは使えません。"
    elif password != again:
        errors[AGAIN_KEY] = "確認用のパスワードが一致しません。"
    return errors


async def change_password(
    session: AsyncSession,
    settings: Settings,
    user: User,
    *,
    current: str,
    new: str,
    again: str,
    actor: audit.Actor,
    keep_session: uuid.UUID,
) -> dict[str, str]:
    """The staff member's own password change; errors keyed by input (empty: changed).

    The current password is required and a wrong one counts toward the lockout like a wrong
    login. On success every other session of the account ends (the one in use stays); the TOTP
    secret is left as it is. One audit event either way.
    """
    now = datetime.now(UTC)
    errors: dict[str, str] = {}
    reason = None
    if lockout.is_locked(user, now):
        errors[CURRENT_KEY] = (
            "パスワードを続けて間違えたため、しばらく変更できません。時間をおいてからやり直してください。"
        )
        reason = "locked"
    elif not current or len(current) > MAX_LENGTH:
        errors[CURRENT_KEY] = "今のパスワードを入力してください。"
        reason = "current_missing"
    elif not await anyio.to_thread.run_sync(verify_password, user.password_hash, current):
        locked = lockout.record_failure(user, settings, now)
        errors[CURRENT_KEY] = (
            "今のパスワードが正しくありません。続けて間違えたため、しばらく変更できません。"
            if locked
            else "今のパスワードが正しくありません。"
        )
        reason = "locked" if locked else "current_password"
    else:
        errors = check_new_password(user, new, again)
        if not errors and await anyio.to_thread.run_sync(verify_password, user.password_hash, new):
            errors[NEW_KEY] = "今と同じパスワードです。別のパスワードにしてください。"
        reason = "rules" if errors else None
    if errors:
        await audit.record(
            session,
            lg_code=user.lg_code,
            actor=actor,
            action="user_password_change_failure",
            object_type="user",
            object_id=user.id,
            details={"reason": reason},
        )
        return errors
    user.password_hash = await anyio.to_thread.run_sync(hash_password, new)
    lockout.clear(user)
    ended = await session.execute(
        sa.update(AuthSession)
        .where(
            AuthSession.user_id == user.id,
            AuthSession.id != keep_session,
            AuthSession.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    await audit.record(
        session,
        lg_code=user.lg_code,
        actor=actor,
        action="user_password_change_success",
        object_type="user",
        object_id=user.id,
        details={"sessions_ended": int(getattr(ended, "rowcount", 0) or 0)},
    )
    return {}


# ---------------------------------------------------------------- e-mail address


def _console(settings: Settings) -> str:
    return f"{settings.public_base_url}/console"


async def set_email(
    session: AsyncSession,
    settings: Settings,
    user: User,
    email: str | None,
    actor: audit.Actor,
    *,
    resend: bool = False,
) -> bool:
    """Store ``email`` (already cleaned) unconfirmed and mail its confirmation link.

    The same address again changes nothing and sends nothing (a link already mailed stays
    valid), except with ``resend`` for a still unconfirmed address: a fresh link replaces the
    old one. Returns whether a link was mailed.
    """
    if email == user.email and not (resend and email is not None and user.email_verified_at is None):
        return False
    user.email = email
    user.email_verified_at = None
    user.email_token_hash = user.email_token_expires_at = None
    sent = False
    if email is not None:
        token = secrets.token_urlsafe(32)
        hours = settings.staff_email_verify_hours
        user.email_token_hash = sha256(token)
        user.email_token_expires_at = datetime.now(UTC) + timedelta(hours=hours)
        link = f"{_console(settings)}/verify-email?lg={user.lg_code}&token={token}"
        await notifications.enqueue(
            session,
            lg_code=user.lg_code,
            to=email,
            subject=VERIFY_SUBJECT,
            body=(
                f"{user.display_name} 様\n\n職員用アカウント（ログインID: {user.username}）に"
                "このメールアドレスが登録されました。\n次のリンクを開くと確認が済み、"
                f"申請の通知などが届くようになります（有効期限 {hours}時間・1回限り）。\n{link}" + _FOOTER
            ),
            event="staff_email_verify",
        )
        sent = True
    await audit.record(
        session,
        lg_code=user.lg_code,
        actor=actor,
        action="user_email_set_success",
        object_type="user",
        object_id=user.id,
        details={"email": "set" if email else "cleared"},
    )
    return sent


async def verify_email(session: AsyncSession, lg_code: str, token: str, ip: str | None) -> User | None:
    """Open the confirmation link: the address counts as confirmed. Works once, until it expires."""
    now = datetime.now(UTC)
    user = None
    if token and len(token) <= 100:
        user = (
            await session.execute(
                sa.select(User).where(User.lg_code == lg_code, User.email_token_hash == sha256(token))
            )
        ).scalar_one_or_none()
    expired = user is not None and (user.email_token_expires_at is None or user.email_token_expires_at <= now)
    if user is None or expired:
        await audit.record(
            session,
            lg_code=lg_code,
            actor=audit.Actor(user.id if user else None, user.username if user else "anonymous", None, ip),
            action="user_email_verify_failure",
            object_type="user",
            object_id=user.id if user else None,
            details={"reason": "expired" if expired else "unknown_token"},
        )
        return None
    user.email_verified_at = now
    user.email_token_hash = user.email_token_expires_at = None
    await audit.record(
        session,
        lg_code=lg_code,
        actor=audit.Actor(user.id, user.username, None, ip),
        action="user_email_verify_success",
        object_type="user",
        object_id=user.id,
    )
    return user


# ---------------------------------------------------------------- the notice of a new application


async def notice_recipients(session: AsyncSession, row: Procedure) -> list[User]:
    """Active members of the procedure's 課 with a confirmed address who asked for the notice,
    except those for whom the procedure is set to 権限なし."""
    if row.organisation_id is None:
        return []
    hidden = sa.select(ProcedureRole.user_id).where(
        ProcedureRole.procedure_id == row.id, ProcedureRole.role == "none"
    )
    query = (
        sa.select(User)
        .join(OrganisationMember, OrganisationMember.user_id == User.id)
        .where(
            OrganisationMember.organisation_id == row.organisation_id,
            User.lg_code == row.lg_code,
            User.is_active.is_(True),
            User.notify_submissions.is_(True),
            User.email.is_not(None),
            User.email_verified_at.is_not(None),
            User.id.not_in(hidden),
        )
        .order_by(User.username)
    )
    return list((await session.execute(query)).scalars())


async def notify_submission(session: AsyncSession, settings: Settings, app: Any, row: Procedure) -> int:
    """Queue the short notice of a submitted application to the 課's staff; how many were queued."""
    mails = submission_notices(settings, app, row, await notice_recipients(session, row))
    for mail in mails:
        session.add(mail)
    if mails:
        await session.flush()
    return len(mails)


def submission_notices(settings: Settings, app: Any, row: Procedure, users: list[User]) -> list[OutboxMail]:
    """The notices to ``users`` (from :func:`notice_recipients`), not yet added to a session.

    The mail names only the procedure and the 申請番号, and links to the console: nothing the
    applicant typed leaves the console by mail.
    """
    link = f"{_console(settings)}/applications/{app.id}"
    out = []
    for user in users:
        assert user.email is not None
        out.append(
            notifications.mail_row(
                lg_code=row.lg_code,
                to=user.email,
                subject=NOTICE_SUBJECT.format(reference=app.reference),
                body=(
                    f"新しい申請が届きました。\n\n手続き: {row.title}\n申請番号: {app.reference}\n"
                    f"内容は職員管理画面で確認してください（ログインが必要です）。\n{link}\n\n"
                    "この通知は「マイアカウント」で止められます。" + _FOOTER
                ),
                event="staff_submission_notice",
                application_id=app.id,
            )
        )
    return out
