"""Online applications: procedures, the resident's draft → submission, and staff status changes.

Every function takes a session bound to the municipality (``Database.tenant``). A resident
reaches an application only with its access secret (cookie or resume link; only its SHA-256 is
stored). 個人番号 values are encrypted at once (AES-GCM, AAD = municipality, application, field
path) and a keyed hash is kept for equality search. Each change writes one audit event and, where
the resident is told, one mail into the outbox in the same transaction.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import secrets
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from server.config import Settings
from server.crypto import KeyRing
from server.db.counters import NEXT_SQL, next_daily_number
from server.db.engine import pipelined
from server.db.models import Application, ApplicationFile, OutboxMail, Procedure
from server.domain import audit, notifications
from server.domain.accounts import staff
from server.domain.eforms import fields as F
from server.domain.eforms import files, mails
from server.domain.eforms.uploads import check_file
from server.domain.jpki import services as jpki
from shared.errors import Conflict, InvalidInput, MadoguchiError, NotFound, PermissionDenied
from shared.schemas.eform import EformFieldType, EformProcedure, MailEvent, MailText, PaymentMode
from shared.yamlfile import load_yaml

JST = ZoneInfo("Asia/Tokyo")
CODE_ATTEMPTS = 5


class ApplicationStatus(StrEnum):
    unverified = "unverified"  # メール認証待ち
    draft = "draft"  # 一時保存
    payment = "payment"  # 決済待ち (事前決済)
    submitted = "submitted"  # 申請済み
    reviewed = "reviewed"  # 審査完了
    rejected = "rejected"  # 不受理
    completed = "completed"  # 対応完了
    withdrawn = "withdrawn"  # 取下げ
    returned = "returned"  # 差戻し中 (returns.py: the resident corrects the flagged items)


STATUS_LABELS: dict[str, str] = {
    "unverified": "メール認証待ち",
    "draft": "一時保存",
    "payment": "決済待ち",
    "submitted": "申請済み",
    "reviewed": "審査完了",
    "rejected": "不受理",
    "completed": "対応完了",
    "withdrawn": "取下げ",
    "returned": "差戻し中",
}

#: Status changes staff may make, and the mail each sends.
STAFF_TRANSITIONS: dict[str, dict[str, MailEvent]] = {
    "submitted": {"reviewed": MailEvent.reviewed, "rejected": MailEvent.rejected},
    "reviewed": {"completed": MailEvent.completed, "rejected": MailEvent.rejected},
    "returned": {"rejected": MailEvent.rejected},  # never corrected: staff may still refuse it
}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def resident_actor(app: Application, ip: str | None = None) -> audit.Actor:
    return audit.Actor(username=f"resident:{str(app.id)[:8]}", client_ip=ip)


# ---------------------------------------------------------------- procedures


#: Parsed definitions per procedure (``None``: the live one) or archived version, with the JSON they
#: came from. A request compares the JSON it loaded with the cached copy (cheap) instead of
#: validating it again; any change (a publish, with or without a new version, an import) differs
#: and is parsed afresh. The parsed definition is shared: callers only read it.
_PARSED: OrderedDict[tuple[uuid.UUID, int | None], tuple[dict[str, Any], EformProcedure]] = OrderedDict()
PARSED_MAX = 256


def parse_definition(procedure_id: uuid.UUID, version: int | None, data: dict[str, Any]) -> EformProcedure:
    """``data`` validated as an :class:`EformProcedure`, from the cache when it is unchanged."""
    key = (procedure_id, version)
    hit = _PARSED.get(key)
    if hit is not None and hit[0] == data:
        _PARSED.move_to_end(key)
        return hit[1]
    parsed = EformProcedure.model_validate(data)
    _PARSED[key] = (copy.deepcopy(data), parsed)
    _PARSED.move_to_end(key)
    while len(_PARSED) > PARSED_MAX:
        _PARSED.popitem(last=False)
    return parsed


def definition_of(row: Procedure) -> EformProcedure:
    """The live definition of ``row`` (shared and cached: read it, never change it)."""
    return parse_definition(row.id, None, row.definition)


def starter_folder() -> Path:
    """``form_templates/eforms`` next to the ``server`` package (repository and wheel alike)."""
    return Path(__file__).resolve().parents[3] / "form_templates" / "eforms"


async def import_procedures(
    session: AsyncSession,
    lg_code: str,
    *,
    folder: Path | None = None,
    publish: bool = True,
    include_examples: bool = False,
    actor: audit.Actor = audit.SYSTEM,
    only_new: bool = False,
) -> list[Procedure]:
    """Create or update the municipality's procedures from ``form_templates/eforms`` (by slug).

    ``only_new`` leaves existing procedures alone (the console: never overwrite builder edits)."""
    rows: list[Procedure] = []
    for path in sorted((folder or starter_folder()).glob("*.yaml")):
        definition = EformProcedure.model_validate(load_yaml(path.read_text(encoding="utf-8")))
        if definition.example and not include_examples:
            continue
        row = (
            await session.execute(
                sa.select(Procedure).where(Procedure.lg_code == lg_code, Procedure.slug == definition.slug)
            )
        ).scalar_one_or_none()
        if row is not None and only_new:
            continue
        data = definition.model_dump(mode="json", exclude_none=True)
        if row is None:
            row = Procedure(
                id=uuid.uuid4(),
                lg_code=lg_code,
                slug=definition.slug,
                title=definition.title,
                category=definition.category,
                definition=data,
                published=publish,
            )
            session.add(row)
        else:
            row.title, row.category, row.definition = definition.title, definition.category, data
        rows.append(row)
    await session.flush()
    await audit.record(
        session,
        lg_code=lg_code,
        actor=actor,
        action="procedure_import_success",
        object_type="procedure",
        details={"slugs": [r.slug for r in rows]},
    )
    return rows


def _open(row: Procedure, now: datetime) -> bool:
    return (
        row.published
        and (row.publish_from is None or row.publish_from <= now)
        and (row.publish_until is None or now < row.publish_until)
    )


async def published_procedures(session: AsyncSession, lg_code: str, q: str | None = None) -> list[Procedure]:
    """Procedures open now, by category and title; ``q`` searches title, description, keywords."""
    rows = (
        (
            await session.execute(
                sa.select(Procedure)
                .where(Procedure.lg_code == lg_code, Procedure.published.is_(True))
                .order_by(Procedure.category, Procedure.title)
            )
        )
        .scalars()
        .all()
    )
    now = datetime.now(UTC)
    found = [r for r in rows if _open(r, now)]
    if q and q.strip():
        words = q.split()

        def text(r: Procedure) -> str:
            d = r.definition
            return " ".join([r.title, r.category, d.get("description", ""), *d.get("keywords", [])])

        found = [r for r in found if all(w in text(r) for w in words)]
    return found


async def procedure_by_slug(session: AsyncSession, lg_code: str, slug: str) -> Procedure:
    row = (
        await session.execute(
            sa.select(Procedure).where(Procedure.lg_code == lg_code, Procedure.slug == slug)
        )
    ).scalar_one_or_none()
    if row is None or not _open(row, datetime.now(UTC)):
        raise NotFound("この手続きは見つからないか、受付期間外です。", code="eform.procedure_not_found")
    return row


# ---------------------------------------------------------------- the resident's application


def _link(settings: Settings, lg_code: str, app_id: uuid.UUID, secret: str | None = None) -> str:
    url = f"{settings.public_base_url}/portal/{lg_code}/applications/{app_id}"
    return f"{url}/resume?key={secret}" if secret else url


async def start_guest(
    session: AsyncSession, settings: Settings, row: Procedure, email: str, ip: str | None
) -> tuple[Application, str]:
    """A new application waiting for the emailed code; returns it and its access secret."""
    address = email.strip()
    if len(address) > 254 or not F._EMAIL.match(address):
        raise InvalidInput("メールアドレスの形式が正しくありません。", field="email")
    secret = secrets.token_urlsafe(32)
    code = f"{secrets.randbelow(1_000_000):06d}"
    app = Application(
        id=uuid.uuid4(),
        lg_code=row.lg_code,
        procedure_id=row.id,
        status=ApplicationStatus.unverified,
        email=address,
        code_hash=sha256(f"{code}:{secret}"),
        code_attempts=0,
        access_hash=sha256(secret),
        values={},
        sealed={},
        history=[],
        created_at=datetime.now(UTC),
    )
    session.add(app)
    await session.flush()
    text = mails.VERIFICATION
    values = {"title": row.title, "code": code, "minutes": settings.eform_code_minutes}
    await notifications.enqueue(
        session,
        lg_code=row.lg_code,
        to=address,
        subject=notifications.render(text.subject, values),
        body=notifications.render(text.body, values),
        event="verification",
        application_id=app.id,
    )
    await audit.record(
        session,
        lg_code=row.lg_code,
        actor=resident_actor(app, ip),
        action="application_start_success",
        object_type="application",
        object_id=app.id,
        details={"procedure": row.slug},
    )
    return app, secret


async def for_resident(
    session: AsyncSession, lg_code: str, app_id: uuid.UUID, secret: str | None
) -> Application:
    """The application if ``secret`` opens it; otherwise NotFound (no hint that it exists)."""
    return (await opened_by_resident(session, lg_code, app_id, secret))[0]


async def opened_by_resident(
    session: AsyncSession, lg_code: str, app_id: uuid.UUID, secret: str | None
) -> tuple[Application, Procedure]:
    """:func:`for_resident` with its procedure, read in the same statement (every page of an
    application needs both)."""
    found = (
        await session.execute(
            sa.select(Application, Procedure)
            .join(Procedure, Procedure.id == Application.procedure_id)
            .where(Application.id == app_id)
        )
    ).first()
    if (
        found is None
        or found[0].lg_code != lg_code
        or not secret
        or not hmac.compare_digest(found[0].access_hash, sha256(secret))
    ):
        raise NotFound(
            "申請が見つかりません。メールのリンクから開き直してください。", code="eform.application_not_found"
        )
    return found[0], found[1]


async def verify_code(
    session: AsyncSession, settings: Settings, app: Application, secret: str, code: str
) -> bool:
    """Check the emailed code; on success the draft opens. Too many wrong codes lock it."""
    if app.status != ApplicationStatus.unverified:
        return True
    if app.code_attempts >= CODE_ATTEMPTS:
        raise PermissionDenied(
            "確認コードの誤りが続いたため、最初からやり直してください。", code="eform.code_locked"
        )
    fresh = app.created_at + timedelta(minutes=settings.eform_code_minutes) > datetime.now(UTC)
    ok = (
        fresh
        and app.code_hash is not None
        and hmac.compare_digest(app.code_hash, sha256(f"{code.strip()}:{secret}"))
    )
    if not ok:
        app.code_attempts += 1
        await audit.record(
            session,
            lg_code=app.lg_code,
            actor=resident_actor(app),
            action="application_verify_failure",
            object_type="application",
            object_id=app.id,
        )
        return False
    app.status = ApplicationStatus.draft
    app.email_verified_at = datetime.now(UTC)
    app.code_hash = None
    await audit.record(
        session,
        lg_code=app.lg_code,
        actor=resident_actor(app),
        action="application_verify_success",
        object_type="application",
        object_id=app.id,
    )
    return True


def editable(app: Application) -> None:
    if app.status != ApplicationStatus.draft:
        raise Conflict("この申請はもう変更できません。", code="eform.not_editable")


def _aad(app: Application, path: str) -> str:
    return f"eform:{app.lg_code}:{app.id}:{path}"


@dataclass
class FormResult:
    """The outcome of one post of the form page."""

    checked: F.Checked
    raw: dict[str, Any]
    #: Errors of this post alone (uploads, 個人番号, tampered counts), shown even before 確認.
    posted_errors: dict[str, str]
    #: The application's files after this post (oldest first), so the page needs no second query.
    files: list[ApplicationFile] = field(default_factory=list)


async def files_shown(
    session: AsyncSession, app: Application, definition: EformProcedure, raw: Mapping[str, Any]
) -> dict[str, ApplicationFile]:
    """The files a form page shows, by id: those its file fields name in ``raw``. Without any (a
    form opened for the first time) there is nothing to show and no query."""
    named = any(raw.get(p) for p, f in F.leaf_paths(definition, raw) if f.type == EformFieldType.file)
    return {str(f.id): f for f in await files_of(session, app)} if named else {}


async def files_of(session: AsyncSession, app: Application) -> list[ApplicationFile]:
    return list(
        (
            await session.execute(
                sa.select(ApplicationFile)
                .where(ApplicationFile.application_id == app.id, ApplicationFile.lg_code == app.lg_code)
                .order_by(ApplicationFile.created_at)
            )
        )
        .scalars()
        .all()
    )


async def update_from_form(
    session: AsyncSession,
    keys: KeyRing,
    app: Application,
    definition: EformProcedure,
    form: Mapping[str, list[Any]],
    action: str,
    blobs: files.Changes,
) -> FormResult:
    """Take a posted form into the draft: raw values, encrypted 個人番号, checked files.

    Accepted files go to the blob store through ``blobs`` (staged before the transaction by
    :meth:`files.Changes.stage`, or written now; removed again if the transaction fails); replaced
    and removed files lose their blobs after the commit.

    Everything valid is kept even when other fields have errors (一時保存 keeps what was typed).
    """
    editable(app)
    raw, posted = F.take_input(definition, form, dict(app.values or {}), action)
    sealed = dict(app.sealed or {})
    for path, number in F.seal_my_numbers(posted).items():
        blob, key_id = keys.encrypt(number, _aad(app, path))
        sealed[path] = [
            base64.b64encode(blob).decode(),
            key_id,
            keys.search_hash(number, purpose="my_number"),
        ]
    existing = await files_of(session, app)
    by_id = {str(f.id): f for f in existing}
    for path in posted.removed_files:
        old = by_id.pop(str(app.values.get(path, "")), None)
        if old is not None:
            blobs.remove(old.blob_key)
            await session.delete(old)
    stored = sum(f.size for f in by_id.values())
    added: list[ApplicationFile] = []
    for path, upload in posted.files.items():
        data = await blobs.read(upload)
        try:
            accepted = check_file(upload.filename or "", data, definition.uploads, stored)
        except MadoguchiError as exc:
            posted.errors[path] = exc.message
            continue
        previous = by_id.pop(str(raw.get(path, "")), None)
        if previous is not None:
            stored -= previous.size
            blobs.remove(previous.blob_key)
            await session.delete(previous)
        file_id, key = await blobs.keep(upload, app.lg_code, app.id, accepted.data)
        row = ApplicationFile(
            id=file_id,
            lg_code=app.lg_code,
            application_id=app.id,
            field=path,
            filename=accepted.filename,
            content_type=accepted.content_type,
            size=len(accepted.data),
            sha256=hashlib.sha256(accepted.data).hexdigest(),
            blob_key=key,
            created_at=datetime.now(UTC),
        )
        session.add(row)
        added.append(row)
        stored += row.size
        raw[path] = str(row.id)
    # Sealed numbers of fields that no longer exist (a removed repeat) are dropped.
    live = {p for p, f in F.leaf_paths(definition, raw) if f.type == EformFieldType.my_number}
    app.sealed = {p: v for p, v in sealed.items() if p in live}
    app.values = raw
    app.updated_at = datetime.now(UTC)
    await session.flush()
    checked = F.validate(definition, raw, app.sealed)
    for path, message in posted.errors.items():
        checked.errors.setdefault(path, message)
    kept = [f for f in existing if str(f.id) in by_id]
    return FormResult(checked, raw, posted.errors, kept + added)


def fee_of(definition: EformProcedure, values: Mapping[str, Any]) -> int | None:
    """Prepayment amount: the fixed fee, times the ``amount_per`` field when set."""
    pay = definition.payment
    if pay.mode != PaymentMode.prepayment or pay.amount is None:
        return None
    count = values.get(pay.amount_per, 1) if pay.amount_per else 1
    return pay.amount * int(count if isinstance(count, int) else 1)


async def save_notice(session: AsyncSession, settings: Settings, app: Application, row: Procedure) -> str:
    """一時保存: mail a resume link with a fresh access secret; returns the new secret."""
    secret = secrets.token_urlsafe(32)
    app.access_hash = sha256(secret)
    values = {"title": row.title, "resume_url": _link(settings, app.lg_code, app.id, secret)}
    await notifications.enqueue(
        session,
        lg_code=app.lg_code,
        to=app.email,
        subject=notifications.render(mails.RESUME.subject, values),
        body=notifications.render(mails.RESUME.body, values),
        event="resume",
        application_id=app.id,
    )
    await audit.record(
        session,
        lg_code=app.lg_code,
        actor=resident_actor(app),
        action="application_save_success",
        object_type="application",
        object_id=app.id,
    )
    return secret


async def _next_reference(session: AsyncSession, lg_code: str, now: datetime) -> str:
    """申請番号 ``E-YYYYMMDD-NNNNNN`` of the Japanese business day, from the atomic daily counter."""
    day = now.astimezone(JST).date()
    return reference_of(day, await next_daily_number(session, lg_code, "eform", day))


def reference_of(day: date, n: int) -> str:
    """申請番号 ``E-YYYYMMDD-NNNNNN`` of the ``n``-th application of ``day``."""
    return f"E-{day:%Y%m%d}-{n:06d}"


def mail_text(definition: EformProcedure, event: MailEvent) -> MailText:
    return definition.mails.get(event) or mails.DEFAULTS[event]


async def tell_resident(
    session: AsyncSession,
    settings: Settings,
    app: Application,
    row: Procedure,
    event: MailEvent,
    **extra: Any,
) -> None:
    """Queue the procedure's mail for ``event`` with its placeholders filled."""
    session.add(resident_mail(settings, app, row, event, **extra))
    await session.flush()


