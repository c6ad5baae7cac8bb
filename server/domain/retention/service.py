"""The purge job: list what has expired, let a supervisor see the list, delete exactly that list.

1. :func:`plan` fixes the list: receptions of one municipality whose 受付日 is before
   ``today − years of the 異動届 class`` and none of whose documents must still be kept
   (``retain_until >= today``), scope ``reception``; and, for the receptions that stay, the
   documents whose own retention class has expired (``retain_until < today``), scope
   ``documents``. Each item records the reception number, date and every blob key with its
   SHA-256 and class — the deletion record. Online applications closed longer ago than the class
   電子申請 allows are on the same list, scope ``eform`` (:mod:`.eforms`). An unfinished job is
   returned instead of a new one.
2. :func:`execute` deletes in batches. Each batch is one transaction that deletes the rows of the
   listed receptions (attachments, persons and search keys go with them) and stamps
   ``rows_deleted_at``; then the listed blobs are removed and ``blobs_deleted_at`` stamped.
   A crash anywhere leaves a consistent state: running again skips what is stamped and finishes
   the rest. Only ids and keys on the list are ever deleted; a listed reception that gained a
   document after planning is left alone (``skipped_reason`` says so); a ``documents`` item
   deletes only its listed documents and never the reception.

The years per class come from :mod:`.classes` (保存区分).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server.config import Settings
from server.db.engine import Database
from server.db.models import Attachment, PurgeItem, PurgeJob, Reception
from server.domain import audit
from server.domain.documents.services import add_years
from server.domain.retention import classes
from server.domain.retention import eforms as eform_retention
from server.plugins.blobstore import BlobStore
from shared.api_records import (
    DOCUMENT_CLASS_LABELS,
    DocumentClass,
    PurgeClassCount,
    PurgeItemRead,
    PurgeJobDetail,
    PurgeJobRead,
)
from shared.errors import Conflict, NotFound

BATCH = 500


@dataclass(frozen=True)
class PurgeReport:
    job_id: uuid.UUID
    status: str
    listed: int
    deleted: int
    skipped: int


SCOPE_RECEPTION = "reception"
SCOPE_DOCUMENTS = "documents"
SCOPE_EFORM = eform_retention.SCOPE


def cutoff_for(settings: Settings, lg_code: str, today: date) -> date:
    """The general period's cutoff (a municipality that changed no class)."""
    return add_years(today, -settings.retention_for(lg_code))


