"""The portal bench's load generator: a light HTTP/1.1 client in its own process(es).

The timed requests are pre-built bytes written to a plain asyncio socket (one connection per
resident and operation, as a browser opening the page), and the answer is read just far enough to
know its status and, for the form page, that it carries a ``<form``. No HTTP library, no cookie
jar, no multipart encoder on the timed path: the client's CPU per request is a small fraction of
the server's, and it is measured (``time.process_time``) and reported next to the figures.

A client process (:func:`worker`) gets its residents once (application path, cookie, CSRF token),
builds every request body up front, then waits for a command on its pipe:

- ``("page", None)``: all its residents open the form page at once;
- ``("submit", None)``: all post the form with the PDF and send it (one submission, timed together);
- ``("floor", (concurrency, total))``: the health route at that concurrency;
- ``("journey", (seconds, think, seed, applications))``: the concurrent-users model (see
  :func:`_journeys`); ``applications`` holds, per resident of this process, its verified
  applications (one per journey);
- ``("stop", None)``.

Each answer is ``(latencies in ms, ok flags, CPU seconds of this process for the command)``; for a
journey, ``(samples, journeys, CPU seconds)`` with one ``(kind, ms, ok)`` per request.
Imports nothing of the server.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"%" * 1000 + b"\n"
FORM = {
    "name": "下妻 太郎",
    "tel": "0296432111",
    "domicile": "茨城県下妻市本城町2-22",
    "head": "下妻 一郎",
    "kind": "koseki_full",
    "copies": "1",
}


@dataclass(frozen=True)
class Target:
    """One verified resident: ``path`` is ``/portal/{lg}/applications/{id}``, ``cookie`` the
    ``name=value`` of its application cookie."""

    path: str
    cookie: str
    csrf: str


def _request(method: str, path: str, host: str, cookie: str, body: bytes = b"", ctype: str = "") -> bytes:
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}", "User-Agent: madoguchi-bench", "Accept: text/html"]
    if cookie:
        head.append(f"Cookie: {cookie}")
    if method == "POST":
        head += [f"Content-Type: {ctype}", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body as a browser sends it; (body, content type)."""
    boundary = f"----madoguchibench{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, data, ctype) in files.items():
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"'
                f"\r\nContent-Type: {ctype}\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Requests:
    """The three timed requests of one resident, built once."""

    def __init__(self, host: str, t: Target) -> None:
        self.page = _request("GET", t.path + "/form", host, t.cookie)
        body, ctype = multipart(
            {"csrf": t.csrf, "action": "confirm", **FORM}, {"id_document": ("id.pdf", PDF, "application/pdf")}
        )
        self.form_post = _request("POST", t.path + "/form", host, t.cookie, body, ctype)
        self.submit = _request(
            "POST",
            t.path + "/submit",
            host,
            t.cookie,
            f"csrf={t.csrf}".encode(),
            "application/x-www-form-urlencoded",
        )


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """Write one request, read its answer: (status, body). Handles Content-Length and chunked."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = -1
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += await reader.readexactly(size + 2)
            del body[-2:]
        return status, bytes(body)
    if length >= 0:
        return status, await reader.readexactly(length)
    return status, await reader.read()


async def _one(host: str, port: int, requests: list[bytes], check: Any) -> tuple[float, bool]:
    """Milliseconds from connecting until the last answer, and whether every answer was as expected.
    A failure (error page, reset) counts with the time the resident waited for it."""
    t = time.perf_counter()
    ok = True
    writer = None
    try:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        for i, request in enumerate(requests):
            status, body = await exchange(reader, writer, request)
            if not check(i, status, body):
                ok = False
                break
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError):
        ok = False
    finally:
        if writer is not None:
            writer.close()
    return (time.perf_counter() - t) * 1000, ok


def _page_ok(_i: int, status: int, body: bytes) -> bool:
    return status == 200 and b"<form" in body


def _redirect_ok(_i: int, status: int, _body: bytes) -> bool:
    return status == 303


def _health_ok(_i: int, status: int, _body: bytes) -> bool:
    return status == 200


async def _floor(host: str, port: int, concurrency: int, total: int) -> list[tuple[float, bool]]:
    request = _request("GET", "/api/v1/health", f"{host}:{port}", "")
    sem = asyncio.Semaphore(concurrency)

    async def hit() -> tuple[float, bool]:
        async with sem:
            return await _one(host, port, [request], _health_ok)

    return await asyncio.gather(*(hit() for _ in range(total)))


#: The request kinds of a journey, in order, as the figures name them.
KINDS = ("form page", "form post", "送信")


async def _journeys(
    host: str, port: int, seconds: float, think: float, seed: int, residents: list[list[Target]]
) -> tuple[list[tuple[str, float, bool]], int]:
    """N residents, each on a loop: open the form, think, post it (with the PDF), think, 送信, think —
    a new application each round — for ``seconds``; the think times exponential with mean ``think``
    seconds (each resident first waits one, so that they do not all start together). A request is
    only begun within ``seconds``; a resident whose applications run out stops (counted by the
    caller from the journeys). Returns one ``(kind, ms, ok)`` per request and the journeys completed."""
    rng = random.Random(seed)
    end = time.perf_counter() + seconds
    samples: list[tuple[str, float, bool]] = []
    done = 0
    checks = (_page_ok, _redirect_ok, _redirect_ok)

    async def pause() -> bool:
        await asyncio.sleep(rng.expovariate(1 / think) if think > 0 else 0)
        return time.perf_counter() < end

    async def resident(apps: list[Target]) -> None:
        nonlocal done
        for target in apps:
            r = Requests(f"{host}:{port}", target)
            for kind, request, check in zip(KINDS, (r.page, r.form_post, r.submit), checks, strict=True):
                if not await pause():
                    return
                ms, ok = await _one(host, port, [request], check)
                samples.append((kind, ms, ok))
                if not ok:
                    break
            else:
                done += 1

    await asyncio.gather(*(resident(apps) for apps in residents))
    return samples, done


async def _run(
    command: str, arg: Any, host: str, port: int, reqs: list[Requests]
) -> list[tuple[float, bool]]:
    if command == "page":
        return await asyncio.gather(*(_one(host, port, [r.page], _page_ok) for r in reqs))
    if command == "submit":
        return await asyncio.gather(*(_one(host, port, [r.form_post, r.submit], _redirect_ok) for r in reqs))
    if command == "floor":
        return await _floor(host, port, *arg)
    raise ValueError(command)


def worker(conn: Connection, host: str, port: int) -> None:
    """A client process: its residents come first on the pipe, then commands (see the module)."""
    targets: list[Target] = conn.recv()
    reqs = [Requests(f"{host}:{port}", t) for t in targets]
    loop = asyncio.new_event_loop()
    try:
        conn.send("ready")
        while True:
            command, arg = conn.recv()
            if command == "stop":
                return
            cpu = time.process_time()
            if command == "journey":
                samples, done = loop.run_until_complete(_journeys(host, port, *arg))
                conn.send((samples, done, time.process_time() - cpu))
                continue
            runs = loop.run_until_complete(_run(command, arg, host, port, reqs))
            conn.send(([ms for ms, _ in runs], [ok for _, ok in runs], time.process_time() - cpu))
    finally:
        loop.close()
        conn.close()