def resident_mail(
    settings: Settings, app: Application, row: Procedure, event: MailEvent, **extra: Any
) -> OutboxMail:
    """The procedure's mail for ``event``, placeholders filled, not yet added to a session."""
    definition = definition_of(row)
    text = mail_text(definition, event)
    values = {
        "title": row.title,
        "reference": app.reference or "",
        "status": STATUS_LABELS.get(app.status, app.status),
        "amount": f"{app.amount:,}" if app.amount is not None else "",
        "url": _link(settings, app.lg_code, app.id),
        "name": str((app.values or {}).get("name", "")) or "申請者",
        "comment": "",
        **extra,
    }
    return notifications.mail_row(
        lg_code=app.lg_code,
        to=app.email,
        subject=notifications.render(text.subject, values),
        body=notifications.render(text.body, values),
        event=event.value,
        application_id=app.id,
    )


def _history_entry(status: str, by: str, comment: str | None = None) -> dict[str, str]:
    entry = {"at": datetime.now(JST).isoformat(timespec="seconds"), "status": status, "by": by}
    if comment:
        entry["comment"] = comment[:500]
    return entry


def _history(app: Application, status: str, by: str, comment: str | None = None) -> None:
    app.history = [*(app.history or []), _history_entry(status, by, comment)]


async def submit(
    session: AsyncSession,
    settings: Settings,
    app: Application,
    row: Procedure,
    *,
    paid: bool = False,
    commit: bool = False,
) -> F.Checked:
    """Validate the stored draft again and submit it (or hold it for prepayment).

    Returns the check; with errors nothing changes. A prepayment procedure goes to ``payment``
    first and is submitted when the provider confirms the authorisation (``paid``).
    ``commit``: the caller runs nothing more in this transaction, so on PostgreSQL a submission
    commits it with its last statements (one round trip less under the locks); the transaction of
    a check with errors or of a prepayment is left open as without it.
    """
    definition = definition_of(row)
    if app.status == ApplicationStatus.payment and paid:
        pass
    else:
        editable(app)
    checked = F.validate(definition, dict(app.values or {}), app.sealed or {})
    if not checked.ok:
        return checked
    if definition.jpki_needed(checked.values) and not paid:
        await jpki.require_signature(session, app, row)
    now = datetime.now(UTC)
    fee = fee_of(definition, checked.values)
    if fee and not paid:
        app.amount = fee
        app.status = ApplicationStatus.payment
        return checked
    if session.bind.dialect.name == "postgresql":
        await _submit_pipelined(session, settings, app, row, now, commit=commit)
        return checked
    app.reference = await _next_reference(session, app.lg_code, now)
    app.status = ApplicationStatus.submitted
    app.submitted_at = now
    app.procedure_version = row.version  # read later with this definition (form builder)
    _history(app, ApplicationStatus.submitted, "resident")
    await tell_resident(session, settings, app, row, MailEvent.submitted)
    await staff.notify_submission(session, settings, app, row)
    await audit.record(session, lg_code=app.lg_code, **_submitted_event(app, row))
    return checked


