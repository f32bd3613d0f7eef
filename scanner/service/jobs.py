"""The web service's background scanner.

Scan jobs are runs in the store (`store.start_run(..., source="serve:...")`), their sites work items
(storage/work.py), so the store is the truth: a job outlives the request that made it (a client that
disconnects stops nothing) and the service that ran it. On start, runs left by a service that is gone
(killed, crashed) or stopped (`Jobs.stop` marks its runs interrupted) are reopened and finished.

Design: one thread with its own asyncio event loop runs every scan, so scanning never stalls the web
responses (uvicorn's loop only serves pages; the store is read from FastAPI's thread pool). The loop claims
sites of the open "serve:" runs, keeping at most [service] sites_at_once sites in scan: first the on-demand
checks (someone waits for each, and each is one site), oldest first, then the other runs (batch requests),
oldest first, so a batch of thousands of domains does not keep a check waiting for hours;
each site is scanned as `govscan check` scans it (a Runner with the run's checks, the Browser probe
included, with its own probe setup and teardown), stored as soon as it is done, and its run finished when
it has no open item left. `wake()` tells the loop a new run is waiting; it also looks every few seconds,
for sites another run (the nightly scan) had claimed.

Progress per family of a site in scan is kept in memory (`FamilyProgress`, fed by the Runner's probe
calls): for each family of checks, how many of the probe measurements it needs are done. A stored site is
complete by definition, so after a restart the store still tells done from waiting.
"""
from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Awaitable, Callable

from checks.registry import Check, select
from govscan.model import Site, SiteResult
from scanner.config import Settings
from scanner.runner import Runner, run_facts
from storage.store import SERVICE_SOURCE

PREFIX = SERVICE_SOURCE
CHECKS = f"{SERVICE_SOURCE}check:"  # on-demand checks: source serve:check:<client address>
LEASE = timedelta(minutes=30)  # a site claimed this long without being stored is taken back
MAX_ATTEMPTS = 3
POLL_SECONDS = 5.0
log = logging.getLogger("govscan.service")


@dataclass
class FamilyProgress:
    """Which probe measurements of one site are done, and which families of checks they serve."""

    needs: dict[str, set[str]]  # family -> the probes its checks read
    per_address: set[str]  # probes run once per IP address
    expected: dict[str, int] = field(default_factory=dict)  # probe -> measurements (per-address: after dns)
    started: Counter = field(default_factory=Counter)  # probe -> measurements begun
    done: Counter = field(default_factory=Counter)  # probe -> measurements done

    @classmethod
    def of(cls, runner: Runner) -> FamilyProgress:
        needs: dict[str, set[str]] = {}
        for check in runner.checks:
            needed = {*check.requires, *check.optional}
            if any(p.per_address and p.name in needed for p in runner.probes):
                needed.add("dns")
            needs.setdefault(check.family, set()).update(needed)
        per_address = {p.name for p in runner.probes if p.per_address}
        expected = {p.name: 1 for p in runner.probes if not p.per_address}
        return cls(needs, per_address, expected)

    def began(self, probe: str) -> None:
        self.started[probe] += 1

    def measured(self, probe: str, artifact) -> None:
        self.done[probe] += 1
        if probe == "dns":  # the Runner runs each per-address probe once per address the dns probe found
            count = len(artifact.data.get("ipv4", []) + artifact.data.get("ipv6", [])) if artifact.ok else 0
            self.expected.update((name, count) for name in self.per_address)

    def families(self) -> dict[str, dict]:
        """Per family: measurements done and expected (None while the addresses are not known yet), whether
        any is under way, and whether all are done."""
        result = {}
        for family, probes in sorted(self.needs.items()):
            known = all(p in self.expected for p in probes)
            total = sum(self.expected.get(p, 0) for p in probes)
            done = sum(min(self.done[p], self.expected.get(p, self.done[p])) for p in probes)
            result[family] = {"done": done, "total": total if known else None,
                              "busy": any(self.started[p] > self.done[p] for p in probes),
                              "finished": known and done >= total}
        return result


class TrackingRunner(Runner):
    """A Runner that reports every probe measurement it begins and ends to the site's FamilyProgress."""

    def __init__(self, *args, progress: dict[str, FamilyProgress], **kwargs):
        super().__init__(*args, **kwargs)
        self.progress = progress

    async def collect(self, ctx, probe, site, address, prior):
        tracked = self.progress.get(site.host)
        if tracked is not None:
            tracked.began(probe.name)
        artifact = await super().collect(ctx, probe, site, address, prior)
        if tracked is not None:
            tracked.measured(probe.name, artifact)
        return artifact


ScanSite = Callable[[Settings, list[Check], Site, dict, dict[str, FamilyProgress]], Awaitable[SiteResult]]


async def scan_site(settings: Settings, checks: list[Check], site: Site, facts: dict,
                    progress: dict[str, FamilyProgress]) -> SiteResult:
    """One site, as `govscan check` scans it, its progress per family kept in `progress[site.host]`."""
    runner = TrackingRunner(settings, checks, run_facts=facts, progress=progress)
    progress[site.host] = FamilyProgress.of(runner)
    return (await runner.run([site]))[0]


