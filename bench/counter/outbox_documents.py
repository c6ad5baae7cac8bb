"""Benchmark: queueing a reception with its documents durably (the clerk waits for this).

    .venv/bin/python -m bench.counter.outbox_documents [--runs 40] [--scan-kb 800]

One submission = the notice + the printed forms of the sample household (PDFs rendered once,
outside the timing) + one scan of ``--scan-kb`` KB. Measured: :meth:`Outbox.enqueue` (bytes
fsynced and renamed, folder fsynced, one SQLite transaction with ``synchronous=FULL``).
Baseline: the naive way — write the same bytes with a plain ``write_bytes`` (no fsync, no rename)
and insert the rows without a transaction of its own — i.e. what durability costs. Prints median,
p95, submissions per second and the ratio; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from client.core.documents import printed_documents
from client.core.outbox import Outbox, OutgoingDocument
from client.core.print.service import render_forms
from shared.api import ReceptionCreate
from tests.client.print.samples import household


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _report(name: str, times: list[float]) -> float:
    med = statistics.median(times)
    print(f"{name:<34} median {med * 1000:7.1f} ms   p95 {_p95(times) * 1000:7.1f} ms   {1 / med:6.1f} /s")
    return med


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--scan-kb", type=int, default=800)
    args = parser.parse_args()
    notice = household(4)
    forms = printed_documents(render_forms(notice))
    scan = OutgoingDocument("power_of_attorney", "委任状.tif", os.urandom(args.scan_kb * 1000))
    docs = [*forms, scan]
    size = sum(len(d.data) for d in docs)
    print(f"{len(forms)} forms + 1 scan = {len(docs)} documents, {size / 1e6:.2f} MB per submission")

    with tempfile.TemporaryDirectory() as tmp:
        box = Outbox(Path(tmp) / "outbox.sqlite3")
        durable = []
        for _ in range(args.runs):
            body = ReceptionCreate(client_key=uuid.uuid4(), notice=notice, terminal_id="bench")
            payload = body.model_dump(mode="json")
            t0 = time.perf_counter()
            box.enqueue("reception.create", payload, body.client_key, docs)
            durable.append(time.perf_counter() - t0)
        box.close()

        naive_dir = Path(tmp) / "naive"
        naive_dir.mkdir()
        conn = sqlite3.connect(str(Path(tmp) / "naive.sqlite3"))
        conn.execute("CREATE TABLE o (k TEXT, payload TEXT)")
        conn.execute("CREATE TABLE f (k TEXT, parent TEXT, name TEXT)")
        naive = []
        for _ in range(args.runs):
            body = ReceptionCreate(client_key=uuid.uuid4(), notice=notice, terminal_id="bench")
            payload = body.model_dump_json()
            t0 = time.perf_counter()
            conn.execute("INSERT INTO o VALUES (?, ?)", (str(body.client_key), payload))
            for d in docs:
                key = str(uuid.uuid4())
                (naive_dir / key).write_bytes(d.data)
                conn.execute("INSERT INTO f VALUES (?, ?, ?)", (key, str(body.client_key), d.filename))
            conn.commit()
            naive.append(time.perf_counter() - t0)
        conn.close()

    a = _report("durable enqueue (fsync, rename)", durable)
    b = _report("naive (no fsync)", naive)
    print(f"durability costs ×{a / b:.1f} the naive write")


if __name__ == "__main__":
    main()
