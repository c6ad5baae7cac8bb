"""The sync worker against a real server process: exactly-once delivery through crashes and outages."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from client.app.context import build_context
from client.app.settings import ClientSettings
from client.core.api import ApiClient
from client.core.auth import TokenStore, login
from client.core.outbox import Outbox, State
from client.core.reception import build_notice, submit_reception
from client.core.sync import Backoff, SyncEvent, SyncWorker
from shared.api import ReceptionCreate, StationMode
from tests.client.forms import move_in_form
from tests.conftest import LiveServer, start_live_server

FAST = Backoff(base=0.2, cap=1.0, floor=0.05)

CHILD = """
import os, signal, sys
from client.core.outbox import Outbox
from client.core.reception import build_notice, submit_reception
from tests.client.forms import move_in_form
box = Outbox(sys.argv[1])
item = submit_reception(box, build_notice(move_in_form(given_name="花子")), terminal_id="child")
print(item.client_key, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # die before anything is sent
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One live server for the tests in this module that never stop it."""
    srv = start_live_server(tmp_path_factory.mktemp("sync") / "server")
    try:
        yield srv
    finally:
        srv.stop()


def token_for(srv: LiveServer) -> str:
    with ApiClient(srv.url) as api:
        user, password = srv.clerk
        return login(
            api, TokenStore(use_keyring=False), lg_code=srv.lg_code, username=user, password=password
        ).token


def worker_for(box: Outbox, srv: LiveServer, token: str | None = None, timeout: float = 5) -> SyncWorker:
    tok = token or token_for(srv)
    return SyncWorker(box, srv.url, lambda: tok, timeout=timeout, backoff=FAST, poll_interval=0.2)


def reception_via_get(srv: LiveServer, token: str, reception_id: str) -> dict[str, Any]:
    with ApiClient(srv.url, token=token) as api:
        return api.get_reception(reception_id).model_dump(mode="json")


def test_delivers_and_stores_reception_number(server: LiveServer, outbox: Outbox) -> None:
    """A queued reception is delivered, the server's answer with its 受付番号 is kept in the row."""
    token = token_for(server)
    item = submit_reception(outbox, build_notice(move_in_form()), terminal_id="t-live")
    events: list[SyncEvent] = []
    worker = worker_for(outbox, server, token)
    worker.subscribe(events.append)
    summary = worker.run_once()
    assert summary.delivered == 1
    done = outbox.get(item.id)
    assert done is not None and done.state == State.delivered and done.reception_number
    assert done.response is not None
    fetched = reception_via_get(server, token, done.response["id"])
    assert fetched["client_key"] == item.client_key and fetched["reception_number"] == done.reception_number
    assert [e.kind for e in events] == ["delivered"] and events[0].stats.pending == 0
    assert worker.run_once().delivered == 0  # nothing sent twice


def test_killed_child_enqueue_is_delivered_once(server: LiveServer, tmp_path: Path) -> None:
    """A child process enqueues and is SIGKILLed before sending; a new worker delivers it exactly once."""
    path = tmp_path / "outbox.sqlite3"
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, timeout=60, cwd=Path.cwd()
    )
    assert proc.returncode == -9, proc.stderr
    client_key = proc.stdout.strip()
    box = Outbox(path)
    try:
        pending = box.get_by_key(client_key)
        assert pending is not None and pending.state == State.pending and pending.attempts == 0
        token = token_for(server)
        assert worker_for(box, server, token).run_once().delivered == 1
        done = box.get_by_key(client_key)
        assert done is not None and done.response is not None
        first_id = done.response["id"]
        # Resending the same body gives back the same reception: the server stored it once.
        with ApiClient(server.url, token=token) as api:
            again = api.create_reception(ReceptionCreate.model_validate(done.payload))
        assert str(again.id) == first_id and again.reception_number == done.reception_number
        assert reception_via_get(server, token, first_id)["notice"]["persons"][0]["given_name"] == "花子"
    finally:
        box.close()


def test_lost_response_resend_gives_same_reception(server: LiveServer, outbox: Outbox) -> None:
    """The server stored the reception but the client never marked it: the resend returns the same id."""
    token = token_for(server)
    item = submit_reception(outbox, build_notice(move_in_form()), terminal_id="t-lost")
    with ApiClient(server.url, token=token) as api:  # the request whose answer was "lost"
        stored = api.create_reception(ReceptionCreate.model_validate(item.payload))
    assert outbox.get(item.id).state == State.pending  # type: ignore[union-attr]
    assert worker_for(outbox, server, token).run_once().delivered == 1
    done = outbox.get(item.id)
    assert done is not None and done.response is not None
    assert done.response["id"] == str(stored.id) and done.reception_number == stored.reception_number


