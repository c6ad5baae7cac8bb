"""JPKI signing on PostgreSQL as the plain application role: stored under row-level security."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.db.models import ApplicationSignature
from server.domain.eforms import services
from tests.conftest import DEMO_LG_CODE
from tests.server.conftest import Api
from tests.server.eforms.conftest import PDF, Resident
from tests.server.jpki.test_portal_sign import VALUES, sandbox_sign
from tests.server.test_postgres import OTHER_LG, PgDatabase, _ensure_other_municipality, pg  # noqa: F401

pytestmark = pytest.mark.postgres


async def test_signature_flow_and_isolation_on_postgres(pg: PgDatabase) -> None:  # noqa: F811
    settings = pg.settings().model_copy(
        update={"mail_transport": "memory", "public_base_url": "http://testserver"}
    )
    api = Api(settings)
    try:
        async with api.db.tenant(DEMO_LG_CODE) as s:
            await services.import_procedures(s, DEMO_LG_CODE)
        res = Resident(api)
        await res.start("tenshutsu")
        data = {
            "name": VALUES["name"],
            "name_kana": "シモツマ タロウ",
            "birth_date__era": "昭和",
            "birth_date__y": "55",
            "birth_date__m": "4",
            "birth_date__d": "1",
            "moving_date": "2027-03-31",
            "new_address": "東京都千代田区霞が関三丁目1番1号",
            "movers__count": "1",
            "movers.0.mover_name": VALUES["name"],
            "movers.0.mover_birth_date__era": "昭和",
            "movers.0.mover_birth_date__y": "55",
            "movers.0.mover_birth_date__m": "4",
            "movers.0.mover_birth_date__d": "1",
        }
        r = await res.post_form(data, files={"id_document": ("id.pdf", PDF, "application/pdf")})
        assert r.status_code == 303, r.text
        assert "電子署名を確認しました" in await sandbox_sign(res)
        r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
        assert r.headers["location"].endswith("?done=1")
        await _ensure_other_municipality(pg)
        async with api.db.tenant(OTHER_LG) as s:
            count = sa.select(sa.func.count()).select_from(ApplicationSignature)
            assert (await s.execute(count)).scalar_one() == 0
        async with api.db.tenant(DEMO_LG_CODE) as s:
            sig = (await s.execute(sa.select(ApplicationSignature))).scalar_one()
            assert sig.state == "valid" and sig.signature and sig.four_info["name"] == VALUES["name"]
    finally:
        await api.close()