def _submitted_event(app: Application, row: Procedure) -> dict[str, Any]:
    return {
        "actor": resident_actor(app),
        "action": "application_submit_success",
        "object_type": "application",
        "object_id": app.id,
        "details": {"procedure": row.slug, "reference": app.reference},
    }


_SUBMITTED_SQL = (
    "UPDATE eform_applications SET reference = %s, status = %s, submitted_at = %s, procedure_version = %s,"
    " history = %s, updated_at = %s WHERE id = %s AND lg_code = %s"
)


async def _submit_pipelined(
    session: AsyncSession,
    settings: Settings,
    app: Application,
    row: Procedure,
    now: datetime,
    *,
    commit: bool,
) -> None:
    """PostgreSQL: the serial section of a submission in two round trips.

    The daily counter's row (申請番号, gap-free, so taken inside the transaction) and the audit
    chain's lock are held until the commit, and every submission of the municipality queues on
    them. So everything that does not need the number runs before (the staff's notice recipients,
    the session's pending changes); then one round trip takes the number and the chain's lock and
    end; then one round trip writes the application, the mails and the audit event (and, with
    ``commit``, commits). The locks are held for one turn of the event loop and one round trip,
    where before the application's update, each mail, the audit append and the commit were one
    round trip (and one turn) each.
    """
    users = await staff.notice_recipients(session, row)
    await session.flush()
    day = now.astimezone(JST).date()
    [(n,)], [head] = await pipelined(
        session,
        [(NEXT_SQL, (app.lg_code, "eform", day)), audit.lock_statement(app.lg_code)],
    )
    reference = reference_of(day, int(n))
    history = [*(app.history or []), _history_entry(ApplicationStatus.submitted, "resident")]
    for name, value in (
        ("reference", reference),
        ("status", ApplicationStatus.submitted.value),
        ("submitted_at", now),
        ("procedure_version", row.version),  # read later with this definition (form builder)
        ("history", history),
        ("updated_at", now),
    ):
        set_committed_value(app, name, value)
    mails = [resident_mail(settings, app, row, MailEvent.submitted)]
    mails += staff.submission_notices(settings, app, row, users)
    append, values, events = audit.append_statement(
        app.lg_code, [audit.Event(**_submitted_event(app, row))], (head[0], head[1])
    )
    update = (
        _SUBMITTED_SQL,
        (reference, app.status, now, row.version, Jsonb(history), now, app.id, app.lg_code),
    )
    inserts = [(notifications.INSERT_SQL, notifications.insert_params(m)) for m in mails]
    await pipelined(session, [update, *inserts, (append, values)], commit=commit)
    audit.appended(session, app.lg_code, events)


