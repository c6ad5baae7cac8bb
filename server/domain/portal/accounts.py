"""Resident accounts of the portal (利用者登録): register, verify, login, reset, my applications.

Passwords are argon2id (``server.domain.accounts.passwords``); lockout follows the staff rule
(``lockout_threshold`` wrong passwords in a row lock for ``lockout_minutes``). Mailed links carry a
random token of which only the SHA-256 is stored, with an expiry; a used token is cleared, so it
works once. The password-reset request and the registration answer the same whether the address
is known or not (no account enumeration): a known address gets a mail saying so instead.

A login is a cookie ``<account id>.<epoch>.<expiry>.<HMAC>`` keyed with the key ring's HMAC key;
logout and a password reset raise the account's ``session_epoch``, which ends every login of the
account on every device. Every function takes a session bound to the municipality.
"""

from __future__ import annotations

import hmac
import re
import secrets
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import Settings
from server.crypto import KeyRing
from server.db.models import Application, Procedure, ResidentAccount, ResidentAccountApplication
from server.domain import audit, notifications
from server.domain.accounts import lockout
from server.domain.accounts.passwords import hash_password, verify_password
from server.domain.eforms import fields as F
from server.domain.eforms.services import JST, ApplicationStatus, sha256
from shared.errors import PermissionDenied
from shared.schemas.eform import APPLICANT_FIELD, ApplicantType, EformFieldType, EformProcedure

EMAIL_MAX = 254
NAME_MAX = 100
PASSWORD_MAX = 128

APPLICANT_LABELS: dict[str, str] = {
    ApplicantType.individual: "個人",
    ApplicantType.corporation: "法人",
    ApplicantType.group: "団体",
}
NAME_LABELS: dict[str, str] = {
    ApplicantType.individual: "氏名",
    ApplicantType.corporation: "法人名",
    ApplicantType.group: "団体名",
}

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FOOTER = "\n\n※このメールは送信専用です。心当たりのない場合は、このメールを破棄してください。\n"