def test_401_stops_sending_until_resume(server: LiveServer, outbox: Outbox) -> None:
    """With a rejected token the worker stops (row untouched) and sends after resume with a new token."""
    tokens = {"current": "082104.not-a-valid-token"}
    worker = SyncWorker(outbox, server.url, lambda: tokens["current"], backoff=FAST)
    events: list[SyncEvent] = []
    worker.subscribe(events.append)
    item = submit_reception(outbox, build_notice(move_in_form()), terminal_id="t-401")
    assert worker.run_once().auth_required
    assert worker.auth_blocked and events[-1].kind == "auth_required"
    assert worker.run_once().auth_required  # still blocked, nothing sent
    row = outbox.get(item.id)
    assert row is not None and row.state == State.pending and row.attempts == 0
    tokens["current"] = token_for(server)
    worker.resume()
    assert worker.run_once().delivered == 1


def test_permanent_refusal_marks_failed_with_japanese_message(server: LiveServer, outbox: Outbox) -> None:
    """A body the server refuses (4xx) becomes failed with the server's Japanese message, never resent."""
    body = ReceptionCreate.model_validate(
        submit_reception(outbox, build_notice(move_in_form()), terminal_id="t").payload
    ).model_dump(mode="json")
    body["notice"]["persons"][0]["my_number"] = "123456789012"  # wrong check digit, bypassing the client
    bad = outbox.enqueue("reception.create", body, body["client_key"][:-4] + "ffff")
    worker = worker_for(outbox, server)
    summary = worker.run_once()
    assert summary.failed == 1 and summary.delivered == 1
    row = outbox.get(bad.id)
    assert row is not None and row.state == State.failed and row.last_error
    assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in row.last_error)
    assert "123456789012" not in row.last_error
    assert worker.run_once().failed == 0


@pytest.mark.slow
def test_server_down_retries_then_delivers_once(live_server: LiveServer, outbox: Outbox) -> None:
    """With the server stopped the threaded worker retries with backoff; after restart it delivers once."""
    token = token_for(live_server)
    live_server.stop()
    worker = worker_for(outbox, live_server, token)
    events: list[SyncEvent] = []
    worker.subscribe(events.append)
    item = submit_reception(outbox, build_notice(move_in_form()), terminal_id="t-down")
    worker.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (outbox.get(item.id).attempts < 2):  # type: ignore[union-attr]
            time.sleep(0.05)
        row = outbox.get(item.id)
        assert row is not None and row.state == State.pending and row.attempts >= 2
        assert row.last_error and "サーバー" in row.last_error
        live_server.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and outbox.get(item.id).state != State.delivered:  # type: ignore[union-attr]
            time.sleep(0.05)
    finally:
        worker.stop()
    done = outbox.get(item.id)
    assert done is not None and done.state == State.delivered and done.response is not None
    assert [e.kind for e in events].count("delivered") == 1
    with ApiClient(live_server.url, token=token) as api:
        again = api.create_reception(ReceptionCreate.model_validate(done.payload))
    assert str(again.id) == done.response["id"]


def test_context_restores_session_from_keyring(server: LiveServer, client_settings: ClientSettings) -> None:
    """After login the token kept in the keyring lets a restarted client resume; logout forgets it."""
    settings = client_settings.model_copy(update={"server_url": server.url})
    first = build_context(settings)
    try:
        user, password = server.clerk
        first.login(server.lg_code, user, password)
        assert first.tokens.persistent
    finally:
        first.close()
    second = build_context(settings)
    try:
        restored = second.restore_session()
        assert restored is not None and restored.user.username == "demo"
        assert second.allowed_modes() == [StationMode.counter]
        second.logout()
    finally:
        second.close()
    third = build_context(settings)
    try:
        assert third.restore_session() is None
    finally:
        third.close()


def test_context_background_worker_delivers(server: LiveServer, client_settings: ClientSettings) -> None:
    """The wired context's background sync thread delivers what the reception workflow enqueued."""
    settings = client_settings.model_copy(update={"server_url": server.url, "sync_poll_interval_s": 0.2})
    ctx = build_context(settings)
    try:
        user, password = server.clerk
        ctx.login(server.lg_code, user, password)
        ctx.worker.start()
        item = submit_reception(ctx.outbox, build_notice(move_in_form()), terminal_id=settings.terminal_id)
        ctx.worker.wake()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and ctx.outbox.get(item.id).state != State.delivered:  # type: ignore[union-attr]
            time.sleep(0.05)
        assert ctx.outbox.get(item.id).reception_number  # type: ignore[union-attr]
    finally:
        ctx.close()
