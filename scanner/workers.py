"""Distributed runs: the sites of a run scanned by Celery workers on several machines (docs/workers.md).

The run's work items in the store stay the one source of truth for what a run still needs; the broker only
carries reminders. The coordinator (`govscan scan --distributed`, or the scheduler with `[workers]
distributed = true`) splits every site's item into parts by family group (`network`: checks whose probes
need no browser; `browser`: the rest, so browser work runs only where Chromium is) and publishes one task per
part to that group's queue. A worker's task claims its item first (storage.work.claim_item: a done item, or
one a live claim holds, is acknowledged without scanning), scans the part, renewing its claim while it
scans, and stores it (storage.work.record_part: a part stored before is not stored again, so a site keeps one
set of findings; the last part stored makes the site done).

What survives what: tasks are acknowledged late (after the part is stored) and a worker takes one at a time,
so a worker killed mid-site leaves its message unacknowledged and the broker delivers it again; its claim
runs out after `[workers] lease_seconds`, and the coordinator publishes every item whose claim ran out again.
Queues are durable and messages persistent, so a broker restart keeps them; should messages be lost anyway,
the coordinator publishes the items still queued again when no part finished for `republish_seconds`. A
duplicate task costs one claim in the database. The run is finished when no item is queued or running:
every part is stored, or given up as an error after `max_attempts` claims.

A worker process scans on one event loop (one browser, one resolver cache per run for all the sites it
scans at a time); Celery's threads pool hands it the tasks, `--concurrency` at a time.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import os
import socket
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from celery import Celery

from checks.registry import Check, select
from govscan.model import SiteResult
from scanner.config import Settings
from scanner.probes import all_probes
from scanner.probes.base import ProbeContext
from scanner.probes.browser import BrowserProbe
from scanner.resolver import Resolver
from scanner.runner import Progress, Runner, probes_for, run_facts

GROUPS = ("network", "browser")
TASK = "govscan.scan_part"
POLL_SECONDS = 1.0  # how often the coordinator looks at the run's items
log = logging.getLogger("govscan.workers")

app = Celery("govscan", set_as_current=False)


def queue(group: str) -> str:
    return f"govscan.{group}"


def configure(settings: Settings) -> Celery:
    """The Celery settings that make a part's result arrive exactly once (docs/workers.md says why)."""
    app.conf.update(
        broker_url=settings.workers.broker_url,
        broker_connection_retry_on_startup=True,
        task_acks_late=True,               # acknowledged after the part is stored, not when it is received
        task_reject_on_worker_lost=True,   # a task whose worker process died goes back to the queue
        worker_prefetch_multiplier=1,      # a worker holds no more tasks than it runs: a killed one strands none
        # After a lost connection: no lowered prefetch to restore (its restoring hangs on the acks that
        # cannot be sent), and the tasks in hand finish and store (their messages come again, find them done).
        worker_enable_prefetch_count_reduction=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_heartbeat=10,               # a dead broker connection is noticed in seconds, not minutes
        task_default_delivery_mode="persistent",
        task_create_missing_queues=True,   # durable queues, declared by whoever uses them first
        task_ignore_result=True,           # results go to the store, not to a result backend
        broker_transport_options={"visibility_timeout": settings.workers.visibility_timeout},  # Redis
        worker_hijack_root_logger=False,
    )
    return app


# --- family groups ---

@functools.cache
def _browser_probes() -> frozenset[str]:
    return frozenset(name for name, probe in all_probes().items() if isinstance(probe, BrowserProbe))


def group_of(check: Check) -> str:
    """`browser` when one of the check's probes drives a browser, else `network`."""
    return "browser" if _browser_probes() & {*check.requires, *check.optional} else "network"


def checks_in(checks: list[Check], group: str) -> list[Check]:
    return [check for check in checks if group_of(check) == group]


def time_limit(settings: Settings, checks: list[Check]) -> float:
    """How long a part may take: every probe's timeout one after the other (they partly overlap), plus the
    margin. Only a hung scan comes near it; the task then stops and its claim runs out."""
    return sum(probe.timeout(settings) for probe in probes_for(checks)) + settings.workers.time_limit_margin


# --- the worker ---

