"""A client that hangs up in the middle of a large answer does not stop a real server process.

The server writes into a connection the other side reset: the write fails with EPIPE, which is an
error only while the process ignores SIGPIPE (Python's setting at start); at SIG_DFL the kernel
ends the process. libsane reset it to SIG_DFL in the terminal and the test process (see the SANE
plugin); the server loads no such library, and this test keeps it so.
"""

from __future__ import annotations

import signal
import socket
import struct
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import LiveServer, _wait_healthy, free_port, sigpipe_ignored

ANSWERS = 200  # pipelined requests for the OpenAPI document (about 50 kB each): far beyond the buffers


def hang_up(url: str) -> None:
    """Ask for many large answers at once with a tiny receive buffer, read the first bytes, then
    reset the connection (SO_LINGER 0) while the server is still writing."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((host, int(port)))
        sock.sendall(b"GET /schema/openapi.json HTTP/1.1\r\nHost: test\r\n\r\n" * ANSWERS)
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        time.sleep(0.3)  # the server fills its send buffer and waits for the window to open
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = reset


@pytest.mark.slow
def test_a_client_hanging_up_on_a_large_answer_does_not_stop_the_server(live_server: LiveServer) -> None:
    assert sigpipe_ignored(live_server.process.pid) is True
    for _ in range(3):
        hang_up(live_server.url)
    time.sleep(0.5)
    assert live_server.process.poll() is None, live_server.process.returncode
    assert httpx.get(live_server.url + "/api/v1/health", timeout=10).status_code == 200
    assert sigpipe_ignored(live_server.process.pid) is True

    # The control: the hang-up really makes a server write into the reset connection (else the
    # part above could pass without testing anything). The same server on the same database,
    # started with SIGPIPE at SIG_DFL, is ended by the kernel.
    port = free_port()
    start = (
        "import runpy, signal, sys; signal.signal(signal.SIGPIPE, signal.SIG_DFL); "
        "sys.argv = ['server', *sys.argv[1:]]; runpy.run_module('server', run_name='__main__')"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", start, "run", "--host", "127.0.0.1", "--port", str(port)],
        env=live_server.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, proc)
        assert sigpipe_ignored(proc.pid) is False
        for _ in range(5):
            hang_up(url)
            try:
                proc.wait(timeout=2)
                break
            except subprocess.TimeoutExpired:
                continue
        assert proc.returncode == -signal.SIGPIPE, proc.returncode
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stderr:
            proc.stderr.close()
