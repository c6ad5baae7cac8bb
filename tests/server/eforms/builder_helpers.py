"""Helpers of the form-builder and organisation tests: staff in 課, the builder's form as data."""

from __future__ import annotations

import re
from typing import Any

import httpx

from server.db.models import Organisation, OrganisationMember
from server.domain.accounts import services as accounts
from tests.conftest import DEMO_LG_CODE
from tests.server.conftest import Api

PASSWORD = "builder-test-pass"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


async def make_staff(api: Api, username: str, permissions: list[str]) -> None:
    """A staff member whose only group grants ``permissions``."""
    async with api.db.tenant(DEMO_LG_CODE) as session:
        group = f"g-{username}"
        await accounts.create_group(session, DEMO_LG_CODE, group, permissions)
        await accounts.create_user(
            session,
            None,
            lg_code=DEMO_LG_CODE,
            username=username,
            display_name=f"職員 {username}",
            password=PASSWORD,
            groups=[group],
        )


async def make_org(api: Api, name: str, members: dict[str, str]) -> str:
    """A 課 with ``members`` (username → role); its id."""
    async with api.db.tenant(DEMO_LG_CODE) as session:
        org = Organisation(lg_code=DEMO_LG_CODE, name=name)
        session.add(org)
        await session.flush()
        for username, role in members.items():
            user = await accounts.get_user(session, DEMO_LG_CODE, username)
            assert user is not None
            session.add(
                OrganisationMember(lg_code=DEMO_LG_CODE, organisation_id=org.id, user_id=user.id, role=role)
            )
        return str(org.id)


async def console(api: Api, username: str, password: str = PASSWORD) -> tuple[httpx.AsyncClient, str]:
    """A logged-in console browser and its CSRF token."""
    http = api.client("127.0.0.1")
    r = await http.post(
        "/console/login", data={"lg_code": DEMO_LG_CODE, "username": username, "password": password}
    )
    assert r.status_code == 303, r.text
    page = await http.get("/console/procedures")
    if page.status_code != 200:
        page = await http.get("/console/")
    match = CSRF.search(page.text)
    return http, match.group(1) if match else ""


def form_of(html: str) -> dict[str, Any]:
    """The builder form's current values as a browser would post them (no action button)."""
    data: dict[str, Any] = {}
    form = html[html.index('id="builder"') :]
    for m in re.finditer(r"<input ([^>]*)>", form):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', m.group(1)))
        name = attrs.get("name")
        if not name:
            continue
        kind = attrs.get("type", "text")
        if kind in ("checkbox", "radio"):
            if " checked" in m.group(1):
                data.setdefault(name, []).append(attrs.get("value", "on"))
            continue
        if kind == "submit":
            continue
        data[name] = _unescape(attrs.get("value", ""))
    for m in re.finditer(r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        # As a browser: the line break right after <textarea> is not part of the value.
        text = m.group(2)
        data[m.group(1)] = _unescape(text[1:] if text.startswith("\n") else text)
    for m in re.finditer(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', m.group(2))
        first = re.search(r'<option value="([^"]*)"', m.group(2))
        data[m.group(1)] = _unescape((chosen or first).group(1)) if (chosen or first) else ""
    return data


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def field_keys(data: dict[str, Any]) -> list[str]:
    return sorted({k.split(".")[1] for k in data if re.match(r"^fields\.\d+\.label$", k)}, key=int)