class FormErrors(Exception):
    """Field errors of a posted account form (field name → Japanese message)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("form errors")
        self.errors = errors


def _actor(account: ResidentAccount | None, ip: str | None, email: str = "") -> audit.Actor:
    name = f"resident-account:{str(account.id)[:8]}" if account else f"resident-account:?{email[:3]}"
    return audit.Actor(username=name, client_ip=ip)


def _portal(settings: Settings, lg_code: str) -> str:
    return f"{settings.public_base_url}/portal/{lg_code}"


def clean_email(value: str) -> str:
    return value.strip().lower()


async def by_email(session: AsyncSession, lg_code: str, email: str) -> ResidentAccount | None:
    return (
        await session.execute(
            sa.select(ResidentAccount).where(
                ResidentAccount.lg_code == lg_code, ResidentAccount.email == clean_email(email)
            )
        )
    ).scalar_one_or_none()


def check_email(value: str, errors: dict[str, str], key: str = "email") -> str:
    address = clean_email(value)
    if not address:
        errors[key] = "メールアドレスを入力してください。"
    elif len(address) > EMAIL_MAX:
        errors[key] = f"メールアドレスは{EMAIL_MAX}文字以内で入力してください。"
    elif not F._EMAIL.match(address):
        errors[key] = "メールアドレスの形式が正しくありません。"
    return address


def check_password(settings: Settings, password: str, again: str, errors: dict[str, str]) -> None:
    minimum = settings.portal_password_min_length
    if len(password) > PASSWORD_MAX:
        errors["password"] = f"パスワードは{PASSWORD_MAX}文字以内で入力してください。"
    elif len(password) < minimum:
        errors["password"] = f"パスワードは{minimum}文字以上にしてください。"
    elif password != again:
        errors["password2"] = "確認用のパスワードが一致しません。"


@dataclass
class Registration:
    """What the registration form posted (already cut to a sane length by the controller)."""

    email: str
    password: str
    password2: str
    applicant_type: str
    name: str
    corporate_number: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def clean_corporate_number(value: str) -> str:
    """A 法人番号 as typed (全角, hyphens, spaces) → its digits."""
    return unicodedata.normalize("NFKC", value).replace("-", "").replace(" ", "")


def check_profile(
    applicant_type: str, name_typed: str, corporate_number: str, errors: dict[str, str]
) -> tuple[str, str | None]:
    """申請者の種別, 氏名 / 名称 and (法人 only) 法人番号: the name and number to store."""
    if applicant_type not in APPLICANT_LABELS:
        errors["applicant_type"] = "申請者の種別を選んでください。"
    label = NAME_LABELS.get(applicant_type, "氏名または名称")
    name = unicodedata.normalize("NFC", name_typed.strip())
    if not name:
        errors["name"] = f"{label}を入力してください。"
    elif len(name) > NAME_MAX:
        errors["name"] = f"{label}は{NAME_MAX}文字以内で入力してください。"
    elif _CONTROL.search(name):
        errors["name"] = f"{label}に使えない文字が含まれています。"
    number: str | None = None
    if applicant_type == ApplicantType.corporation:
        digits = clean_corporate_number(corporate_number)
        if not digits:
            errors["corporate_number"] = "法人番号を入力してください。"
        elif not F.corporate_number_ok(digits):
            errors["corporate_number"] = "法人番号（13桁）が正しくありません。"
        else:
            number = digits
    return name, number


def _check(settings: Settings, reg: Registration) -> tuple[str, str, str | None]:
    errors = reg.errors
    address = check_email(reg.email, errors)
    check_password(settings, reg.password, reg.password2, errors)
    name, number = check_profile(reg.applicant_type, reg.name, reg.corporate_number, errors)
    if errors:
        raise FormErrors(errors)
    return address, name, number


async def update_profile(
    session: AsyncSession,
    account: ResidentAccount,
    applicant_type: str,
    name: str,
    corporate_number: str,
    ip: str | None,
) -> list[str]:
    """登録内容の変更: 申請者の種別, 氏名 / 名称, 法人番号 (kept only for a 法人). Returns what
    changed (audited as ``resident_account_update_success``; the type's old and new value, never
    the name). Applications already started keep what was chosen in them."""
    errors: dict[str, str] = {}
    clean_name, number = check_profile(applicant_type, name, corporate_number, errors)
    if errors:
        raise FormErrors(errors)
    before = {
        "applicant_type": account.applicant_type,
        "name": account.name,
        "corporate_number": account.corporate_number,
    }
    after = {"applicant_type": applicant_type, "name": clean_name, "corporate_number": number}
    changed = [k for k in before if before[k] != after[k]]
    if not changed:
        return []
    account.applicant_type, account.name, account.corporate_number = applicant_type, clean_name, number
    details: dict[str, Any] = {"changed": changed}
    if "applicant_type" in changed:
        details["applicant_type"] = {"from": before["applicant_type"], "to": applicant_type}
    await audit.record(
        session,
        lg_code=account.lg_code,
        actor=_actor(account, ip),
        action="resident_account_update_success",
        object_type="resident_account",
        object_id=account.id,
        details=details,
    )
    return changed


def _token() -> str:
    return secrets.token_urlsafe(32)


async def register(
    session: AsyncSession, settings: Settings, lg_code: str, reg: Registration, ip: str | None
) -> None:
    """Create an unverified account and mail its verification link.

    An address that already has an account gets a mail saying so (and how to reset the
    password); the page the visitor sees is the same either way.
    """
    address, name, number = _check(settings, reg)
    existing = await by_email(session, lg_code, address)
    if existing is not None:
        await notifications.enqueue(
            session,
            lg_code=lg_code,
            to=address,
            subject="【オンライン申請】利用者登録のお申し込みについて",
            body=(
                "このメールアドレスは既に利用者登録されています。\n"
                f"ログイン: {_portal(settings, lg_code)}/account/login\n"
                f"パスワードを忘れた場合: {_portal(settings, lg_code)}/account/reset" + _FOOTER
            ),
            event="account_exists",
        )
        await audit.record(
            session,
            lg_code=lg_code,
            actor=_actor(existing, ip),
            action="resident_account_register_failure",
            object_type="resident_account",
            object_id=existing.id,
            details={"reason": "exists"},
        )
        return
    token = _token()
    now = datetime.now(UTC)
    account = ResidentAccount(
        id=uuid.uuid4(),
        lg_code=lg_code,
        email=address,
        password_hash=await anyio.to_thread.run_sync(hash_password, reg.password),
        applicant_type=reg.applicant_type,
        name=name,
        corporate_number=number,
        verify_hash=sha256(token),
        verify_expires_at=now + timedelta(hours=settings.portal_verify_hours),
        failed_logins=0,
        session_epoch=0,
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    await session.flush()
    await notifications.enqueue(
        session,
        lg_code=lg_code,
        to=address,
        subject="【オンライン申請】メールアドレスの確認",
        body=(
            f"{name} 様\n\n利用者登録を受け付けました。次のリンクを開くと登録が完了します"
            f"（有効期限 {settings.portal_verify_hours}時間）。\n"
            f"{_portal(settings, lg_code)}/account/verify?token={token}" + _FOOTER
        ),
        event="account_verify",
    )
    await audit.record(
        session,
        lg_code=lg_code,
        actor=_actor(account, ip),
        action="resident_account_register_success",
        object_type="resident_account",
        object_id=account.id,
        details={"applicant_type": reg.applicant_type},
    )


async def _by_token(session: AsyncSession, lg_code: str, column: Any, token: str) -> ResidentAccount | None:
    if not token or len(token) > 100:
        return None
    return (
        await session.execute(
            sa.select(ResidentAccount).where(ResidentAccount.lg_code == lg_code, column == sha256(token))
        )
    ).scalar_one_or_none()


async def verify_email(session: AsyncSession, lg_code: str, token: str, ip: str | None) -> bool:
    """Open the verification link: the account can log in from now on. Works once."""
    account = await _by_token(session, lg_code, ResidentAccount.verify_hash, token)
    now = datetime.now(UTC)
    if account is None or account.verify_expires_at is None or account.verify_expires_at <= now:
        return False
    account.email_verified_at = now
    account.verify_hash = account.verify_expires_at = None
    await audit.record(
        session,
        lg_code=lg_code,
        actor=_actor(account, ip),
        action="resident_account_verify_success",
        object_type="resident_account",
        object_id=account.id,
    )
    return True


# ---------------------------------------------------------------- login


LOGIN_FAILED = "メールアドレスまたはパスワードが正しくありません。"
LOCKED = (
    "ログインの失敗が続いたため、しばらくログインできません。"
    "時間をおいてお試しいただくか、パスワードを再設定してください。"
)
UNVERIFIED = "メールアドレスの確認が済んでいません。登録時にお送りしたメールのリンクを開いてください。"


async def login(
    session: AsyncSession, settings: Settings, lg_code: str, email: str, password: str, ip: str | None
) -> ResidentAccount | str:
    """The account, or the Japanese reason for refusing. The caller commits either way."""
    now = datetime.now(UTC)
    account = await by_email(session, lg_code, email[:EMAIL_MAX])
    password = password[:PASSWORD_MAX]

    async def refuse(reason: str, message: str) -> str:
        await audit.record(
            session,
            lg_code=lg_code,
            actor=_actor(account, ip, clean_email(email)),
            action="resident_account_login_failure",
            object_type="resident_account",
            object_id=account.id if account else None,
            details={"reason": reason},
        )
        return message

    if account is None:
        await anyio.to_thread.run_sync(verify_password, None, password)
        return await refuse("unknown", LOGIN_FAILED)
    if lockout.is_locked(account, now):
        return await refuse("locked", LOCKED)
    if not await anyio.to_thread.run_sync(verify_password, account.password_hash, password):
        if lockout.record_failure(account, settings, now):
            return await refuse("locked", LOCKED)
        return await refuse("password", LOGIN_FAILED)
    if account.email_verified_at is None:
        return await refuse("unverified", UNVERIFIED)
    lockout.clear(account)
    await audit.record(
        session,
        lg_code=lg_code,
        actor=_actor(account, ip),
        action="resident_account_login_success",
        object_type="resident_account",
        object_id=account.id,
    )
    return account


def session_cookie_value(keys: KeyRing, settings: Settings, account: ResidentAccount) -> str:
    expires = int((datetime.now(UTC) + timedelta(minutes=settings.portal_session_minutes)).timestamp())
    body = f"{account.id}.{account.session_epoch}.{expires}"
    mac = keys.search_hash(f"{account.lg_code}:{body}", purpose="portal_session")
    return f"{body}.{mac}"


async def current_account(
    session: AsyncSession, keys: KeyRing, lg_code: str, value: str | None
) -> ResidentAccount | None:
    """The logged-in account of a login cookie, or None (forged, expired, logged out)."""
    if not value or len(value) > 200:
        return None
    parts = value.split(".")
    if len(parts) != 4:
        return None
    account_id, epoch, expires, mac = parts
    expected = keys.search_hash(f"{lg_code}:{account_id}.{epoch}.{expires}", purpose="portal_session")
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        if int(expires) <= datetime.now(UTC).timestamp():
            return None
        account = await session.get(ResidentAccount, uuid.UUID(account_id))
    except ValueError:
        return None
    if account is None or account.lg_code != lg_code or str(account.session_epoch) != epoch:
        return None
    return account if account.email_verified_at is not None else None


async def logout(session: AsyncSession, account: ResidentAccount, ip: str | None) -> None:
    """End every login of the account."""
    account.session_epoch += 1
    await audit.record(
        session,
        lg_code=account.lg_code,
        actor=_actor(account, ip),
        action="resident_account_logout_success",
        object_type="resident_account",
        object_id=account.id,
    )


# ---------------------------------------------------------------- password reset


async def request_reset(
    session: AsyncSession, settings: Settings, lg_code: str, email: str, ip: str | None
) -> None:
    """Mail a single-use reset link if the address has an account; silent otherwise."""
    errors: dict[str, str] = {}
    address = check_email(email, errors)
    if errors:
        raise FormErrors(errors)
    account = await by_email(session, lg_code, address)
    if account is None:
        await audit.record(
            session,
            lg_code=lg_code,
            actor=_actor(None, ip, address),
            action="resident_account_reset_failure",
            object_type="resident_account",
            details={"reason": "unknown"},
        )
        return
    token = _token()
    account.reset_hash = sha256(token)
    account.reset_expires_at = datetime.now(UTC) + timedelta(minutes=settings.portal_reset_minutes)
    await notifications.enqueue(
        session,
        lg_code=lg_code,
        to=account.email,
        subject="【オンライン申請】パスワードの再設定",
        body=(
            "パスワード再設定のお申し込みを受け付けました。次のリンクから新しいパスワードを設定して"
            f"ください（有効期限 {settings.portal_reset_minutes}分、1回限り有効）。\n"
            f"{_portal(settings, lg_code)}/account/reset/confirm?token={token}" + _FOOTER
        ),
        event="account_reset",
    )
    await audit.record(
        session,
        lg_code=lg_code,
        actor=_actor(account, ip),
        action="resident_account_reset_success",
        object_type="resident_account",
        object_id=account.id,
        details={"step": "mailed"},
    )


async def reset_target(session: AsyncSession, lg_code: str, token: str) -> ResidentAccount | None:
    """The account a reset token opens, if it is unused and not expired."""
    account = await _by_token(session, lg_code, ResidentAccount.reset_hash, token)
    if account is None or account.reset_expires_at is None:
        return None
    return account if account.reset_expires_at > datetime.now(UTC) else None


async def reset_password(
    session: AsyncSession,
    settings: Settings,
    lg_code: str,
    token: str,
    password: str,
    again: str,
    ip: str | None,
) -> bool:
    """Set a new password with a reset token: the token is spent, the lock lifted, logins ended.

    False when the token is unknown, used or expired; FormErrors for a bad password.
    """
    account = await reset_target(session, lg_code, token)
    if account is None:
        return False
    errors: dict[str, str] = {}
    check_password(settings, password, again, errors)
    if errors:
        raise FormErrors(errors)
    account.password_hash = await anyio.to_thread.run_sync(hash_password, password)
    account.reset_hash = account.reset_expires_at = None
    lockout.clear(account)
    account.session_epoch += 1
    if account.email_verified_at is None:  # the reset link proves the mailbox as well
        account.email_verified_at = datetime.now(UTC)
        account.verify_hash = account.verify_expires_at = None
    await audit.record(
        session,
        lg_code=lg_code,
        actor=_actor(account, ip),
        action="resident_account_reset_success",
        object_type="resident_account",
        object_id=account.id,
        details={"step": "password_set"},
    )
    return True


# ---------------------------------------------------------------- applications


async def start_application(
    session: AsyncSession,
    account: ResidentAccount,
    row: Procedure,
    definition: EformProcedure,
    ip: str | None,
) -> tuple[Application, str]:
    """A draft linked to the account; its address is already verified, so no code is mailed."""
    if account.applicant_type not in [t.value for t in definition.applicant_types]:
        allowed = "・".join(APPLICANT_LABELS[t] for t in definition.applicant_types)
        own = APPLICANT_LABELS.get(account.applicant_type, "")
        raise PermissionDenied(
            f"この手続きは{allowed}の方が申請できます。利用者登録の申請者の種別（{own}）は、"
            "マイページの「登録内容の変更」で変えられます。",
            code="eform.applicant_type",
        )
    secret = _token()
    now = datetime.now(UTC)
    app = Application(
        id=uuid.uuid4(),
        lg_code=row.lg_code,
        procedure_id=row.id,
        status=ApplicationStatus.draft,
        email=account.email,
        email_verified_at=now,
        code_hash=None,
        code_attempts=0,
        access_hash=sha256(secret),
        values=preselected(definition, account),
        sealed={},
        history=[],
        created_at=now,
    )
    session.add(app)
    await session.flush()
    session.add(
        ResidentAccountApplication(
            application_id=app.id, lg_code=row.lg_code, account_id=account.id, created_at=now
        )
    )
    await session.flush()
    await audit.record(
        session,
        lg_code=row.lg_code,
        actor=_actor(account, ip),
        action="application_start_success",
        object_type="application",
        object_id=app.id,
        details={"procedure": row.slug, "account": str(account.id)},
    )
    return app, secret


def _type_choices(definition: EformProcedure) -> list[str]:
    """The options of the procedure's ``applicant_type`` field (a required select or radio)."""
    f = definition.field(APPLICANT_FIELD)
    if f is None or f.type not in (EformFieldType.radio, EformFieldType.select):
        return []
    return [o.value for o in f.options]


