"""`python -m tests.bench.browser_flags`: what each candidate Chromium flag saves, measured one by one.

The browser probe (scanner/probes/browser.py) visits the local test site of tests/integration/
test_browser_local.py (a banner, a third-party pixel and frame, subpages, a statement; no lab needed) `--sites`
times with the probe's own flags, then with each candidate flag added alone, and reports the CPU seconds of
Chromium's processes per site (RUSAGE_CHILDREN: every process of the browser is waited for at teardown) and
the wall time. Variants run in turns (baseline, a, b, ..., baseline, a, b, ...) so that a change in the
machine's load falls on all of them alike. Not a test: nothing fails on numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from govscan.model import Site
from scanner.probes import browser as browser_module
from scanner.probes.base import ProbeContext
from tests.integration.local_https import LocalWeb, MappedResolver
from tests.integration.test_browser_local import PAGES, settings_for

CANDIDATES = {
    "GPU in the browser process": ["--in-process-gpu"],
    "no software rasterizer": ["--disable-software-rasterizer"],
    "GPU compositing off": ["--disable-gpu-compositing"],
    # V8's tiers: pages live seconds here, and axe-core and autoconsent are parsed in every frame they run in,
    # so optimizing compilers may cost more than they save; the same script semantics either way.
    "no TurboFan": ["--js-flags=--no-opt"],
    "no Maglev": ["--js-flags=--no-maglev"],
    "V8 lite mode": ["--js-flags=--lite-mode"],
}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run(web, flags: list[str], sites: int) -> dict:
    """The probe set up with `flags`, `sites` visits of the local site, torn down: CPU and wall per site."""
    browser_module.CHROMIUM_FLAGS = flags
    settings = settings_for(web, settle_seconds=1.0, subpages=3, visit_timeout=30.0, concurrency=4)

    async def scan() -> float:
        ctx = ProbeContext(settings=settings, resolver=MappedResolver({h for h, _ in PAGES}),
                           executor=ThreadPoolExecutor(2))
        probe = browser_module.BrowserProbe()
        await probe.setup(ctx)
        started = time.monotonic()
        try:
            await asyncio.gather(*(probe.collect(ctx, Site(web.url("www.gemeente.test"), "www.gemeente.test"), None, {})
                                   for _ in range(sites)), return_exceptions=True)
        finally:
            await probe.teardown(ctx)
        return time.monotonic() - started

    cpu = children_cpu()
    wall = asyncio.run(scan())
    return {"cpu_per_site": (children_cpu() - cpu) / sites, "wall_per_site": wall / sites}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.browser_flags", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=8, help="visits of the local site per run (default 8)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of every variant, in turns (default 2)")
    args = parser.parse_args(argv)
    base = list(browser_module.CHROMIUM_FLAGS)
    variants = {"probe's flags": base, **{name: base + extra for name, extra in CANDIDATES.items()}}
    web = LocalWeb(PAGES, Path(tempfile.mkdtemp(prefix="govscan-flags-"))).start()
    runs: dict[str, list[dict]] = {name: [] for name in variants}
    try:
        for _ in range(args.rounds):
            for name, flags in variants.items():
                runs[name].append(one_run(web, flags, args.sites))
    finally:
        web.stop()
    report = {}
    for name, measured in runs.items():
        cpu = sum(m["cpu_per_site"] for m in measured) / len(measured)
        wall = sum(m["wall_per_site"] for m in measured) / len(measured)
        report[name] = {"cpu_seconds_per_site": round(cpu, 3), "wall_seconds_per_site": round(wall, 2),
                        "flags": variants[name][len(base):] or base}
    baseline = report["probe's flags"]["cpu_seconds_per_site"]
    for name, figures in report.items():
        figures["cpu_change"] = round(figures["cpu_seconds_per_site"] / baseline - 1, 3) if baseline else None
        print(f"{name:32} CPU {figures['cpu_seconds_per_site']:.3f} s/site ({100 * (figures['cpu_change'] or 0):+.1f}%)"
              f"  wall {figures['wall_seconds_per_site']:.2f} s/site")
    print(json.dumps({"sites": args.sites, "rounds": args.rounds, "variants": report}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
