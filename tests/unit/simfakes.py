"""A scripted world for tests of schedules, durable runs and trends: a fake probe reads each site's statuses
from `World`, fake checks report them, and every scan is logged, so tests can change sites between nights
and count how often each site was scanned."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from checks.registry import REGISTRY, check
from scanner import config
from govscan.model import Status, Text, Verdict
from scanner.probes.base import Probe

SIM_CHECKS = ("test.sim.https", "test.sim.dnssec")


@dataclass
class World:
    """host -> check -> status; `scans` lists every host the probe collected for, in order."""

    statuses: dict[str, dict[str, str]] = field(default_factory=dict)
    default: str = "pass"
    scans: list[str] = field(default_factory=list)

    def status(self, host: str, check_id: str) -> str:
        return self.statuses.get(host, {}).get(check_id, self.default)


class SimProbe(Probe):
    name = "sim"

    def __init__(self, world: World):
        self.world = world

    async def collect(self, ctx, site, address, prior):
        self.world.scans.append(site.host)
        return {check_id: self.world.status(site.host, check_id) for check_id in SIM_CHECKS}


def _judge(check_id):
    def judge(facts):
        status = Status(facts["sim"][check_id])
        return Verdict(status, Text(f"{check_id}: {status}", f"{check_id}: {status}"), {"status": str(status)},
                       reason="timeout" if status == Status.ERROR else None)
    return judge


@pytest.fixture
def world(monkeypatch):
    """Register the sim checks and make the sim probe the only probe, for one test."""
    import scanner.runner

    state = World()
    monkeypatch.setattr(scanner.runner, "all_probes", lambda: {"sim": SimProbe(state)})
    for check_id in SIM_CHECKS:
        check(check_id, level="required", family="sim", requires=("sim",), norm="Testnorm",
              title=(check_id, check_id), advice=(f"Herstel {check_id}.", f"Fix {check_id}."))(_judge(check_id))
    yield state
    for check_id in SIM_CHECKS:
        REGISTRY.pop(check_id, None)


def settings(**scan):
    return config.load(overrides={"scan": {"probe_timeout": 5.0, **scan}, "dns": {"resolvers": ["127.0.0.1"]}})


def write_sites(path, rows):
    """A site list CSV from (organisation, type, code, host) rows."""
    lines = ["organisation,type,code,url"] + [f"{name},{kind},{code},https://{host}/" for name, kind, code, host in rows]
    path.write_text("\n".join(lines) + "\n")
    return path
