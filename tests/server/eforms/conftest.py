"""Fixtures for the online-application tests: the starter procedures in the demo municipality,
mail through the in-memory transport, and a resident driving the portal over httpx."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from server.config import Settings
from server.domain.eforms import services
from server.domain.notifications import send_due
from server.plugins.notifications.memory import MemoryTransport
from tests.conftest import DEMO_LG_CODE
from tests.server.conftest import Api, sqlite_settings

PORTAL = f"/portal/{DEMO_LG_CODE}"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def settings(data_dir: Any) -> Settings:
    return sqlite_settings(data_dir, mail_transport="memory", public_base_url="http://testserver")


@pytest.fixture
async def eapi(settings: Settings) -> AsyncIterator[Api]:
    """An Api whose municipality has the starter procedures published."""
    client = Api(settings)
    async with client.db.tenant(DEMO_LG_CODE) as session:
        await services.import_procedures(session, DEMO_LG_CODE, include_examples=True)
    MemoryTransport.sent.clear()
    try:
        yield client
    finally:
        await client.close()


async def deliver(api: Api) -> list[Any]:
    """Send the outbox through the memory transport; the messages sent now."""
    before = len(MemoryTransport.sent)
    await send_due(api.db, api.settings)
    return MemoryTransport.sent[before:]


def body_of(message: Any) -> str:
    return str(message.get_content())


class Resident:
    """A resident's browser without JavaScript: cookies, forms, redirects."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.http: httpx.AsyncClient = api.client("198.51.100.7")
        self.app_url = ""
        self.csrf = ""

    async def start(self, slug: str, email: str = "taro@example.jp") -> None:
        r = await self.http.post(f"{PORTAL}/procedures/{slug}/start", data={"email": email})
        assert r.status_code == 303, r.text
        self.app_url = r.headers["location"].removesuffix("/verify")
        mails = await deliver(self.api)
        code = re.search(r"確認コード: (\d{6})", body_of(mails[-1]))
        assert code is not None
        r = await self.http.get(self.app_url + "/verify")
        self.csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', r.text).group(1)  # type: ignore[union-attr]
        r = await self.http.post(self.app_url + "/verify", data={"csrf": self.csrf, "code": code.group(1)})
        assert r.status_code == 303 and r.headers["location"].endswith("/form"), r.text

    @property
    def app_id(self) -> uuid.UUID:
        return uuid.UUID(self.app_url.rsplit("/", 1)[1])

    async def post_form(
        self,
        data: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]] | None = None,
        action: str = "confirm",
    ) -> httpx.Response:
        body = {"csrf": self.csrf, "action": action, **data}
        return await self.http.post(self.app_url + "/form", data=body, files=files or {"_": ("", b"", "x")})


def juminhyo_values(**over: Any) -> dict[str, Any]:
    """A complete 住民票の写し form (without the file)."""
    values: dict[str, Any] = {
        "name": "下妻 太郎",
        "name_kana": "しもつま たろう",
        "birth_date__era": "昭和",
        "birth_date__y": "55",
        "birth_date__m": "4",
        "birth_date__d": "1",
        "postal_code": "304-0067",
        "address": "茨城県下妻市下妻乙124",
        "tel": "0296-43-2111",
        "purpose": "license",
        "copies": "2",
        "persons__count": "1",
        "persons.0.person_name": "下妻 太郎",
        "persons.0.relation": "本人",
    }
    values.update(over)
    return values
