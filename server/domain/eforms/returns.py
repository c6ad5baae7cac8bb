"""差戻し: staff return a submitted application for correction; the resident fixes only those items.

Staff tick items of the application (repeat-group items included) with a reason per item or an
overall one; the application becomes ``returned`` (差戻し中) and the resident gets the procedure's
``returned`` mail with a fresh link (a guest on another device gets back in with it). The
correction page posts only the flagged items; any other input is refused before anything changes.
The whole application is validated again (JSON Logic rules included) on every post and at
resubmission. The corrected values are a working copy in ``eform_returns.after`` until the
resident resubmits; the application then takes them, goes back to ``submitted`` (申請済み), and
the row keeps both versions and which items changed. A file replaced during a correction is never
deleted: the returned version still refers to it.

A procedure that needs a JPKI signature is returned the same way; before resubmitting, the
resident signs the corrected version (its canonical bytes, ``jpki.services.signed_version``) with
a signature made after the return. At resubmission the earlier valid signature is kept for the
record as ``superseded`` (pointing at the new one), and staff see both.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import Settings
from server.crypto import KeyRing
from server.db.models import Application, ApplicationFile, ApplicationReturn, Procedure
from server.domain import audit
from server.domain.eforms import fields as F
from server.domain.eforms import files
from server.domain.eforms.services import (
    ApplicationStatus,
    FormResult,
    _aad,
    _history,
    _link,
    files_of,
    resident_actor,
    sha256,
    tell_resident,
)
from server.domain.eforms.uploads import check_file
from server.domain.jpki import services as jpki
from shared.errors import Conflict, InvalidInput, MadoguchiError, PermissionDenied
from shared.schemas.eform import EformProcedure, MailEvent, PaymentMode

REASON_MAX = 500
#: Raw keys a flagged path may carry besides its own name (和暦 parts, file removal).
SUFFIXES = ("__era", "__y", "__m", "__d", "__remove")
TAMPERED = "差戻しで修正を求められた項目以外は変更できません。最初から開き直してください。"


def returnable(definition: EformProcedure, app: Application) -> list[tuple[str, str]]:
    """(path, label) of every item staff may flag: the fields shown for the submitted values.

    The fee's ``amount_per`` field of a prepayment procedure is left out (the fee was paid)."""
    skip = definition.payment.amount_per if definition.payment.mode == PaymentMode.prepayment else None
    return [
        (path, F.label_of(definition, path))
        for path, _f in F.visible_paths(definition, dict(app.values or {}), app.sealed or {})
        if path != skip
    ]


async def returns_of(session: AsyncSession, app: Application) -> list[ApplicationReturn]:
    return list(
        (
            await session.execute(
                sa.select(ApplicationReturn)
                .where(ApplicationReturn.application_id == app.id, ApplicationReturn.lg_code == app.lg_code)
                .order_by(ApplicationReturn.returned_at)
            )
        )
        .scalars()
        .all()
    )


async def _lock(session: AsyncSession, app: Application) -> None:
    """Lock the application's row (PostgreSQL) and read it again: of two posts at once (a double
    click on 再提出, two staff members returning it) the second sees the first one's outcome."""
    await session.execute(sa.select(Application.id).where(Application.id == app.id).with_for_update())
    await session.refresh(app)


async def open_return(session: AsyncSession, app: Application) -> ApplicationReturn:
    """The return the resident is answering; Conflict when the application is not 差戻し中."""
    await _lock(session, app)
    found = [r for r in await returns_of(session, app) if r.resubmitted_at is None]
    if app.status != ApplicationStatus.returned or not found:
        raise Conflict(
            "この申請は差戻し中ではないため、修正・再提出はできません。", code="eform.not_returned"
        )
    return found[-1]


def _reason(text: str) -> str:
    cleaned = " ".join(text.replace("\r", "").split("\n")).strip()
    if F._CONTROL.search(cleaned):
        raise InvalidInput("差戻しの理由に使えない文字が含まれています。", field="comment")
    if len(cleaned) > REASON_MAX:
        raise InvalidInput(f"差戻しの理由は{REASON_MAX}文字以内で入力してください。", field="comment")
    return cleaned


