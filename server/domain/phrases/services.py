"""語句登録: list, create, update and delete phrases of one list (a clerk's own, or the office's).

Rules the routes rely on:

- A clerk's own list is his alone: another clerk's phrase, and any phrase of another municipality
  (row-level security on PostgreSQL, ``lg_code`` everywhere), is reported as 404, never 403, so
  that ids cannot be probed.
- The same text, or the same 略号, twice in one list is refused (409 ``phrase.duplicate`` /
  ``phrase.duplicate_key``); the unique constraints catch a race between two terminals.
- Each list has a size limit from the settings (``phrase.limit``).
- An update names the version it read; a stale one is refused (409 ``phrase.version``).

Every write is audited (``phrase_create|update|delete_success``) with the scope and the category,
never the text; a write aimed at a phrase the caller cannot see is audited as ``…_failure``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import Settings
from server.db.engine import Database
from server.db.models import Phrase
from server.db.models._phrase import OFFICE_SCOPE_KEY
from server.domain import audit
from server.domain.accounts.services import Principal
from shared.api_counter import PhraseCategory, PhraseList, PhraseRead, PhraseScope, PhraseWrite
from shared.errors import Conflict, InvalidInput, NotFound
from shared.permissions import Permission
from shared.text.normalize import search_key


def scope_key(principal: Principal, scope: PhraseScope) -> str:
    return OFFICE_SCOPE_KEY if scope is PhraseScope.office else str(principal.user_id)


def to_read(row: Phrase) -> PhraseRead:
    return PhraseRead(
        id=row.id,
        scope=PhraseScope.office if row.scope_key == OFFICE_SCOPE_KEY else PhraseScope.user,
        reading=row.reading,
        key=row.key,
        text=row.text,
        category=PhraseCategory(row.category),
        version=row.version,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


async def list_phrases(db: Database, principal: Principal) -> PhraseList:
    """The caller's own phrases and the office's, by reading (the picker's copy)."""
    async with db.tenant(principal.lg_code) as session:
        rows = (
            await session.execute(
                sa.select(Phrase)
                .where(
                    Phrase.lg_code == principal.lg_code,
                    Phrase.scope_key.in_([str(principal.user_id), OFFICE_SCOPE_KEY]),
                )
                .order_by(Phrase.reading_key, Phrase.text)
            )
        ).scalars()
        items = [to_read(r) for r in rows]
    return PhraseList(items=items, can_manage_office=principal.has(Permission.phrase_manage))


async def _check_unique(
    session: AsyncSession, lg_code: str, scope: str, data: PhraseWrite, exclude: uuid.UUID | None
) -> None:
    clash = sa.or_(Phrase.text == data.text, Phrase.key == data.key) if data.key else Phrase.text == data.text
    query = sa.select(Phrase.text, Phrase.key).where(
        Phrase.lg_code == lg_code, Phrase.scope_key == scope, clash
    )
    if exclude is not None:
        query = query.where(Phrase.id != exclude)
    for text, key in (await session.execute(query)).all():
        if text == data.text:
            raise Conflict("同じ語句がすでに登録されています。", code="phrase.duplicate", field="text")
        if data.key and key == data.key:
            raise Conflict(
                f"略号「{data.key}」はすでに別の語句に使われています。",
                code="phrase.duplicate_key",
                field="key",
            )


async def _audit_failure(
    db: Database,
    principal: Principal,
    action: str,
    phrase_id: uuid.UUID | None,
    code: str,
    scope: PhraseScope,
) -> None:
    async with db.tenant(principal.lg_code) as session:
        await audit.record(
            session,
            lg_code=principal.lg_code,
            actor=principal.actor,
            action=action,
            object_type="phrase",
            object_id=phrase_id,
            details={"scope": scope.value, "code": code},
        )


async def create(
    db: Database, settings: Settings, principal: Principal, scope: PhraseScope, data: PhraseWrite
) -> PhraseRead:
    """Register a phrase in the caller's own list or (already authorised) the office's."""
    lg_code = principal.lg_code
    key = scope_key(principal, scope)
    limit = settings.phrases_max_per_office if scope is PhraseScope.office else settings.phrases_max_per_user
    now = datetime.now(UTC)
    try:
        async with db.tenant(lg_code) as session:
            count = (
                await session.execute(
                    sa.select(sa.func.count()).where(Phrase.lg_code == lg_code, Phrase.scope_key == key)
                )
            ).scalar_one()
            if count >= limit:
                raise InvalidInput(
                    f"登録できる語句は{limit}件までです。使わない語句を削除してください。",
                    code="phrase.limit",
                )
            await _check_unique(session, lg_code, key, data, None)
            row = Phrase(
                id=uuid.uuid4(),
                lg_code=lg_code,
                owner_user_id=None if scope is PhraseScope.office else principal.user_id,
                scope_key=key,
                reading=data.reading,
                reading_key=search_key(data.reading)[:100],
                key=data.key,
                text=data.text,
                category=data.category.value,
                version=1,
                created_at=now,
                updated_at=now,
                updated_by=principal.username,
            )
            session.add(row)
            await session.flush()
            await audit.record(
                session,
                lg_code=lg_code,
                actor=principal.actor,
                action="phrase_create_success",
                object_type="phrase",
                object_id=row.id,
                details={"scope": scope.value, "category": data.category.value},
            )
            return to_read(row)
    except IntegrityError:
        raise Conflict("同じ語句がすでに登録されています。", code="phrase.duplicate", field="text") from None


async def _visible(
    session: AsyncSession, principal: Principal, scope: PhraseScope, phrase_id: uuid.UUID
) -> Phrase:
    row = (
        await session.execute(
            sa.select(Phrase).where(
                Phrase.id == phrase_id,
                Phrase.lg_code == principal.lg_code,
                Phrase.scope_key == scope_key(principal, scope),
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("語句が見つかりません。削除されたか、変更できない語句です。", code="phrase.not_found")
    return row


async def update(
    db: Database, principal: Principal, scope: PhraseScope, phrase_id: uuid.UUID, data: PhraseWrite
) -> PhraseRead:
    """Change a phrase of the given list; the version read must still be current."""
    lg_code = principal.lg_code
    if data.version is None:
        raise InvalidInput(
            "更新する語句の版 (version) を指定してください。", code="phrase.version_missing", field="version"
        )
    try:
        async with db.tenant(lg_code) as session:
            row = await _visible(session, principal, scope, phrase_id)
            if row.version != data.version:
                raise Conflict(
                    "この語句は他の画面で変更されています。一覧を読み込み直してから変更してください。",
                    code="phrase.version",
                )
            await _check_unique(session, lg_code, row.scope_key, data, row.id)
            row.reading = data.reading
            row.reading_key = search_key(data.reading)[:100]
            row.key = data.key
            row.text = data.text
            row.category = data.category.value
            row.version += 1
            row.updated_at = datetime.now(UTC)
            row.updated_by = principal.username
            await session.flush()
            await audit.record(
                session,
                lg_code=lg_code,
                actor=principal.actor,
                action="phrase_update_success",
                object_type="phrase",
                object_id=row.id,
                details={"scope": scope.value, "category": data.category.value, "version": row.version},
            )
            return to_read(row)
    except NotFound as exc:
        await _audit_failure(db, principal, "phrase_update_failure", phrase_id, exc.error_code, scope)
        raise
    except IntegrityError:
        raise Conflict("同じ語句がすでに登録されています。", code="phrase.duplicate", field="text") from None


async def delete(db: Database, principal: Principal, scope: PhraseScope, phrase_id: uuid.UUID) -> None:
    """Remove a phrase of the given list."""
    lg_code = principal.lg_code
    try:
        async with db.tenant(lg_code) as session:
            row = await _visible(session, principal, scope, phrase_id)
            category = row.category
            await session.delete(row)
            await audit.record(
                session,
                lg_code=lg_code,
                actor=principal.actor,
                action="phrase_delete_success",
                object_type="phrase",
                object_id=phrase_id,
                details={"scope": scope.value, "category": category},
            )
    except NotFound as exc:
        await _audit_failure(db, principal, "phrase_delete_failure", phrase_id, exc.error_code, scope)
        raise
