"""語句登録 over the API on SQLite: own and office lists, permissions, duplicates, versions, limits,
hostile input (oversized, control characters, bidi overrides), other clerks' and other
municipalities' phrases, and the audit trail."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from server.db.models import AuditEvent, Phrase
from server.domain.accounts import services as accounts
from tests.conftest import DEMO_LG_CODE
from tests.server.conftest import Api

OTHER_LG = "131016"
CLERK2 = ("clerk-2", "password-2-abc")


def phrase(**kw: Any) -> dict[str, Any]:
    body = {"reading": "ほんじょうちょう", "key": "hj", "text": "本城町二丁目", "category": "town"}
    body.update(kw)
    return body


async def _second_clerk(api: Api) -> dict[str, str]:
    async with api.db.tenant(DEMO_LG_CODE) as session:
        await accounts.create_user(
            session,
            None,
            lg_code=DEMO_LG_CODE,
            username=CLERK2[0],
            display_name="二人目",
            password=CLERK2[1],
            groups=["窓口"],
        )
    return await api.headers(*CLERK2)


async def _other_municipality(api: Api) -> dict[str, str]:
    async with api.db.unbound() as session:
        await accounts.create_municipality(session, OTHER_LG, "千代田区")
    async with api.db.tenant(OTHER_LG) as session:
        await accounts.create_group(session, OTHER_LG, "窓口", ["reception.create", "phrase.manage"])
        await accounts.create_user(
            session,
            None,
            lg_code=OTHER_LG,
            username="clerk-b",
            display_name="B",
            password="password-b-123",
            groups=["窓口"],
        )
    r = await api.login("clerk-b", "password-b-123", lg_code=OTHER_LG)
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def _actions(api: Api) -> list[tuple[str, dict[str, Any]]]:
    async with api.db.unbound() as session:
        rows = (
            await session.execute(sa.select(AuditEvent.action, AuditEvent.details).order_by(AuditEvent.seq))
        ).all()
    return [(a, d) for a, d in rows if a.startswith("phrase_")]


async def test_clerk_manages_his_own_phrases(api: Api) -> None:
    """Create, list, update (version), delete; readings are folded to hiragana, 略号 to lower case."""
    h = await api.headers()
    r = await api.http.post("/api/v1/phrases", json=phrase(reading="ホンジョウチョウ", key="HJ"), headers=h)
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["scope"], created["reading"], created["key"], created["version"]) == (
        "user",
        "ほんじょうちょう",
        "hj",
        1,
    )
    listed = (await api.http.get("/api/v1/phrases", headers=h)).json()
    assert [p["text"] for p in listed["items"]] == ["本城町二丁目"]
    assert listed["can_manage_office"] is False
    r = await api.http.put(
        f"/api/v1/phrases/{created['id']}", json=phrase(text="本城町三丁目", version=1), headers=h
    )
    assert r.status_code == 200, r.text
    assert (r.json()["text"], r.json()["version"]) == ("本城町三丁目", 2)
    stale = await api.http.put(
        f"/api/v1/phrases/{created['id']}", json=phrase(text="古い", version=1), headers=h
    )
    assert stale.status_code == 409 and stale.json()["code"] == "phrase.version"
    assert (await api.http.delete(f"/api/v1/phrases/{created['id']}", headers=h)).status_code == 204
    assert (await api.http.get("/api/v1/phrases", headers=h)).json()["items"] == []
    events = await _actions(api)
    assert [a for a, _ in events] == [
        "phrase_create_success",
        "phrase_update_success",
        "phrase_delete_success",
    ]
    assert all("本城町" not in str(d) for _, d in events)  # the text never goes to the log


async def test_office_list_needs_phrase_manage(api: Api) -> None:
    """The clerk reads office phrases but cannot write them (403, audited); the supervisor can."""
    clerk, admin = await api.headers(), await api.admin_headers()
    denied = await api.http.post("/api/v1/phrases/office", json=phrase(), headers=clerk)
    assert denied.status_code == 403
    r = await api.http.post("/api/v1/phrases/office", json=phrase(), headers=admin)
    assert r.status_code == 201, r.text
    office = r.json()
    assert office["scope"] == "office"
    listed = (await api.http.get("/api/v1/phrases", headers=clerk)).json()["items"]
    assert [(p["scope"], p["text"]) for p in listed] == [("office", "本城町二丁目")]
    # The clerk's own routes do not reach the office list.
    assert (await api.http.delete(f"/api/v1/phrases/{office['id']}", headers=clerk)).status_code == 404
    assert (await api.http.delete(f"/api/v1/phrases/office/{office['id']}", headers=clerk)).status_code == 403
    # The same text may be in a clerk's own list and in the office list.
    assert (await api.http.post("/api/v1/phrases", json=phrase(), headers=clerk)).status_code == 201
    assert (await api.http.get("/api/v1/phrases", headers=admin)).json()["can_manage_office"] is True
    async with api.db.unbound() as session:
        denied_events = (
            await session.execute(
                sa.select(AuditEvent.action).where(AuditEvent.action == "permission_check_denied")
            )
        ).all()
    assert len(denied_events) == 2


async def test_another_clerks_phrase_is_not_found(api: Api) -> None:
    """Clerk 2 neither sees nor changes nor deletes clerk 1's phrase; the attempts are audited."""
    h1 = await api.headers()
    mine = (await api.http.post("/api/v1/phrases", json=phrase(), headers=h1)).json()
    h2 = await _second_clerk(api)
    assert (await api.http.get("/api/v1/phrases", headers=h2)).json()["items"] == []
    r = await api.http.put(
        f"/api/v1/phrases/{mine['id']}", json=phrase(text="乗っ取り", version=1), headers=h2
    )
    assert r.status_code == 404 and r.json()["code"] == "phrase.not_found"
    assert (await api.http.delete(f"/api/v1/phrases/{mine['id']}", headers=h2)).status_code == 404
    assert [p["text"] for p in (await api.http.get("/api/v1/phrases", headers=h1)).json()["items"]] == [
        "本城町二丁目"
    ]
    assert [a for a, _ in await _actions(api)][-2:] == ["phrase_update_failure", "phrase_delete_failure"]


