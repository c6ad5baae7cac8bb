"""送信's serial section (申請番号 counter, audit chain, mails) against real SQLite and PostgreSQL.

On PostgreSQL the submission's last writes go in one pipelined round trip that also commits
(``services._submit_pipelined``); on SQLite they are the ORM's statements. Both must keep the same
guarantees: consecutive 申請番号 under concurrency, one audit event per submission in an intact
chain while other events are appended at the same time, and a submission whose last writes fail
leaves nothing behind — the application stays a draft, its number is given to the next one.
The failure is real: a database trigger refuses the submission's mail row.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest
import sqlalchemy as sa

from server.db.models import Application, AuditEvent, OutboxMail
from server.domain import audit
from server.domain.eforms import services
from tests.conftest import DEMO_LG_CODE
from tests.server.conftest import Api
from tests.server.eforms.conftest import PDF, Resident
from tests.server.eforms.test_eforms_postgres import KOSEKI, _settings
from tests.server.test_postgres import PgDatabase, _libpq, pg  # noqa: F401

FAIL_ADDR = "refused@example.jp"


@pytest.fixture
async def papi(pg: PgDatabase) -> AsyncIterator[Api]:  # noqa: F811
    api = Api(_settings(pg))
    async with api.db.tenant(DEMO_LG_CODE) as s:
        await services.import_procedures(s, DEMO_LG_CODE)
    try:
        yield api
    finally:
        await api.close()


async def _ready(api: Api, n: int, tag: str) -> list[Resident]:
    """``n`` residents with a complete 戸籍謄抄本 form, on the confirmation page."""
    out = []
    for i in range(n):
        res = Resident(api)
        await res.start("koseki", email=f"{tag}{i}-{uuid.uuid4().hex[:6]}@example.jp")
        r = await res.post_form(KOSEKI, files={"id_document": ("id.pdf", PDF, "application/pdf")})
        assert r.status_code == 303, r.text
        out.append(res)
    return out


async def _submit(res: Resident) -> int:
    try:
        r = await res.http.post(res.app_url + "/submit", data={"csrf": res.csrf})
    except Exception:  # the ASGI transport may re-raise the server's error instead of its 500 page
        return 500
    return r.status_code


async def _number(api: Api, app_id: uuid.UUID) -> int:
    async with api.db.tenant(DEMO_LG_CODE) as s:
        ref = (await s.execute(sa.select(Application.reference).where(Application.id == app_id))).scalar_one()
    assert ref is not None
    return int(ref.rsplit("-", 1)[1])


async def _at_once(api: Api) -> None:
    residents = await _ready(api, 6, "once")
    others = [
        audit.record_committed(
            api.db, DEMO_LG_CODE, audit.Event(audit.SYSTEM, "test_concurrent_success", "test", str(i))
        )
        for i in range(6)
    ]
    answers = await asyncio.gather(*(_submit(res) for res in residents), *others)
    assert answers[:6] == [303] * 6
    ids = [res.app_id for res in residents]
    async with api.db.tenant(DEMO_LG_CODE) as s:
        apps = (await s.execute(sa.select(Application).where(Application.id.in_(ids)))).scalars().all()
        events = (
            (
                await s.execute(
                    sa.select(AuditEvent).where(
                        AuditEvent.action == "application_submit_success",
                        AuditEvent.object_id.in_([str(i) for i in ids]),
                    )
                )
            )
            .scalars()
            .all()
        )
        mails = (
            (
                await s.execute(
                    sa.select(OutboxMail).where(
                        OutboxMail.event == "submitted", OutboxMail.application_id.in_(ids)
                    )
                )
            )
            .scalars()
            .all()
        )
        report = await audit.verify_chain(s, DEMO_LG_CODE)
    assert {a.status for a in apps} == {"submitted"}
    numbers = sorted(int(a.reference.rsplit("-", 1)[1]) for a in apps if a.reference)
    assert numbers == list(range(numbers[0], numbers[0] + 6))
    by_app = {a.id: a for a in apps}
    assert sorted(e.object_id for e in events) == sorted(str(i) for i in ids)  # one event each
    for e in events:
        assert e.details["reference"] == by_app[uuid.UUID(e.object_id)].reference
    assert len(mails) == 6
    for m in mails:
        ref = by_app[m.application_id].reference
        assert ref and ref in m.subject and ref in m.body
    assert report.ok, report


async def _refused_leaves_nothing(api: Api, refuse: object, allow: object) -> None:
    """A submission whose mail the database refuses: nothing of it stays, the next takes its number."""
    (before,) = await _ready(api, 1, "before")
    assert await _submit(before) == 303
    first = await _number(api, before.app_id)
    victim = Resident(api)
    await victim.start("koseki", email=FAIL_ADDR)
    r = await victim.post_form(KOSEKI, files={"id_document": ("id.pdf", PDF, "application/pdf")})
    assert r.status_code == 303, r.text
    async with api.db.tenant(DEMO_LG_CODE) as s:
        events_before = (await s.execute(sa.select(sa.func.count()).select_from(AuditEvent))).scalar_one()
    await refuse()  # type: ignore[operator]
    try:
        assert await _submit(victim) == 500
    finally:
        await allow()  # type: ignore[operator]
    async with api.db.tenant(DEMO_LG_CODE) as s:
        app = (await s.execute(sa.select(Application).where(Application.id == victim.app_id))).scalar_one()
        assert (app.status, app.reference, app.submitted_at) == ("draft", None, None)
        assert [h["status"] for h in app.history or []].count("submitted") == 0
        mails = (
            await s.execute(
                sa.select(sa.func.count()).where(
                    OutboxMail.application_id == victim.app_id, OutboxMail.event == "submitted"
                )
            )
        ).scalar_one()
        assert mails == 0
        events_after = (await s.execute(sa.select(sa.func.count()).select_from(AuditEvent))).scalar_one()
        assert events_after == events_before  # no audit event of the failed submission
        assert (await audit.verify_chain(s, DEMO_LG_CODE)).ok
    (after,) = await _ready(api, 1, "after")
    assert await _submit(after) == 303
    assert await _number(api, after.app_id) == first + 1  # the refused one's number was given back
    assert await _submit(victim) == 303  # and the resident can send again once the mail is accepted
    assert await _number(api, victim.app_id) == first + 2


# ---------------------------------------------------------------- SQLite


async def test_submissions_at_once_with_other_audit_events_sqlite(eapi: Api) -> None:
    await _at_once(eapi)


async def test_refused_submission_leaves_nothing_sqlite(eapi: Api) -> None:
    async def run(sql: str) -> None:
        async with eapi.db.unbound() as s:
            await s.execute(sa.text(sql))

    await _refused_leaves_nothing(
        eapi,
        lambda: run(
            "CREATE TRIGGER refuse_mail BEFORE INSERT ON mail_outbox"
            f" WHEN NEW.to_addr = '{FAIL_ADDR}' AND NEW.event = 'submitted'"
            " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        ),
        lambda: run("DROP TRIGGER IF EXISTS refuse_mail"),
    )


# ---------------------------------------------------------------- PostgreSQL (app role, RLS)


@pytest.mark.postgres
async def test_submissions_at_once_with_other_audit_events_postgres(papi: Api) -> None:
    await _at_once(papi)


@pytest.mark.postgres
async def test_refused_submission_leaves_nothing_postgres(papi: Api, pg: PgDatabase) -> None:  # noqa: F811
    async def run(sql: str) -> None:  # as the owner: the app role may not create triggers
        async with await psycopg.AsyncConnection.connect(_libpq(pg.owner_url), autocommit=True) as conn:
            await conn.execute(sql)  # type: ignore[arg-type]

    await _refused_leaves_nothing(
        papi,
        lambda: run(
            "CREATE FUNCTION refuse_mail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " RAISE EXCEPTION 'refused by the test'; END $$;"
            " CREATE TRIGGER refuse_mail BEFORE INSERT ON mail_outbox FOR EACH ROW"
            f" WHEN (NEW.to_addr = '{FAIL_ADDR}' AND NEW.event = 'submitted') EXECUTE FUNCTION refuse_mail()"
        ),
        lambda: run(
            "DROP TRIGGER IF EXISTS refuse_mail ON mail_outbox; DROP FUNCTION IF EXISTS refuse_mail()"
        ),
    )