class Jobs:
    """The background scanner of one service (see the module docstring)."""

    def __init__(self, settings: Settings, store, *, scan: ScanSite = scan_site):
        self.settings = settings
        self.store = store
        self.scan = scan
        self.limit = max(1, settings.service.sites_at_once)
        self._progress: dict[int, dict[str, FamilyProgress]] = {}  # run id -> host -> progress
        self._prepared: dict[int, tuple[list[Check], dict]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._stopping = False
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    # --- for the web pages (any thread) ---

    def wake(self) -> None:
        """A new run waits: look now instead of at the next poll."""
        if self._loop is not None and self._wakeup is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    def progress(self, run_id: int, host: str) -> dict[str, dict] | None:
        """Per family, the measurements done for a site in scan; None when it is not being scanned here."""
        tracked = self._progress.get(run_id, {}).get(host)
        return tracked.families() if tracked is not None else None

    def position(self, run_id: int, source: str) -> int:
        """The place in line of a run from `source`: 1 when its sites are next. Before a check wait the
        sites of older checks; before any other run, those of every check and of older runs."""
        from storage import work

        if source.startswith(CHECKS):
            return work.queued(self.store, CHECKS, before=run_id) + 1
        return (work.queued(self.store, CHECKS) + work.queued(self.store, PREFIX, before=run_id)
                - work.queued(self.store, CHECKS, before=run_id) + 1)

    def order(self) -> list[int]:
        """The open runs in the order their sites are scanned: checks first, then the others; oldest first."""
        from storage import work

        checks = work.open_runs(self.store, CHECKS)
        return checks + [run_id for run_id in work.open_runs(self.store, PREFIX) if run_id not in checks]

    # --- life cycle ---

    def start(self) -> list[int]:
        """Reopen the runs a previous service left, then start the scanning thread. Returns the runs
        reopened."""
        from storage import work

        self.store.mark_interrupted()  # runs of a service process that is gone
        resumed = work.open_runs(self.store, PREFIX, state="interrupted")
        for run_id in resumed:
            work.reopen(self.store, run_id)
        self._thread = threading.Thread(target=self._run_loop, name="govscan-jobs", daemon=True)
        self._thread.start()
        self._ready.wait()
        return resumed

    def stop(self) -> None:
        """Stop scanning: the sites in scan are cancelled and the runs of this process with work left are
        marked interrupted, so the next service resumes them."""
        from storage import work

        if self._thread is None:
            return
        self._stopping = True
        self.wake()
        self._thread.join()
        self._thread = None
        for run_id in work.open_runs(self.store, PREFIX):
            if self.store.run(run_id).pid == os.getpid():
                self.store.mark_interrupted(run_id)

    # --- the scanning thread ---

    def _run_loop(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        self._ready.set()
        scanning: set[asyncio.Task] = set()
        try:
            while not self._stopping:
                self._wakeup.clear()
                free = self.limit - len(scanning)
                if free > 0:
                    try:
                        claimed = await asyncio.to_thread(self._claim, free)
                    except Exception:  # the database is away for a moment: try again at the next poll
                        log.exception("claiming sites to scan")
                        claimed = []
                    for run_id, site in claimed:
                        scanning.add(asyncio.create_task(self._scan(run_id, site)))
                waiter = asyncio.create_task(self._wakeup.wait())
                await asyncio.wait({*scanning, waiter}, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                scanning = {task for task in scanning if not task.done()}
        finally:
            for task in scanning:
                task.cancel()
            await asyncio.gather(*scanning, return_exceptions=True)

    def _claim(self, free: int) -> list[tuple[int, Site]]:
        """Up to `free` sites of the open runs, in their order."""
        from storage import work

        claimed = []
        for run_id in self.order():
            if len(claimed) >= free:
                break
            sites = work.claim(self.store, run_id, free - len(claimed), LEASE, MAX_ATTEMPTS)
            claimed += [(run_id, site) for site in sites]
            self._finish_if_done(run_id)  # claim may have given up on the run's last items
        return claimed

    async def _scan(self, run_id: int, site: Site) -> None:
        progress = self._progress.setdefault(run_id, {})
        try:
            if run_id not in self._prepared:
                self._prepared[run_id] = await asyncio.to_thread(self._prepare, run_id)
            checks, facts = self._prepared[run_id]
            result = await self.scan(self.settings, checks, site, facts, progress)
            await asyncio.to_thread(self.store.record_site, run_id, result)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the site could not be scanned at all (the browser would not start ...)
            log.exception("run %s: %s could not be scanned", run_id, site.host)
            await asyncio.to_thread(self.store.skip_site, run_id, site.host, f"{type(exc).__name__}: {exc}")
        finally:
            progress.pop(site.host, None)
        await asyncio.to_thread(self._finish_if_done, run_id)

    def _prepare(self, run_id: int) -> tuple[list[Check], dict]:
        """The run's checks, and its run facts (found once per run and stored with it, as `execute` does)."""
        facts = run_facts(self.settings)
        self.store.record_run_facts(run_id, facts)
        return select(self.store.run(run_id).checks or None), facts

    def _finish_if_done(self, run_id: int) -> None:
        from storage import work

        if not work.open_items(self.store, run_id) and self.store.run(run_id).state == "running":
            self.store.finish_run(run_id)
            self._progress.pop(run_id, None)
            self._prepared.pop(run_id, None)