async def plan(
    db: Database, settings: Settings, lg_code: str, *, planned_by: str, today: date | None = None
) -> PurgeJob:
    """The purge list of ``lg_code`` (an unfinished one if there is one)."""
    today = today or datetime.now(UTC).date()
    cutoff = cutoff_for(settings, lg_code, today)
    async with db.tenant(lg_code) as session:
        open_job = (
            await session.execute(
                sa.select(PurgeJob).where(PurgeJob.lg_code == lg_code, PurgeJob.status != "done")
            )
        ).scalar_one_or_none()
        if open_job is not None:
            return open_job
        years = await classes.years_by_class(session, settings, lg_code)
        cutoff = add_years(today, -years[DocumentClass.notice_form])
        other = aliased(Attachment)
        kept = sa.select(other.id).where(other.reception_id == Reception.id, other.retain_until >= today)
        expired = (
            await session.execute(
                sa.select(Reception.id, Reception.reception_number, Reception.business_date)
                .where(Reception.lg_code == lg_code, Reception.business_date < cutoff, ~kept.exists())
                .order_by(Reception.reception_number)
            )
        ).all()
        blobs: dict[uuid.UUID, list[dict[str, str]]] = {}
        ids = [r.id for r in expired]
        for start in range(0, len(ids), BATCH):
            for rid, key, digest, cls in (
                await session.execute(
                    sa.select(
                        Attachment.reception_id,
                        Attachment.blob_key,
                        Attachment.sha256,
                        Attachment.document_class,
                    )
                    .where(Attachment.reception_id.in_(ids[start : start + BATCH]))
                    .order_by(Attachment.blob_key)
                )
            ).all():
                blobs.setdefault(rid, []).append({"key": key, "sha256": digest, "document_class": cls})
        # Receptions that stay but hold documents whose own class has expired.
        partial: dict[uuid.UUID, tuple[str, date, list[dict[str, str]]]] = {}
        for rid, number, day, key, digest, cls in (
            await session.execute(
                sa.select(
                    Attachment.reception_id,
                    Reception.reception_number,
                    Reception.business_date,
                    Attachment.blob_key,
                    Attachment.sha256,
                    Attachment.document_class,
                )
                .join(Reception, Reception.id == Attachment.reception_id)
                .where(
                    Attachment.lg_code == lg_code,
                    Attachment.retain_until < today,
                    sa.or_(Reception.business_date >= cutoff, kept.exists()),
                )
                .order_by(Reception.reception_number, Attachment.blob_key)
            )
        ).all():
            partial.setdefault(rid, (number, day, []))[2].append(
                {"key": key, "sha256": digest, "document_class": cls}
            )
        # Online applications closed longer ago than their class (電子申請) allows.
        eform_years = years[DocumentClass.eform_application]
        closed = await eform_retention.expired(session, lg_code, today, eform_years)
        job = PurgeJob(
            id=uuid.uuid4(),
            lg_code=lg_code,
            cutoff=cutoff,
            status="planned",
            item_count=len(expired) + len(partial) + len(closed.rows),
            planned_by=planned_by,
        )
        session.add(job)
        await session.flush()
        rows = (
            [
                {
                    "id": uuid.uuid4(),
                    "lg_code": lg_code,
                    "job_id": job.id,
                    "reception_id": r.id,
                    "reception_number": r.reception_number,
                    "business_date": r.business_date,
                    "blobs": blobs.get(r.id, []),
                    "scope": SCOPE_RECEPTION,
                    "details": None,
                }
                for r in expired
            ]
            + [
                {
                    "id": uuid.uuid4(),
                    "lg_code": lg_code,
                    "job_id": job.id,
                    "reception_id": rid,
                    "reception_number": number,
                    "business_date": day,
                    "blobs": docs,
                    "scope": SCOPE_DOCUMENTS,
                    "details": None,
                }
                for rid, (number, day, docs) in partial.items()
            ]
            + [{"id": uuid.uuid4(), "lg_code": lg_code, "job_id": job.id, **row} for row in closed.rows]
        )
        for start in range(0, len(rows), BATCH):
            await session.execute(sa.insert(PurgeItem), rows[start : start + BATCH])
        await audit.record(
            session,
            lg_code=lg_code,
            actor=audit.Actor(username=planned_by),
            action="purge_plan_success",
            object_type="purge_job",
            object_id=job.id,
            details={
                "cutoff": cutoff.isoformat(),
                "items": len(expired),
                "documents_only": len(partial),
                "eforms": len(closed.rows),
                "eforms_held_by_payment": closed.held_by_payment,
                "years": {c.value: n for c, n in years.items()},
            },
        )
    return job


async def items(db: Database, lg_code: str, job_id: uuid.UUID) -> list[PurgeItem]:
    async with db.tenant(lg_code) as session:
        return list(
            (
                await session.execute(
                    sa.select(PurgeItem)
                    .where(PurgeItem.job_id == job_id, PurgeItem.lg_code == lg_code)
                    .order_by(PurgeItem.reception_number)
                )
            )
            .scalars()
            .all()
        )


async def _job(session: AsyncSession, lg_code: str, job_id: uuid.UUID) -> PurgeJob:
    job = (
        await session.execute(sa.select(PurgeJob).where(PurgeJob.id == job_id, PurgeJob.lg_code == lg_code))
    ).scalar_one_or_none()
    if job is None:
        raise NotFound("削除ジョブが見つかりません。", code="purge.not_found")
    return job


