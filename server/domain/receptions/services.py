"""Receptions: idempotent creation, 受付番号, 個人番号 encrypted apart from the notice JSON.

The notice is stored as JSON with every ``my_number`` removed; each person's number lives in
``reception_persons`` as AES-GCM ciphertext (AAD = lg_code, reception id, person index) with the
key id, and as a keyed HMAC for equality search. Reading puts the number back only for users
with ``my_number.view``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.crypto import KeyRing
from server.db.counters import next_daily_number
from server.db.engine import Database
from server.db.models import Reception, ReceptionPerson
from server.domain import audit
from server.domain.accounts.services import Principal
from server.domain.documents.services import index_reception
from shared.api import PersonMyNumberState, ReceptionCreate, ReceptionRead, ReceptionStatus
from shared.errors import Conflict, NotFound
from shared.models.movement_notice import STORED, MovementKind, Person
from shared.permissions import Permission
from shared.text.normalize import search_key

JST = ZoneInfo("Asia/Tokyo")
_ATTEMPTS = 5


def business_day(now: datetime) -> date:
    """The day a reception number belongs to: the date in Japan."""
    return now.astimezone(JST).date()


def _aad(lg_code: str, reception_id: uuid.UUID, index: int) -> str:
    return f"my_number:{lg_code}:{reception_id}:{index}"


def _name_key(person: Person) -> str:
    names = [person.family_name, person.given_name] if not person.is_foreign else [person.roman_name]
    return search_key("".join(n for n in names if n))[:200]


@dataclass(frozen=True)
class Stored:
    reception: Reception
    persons: list[ReceptionPerson]
    created: bool


async def _find_by_key(session: AsyncSession, lg_code: str, client_key: uuid.UUID) -> Reception | None:
    return (
        await session.execute(
            sa.select(Reception).where(Reception.lg_code == lg_code, Reception.client_key == client_key)
        )
    ).scalar_one_or_none()


async def _persons(session: AsyncSession, reception: Reception) -> list[ReceptionPerson]:
    return list(
        (
            await session.execute(
                sa.select(ReceptionPerson)
                .where(
                    ReceptionPerson.reception_id == reception.id,
                    ReceptionPerson.lg_code == reception.lg_code,
                )
                .order_by(ReceptionPerson.person_index)
            )
        )
        .scalars()
        .all()
    )


async def _insert(
    session: AsyncSession, keys: KeyRing | None, principal: Principal, data: ReceptionCreate
) -> Stored:
    lg_code = principal.lg_code
    now = datetime.now(UTC)
    day = business_day(now)
    seq = await next_daily_number(session, lg_code, "reception", day)
    notice_json: dict[str, Any] = data.notice.model_dump(mode="json")
    for person_json in notice_json["persons"]:
        person_json["my_number"] = None
    reception = Reception(
        id=uuid.uuid4(),
        lg_code=lg_code,
        reception_number=f"{day:%Y%m%d}-{seq:04d}",
        business_date=day,
        daily_seq=seq,
        client_key=data.client_key,
        kind=data.notice.kind.value,
        status=ReceptionStatus.received.value,
        terminal_id=data.terminal_id or principal.terminal_id,
        opened_at=data.opened_at.astimezone(UTC) if data.opened_at and data.opened_at.tzinfo else None,
        created_at=now,
        created_by=principal.user_id,
        notice=notice_json,
    )
    session.add(reception)
    await session.flush()
    persons = []
    for index, person in enumerate(data.notice.persons):
        row = ReceptionPerson(
            id=uuid.uuid4(),
            lg_code=lg_code,
            reception_id=reception.id,
            person_index=index,
            name_search_key=_name_key(person),
            birth_date=person.birth_date,
        )
        if person.my_number:
            assert keys is not None
            row.my_number_ciphertext, row.my_number_key_id = keys.encrypt(
                person.my_number, _aad(lg_code, reception.id, index)
            )
            row.my_number_hmac = keys.search_hash(person.my_number, purpose="my_number")
        persons.append(row)
    session.add_all(persons)
    await session.flush()
    await index_reception(session, lg_code, reception.id, reception.reception_number, notice_json)
    return Stored(reception, persons, created=True)


async def create(
    db: Database, keys: KeyRing | None, principal: Principal, data: ReceptionCreate
) -> tuple[ReceptionRead, bool]:
    """Store ``data`` once per client_key. Returns the reception and whether it is new."""
    lg_code = principal.lg_code
    for _attempt in range(_ATTEMPTS):
        try:
            async with db.tenant(lg_code) as session:
                existing = await _find_by_key(session, lg_code, data.client_key)
                if existing is not None:
                    stored = Stored(existing, await _persons(session, existing), created=False)
                else:
                    stored = await _insert(session, keys, principal, data)
                read, shown = to_read(stored.reception, stored.persons, keys, principal)
                await audit.record(
                    session,
                    lg_code=lg_code,
                    actor=principal.actor,
                    action="reception_create_success" if stored.created else "reception_resubmit_success",
                    object_type="reception",
                    object_id=stored.reception.id,
                    my_number_shown=shown,
                    details={"reception_number": stored.reception.reception_number},
                )
            return read, stored.created
        except IntegrityError:
            # Another request stored the same client_key meanwhile: look again, answer with its reception.
            continue
    raise Conflict()


def to_read(
    reception: Reception, persons: list[ReceptionPerson], keys: KeyRing | None, principal: Principal
) -> tuple[ReceptionRead, bool]:
    """The API view; 個人番号 only with ``my_number.view``. Also says whether one was shown."""
    notice: dict[str, Any] = {**reception.notice, "persons": [dict(p) for p in reception.notice["persons"]]}
    states: list[PersonMyNumberState] = []
    may_view = principal.has(Permission.my_number_view)
    shown = False
    by_index = {p.person_index: p for p in persons}
    for index, person_json in enumerate(notice["persons"]):
        row = by_index.get(index)
        if row is None or row.my_number_ciphertext is None or row.my_number_key_id is None:
            states.append(PersonMyNumberState.absent)
        elif may_view and keys is not None:
            person_json["my_number"] = keys.decrypt(
                row.my_number_ciphertext, row.my_number_key_id, _aad(reception.lg_code, reception.id, index)
            )
            states.append(PersonMyNumberState.shown)
            shown = True
        else:
            states.append(PersonMyNumberState.masked)
    # Read as it was accepted: a submit-time rule added since must not make it unreadable (the
    # context reaches the notice's own validators also when the view nests it).
    read = ReceptionRead.model_validate(
        {
            "id": reception.id,
            "reception_number": reception.reception_number,
            "lg_code": reception.lg_code,
            "kind": MovementKind(reception.kind),
            "status": ReceptionStatus(reception.status),
            "client_key": reception.client_key,
            "terminal_id": reception.terminal_id,
            "created_at": reception.created_at,
            "created_by": str(reception.created_by),
            "notice": notice,
            "my_number_state": states,
        },
        context=STORED,
    )
    return read, shown


async def read(
    db: Database, keys: KeyRing | None, principal: Principal, reception_id: uuid.UUID
) -> ReceptionRead:
    """One reception of the principal's municipality (404 for any other), audited as a read."""
    async with db.tenant(principal.lg_code) as session:
        reception = (
            await session.execute(
                sa.select(Reception).where(
                    Reception.id == reception_id, Reception.lg_code == principal.lg_code
                )
            )
        ).scalar_one_or_none()
        if reception is None:
            raise NotFound("受付が見つかりません。", code="reception.not_found")
        result, shown = to_read(reception, await _persons(session, reception), keys, principal)
        await audit.record(
            session,
            lg_code=principal.lg_code,
            actor=principal.actor,
            action="reception_read_success",
            object_type="reception",
            object_id=reception.id,
            my_number_shown=shown,
        )
    return result