@dataclass(frozen=True)
class Plan:
    """What every task of one part of one run needs from the run, read once per worker process: the run's
    check patterns and facts, the part's checks and its time limit."""

    patterns: str
    facts: dict | None
    checks: list[Check]
    time_limit: float


@dataclass
class RunScan:
    """One run's probes, set up once in this worker and shared by the sites it scans at the same time."""

    ctx: ProbeContext
    runners: dict[str, Runner] = field(default_factory=dict)
    in_flight: int = 0


class WorkerProcess:
    """What a `govscan worker` process keeps between tasks: the store, and the event loop (in a thread of
    its own) on which the tasks' sites are scanned."""

    def __init__(self, settings: Settings):
        from storage.store import Store

        self.settings = settings
        self.store = Store.open(settings)
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="govscan-scan", daemon=True)
        self.thread.start()
        self.runs: dict[int, RunScan] = {}
        self.setting_up = asyncio.Lock()
        self.plans: dict[tuple[int, str], Plan] = {}

    def plan(self, run_id: int, part: str) -> Plan | None:
        """The run's plan for `part`; the plans of other runs are dropped (a worker serves one run at a
        time, mostly)."""
        plan = self.plans.get((run_id, part))
        if plan is None:
            run = self.store.run(run_id)
            if run is None:
                return None
            checks = checks_in(select(run.checks or None), part)
            plan = Plan(run.checks, run.run_facts, checks, time_limit(self.settings, checks))
            self.plans = {key: kept for key, kept in self.plans.items() if key[0] == run_id}
            self.plans[(run_id, part)] = plan
        return plan

    def handle(self, run_id: int, item_id: int, part: str, max_attempts: int) -> str:
        """One task: claim the item, scan the part while renewing the claim, store it. Returns what happened."""
        from storage import work

        plan = self.plan(run_id, part)
        if plan is None:
            return "no such run"
        lease = timedelta(seconds=self.settings.workers.lease_seconds)
        site = work.claim_item(self.store, run_id, item_id, lease, max_attempts, self.name)
        if site is None:
            return "not claimed"
        scan = asyncio.run_coroutine_threadsafe(self.scan(run_id, plan.patterns, plan.facts, part, site),
                                                self.loop)
        stop = time.monotonic() + plan.time_limit
        while True:
            try:
                result = scan.result(timeout=max(0.1, min(lease.total_seconds() / 3, stop - time.monotonic())))
                break
            except concurrent.futures.TimeoutError:
                if time.monotonic() >= stop:
                    scan.cancel()
                    raise TimeoutError(f"{site.host} ({part}): no result within the time limit") from None
                work.renew(self.store, item_id, self.name, lease)
        return "stored" if work.record_part(self.store, run_id, item_id, result) else "stored before"

    async def scan(self, run_id: int, patterns: str, facts: dict | None, part: str, site) -> SiteResult:
        async with self.setting_up:
            run = self.runs.get(run_id)
            if run is None:
                for other in [key for key, scan in self.runs.items() if not scan.in_flight]:
                    await self.close_run(self.runs.pop(other))
                run = self.runs[run_id] = RunScan(ProbeContext(
                    settings=self.settings, resolver=Resolver(self.settings.dns), run_facts=dict(facts or {}),
                    executor=ThreadPoolExecutor(max_workers=self.settings.scan.threads)))
            runner = run.runners.get(part)
            if runner is None:
                runner = Runner(self.settings, checks_in(select(patterns or None), part))
                started = []
                try:
                    for probe in runner.probes:
                        await probe.setup(run.ctx)
                        started.append(probe)
                except BaseException:
                    await self.teardown(started, run.ctx)
                    raise
                run.runners[part] = runner
            run.in_flight += 1
        try:
            return await runner.scan_site(run.ctx, site)
        finally:
            run.in_flight -= 1

    @staticmethod
    async def teardown(probes, ctx: ProbeContext) -> None:
        for probe in reversed(probes):
            try:
                await probe.teardown(ctx)
            except Exception:  # the other probes are still torn down
                log.exception("teardown of probe %s", probe.name)

    async def close_run(self, run: RunScan) -> None:
        for runner in run.runners.values():
            await self.teardown(runner.probes, run.ctx)
        run.ctx.executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        async def close_all():
            for run in self.runs.values():
                await self.close_run(run)

        asyncio.run_coroutine_threadsafe(close_all(), self.loop).result(timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.store.close()


_process: WorkerProcess | None = None


@app.task(name=TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def scan_part(run_id: int, item_id: int, part: str, max_attempts: int) -> str:
    if _process is None:
        raise RuntimeError("govscan tasks run in `govscan worker`, which sets up the scanner")
    outcome = _process.handle(run_id, item_id, part, max_attempts)
    log.info("run %s item %s (%s): %s", run_id, item_id, part, outcome)
    return outcome


def serve(settings: Settings, families: str, concurrency: int) -> int:
    """`govscan worker`: consume the queues of `families` until stopped (SIGTERM or Ctrl-C: the tasks in
    hand are finished first). Returns the exit status."""
    global _process
    settings.scan.sites_in_flight = concurrency  # what the browser's backstop timeout counts on
    configure(settings)
    _process = WorkerProcess(settings)
    queues = [queue(group) for group in GROUPS if families in (group, "all")]
    try:
        app.worker_main(["worker", "--pool", "threads", "--concurrency", str(concurrency),
                         "--queues", ",".join(queues), "--hostname", f"govscan-{families}-{os.getpid()}@%h",
                         "--loglevel", "INFO"])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    finally:
        _process.close()
        _process = None
    return 0


# --- the coordinator ---

def coordinate(store, settings: Settings, run_id: int, *, max_attempts: int = 3,
               on_progress: Callable[[Progress], None] | None = None,
               sleep: Callable[[float], None] = time.sleep) -> None:
    """Have the workers scan a run's sites, and wait until every part is stored or given up; then finish the
    run. Items are published at the start, again when their claim ran out, and, all that wait, again when no
    part finished for `[workers] republish_seconds` (a broker that lost its messages) or when publishing
    failed. Every second only the claims that ran out are read (a handful of rows, however large the run);
    all waiting items only at those moments."""
    from storage import work

    configure(settings)
    run = store.run(run_id)
    checks = select(run.checks or None)
    store.record_run_facts(run_id, run_facts(settings))
    work.split(store, run_id, [group for group in GROUPS if checks_in(checks, group)])
    published: dict[int, object] = {}  # item id -> the claim deadline it had when it was last published
    progress = Progress(total=run.sites_total)
    open_before, quiet_since = None, time.monotonic()
    publish_all = True  # at the start
    while True:
        stalled = time.monotonic() - quiet_since >= settings.workers.republish_seconds
        everything = publish_all or stalled
        publish_all = False
        items, left, counts = work.poll(store, run_id, ran_out_only=not everything)
        for item_id, part, deadline in items:
            if stalled or item_id not in published or published[item_id] != deadline:
                try:
                    app.send_task(TASK, args=(run_id, item_id, part, max_attempts), queue=queue(part))
                except Exception as exc:  # the broker is away: every waiting item is looked at next time
                    log.warning("cannot publish item %s of run %s: %s", item_id, run_id, exc)
                    publish_all = True
                    break
                published[item_id] = deadline
        if stalled:
            quiet_since = time.monotonic()
        if left != open_before:
            open_before, quiet_since = left, time.monotonic()
        if on_progress:
            progress.done, progress.failing, progress.errors = counts.sites_done, counts.sites_failing, counts.sites_error
            on_progress(progress)
        if not left:
            break
        sleep(POLL_SECONDS)
    store.finish_run(run_id)


def results(store, run_id: int, with_addresses: bool = False) -> list[SiteResult]:
    """The stored results of a run's sites, as a scan in this process returns them (the artifacts left out,
    but the `dns` one with `with_addresses`, for the reports that list a site's addresses)."""
    findings = defaultdict(list)
    sites = {}
    for row in store.findings_for_run(run_id):
        findings[row.site.host].append(row.to_model())
        sites[row.site.host] = row.site.to_model()
    found = []
    for host, site_findings in findings.items():
        dns = [a for a in store.artifacts(host) if a.probe == "dns"] if with_addresses else []
        found.append(SiteResult(sites[host], {"dns": dns[0]} if dns else {}, {}, site_findings, 0.0))
    return found
