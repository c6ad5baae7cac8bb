"""保存区分 (retention classes): how many years each document class is kept, per municipality.

A class without a row in ``retention_classes`` keeps its default: :data:`DEFAULT_YEARS`, where
``None`` means the municipality's general period (``retention_years`` /
``retention_years_by_municipality``). ``notice_form`` (異動届) is also the period of the reception
data itself: a reception is purged only after it, and only when none of its documents is kept.

Changing a class rewrites ``retain_until`` of the documents already archived in that class
(受付日 + new years), so the date shown, the purge plan and the rule always agree. The PDF's own
XMP ``RetainUntil`` is the date at archiving; the database row is authoritative.

``eform_application`` (電子申請) is not a class of counter documents: it is the period of an online
application, its history and its attachments, counted from the day it was completed, withdrawn or
rejected (:mod:`.service`); there is nothing to re-date when it changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import Settings
from server.db.engine import Database
from server.db.models import Attachment, Reception, RetentionClass
from server.domain import audit
from shared.api_records import (
    DOCUMENT_CLASS_LABELS,
    RETENTION_MAX_YEARS,
    RETENTION_MIN_YEARS,
    DocumentClass,
    RetentionClassRead,
)
from shared.errors import InvalidInput

#: Default years per class; None: the municipality's general period (``Settings.retention_for``).
#: 交付請求書, 本人確認書類 and generated forms are kept 3 years (the usual 文書管理規程 period for
#: certificate requests); the notice itself and what was filed with it follow the general period.
DEFAULT_YEARS: dict[DocumentClass, int | None] = {
    DocumentClass.notice_form: None,
    DocumentClass.scan: None,
    DocumentClass.power_of_attorney: None,
    DocumentClass.identity_document: 3,
    DocumentClass.issuance_request: 3,
    DocumentClass.generated_form: 3,
    DocumentClass.other: None,
    DocumentClass.eform_application: None,
}

#: Classes that only set a period; no counter document is archived in them.
NOT_FOR_ATTACHMENTS = frozenset({DocumentClass.eform_application})


def default_years(settings: Settings, lg_code: str, document_class: DocumentClass) -> int:
    fixed = DEFAULT_YEARS.get(document_class)
    return fixed if fixed is not None else settings.retention_for(lg_code)


def add_years(day: date, years: int) -> date:
    """``day`` plus ``years`` calendar years (29 February becomes 28 February)."""
    from server.domain.documents.services import add_years as _add

    return _add(day, years)


def validate_years(years: int) -> None:
    """Refuse a period below the legal minimum or absurdly long, in Japanese."""
    if years < RETENTION_MIN_YEARS:
        raise InvalidInput(
            f"保存年数は法令上の最低期間 ({RETENTION_MIN_YEARS}年、住民基本台帳法施行令第34条) "
            "より短くできません。",
            code="retention.below_minimum",
        )
    if years > RETENTION_MAX_YEARS:
        raise InvalidInput(
            f"保存年数が長すぎます (上限 {RETENTION_MAX_YEARS} 年)。入力を確かめてください。",
            code="retention.too_long",
        )


async def _rows(session: AsyncSession, lg_code: str) -> dict[str, RetentionClass]:
    rows = (
        (await session.execute(sa.select(RetentionClass).where(RetentionClass.lg_code == lg_code)))
        .scalars()
        .all()
    )
    return {r.document_class: r for r in rows}


async def effective(session: AsyncSession, settings: Settings, lg_code: str) -> list[RetentionClassRead]:
    """Every class of ``lg_code`` with its years, default and who changed it last."""
    rows = await _rows(session, lg_code)
    result = []
    for cls in DocumentClass:
        row = rows.get(cls.value)
        default = default_years(settings, lg_code, cls)
        result.append(
            RetentionClassRead(
                document_class=cls,
                label=DOCUMENT_CLASS_LABELS[cls],
                years=row.years if row else default,
                default_years=default,
                customized=row is not None,
                updated_at=row.updated_at if row else None,
                updated_by=row.updated_by if row else None,
            )
        )
    return result


async def years_by_class(session: AsyncSession, settings: Settings, lg_code: str) -> dict[DocumentClass, int]:
    return {c.document_class: c.years for c in await effective(session, settings, lg_code)}


async def years_for(
    session: AsyncSession, settings: Settings, lg_code: str, document_class: DocumentClass
) -> int:
    row = (await _rows(session, lg_code)).get(document_class.value)
    return row.years if row else default_years(settings, lg_code, document_class)


async def _restamp(session: AsyncSession, lg_code: str, document_class: DocumentClass, years: int) -> int:
    """retain_until = 受付日 + years for every archived document of the class; returns the count."""
    days = (
        (
            await session.execute(
                sa.select(Reception.business_date)
                .join(Attachment, Attachment.reception_id == Reception.id)
                .where(Attachment.lg_code == lg_code, Attachment.document_class == document_class.value)
                .distinct()
            )
        )
        .scalars()
        .all()
    )
    changed = 0
    for day in days:
        result = await session.execute(
            sa.update(Attachment)
            .where(
                Attachment.lg_code == lg_code,
                Attachment.document_class == document_class.value,
                Attachment.reception_id.in_(
                    sa.select(Reception.id).where(
                        Reception.lg_code == lg_code, Reception.business_date == day
                    )
                ),
            )
            .values(retain_until=add_years(day, years))
            .execution_options(synchronize_session=False)
        )
        changed += result.rowcount or 0  # type: ignore[attr-defined]
    return changed


async def update(
    db: Database,
    settings: Settings,
    lg_code: str,
    document_class: DocumentClass,
    years: int,
    *,
    actor: audit.Actor,
) -> RetentionClassRead:
    """Set the years of one class (audited with the old and new value); refusals are audited too."""
    try:
        validate_years(years)
    except InvalidInput as exc:
        async with db.tenant(lg_code) as session:
            await audit.record(
                session,
                lg_code=lg_code,
                actor=actor,
                action="retention_class_update_failure",
                object_type="retention_class",
                object_id=None,
                details={"document_class": document_class.value, "years": years, "code": exc.error_code},
            )
        raise
    async with db.tenant(lg_code) as session:
        rows = await _rows(session, lg_code)
        row = rows.get(document_class.value)
        old = row.years if row else default_years(settings, lg_code, document_class)
        now = datetime.now(UTC)
        if row is None:
            row = RetentionClass(
                lg_code=lg_code, document_class=document_class.value, years=years, updated_by=actor.username
            )
            session.add(row)
        row.years = years
        row.updated_at = now
        row.updated_by = actor.username or ""
        await session.flush()
        restamped = (
            await _restamp(session, lg_code, document_class, years)
            if old != years and document_class not in NOT_FOR_ATTACHMENTS
            else 0
        )
        await audit.record(
            session,
            lg_code=lg_code,
            actor=actor,
            action="retention_class_update_success",
            object_type="retention_class",
            object_id=row.id,
            details={
                "document_class": document_class.value,
                "old_years": old,
                "new_years": years,
                "documents_restamped": restamped,
            },
        )
        result = await effective(session, settings, lg_code)
    return next(c for c in result if c.document_class is document_class)
