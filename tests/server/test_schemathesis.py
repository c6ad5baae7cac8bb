"""Property-based API test: schemathesis fuzzes the served OpenAPI; no answer may be a 5xx.

Runs against a real server process (SQLite) with a logged-in supervisor's token. Bounded to a
few examples per operation so the whole file stays well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.conftest import LiveServer, start_live_server


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_live_server(Path(tmp_path_factory.mktemp("schemathesis")))
    try:
        yield server
    finally:
        server.stop()


def _token(live: LiveServer) -> str:
    r = httpx.post(
        f"{live.url}/api/v1/auth/login",
        json={"lg_code": live.lg_code, "username": live.supervisor[0], "password": live.supervisor[1]},
    )
    r.raise_for_status()
    return str(r.json()["token"])


def test_no_server_errors(live: LiveServer) -> None:
    """Whatever schemathesis sends to each operation, no answer is 5xx and 4xx bodies are ErrorBody JSON."""
    schema = schemathesis.openapi.from_url(f"{live.url}/schema/openapi.json")
    token = _token(live)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: Any) -> None:
            # Logging out would revoke the shared token: logout gets a token of its own.
            use = _token(live) if case.path.endswith("/logout") else token
            response = case.call(base_url=live.url, headers={"Authorization": f"Bearer {use}"})
            assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code}"
            if response.status_code >= 400:
                body = response.json()
                assert isinstance(body.get("code"), str) and isinstance(body.get("message"), str)

        check()