async def _delete_rows_batch(
    db: Database, lg_code: str, job_id: uuid.UUID, actor: audit.Actor
) -> tuple[int, int]:
    """One transaction: delete the rows of up to BATCH listed items. Returns (deleted, skipped)."""
    async with db.tenant(lg_code) as session:
        batch = list(
            (
                await session.execute(
                    sa.select(PurgeItem)
                    .where(
                        PurgeItem.job_id == job_id,
                        PurgeItem.lg_code == lg_code,
                        PurgeItem.rows_deleted_at.is_(None),
                        PurgeItem.skipped_reason.is_(None),
                    )
                    .order_by(PurgeItem.reception_number)
                    .limit(BATCH)
                )
            )
            .scalars()
            .all()
        )
        if not batch:
            return 0, 0
        ids = [i.reception_id for i in batch]
        current: dict[uuid.UUID, set[str]] = {}
        for rid, key in (
            await session.execute(
                sa.select(Attachment.reception_id, Attachment.blob_key).where(
                    Attachment.reception_id.in_(ids)
                )
            )
        ).all():
            current.setdefault(rid, set()).add(key)
        now = datetime.now(UTC)
        deletable, skipped = [], []
        reasons: dict[str, list[PurgeItem]] = {}
        eform_items = [i for i in batch if i.scope == SCOPE_EFORM]
        if eform_items:
            gone, held = await eform_retention.delete(
                session, lg_code, eform_items, actor=actor, job_id=job_id
            )
            deletable.extend(gone)
            for item, reason in held:
                reasons.setdefault(reason, []).append(item)
        for item in batch:
            if item.scope == SCOPE_EFORM:
                continue
            if item.scope == SCOPE_DOCUMENTS:
                # Only the listed, expired documents; the reception and its other documents stay.
                await session.execute(
                    sa.delete(Attachment).where(
                        Attachment.reception_id == item.reception_id,
                        Attachment.lg_code == lg_code,
                        Attachment.blob_key.in_([b["key"] for b in item.blobs]),
                    )
                )
                item.rows_deleted_at = now
                continue
            if current.get(item.reception_id, set()) <= {b["key"] for b in item.blobs}:
                deletable.append(item)
            else:
                skipped.append(item)
        if deletable:
            gone = [i.reception_id for i in deletable if i.scope == SCOPE_RECEPTION]
            if gone:
                await session.execute(sa.delete(Attachment).where(Attachment.reception_id.in_(gone)))
                await session.execute(
                    sa.delete(Reception).where(Reception.id.in_(gone), Reception.lg_code == lg_code)
                )
            # One statement for the batch's stamps (not one UPDATE per item).
            await session.execute(
                sa.update(PurgeItem)
                .where(PurgeItem.id.in_([i.id for i in deletable]))
                .values(rows_deleted_at=now)
                .execution_options(synchronize_session=False)
            )
        if skipped:
            reasons.setdefault("計画後に文書が追加されたため削除しませんでした", []).extend(skipped)
        for reason, held_items in reasons.items():
            await session.execute(
                sa.update(PurgeItem)
                .where(PurgeItem.id.in_([i.id for i in held_items]))
                .values(skipped_reason=reason)
                .execution_options(synchronize_session=False)
            )
        held_count = sum(len(v) for v in reasons.values())
        return len(batch) - held_count, held_count


