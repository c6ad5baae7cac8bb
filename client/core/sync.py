"""The sync worker: sends the outbox to the server from its own thread (never the UI thread).

Rules (DESIGN §3 "Nothing lost"):

- due rows are sent oldest first; a row is marked delivered only after a 2xx answer, and the
  server is idempotent on ``client_key``, so a resend after a crash or a lost answer gives back the
  reception already stored: every submission reaches the server exactly once;
- network errors, 408, 429 and 5xx are retried with exponential backoff, full jitter and a cap;
- other 4xx are permanent: the row becomes ``failed`` with the server's Japanese message;
- 401 stops all sending until :meth:`SyncWorker.resume` is called after a new login;
- a submission's documents (printed forms, scans) go after it, each to
  ``POST /receptions/{id}/attachments`` with its own ``client_key`` (the server answers a resend
  with the stored document), with the same retry rules; a refused document becomes ``failed`` with
  the server's message and keeps its bytes, and the other documents still go.

The UI observes the worker through listeners (plain callables, called on the worker thread); the
Qt side turns them into signals (``client.ui.bridge``).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.errors import AuthenticationRequired, ServiceUnavailable

from .api import ApiClient, error_from_response
from .outbox import LocalFileDamaged, Outbox, OutboxFile, OutboxItem, OutboxStats

log = logging.getLogger(__name__)

#: Outbox kind → (HTTP method, path under /api/v1).
ROUTES: dict[str, tuple[str, str]] = {
    "reception.create": ("POST", "/receptions"),
}

RETRYABLE_4XX = {408, 429}


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: ``uniform(0, min(cap, base·2^(n−1)))``, at least ``floor``."""

    base: float = 2.0
    cap: float = 300.0
    floor: float = 0.5

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        ceiling = min(self.cap, self.base * (2 ** max(0, attempts - 1)))
        r = (rng or random).uniform(0, ceiling)
        return max(self.floor, min(self.cap, r))


@dataclass(frozen=True)
class SyncEvent:
    """What happened to one row (or to the worker)."""

    kind: str  # delivered | failed | retry | auth_required | stats
    item: OutboxItem | None
    stats: OutboxStats
    message: str | None = None
    #: Set when the event is about one document of ``item`` rather than the submission itself.
    file: OutboxFile | None = None


Listener = Callable[[SyncEvent], None]


@dataclass(frozen=True)
class RunSummary:
    delivered: int = 0
    failed: int = 0
    retried: int = 0
    auth_required: bool = False


