"""法人番号: shared check digit, the ``nta`` adapter against recorded Web-API answers replayed by a
real local HTTP server, and the portal's autofill with and without JavaScript's JSON route."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from pydantic import SecretStr

from server.domain.eforms import corporate
from server.plugins.corporate import LookupUnavailable, registry
from server.plugins.corporate.nta import parse
from server.plugins.corporate.sandbox import CORPORATIONS
from shared.errors import InvalidInput, NotFound, TooManyRequests
from shared.text.checkdigit import corporate_number_check_digit, normalize_corporate_number
from tests.server.conftest import Api, sqlite_settings
from tests.server.eforms.conftest import Resident

RECORDED = Path(__file__).parent / "data" / "nta"
APP_ID = "TESTAPPID123"
NTA = "7000012050002"
OTHER = "2050001000001"  # no corporation has it (notfound.xml)


@dataclass
class FakeNta:
    """Not a fake of our code: a real HTTP server replaying the Web-API's recorded answers."""

    url: str
    mode: str = "ok"  # ok, down, broken, closed
    seen: list[dict[str, list[str]]] = field(default_factory=list)


@pytest.fixture
def nta_server() -> Iterator[FakeNta]:
    state = FakeNta(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            q = parse_qs(url.query)
            state.seen.append(q)
            status, body = 200, b""
            if state.mode == "down":
                status, body = 500, b"Internal Server Error"
            elif url.path != "/4/num" or q.get("id") != [APP_ID]:
                status, body = 403, "アプリケーションIDが不正です。".encode()
            elif state.mode == "broken":
                body = b"<corporations><count>1</count><corporation>"
            elif state.mode == "entities":
                body = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><corporations/>'
            else:
                number = q.get("number", [""])[0]
                path = RECORDED / f"{number}.xml"
                body = (path if path.exists() else RECORDED / "notfound.xml").read_bytes()
                if state.mode == "closed":
                    body = body.replace(b"<closeDate></closeDate>", b"<closeDate>2024-03-31</closeDate>")
            self.send_response(status)
            self.send_header("Content-Type", "application/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/4"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def nta_settings(tmp_path: Path, url: str, app_id: str | None = APP_ID, **over: object):
    return sqlite_settings(
        tmp_path,
        corporate_lookup="nta",
        nta_api_url=url,
        nta_application_id=SecretStr(app_id) if app_id else None,
        nta_timeout_seconds=2,
        mail_transport="memory",
        public_base_url="http://testserver",
        **over,
    )


def test_check_digit_is_shared_and_strict():
    assert corporate_number_check_digit(NTA[1:]) == 7
    assert normalize_corporate_number("７０００－０１２０－５０００２".replace("－", "-")) == NTA
    for bad in ("1000012050002", "700001205000", "70000120500021", "abcdefghijklm"):
        with pytest.raises(InvalidInput) as info:
            normalize_corporate_number(bad)
        assert info.value.message.startswith("法人番号")


async def test_nta_adapter_against_recorded_answers(tmp_path, nta_server):
    lookup = registry.create("nta", nta_settings(tmp_path, nta_server.url))
    found = await lookup.lookup(NTA)
    assert found is not None and found.name == "国税庁"
    assert found.address == "東京都千代田区霞が関３丁目１－１" and found.postal_code == "1008978"
    assert nta_server.seen[-1] == {"id": [APP_ID], "number": [NTA], "type": ["12"], "history": ["0"]}
    assert await lookup.lookup("2050001000001") is None  # count 0
    nta_server.mode = "closed"
    closed = await lookup.lookup(NTA)
    assert closed is not None and closed.closed


@pytest.mark.parametrize("mode", ["down", "broken", "entities"])
async def test_nta_adapter_failures_are_unavailable(tmp_path, nta_server, mode):
    nta_server.mode = mode
    lookup = registry.create("nta", nta_settings(tmp_path, nta_server.url))
    with pytest.raises(LookupUnavailable) as info:
        await lookup.lookup(NTA)
    assert "直接入力してください" in info.value.message


async def test_nta_adapter_wrong_id_and_unreachable(tmp_path, nta_server):
    with pytest.raises(LookupUnavailable):
        await registry.create("nta", nta_settings(tmp_path, nta_server.url, "WRONG")).lookup(NTA)
    assert not registry.create("nta", nta_settings(tmp_path, nta_server.url, None)).check().ok
    with pytest.raises(LookupUnavailable):
        await registry.create("nta", nta_settings(tmp_path, "http://127.0.0.1:9/4")).lookup(NTA)


def test_parse_ignores_other_numbers_and_oversize():
    body = (RECORDED / f"{NTA}.xml").read_bytes()
    assert parse(body, "2050001000001") is None
    with pytest.raises(LookupUnavailable):
        parse(b"<corporations>" + b" " * (1024 * 1024) + b"</corporations>", NTA)


async def _corporation_form(api) -> Resident:
    res = Resident(api)
    await res.start("zei-shomei")
    return res


BASE = {"applicant_type": "corporation", "name": "", "postal_code": "", "address": ""}


async def test_portal_autofill_without_javascript(eapi):
    """The 名称を検索 button fills name and address from the sandbox lookup; errors are Japanese."""
    res = await _corporation_form(eapi)
    number = next(iter(CORPORATIONS))
    r = await res.post_form({**BASE, "corporate_number": number}, action="corporate:corporate_number")
    assert r.status_code == 200
    assert 'value="株式会社しもつま見本商事"' in r.text and 'value="茨城県下妻市本城町二丁目22番地"' in r.text
    assert "を入れました" in r.text
    r = await res.post_form(
        {**BASE, "name": "手入力の名称", "corporate_number": "7000012050002"},
        action="corporate:corporate_number",
    )
    assert "見つかりませんでした" in r.text and 'value="手入力の名称"' in r.text
    r = await res.post_form(
        {**BASE, "corporate_number": "1234567890123"}, action="corporate:corporate_number"
    )
    assert "検査用数字が一致しません" in r.text
    closed = next(c for c in CORPORATIONS.values() if c.closed)
    r = await res.post_form({**BASE, "corporate_number": closed.number}, action="corporate:corporate_number")
    assert "閉鎖されています" in r.text


async def test_json_route_for_javascript(eapi):
    http = eapi.client("198.51.100.7")
    number = next(iter(CORPORATIONS))
    r = await http.get(f"/portal/api/corporate/{number}")
    assert r.status_code == 200 and r.json()["corporation"]["name"] == "株式会社しもつま見本商事"
    assert r.json()["notice"] == ""  # the sandbox needs no credit
    r = await http.get("/portal/api/corporate/7000012050002")
    assert r.status_code == 404 and "見つかりませんでした" in r.json()["message"]
    r = await http.get("/portal/api/corporate/123")
    assert r.status_code == 422 and r.json()["code"] == "corporate_number.format"


async def test_portal_with_the_nta_adapter_down_keeps_what_was_typed(data_dir, nta_server):
    from server.domain.eforms import services
    from tests.conftest import DEMO_LG_CODE

    api = Api(nta_settings(data_dir, nta_server.url))
    try:
        async with api.db.tenant(DEMO_LG_CODE) as session:
            await services.import_procedures(session, DEMO_LG_CODE)
        res = await _corporation_form(api)
        r = await res.post_form({**BASE, "corporate_number": NTA}, action="corporate:corporate_number")
        assert 'value="国税庁"' in r.text
        assert "国税庁によって保証されたものではない" in r.text  # the credit the API's terms require
        nta_server.mode = "down"
        r = await res.post_form(  # a number asked minutes ago is answered from the cache
            {**BASE, "name": "", "corporate_number": NTA}, action="corporate:corporate_number"
        )
        assert 'value="国税庁"' in r.text
        r = await res.post_form(
            {**BASE, "name": "手で入れた名称", "corporate_number": OTHER}, action="corporate:corporate_number"
        )
        assert "接続できませんでした" in r.text and 'value="手で入れた名称"' in r.text
        http = api.client("198.51.100.7")
        r = await http.get(f"/portal/api/corporate/{OTHER}")
        assert r.status_code == 503 and "直接入力してください" in r.json()["message"]
        nta_server.mode = "ok"  # the failure was not remembered
        r = await http.get(f"/portal/api/corporate/{OTHER}")
        assert r.status_code == 404
    finally:
        await api.close()


# ---------------------------------------------------------------- rate limit and cache (Guard)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def guard_for(tmp_path: Path, url: str, **over: object) -> tuple[corporate.Guard, Clock]:
    clock = Clock()
    return corporate.Guard(nta_settings(tmp_path, url, **over), clock=clock), clock


async def test_guard_limits_each_client_and_refills(tmp_path, nta_server):
    guard, clock = guard_for(tmp_path, nta_server.url, corporate_lookup_per_minute=3)
    for _ in range(3):
        assert (await guard.find(NTA, "203.0.113.1")).name == "国税庁"
    with pytest.raises(TooManyRequests) as info:
        await guard.find(NTA, "203.0.113.1")
    assert info.value.http_status == 429 and info.value.error_code == "corporate.rate_limited"
    assert "1分ほど待って" in info.value.message and "直接入力" in info.value.message
    assert (await guard.find(NTA, "203.0.113.2")).name == "国税庁"  # another client is not held up
    clock.now += 10  # 3 a minute: one lookup back every 20 s
    with pytest.raises(TooManyRequests):
        await guard.find(NTA, "203.0.113.1")
    clock.now += 10
    assert (await guard.find(NTA, "203.0.113.1")).name == "国税庁"
    clock.now += 3600  # a long pause gives back the minute's allowance, not more
    for _ in range(3):
        await guard.find(NTA, "203.0.113.1")
    with pytest.raises(TooManyRequests):
        await guard.find(NTA, "203.0.113.1")


@pytest.mark.parametrize(
    "bad",
    [
        "123",
        "1234567890123",
        "abcdefghijklm",
        "../../etc/passwd",
        "7" * 10_000,
        "'; DROP TABLE x;--",
        "",
        "\x00",
    ],
)
async def test_guard_counts_malformed_numbers_and_never_asks_the_service(tmp_path, nta_server, bad):
    guard, _clock = guard_for(tmp_path, nta_server.url, corporate_lookup_per_minute=2)
    for _ in range(2):
        with pytest.raises(InvalidInput):
            await guard.find(bad, "203.0.113.9")
    with pytest.raises(TooManyRequests):  # a burst of rubbish is still a burst
        await guard.find(bad, "203.0.113.9")
    assert nta_server.seen == [] and guard.calls == 0


async def test_guard_caches_answers_not_failures(tmp_path, nta_server):
    guard, clock = guard_for(tmp_path, nta_server.url, corporate_lookup_cache_seconds=300)
    await guard.find(NTA, "a")
    await guard.find(
        "７０００－０１２０－５０００２".replace("－", "-"), "b"
    )  # the same number, typed otherwise
    assert len(nta_server.seen) == 1
    for _ in range(2):
        with pytest.raises(NotFound):
            await guard.find(OTHER, "a")
    assert len(nta_server.seen) == 2  # "not found" is an answer too
    clock.now += 301
    nta_server.mode = "closed"
    assert (await guard.find(NTA, "a")).closed  # expired: asked again, the new answer is used
    assert len(nta_server.seen) == 3
    clock.now += 301
    nta_server.mode = "down"
    for _ in range(2):
        with pytest.raises(LookupUnavailable):
            await guard.find(NTA, "a")
    assert len(nta_server.seen) == 5  # a failure is not kept: every try asks again
    nta_server.mode = "ok"
    assert not (await guard.find(NTA, "a")).closed


async def test_guard_without_cache_asks_every_time(tmp_path, nta_server):
    guard, _clock = guard_for(tmp_path, nta_server.url, corporate_lookup_cache_seconds=0)
    for _ in range(3):
        await guard.find(NTA, "a")
    assert len(nta_server.seen) == 3 and not guard.answers


async def test_guard_memory_is_bounded(tmp_path, nta_server, monkeypatch):
    monkeypatch.setattr(corporate, "MAX_CLIENTS", 5)
    monkeypatch.setattr(corporate, "MAX_ANSWERS", 1)
    guard, _clock = guard_for(tmp_path, nta_server.url, corporate_lookup_per_minute=1)
    for i in range(50):  # many addresses (spoofing is not possible: the peer address is used)
        with pytest.raises(InvalidInput):
            await guard.find("x", f"198.51.100.{i}")
    assert len(guard.buckets) == 5
    await guard.find(NTA, "c1")
    with pytest.raises(NotFound):
        await guard.find(OTHER, "c2")
    assert list(guard.answers) == [OTHER]


async def test_json_route_burst_gets_japanese_429(tmp_path, nta_server):
    api = Api(nta_settings(tmp_path, nta_server.url, corporate_lookup_per_minute=4))
    try:
        http = api.client("198.51.100.20")
        answers = [
            (await http.get(f"/portal/api/corporate/{n}")).status_code
            for n in (NTA, NTA, "123", "%E3%81%82" * 50)
        ]
        assert answers == [200, 200, 422, 422]
        assert len(nta_server.seen) == 1  # the second was answered from the cache
        r = await http.get(f"/portal/api/corporate/{NTA}")
        assert r.status_code == 429
        assert r.json()["code"] == "corporate.rate_limited" and "1分ほど待って" in r.json()["message"]
        other = api.client("198.51.100.21")
        assert (await other.get(f"/portal/api/corporate/{NTA}")).status_code == 200
    finally:
        await api.close()


async def test_form_button_over_the_limit_keeps_what_was_typed(data_dir, nta_server):
    from server.domain.eforms import services
    from tests.conftest import DEMO_LG_CODE

    api = Api(nta_settings(data_dir, nta_server.url, corporate_lookup_per_minute=1))
    try:
        async with api.db.tenant(DEMO_LG_CODE) as session:
            await services.import_procedures(session, DEMO_LG_CODE)
        res = await _corporation_form(api)
        r = await res.post_form({**BASE, "corporate_number": NTA}, action="corporate:corporate_number")
        assert 'value="国税庁"' in r.text
        r = await res.post_form(
            {**BASE, "name": "手で入れた名称", "corporate_number": NTA}, action="corporate:corporate_number"
        )
        assert "1分ほど待って" in r.text and 'value="手で入れた名称"' in r.text
    finally:
        await api.close()
