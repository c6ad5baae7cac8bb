"""The one function that writes the audit log, and the verification of its hash chain.

Events are named ``<object>_<action>_<outcome>`` (``reception_create_success``,
``auth_login_failure`` …). Each municipality has its own chain: ``seq`` counts 1, 2, 3 … and
``row_hash = SHA-256(prev_hash + canonical JSON of the row)``. Changing, deleting or reordering
a row breaks the chain at that sequence number, which :func:`verify_chain` reports. The chain's
head (``audit_heads``) is moved forward in the same transaction, so deleting the newest events —
which would leave a valid prefix — is reported too.
``details`` must never hold personal data (names, 個人番号, birth dates): ids and codes only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.engine import Database
from server.db.models import AuditEvent, AuditHead

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who did it and from where (a logged-in user, an unknown login name, or the system)."""

    user_id: uuid.UUID | None = None
    username: str | None = None
    terminal_id: str | None = None
    client_ip: str | None = None


SYSTEM = Actor(username="system")


def _canonical(event: Mapping[str, Any]) -> str:
    return json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _hashed_fields(row: AuditEvent) -> dict[str, Any]:
    return {
        "lg_code": row.lg_code,
        "seq": row.seq,
        "occurred_at": row.occurred_at.astimezone(UTC).isoformat(),
        "user_id": str(row.user_id) if row.user_id else None,
        "username": row.username,
        "terminal_id": row.terminal_id,
        "client_ip": row.client_ip,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "outcome": row.outcome,
        "my_number_shown": bool(row.my_number_shown),
        "details": row.details or {},
    }


def compute_hash(prev_hash: str, row: AuditEvent) -> str:
    """The chain hash of ``row`` following ``prev_hash``."""
    return hashlib.sha256((prev_hash + _canonical(_hashed_fields(row))).encode()).hexdigest()


def _outcome_of(action: str) -> str:
    tail = action.rsplit("_", 1)[-1]
    return tail if tail in {"success", "failure", "denied"} else "success"


@dataclass(frozen=True)
class Event:
    """One event to append (the arguments of :func:`record`)."""

    actor: Actor
    action: str
    object_type: str | None = None
    object_id: str | uuid.UUID | None = None
    my_number_shown: bool = False
    details: Mapping[str, Any] | None = None


