"""Benchmark: from submit to PDFs ready, per form (median, p95) and PDF sizes.

    .venv/bin/python -m bench.counter.print_forms [--runs 30]

Measured in one process, warm (the font loaded once, as in the running client), for the sample
household of the print tests (4 persons, 葛+IVS, 𠮷, 髙; every department form applies).
Baseline in the same process: a naive renderer that loads IPAmj明朝 into reportlab for each
submission (no shared font) — what each job costs without the process-wide font. The cold start
(first font load with the IVS table) is printed separately. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time

from client.core.print.fonts import MjFont, find_font, mj_font
from client.core.print.render import render_layout
from client.core.print.service import forms_for, render_forms
from tests.client.print.samples import household


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    notice = household(4)

    t0 = time.perf_counter()
    font = mj_font()
    cold = time.perf_counter() - t0
    print(f"font: {find_font()}  cold load with IVS table: {cold:.3f} s  ({len(font.variants)} IVS)")

    layouts = forms_for(notice)
    print(f"\n{'form':28} {'paper':>6} {'pages':>5} {'median s':>9} {'p95 s':>7} {'KiB':>7}")
    for layout in layouts:
        times = []
        pdf = b""
        for _ in range(args.runs):
            t = time.perf_counter()
            pdf = render_layout(layout, notice, font=font)
            times.append(time.perf_counter() - t)
        pages = pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page ")
        print(
            f"{layout.id:28} {layout.paper:>6} {pages:>5} {statistics.median(times):9.3f} "
            f"{_p95(times):7.3f} {len(pdf) / 1024:7.1f}"
        )

    whole = []
    for _ in range(args.runs):
        t = time.perf_counter()
        render_forms(notice)
        whole.append(time.perf_counter() - t)
    print(
        f"\nsubmit → all {len(layouts)} PDFs ready (warm): median {statistics.median(whole):.3f} s, "
        f"p95 {_p95(whole):.3f} s"
    )

    naive = []
    for _ in range(max(3, args.runs // 10)):
        t = time.perf_counter()
        fresh = MjFont()
        for layout in layouts:
            render_layout(layout, notice, font=fresh)
        naive.append(time.perf_counter() - t)
    print(
        f"baseline, font loaded per submission: median {statistics.median(naive):.3f} s, "
        f"p95 {_p95(naive):.3f} s"
    )
    try:
        import weasyprint  # noqa: F401
    except ImportError:
        print("baseline WeasyPrint: not installed here (the issue measured ~3 s per page with IPAmj明朝)")


if __name__ == "__main__":
    main()
