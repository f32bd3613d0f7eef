"""A fake probe and checks for tests of the pipeline around the checks (storage, CLI, reports), so those
tests need no network: hosts starting with `bad` fail, `warn` warn, `hang` hang until the probe timeout."""
from __future__ import annotations

import asyncio

import pytest

from checks.registry import REGISTRY, check
from govscan.model import Status, Text, Verdict
from scanner.probes.base import Probe

ADDRESSES = ["198.51.100.1", "198.51.100.2"]


class FakeDns(Probe):
    name = "dns"

    async def collect(self, ctx, site, address, prior):
        return {"host": site.host, "ipv4": ADDRESSES, "ipv6": [], "rcode": {"A": "NOERROR"}, "validated": True}


class FakeHttp(Probe):
    name = "fake_http"
    per_address = True

    async def collect(self, ctx, site, address, prior):
        if site.host.startswith("hang"):
            await asyncio.sleep(3600)
        bad = site.host.startswith("bad") and address == ADDRESSES[1]
        return {"hsts": "max-age=60" if bad else "max-age=31536000", "server": site.host}


def fake_hsts(facts):
    value = facts["fake_http"]["hsts"]
    if facts.site.host.startswith("warn"):
        return Verdict(Status.WARN, Text("Bijna goed.", "Nearly right."), {"header": value})
    if value == "max-age=60":
        return Verdict(Status.FAIL, Text("HSTS te kort.", "HSTS too short."), {"header": value})
    return Verdict(Status.PASS, Text("HSTS goed.", "HSTS fine."), {"header": value})


def fake_site(facts):
    return Verdict(Status.INFO, Text("Een feit.", "A fact."), {"server": facts.site.host})


FAKE_CHECKS = {
    "test.fake.hsts": dict(level="required", family="fakehttps", requires=("fake_http",), per_address=True,
                           norm="Testnorm HSTS", title=("Nep-HSTS", "Fake HSTS"),
                           advice=("Zet HSTS aan.", "Turn HSTS on."), fn=fake_hsts),
    "test.fake.site": dict(level="informational", family="fakeinfo", requires=("dns",), norm="Geen",
                           title=("Nep-info", "Fake info"), advice=("Niets.", "Nothing."), fn=fake_site),
}


def install(monkeypatch) -> None:
    """Register the fake checks and replace the probes by the fake ones."""
    import scanner.runner

    monkeypatch.setattr(scanner.runner, "all_probes", lambda: {"dns": FakeDns(), "fake_http": FakeHttp()})
    for check_id, spec in FAKE_CHECKS.items():
        spec = dict(spec)
        check(check_id, **{k: v for k, v in spec.items() if k != "fn"})(spec["fn"])


@pytest.fixture
def fake_checks(monkeypatch):
    """The fake checks and probes, for one test."""
    install(monkeypatch)
    yield sorted(FAKE_CHECKS)
    for check_id in FAKE_CHECKS:
        REGISTRY.pop(check_id, None)


if __name__ == "__main__":  # `python -m tests.unit.fakes ARGS`: the govscan CLI with the fakes (for subprocess tests)
    import sys

    from scanner.cli import main

    install(pytest.MonkeyPatch())
    sys.exit(main(sys.argv[1:]))