async def test_another_municipalitys_phrase_is_not_found(api: Api) -> None:
    """A supervisor of another municipality cannot list, change or delete 082104's office phrase."""
    admin = await api.admin_headers()
    office = (await api.http.post("/api/v1/phrases/office", json=phrase(), headers=admin)).json()
    other = await _other_municipality(api)
    assert (await api.http.get("/api/v1/phrases", headers=other)).json()["items"] == []
    r = await api.http.put(
        f"/api/v1/phrases/office/{office['id']}", json=phrase(text="x", version=1), headers=other
    )
    assert r.status_code == 404
    assert (await api.http.delete(f"/api/v1/phrases/office/{office['id']}", headers=other)).status_code == 404
    # Its own office list may hold the same text: lists are per municipality.
    assert (await api.http.post("/api/v1/phrases/office", json=phrase(), headers=other)).status_code == 201
    async with api.db.unbound() as session:
        texts = (await session.execute(sa.select(Phrase.lg_code, Phrase.text).order_by(Phrase.lg_code))).all()
    assert [tuple(t) for t in texts] == [("082104", "本城町二丁目"), (OTHER_LG, "本城町二丁目")]


async def test_duplicates_are_refused(api: Api) -> None:
    """The same text (after NFC and trimming) or the same 略号 twice in one list: 409 in Japanese."""
    h = await api.headers()
    assert (await api.http.post("/api/v1/phrases", json=phrase(), headers=h)).status_code == 201
    again = await api.http.post("/api/v1/phrases", json=phrase(text=" 本城町二丁目　", key=None), headers=h)
    assert again.status_code == 409 and again.json()["code"] == "phrase.duplicate"
    assert "すでに登録" in again.json()["message"]
    same_key = await api.http.post("/api/v1/phrases", json=phrase(text="別の語句", key="ＨＪ"), headers=h)
    assert same_key.status_code == 409 and same_key.json()["code"] == "phrase.duplicate_key"
    # Renaming one phrase onto another's text is a duplicate too.
    other = (await api.http.post("/api/v1/phrases", json=phrase(text="長塚", key="ng"), headers=h)).json()
    r = await api.http.put(f"/api/v1/phrases/{other['id']}", json=phrase(key="ng", version=1), headers=h)
    assert r.status_code == 409 and r.json()["code"] == "phrase.duplicate"
    async with api.db.unbound() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(Phrase))).scalar_one() == 2


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (phrase(text="あ" * 401), "string_too_long"),
        (phrase(reading="よ" * 101), "string_too_long"),
        (phrase(text="一行目\n二行目"), "phrase.control_characters"),
        (phrase(text="タブ\tあり"), "phrase.control_characters"),
        (phrase(text="abc\u202etxt.exe"), "phrase.control_characters"),
        (phrase(text="ゼロ幅\u200bスペース"), "phrase.control_characters"),
        (phrase(text="\x00"), "phrase.control_characters"),
        (phrase(text="   "), "phrase.text_empty"),
        (phrase(reading="honjo"), "phrase.reading_kana"),
        (phrase(key="本城"), "phrase.key_format"),
        (phrase(key="a b"), "phrase.key_format"),
        (phrase(category="evil"), "enum"),
        ({**phrase(), "owner_user_id": str(uuid.uuid4())}, "extra_forbidden"),
    ],
    ids=[
        "text_too_long",
        "reading_too_long",
        "newline",
        "tab",
        "bidi_override",
        "zero_width",
        "nul",
        "blank",
        "reading_romaji",
        "key_kanji",
        "key_space",
        "category",
        "extra_field",
    ],
)
async def test_hostile_input_is_refused_in_japanese(api: Api, body: dict[str, Any], code: str) -> None:
    """Each bad body is 422 with a Japanese message and stores nothing."""
    h = await api.headers()
    r = await api.http.post("/api/v1/phrases", json=body, headers=h)
    assert r.status_code == 422, r.text
    answer = r.json()
    assert code in [answer["code"], *(d["code"] for d in answer.get("details", []))]
    message = answer["message"] + "".join(d["message"] for d in answer.get("details", []))
    assert any("\u3040" <= ch <= "\u30ff" for ch in message)
    async with api.db.unbound() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(Phrase))).scalar_one() == 0


