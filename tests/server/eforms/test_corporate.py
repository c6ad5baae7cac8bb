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

from server.plugins.corporate import LookupUnavailable, registry
from server.plugins.corporate.nta import parse
from server.plugins.corporate.sandbox import CORPORATIONS
from shared.errors import InvalidInput
from shared.text.checkdigit import corporate_number_check_digit, normalize_corporate_number
from tests.server.conftest import Api, sqlite_settings
from tests.server.eforms.conftest import Resident

RECORDED = Path(__file__).parent / "data" / "nta"
APP_ID = "TESTAPPID123"
NTA = "7000012050002"


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


def nta_settings(tmp_path: Path, url: str, app_id: str | None = APP_ID):
    return sqlite_settings(
        tmp_path,
        corporate_lookup="nta",
        nta_api_url=url,
        nta_application_id=SecretStr(app_id) if app_id else None,
        nta_timeout_seconds=2,
        mail_transport="memory",
        public_base_url="http://testserver",
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
        r = await res.post_form(
            {**BASE, "name": "手で入れた名称", "corporate_number": NTA}, action="corporate:corporate_number"
        )
        assert "接続できませんでした" in r.text and 'value="手で入れた名称"' in r.text
        http = api.client("198.51.100.7")
        r = await http.get(f"/portal/api/corporate/{NTA}")
        assert r.status_code == 503 and "直接入力してください" in r.json()["message"]
    finally:
        await api.close()
