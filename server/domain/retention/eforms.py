"""Online applications (電子申請) in the retention purge: which have expired, and deleting one.

Part of the one purge mechanism (:mod:`.service`): an expired application becomes a purge item
of scope ``eform`` on the same list, is confirmed with the same count and deleted by the same
batched, restartable run. Here only what differs from a reception:

- **Period**: the class ``eform_application`` (保存区分 電子申請, per municipality), counted from
  the day the application was completed, withdrawn or rejected (the last such entry of its
  history; ``updated_at`` if the history has none). Applications in any other state —
  unverified, draft, awaiting payment, submitted, reviewed — are never listed.
- **Held by a payment**: an application with a payment still ``requested`` or ``authorised`` is
  not listed (money is not settled yet); it is counted in the plan's audit event.
- **What goes**: the application row (entered values, sealed 個人番号, e-mail address, its status
  history), its attachment rows and blobs, its signatures (signer's 基本4情報), the link to a
  portal account and the mails queued or sent about it.
- **What stays, for the accounts**: the payment rows (amount, kind, state, provider, the
  provider's charge id, refunds, dates). They hold no personal data (cards stay with the
  provider); their link to the application is emptied and the pay-link hash cleared. The
  deletion record (``purge_items.details``) names the payments kept, so the 申請番号 of a payment
  can still be told.
- **Record**: the item keeps the 申請番号, the closing day, every blob with its SHA-256 and a
  SHA-256 of the application's data and history at planning (``content_sha256``): what was
  deleted can be proven without keeping it.
- **Changed after planning**: an application that is no longer closed, was closed again later,
  gained a file, or whose payment became unsettled is left alone (``skipped_reason``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import (
    Application,
    ApplicationFile,
    ApplicationSignature,
    OutboxMail,
    Payment,
    Procedure,
    ResidentAccountApplication,
)
from server.domain import audit
from shared.api_records import DocumentClass

JST = ZoneInfo("Asia/Tokyo")
SCOPE = "eform"
#: Final states of an application: the period counts from the day it reached one of them.
CLOSED = ("completed", "withdrawn", "rejected")
#: Payment states that hold an application back (the money is not settled yet).
UNSETTLED = ("requested", "authorised")
CLASS = DocumentClass.eform_application.value
BATCH = 500


@dataclass
class Expired:
    """The plan's answer: purge item rows (without job ids) and what was held back."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    held_by_payment: int = 0


def closed_on(app: Application) -> date:
    """The day (JST) the application was completed, withdrawn or rejected."""
    for entry in reversed(app.history or []):
        if entry.get("status") in CLOSED and entry.get("at"):
            try:
                at = datetime.fromisoformat(str(entry["at"]))
            except ValueError:
                continue
            return (at if at.tzinfo else at.replace(tzinfo=JST)).astimezone(JST).date()
    updated = app.updated_at if app.updated_at.tzinfo else app.updated_at.replace(tzinfo=UTC)
    return updated.astimezone(JST).date()


def content_sha256(app: Application) -> str:
    """SHA-256 of the application's data and history (canonical JSON), for the deletion record."""
    data = {
        "id": str(app.id),
        "reference": app.reference,
        "procedure_id": str(app.procedure_id),
        "procedure_version": app.procedure_version,
        "status": app.status,
        "email": app.email,
        "values": app.values,
        "sealed": app.sealed,
        "amount": app.amount,
        "history": app.history,
        "created_at": app.created_at.isoformat() if app.created_at else None,
        "submitted_at": app.submitted_at.isoformat() if app.submitted_at else None,
    }
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _files(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, str]]]:
    found: dict[uuid.UUID, list[dict[str, str]]] = {}
    for start in range(0, len(ids), BATCH):
        for app_id, key, digest in (
            await session.execute(
                sa.select(ApplicationFile.application_id, ApplicationFile.blob_key, ApplicationFile.sha256)
                .where(ApplicationFile.application_id.in_(ids[start : start + BATCH]))
                .order_by(ApplicationFile.blob_key)
            )
        ).all():
            if key:  # a row not moved to the blob store yet has no blob to delete
                found.setdefault(app_id, []).append({"key": key, "sha256": digest, "document_class": CLASS})
    return found


async def _payments(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, str]]]:
    found: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {}
    for start in range(0, len(ids), BATCH):
        for pid, app_id, state in (
            await session.execute(
                sa.select(Payment.id, Payment.application_id, Payment.state).where(
                    Payment.application_id.in_(ids[start : start + BATCH])
                )
            )
        ).all():
            found.setdefault(app_id, []).append((pid, state))
    return found