def preselected(definition: EformProcedure, account: ResidentAccount) -> dict[str, Any]:
    """The raw values a new draft of the account starts with: its 申請者の種別 in the procedure's
    ``applicant_type`` field, when that field offers it (the resident may still choose another)."""
    if account.applicant_type in _type_choices(definition):
        return {APPLICANT_FIELD: account.applicant_type}
    return {}


async def applicant_note(
    session: AsyncSession, app: Application, definition: EformProcedure, raw: dict[str, Any]
) -> str | None:
    """The note beside the ``applicant_type`` field of an account's application: that the choice
    came from the account (or that the account says otherwise). None for guests and for forms
    without the field — no query is made for those."""
    choices = _type_choices(definition)
    if len(choices) < 2:
        return None
    kind = (
        await session.execute(
            sa.select(ResidentAccount.applicant_type)
            .join(ResidentAccountApplication, ResidentAccountApplication.account_id == ResidentAccount.id)
            .where(
                ResidentAccountApplication.application_id == app.id,
                ResidentAccountApplication.lg_code == app.lg_code,
            )
        )
    ).scalar_one_or_none()
    if kind not in choices:
        return None
    label = APPLICANT_LABELS[kind]
    if raw.get(APPLICANT_FIELD) == kind:
        return (
            f"利用者登録の内容（{label}）から選んであります。"
            "この申請だけ別の種別で申請する場合は選び直してください。"
        )
    return f"利用者登録の申請者の種別は「{label}」です。この申請は、ここで選んだ種別で受け付けます。"


async def owns(session: AsyncSession, account: ResidentAccount, app_id: uuid.UUID) -> bool:
    link = await session.get(ResidentAccountApplication, app_id)
    return link is not None and link.account_id == account.id and link.lg_code == account.lg_code


@dataclass(frozen=True)
class MyApplication:
    id: uuid.UUID
    title: str
    reference: str | None
    status: str
    created_at: datetime
    submitted_at: datetime | None


async def applications_of(session: AsyncSession, account: ResidentAccount) -> list[MyApplication]:
    """The account's applications, newest first."""
    rows = await session.execute(
        sa.select(Application, Procedure.title)
        .join(ResidentAccountApplication, ResidentAccountApplication.application_id == Application.id)
        .join(Procedure, Procedure.id == Application.procedure_id)
        .where(
            ResidentAccountApplication.account_id == account.id,
            ResidentAccountApplication.lg_code == account.lg_code,
        )
        .order_by(Application.created_at.desc())
    )
    return [
        MyApplication(
            app.id,
            title,
            app.reference,
            app.status,
            app.created_at.astimezone(JST),
            app.submitted_at.astimezone(JST) if app.submitted_at else None,
        )
        for app, title in rows
    ]
