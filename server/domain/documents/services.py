"""Archive and search of receptions: attachments with SHA-256, search keys, audited search and view.

Storing an attachment: check and convert (:mod:`.checks`, in a worker thread) → write the blob →
in one transaction lock the reception, check the reception's total size, insert the row and the
audit event. If anything after the blob write fails the blob is removed again, so a refused or
failed upload leaves nothing behind. Reading verifies the SHA-256 before a byte is returned.

Search keys (``reception_search_keys``) are written by :func:`index_reception` in the same
transaction that stores a reception; :func:`ensure_indexed` (``madoguchi-server records reindex``)
builds them for receptions stored before the index existed or loaded by other means.
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from server.config import Settings
from server.crypto import KeyRing
from server.db.engine import Database
from server.db.models import Attachment, Reception, ReceptionPerson, ReceptionSearchKey, User
from server.domain import audit
from server.domain.accounts.services import Principal
from server.domain.documents.checks import ArchiveInfo, Limits, inspect_upload
from server.domain.retention import classes as retention_classes
from server.plugins.blobstore import BlobStore
from shared.api_records import (
    DOCUMENT_CLASS_LABELS,
    AttachmentRead,
    DocumentClass,
    ReceptionPage,
    ReceptionRecord,
    ReceptionSummary,
    SortKey,
)
from shared.errors import Conflict, InvalidInput, MadoguchiError, NotFound, PayloadTooLarge
from shared.models.movement_notice import STORED
from shared.permissions import Permission

if TYPE_CHECKING:
    from server.domain.accounts.guards import DeferredPrincipal
from shared.text.normalize import search_key

_INDEX_BATCH = 2000


#: Highest page number a search accepts: the offset stays far inside a 64-bit integer (a page
#: number near 2**63 made the database's OFFSET overflow: a 500, found by schemathesis).
SEARCH_PAGE_MAX = 1_000_000


class IntegrityFailure(MadoguchiError):
    code = "attachment.integrity"
    http_status = 500
    default_message = (
        "保存された文書が記録と一致しません (改ざんまたは破損の可能性)。バックアップから復元してください。"
    )


def add_years(day: date, years: int) -> date:
    """``day`` plus ``years`` calendar years (29 February becomes 28 February)."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def retain_until(settings: Settings, lg_code: str, business_date: date) -> date:
    """The general period only; archived documents use their class (:mod:`..retention.classes`)."""
    return add_years(business_date, settings.retention_for(lg_code))


def to_attachment_read(row: Attachment) -> AttachmentRead:
    return AttachmentRead(
        id=row.id,
        reception_id=row.reception_id,
        document_class=DocumentClass(row.document_class),
        filename=row.filename,
        source_media_type=row.source_media_type,
        page_count=row.page_count,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        retain_until=row.retain_until,
        created_at=row.created_at,
    )


def _safe_filename(name: str | None) -> str:
    cleaned = "".join(ch for ch in (name or "") if ch.isprintable() and ch not in "/\\")
    return cleaned.strip()[:200] or "document"