async def expired(session: AsyncSession, lg_code: str, today: date, years: int) -> Expired:
    """Closed applications of ``lg_code`` whose period (``years`` after closing) has ended."""
    from server.domain.documents.services import add_years

    cutoff = add_years(today, -years)
    # Closing comes after creation: an application created on or after the cutoff cannot be due.
    created_before = datetime.combine(cutoff, time(0), tzinfo=JST).astimezone(UTC)
    candidates = [
        (app, slug)
        for app, slug in (
            await session.execute(
                sa.select(Application, Procedure.slug)
                .join(Procedure, Procedure.id == Application.procedure_id)
                .where(
                    Application.lg_code == lg_code,
                    Application.status.in_(CLOSED),
                    Application.created_at < created_before,
                )
                .order_by(Application.created_at)
            )
        ).all()
        if closed_on(app) < cutoff
    ]
    ids = [app.id for app, _ in candidates]
    files = await _files(session, ids)
    payments = await _payments(session, ids)
    result = Expired()
    for app, slug in candidates:
        paid = payments.get(app.id, [])
        if any(state in UNSETTLED for _, state in paid):
            result.held_by_payment += 1
            continue
        result.rows.append(
            {
                "reception_id": app.id,
                "reception_number": app.reference or "(未申請)",
                "business_date": closed_on(app),
                "blobs": files.get(app.id, []),
                "scope": SCOPE,
                "details": {
                    "procedure": slug,
                    "status": app.status,
                    "content_sha256": content_sha256(app),
                    "payments_kept": [str(pid) for pid, _ in paid],
                },
            }
        )
    return result


async def delete(
    session: AsyncSession, lg_code: str, items: Sequence[Any], *, actor: audit.Actor, job_id: uuid.UUID
) -> tuple[list[Any], list[tuple[Any, str]]]:
    """Delete the listed applications in the caller's transaction; (deleted, [(skipped, reason)]).

    The blobs are not touched here: the run deletes them after this transaction committed.
    """
    ids = [i.reception_id for i in items]
    apps = {
        a.id: a
        for a in (
            await session.execute(
                sa.select(Application).where(Application.id.in_(ids), Application.lg_code == lg_code)
            )
        ).scalars()
    }
    files: dict[uuid.UUID, set[str]] = {}
    for app_id, key in (
        await session.execute(
            sa.select(ApplicationFile.application_id, ApplicationFile.blob_key).where(
                ApplicationFile.application_id.in_(ids)
            )
        )
    ).all():
        files.setdefault(app_id, set()).add(key or "")
    payments = await _payments(session, ids)
    deleted: list[Any] = []
    skipped: list[tuple[Any, str]] = []
    for item in items:
        app = apps.get(item.reception_id)
        if app is None:  # already gone (deleted by hand): nothing left to delete but its blobs
            deleted.append(item)
            continue
        if app.status not in CLOSED or closed_on(app) != item.business_date:
            skipped.append((item, "計画後に申請の状態が変わったため削除しませんでした"))
        elif not files.get(app.id, set()) <= {b["key"] for b in item.blobs}:
            skipped.append((item, "計画後に添付ファイルが変わったため削除しませんでした"))
        elif any(state in UNSETTLED for _, state in payments.get(app.id, [])):
            skipped.append((item, "決済が完了していないため削除しませんでした"))
        else:
            deleted.append(item)
    gone = [i.reception_id for i in deleted if i.reception_id in apps]
    if gone:
        # Payments stay for the accounts, without the link and the pay-link secret's hash.
        await session.execute(
            sa.update(Payment)
            .where(Payment.application_id.in_(gone), Payment.lg_code == lg_code)
            .values(application_id=None, access_hash="")
            .execution_options(synchronize_session=False)
        )
        for table in (OutboxMail, ApplicationSignature, ApplicationFile, ResidentAccountApplication):
            await session.execute(
                sa.delete(table)
                .where(table.application_id.in_(gone), table.lg_code == lg_code)
                .execution_options(synchronize_session=False)
            )
        await session.execute(
            sa.delete(Application)
            .where(Application.id.in_(gone), Application.lg_code == lg_code)
            .execution_options(synchronize_session=False)
        )
        await audit.record_many(
            session,
            lg_code,
            [
                audit.Event(
                    actor,
                    "application_purge_success",
                    "application",
                    i.reception_id,
                    False,
                    {
                        "job_id": str(job_id),
                        "reference": i.reception_number,
                        "closed_on": i.business_date.isoformat(),
                        "files": len(i.blobs),
                        "content_sha256": (i.details or {}).get("content_sha256"),
                    },
                )
                for i in deleted
                if i.reception_id in apps
            ],
        )
    return deleted, skipped
