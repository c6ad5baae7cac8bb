"""The portal bench's load generator reads both answer framings, and the CPU readings from /proc
see a child process (that its pre-built bodies are what the portal accepts is tested with the
portal, in tests/server/eforms/test_portal_queries.py)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from bench.portal import cpu
from bench.portal.load import exchange


async def test_exchange_reads_content_length_and_chunked_answers():
    answers = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n<form>x</f>",
        b"HTTP/1.1 303 See Other\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3;x=y\r\nefg\r\n0\r\n\r\n",
    ]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for answer in answers:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        assert await exchange(reader, writer, request) == (200, b"<form>x</f>")
        assert await exchange(reader, writer, request) == (303, b"abcdefg")
        writer.close()
    finally:
        server.close()
        await server.wait_closed()


def test_cpu_of_a_child_process_is_seen():
    spin = (
        "import time\ninput()\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n"
        "print('done', flush=True)\ninput()"
    )  # spins only once told to: the first reading is taken before it starts, however slow this process is
    child = subprocess.Popen([sys.executable, "-c", spin], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        machine, before = cpu.Machine.read(), cpu.tree(os.getpid())
        assert child.pid in before and before[child.pid] < 0.3
        assert child.stdin is not None
        child.stdin.write(b"\n")
        child.stdin.flush()
        assert child.stdout is not None and child.stdout.readline() == b"done\n"
        after = cpu.tree(os.getpid())
        used = cpu.used({child.pid: before[child.pid]}, {child.pid: after[child.pid]})
        assert 0.3 - before[child.pid] - 0.02 <= used < 5  # clock ticks are 10 ms
        busy, available = cpu.Machine.read().since(machine)
        assert used - 0.02 <= busy <= available
    finally:
        child.communicate(b"\n", timeout=30)