async def test_list_limit_per_clerk(make_api: Callable[..., Api]) -> None:
    """The settings' limit: the next phrase is refused with a Japanese message, nothing lost."""
    api = make_api(phrases_max_per_user=2)
    try:
        h = await api.headers()
        for i in range(2):
            assert (
                await api.http.post("/api/v1/phrases", json=phrase(text=f"語句{i}", key=None), headers=h)
            ).status_code == 201
        r = await api.http.post("/api/v1/phrases", json=phrase(text="三つ目", key=None), headers=h)
        assert r.status_code == 422 and r.json()["code"] == "phrase.limit"
        assert "2件まで" in r.json()["message"]
        assert len((await api.http.get("/api/v1/phrases", headers=h)).json()["items"]) == 2
    finally:
        await api.close()


async def test_update_without_version_and_unknown_id(api: Api) -> None:
    """An update must name its version; an unknown id is 404."""
    h = await api.headers()
    mine = (await api.http.post("/api/v1/phrases", json=phrase(), headers=h)).json()
    r = await api.http.put(f"/api/v1/phrases/{mine['id']}", json=phrase(), headers=h)
    assert r.status_code == 422 and r.json()["code"] == "phrase.version_missing"
    r = await api.http.put(f"/api/v1/phrases/{uuid.uuid4()}", json=phrase(version=1), headers=h)
    assert r.status_code == 404


async def test_deleting_a_clerk_removes_his_phrases(api: Api) -> None:
    """Own phrases belong to the account (foreign key, ON DELETE CASCADE)."""
    h2 = await _second_clerk(api)
    assert (await api.http.post("/api/v1/phrases", json=phrase(), headers=h2)).status_code == 201
    from server.db.models import AuthSession, User, UserGroup

    async with api.db.tenant(DEMO_LG_CODE) as session:
        user = (await session.execute(sa.select(User).where(User.username == CLERK2[0]))).scalar_one()
        await session.execute(sa.delete(AuthSession).where(AuthSession.user_id == user.id))
        await session.execute(sa.delete(UserGroup).where(UserGroup.user_id == user.id))
        await session.execute(sa.delete(User).where(User.id == user.id))
    async with api.db.unbound() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(Phrase))).scalar_one() == 0