async def return_application(
    session: AsyncSession,
    settings: Settings,
    actor: audit.Actor,
    app: Application,
    row: Procedure,
    definition: EformProcedure,
    paths: list[str],
    reasons: Mapping[str, str],
    comment: str,
) -> ApplicationReturn:
    """差戻し of a submitted application: the items to fix, a reason per item or overall.

    Mails the resident the procedure's ``returned`` text with a fresh access link."""
    await _lock(session, app)
    if app.status != ApplicationStatus.submitted:
        raise Conflict("差戻しできるのは「申請済み」の申請だけです。", code="eform.bad_transition")
    allowed = dict(returnable(definition, app))
    chosen = list(dict.fromkeys(p for p in paths if p))
    if not chosen:
        raise InvalidInput("修正を求める項目を1つ以上選んでください。", field="fields")
    unknown = [p for p in chosen if p not in allowed]
    if unknown:
        raise InvalidInput("差戻しできない項目が選ばれています。画面を開き直してください。", field="fields")
    why = {p: _reason(reasons.get(p, "")) for p in chosen}
    why = {p: r for p, r in why.items() if r}
    overall = _reason(comment)
    if not overall and len(why) < len(chosen):
        raise InvalidInput(
            "差戻しの理由を、項目ごと（選んだ項目すべて）か全体のどちらかに入力してください。",
            field="comment",
        )
    ret = ApplicationReturn(
        id=uuid.uuid4(),
        lg_code=app.lg_code,
        application_id=app.id,
        fields=chosen,
        reasons=why,
        comment=overall or None,
        returned_by=actor.username or "staff",
        returned_at=datetime.now(UTC),
        before=dict(app.values or {}),
        before_sealed=dict(app.sealed or {}),
    )
    session.add(ret)
    app.status = ApplicationStatus.returned
    _history(app, ApplicationStatus.returned, actor.username or "staff", overall or None)
    secret = secrets.token_urlsafe(32)  # the link of the mail opens it on any device (guests too)
    app.access_hash = sha256(secret)
    listed = "\n".join(f"・{allowed[p]}" + (f"：{why[p]}" if p in why else "") for p in chosen)
    await tell_resident(
        session,
        settings,
        app,
        row,
        MailEvent.returned,
        fields=listed,
        comment=overall,
        fix_url=_link(settings, app.lg_code, app.id, secret),
    )
    await session.flush()
    await audit.record(
        session,
        lg_code=app.lg_code,
        actor=actor,
        action="application_return_success",
        object_type="application",
        object_id=app.id,
        details={"return": str(ret.id), "fields": chosen},
    )
    return ret


def working(ret: ApplicationReturn) -> tuple[dict[str, Any], dict[str, Any]]:
    """The resident's current corrected raw values and sealed 個人番号."""
    raw = ret.after if ret.after is not None else ret.before
    sealed = ret.after_sealed if ret.after_sealed is not None else ret.before_sealed
    return dict(raw or {}), dict(sealed or {})


def _allowed_key(key: str, flagged: list[str]) -> bool:
    return key in F.RESERVED or any(key == p or key in {p + s for s in SUFFIXES} for p in flagged)


def check_keys(ret: ApplicationReturn, form: Mapping[str, list[Any]]) -> None:
    """Refuse a post carrying any input besides the flagged items (nothing is changed)."""
    if any(not _allowed_key(k, ret.fields) for k in form):
        raise PermissionDenied(TAMPERED, code="eform.return_tampered")


