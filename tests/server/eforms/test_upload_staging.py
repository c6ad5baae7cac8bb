"""A form post's files are written before its transaction opens; nothing of a refused or failed post stays.

The blob write (with ``fsync``) no longer runs while the post holds a pooled connection
(``files.Changes.stage``). What must hold on SQLite and PostgreSQL alike: an accepted file has its
row and its blob; a post that is refused (a file the procedure does not take, a part that is no
field, a stale CSRF token, an application already sent) or whose transaction fails leaves no blob
and no row. The failure is real: a database trigger refuses the attachment's row.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from server.db.models import Application, ApplicationFile
from tests.conftest import DEMO_LG_CODE
from tests.server.conftest import Api
from tests.server.eforms.conftest import PDF, Resident
from tests.server.eforms.test_eforms_postgres import KOSEKI
from tests.server.eforms.test_submit_serial import papi  # noqa: F401  (PostgreSQL Api with the starters)
from tests.server.test_postgres import PgDatabase, _libpq, pg  # noqa: F401

GIF = b"GIF89a" + b"\x00" * 32  # a known image type that the 戸籍 procedure does not allow
REFUSED_NAME = "refused-by-trigger.pdf"


def blobs_of(api: Api, app_id: uuid.UUID) -> list[Path]:
    """The application's blobs in the store (temporary files of a write included)."""
    folder = api.settings.blob_path / "eform" / DEMO_LG_CODE / str(app_id)
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


async def rows_of(api: Api, app_id: uuid.UUID) -> list[ApplicationFile]:
    async with api.db.tenant(DEMO_LG_CODE) as s:
        q = sa.select(ApplicationFile).where(ApplicationFile.application_id == app_id)
        return list((await s.execute(q)).scalars().all())


async def values_of(api: Api, app_id: uuid.UUID) -> dict[str, object]:
    async with api.db.tenant(DEMO_LG_CODE) as s:
        app = (await s.execute(sa.select(Application).where(Application.id == app_id))).scalar_one()
        return dict(app.values or {})


async def _resident(api: Api) -> Resident:
    res = Resident(api)
    await res.start("koseki", email=f"stage-{uuid.uuid4().hex[:8]}@example.jp")
    return res