class SyncWorker:
    """Sends due outbox rows to the server; run it with :meth:`start` or drive it with :meth:`run_once`."""

    def __init__(
        self,
        outbox: Outbox,
        server_url: str,
        token_provider: Callable[[], str | None],
        *,
        timeout: float = 10.0,
        backoff: Backoff | None = None,
        poll_interval: float = 5.0,
    ) -> None:
        self.outbox = outbox
        self.server_url = server_url
        self._token_provider = token_provider
        self._timeout = timeout
        self.backoff = backoff or Backoff()
        self.poll_interval = poll_interval
        self._listeners: list[Listener] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._auth_blocked = False
        self._thread: threading.Thread | None = None
        self._run_lock = threading.Lock()

    # -- observation -------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(
        self,
        kind: str,
        item: OutboxItem | None,
        message: str | None = None,
        file: OutboxFile | None = None,
    ) -> None:
        event = SyncEvent(kind=kind, item=item, stats=self.outbox.stats(), message=message, file=file)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("sync listener failed")

    @property
    def auth_blocked(self) -> bool:
        """True after a 401 until :meth:`resume`."""
        return self._auth_blocked

    # -- control -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background thread (daemon; the outbox is durable, so nothing is lost on exit)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="madoguchi-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Send now (called after enqueue and when the network comes back)."""
        self._wake.set()

    def resume(self) -> None:
        """Allow sending again after a new login."""
        self._auth_blocked = False
        self.wake()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("sync round failed")
            self._wake.wait(self._sleep_time())
            self._wake.clear()

    def _sleep_time(self) -> float:
        if self._auth_blocked:
            return self.poll_interval
        nxt = self.outbox.next_due_at()
        if nxt is None:
            return self.poll_interval
        return max(0.05, min(self.poll_interval, nxt - time.time()))

    # -- one round ---------------------------------------------------------------------------

    def run_once(self, now: float | None = None) -> RunSummary:
        """Send every row due now, oldest first; stops at the first 401 or network failure."""
        with self._run_lock:
            if self._auth_blocked:
                return RunSummary(auth_required=True)
            counts = {"delivered": 0, "failed": 0, "retry": 0, "offline": 0}
            due = self.outbox.due(now)
            if not due and not self.outbox.due_files(now, limit=1):
                return RunSummary()
            with ApiClient(self.server_url, timeout=self._timeout) as api:
                for item in due:
                    if self._stop.is_set():
                        break
                    outcome = self._send(api, item)
                    if outcome == "auth_required":
                        return self._summary(counts, auth_required=True)
                    counts[outcome] += 1
                    if outcome == "offline":
                        # The server is unreachable: the other rows would fail the same way.
                        return self._summary(counts)
                # Documents after the submissions: those just delivered have their reception now.
                for f in self.outbox.due_files(now):
                    if self._stop.is_set():
                        break
                    outcome = self._send_file(api, f)
                    if outcome == "auth_required":
                        return self._summary(counts, auth_required=True)
                    counts[outcome] += 1
                    if outcome == "offline":
                        break
            return self._summary(counts)

    @staticmethod
    def _summary(counts: dict[str, int], *, auth_required: bool = False) -> RunSummary:
        return RunSummary(
            counts["delivered"], counts["failed"], counts["retry"] + counts["offline"], auth_required
        )

    def _send(self, api: ApiClient, item: OutboxItem) -> str:
        route = ROUTES.get(item.kind)
        if route is None:
            self.outbox.mark_failed(item.id, f"未対応の送信種別です（{item.kind}）。", "outbox.unknown_kind")
            self._emit("failed", self.outbox.get(item.id))
            return "failed"
        token = self._token_provider()
        if not token:
            self._block(AuthenticationRequired.default_message)
            return "auth_required"
        method, path = route
        try:
            response = api.request(method, path, json=item.payload, token=token)
        except ServiceUnavailable as exc:
            self._retry(item, exc.message)
            return "offline"
        status = response.status_code
        if 200 <= status < 300:
            body: dict[str, Any] | None
            try:
                body = response.json() if response.content else None
            except ValueError:
                body = None
            self.outbox.mark_delivered(item.id, body)
            self._emit("delivered", self.outbox.get(item.id))
            return "delivered"
        error = error_from_response(response)
        if status == 401:
            self._block(error.message)
            return "auth_required"
        if status in RETRYABLE_4XX or status >= 500:
            self._retry(item, error.message)
            return "retry"
        self.outbox.mark_failed(item.id, error.message, error.error_code)
        self._emit("failed", self.outbox.get(item.id), error.message)
        return "failed"

    def _send_file(self, api: ApiClient, f: OutboxFile) -> str:
        parent = self.outbox.get_by_key(f.parent_key)
        reception_id = parent.response.get("id") if parent and parent.response else None
        if parent is None or not reception_id:
            self.outbox.mark_file_failed(f.id, "この文書の受付が見つかりません。", "outbox.reception_missing")
            self._emit("failed", parent, file=self.outbox.get_file(f.id))
            return "failed"
        try:
            data = self.outbox.read_file(f)
        except LocalFileDamaged:
            message = "端末に保存した文書が見つからないか壊れています。もう一度読み取ってください。"
            self.outbox.mark_file_failed(f.id, message, "outbox.file_damaged")
            self._emit("failed", parent, message, self.outbox.get_file(f.id))
            return "failed"
        token = self._token_provider()
        if not token:
            self._block(AuthenticationRequired.default_message)
            return "auth_required"
        try:
            response = api.upload_attachment_response(
                reception_id, data, f.document_class, f.filename, f.client_key, token=token
            )
        except ServiceUnavailable as exc:
            self._retry_file(parent, f, exc.message)
            return "offline"
        status = response.status_code
        if 200 <= status < 300:
            try:
                body = response.json()
            except ValueError:
                body = None
            self.outbox.mark_file_delivered(f.id, body if isinstance(body, dict) else None)
            self._emit("delivered", parent, file=self.outbox.get_file(f.id))
            return "delivered"
        error = error_from_response(response)
        if status == 401:
            self._block(error.message)
            return "auth_required"
        if status in RETRYABLE_4XX or status >= 500:
            self._retry_file(parent, f, error.message)
            return "retry"
        self.outbox.mark_file_failed(f.id, error.message, error.error_code)
        self._emit("failed", parent, error.message, self.outbox.get_file(f.id))
        return "failed"

    def _retry_file(self, parent: OutboxItem, f: OutboxFile, message: str) -> None:
        delay = self.backoff.delay(f.attempts + 1)
        self.outbox.mark_file_retry(f.id, message, time.time() + delay)
        self._emit("retry", parent, message, self.outbox.get_file(f.id))

    def _retry(self, item: OutboxItem, message: str) -> None:
        delay = self.backoff.delay(item.attempts + 1)
        self.outbox.mark_retry(item.id, message, time.time() + delay)
        self._emit("retry", self.outbox.get(item.id), message)

    def _block(self, message: str) -> None:
        self._auth_blocked = True
        self._emit("auth_required", None, message)
