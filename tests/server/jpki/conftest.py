"""A test PKI (root → intermediate → signers), CRLs and a real OCSP responder over HTTP.

Everything is generated here with ``cryptography``; the responder answers with responses built by
``cryptography``'s OCSP builder, served by ``http.server`` on a free local port.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from server.domain.eforms import services
from server.domain.jpki.certinfo import FourInfo
from server.plugins.jpki import testpki as T
from tests.conftest import DEMO_LG_CODE
from tests.server.conftest import Api, sqlite_settings

TARO = FourInfo(
    name="下妻 太郎", birth_date="1980-04-01", gender="1", address="茨城県下妻市本城町二丁目22番地"
)


@dataclass
class Pki:
    root: T.Issued
    intermediate: T.Issued
    signer: T.Issued
    revoked: T.Issued
    expired: T.Issued
    no_nonrepudiation: T.Issued
    other_root: T.Issued
    other_signer: T.Issued

    def crls(self, revoked: list[T.Issued] | None = None) -> list[bytes]:
        rev = [self.revoked] if revoked is None else revoked
        return [T.make_crl(self.intermediate, [r.cert for r in rev]), T.make_crl(self.root, [])]


@pytest.fixture(scope="session")
def pki() -> Pki:
    root = T.make_ca("Test JPKI Root")
    inter = T.make_ca("Test JPKI Sign CA", root)
    now = datetime.now(UTC)
    other_root = T.make_ca("Another Root")
    return Pki(
        root=root,
        intermediate=inter,
        signer=T.make_signer(inter, TARO),
        revoked=T.make_signer(inter, TARO),
        expired=T.make_signer(
            inter, TARO, not_before=now - timedelta(days=800), not_after=now - timedelta(days=1)
        ),
        no_nonrepudiation=T.make_signer(inter, TARO, non_repudiation=False),
        other_root=other_root,
        other_signer=T.make_signer(other_root, TARO),
    )


@dataclass
class Responder:
    url: str
    ca: T.Issued
    revoked: set[int] = field(default_factory=set)
    requests: int = 0


@pytest.fixture
def ocsp_responder(pki: Pki) -> Iterator[Responder]:
    """An OCSP responder for the intermediate CA at http://127.0.0.1:<port>/ocsp."""
    state = Responder(url="", ca=pki.intermediate)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests += 1
            answer = T.ocsp_response(body, state.ca, state.revoked)
            self.send_response(200)
            self.send_header("Content-Type", "application/ocsp-response")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/ocsp"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def closed_port_url() -> str:
    """An address where nothing listens (a port bound, then released)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/ocsp"


PROCEDURE = """
slug: jpki-test
title: 電子署名つきの申請（テスト）
jpki_required: true
fields:
  - {name: name, label: 氏名, type: text, required: true, max_length: 50}
  - {name: birth_date, label: 生年月日, type: date, required: true}
  - {name: address, label: 住所, type: address, required: true, max_length: 200}
"""
VALUES = {"name": "下妻 太郎", "birth_date": "1980-04-01", "address": "茨城県下妻市本城町二丁目22番地"}


async def _api(settings) -> Api:
    api = Api(settings)
    folder = Path(settings.data_dir) / "procs"
    folder.mkdir(exist_ok=True)
    (folder / "jpki-test.yaml").write_text(PROCEDURE, encoding="utf-8")
    async with api.db.tenant(DEMO_LG_CODE) as session:
        await services.import_procedures(session, DEMO_LG_CODE, folder=folder)
        await services.import_procedures(session, DEMO_LG_CODE)
    return api


@pytest.fixture
async def japi(data_dir):
    api = await _api(sqlite_settings(data_dir, mail_transport="memory", public_base_url="http://testserver"))
    try:
        yield api
    finally:
        await api.close()
