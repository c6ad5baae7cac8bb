"""Documents through the outbox against a real server: printed forms and scans land exactly once,
through kills, lost answers and outages; refused files stay, marked failed with the server's text."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from client.core.api import ApiClient
from client.core.documents import ReceptionDocuments, combine_pages, submit_with_documents
from client.core.outbox import Outbox, OutgoingDocument, State
from client.core.reception import build_notice, submit_reception
from client.core.sync import SyncEvent
from client.devices.scanners.fake import FakeScanner
from shared.api_records import DocumentClass
from shared.errors import InvalidInput
from tests.client.forms import move_in_form
from tests.client.test_sync_live import token_for, worker_for
from tests.conftest import LiveServer, start_live_server

ROOT = Path(__file__).resolve().parents[2]
MAX_BYTES = 400_000  # the test server's attachment_max_bytes (set below)


def png(size: tuple[int, int] = (240, 320), shade: int = 200) -> bytes:
    out = io.BytesIO()
    Image.new("L", size, shade).save(out, "PNG")
    return out.getvalue()


def noise_png(nbytes: int) -> bytes:
    """A valid PNG larger than ``nbytes`` (random pixels do not compress)."""
    side = int((nbytes * 1.1) ** 0.5) + 1
    out = io.BytesIO()
    Image.frombytes("L", (side, side), os.urandom(side * side)).save(out, "PNG")
    assert len(out.getvalue()) > nbytes
    return out.getvalue()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MADOGUCHI_ATTACHMENT_MAX_BYTES", str(MAX_BYTES))
        srv = start_live_server(tmp_path_factory.mktemp("docs") / "server")
    try:
        yield srv
    finally:
        srv.stop()


def attachments_on_server(srv: LiveServer, token: str, reception_id: str) -> list[dict[str, object]]:
    with ApiClient(srv.url, token=token) as api:
        return [a.model_dump(mode="json") for a in api.list_attachments(reception_id)]


def test_forms_and_scans_land_once_and_local_copies_go(server: LiveServer, tmp_path: Path) -> None:
    """Submit with the printed forms and two stored documents (one of three scanned pages): the
    reception and every document reach the server once, in PDF, and the local bytes are deleted."""
    pages = tmp_path / "feeder"
    pages.mkdir()
    for i in range(3):
        (pages / f"p{i}.png").write_bytes(png(shade=60 * i + 20))
    docs = ReceptionDocuments(tmp_path / "pending")
    scanned = docs.add_scan(FakeScanner(folder=pages), DocumentClass.power_of_attorney)
    assert scanned.pages == 3 and scanned.media_type == "image/tiff"
    docs.add_bytes(png(), DocumentClass.identity_document, "免許証.png")
    box = Outbox(tmp_path / "outbox.sqlite3")
    try:
        submitted = submit_with_documents(
            box, build_notice(move_in_form()), terminal_id="t-docs", documents=docs
        )
        assert submitted.warning is None
        item = submitted.item
        assert docs.all() == []  # handed over to the outbox
        queued = box.files_of(item.client_key)
        classes = [f.document_class for f in queued]
        assert classes[0] == "notice_form" and classes[-2:] == ["power_of_attorney", "identity_document"]
        assert all(box.file_path(f).is_file() for f in queued)
        token = token_for(server)
        events: list[SyncEvent] = []
        # Archiving converts each scan to PDF/A: on a loaded machine that can outlast a short
        # timeout, which would turn into a (harmless, idempotent) resend instead of one pass.
        worker = worker_for(box, server, token, timeout=120)
        worker.subscribe(events.append)
        summary = worker.run_once()
        assert summary.delivered == 1 + len(queued) and summary.failed == 0
        done = box.get(item.id)
        assert done is not None and done.response is not None
        stored = attachments_on_server(server, token, done.response["id"])
        assert sorted(str(a["document_class"]) for a in stored) == sorted(classes)
        by_class = {a["document_class"]: a for a in stored}
        assert by_class["power_of_attorney"]["page_count"] == 3
        for f in box.files_of(item.client_key):
            assert f.state == State.delivered and f.attachment_id in {a["id"] for a in stored}
            assert not box.file_path(f).exists()
        assert list(box.files_dir.iterdir()) == []
        assert [e.kind for e in events if e.file is not None] == ["delivered"] * len(queued)
        assert box.stats().files_pending == 0
        assert worker.run_once().delivered == 0
        with ApiClient(server.url, token=token) as api:
            pdf = api.attachment_pdf(str(by_class["notice_form"]["id"]))
        assert pdf.startswith(b"%PDF-")
    finally:
        box.close()


def test_refused_files_stay_failed_with_message_while_the_rest_lands(
    server: LiveServer, outbox: Outbox
) -> None:
    """An oversized and a truncated scan are refused (413 / 422, Japanese message kept, bytes kept,
    never resent); the good documents of the same reception land."""
    good = png()
    too_big = noise_png(MAX_BYTES + 1000)
    broken = png()[:60]
    item = submit_reception(
        outbox,
        build_notice(move_in_form()),
        terminal_id="t-bad",
        documents=[
            OutgoingDocument("scan", "大きすぎる.png", too_big),
            OutgoingDocument("scan", "壊れた.png", broken),
            OutgoingDocument("other", "良い.png", good),
        ],
    )
    token = token_for(server)
    worker = worker_for(outbox, server, token)
    events: list[SyncEvent] = []
    worker.subscribe(events.append)
    summary = worker.run_once()
    assert summary.delivered == 2 and summary.failed == 2
    big, bad, fine = outbox.files_of(item.client_key)
    assert big.state == State.failed and big.error_code == "attachment.too_large"
    assert big.last_error and "大きすぎます" in big.last_error
    assert bad.state == State.failed and bad.error_code == "attachment.broken"
    assert bad.last_error and "壊れて" in bad.last_error
    assert outbox.read_file(big) == too_big and outbox.read_file(bad) == broken  # kept for the clerk
    assert fine.state == State.delivered
    failed_events = [e for e in events if e.kind == "failed"]
    assert {e.file.filename for e in failed_events if e.file} == {"大きすぎる.png", "壊れた.png"}
    assert outbox.stats().files_failed == 2
    assert worker.run_once().failed == 0  # never resent on its own
    row = outbox.get(item.id)
    assert row is not None and row.response is not None
    [stored] = attachments_on_server(server, token, row.response["id"])
    assert stored["filename"] == "良い.png"
    # Reopening the outbox (a restart) keeps the refused bytes.
    outbox.close()
    again = Outbox(outbox.path)
    try:
        assert again.read_file(big) == too_big
    finally:
        again.close()


def test_lost_answer_resend_stores_one_document(server: LiveServer, outbox: Outbox) -> None:
    """The server archived a document but its answer was lost: the resend returns the same one."""
    item = submit_reception(
        outbox,
        build_notice(move_in_form()),
        terminal_id="t-dup",
        documents=[OutgoingDocument("scan", "a.png", png())],
    )
    token = token_for(server)
    worker = worker_for(outbox, server, token)
    # Deliver the reception only (documents wait for it), then send the document "behind its back".
    assert worker.run_once().delivered == 2
    f = outbox.files_of(item.client_key)[0]
    row = outbox.get(item.id)
    assert row is not None and row.response is not None
    with ApiClient(server.url, token=token) as api:
        duplicate = api.upload_attachment(row.response["id"], png(), client_key=f.client_key)
    assert str(duplicate.id) == f.attachment_id
    assert len(attachments_on_server(server, token, row.response["id"])) == 1
    outbox.retry_file_now(f.id)  # no effect on a delivered document
    assert outbox.get_file(f.id).state == State.delivered  # type: ignore[union-attr]


KILL_MID_UPLOAD = """
import os, signal, sys
from client.core.outbox import Outbox, OutgoingDocument
from client.core.reception import build_notice, submit_reception
from client.core.api import ApiClient
from client.core.sync import Backoff, SyncWorker
from tests.client.forms import move_in_form
from tests.client.test_outbox_documents import png
url, token, path = sys.argv[1:4]
box = Outbox(path)
docs = [OutgoingDocument("scan", f"page{i}.png", png(shade=10 * i)) for i in range(5)]
notice = build_notice(move_in_form(given_name="次郎"))
item = submit_reception(box, notice, terminal_id="kill", documents=docs)
print(item.client_key, flush=True)

