"""Drive probes over many sites with bounded concurrency, then judge each site with the checks.

Per site: the `dns` probe finds the addresses; then every other needed probe runs, per-address probes once
per address. Every probe has a timeout and every failure becomes an error artifact, so one hanging or
broken site never stops the others. Results are handed out site by site (`on_site`) so storage can keep
them as they come.
"""
from __future__ import annotations

import asyncio
import socket
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable

from checks.registry import Check, evaluate
from scanner.config import Settings
from govscan.model import Artifact, Finding, Reason, Site, SiteResult, Status
from scanner.probes import all_probes
from scanner.probes.base import Probe, ProbeContext, ProbeError
from scanner.resolver import Resolver


@dataclass
class Progress:
    total: int
    done: int = 0
    failing: int = 0
    errors: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def rate_per_minute(self) -> float:
        elapsed = time.monotonic() - self.started
        return 60.0 * self.done / elapsed if elapsed > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        rate = self.rate_per_minute
        return 60.0 * (self.total - self.done) / rate if rate else None


def has_ipv6_connectivity(settings: Settings) -> bool:
    """Whether this host can route IPv6 to where it scans. A UDP connect sends nothing; it only asks the
    kernel for a route. Done once per run, so a scanner without IPv6 says so instead of failing sites."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.connect((settings.scan.ipv6_check_address, 53))
        return True
    except OSError:
        return False


def run_facts(settings: Settings) -> dict:
    """What the runner hands every check besides the artifacts, found once per run. Stored with the run
    (`Store.record_run_facts`), so a re-evaluation judges the stored artifacts with the same facts."""
    return {"ipv6": has_ipv6_connectivity(settings)}


def probes_for(checks: Iterable[Check]) -> list[Probe]:
    """The probes the selected checks need; `dns` whenever any per-address probe runs."""
    available = all_probes()
    names = {name for check in checks for name in (*check.requires, *check.optional)}
    if any(available[n].per_address for n in names if n in available):
        names.add("dns")
    missing = names - set(available)
    if missing:
        raise ValueError(f"checks need unknown probe(s): {', '.join(sorted(missing))}")
    return [available[n] for n in sorted(names)]


class Runner:
    def __init__(self, settings: Settings, checks: list[Check], *,
                 on_site: Callable[[SiteResult], None] | None = None,
                 on_progress: Callable[[Progress], None] | None = None,
                 run_facts: dict | None = None):
        self.settings = settings
        self.checks = checks
        self.probes = probes_for(checks)
        self.on_site = on_site
        self.on_progress = on_progress
        self.run_facts = run_facts

    async def run(self, sites: list[Site]) -> list[SiteResult]:
        facts = dict(self.run_facts) if self.run_facts is not None else run_facts(self.settings)
        ctx = ProbeContext(settings=self.settings, resolver=Resolver(self.settings.dns), run_facts=facts,
                           executor=ThreadPoolExecutor(max_workers=self.settings.scan.threads))
        progress = Progress(total=len(sites))
        in_flight = asyncio.Semaphore(self.settings.scan.sites_in_flight)
        results: list[SiteResult] = []
        started: list[Probe] = []
        try:
            for probe in self.probes:
                await probe.setup(ctx)
                started.append(probe)

            async def one(site: Site):
                async with in_flight:
                    result = await self.scan_site(ctx, site)
                results.append(result)
                progress.done += 1
                statuses = {f.status for f in result.findings}
                progress.failing += Status.FAIL in statuses
                progress.errors += Status.ERROR in statuses
                if self.on_site:
                    self.on_site(result)
                if self.on_progress:
                    self.on_progress(progress)

            await asyncio.gather(*(one(site) for site in sites))
        finally:
            for probe in reversed(started):
                try:
                    await probe.teardown(ctx)
                except Exception:  # teardown must not hide the results
                    traceback.print_exc()
            ctx.executor.shutdown(wait=False, cancel_futures=True)
        return results

    async def scan_site(self, ctx: ProbeContext, site: Site) -> SiteResult:
        started = time.monotonic()
        site_artifacts: dict[str, Artifact] = {}
        address_artifacts: dict[str, dict[str, Artifact]] = {}
        by_name = {p.name: p for p in self.probes}
        if "dns" in by_name:
            site_artifacts["dns"] = await self.collect(ctx, by_name["dns"], site, None, {})
        dns = site_artifacts.get("dns")
        addresses = (dns.data.get("ipv4", []) + dns.data.get("ipv6", [])) if dns and dns.ok else []

        jobs = []
        for probe in self.probes:
            if probe.name == "dns":
                continue
            if probe.per_address:
                for address in addresses:
                    jobs.append((probe, address))
            else:
                jobs.append((probe, None))
        # Probes that read other probes' site-level artifacts (`Probe.after`) run once those are collected.
        for phase in ([j for j in jobs if not j[0].after], [j for j in jobs if j[0].after]):
            collected = await asyncio.gather(
                *(self.collect(ctx, probe, site, address, site_artifacts) for probe, address in phase))
            for (probe, address), artifact in zip(phase, collected):
                if address is None:
                    site_artifacts[probe.name] = artifact
                else:
                    address_artifacts.setdefault(address, {})[probe.name] = artifact

        findings = [evaluate(check, site, site_artifacts, address_artifacts, ctx.run_facts) for check in self.checks]
        return SiteResult(site, site_artifacts, address_artifacts, findings, time.monotonic() - started)

    async def collect(self, ctx: ProbeContext, probe: Probe, site: Site, address: str | None,
                      prior: dict[str, Artifact]) -> Artifact:
        subject = address or site.host
        if address and ":" in address and not ctx.run_facts.get("ipv6", True):
            return Artifact(probe.name, probe.version, subject, error=Reason.NO_IPV6,
                            error_detail="no IPv6 on the scanning host")
        timeout = probe.timeout(self.settings)
        try:
            data = await asyncio.wait_for(probe.collect(ctx, site, address, prior), timeout)
            return Artifact(probe.name, probe.version, subject, data)
        except asyncio.TimeoutError:
            return Artifact(probe.name, probe.version, subject, error=Reason.TIMEOUT,
                            error_detail=f"no result within {timeout:g}s")
        except ProbeError as exc:
            return Artifact(probe.name, probe.version, subject, error=exc.reason, error_detail=exc.detail)
        except Exception as exc:
            return Artifact(probe.name, probe.version, subject, error=Reason.BUG,
                            error_detail=f"{exc!r}\n{traceback.format_exc(limit=4)}")
