"""What every probe is: a named collector of raw facts, for a site or for one IP address of it.

Probes judge nothing. They return plain JSON-serialisable data, or raise `ProbeError` with a reason when
the thing could not be measured. The runner adds the timeout and turns any failure into an error artifact.
"""
from __future__ import annotations

import abc
import asyncio
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from govscan.model import Artifact, Site

if TYPE_CHECKING:
    from scanner.addresses import AddressPolicy
    from scanner.config import Settings
    from scanner.resolver import Resolver


class ProbeError(Exception):
    """The probe could not measure: `reason` is one of govscan.model.Reason."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class Counters:
    """Costs of a run, reported in artifacts and benchmarks."""

    values: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, name: str, n: int = 1) -> None:
        self.values[name] += n


@dataclass
class ProbeContext:
    """Run-wide services shared by every probe: settings, the resolver, limits and a thread pool."""

    settings: "Settings"
    resolver: "Resolver"
    run_facts: dict[str, Any] = field(default_factory=dict)
    executor: ThreadPoolExecutor | None = None
    counters: Counters = field(default_factory=Counters)
    _limits: dict[str, Any] = field(default_factory=dict)

    def limit(self, key: str) -> asyncio.Semaphore:
        """The connection limit for one host or IP address: this process's own, or, with `[workers]
        limiter_url`, the one every worker shares (scanner/limits.py; it acquires and releases alike)."""
        if key not in self._limits:
            if self.settings.workers.limiter_url:
                from scanner.limits import shared_limiter  # it needs Redis and this module's ProbeError

                self._limits[key] = shared_limiter(self.settings).limit(key)
            else:
                self._limits[key] = asyncio.Semaphore(self.settings.scan.connections_per_host)
        return self._limits[key]

    @property
    def address_policy(self) -> "AddressPolicy":
        """Which addresses a probe may connect to (scanner/addresses.py, `[scan] allowed_networks`)."""
        return self.settings.scan.address_policy

    async def in_thread(self, fn, *args):
        """Run a blocking library call (sslyze) in the bounded pool."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)


class Probe(abc.ABC):
    """Base class: set `name`, `version`, `per_address` and implement `collect`."""

    name: ClassVar[str]
    version: ClassVar[int] = 1
    per_address: ClassVar[bool] = False
    # Site-level probes whose artifacts this one reads in `prior`: it is collected after them, when the run
    # collects them at all (the RPKI probe looks up the name servers' and MX hosts' addresses).
    after: ClassVar[tuple[str, ...]] = ()

    def timeout(self, settings: "Settings") -> float:
        return settings.scan.probe_timeout

    async def setup(self, ctx: ProbeContext) -> None:
        """Once per run, before the first site (start a browser, load tables)."""

    async def teardown(self, ctx: ProbeContext) -> None:
        """Once per run, after the last site."""

    @abc.abstractmethod
    async def collect(self, ctx: ProbeContext, site: Site, address: str | None,
                      prior: dict[str, Artifact]) -> dict[str, Any]:
        """Collect facts. `address` is set for per-address probes; `prior` holds the site's `dns` artifact,
        and for a probe with `after` those probes' artifacts too."""