def on_event(event):
    if event.file is not None and event.kind == "delivered" and event.file.filename == "page1.png":
        # The next upload reaches the server but this process dies before recording its answer.
        nxt = [f for f in box.files_of(item.client_key) if f.state == "pending"][0]
        with ApiClient(url, token=token) as api:
            api.upload_attachment(event.item.response["id"], box.read_file(nxt), filename=nxt.filename,
                                  client_key=nxt.client_key)
        os.kill(os.getpid(), signal.SIGKILL)

worker = SyncWorker(box, url, lambda: token, backoff=Backoff(base=0.1, cap=0.5, floor=0.05))
worker.subscribe(on_event)
worker.run_once()
print("NOT KILLED", flush=True)
"""


def test_kill_in_the_middle_of_uploading_then_restart(server: LiveServer, tmp_path: Path) -> None:
    """SIGKILL after two documents landed and a third reached the server unrecorded: a new
    process sends the rest; the server holds each of the five documents exactly once."""
    token = token_for(server)
    path = tmp_path / "outbox.sqlite3"
    proc = subprocess.run(
        [sys.executable, "-c", KILL_MID_UPLOAD, server.url, token, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    client_key = proc.stdout.split()[0]
    box = Outbox(path)
    try:
        states = [f.state for f in box.files_of(client_key)]
        assert states == ["delivered", "delivered", "pending", "pending", "pending"]
        assert worker_for(box, server, token).run_once().delivered == 3
        files = box.files_of(client_key)
        assert all(f.state == State.delivered for f in files)
        row = box.get_by_key(client_key)
        assert row is not None and row.response is not None
        stored = attachments_on_server(server, token, row.response["id"])
        assert sorted(str(a["filename"]) for a in stored) == [f"page{i}.png" for i in range(5)]
        assert {a["id"] for a in stored} == {f.attachment_id for f in files}
    finally:
        box.close()


ENQUEUE_FOREVER = """
import sys
from client.core.outbox import Outbox, OutgoingDocument
from client.core.reception import build_notice, submit_reception
from tests.client.forms import move_in_form
box = Outbox(sys.argv[1])
notice = build_notice(move_in_form())
n = 0
while True:
    docs = [OutgoingDocument("scan", f"{n}-{i}.png", bytes([n % 251, i]) * 40_000) for i in range(3)]
    submit_reception(box, notice, terminal_id="loop", documents=docs)
    n += 1
    print(n, flush=True)