async def record(
    session: AsyncSession,
    *,
    lg_code: str,
    actor: Actor,
    action: str,
    object_type: str | None = None,
    object_id: str | uuid.UUID | None = None,
    my_number_shown: bool = False,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to ``lg_code``'s chain in the caller's (tenant-bound) transaction."""
    event = Event(actor, action, object_type, object_id, my_number_shown, details)
    return (await record_many(session, lg_code, [event]))[0]


async def record_many(session: AsyncSession, lg_code: str, events: list[Event]) -> list[AuditEvent]:
    """Append ``events`` in order to ``lg_code``'s chain: one lock, one read of the chain's end,
    one insert and one move of the head for all of them.

    On PostgreSQL these are one round trip, the function ``madoguchi_audit_append`` (migration
    ``0020``), sent for the chain's end this process last saw; when another process appended in
    between, the function answers the real end (keeping the lock) and the rows go again.
    """
    if not events:
        return []
    now = datetime.now(UTC)
    if session.bind.dialect.name == "postgresql":
        await session.flush()  # the caller's pending rows first, as on SQLite
        head = _heads_of(session).get(lg_code)
        for _ in range(2):
            rows = _chain(lg_code, events, head or (0, GENESIS), now) if head else []
            result = (
                await session.execute(
                    _APPEND,
                    {
                        "lg": lg_code,
                        "seq": head[0] if head else None,
                        "hash": head[1] if head else None,
                        "rows": [_jsonable(row) for row in rows] if rows else None,
                    },
                )
            ).one()
            head = (int(result.head_seq), str(result.head_hash))
            _heads_of(session)[lg_code] = head
            if result.appended:
                return rows
        raise RuntimeError("audit chain end moved while its lock was held")  # pragma: no cover
    last = (
        await session.execute(
            sa.select(AuditEvent.seq, AuditEvent.row_hash)
            .where(AuditEvent.lg_code == lg_code)
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        )
    ).first()
    rows = _chain(lg_code, events, (last[0], last[1]) if last else (0, GENESIS), now)
    session.add_all(rows)
    await session.flush()
    await _move_head(session, lg_code, rows[-1].seq, rows[-1].row_hash, now)
    return rows


async def _append_one_shot(db: Database, lg_code: str, events: list[Event]) -> bool:
    """PostgreSQL, a transaction of their own: append ``events`` in one round trip (BEGIN,
    binding, function, COMMIT pipelined) when this process knows the chain's end; False when it
    does not or guessed wrong (the caller then appends holding the lock, :func:`record_many`)."""
    if db.dialect != "postgresql":
        return False
    heads = _head_cache.setdefault(db.engine.sync_engine, {})
    head = heads.get(lg_code)
    if head is None:
        return False
    rows = _chain(lg_code, events, head, datetime.now(UTC))
    result = await db.one_shot(
        lg_code,
        "SELECT head_seq, head_hash, appended FROM madoguchi_audit_append(%s, %s, %s, %s)",
        (lg_code, head[0], head[1], Jsonb([_jsonable(row) for row in rows])),
    )
    seq, row_hash, appended = result[0]
    heads[lg_code] = (int(seq), str(row_hash))
    return bool(appended)


_APPEND = sa.text(
    "SELECT head_seq, head_hash, appended FROM madoguchi_audit_append(:lg, :seq, :hash, :rows)"
).bindparams(sa.bindparam("rows", type_=JSONB(none_as_null=True)))

#: Per engine and municipality, the chain's end this process last saw (a guess: the function
#: checks it under the lock). Keyed weakly so that a disposed test database leaves nothing.
_head_cache: weakref.WeakKeyDictionary[Any, dict[str, tuple[int, str]]] = weakref.WeakKeyDictionary()


def _heads_of(session: AsyncSession) -> dict[str, tuple[int, str]]:
    bind = session.bind
    engine = getattr(bind, "sync_engine", None) or getattr(bind, "engine", bind)
    return _head_cache.setdefault(engine, {})


#: The chain's lock in a pipeline (PostgreSQL): the function with no rows appends nothing, takes the
#: municipality's lock (held to the end of the transaction) and answers the chain's end.
LOCK_SQL = "SELECT head_seq, head_hash FROM madoguchi_audit_append(%s, NULL, NULL, NULL)"
#: The append under that lock. Its end cannot have moved; if it did, the cast fails the transaction
#: (a pipelined ``COMMIT`` after it then rolls back) rather than committing without the events.
APPEND_LOCKED_SQL = (
    "SELECT head_seq, head_hash, (CASE WHEN appended THEN 'true' ELSE 'audit chain end moved' END)::boolean"
    " FROM madoguchi_audit_append(%s, %s, %s, %s)"
)


def lock_statement(lg_code: str) -> tuple[str, tuple[Any, ...]]:
    """:data:`LOCK_SQL` for ``lg_code``; its row is the chain's end for :func:`append_statement`."""
    return LOCK_SQL, (lg_code,)


def append_statement(
    lg_code: str, events: list[Event], head: tuple[int, str]
) -> tuple[str, tuple[Any, ...], list[AuditEvent]]:
    """Append ``events`` after ``head`` (the end answered by :func:`lock_statement`, lock held):
    the statement, its values and the rows (hashes computed)."""
    rows = _chain(lg_code, events, (int(head[0]), str(head[1])), datetime.now(UTC))
    return APPEND_LOCKED_SQL, (lg_code, head[0], head[1], Jsonb([_jsonable(r) for r in rows])), rows


def appended(session: AsyncSession, lg_code: str, rows: list[AuditEvent]) -> None:
    """Note the chain's new end after :func:`append_statement` ran (this process's guess)."""
    _heads_of(session)[lg_code] = (rows[-1].seq, rows[-1].row_hash)


def _chain(lg_code: str, events: list[Event], head: tuple[int, str], now: datetime) -> list[AuditEvent]:
    """The rows of ``events`` following ``head`` (seq, row_hash), hashes computed."""
    seq, prev = head
    rows = []
    for event in events:
        seq += 1
        row = AuditEvent(
            id=uuid.uuid4(),
            lg_code=lg_code,
            seq=seq,
            occurred_at=now,
            user_id=event.actor.user_id,
            username=event.actor.username,
            terminal_id=event.actor.terminal_id,
            client_ip=event.actor.client_ip,
            action=event.action,
            object_type=event.object_type,
            object_id=str(event.object_id) if event.object_id is not None else None,
            outcome=_outcome_of(event.action),
            my_number_shown=event.my_number_shown,
            details=dict(event.details or {}),
            prev_hash=prev,
        )
        row.row_hash = prev = compute_hash(prev, row)
        rows.append(row)
    return rows


def _jsonable(row: AuditEvent) -> dict[str, Any]:
    """``row`` as the function's JSON: the hashed fields (timestamp exact to the µs) and the rest."""
    return {**_hashed_fields(row), "id": str(row.id), "prev_hash": row.prev_hash, "row_hash": row.row_hash}


class _GroupWriter:
    """Appends the events handed to :func:`record_committed` by one process: while one
    transaction commits, the next events gather and go together in the following one."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.pending: list[tuple[str, Event, asyncio.Future[None]]] = []
        self.task: asyncio.Task[None] | None = None

    async def append(self, lg_code: str, event: Event) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append((lg_code, event, done))
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._drain())
        await asyncio.shield(done)

    async def _drain(self) -> None:
        while self.pending:
            batch, self.pending = self.pending, []
            by_lg: dict[str, list[tuple[Event, asyncio.Future[None]]]] = {}
            for lg_code, event, done in batch:
                by_lg.setdefault(lg_code, []).append((event, done))
            for lg_code, items in by_lg.items():
                try:
                    events = [event for event, _ in items]
                    if not await _append_one_shot(self.db, lg_code, events):
                        async with self.db.tenant(lg_code) as session:
                            await record_many(session, lg_code, events)
                except Exception as exc:  # every waiting request fails with the write
                    for _, done in items:
                        if not done.done():
                            done.set_exception(exc)
                else:
                    for _, done in items:
                        if not done.done():
                            done.set_result(None)


_writers: weakref.WeakKeyDictionary[Database, dict[asyncio.AbstractEventLoop, _GroupWriter]] = (
    weakref.WeakKeyDictionary()
)


async def record_committed(db: Database, lg_code: str, event: Event) -> None:
    """Append ``event`` in a transaction of its own and return once it is committed.

    For events of reading (a search): the caller reveals nothing before this returns, and it
    raises if the event could not be stored. Concurrent callers share one transaction and one
    commit (group commit): the chain's lock is held through the commit, so one commit per
    event would cap a municipality at one event per disk flush.
    """
    loop = asyncio.get_running_loop()
    per_loop = _writers.setdefault(db, {})
    writer = per_loop.get(loop)
    if writer is None:
        per_loop.clear()  # a new event loop (tests, CLI): the old writer's loop is gone
        writer = per_loop[loop] = _GroupWriter(db)
    await writer.append(lg_code, event)


async def _move_head(session: AsyncSession, lg_code: str, seq: int, row_hash: str, at: datetime) -> None:
    """Upsert the chain's head; the database refuses to move it backwards."""
    from sqlalchemy.dialects import postgresql, sqlite

    values = {"lg_code": lg_code, "seq": seq, "row_hash": row_hash, "updated_at": at}
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(AuditHead).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[AuditHead.lg_code],
        set_={k: stmt.excluded[k] for k in ("seq", "row_hash", "updated_at")},
    )
    await session.execute(stmt)


