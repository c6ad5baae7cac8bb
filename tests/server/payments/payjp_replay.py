"""A real local HTTP server answering like PAY.JP from the files in ``payjp_responses/``.

Each test scripts what a path answers, in order (``server.script("POST", "/v1/charges",
["error_server", "charge_authorised"])``); the last answer repeats. ``"drop"`` reads the request
and closes the connection without an answer (a network failure the SDK sees as
``APIConnectionError``); ``"process_then_drop"`` stores the next answer under the request's
``Idempotency-Key`` and then drops the connection (PAY.JP did the work, the answer was lost).
Like PAY.JP, a POST whose ``Idempotency-Key`` was already answered (other than with a 5xx) gets
the same answer again without running the script. Every request is recorded (method, path,
headers, form fields).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

RESPONSES = Path(__file__).with_name("payjp_responses")


def response(name: str) -> tuple[int, bytes]:
    data = json.loads((RESPONSES / f"{name}.json").read_text(encoding="utf-8"))
    return int(data["status"]), json.dumps(data["body"], ensure_ascii=False).encode()


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, list[str]]


@dataclass
class Replay:
    scripts: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    idempotent: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, method: str, path: str, answers: list[str]) -> None:
        self.scripts[(method.upper(), path)] = list(answers)

    def next_answer(self, method: str, path: str) -> str:
        answers = self.scripts.get((method, path))
        if not answers:
            return "404"
        return answers.pop(0) if len(answers) > 1 else answers[0]

    def calls(self, method: str, path: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and r.path == path]


class PayjpReplayServer:
    """Start with :meth:`start`, point ``payjp_api_base`` at :attr:`url`, stop with :meth:`stop`."""

    def __init__(self) -> None:
        self.replay = Replay()
        replay = self.replay

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else parts.query
                seen = Seen(
                    method, parts.path, {k.lower(): v for k, v in self.headers.items()}, parse_qs(raw)
                )
                key = seen.headers.get("idempotency-key")
                with replay.lock:
                    replay.requests.append(seen)
                    stored = (
                        replay.idempotent.get(f"{parts.path}|{key}") if key and method == "POST" else None
                    )
                    answer = None if stored else replay.next_answer(method, parts.path)
                if stored is None and answer in ("drop", "process_then_drop"):
                    if answer == "process_then_drop" and key:
                        with replay.lock:
                            status, body = response(replay.next_answer(method, parts.path))
                            replay.idempotent[f"{parts.path}|{key}"] = (status, body)
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if stored is not None:
                    status, body = stored
                elif answer == "404":
                    status, body = (
                        404,
                        json.dumps(
                            {
                                "error": {
                                    "code": "invalid_id",
                                    "message": "No such resource",
                                    "status": 404,
                                    "type": "client_error",
                                }
                            }
                        ).encode(),
                    )
                else:
                    status, body = response(str(answer))
                    if key and method == "POST" and status < 500:  # a 5xx may be retried
                        with replay.lock:
                            replay.idempotent[f"{parts.path}|{key}"] = (status, body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> PayjpReplayServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