"""


def test_kill_during_enqueue_leaves_whole_submissions_only(tmp_path: Path) -> None:
    """A process queueing submissions with documents is SIGKILLed at an arbitrary moment: every
    submission on disk has all three documents with intact bytes, and no stray file remains."""
    path = tmp_path / "outbox.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-c", ENQUEUE_FOREVER, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if int(line) >= 5:
                break
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    box = Outbox(path)
    try:
        items = box.items()
        assert len(items) >= 5
        names = set()
        for item in items:
            files = box.files_of(item.client_key)
            assert len(files) == 3
            for f in files:
                data = box.read_file(f)
                assert hashlib.sha256(data).hexdigest() == f.sha256
                names.add(box.file_path(f).name)
        assert {p.name for p in box.files_dir.iterdir()} == names
    finally:
        box.close()


@pytest.mark.slow
def test_server_down_documents_retry_then_land_once(live_server: LiveServer, outbox: Outbox) -> None:
    """The server goes away right after the reception landed: its documents are retried with
    backoff (message kept) and land once when the server is back."""
    token = token_for(live_server)
    item = submit_reception(
        outbox,
        build_notice(move_in_form()),
        terminal_id="t-down",
        documents=[OutgoingDocument("scan", f"{i}.png", png(shade=i * 30)) for i in range(2)],
    )
    worker = worker_for(outbox, live_server, token)

    def stop_after_reception(event: SyncEvent) -> None:
        if event.kind == "delivered" and event.file is None:
            live_server.stop()

    worker.subscribe(stop_after_reception)
    summary = worker.run_once()
    assert summary.delivered == 1 and summary.retried == 1  # the first document found no server
    first, second = outbox.files_of(item.client_key)
    assert first.state == State.pending and first.attempts == 1 and second.attempts == 0
    assert first.last_error and "サーバー" in first.last_error
    live_server.start()
    worker.start()
    try:
        deadline = time.monotonic() + 30  # a wait limit, not a timing assertion
        while time.monotonic() < deadline and outbox.stats().files_pending:
            time.sleep(0.05)
    finally:
        worker.stop()
    row = outbox.get(item.id)
    assert row is not None and row.response is not None
    assert all(f.state == State.delivered for f in outbox.files_of(item.client_key))
    assert len(attachments_on_server(live_server, token, row.response["id"])) == 2


def test_pending_documents_survive_restart_and_refuse_non_images(tmp_path: Path) -> None:
    """Documents added to the reception on screen are on disk (a new process sees them); a text
    file or an empty file is refused with a Japanese message and nothing is kept."""
    docs = ReceptionDocuments(tmp_path / "pending")
    kept = docs.add_bytes(png(), "power_of_attorney", "委任状.png")
    with pytest.raises(InvalidInput, match="保存できない形式"):
        docs.add_bytes(b"hello", "other", "memo.txt")
    with pytest.raises(InvalidInput, match="空のファイル"):
        docs.add_bytes(b"", "other", "empty.png")
    reopened = ReceptionDocuments(tmp_path / "pending")
    assert [d.filename for d in reopened.all()] == ["委任状.png"]
    assert reopened.data(kept.id) == png()
    assert reopened.set_class(kept.id, "identity_document").class_label == "本人確認書類"
    reopened.remove(kept.id)
    assert reopened.all() == [] and list((tmp_path / "pending").iterdir()) == []
    with pytest.raises(InvalidInput):
        combine_pages([])