@dataclass(frozen=True)
class ChainReport:
    """Result of verifying one municipality's chain."""

    lg_code: str
    count: int
    broken_at: int | None = None
    reason: str = ""
    #: ``row_hash`` of the newest event: record it outside the database to anchor the chain.
    head_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return self.broken_at is None


async def verify_chain(session: AsyncSession, lg_code: str) -> ChainReport:
    """Walk ``lg_code``'s chain in order; report the first sequence number that does not fit.

    Rows are streamed, so a chain of millions of events needs little memory.
    """
    result = await session.stream_scalars(
        sa.select(AuditEvent).where(AuditEvent.lg_code == lg_code).order_by(AuditEvent.seq)
    )
    prev = GENESIS
    count = 0
    async for row in result:
        count += 1
        if row.seq != count:
            return ChainReport(lg_code, count, count, "連番が欠けています (削除または並べ替え)")
        if row.prev_hash != prev:
            return ChainReport(lg_code, count, row.seq, "直前のイベントとつながっていません")
        if compute_hash(prev, row) != row.row_hash:
            return ChainReport(lg_code, count, row.seq, "内容が書き換えられています")
        prev = row.row_hash
    head = await session.get(AuditHead, lg_code)
    if head is None:
        if count:
            return ChainReport(lg_code, count, count, "チェーンの先頭記録 (audit_heads) がありません")
    elif head.seq != count or head.row_hash != prev:
        return ChainReport(
            lg_code, count, count + 1, f"末尾のイベントが削除されています (記録上の最新は連番 {head.seq})"
        )
    return ChainReport(lg_code, count, head_hash=prev)
