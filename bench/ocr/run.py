"""OCR benchmark: ``python -m bench.ocr.run --pages 300``. Prints figures; never asserts.

Generates pages with :mod:`bench.ocr.synth` (half clean, half degraded; every 10th a card), reads
each through :func:`client.core.ocr.pipeline.read_document` on one core, and the same page through
plain full-page Tesseract (``--psm 3``, no template) for comparison. Figures:

- identification rate (template id = doc type + issuer + version, over all loaded templates);
- field exact match after normalisation (NFKC, spaces removed): overall, clean / degraded, per
  field type, names apart; a field counts only if its text equals the truth;
- seconds per page (median, p95) and the process's peak memory;
- full-page Tesseract: share of truth values found verbatim in its text, and the time ratio.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import argparse
import io
import resource
import statistics
import time
from collections import defaultdict

import cv2
from PIL import Image

from bench.ocr.synth import generate
from client.core.ocr.engines.registry import registry
from client.core.ocr.engines.tesseract import find_tessdata
from client.core.ocr.fields import comparable
from client.core.ocr.pipeline import read_document, shared_engine
from client.core.ocr.templates import default_store
from shared.errors import MadoguchiError


def _jpeg(pixels: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=85)  # type: ignore[arg-type]
    return buffer.getvalue()


def _pct(hits: int, total: int) -> str:
    return f"{100 * hits / total:5.1f} % ({hits}/{total})" if total else "  n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-baseline", action="store_true", help="skip full-page Tesseract")
    parser.add_argument("--engine", default=None, help="OCR engine plugin id (default: tesseract)")
    parser.add_argument("--show-misses", type=int, default=0, help="print this many wrong fields")
    args = parser.parse_args()
    cv2.setNumThreads(1)

    started = time.perf_counter()
    store = default_store()
    print(f"templates loaded: {len(store)} in {time.perf_counter() - started:.1f} s")
    samples = generate(store, args.pages, args.seed)
    engine = shared_engine() if args.engine is None else registry.create(args.engine)
    print(f"engine: {engine.plugin_id}")

    identified = 0
    errors: dict[str, int] = defaultdict(int)
    seconds: list[float] = []
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    baseline_hits = [0, 0]
    baseline_seconds: list[float] = []
    misses: list[str] = []
    from tesserocr import PSM, PyTessBaseAPI

    tessdata = find_tessdata()

    full_page = None if args.no_baseline else PyTessBaseAPI(path=str(tessdata), lang="jpn", psm=PSM.AUTO)  # type: ignore[attr-defined]
    clean_pages = degraded_pages = 0
    for s in samples:
        degraded_pages += bool(s.truth["degraded"])
        clean_pages += not s.truth["degraded"]
        data = _jpeg(s.image)
        truth_fields: dict[str, str] = s.truth["fields"]  # type: ignore[assignment]
        types: dict[str, str] = s.truth["types"]  # type: ignore[assignment]
        state = "degraded" if s.truth["degraded"] else "clean"
        t0 = time.perf_counter()
        try:
            result = read_document(data, store=store, engine=engine)
        except MadoguchiError as exc:
            seconds.append(time.perf_counter() - t0)
            errors[exc.error_code] += 1
            for field in truth_fields:
                for key in ("all", state, f"type:{types[field]}"):
                    hits[key][1] += 1
            continue
        seconds.append(time.perf_counter() - t0)
        ok_template = result.template_id == s.truth["template_id"]
        identified += ok_template
        for field, value in truth_fields.items():
            read = result.field(field).text if ok_template else ""
            good = comparable(read) == comparable(value)
            for key in ("all", state, f"type:{types[field]}"):
                hits[key][0] += good
                hits[key][1] += 1
            if not good and len(misses) < args.show_misses:
                misses.append(f"{s.name} {state} {field}: {value} → {read}")
        if full_page is not None:
            t0 = time.perf_counter()
            full_page.SetImage(Image.open(io.BytesIO(data)))
            text = comparable(full_page.GetUTF8Text())
            baseline_seconds.append(time.perf_counter() - t0)
            for value in truth_fields.values():
                baseline_hits[0] += comparable(value) in text
                baseline_hits[1] += 1

    n = clean_pages + degraded_pages
    print(
        f"pages: {n} (clean {clean_pages}, degraded "
        f"{degraded_pages}), total {time.perf_counter() - started:.0f} s"
    )
    print(f"identification: {_pct(identified, n)}; errors: {dict(errors) or 'none'}")
    print(f"field exact match, all:      {_pct(*hits['all'])}")
    print(f"field exact match, clean:    {_pct(*hits['clean'])}")
    print(f"field exact match, degraded: {_pct(*hits['degraded'])}")
    for key in sorted(k for k in hits if k.startswith("type:")):
        print(f"  {key[5:]:<15} {_pct(*hits[key])}")
    seconds.sort()
    print(
        f"seconds per page: median {statistics.median(seconds):.2f}, p95 {seconds[int(0.95 * (n - 1))]:.2f}"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS of the process): {peak:.0f} MB")
    if baseline_seconds:
        rate = baseline_hits[0] / baseline_hits[1]
        ours = hits["all"][0] / hits["all"][1]
        print(
            f"full-page tesseract --psm 3: values found verbatim {_pct(*baseline_hits)}, "
            f"median {statistics.median(baseline_seconds):.2f} s/page"
        )
        print(
            f"ratios (template / full page): accuracy {ours / rate if rate else float('inf'):.2f}×, "
            f"time {statistics.median(seconds) / statistics.median(baseline_seconds):.2f}×"
        )
    for line in misses:
        print("  miss:", line)


if __name__ == "__main__":
    main()
