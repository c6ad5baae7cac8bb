"""Fixtures for the server tests: a migrated, seeded SQLite database per test and an API client.

The database is migrated and seeded once per session into a template folder and copied for each
test (fast and isolated). Requests go through httpx's ASGI transport so a test can choose the
client IP address (inside LGWAN, outside, behind a proxy).
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.config import Settings
from server.db.engine import Database
from tests.conftest import DEMO_CLERK, DEMO_LG_CODE, DEMO_SUPERVISOR

INSIDE_IP = "127.0.0.1"
OUTSIDE_IP = "203.0.113.5"

# 個人番号 with a valid check digit (123456789018) and one with a wrong check digit.
VALID_MY_NUMBER = "123456789018"
BAD_MY_NUMBER = "123456789012"


def sqlite_settings(folder: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": folder,
        "database_url": f"sqlite+aiosqlite:///{folder / 'madoguchi.db'}",
        "demo": True,
        "lockout_threshold": 3,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with the demo data and a key file, copied by each test."""
    from server.__main__ import seed_demo
    from server.db.migrate import upgrade

    folder = tmp_path_factory.mktemp("template")
    settings = sqlite_settings(folder)
    upgrade(settings)
    asyncio.run(seed_demo(settings))
    return folder


@pytest.fixture
def data_dir(template_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(template_dir, folder)
    return folder


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return sqlite_settings(data_dir)


class Api:
    """A test client for one app; ``client(ip)`` gives an httpx client from that address."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.db: Database = self.app.state.db
        self._clients: list[httpx.AsyncClient] = []
        self.http = self.client(INSIDE_IP)

    def client(self, ip: str, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(ip, 40000))
        c = httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)
        self._clients.append(c)
        return c

    async def login(
        self,
        username: str = DEMO_CLERK[0],
        password: str = DEMO_CLERK[1],
        *,
        lg_code: str = DEMO_LG_CODE,
        client: httpx.AsyncClient | None = None,
        **extra: Any,
    ) -> httpx.Response:
        body = {"lg_code": lg_code, "username": username, "password": password, **extra}
        return await (client or self.http).post("/api/v1/auth/login", json=body)

    async def token(self, username: str = DEMO_CLERK[0], password: str = DEMO_CLERK[1], **kw: Any) -> str:
        r = await self.login(username, password, **kw)
        assert r.status_code == 200, r.text
        return str(r.json()["token"])

    async def headers(self, username: str = DEMO_CLERK[0], password: str = DEMO_CLERK[1]) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(username, password)}"}

    async def admin_headers(self) -> dict[str, str]:
        return await self.headers(*DEMO_SUPERVISOR)

    async def close(self) -> None:
        for c in self._clients:
            await c.aclose()
        await self.db.dispose()


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    client = Api(settings)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def make_api(data_dir: Path) -> Callable[..., Api]:
    """An Api over the same database with changed settings (the caller closes it)."""

    def factory(**overrides: Any) -> Api:
        return Api(sqlite_settings(data_dir, **overrides))

    return factory


def notice(my_number: str | None = VALID_MY_NUMBER, **person_overrides: Any) -> dict[str, Any]:
    """A valid 転入 notice as the client sends it (one person)."""
    person = {
        "family_name": "下妻",
        "given_name": "太郎",
        "family_name_kana": "シモツマ",
        "given_name_kana": "タロウ",
        "birth_date": "1980-04-01",
        "sex": "1",
        "relationship": "世帯主",
        "my_number": my_number,
    }
    person.update(person_overrides)
    return {
        "kind": "move_in",
        "notified_on": date.today().isoformat(),
        "moved_on": date.today().isoformat(),
        "notifier": {"name": "下妻 太郎", "standing": "self"},
        "new_address": {
            "prefecture": "茨城県",
            "municipality": "下妻市",
            "town": "本城町",
            "block_number": "2-22",
        },
        "old_address": {
            "prefecture": "茨城県",
            "municipality": "つくば市",
            "town": "研究学園",
            "block_number": "1-1-1",
        },
        "persons": [person],
    }


def reception_body(client_key: uuid.UUID | None = None, **kw: Any) -> dict[str, Any]:
    return {"client_key": str(client_key or uuid.uuid4()), "notice": notice(**kw), "terminal_id": "T-01"}


async def count_rows(db: Database, table: str) -> int:
    import sqlalchemy as sa

    async with db.unbound() as session:
        return int((await session.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one())