async def execute(
    db: Database, store: BlobStore, lg_code: str, job_id: uuid.UUID, *, executed_by: str
) -> PurgeReport:
    """Delete exactly the job's list; safe to run again after a crash (finishes the job)."""
    async with db.tenant(lg_code) as session:
        job = await _job(session, lg_code, job_id)
        if job.status == "done":
            raise Conflict("この削除ジョブは実行済みです。", code="purge.done")
        job.status = "running"
        job.executed_by = executed_by
    while True:
        deleted, skipped = await _delete_rows_batch(db, lg_code, job_id, audit.Actor(username=executed_by))
        if not deleted and not skipped:
            break
    pending = [
        i
        for i in await items(db, lg_code, job_id)
        if i.rows_deleted_at is not None and i.blobs_deleted_at is None
    ]
    # Blobs of a batch first, then one transaction stamping the batch (deleting a missing blob
    # again after a crash is harmless); not one transaction per item.
    for start in range(0, len(pending), BATCH):
        chunk = pending[start : start + BATCH]
        for item in chunk:
            for blob in item.blobs:
                store.delete(blob["key"])
        async with db.tenant(lg_code) as session:
            await session.execute(
                sa.update(PurgeItem)
                .where(PurgeItem.id.in_([i.id for i in chunk]))
                .values(blobs_deleted_at=datetime.now(UTC))
            )
    final = await items(db, lg_code, job_id)
    done = sum(1 for i in final if i.rows_deleted_at is not None)
    eforms_done = sum(1 for i in final if i.rows_deleted_at is not None and i.scope == SCOPE_EFORM)
    skipped_count = sum(1 for i in final if i.skipped_reason)
    async with db.tenant(lg_code) as session:
        job = await _job(session, lg_code, job_id)
        job.status = "done"
        job.executed_at = datetime.now(UTC)
        await audit.record(
            session,
            lg_code=lg_code,
            actor=audit.Actor(username=executed_by),
            action="reception_purge_success",
            object_type="purge_job",
            object_id=job_id,
            details={
                "deleted": done,
                "eforms_deleted": eforms_done,
                "skipped": skipped_count,
                "cutoff": job.cutoff.isoformat(),
            },
        )
    return PurgeReport(job_id, "done", len(final), done, skipped_count)


def _job_read(job: PurgeJob) -> PurgeJobRead:
    return PurgeJobRead(
        id=job.id,
        status=job.status,
        cutoff=job.cutoff,
        item_count=job.item_count,
        planned_at=job.planned_at,
        planned_by=job.planned_by,
        executed_at=job.executed_at,
        executed_by=job.executed_by,
    )


async def jobs(db: Database, lg_code: str, limit: int = 50) -> list[PurgeJobRead]:
    """The municipality's purge jobs, newest first (the deletion records)."""
    async with db.tenant(lg_code) as session:
        rows = (
            await session.execute(
                sa.select(PurgeJob)
                .where(PurgeJob.lg_code == lg_code)
                .order_by(PurgeJob.planned_at.desc())
                .limit(limit)
            )
        ).scalars()
        return [_job_read(j) for j in rows]


async def describe(db: Database, lg_code: str, job_id: uuid.UUID, *, limit: int = 500) -> PurgeJobDetail:
    """A job with its counts per class and the first ``limit`` items, for the supervisor screen."""
    async with db.tenant(lg_code) as session:
        job = _job_read(await _job(session, lg_code, job_id))
    listed = await items(db, lg_code, job_id)
    per_class: dict[str, int] = {}
    for item in listed:
        if item.scope == SCOPE_EFORM:  # counted as applications (their files are in ``documents``)
            per_class[DocumentClass.eform_application.value] = (
                per_class.get(DocumentClass.eform_application.value, 0) + 1
            )
            continue
        for blob in item.blobs:
            cls = blob.get("document_class", DocumentClass.other.value)
            per_class[cls] = per_class.get(cls, 0) + 1
    by_class = [
        PurgeClassCount(document_class=cls, label=DOCUMENT_CLASS_LABELS[cls], count=per_class[cls.value])
        for cls in DocumentClass
        if per_class.get(cls.value)
    ]
    return PurgeJobDetail(
        job=job,
        receptions=sum(1 for i in listed if i.scope == SCOPE_RECEPTION),
        documents_only=sum(1 for i in listed if i.scope == SCOPE_DOCUMENTS),
        eforms=sum(1 for i in listed if i.scope == SCOPE_EFORM),
        by_class=by_class,
        deleted=sum(1 for i in listed if i.rows_deleted_at is not None),
        skipped=sum(1 for i in listed if i.skipped_reason),
        items=[
            PurgeItemRead(
                reception_id=i.reception_id,
                reception_number=i.reception_number,
                business_date=i.business_date,
                scope=i.scope,
                documents=len(i.blobs),
                classes=sorted(
                    {DocumentClass(b.get("document_class", DocumentClass.other.value)) for b in i.blobs}
                ),
                rows_deleted_at=i.rows_deleted_at,
                blobs_deleted_at=i.blobs_deleted_at,
                skipped_reason=i.skipped_reason,
            )
            for i in listed[:limit]
        ],
        items_limit=limit,
    )