def phrases_migration() -> tuple[str, str]:
    """(revision, down_revision) of the migration that adds phrases (ids change when re-chained)."""
    import runpy
    from pathlib import Path

    from server.db.migrate import MIGRATIONS_DIR

    (path,) = Path(MIGRATIONS_DIR, "versions").glob("*_phrases.py")
    module = runpy.run_path(str(path))
    return str(module["revision"]), str(module["down_revision"])


async def insert_old_resident(db: Any, lg_code: str) -> None:
    """One register row as the migration before phrases stored it (joined address, no key)."""
    sqlite = db.engine.dialect.name == "sqlite"

    def new_id() -> Any:
        return uuid.uuid4().hex if sqlite else uuid.uuid4()

    async with db.tenant(lg_code) as session:
        await session.execute(
            sa.text(
                "INSERT INTO residents (id, lg_code, atena_number, household_number, resident_kind,"
                " resident_state, sex, birth_date, name_key, kana_key, address, building, imported_at,"
                " import_batch) VALUES (:id, :lg, '1', '1', '1', '1', '1', '1970-01-01', 'a', 'a',"
                " '茨城県下妻市本城町2-22', 'ハイツ１０１', '2026-01-01T00:00:00+00:00', :batch)"
            ),
            {"id": new_id(), "lg": lg_code, "batch": new_id()},
        )


async def test_migration_fills_the_address_key_of_rows_already_imported(tmp_path: Any) -> None:
    """Upgrade from the previous revision with a resident in the table: his address is searchable."""
    from server.db.engine import Database
    from server.db.migrate import upgrade
    from server.domain import audit
    from server.domain.residents import services as residents
    from tests.server.conftest import sqlite_settings

    settings = sqlite_settings(tmp_path)
    _revision, previous = phrases_migration()

    await asyncio.to_thread(upgrade, settings, previous)
    db = Database.from_settings(settings)
    try:
        async with db.unbound() as session:
            await accounts.create_municipality(session, DEMO_LG_CODE, "下妻市")
        await insert_old_resident(db, DEMO_LG_CODE)
    finally:
        await db.dispose()
    await asyncio.to_thread(upgrade, settings, "head")
    db = Database.from_settings(settings)
    try:
        found = await residents.search(db, DEMO_LG_CODE, audit.SYSTEM, None, None, "ハイツ101")
        assert [r.address for r in found] == ["茨城県下妻市本城町2-22"]
    finally:
        await db.dispose()


def test_demo_seed_gives_an_older_supervisors_group_the_new_permission(settings: Any) -> None:
    """Re-seeding a demo made before phrase.manage existed grants it to 管理者 (audited), once."""
    from server.__main__ import seed_demo
    from server.db.engine import Database
    from server.db.models import Group, GroupPermission

    async def drop() -> None:
        db = Database.from_settings(settings)
        try:
            async with db.tenant(DEMO_LG_CODE) as session:
                admins = (
                    await session.execute(sa.select(Group.id).where(Group.name == "管理者"))
                ).scalar_one()
                await session.execute(
                    sa.delete(GroupPermission).where(
                        GroupPermission.group_id == admins, GroupPermission.permission == "phrase.manage"
                    )
                )
        finally:
            await db.dispose()

    async def state() -> tuple[bool, int]:
        db = Database.from_settings(settings)
        try:
            async with db.unbound() as session:
                held = (
                    await session.execute(
                        sa.select(sa.func.count())
                        .select_from(GroupPermission)
                        .join(Group, Group.id == GroupPermission.group_id)
                        .where(Group.name == "管理者", GroupPermission.permission == "phrase.manage")
                    )
                ).scalar_one()
                events = (
                    await session.execute(
                        sa.select(sa.func.count()).where(AuditEvent.action == "group_update_success")
                    )
                ).scalar_one()
            return held == 1, events
        finally:
            await db.dispose()

    asyncio.run(drop())
    assert asyncio.run(state()) == (False, 0)
    asyncio.run(seed_demo(settings))
    assert asyncio.run(state()) == (True, 1)
    asyncio.run(seed_demo(settings))
    assert asyncio.run(state()) == (True, 1)
