"""HTTP routes of the residents domain: search of the imported register for prefill, and the
members of a household (contract: :mod:`shared.api_counter`)."""

from __future__ import annotations

from datetime import date

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from server.db.engine import Database
from server.db.models import Resident
from server.domain.accounts.access import requires
from server.domain.accounts.services import Principal
from server.domain.residents import services
from shared.api_counter import ResidentHit
from shared.errors import InvalidInput
from shared.permissions import Permission

#: Longest query text (name or address) accepted by the search.
QUERY_MAX = 200


def hit(row: Resident) -> ResidentHit:
    """The prefill view of a register row (no 住民票コード, no 個人番号)."""
    return ResidentHit(
        atena_number=row.atena_number,
        household_number=row.household_number,
        is_foreign=row.resident_kind == "2",
        family_name=row.family_name,
        given_name=row.given_name,
        roman_name=row.roman_name,
        name_kana=row.name_kana,
        sex=row.sex,
        birth_date=row.birth_date,
        relationship=row.relationship,
        householder_name=row.householder_name,
        postal_code=row.postal_code,
        prefecture=row.prefecture,
        municipality=row.municipality,
        town=row.town,
        block_number=row.block_number,
        address=row.address,
        building=row.building,
    )


def _query_text(value: str | None, field: str) -> str | None:
    if value is not None and len(value) > QUERY_MAX:
        raise InvalidInput(
            f"検索する文字は{QUERY_MAX}文字以内にしてください。", code="residents.query_too_long", field=field
        )
    return value


@get(
    "/api/v1/residents",
    opt=requires(Permission.reception_create),
    tags=["residents"],
    summary="住民記録の検索 (入力補助)",
)
async def search_residents(
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    name: FromQuery[str | None] = None,
    birth_date: FromQuery[date | None] = None,
    address: FromQuery[str | None] = None,
) -> list[ResidentHit]:
    """Current residents by name or フリガナ (prefix), birth date and part of the address; audited."""
    found = await services.search(
        db,
        principal.lg_code,
        principal.actor,
        _query_text(name, "name"),
        birth_date,
        _query_text(address, "address"),
    )
    return [hit(r) for r in found]


@get(
    "/api/v1/residents/{atena_number:str}/household",
    opt=requires(Permission.reception_create),
    tags=["residents"],
    summary="住民記録の世帯員 (入力補助)",
)
async def household_members(
    principal: NamedDependency[Principal], db: NamedDependency[Database], atena_number: FromPath[str]
) -> list[ResidentHit]:
    """The current members of the person's household, 世帯主 first; audited."""
    if not atena_number.isdigit() or len(atena_number) > 15:
        raise InvalidInput(
            "宛名番号は15桁以内の数字です。", code="residents.atena_number", field="atena_number"
        )
    return [hit(r) for r in await services.household(db, principal.lg_code, principal.actor, atena_number)]


route_handlers = [search_residents, household_members]
