"""What the busiest portal pages cost in statements (issue 6 benchmark): the application comes with
its procedure in one statement, and the form page reads the attachments only when a file field has
a value — while a stored file, also inside a repeating group, is still shown. And the bench's
pre-built requests are what the portal accepts, so it times the real path and not error pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from bench.portal import load
from server.db.models import Procedure
from tests.conftest import DEMO_LG_CODE
from tests.server.eforms.conftest import PDF, Resident

DEFINITION: dict[str, Any] = {
    "slug": "docs",
    "title": "書類の提出",
    "category": "見本",
    "fields": [
        {"name": "name", "label": "氏名", "type": "text", "required": True},
        {
            "name": "docs",
            "label": "書類",
            "type": "group",
            "min_repeat": 1,
            "max_repeat": 3,
            "fields": [{"name": "file", "label": "ファイル", "type": "file"}],
        },
    ],
}


@contextmanager
def statements(api: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(api.db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(api.db.engine.sync_engine, "before_cursor_execute", record)


def reads(seen: list[str], table: str) -> list[str]:
    return [s for s in seen if s.startswith("SELECT") and (f"FROM {table}" in s or f"JOIN {table}" in s)]


async def test_form_page_reads_application_with_procedure_and_files_only_when_named(eapi):
    async with eapi.db.tenant(DEMO_LG_CODE) as session:
        session.add(
            Procedure(
                lg_code=DEMO_LG_CODE,
                slug="docs",
                title="書類の提出",
                category="見本",
                definition=DEFINITION,
                published=True,
            )
        )
    res = Resident(eapi)
    await res.start("docs")
    with statements(eapi) as seen:
        r = await res.http.get(res.app_url + "/form")
    assert r.status_code == 200 and "書類の提出" in r.text
    assert len(reads(seen, "eform_procedures")) == 1, seen
    assert reads(seen, "eform_procedures") == reads(seen, "eform_applications"), seen  # one join
    assert not reads(seen, "eform_attachments"), seen  # nothing attached yet: not asked

    r = await res.post_form(
        {"name": "下妻 太郎", "docs__count": "1"},
        files={"docs.0.file": ("shorui.pdf", PDF, "application/pdf")},
        action="save",
    )
    assert r.status_code == 200 and "添付済み: shorui.pdf" in r.text, r.text
    with statements(eapi) as seen:
        r = await res.http.get(res.app_url + "/form")
    assert "添付済み: shorui.pdf" in r.text  # the file of the group item is shown after a reload
    assert len(reads(seen, "eform_attachments")) == 1, seen


async def test_prebuilt_form_post_is_accepted_by_the_portal(eapi):
    res = Resident(eapi)
    await res.start("koseki")
    body, ctype = load.multipart(
        {"csrf": res.csrf, "action": "confirm", **load.FORM},
        {"id_document": ("id.pdf", load.PDF, "application/pdf")},
    )
    r = await res.http.post(res.app_url + "/form", content=body, headers={"content-type": ctype})
    assert r.status_code == 303 and r.headers["location"].endswith("/confirm"), r.text[:500]
    r = await res.http.get(res.app_url + "/confirm")
    assert "下妻 太郎" in r.text and "id.pdf" in r.text
    r = await res.http.post(
        res.app_url + "/submit",
        content=f"csrf={res.csrf}".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?done=1")