async def _refused_posts_leave_nothing(api: Api) -> None:
    res = await _resident(api)
    # A type the procedure does not take, and a part that is no field of the form: staged, then dropped.
    r = await res.post_form(
        KOSEKI,
        files={"id_document": ("id.gif", GIF, "image/gif"), "not_a_field": ("x.pdf", PDF, "application/pdf")},
        action="refresh",
    )
    assert r.status_code == 422 and "添付できるファイルの種類" in r.text
    assert blobs_of(api, res.app_id) == [] and await rows_of(api, res.app_id) == []
    assert (await values_of(api, res.app_id)).get("name") == KOSEKI["name"]  # the typed input is kept
    # A stale CSRF token: refused before anything is written.
    r = await res.http.post(
        res.app_url + "/form",
        data={"csrf": "0" * 32, "action": "confirm", **KOSEKI},
        files={"id_document": ("id.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 403 and "有効期限" in r.text
    assert blobs_of(api, res.app_id) == [] and await rows_of(api, res.app_id) == []
    # Accepted: one row, one blob, the same bytes.
    r = await res.post_form(KOSEKI, files={"id_document": ("id.pdf", PDF, "application/pdf")})
    assert r.status_code == 303, r.text
    [row] = await rows_of(api, res.app_id)
    [blob] = blobs_of(api, res.app_id)
    assert blob == api.settings.blob_path / row.blob_key and blob.read_bytes() == PDF
    # Once sent, a post (with its CSRF token right) is turned away and its file is not kept.
    r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    assert r.status_code == 303, r.text
    r = await res.post_form(KOSEKI, files={"id_document": ("other.pdf", PDF + b"%x", "application/pdf")})
    assert r.status_code == 303 and not r.headers["location"].endswith("/confirm")
    assert blobs_of(api, res.app_id) == [blob] and [f.id for f in await rows_of(api, res.app_id)] == [row.id]


async def _failed_transaction_leaves_nothing(
    api: Api, refuse: Callable[[], Awaitable[None]], allow: Callable[[], Awaitable[None]]
) -> None:
    """The attachment's row is refused by the database after its blob was written: no blob stays."""
    res = await _resident(api)
    r = await res.post_form(KOSEKI, files={"id_document": ("id.pdf", PDF, "application/pdf")})
    assert r.status_code == 303, r.text
    [kept] = await rows_of(api, res.app_id)
    before = blobs_of(api, res.app_id)
    await refuse()
    try:
        try:
            r = await res.post_form(
                {**KOSEKI, "name": "変更 花子"},
                files={"id_document": (REFUSED_NAME, PDF + b"%new", "application/pdf")},
            )
            status = r.status_code
        except Exception:  # the ASGI transport may re-raise the server's error instead of its 500 page
            status = 500
        assert status == 500
    finally:
        await allow()
    assert blobs_of(api, res.app_id) == before  # the new blob is gone, the old one is still there
    assert [f.id for f in await rows_of(api, res.app_id)] == [kept.id]
    assert (await values_of(api, res.app_id))["name"] == KOSEKI["name"]  # the draft is as it was
    assert (api.settings.blob_path / kept.blob_key).read_bytes() == PDF
    # The same post goes through once the database takes it; the replaced file's blob goes.
    r = await res.post_form(
        {**KOSEKI, "name": "変更 花子"}, files={"id_document": ("new.pdf", PDF + b"%new", "application/pdf")}
    )
    assert r.status_code == 303, r.text
    [row] = await rows_of(api, res.app_id)
    assert row.id != kept.id and blobs_of(api, res.app_id) == [api.settings.blob_path / row.blob_key]


# ---------------------------------------------------------------- SQLite


async def test_refused_posts_leave_no_blob_sqlite(eapi: Api) -> None:
    await _refused_posts_leave_nothing(eapi)


async def test_failed_transaction_leaves_no_blob_sqlite(eapi: Api) -> None:
    async def run(sql: str) -> None:
        async with eapi.db.unbound() as s:
            await s.execute(sa.text(sql))

    async def refuse() -> None:
        await run(
            "CREATE TRIGGER refuse_file BEFORE INSERT ON eform_attachments"
            f" WHEN NEW.filename = '{REFUSED_NAME}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )

    async def allow() -> None:
        await run("DROP TRIGGER IF EXISTS refuse_file")

    await _failed_transaction_leaves_nothing(eapi, refuse, allow)


# ---------------------------------------------------------------- PostgreSQL (app role, RLS)


@pytest.mark.postgres
async def test_refused_posts_leave_no_blob_postgres(papi: Api) -> None:  # noqa: F811
    await _refused_posts_leave_nothing(papi)


@pytest.mark.postgres
async def test_failed_transaction_leaves_no_blob_postgres(papi: Api, pg: PgDatabase) -> None:  # noqa: F811
    async def run(sql: str) -> None:  # as the owner: the app role may not create triggers
        async with await psycopg.AsyncConnection.connect(_libpq(pg.owner_url), autocommit=True) as conn:
            await conn.execute(sql)  # type: ignore[arg-type]

    async def refuse() -> None:
        await run(
            "CREATE FUNCTION refuse_file() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " RAISE EXCEPTION 'refused by the test'; END $$;"
            " CREATE TRIGGER refuse_file BEFORE INSERT ON eform_attachments FOR EACH ROW"
            f" WHEN (NEW.filename = '{REFUSED_NAME}') EXECUTE FUNCTION refuse_file()"
        )

    async def allow() -> None:
        await run(
            "DROP TRIGGER IF EXISTS refuse_file ON eform_attachments; DROP FUNCTION IF EXISTS refuse_file()"
        )

    await _failed_transaction_leaves_nothing(papi, refuse, allow)
