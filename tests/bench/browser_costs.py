"""`python -m tests.bench.browser_costs`: what Chromium costs before a page does anything, per browser process type.

The browser probe's CPU per site (`make bench`) is the sum of fixed costs and of what pages and our scripts
do. This measures the fixed ones with the probe's own Chromium (flags, profile, proxy) on the local test site
of tests/integration/test_browser_local.py (no lab needed): a fresh context with its tab (Chromium 156 opens
a window with its whole toolbar and tab strip for every context), another tab in a context, one page load in
an open tab, and a second of an open, loaded page. CPU is read from /proc for Chromium's whole process tree
(exited renderers are counted through their parent), split by process type. Not a test: nothing fails on
numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from scanner.probes.base import ProbeContext
from scanner.probes.browser import BrowserProbe
from tests.bench import measure
from tests.integration.local_https import LocalWeb, MappedResolver
from tests.integration.test_browser_local import PAGES, settings_for

CONTEXT_OPTIONS = {"service_workers": "block", "viewport": {"width": 1280, "height": 800}, "locale": "nl-NL",
                   "timezone_id": "Europe/Amsterdam"}


def tree_cpu(root: int) -> dict[str, float]:
    """CPU seconds of `root` and its descendants by process name and Chromium process type, the children they
    have already waited for included (the zygote forks the renderers and reaps them: what it reaped is theirs)."""
    split: dict[str, float] = {}
    for pid in [root, *measure.descendants(root)]:
        own, reaped = measure.cpu_seconds(pid), measure.cpu_seconds(pid, reaped=True)
        if own is None or reaped is None:
            continue
        name = measure.command_name(pid)
        for kind, seconds in ((name, own), ("chromium renderer" if name.endswith("zygote") else name, reaped)):
            split[kind] = split.get(kind, 0.0) + seconds
    return split


async def measure_all(web, repeat: int) -> dict:
    settings = settings_for(web, visit_timeout=30.0)
    ctx = ProbeContext(settings=settings, resolver=MappedResolver({h for h, _ in PAGES}),
                       executor=ThreadPoolExecutor(2))
    probe = BrowserProbe()
    await probe.setup(ctx)
    browser, url = probe.chromium.browser, web.url("www.gemeente.test")
    root = probe.chromium.process.pid

    async def fresh_context_and_tab():
        for _ in range(repeat):
            context = await browser.new_context(**CONTEXT_OPTIONS)
            await context.new_page()
            await context.close()

    async def another_tab():
        context = await browser.new_context(**CONTEXT_OPTIONS)
        await context.new_page()
        for _ in range(repeat):
            await (await context.new_page()).close()
        await context.close()

    async def page_load():
        context = await browser.new_context(**CONTEXT_OPTIONS)
        page = await context.new_page()
        await page.goto(url)
        for _ in range(repeat):
            await page.goto(url)
        await context.close()

    async def open_page_second():
        context = await browser.new_context(**CONTEXT_OPTIONS)
        await (await context.new_page()).goto(url)
        await asyncio.sleep(1)
        before = tree_cpu(root)
        await asyncio.sleep(repeat)
        after = tree_cpu(root)
        await context.close()
        return before, after

    async def costs(work) -> dict:
        await asyncio.sleep(1)  # what came before has quietened
        before = tree_cpu(root)
        result = await work()
        if result:
            before, after = result
        else:
            await asyncio.sleep(1)
            after = tree_cpu(root)
        per = {kind: round(1000 * (seconds - before.get(kind, 0.0)) / repeat, 1) for kind, seconds in after.items()}
        return {"total_ms": round(sum(per.values()), 1), **{k: v for k, v in sorted(per.items()) if v}}

    try:
        return {"fresh context and tab, closed": await costs(fresh_context_and_tab),
                "another tab in a context, closed": await costs(another_tab),
                "page load in an open tab": await costs(page_load),
                "a second of an open, loaded page": await costs(open_page_second)}
    finally:
        await probe.teardown(ctx)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.browser_costs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10, help="repetitions (and idle seconds) per measure (default 10)")
    args = parser.parse_args(argv)
    web = LocalWeb(PAGES, Path(tempfile.mkdtemp(prefix="govscan-costs-"))).start()
    try:
        started = time.monotonic()
        measured = asyncio.run(measure_all(web, args.repeat))
    finally:
        web.stop()
    for name, figures in measured.items():
        print(f"{name:36} {figures['total_ms']:7.1f} ms of Chromium CPU each "
              f"({', '.join(f'{k} {v:g}' for k, v in figures.items() if k != 'total_ms')})")
    print(json.dumps({"repeat": args.repeat, "seconds": round(time.monotonic() - started, 1), "costs_ms": measured},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