async def correct(
    session: AsyncSession,
    keys: KeyRing,
    app: Application,
    definition: EformProcedure,
    form: Mapping[str, list[Any]],
    blobs: files.Changes,
) -> FormResult:
    """Take a post of the correction page into the working copy; the check covers the whole form."""
    ret = await open_return(session, app)
    check_keys(ret, form)
    raw, sealed = working(ret)
    merged: dict[str, list[Any]] = {}
    for key, value in raw.items():
        if not any(key in F.keys_of(p, {key: 1}) for p in ret.fields):
            merged[key] = list(value) if isinstance(value, list) else [value]
    for key, values in form.items():
        if key not in F.RESERVED:
            merged[key] = values
    new, posted = F.take_input(definition, merged, raw, "refresh")
    for path in list(posted.files) + list(posted.my_numbers) + list(posted.removed_files):
        if path not in ret.fields:  # take_input only reads fields; kept as a second guard
            raise PermissionDenied(TAMPERED, code="eform.return_tampered")
    for path, number in F.seal_my_numbers(posted).items():
        blob, key_id = keys.encrypt(number, _aad(app, path))
        sealed[path] = [
            base64.b64encode(blob).decode(),
            key_id,
            keys.search_hash(number, purpose="my_number"),
        ]
    kept = {str(v) for v in (ret.before or {}).values() if isinstance(v, str)}
    existing = {str(f.id): f for f in await files_of(session, app)}

    async def drop_draft_file(file_id: str) -> None:
        """A file uploaded during this correction and replaced again (never part of a version)."""
        old = existing.pop(file_id, None)
        if old is not None and file_id not in kept:
            blobs.remove(old.blob_key)
            await session.delete(old)

    for path in posted.removed_files:
        await drop_draft_file(str(raw.get(path, "")))
    stored = sum(f.size for f in existing.values())
    for path, upload in posted.files.items():
        data = await blobs.read(upload)
        try:
            accepted = check_file(upload.filename or "", data, definition.uploads, stored)
        except MadoguchiError as exc:
            posted.errors[path] = exc.message
            continue
        await drop_draft_file(str(raw.get(path, "")))
        file_id, key = await blobs.keep(upload, app.lg_code, app.id, accepted.data)
        session.add(
            ApplicationFile(
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
        )
        stored += len(accepted.data)
        new[path] = str(file_id)
    ret.after, ret.after_sealed = new, sealed
    await session.flush()
    checked = F.validate(definition, new, sealed)
    for path, message in posted.errors.items():
        checked.errors.setdefault(path, message)
    return FormResult(checked, new, posted.errors)


def changed_paths(
    definition: EformProcedure,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    before_sealed: Mapping[str, Any],
    after_sealed: Mapping[str, Any],
) -> list[str]:
    """Input paths whose value differs between two versions (個人番号 compared by keyed hash)."""
    paths = dict(F.leaf_paths(definition, before)) | dict(F.leaf_paths(definition, after))
    out = []
    for path in paths:
        old = {k: before[k] for k in F.keys_of(path, before)}
        new = {k: after[k] for k in F.keys_of(path, after)}
        sealed_old = (before_sealed.get(path) or [None, None, None])[2]
        sealed_new = (after_sealed.get(path) or [None, None, None])[2]
        if old != new or sealed_old != sealed_new:
            out.append(path)
    return out


async def resubmit(
    session: AsyncSession,
    settings: Settings,
    app: Application,
    row: Procedure,
    definition: EformProcedure,
    ip: str | None = None,
) -> F.Checked:
    """Hand the corrected application in again (whole form validated); with errors nothing changes."""
    ret = await open_return(session, app)
    raw, sealed = working(ret)
    checked = F.validate(definition, raw, sealed)
    if not checked.ok:
        return checked
    # A JPKI procedure: the resident signs the corrected version (made after the return) first.
    # (Only where the applicant signs at all: a 法人 / 団体 of a procedure that asks 個人 only does not.)
    signature = await jpki.require_signature(session, app, row) if definition.jpki_needed(raw) else None
    changed = changed_paths(definition, ret.before or {}, raw, ret.before_sealed or {}, sealed)
    now = datetime.now(UTC)
    ret.after, ret.after_sealed, ret.changed, ret.resubmitted_at = raw, sealed, changed, now
    app.values, app.sealed = raw, sealed
    app.status = ApplicationStatus.submitted
    app.updated_at = now
    labels = "、".join(F.label_of(definition, p) for p in changed) or "変更なし"
    _history(app, ApplicationStatus.submitted, "resident", f"修正して再提出（{labels}）")
    signed: dict[str, Any] = {}
    if signature is not None:  # the old signature stays, marked as replaced by the new one
        signed = {"signature": str(signature.id), "superseded": await jpki.supersede(session, app, signature)}
    await session.flush()
    await tell_resident(session, settings, app, row, MailEvent.submitted)
    await audit.record(
        session,
        lg_code=app.lg_code,
        actor=resident_actor(app, ip),
        action="application_resubmit_success",
        object_type="application",
        object_id=app.id,
        details={"return": str(ret.id), "changed": changed, **signed},
    )
    return checked