async def _reception(session: AsyncSession, lg_code: str, reception_id: uuid.UUID) -> Reception:
    row = (
        await session.execute(
            sa.select(Reception).where(Reception.id == reception_id, Reception.lg_code == lg_code)
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("受付が見つかりません。", code="reception.not_found")
    return row


def _may_see(principal: Principal, reception: Reception) -> bool:
    return principal.has(Permission.record_search) or reception.created_by == principal.user_id


async def _audit_refusal(
    db: Database, principal: Principal, reception_id: uuid.UUID, error: MadoguchiError
) -> None:
    async with db.tenant(principal.lg_code) as session:
        await audit.record(
            session,
            lg_code=principal.lg_code,
            actor=principal.actor,
            action="attachment_create_failure",
            object_type="reception",
            object_id=reception_id,
            details={"code": error.error_code},
        )


async def upload(
    db: Database,
    store: BlobStore,
    settings: Settings,
    principal: Principal,
    reception_id: uuid.UUID,
    data: bytes,
    document_class: DocumentClass,
    filename: str | None,
    *,
    client_key: uuid.UUID | None = None,
) -> AttachmentRead:
    """Check, convert and store one attachment of a reception; refusals are audited too.

    ``client_key`` (the client outbox's idempotency key): if a document with that key is already
    stored for this reception it is answered as is, so a resend never stores a second copy.
    """
    lg_code = principal.lg_code
    if document_class in retention_classes.NOT_FOR_ATTACHMENTS:
        raise InvalidInput(
            f"「{DOCUMENT_CLASS_LABELS[document_class]}」は受付の文書の種類には使えません。",
            code="attachment.document_class",
        )
    async with db.tenant(lg_code) as session:
        reception = await _reception(session, lg_code, reception_id)
        if not _may_see(principal, reception):
            raise NotFound("受付が見つかりません。", code="reception.not_found")
        if client_key is not None:
            existing = await _by_client_key(session, lg_code, reception_id, client_key)
            if existing is not None:
                return existing
        years = await retention_classes.years_for(session, settings, lg_code, document_class)
        keep = add_years(reception.business_date, years)
        number = reception.reception_number
    limits = Limits(
        settings.attachment_max_bytes, settings.attachment_max_pages, settings.attachment_max_pixels
    )
    info = ArchiveInfo(str(reception_id), number, document_class.value, keep, lg_code)
    try:
        inspected = await anyio.to_thread.run_sync(inspect_upload, data, limits, info)
    except (InvalidInput, PayloadTooLarge) as exc:
        await _audit_refusal(db, principal, reception_id, exc)
        raise
    attachment_id = uuid.uuid4()
    key = f"{lg_code}/{reception_id}/{attachment_id}.pdf"
    digest = hashlib.sha256(inspected.pdf).hexdigest()
    await anyio.to_thread.run_sync(store.put, key, inspected.pdf)
    try:
        async with db.tenant(lg_code) as session:
            await session.execute(
                sa.select(Reception.id).where(Reception.id == reception_id).with_for_update()
            )
            used = (
                await session.execute(
                    sa.select(sa.func.coalesce(sa.func.sum(Attachment.size_bytes), 0)).where(
                        Attachment.reception_id == reception_id, Attachment.lg_code == lg_code
                    )
                )
            ).scalar_one()
            if int(used) + len(inspected.pdf) > settings.attachment_max_reception_bytes:
                raise PayloadTooLarge(
                    "この受付の添付ファイルの合計が上限"
                    f" ({settings.attachment_max_reception_bytes / 1_000_000:g} MB) を超えます。",
                    code="attachment.reception_too_large",
                )
            row = Attachment(
                id=attachment_id,
                lg_code=lg_code,
                reception_id=reception_id,
                document_class=document_class.value,
                filename=_safe_filename(filename),
                source_media_type=inspected.media_type,
                source_sha256=hashlib.sha256(data).hexdigest(),
                page_count=inspected.page_count,
                size_bytes=len(inspected.pdf),
                sha256=digest,
                blob_key=key,
                retain_until=keep,
                created_by=principal.user_id,
                client_key=client_key,
            )
            session.add(row)
            await session.flush()
            await audit.record(
                session,
                lg_code=lg_code,
                actor=principal.actor,
                action="attachment_create_success",
                object_type="attachment",
                object_id=attachment_id,
                details={"reception_id": str(reception_id), "sha256": digest, "pages": inspected.page_count},
            )
            result = to_attachment_read(row)
    except BaseException as exc:
        await anyio.to_thread.run_sync(store.delete, key)
        if isinstance(exc, PayloadTooLarge):
            await _audit_refusal(db, principal, reception_id, exc)
        if isinstance(exc, IntegrityError) and client_key is not None:
            # The same key was stored by a concurrent resend meanwhile: answer that document.
            async with db.tenant(lg_code) as session:
                existing = await _by_client_key(session, lg_code, reception_id, client_key)
            if existing is not None:
                return existing
        raise
    return result


async def _by_client_key(
    session: AsyncSession, lg_code: str, reception_id: uuid.UUID, client_key: uuid.UUID
) -> AttachmentRead | None:
    """The document stored under ``client_key`` (a key reused on another reception is a conflict)."""
    row = (
        await session.execute(
            sa.select(Attachment).where(Attachment.lg_code == lg_code, Attachment.client_key == client_key)
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    if row.reception_id != reception_id:
        raise Conflict(
            "同じ送信キーの文書が別の受付に登録されています。", code="attachment.client_key_conflict"
        )
    return to_attachment_read(row)


async def _attachments(session: AsyncSession, lg_code: str, reception_id: uuid.UUID) -> list[Attachment]:
    return list(
        (
            await session.execute(
                sa.select(Attachment)
                .where(Attachment.reception_id == reception_id, Attachment.lg_code == lg_code)
                .order_by(Attachment.created_at, Attachment.id)
            )
        )
        .scalars()
        .all()
    )


async def list_attachments(
    db: Database, principal: Principal, reception_id: uuid.UUID
) -> list[AttachmentRead]:
    async with db.tenant(principal.lg_code) as session:
        reception = await _reception(session, principal.lg_code, reception_id)
        if not _may_see(principal, reception):
            raise NotFound("受付が見つかりません。", code="reception.not_found")
        return [to_attachment_read(a) for a in await _attachments(session, principal.lg_code, reception_id)]


def read_verified(store: BlobStore, key: str, sha256: str) -> bytes:
    """The blob's bytes if their SHA-256 is ``sha256``; otherwise :class:`IntegrityFailure`."""
    data = store.get(key)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise IntegrityFailure()
    return data


async def content(
    db: Database, store: BlobStore, principal: Principal, attachment_id: uuid.UUID
) -> tuple[AttachmentRead, bytes]:
    """An attachment's PDF, hash verified, audited as a view (or as an integrity failure)."""
    lg_code = principal.lg_code
    async with db.tenant(lg_code) as session:
        row = (
            await session.execute(
                sa.select(Attachment).where(Attachment.id == attachment_id, Attachment.lg_code == lg_code)
            )
        ).scalar_one_or_none()
        if row is None or not _may_see(principal, await _reception(session, lg_code, row.reception_id)):
            raise NotFound("文書が見つかりません。", code="attachment.not_found")
        meta = to_attachment_read(row)
        key, digest = row.blob_key, row.sha256
    try:
        data = await anyio.to_thread.run_sync(read_verified, store, key, digest)
    except MadoguchiError as exc:
        async with db.tenant(lg_code) as session:
            await audit.record(
                session,
                lg_code=lg_code,
                actor=principal.actor,
                action="attachment_read_failure",
                object_type="attachment",
                object_id=attachment_id,
                details={"code": exc.error_code},
            )
        raise
    async with db.tenant(lg_code) as session:
        await audit.record(
            session,
            lg_code=lg_code,
            actor=principal.actor,
            action="attachment_read_success",
            object_type="attachment",
            object_id=attachment_id,
            details={"reception_id": str(meta.reception_id)},
        )
    return meta, data


# ---------------------------------------------------------------------------------- search index


def keys_of_notice(notice: dict[str, Any]) -> list[tuple[str, str, date | None]]:
    """``(kind, key, birth_date)`` for every name spelling of every person and the 確認番号."""
    found: set[tuple[str, str, date | None]] = set()
    for person in notice.get("persons", []):
        born = date.fromisoformat(person["birth_date"]) if person.get("birth_date") else None

        def name(*fields: str, person: dict[str, Any] = person) -> str:
            return "".join(str(person.get(f) or "") for f in fields)

        for spelling in (
            name("family_name", "given_name"),
            name("family_name_kana", "given_name_kana"),
            name("given_name"),
            name("given_name_kana"),
            name("roman_name"),
            name("kanji_name"),
            name("name_kana"),
            name("alias_name"),
            name("alias_kana"),
            name("former_surname", "given_name"),
            name("former_surname_kana", "given_name_kana"),
        ):
            key = search_key(spelling)[:200]
            if key:
                found.add(("name", key, born))
    confirmation = search_key(str(notice.get("confirmation_number") or ""))[:200]
    if confirmation:
        found.add(("confirmation", confirmation, None))
    return sorted(found, key=lambda t: (t[0], t[1], t[2] or date.min))


def _key_rows(
    lg_code: str, reception_id: uuid.UUID, reception_number: str, notice: dict[str, Any]
) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid4(),
            "lg_code": lg_code,
            "reception_id": reception_id,
            "reception_number": reception_number,
            "kind": k,
            "key": v,
            "birth_date": b,
        }
        for k, v, b in keys_of_notice(notice) or [("none", "", None)]
    ]


async def index_reception(
    session: AsyncSession,
    lg_code: str,
    reception_id: uuid.UUID,
    reception_number: str,
    notice: dict[str, Any],
) -> None:
    """Write the search keys of one reception (called by the receptions domain when storing it)."""
    await session.execute(
        sa.insert(ReceptionSearchKey), _key_rows(lg_code, reception_id, reception_number, notice)
    )


async def ensure_indexed(session: AsyncSession, lg_code: str, *, since: date | None = None) -> int:
    """Build search keys for receptions of ``lg_code`` that have none. Returns how many.

    With ``since`` only receptions numbered from that 受付日 on are looked at (the receptions
    domain numbers them ``YYYYMMDD-NNNN``, so the unique index on the number bounds the scan);
    searches pass yesterday, ``madoguchi-server records reindex`` passes None (everything).
    """
    done = 0
    while True:
        has_keys = sa.select(ReceptionSearchKey.id).where(
            ReceptionSearchKey.reception_id == Reception.id, ReceptionSearchKey.lg_code == lg_code
        )
        where = [Reception.lg_code == lg_code, ~has_keys.exists()]
        if since is not None:
            where.append(Reception.reception_number >= f"{since:%Y%m%d}")
        rows = (
            await session.execute(
                sa.select(Reception.id, Reception.reception_number, Reception.notice)
                .where(*where)
                .limit(_INDEX_BATCH)
            )
        ).all()
        if not rows:
            return done
        values = [row for rid, number, notice in rows for row in _key_rows(lg_code, rid, number, notice)]
        await session.execute(sa.insert(ReceptionSearchKey), values)
        done += len(rows)


@dataclass(frozen=True)
class SearchQuery:
    """What the clerk asked for; every field optional."""

    name: str | None = None
    birth_date: date | None = None
    date_from: date | None = None
    date_to: date | None = None
    reception_number: str | None = None
    confirmation_number: str | None = None
    kind: str | None = None
    status: str | None = None
    clerk: str | None = None
    terminal_id: str | None = None
    sort: SortKey = SortKey.reception_number
    descending: bool = True
    page: int = 1
    page_size: int = 50

    def audit_details(self) -> dict[str, Any]:
        """Which criteria were used (names and birth dates are personal data: only flagged)."""
        details: dict[str, Any] = {
            "criteria": sorted(k for k in _CRITERIA if getattr(self, k) not in (None, ""))
        }
        for k in ("date_from", "date_to", "reception_number", "kind", "status", "clerk", "terminal_id"):
            value = getattr(self, k)
            if value not in (None, ""):
                details[k] = str(value)
        return details


#: Sorts after every character a key can hold, so ``prefix <= key < prefix + _TOP`` is "starts with".
_TOP = "\U0010ffff"

#: The criteria of :class:`SearchQuery`; which of them are set (with the sort, its direction,
#: whether the user sees only their own receptions and the dialect) is a search's *shape*.
_CRITERIA = (
    "name",
    "birth_date",
    "date_from",
    "date_to",
    "reception_number",
    "confirmation_number",
    "kind",
    "status",
    "clerk",
    "terminal_id",
)


@dataclass(frozen=True)
class _Shape:
    """What a search's statements depend on; the values go in as bound parameters.

    The statements of one shape are built once per process (:func:`_statements`): building a
    statement and computing its SQLAlchemy cache key cost more CPU per search than the rest of
    the server's work on it (the key is memoised on the statement object, so a reused statement
    finds its compiled form without either).
    """

    criteria: frozenset[str]
    sort: SortKey
    descending: bool
    own: bool
    dialect: str

    def has(self, criterion: str) -> bool:
        return criterion in self.criteria

    @property
    def keyed(self) -> bool:
        """Whether the name (with birth date and 受付日 range) is the whole search and the sort is
        by 受付番号: then the matching keys alone say which receptions, in which order."""
        others = {"reception_number", "confirmation_number", "kind", "status", "terminal_id", "clerk"}
        return (
            self.has("name")
            and not self.own
            and self.sort == SortKey.reception_number
            and not self.criteria & others
        )


#: A name search with a 受付日 range reads its keys month by month (one index descent each) when
#: the range spans at most this many months; a longer one reads the name's keys of all time.
_MONTHS_MAX = 120


def _months(query: SearchQuery) -> list[int] | None:
    """The months (YYYYMM) of the 受付日 range of a name search, oldest first; None when the
    search has no name or no start, or the range is longer than :data:`_MONTHS_MAX` months.

    An open end is tomorrow in UTC: no 受付番号 is dated after today in JST. A range that ends
    before it starts gives its first month (the 受付番号 range then matches nothing)."""
    if not query.name or not query.date_from:
        return None
    first = query.date_from
    last = max(first, query.date_to or datetime.now(UTC).date() + timedelta(days=1))
    start, end = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    if end - start >= _MONTHS_MAX:
        return None
    return [(i // 12) * 100 + i % 12 + 1 for i in range(start, end + 1)]


def _shape(query: SearchQuery, own: uuid.UUID | None, dialect: str, months: list[int] | None) -> _Shape:
    """The shape of ``query``; ``months``: its :func:`_months` (already in its parameters)."""
    criteria = {k for k in _CRITERIA if getattr(query, k)}
    if months is not None:
        criteria.add("months")
    return _Shape(frozenset(criteria), query.sort, query.descending, own is not None, dialect)


def _parameters(
    query: SearchQuery, lg_code: str, own: uuid.UUID | None, settings: Settings
) -> dict[str, Any]:
    """The bound values of a search's statements (one dict for all of them)."""
    values: dict[str, Any] = {
        "lg": lg_code,
        "own": own,
        "birth_date": query.birth_date,
        "kind": query.kind,
        "status": query.status,
        "terminal_id": query.terminal_id,
        "clerk": query.clerk,
        "offset": (query.page - 1) * query.page_size,
        "page_size": query.page_size,
        "scan_max": settings.search_keyed_scan_max,
        "count_limit": settings.search_count_limit + 1,
        "count_scan": min(settings.search_keyed_scan_max, 4 * (settings.search_count_limit + 1)),
        "name_from": None,
        "name_to": None,
        "number_from": f"{query.date_from:%Y%m%d}" if query.date_from else None,
        "number_to": f"{query.date_to + timedelta(days=1):%Y%m%d}" if query.date_to else None,
        "reception_number": query.reception_number.strip() if query.reception_number else None,
        "confirmation": search_key(query.confirmation_number) if query.confirmation_number else None,
        "months": _months(query),
    }
    if query.name:
        key = search_key(query.name)
        if not key:
            raise InvalidInput("氏名の検索語を入力してください。", code="search.name_empty", field="name")
        values["name_from"], values["name_to"] = key, key + _TOP
    return values


_P = sa.bindparam


def _prefix(column: Any, dialect: str) -> list[Any]:
    """``column`` starts with the name key (``name_from`` ≤ column < ``name_to`` = key + ``_TOP``),
    as a byte-wise range.

    Not LIKE: under row-level security PostgreSQL applies only leakproof operators before the
    policy, and LIKE is not leakproof, so it would scan every key. The pattern operators
    ``~>=~`` / ``~<~`` are leakproof and use the ``varchar_pattern_ops`` index; SQLite's default
    BINARY collation compares bytes already.
    """
    lower, upper = _P("name_from", type_=sa.String), _P("name_to", type_=sa.String)
    if dialect == "postgresql":
        return [column.op("~>=~")(lower), column.op("~<~")(upper)]
    return [column >= lower, column < upper]


def _name_conditions(shape: _Shape, *, by_month: bool = False) -> list[Any]:
    """The name key matches the name (a prefix) and the birth date, those of them searched.

    ``by_month`` (for statements that read the keys themselves, not those probing one
    reception's keys): also the key's month is one of the 受付日 range's (``months``), so that
    the month index bounds the read to the range's months."""
    cond: list[Any] = [ReceptionSearchKey.lg_code == _P("lg"), ReceptionSearchKey.kind == "name"]
    if by_month and shape.has("months"):
        month = ReceptionSearchKey.month
        if shape.dialect == "postgresql":
            # One array parameter: the same statement text for any number of months.
            cond.append(month == sa.any_(_P("months", type_=ARRAY(sa.Integer))))
        else:
            cond.append(month.in_(_P("months", expanding=True)))
    if shape.has("name"):
        cond.extend(_prefix(ReceptionSearchKey.key, shape.dialect))
    if shape.has("birth_date"):
        cond.append(ReceptionSearchKey.birth_date == _P("birth_date"))
    return cond


def _number_range(column: Any, shape: _Shape) -> list[Any]:
    """受付日 from/to as a range of 受付番号 (``YYYYMMDD-NNNN``: the receptions domain's invariant)."""
    cond: list[Any] = []
    if shape.has("date_from"):
        cond.append(column >= _P("number_from"))
    if shape.has("date_to"):
        cond.append(column < _P("number_to"))
    return cond


def _conditions(shape: _Shape) -> list[Any]:
    cond: list[Any] = [Reception.lg_code == _P("lg")]
    if shape.own:
        cond.append(Reception.created_by == _P("own"))
    if shape.has("name") or shape.has("birth_date"):
        sub = sa.select(ReceptionSearchKey.id).where(
            ReceptionSearchKey.reception_id == Reception.id, *_name_conditions(shape)
        )
        cond.append(sub.exists())
    if shape.has("confirmation_number"):
        cond.append(
            sa.select(ReceptionSearchKey.id)
            .where(
                ReceptionSearchKey.reception_id == Reception.id,
                ReceptionSearchKey.lg_code == _P("lg"),
                ReceptionSearchKey.kind == "confirmation",
                ReceptionSearchKey.key == _P("confirmation"),
            )
            .exists()
        )
    # 受付日 by the number's YYYYMMDD prefix: one range on the unique (lg_code, reception_number)
    # index, and no double condition to spoil row estimates.
    cond.extend(_number_range(Reception.reception_number, shape))
    for criterion, column in (
        ("reception_number", Reception.reception_number),
        ("kind", Reception.kind),
        ("status", Reception.status),
        ("terminal_id", Reception.terminal_id),
    ):
        if shape.has(criterion):
            cond.append(column == _P(criterion))
    if shape.has("clerk"):
        cond.append(
            Reception.created_by.in_(
                sa.select(User.id).where(User.lg_code == _P("lg"), User.username == _P("clerk"))
            )
        )
    return cond


_SORT_COLUMNS = {
    SortKey.reception_number: Reception.reception_number,
    SortKey.created_at: Reception.created_at,
    SortKey.kind: Reception.kind,
    SortKey.status: Reception.status,
}


def _page_ids(shape: _Shape) -> Any:
    """The page's reception ids (``page_id``) in order, sorted from indexes only, and ``total``:
    the exact number of matches when the name's keys answered, else NULL.

    Two ways, chosen inside the one statement (a branch whose one-time condition is false is not
    run at all): when the name has fewer than ``scan_max`` keys (``search_keyed_scan_max``), its
    keys, grouped by reception and sorted by the 受付番号 they carry; else (佐藤 alone, one
    kana) the receptions walked in the sort's order, each checked against the criteria, which
    stops after one page.
    """
    column = _SORT_COLUMNS[shape.sort]
    offset, size = _P("offset", type_=sa.Integer), _P("page_size", type_=sa.Integer)
    walked = (
        sa.select(Reception.id.label("page_id"), sa.cast(sa.null(), sa.Integer).label("total"))
        .where(*_conditions(shape))
        .order_by(column.desc() if shape.descending else column.asc(), Reception.id)
        .offset(offset)
        .limit(size)
    )
    if not shape.keyed:
        return walked.subquery("page")
    key = ReceptionSearchKey
    scan_max = _P("scan_max", type_=sa.Integer)
    # The name's keys, read once (a CTE used twice is materialised): at most scan_max of them.
    matched = (
        sa.select(key.reception_id, key.reception_number)
        .where(*_name_conditions(shape, by_month=True))
        .limit(scan_max)
        .cte("matched")
    )
    few = sa.select(sa.func.count()).select_from(matched).scalar_subquery() < scan_max
    hits = (
        sa.select(matched.c.reception_id, matched.c.reception_number)
        .where(*_number_range(matched.c.reception_number, shape))
        .distinct()
        .subquery("hits")
    )
    number = hits.c.reception_number
    keyed = (
        sa.select(hits.c.reception_id.label("page_id"), sa.func.count().over().label("total"))
        .order_by(number.desc() if shape.descending else number.asc(), hits.c.reception_id)
        .offset(offset)
        .limit(size)
        .subquery("keyed")
    )
    walked_ids = walked.subquery("walked")
    return sa.union_all(
        sa.select(keyed.c.page_id, keyed.c.total).where(few),
        sa.select(walked_ids.c.page_id, walked_ids.c.total).where(sa.not_(few)),
    ).subquery("page")


@dataclass(frozen=True)
class _Statements:
    """A shape's statements: the page, and the counts for a page that did not give the total."""

    page: Any
    keyed_count: Any
    count: Any


@functools.lru_cache(maxsize=256)
def _statements(shape: _Shape) -> _Statements:
    column = _SORT_COLUMNS[shape.sort]
    # The page's ids first (index columns only), then only those rows with their clerk and
    # number of documents — one statement: the matches are sorted without reading every
    # matching reception's stored notice.
    page = _page_ids(shape)
    documents = (
        sa.select(sa.func.count())
        .where(Attachment.reception_id == Reception.id, Attachment.lg_code == _P("lg"))
        .correlate(Reception)
        .scalar_subquery()
    )
    # Columns, not ORM entities: no identity map, and of the stored notice only its persons.
    rows = (
        sa.select(
            Reception.id,
            Reception.reception_number,
            Reception.business_date,
            Reception.kind,
            Reception.status,
            Reception.terminal_id,
            Reception.created_at,
            Reception.notice["persons"].label("persons"),
            User.username,
            documents.label("documents"),
            page.c.total,
        )
        .join(page, page.c.page_id == Reception.id)
        .join(User, User.id == Reception.created_by)
        .where(Reception.lg_code == _P("lg"))
        .order_by(column.desc() if shape.descending else column.asc(), Reception.id)
    )
    keyed_count = None
    if shape.keyed:
        key = ReceptionSearchKey
        raw = (
            sa.select(key.reception_id)
            .where(*_name_conditions(shape, by_month=True), *_number_range(key.reception_number, shape))
            .limit(_P("count_scan", type_=sa.Integer))
            .subquery("raw")
        )
        keyed_count = sa.select(sa.func.count(raw.c.reception_id.distinct()), sa.func.count())
    count = sa.select(sa.func.count()).select_from(
        sa.select(Reception.id)
        .where(*_conditions(shape))
        .limit(_P("count_limit", type_=sa.Integer))
        .subquery()
    )
    return _Statements(rows, keyed_count, count)


async def _count(
    conn: AsyncConnection,
    statements: _Statements,
    values: dict[str, Any],
    offset: int,
    found: int,
    page_size: int,
    settings: Settings,
) -> tuple[int, bool]:
    """(number of matches, whether counting stopped at ``search_count_limit``), for a page that
    did not give the total itself.

    A page that is not full and not empty ends the results: its end is the total, no count
    needed (most searches — a number, a name with birth date — end on the first page). Otherwise
    the matches are counted up to the limit only; for a name search first from its keys (the
    distinct receptions among the first keys found: more than the limit already proves "以上"),
    then, if that did not settle it, by the receptions.
    """
    if 0 < found < page_size or (found == 0 and offset == 0):
        return offset + found, False
    limit = settings.search_count_limit
    if statements.keyed_count is not None:
        receptions, keys = (await conn.execute(statements.keyed_count, values)).one()
        if keys < values["count_scan"]:
            return int(receptions), False
        if receptions > limit:
            return max(limit, offset + found), True
    counted = (await conn.execute(statements.count, values)).scalar_one()
    if counted > limit:
        return max(limit, offset + found if found else 0), True
    return int(counted), False


async def search_page(
    session: AsyncSession, settings: Settings, query: SearchQuery, lg_code: str, own: uuid.UUID | None
) -> tuple[list[Any], int, bool]:
    """The page's rows (columns, with clerk and number of documents), the total and whether the
    total is a lower bound. Reads only; the caller audits."""
    size_max = settings.search_page_size_max
    if not 1 <= query.page <= SEARCH_PAGE_MAX or not 1 <= query.page_size <= size_max:
        raise InvalidInput(
            f"ページ指定が正しくありません (ページは 1〜{SEARCH_PAGE_MAX:,}、"
            f"1ページの件数は 1〜{size_max})。",
            code="search.page",
        )
    values = _parameters(query, lg_code, own, settings)
    statements = _statements(_shape(query, own, session.bind.dialect.name, values["months"]))
    # The session's connection (same transaction, same binding): plain rows without the ORM's
    # result layer, which only columns would pass through anyway.
    conn = await session.connection()
    fetched = (await conn.execute(statements.page, values)).all()
    if fetched and fetched[0].total is not None:
        return list(fetched), int(fetched[0].total), False
    total, capped = await _count(
        conn, statements, values, values["offset"], len(fetched), query.page_size, settings
    )
    return list(fetched), total, capped


async def search(
    db: Database, settings: Settings, who: Principal | DeferredPrincipal, query: SearchQuery
) -> ReceptionPage:
    """One page of receptions matching ``query``; audited (criteria names, never the values of
    personal criteria). Without ``record.search`` only the principal's own receptions.

    ``who`` may be a user not yet checked (the HTTP route): the check then runs first in the
    search's own transaction — one transaction and connection checkout less per request.
    """
    lg_code = who.lg_code
    async with db.tenant(lg_code) as session:
        principal = who if isinstance(who, Principal) else await who.resolve(session)
        own = None if principal.has(Permission.record_search) else principal.user_id
        fetched, total, capped = await search_page(session, settings, query, lg_code, own)
        items = [
            ReceptionSummary(
                id=r.id,
                reception_number=r.reception_number,
                business_date=r.business_date,
                kind=r.kind,
                status=r.status,
                terminal_id=r.terminal_id,
                clerk=r.username,
                created_at=r.created_at,
                names=[
                    " ".join(x for x in (p.get("family_name"), p.get("given_name")) if x)
                    or p.get("roman_name")
                    or ""
                    for p in r.persons or []
                ],
                attachment_count=int(r.documents),
            )
            for r in fetched
        ]
    # Audited before anything is answered; the event is committed together with those of
    # concurrent searches (one disk flush for many), the search itself only read.
    await audit.record_committed(
        db,
        lg_code,
        audit.Event(
            actor=principal.actor,
            action="reception_search_success",
            object_type="reception",
            details={
                **query.audit_details(),
                "results": total,
                "results_capped": capped,
                "limited_to_own": own is not None,
            },
        ),
    )
    return ReceptionPage(
        items=items,
        total=total,
        page=query.page,
        page_size=query.page_size,
        limited_to_own=own is not None,
        total_capped=capped,
    )


async def record(
    db: Database, keys: KeyRing | None, principal: Principal, reception_id: uuid.UUID
) -> ReceptionRecord:
    """One reception with its attachments (the view of the search screen), audited as a view."""
    from server.domain.receptions.services import to_read

    lg_code = principal.lg_code
    async with db.tenant(lg_code) as session:
        reception = await _reception(session, lg_code, reception_id)
        if not _may_see(principal, reception):
            raise NotFound("受付が見つかりません。", code="reception.not_found")
        persons = list(
            (
                await session.execute(
                    sa.select(ReceptionPerson)
                    .where(ReceptionPerson.reception_id == reception_id, ReceptionPerson.lg_code == lg_code)
                    .order_by(ReceptionPerson.person_index)
                )
            )
            .scalars()
            .all()
        )
        read, shown = to_read(reception, persons, keys, principal)
        attachments = [to_attachment_read(a) for a in await _attachments(session, lg_code, reception_id)]
        await audit.record(
            session,
            lg_code=lg_code,
            actor=principal.actor,
            action="reception_view_success",
            object_type="reception",
            object_id=reception_id,
            my_number_shown=shown,
            details={"attachments": len(attachments)},
        )
    return ReceptionRecord.model_validate({"reception": read, "attachments": attachments}, context=STORED)