async def withdraw(
    session: AsyncSession,
    settings: Settings,
    app: Application,
    row: Procedure,
    blobs: files.Changes,
) -> None:
    """The resident withdraws a submitted application not yet reviewed.

    A withdrawn *draft* was never handed in: its files are deleted (rows now, blobs after commit).
    A submitted application keeps them for the office's records.
    """
    if app.status not in (
        ApplicationStatus.submitted,
        ApplicationStatus.draft,
        ApplicationStatus.payment,
        ApplicationStatus.returned,
    ):
        raise Conflict(
            "審査が始まった申請は取り下げられません。問い合わせ先へ連絡してください。",
            code="eform.not_withdrawable",
        )
    was_submitted = app.status in (ApplicationStatus.submitted, ApplicationStatus.returned)
    if app.status == ApplicationStatus.draft:
        await files.drop_all(session, blobs, app.id, app.lg_code)
    app.status = ApplicationStatus.withdrawn
    _history(app, ApplicationStatus.withdrawn, "resident")
    if was_submitted:
        await tell_resident(session, settings, app, row, MailEvent.withdrawn)
    await audit.record(
        session,
        lg_code=app.lg_code,
        actor=resident_actor(app),
        action="application_withdraw_success",
        object_type="application",
        object_id=app.id,
    )


