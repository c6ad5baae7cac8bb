"""HTTP routes of the residents domain: search of the imported register for prefill."""

from __future__ import annotations

from datetime import date

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from pydantic import BaseModel

from server.db.engine import Database
from server.domain.accounts.access import requires
from server.domain.accounts.services import Principal
from server.domain.residents import services
from shared.permissions import Permission


class ResidentHit(BaseModel):
    """What the counter needs to prefill a person (no 住民票コード, no 個人番号)."""

    atena_number: str
    household_number: str
    family_name: str | None
    given_name: str | None
    roman_name: str | None
    name_kana: str | None
    sex: str
    birth_date: date
    relationship: str | None
    householder_name: str | None
    postal_code: str | None
    address: str | None
    building: str | None


@get(
    "/api/v1/residents",
    opt=requires(Permission.reception_create),
    tags=["residents"],
    summary="住民記録の検索 (入力補助)",
)
async def search_residents(
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    name: FromQuery[str],
    birth_date: FromQuery[date | None] = None,
) -> list[ResidentHit]:
    """Current residents whose name or フリガナ starts with ``name``; audited."""
    found = await services.search(db, principal.lg_code, principal.actor, name, birth_date)
    return [ResidentHit.model_validate(r, from_attributes=True) for r in found]


route_handlers = [search_residents]
