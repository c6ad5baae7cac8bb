"""Procedure versions: an application is always read with the definition it was submitted under.

Publishing from the form builder archives the new definition as version N+1 in
``eform_procedure_versions``; submitted applications carry ``procedure_version``. Applications
submitted before a procedure's first builder publish have no version and are stamped with the
outgoing one when it is replaced, so editing a published form never breaks them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Application, Procedure, ProcedureVersion
from server.domain import audit
from server.domain.eforms.services import definition_of, parse_definition
from shared.schemas.eform import EformProcedure


async def definition_for(session: AsyncSession, app: Application, row: Procedure) -> EformProcedure:
    """The definition ``app`` was submitted under (the live one for drafts and current versions)."""
    if app.procedure_version is None or app.procedure_version == row.version:
        return definition_of(row)
    data = await session.scalar(
        sa.select(ProcedureVersion.definition).where(
            ProcedureVersion.procedure_id == row.id, ProcedureVersion.version == app.procedure_version
        )
    )
    return parse_definition(row.id, app.procedure_version, data) if data is not None else definition_of(row)


async def _archive(session: AsyncSession, row: Procedure, by: str) -> None:
    """Store ``row.definition`` as its version (replacing an archived copy no application uses)."""
    old = (
        await session.execute(
            sa.select(ProcedureVersion).where(
                ProcedureVersion.procedure_id == row.id, ProcedureVersion.version == row.version
            )
        )
    ).scalar_one_or_none()
    now = datetime.now(UTC)
    if old is None:
        session.add(
            ProcedureVersion(
                lg_code=row.lg_code,
                procedure_id=row.id,
                version=row.version,
                definition=row.definition,
                published_at=now,
                published_by=by,
            )
        )
    else:
        old.definition, old.published_at, old.published_by = row.definition, now, by


async def publish(
    session: AsyncSession, actor: audit.Actor, row: Procedure, definition: EformProcedure
) -> int:
    """Make ``definition`` live; if submitted applications use the live one, as a new version."""
    by = actor.username or "system"
    in_use = await session.scalar(
        sa.select(Application.id)
        .where(
            Application.procedure_id == row.id,
            Application.reference.is_not(None),
            sa.or_(Application.procedure_version.is_(None), Application.procedure_version == row.version),
        )
        .limit(1)
    )
    if in_use is not None:
        await _archive(session, row, by)
        await session.execute(
            sa.update(Application)
            .where(
                Application.procedure_id == row.id,
                Application.reference.is_not(None),
                Application.procedure_version.is_(None),
            )
            .values(procedure_version=row.version)
        )
        row.version += 1
    row.definition = definition.model_dump(mode="json", exclude_none=True)
    row.title, row.category = definition.title, definition.category
    row.draft_definition = None
    row.published = True
    await _archive(session, row, by)
    await session.flush()
    return row.version
