"""Receptions: idempotent creation, 受付番号, 個人番号 masked/shown and encrypted at rest."""

from __future__ import annotations

import asyncio
import re
import uuid

import sqlalchemy as sa

from server.db.models import AuditEvent
from server.domain.accounts import services
from tests.conftest import DEMO_LG_CODE
from tests.server.conftest import VALID_MY_NUMBER, Api, count_rows, reception_body


async def test_same_client_key_twice(api: Api) -> None:
    """The same client_key again answers 200 with the same reception and stores no second row."""
    headers = await api.headers()
    body = reception_body()
    first = await api.http.post("/api/v1/receptions", json=body, headers=headers)
    second = await api.http.post("/api/v1/receptions", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert await count_rows(api.db, "receptions") == 1
    assert await count_rows(api.db, "reception_persons") == 1


async def test_concurrent_duplicates(api: Api) -> None:
    """Concurrent submissions with one client_key make exactly one reception."""
    headers = await api.headers()
    body = reception_body()
    answers = await asyncio.gather(
        *(api.http.post("/api/v1/receptions", json=body, headers=headers) for _ in range(6))
    )
    assert sorted(r.status_code for r in answers) == [200] * 5 + [201]
    assert len({r.json()["id"] for r in answers}) == 1
    assert await count_rows(api.db, "receptions") == 1


async def test_reception_numbers_count_up(api: Api) -> None:
    """受付番号 is YYYYMMDD-NNNN and counts 0001, 0002 within the municipality and day."""
    headers = await api.headers()
    numbers = []
    for _ in range(2):
        r = await api.http.post("/api/v1/receptions", json=reception_body(), headers=headers)
        numbers.append(r.json()["reception_number"])
    assert all(re.fullmatch(r"\d{8}-\d{4}", n) for n in numbers)
    assert [n[-4:] for n in numbers] == ["0001", "0002"]


async def test_my_number_masked_for_clerk(api: Api) -> None:
    """A clerk without my_number.view gets my_number None, state masked; audit says not shown."""
    headers = await api.headers()
    r = await api.http.post("/api/v1/receptions", json=reception_body(), headers=headers)
    assert r.json()["notice"]["persons"][0]["my_number"] is None
    assert r.json()["my_number_state"] == ["masked"]
    assert VALID_MY_NUMBER not in r.text
    read = await api.http.get(f"/api/v1/receptions/{r.json()['id']}", headers=headers)
    assert read.json()["my_number_state"] == ["masked"]
    async with api.db.tenant(DEMO_LG_CODE) as session:
        event = (
            await session.execute(sa.select(AuditEvent).where(AuditEvent.action == "reception_read_success"))
        ).scalar_one()
    assert event.my_number_shown is False


async def test_my_number_shown_for_supervisor(api: Api) -> None:
    """A user with my_number.view sees the number; the read event records my_number_shown."""
    created = await api.http.post("/api/v1/receptions", json=reception_body(), headers=await api.headers())
    admin = await api.admin_headers()
    read = await api.http.get(f"/api/v1/receptions/{created.json()['id']}", headers=admin)
    assert read.json()["notice"]["persons"][0]["my_number"] == VALID_MY_NUMBER
    assert read.json()["my_number_state"] == ["shown"]
    async with api.db.tenant(DEMO_LG_CODE) as session:
        event = (
            await session.execute(sa.select(AuditEvent).where(AuditEvent.action == "reception_read_success"))
        ).scalar_one()
    assert event.my_number_shown is True
    assert VALID_MY_NUMBER not in str(event.details)


async def test_absent_my_number(api: Api) -> None:
    """Without a 個人番号 the state is absent and nothing is encrypted."""
    r = await api.http.post(
        "/api/v1/receptions", json=reception_body(my_number=None), headers=await api.headers()
    )
    assert r.json()["my_number_state"] == ["absent"]


async def test_my_number_encrypted_at_rest(api: Api) -> None:
    """No table holds the 個人番号 digits in clear: notice JSON has it removed, the column is ciphertext."""
    await api.http.post("/api/v1/receptions", json=reception_body(), headers=await api.headers())
    async with api.db.unbound() as session:
        notice = (await session.execute(sa.text("SELECT notice FROM receptions"))).scalar_one()
        cipher, key_id, mac = (
            await session.execute(
                sa.text(
                    "SELECT my_number_ciphertext, my_number_key_id, my_number_hmac FROM reception_persons"
                )
            )
        ).one()
        dump = []
        for table in ("receptions", "reception_persons", "audit_events"):
            rows = (await session.execute(sa.text(f"SELECT * FROM {table}"))).all()
            dump.extend(repr(tuple(row)) for row in rows)
    assert VALID_MY_NUMBER not in str(notice)
    assert VALID_MY_NUMBER.encode() not in bytes(cipher)
    assert key_id and mac and len(mac) == 64
    assert not any(VALID_MY_NUMBER in line for line in dump)
    assert (api.settings.data_dir / "madoguchi.db").read_bytes().find(VALID_MY_NUMBER.encode()) == -1


async def test_other_municipality_gets_404(api: Api) -> None:
    """A user of another municipality cannot read the reception (404, no data)."""
    created = await api.http.post("/api/v1/receptions", json=reception_body(), headers=await api.headers())
    async with api.db.unbound() as session:
        await services.create_municipality(session, "131016", "千代田区")
    async with api.db.tenant("131016") as session:
        await services.create_group(session, "131016", "all", ["reception.read", "my_number.view"])
        await services.create_user(
            session,
            None,
            lg_code="131016",
            username="other",
            display_name="x",
            password="password-123",
            groups=["all"],
        )
    headers = {"Authorization": f"Bearer {await api.token('other', 'password-123', lg_code='131016')}"}
    r = await api.http.get(f"/api/v1/receptions/{created.json()['id']}", headers=headers)
    assert r.status_code == 404
    assert VALID_MY_NUMBER not in r.text


async def test_unknown_reception_404(api: Api) -> None:
    """An unknown id answers 404 in Japanese."""
    r = await api.http.get(f"/api/v1/receptions/{uuid.uuid4()}", headers=await api.headers())
    assert r.status_code == 404
    assert r.json()["message"] == "受付が見つかりません。"


async def test_create_is_audited(api: Api) -> None:
    """Creating a reception writes reception_create_success with the reception id."""
    r = await api.http.post("/api/v1/receptions", json=reception_body(), headers=await api.headers())
    async with api.db.tenant(DEMO_LG_CODE) as session:
        event = (
            await session.execute(
                sa.select(AuditEvent).where(AuditEvent.action == "reception_create_success")
            )
        ).scalar_one()
    assert event.object_id == r.json()["id"]
    assert event.username == "demo"
    assert event.terminal_id is None or isinstance(event.terminal_id, str)


async def _submit_at_once(api: Api, n: int) -> list[int]:
    headers = await api.headers()
    responses = await asyncio.gather(
        *(api.http.post("/api/v1/receptions", json=reception_body(), headers=headers) for _ in range(n))
    )
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses if r.status_code != 201]
    return sorted(int(r.json()["reception_number"].split("-")[1]) for r in responses)


async def test_concurrent_submissions_numbered_without_gaps(api: Api) -> None:
    """Different receptions submitted at once all succeed and get consecutive 受付番号, none twice."""
    seqs = await _submit_at_once(api, 10)
    assert seqs == list(range(seqs[0], seqs[0] + 10))