# ---------------------------------------------------------------- staff


async def change_status(
    session: AsyncSession,
    settings: Settings,
    actor: audit.Actor,
    app: Application,
    row: Procedure,
    new_status: str,
    comment: str | None = None,
) -> None:
    """A staff status change; mails the resident the procedure's text for it."""
    allowed = STAFF_TRANSITIONS.get(app.status, {})
    if new_status not in allowed:
        raise Conflict(
            f"「{STATUS_LABELS.get(app.status, app.status)}」から"
            f"「{STATUS_LABELS.get(new_status, new_status)}」には変更できません。",
            code="eform.bad_transition",
        )
    old = app.status
    app.status = new_status
    _history(app, new_status, actor.username or "staff", comment)
    await tell_resident(session, settings, app, row, allowed[new_status], comment=comment or "")
    await audit.record(
        session,
        lg_code=app.lg_code,
        actor=actor,
        action="application_status_success",
        object_type="application",
        object_id=app.id,
        details={"from": old, "to": new_status},
    )


def reveal_my_number(keys: KeyRing, app: Application, path: str) -> str | None:
    """The decrypted 個人番号 of ``path`` (callers check the permission and audit the view)."""
    item = (app.sealed or {}).get(path)
    if not item:
        return None
    return keys.decrypt(base64.b64decode(item[0]), item[1], _aad(app, path))
