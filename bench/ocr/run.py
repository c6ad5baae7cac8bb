"""OCR benchmark: ``python -m bench.ocr.run --pages 300``. Prints figures; never asserts.

Generates pages with :mod:`bench.ocr.synth` (half clean, half degraded; every 10th a card), reads
each through :func:`client.core.ocr.pipeline.read_document` on one core, and the same page through
plain full-page Tesseract (``--psm 3``, no template) for comparison. Figures:

- identification rate (template id = doc type + issuer + version, over all loaded templates);
- field exact match after normalisation (NFKC, spaces removed): overall, clean / degraded, per
  field type, names apart; a field counts only if its text equals the truth;
- seconds per page (median, p95) and the process's peak memory;
- full-page Tesseract: share of truth values found verbatim in its text, and the time ratio;
- template load time without cache, cold (parse + write the cache) and warm (from the cache);
- the glyph check of 異体字 (``glyph_check.py``): fields it changed, helped (wrong → right) and
  harmed (right → wrong), exact match without it, and the misses that are only a 異体字;
  ``--glyph-fonts "IPAex明朝,Noto Serif CJK JP"`` runs it without IPAmj明朝, the test documents' font.

Engines: by default the routing table (``client/core/ocr/routing.yaml``); ``--engine ID`` reads
every field with one engine; ``--compare tesseract,ppocr`` reads the same pages with each engine
in turn and prints per field type exact match and seconds per page side by side, and the routing
table the figures suggest (per type the most accurate engine; ties go to the first one).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import argparse
import io
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import cv2
from PIL import Image

from bench.ocr.synth import generate
from client.core.ocr import glyph_check
from client.core.ocr.engines.registry import registry
from client.core.ocr.engines.tesseract import find_tessdata
from client.core.ocr.fields import comparable
from client.core.ocr.glyph_check import set_of
from client.core.ocr.pipeline import read_document, shared_engines
from client.core.ocr.routing import Engines
from client.core.ocr.templates import TemplateStore
from shared.errors import MadoguchiError


def _jpeg(pixels: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=85)  # type: ignore[arg-type]
    return buffer.getvalue()


def _pct(hits: int, total: int) -> str:
    return f"{100 * hits / total:5.1f} % ({hits}/{total})" if total else "  n/a"


def _load_times() -> TemplateStore:
    """Load the templates without cache, cold and warm; print the times; return the store."""
    t0 = time.perf_counter()
    TemplateStore.load(cache_dir=False)
    plain = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        TemplateStore.load(cache_dir=Path(folder))
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        store = TemplateStore.load(cache_dir=Path(folder))
        warm = time.perf_counter() - t0
    print(
        f"templates: {len(store)}; load without cache {plain:.2f} s, "
        f"cold (parse + write cache) {cold:.2f} s, warm (from cache) {warm:.2f} s"
    )
    return store


class Tally:
    """Hits and times of one engine setup over the pages."""

    def __init__(self, label: str, engines: Engines) -> None:
        self.label = label
        self.engines = engines
        self.identified = 0
        self.errors: dict[str, int] = defaultdict(int)
        self.seconds: list[float] = []
        self.cpu: list[float] = []
        self.hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.misses: list[str] = []
        #: Fields the glyph check changed: helped (wrong → right), harmed (right → wrong), other.
        self.glyph: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        #: Misses that are right but for a 異体字 of one set (高 for 髙), per key.
        self.variant_only: dict[str, int] = defaultdict(int)

    def rate(self, key: str) -> float:
        hit, total = self.hits[key]
        return hit / total if total else 0.0


def _folded(text: str) -> str:
    """``text`` compared up to 異体字: every member of a variant set (and IVS) as the set's first."""
    text = comparable(text)
    text = "".join(c for c in text if not 0xE0100 <= ord(c) <= 0xE01EF)
    return "".join((set_of(c) or (c,))[0] for c in text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-baseline", action="store_true", help="skip full-page Tesseract")
    parser.add_argument(
        "--baseline-every",
        type=int,
        default=1,
        help="full-page Tesseract on every N-th page only (slow on A4)",
    )
    parser.add_argument("--engine", default=None, help="read every field with this engine plugin id")
    parser.add_argument("--compare", default=None, help="comma-separated engine ids, e.g. tesseract,ppocr")
    parser.add_argument("--show-misses", type=int, default=0, help="print this many wrong fields")
    parser.add_argument(
        "--glyph-fonts",
        default=None,
        help="comma-separated font names of variant_sets.yaml the glyph check may use (default: all)",
    )
    parser.add_argument(
        "--report-every", type=int, default=0, help="print the figures so far every N pages (long runs)"
    )
    args = parser.parse_args()
    cv2.setNumThreads(1)
    if args.glyph_fonts:
        glyph_check.FONT_NAMES = tuple(args.glyph_fonts.split(","))
    print("glyph check fonts:", ", ".join(f.name for f in glyph_check.installed_fonts()))

    started = time.perf_counter()
    store = _load_times()
    samples = generate(store, args.pages, args.seed)
    if args.compare:
        tallies = [Tally(e, Engines.single(registry.create(e))) for e in args.compare.split(",")]
    elif args.engine:
        tallies = [Tally(args.engine, Engines.single(registry.create(args.engine)))]
    else:
        routed = shared_engines()
        label = f"routed ({', '.join(f'{k.value}={v}' for k, v in routed.routing.types.items()) or 'none'})"
        tallies = [Tally(f"{label}, default {routed.routing.default}", routed)]
    print("engines:", "; ".join(t.label for t in tallies))

    baseline_hits = [0, 0]
    baseline_seconds: list[float] = []
    baseline_cpu: list[float] = []
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
        doc = "doc:" + str(s.truth["template_id"]).split("/")[0]
        on_baseline = full_page is not None and (clean_pages + degraded_pages - 1) % args.baseline_every == 0
        keys = ("all", state, doc) + (("baseline-pages",) if on_baseline else ())
        for tally in tallies:
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                result = read_document(data, store=store, engine=tally.engines)
            except MadoguchiError as exc:
                tally.seconds.append(time.perf_counter() - t0)
                tally.cpu.append(time.process_time() - c0)
                tally.errors[exc.error_code] += 1
                tally.misses.append(f"{s.name} {state} {doc}: {exc.error_code}")
                for field in truth_fields:
                    for key in (*keys, f"type:{types[field]}"):
                        tally.hits[key][1] += 1
                continue
            tally.seconds.append(time.perf_counter() - t0)
            tally.cpu.append(time.process_time() - c0)
            ok_template = result.template_id == s.truth["template_id"]
            tally.identified += ok_template
            for field, value in truth_fields.items():
                read = result.field(field).text if ok_template else ""
                good = comparable(read) == comparable(value)
                before = result.field(field).read_as if ok_template else None
                was_good = good if before is None else comparable(before) == comparable(value)
                variant_only = not good and _folded(read) == _folded(value)
                for key in (*keys, f"type:{types[field]}"):
                    tally.hits[key][0] += good
                    tally.hits[key][1] += 1
                    tally.variant_only[key] += variant_only
                    if before is not None:
                        tally.glyph[key][0 if good else 1 if was_good else 2] += 1
                if not ok_template and field == next(iter(truth_fields)):
                    tally.misses.append(f"{s.name} {state} not identified: {result.template_id}")
                if not good and len(tally.misses) < args.show_misses:
                    tally.misses.append(f"{s.name} {state} {field}: {value} → {read}")
        if on_baseline and full_page is not None:
            c0 = time.process_time()
            t0 = time.perf_counter()
            full_page.SetImage(Image.open(io.BytesIO(data)))
            text = comparable(full_page.GetUTF8Text())
            baseline_seconds.append(time.perf_counter() - t0)
            baseline_cpu.append(time.process_time() - c0)
            for value in truth_fields.values():
                baseline_hits[0] += comparable(value) in text
                baseline_hits[1] += 1

        if args.report_every and (clean_pages + degraded_pages) % args.report_every == 0:
            _report(tallies, clean_pages, degraded_pages, started, misses=False)
    _report(tallies, clean_pages, degraded_pages, started, misses=True)
    if len(tallies) > 1:
        kinds = sorted(k[5:] for k in tallies[0].hits if k.startswith("type:"))
        print("per type:", " / ".join(t.label for t in tallies))
        suggested: dict[str, str] = {}
        for kind in kinds:
            rates = [t.rate(f"type:{kind}") for t in tallies]
            best = tallies[rates.index(max(rates))].label
            suggested[kind] = best
            print(f"  {kind:<22}", "  ".join(f"{100 * r:5.1f} %" for r in rates), f"→ {best}")
        issuer = max(tallies, key=lambda t: t.identified).label
        default = tallies[0].label
        print("suggested routing.yaml:")
        print(f"default: {default}\nissuer: {issuer}\ntypes:")
        for kind, best in suggested.items():
            if best != default:
                print(f"  {kind}: {best}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS of the process): {peak:.0f} MB")
    if baseline_seconds:
        rate = baseline_hits[0] / baseline_hits[1]
        ours = tallies[0].rate("baseline-pages")
        print(
            f"full-page tesseract --psm 3 on {len(baseline_seconds)} pages: values found verbatim "
            f"{_pct(*baseline_hits)}, "
            f"median {statistics.median(baseline_seconds):.2f} s/page "
            f"(CPU {statistics.median(baseline_cpu):.2f})"
        )
        print(
            f"ratios on the same pages (template / full page): ours {100 * ours:.1f} %, "
            f"accuracy {ours / rate if rate else float('inf'):.2f}×, "
            f"time {statistics.median(tallies[0].seconds) / statistics.median(baseline_seconds):.2f}× "
            f"(CPU {statistics.median(tallies[0].cpu) / statistics.median(baseline_cpu):.2f}×)"
        )


def _report(
    tallies: list[Tally], clean_pages: int, degraded_pages: int, started: float, *, misses: bool
) -> None:
    """The figures over the pages read so far."""
    n = clean_pages + degraded_pages
    print(
        f"pages: {n} (clean {clean_pages}, degraded "
        f"{degraded_pages}), total {time.perf_counter() - started:.0f} s"
    )
    for tally in tallies:
        hits, seconds = tally.hits, sorted(tally.seconds)
        print(f"== {tally.label}")
        print(f"identification: {_pct(tally.identified, n)}; errors: {dict(tally.errors) or 'none'}")
        print(f"field exact match, all:      {_pct(*hits['all'])}")
        print(f"field exact match, clean:    {_pct(*hits['clean'])}")
        print(f"field exact match, degraded: {_pct(*hits['degraded'])}")
        for key in ("all", "clean", "degraded", "type:name"):
            helped, harmed, other = tally.glyph[key]
            hit, total = hits[key]
            print(
                f"  {key:<9} glyph check changed {helped + harmed + other}: helped {helped}, "
                f"harmed {harmed}, neither {other}; without it {_pct(hit - helped + harmed, total)}; "
                f"misses that are only a 異体字 {tally.variant_only[key]} "
                f"(right up to 異体字: {_pct(hit + tally.variant_only[key], total)})"
            )
        print("per document type:")
        for key in sorted(k for k in hits if k.startswith("doc:")):
            print(f"  {key[4:]:<40} {_pct(*hits[key])}")
        print("per field type:")
        for key in sorted(k for k in hits if k.startswith("type:")):
            print(f"  {key[5:]:<22} {_pct(*hits[key])}")
        cpu = sorted(tally.cpu)
        print(
            f"seconds per page (wall): median {statistics.median(seconds):.2f}, "
            f"p95 {seconds[int(0.95 * (n - 1))]:.2f}; CPU seconds of the process per page: "
            f"median {statistics.median(cpu):.2f}, p95 {cpu[int(0.95 * (n - 1))]:.2f}"
        )
        if misses:
            for line in tally.misses:
                print("  miss:", line)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
