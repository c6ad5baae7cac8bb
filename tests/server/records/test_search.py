"""Reception search: names in kanji, kana, romaji (folded), numbers, dates, filters; audited; limited."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import anyio.to_thread
import httpx
import sqlalchemy as sa

from server.config import Settings
from server.db.models import Reception, ReceptionSearchKey
from tests.conftest import DEMO_LG_CODE
from tests.server.conftest import Api
from tests.server.records.conftest import actions, make_reception


async def _search(api: Api, headers: dict[str, str], **params: Any) -> httpx.Response:
    return await api.http.get("/api/v1/records/receptions", params=params, headers=headers)


async def _numbers(api: Api, headers: dict[str, str], **params: Any) -> list[str]:
    r = await _search(api, headers, **params)
    assert r.status_code == 200, r.text
    return [i["reception_number"] for i in r.json()["items"]]


async def _seed(api: Api) -> tuple[dict[str, str], list[dict[str, Any]]]:
    admin = await api.admin_headers()
    made = [
        await make_reception(api, admin, confirmation_number="A-17"),
        await make_reception(
            api,
            admin,
            family_name="髙﨑",
            given_name="花子",
            family_name_kana="タカサキ",
            given_name_kana="ハナコ",
            birth_date="1990-12-24",
            terminal_id="T-02",
        ),
        await make_reception(
            api,
            admin,
            is_foreign=True,
            family_name=None,
            given_name=None,
            family_name_kana=None,
            given_name_kana=None,
            roman_name="SMITH JOHN",
            nationality="US",
            residence_category="mid_long_term",
            name_kana="スミス ジョン",
            my_number=None,
            birth_date="1975-01-02",
        ),
    ]
    return admin, made


async def test_name_search_folds_kanji_variants_kana_width_and_romaji(api: Api) -> None:
    """高崎 finds 髙﨑; ﾀｶｻｷ and たかさき find it by kana; 'smith' finds the foreign resident."""
    admin, made = await _seed(api)
    taka = made[1]["reception_number"]
    assert await _numbers(api, admin, name="高崎") == [taka]
    assert await _numbers(api, admin, name="ﾀｶｻｷ ﾊﾅｺ") == [taka]
    assert await _numbers(api, admin, name="たかさき") == [taka]
    assert await _numbers(api, admin, name="ハナコ") == [taka]
    assert await _numbers(api, admin, name="ｓｍｉｔｈ") == [made[2]["reception_number"]]
    assert await _numbers(api, admin, name="存在しない") == []


async def test_filters_numbers_dates_kind_terminal_clerk(api: Api) -> None:
    """Birth date, 確認番号, 受付番号, date range, terminal and clerk narrow the result."""
    admin, made = await _seed(api)
    numbers = sorted(m["reception_number"] for m in made)
    assert await _numbers(api, admin, birth_date="1990-12-24") == [made[1]["reception_number"]]
    assert await _numbers(api, admin, confirmation_number="ａ－１７") == [made[0]["reception_number"]]
    assert await _numbers(api, admin, confirmation_number="A-17") == [made[0]["reception_number"]]
    third = made[2]["reception_number"]
    assert await _numbers(api, admin, reception_number=third) == [third]
    today = made[0]["reception_number"][:8]
    day = date(int(today[:4]), int(today[4:6]), int(today[6:]))
    assert sorted(await _numbers(api, admin, date_from=day.isoformat(), date_to=day.isoformat())) == numbers
    assert await _numbers(api, admin, date_to="2000-01-01") == []
    assert await _numbers(api, admin, terminal_id="T-02") == [made[1]["reception_number"]]
    found = await _numbers(api, admin, clerk="demo-admin", kind="move_in", status="received")
    assert sorted(found) == numbers
    assert await _numbers(api, admin, clerk="demo") == []


async def test_pagination_and_sorting(api: Api) -> None:
    """Pages of 2 in ascending number order cover all receptions once; a bad page size is 422."""
    admin, made = await _seed(api)
    first = (await _search(api, admin, page_size=2, descending="false")).json()
    second = (await _search(api, admin, page_size=2, page=2, descending="false")).json()
    assert first["total"] == 3
    got = [i["reception_number"] for i in first["items"] + second["items"]]
    assert got == sorted(m["reception_number"] for m in made)
    r = await _search(api, admin, page_size=100000)
    assert r.status_code == 422 and r.json()["code"] == "search.page"
    for page in (0, 1_000_001, 184467440737095518):  # the last one overflowed OFFSET: a 500 before
        r = await _search(api, admin, page=page)
        assert r.status_code == 422 and r.json()["code"] == "search.page", page
        assert "ページ指定が正しくありません" in r.json()["message"]


async def test_count_stops_at_the_limit_and_says_so(settings: Settings) -> None:
    """Beyond search_count_limit the total is a lower bound (「以上」); a last page that is not full
    gives the exact total without counting; the audit event says whether the count was capped."""
    import sqlalchemy as sa

    from server.db.models import AuditEvent

    api = Api(Settings(**{**settings.model_dump(), "search_count_limit": 2}))
    try:
        admin, made = await _seed(api)
        first = (await _search(api, admin, page_size=1)).json()
        assert (first["total"], first["total_capped"], len(first["items"])) == (2, True, 1)
        third = (await _search(api, admin, page_size=1, page=3)).json()
        assert (third["total"], third["total_capped"]) == (3, True)
        last = (await _search(api, admin, page_size=2, page=2)).json()
        assert (last["total"], last["total_capped"], len(last["items"])) == (3, False, 1)
        whole = (await _search(api, admin, page_size=10)).json()
        assert (whole["total"], whole["total_capped"]) == (3, False)
        beyond = (await _search(api, admin, page_size=2, page=5)).json()
        assert (beyond["items"], beyond["total"], beyond["total_capped"]) == ([], 2, True)
        exact = (await _search(api, admin, page_size=1, name="たかさき")).json()
        assert (exact["total"], exact["total_capped"]) == (1, False)
        async with api.db.unbound() as session:
            events = (
                await session.execute(
                    sa.select(AuditEvent.details)
                    .where(AuditEvent.action == "reception_search_success")
                    .order_by(AuditEvent.seq)
                )
            ).scalars()
            assert [(d["results"], d["results_capped"]) for d in events] == [
                (2, True),
                (3, True),
                (3, False),
                (3, False),
                (2, True),
                (1, False),
            ]
        assert len(made) == 3
    finally:
        await api.close()


async def check_name_search_from_keys_and_walked(settings: Settings) -> None:
    """A name search is answered from its keys (which carry the 受付番号): the exact total even
    beyond search_count_limit, sorted both ways, paged, with the 受付日 range. With
    search_keyed_scan_max at 1 the same name walks the receptions instead: the same pages, the
    total capped. Other sorts and clerks limited to their own receptions walk too."""
    limit = {"search_count_limit": 2}
    keyed = Api(Settings(**{**settings.model_dump(), **limit}))
    walked = Api(Settings(**{**settings.model_dump(), **limit, "search_keyed_scan_max": 1}))
    try:
        admin = await keyed.admin_headers()
        given = [("一郎", "イチロウ"), ("二郎", "ジロウ"), ("三郎", "サブロウ"), ("四郎", "シロウ")]
        made = [
            await make_reception(
                keyed,
                admin,
                family_name="渡柳",
                family_name_kana="ワタリヤナギ",
                given_name=g,
                given_name_kana=k,
            )
            for g, k in given
        ]
        await make_reception(keyed, admin, family_name="渡辺", family_name_kana="ワタナベ")
        numbers = sorted(m["reception_number"] for m in made)
        day = date(int(numbers[0][:4]), int(numbers[0][4:6]), int(numbers[0][6:8]))

        headers = {id(keyed): admin, id(walked): await walked.admin_headers()}

        async def page(api: Api, **params: Any) -> tuple[list[str], int, bool]:
            r = await _search(api, headers[id(api)], **params)
            assert r.status_code == 200, r.text
            body = r.json()
            return [i["reception_number"] for i in body["items"]], body["total"], body["total_capped"]

        for name in ("渡柳", "わたりやなぎ", "ﾜﾀﾘﾔﾅｷﾞ"):
            assert await page(keyed, name=name, page_size=2) == (numbers[:1:-1], 4, False)
            assert await page(keyed, name=name, page_size=2, page=2) == (numbers[1::-1], 4, False)
            assert await page(keyed, name=name, page_size=3, descending="false") == (numbers[:3], 4, False)
            assert await page(keyed, name=name, page_size=2, page=3) == ([], 4, False)
            assert await page(walked, name=name, page_size=2) == (numbers[:1:-1], 2, True)
            assert await page(walked, name=name, page_size=2, page=2) == (numbers[1::-1], 4, True)
            assert await page(walked, name=name, page_size=3, descending="false") == (numbers[:3], 3, True)
        assert await page(keyed, name="わたりやなぎさぶろう", page_size=2) == (
            [made[2]["reception_number"]],
            1,
            False,
        )
        for prefix in ("渡", "わた"):  # 渡辺 too
            found, total, capped = await page(keyed, name=prefix, page_size=10)
            assert (len(found), total, capped) == (5, 5, False)
        around = {"date_from": day.isoformat(), "date_to": day.isoformat()}
        assert await page(keyed, name="渡柳", page_size=10, **around) == (numbers[::-1], 4, False)
        assert await page(walked, name="渡柳", page_size=10, **around) == (numbers[::-1], 4, False)
        assert await page(keyed, name="渡柳", page_size=10, date_to="2000-01-01") == ([], 0, False)
        assert await page(keyed, name="渡柳", page_size=10, birth_date="1900-01-01") == ([], 0, False)
        # Another sort or another criterion: the receptions are walked, the count capped.
        by_time = await page(keyed, name="渡柳", page_size=2, sort="created_at")
        assert by_time == (numbers[:1:-1], 2, True)
        assert await page(keyed, name="渡柳", page_size=2, terminal_id="T-01") == (numbers[:1:-1], 2, True)
        assert await page(keyed, name="存在しない名前", page_size=2) == ([], 0, False)

        # 受付日 ranges read the keys month by month (the month is the database's, computed from
        # the number): two of the receptions renumbered into earlier months, as if made then.
        old = {made[0]["id"]: "20240131-9001", made[1]["id"]: "20240201-9002"}
        async with keyed.db.tenant(DEMO_LG_CODE) as session:
            for rid, number in old.items():
                for table in (Reception, ReceptionSearchKey):
                    column = table.id if table is Reception else table.reception_id
                    await session.execute(
                        sa.update(table).where(column == uuid.UUID(rid)).values(reception_number=number)
                    )
            months = (
                await session.execute(
                    sa.select(ReceptionSearchKey.month)
                    .where(ReceptionSearchKey.reception_id == uuid.UUID(made[0]["id"]))
                    .distinct()
                )
            ).scalars()
            assert list(months) == [202401]
        recent = numbers[2:]
        for api in (keyed, walked):
            january = {"date_from": "2024-01-01", "date_to": "2024-01-31"}
            assert await page(api, name="渡柳", page_size=10, **january) == (["20240131-9001"], 1, False)
            across = {"date_from": "2024-01-31", "date_to": "2024-02-01"}
            assert await page(api, name="渡柳", page_size=10, **across) == (
                ["20240201-9002", "20240131-9001"],
                2,
                False,
            )
            since = await page(api, name="渡柳", page_size=10, date_from="2024-02-01")
            assert since == ([*recent[::-1], "20240201-9002"], 3, False)
            # Longer than 120 months: the name's keys of all time.
            decades = await page(api, name="わたりやなぎ", page_size=10, date_from="1990-01-01")
            assert decades == ([*recent[::-1], "20240201-9002", "20240131-9001"], 4, False)
            backwards = {"date_from": "2024-02-01", "date_to": "2024-01-01"}
            assert await page(api, name="渡柳", page_size=10, **backwards) == ([], 0, False)
    finally:
        await keyed.close()
        await walked.close()


def test_months_of_a_range() -> None:
    """The months a 受付日 range reads, across a year's end; none without a name or a start, or
    for a range longer than ten years (then the name's keys of all time are read)."""
    from server.domain.documents.services import SearchQuery as Q
    from server.domain.documents.services import _months

    assert _months(Q(name="さとう", date_from=date(2025, 11, 20), date_to=date(2026, 2, 3))) == [
        202511,
        202512,
        202601,
        202602,
    ]
    assert _months(Q(name="さとう", date_from=date(2026, 1, 1), date_to=date(2026, 1, 31))) == [202601]
    assert _months(Q(name="さとう", date_from=date(2016, 1, 1), date_to=date(2025, 12, 31))) is not None
    assert _months(Q(name="さとう", date_from=date(2015, 12, 31), date_to=date(2025, 12, 31))) is None
    assert _months(Q(date_from=date(2026, 1, 1), date_to=date(2026, 1, 31))) is None
    assert _months(Q(name="さとう", date_to=date(2026, 1, 31))) is None
    assert _months(Q(name="さとう", date_from=date(2026, 3, 1), date_to=date(2026, 1, 31))) == [202603]


async def test_name_search_from_keys_and_walked(settings: Settings) -> None:
    await check_name_search_from_keys_and_walked(settings)


async def test_clerk_without_search_permission_sees_only_own(api: Api) -> None:
    """A clerk (no record.search) finds only receptions he made; others' are 404 to him."""
    _admin, made = await _seed(api)
    clerk = await api.headers()
    own = await make_reception(api, clerk)
    r = await _search(api, clerk)
    assert r.json()["limited_to_own"] is True
    assert [i["reception_number"] for i in r.json()["items"]] == [own["reception_number"]]
    r = await api.http.get(f"/api/v1/records/receptions/{made[0]['id']}", headers=clerk)
    assert r.status_code == 404


async def test_a_search_shape_is_built_once_and_its_values_bound(api: Api) -> None:
    """Searches of one shape (same criteria set, sort, limitation) share one cached statement;
    each still gets the rows of its own values."""
    from server.domain.documents.services import _statements

    admin, made = await _seed(api)
    await _numbers(api, admin, name="高崎")  # the shape is built (or already cached)
    before = _statements.cache_info()
    assert await _numbers(api, admin, name="スミス") == [made[2]["reception_number"]]
    assert await _numbers(api, admin, name="たかさき") == [made[1]["reception_number"]]
    after = _statements.cache_info()
    assert after.misses == before.misses and after.hits >= before.hits + 2


async def test_every_search_and_view_is_audited_without_personal_data(api: Api) -> None:
    """Search and view write audit events; the search event names criteria but not the name."""
    import sqlalchemy as sa

    from server.db.models import AuditEvent

    admin, made = await _seed(api)
    await _search(api, admin, name="高崎", terminal_id="T-02")
    r = await api.http.get(f"/api/v1/records/receptions/{made[1]['id']}", headers=admin)
    assert r.status_code == 200
    assert r.json()["reception"]["my_number_state"] == ["shown"]
    assert "reception_search_success" in await actions(api)
    assert "reception_view_success" in await actions(api)
    async with api.db.unbound() as session:
        search_action = AuditEvent.action == "reception_search_success"
        event = (await session.execute(sa.select(AuditEvent).where(search_action))).scalar_one()
        view = (
            await session.execute(sa.select(AuditEvent).where(AuditEvent.action == "reception_view_success"))
        ).scalar_one()
    assert "name" in event.details["criteria"] and "高崎" not in str(event.details)
    assert event.details["terminal_id"] == "T-02"
    assert view.my_number_shown is True


async def test_search_needs_login(api: Api) -> None:
    """No token, no search."""
    r = await api.http.get("/api/v1/records/receptions")
    assert r.status_code == 401


async def test_old_receptions_without_keys_are_found_after_reindex(api: Api, settings) -> None:  # type: ignore[no-untyped-def]
    """Searches index only recent receptions; `records reindex` indexes migrated old ones."""
    import sqlalchemy as sa
    from click.testing import CliRunner

    from server.__main__ import main
    from server.config import get_settings
    from server.db.models import Reception, ReceptionSearchKey

    admin = await api.admin_headers()
    rec = await make_reception(api, admin, family_name="旧", given_name="記録")
    async with api.db.unbound() as session:
        await session.execute(
            sa.update(Reception)
            .where(Reception.reception_number == rec["reception_number"])
            .values(reception_number="20190401-0001", business_date=date(2019, 4, 1))
        )
        await session.execute(sa.delete(ReceptionSearchKey))
    assert await _numbers(api, admin, name="旧記録") == []
    import os

    os.environ["MADOGUCHI_DATA_DIR"] = str(settings.data_dir)
    os.environ["MADOGUCHI_DATABASE_URL"] = settings.database_url
    get_settings.cache_clear()
    try:
        # The command runs its own event loop: give it a thread of its own.
        result = await anyio.to_thread.run_sync(
            lambda: CliRunner().invoke(main, ["records", "reindex", "--lg-code", "082104"])
        )
    finally:
        del os.environ["MADOGUCHI_DATA_DIR"], os.environ["MADOGUCHI_DATABASE_URL"]
        get_settings.cache_clear()
    assert result.exit_code == 0 and "1 件" in result.output, result.output
    assert await _numbers(api, admin, name="旧記録") == ["20190401-0001"]


async def test_search_checks_the_user_inside_its_own_transaction(api: Api) -> None:
    """The search route's user is checked as the first thing of the search's transaction: one
    transaction for login check and search (plus the shared audit commit), the same refusals as
    the guard — expired login 401 before anything else, missing permission 403 audited."""
    import sqlalchemy as sa
    from sqlalchemy import event

    from server.db.models import AuditEvent, AuthSession, GroupPermission

    admin = await api.admin_headers()
    await make_reception(api, admin)
    begins: list[int] = []
    engine = api.db.engine.sync_engine

    def count(_conn: Any) -> None:
        begins.append(1)

    event.listen(engine, "begin", count)
    try:
        r = await _search(api, admin)
    finally:
        event.remove(engine, "begin", count)
    assert r.status_code == 200 and r.json()["total"] == 1
    assert len(begins) == 2, begins  # search (with the login check) + the audit event's commit

    bad_page = await api.http.get("/api/v1/records/receptions", params={"page_size": "0"})
    assert bad_page.status_code == 401  # no token: refused before the criteria are looked at
    clerk = await api.headers()
    async with api.db.unbound() as session:
        await session.execute(
            sa.delete(GroupPermission).where(GroupPermission.permission == "reception.read")
        )
    r = await _search(api, clerk)
    assert r.status_code == 403 and r.json()["code"] == "permission.denied", r.text
    async with api.db.unbound() as session:
        denied = (
            await session.execute(
                sa.select(AuditEvent.object_id, AuditEvent.details).where(
                    AuditEvent.action == "permission_check_denied"
                )
            )
        ).all()
        await session.execute(sa.update(AuthSession).values(revoked_at=sa.func.now()))
    assert [(d.object_id, d.details["permission"]) for d in denied] == [
        ("search_receptions", "reception.read")
    ]
    r = await _search(api, admin)
    assert r.status_code == 401 and r.json()["code"] == "auth.revoked", r.text


async def test_a_notice_accepted_under_older_rules_still_opens(api: Api) -> None:
    """A reception whose stored notice the current submit-time rules would refuse (here: a 転入
    without 新住所, as if that became required after it was accepted) opens in both views and is
    read by the client's models; nothing of it is lost or rewritten."""
    from shared.api import ReceptionRead
    from shared.api_records import ReceptionRecord
    from shared.models.movement_notice import STORED

    admin = await api.admin_headers()
    rec = await make_reception(api, admin)
    async with api.db.unbound() as session:
        row = await session.get(Reception, uuid.UUID(rec["id"]))
        assert row is not None
        row.notice = {k: v for k, v in row.notice.items() if k != "new_address"}
    for path, model in [
        (f"/api/v1/records/receptions/{rec['id']}", ReceptionRecord),
        (f"/api/v1/receptions/{rec['id']}", ReceptionRead),
    ]:
        r = await api.http.get(path, headers=admin)
        assert r.status_code == 200, r.text
        read = model.model_validate(r.json(), context=STORED)  # as client.core.api reads it
        notice = read.reception.notice if isinstance(read, ReceptionRecord) else read.notice
        assert notice.new_address.is_empty()
        assert notice.old_address.one_line() == "茨城県つくば市研究学園1-1-1"
