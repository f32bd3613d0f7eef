"""The runner isolates failures: a hanging or crashing probe becomes an error finding, the run finishes."""
import asyncio
import time

import pytest

from checks.registry import Check
from scanner import config
from govscan.model import Site, Status, Text, Verdict
from scanner.probes.base import Probe, ProbeError
from scanner.runner import Runner


class FakeDns(Probe):
    name = "dns"

    async def collect(self, ctx, site, address, prior):
        if site.host.startswith("nxdomain"):
            raise ProbeError("dns", f"{site.host} has no A or AAAA record")
        return {"ipv4": ["198.51.100.1"], "ipv6": ["2001:db8::1"]}


class FakeHttp(Probe):
    name = "http"
    per_address = True

    async def collect(self, ctx, site, address, prior):
        if site.host.startswith("hang"):
            await asyncio.sleep(3600)
        if site.host.startswith("crash"):
            raise RuntimeError("probe bug")
        if site.host.startswith("v6broken") and ":" in address:
            raise ProbeError("connect", "connection refused")
        return {"ok": True}


def judge(facts):
    return Verdict(Status.PASS, Text("goed", "good"))


CHECK = Check(id="test.http", version=1, level="required", family="test", requires=("http",), per_address=True,
              norm="test", title=Text("t", "t"), advice=Text("a", "a"), evaluate=judge)


@pytest.fixture
def runner_factory(monkeypatch):
    monkeypatch.setattr("scanner.runner.all_probes", lambda: {"dns": FakeDns(), "http": FakeHttp()})

    def make(run_facts=None, **scan):
        settings = config.load(overrides={"scan": {"probe_timeout": 0.5, **scan}, "dns": {"resolvers": ["127.0.0.1"]}})
        return Runner(settings, [CHECK], run_facts=run_facts if run_facts is not None else {"ipv6": True})

    return make


def by_host(results):
    return {r.site.host: r.findings[0] for r in results}


def test_hanging_sites_time_out_and_the_others_finish(runner_factory):
    sites = [Site(f"https://{name}{i}.nl/", f"{name}{i}.nl") for i in range(200) for name in ("ok",)]
    sites += [Site(f"https://hang{i}.nl/", f"hang{i}.nl") for i in range(10)]
    started = time.monotonic()
    results = asyncio.run(runner_factory(sites_in_flight=50).run(sites))
    elapsed = time.monotonic() - started
    findings = by_host(results)
    assert len(findings) == 210
    assert all(findings[f"ok{i}.nl"].status == Status.PASS for i in range(200))
    for i in range(10):
        assert findings[f"hang{i}.nl"].status == Status.ERROR
        assert findings[f"hang{i}.nl"].reason == "timeout"
    assert elapsed < 30  # bounded by the probe timeout, not by the hang


def test_a_crashing_probe_is_an_error_with_reason_bug(runner_factory):
    finding = by_host(asyncio.run(runner_factory().run([Site("https://crash.nl/", "crash.nl")])))["crash.nl"]
    assert finding.status == Status.ERROR and finding.reason == "bug"


def test_dns_failure_gates_per_address_checks(runner_factory):
    finding = by_host(asyncio.run(runner_factory().run([Site("https://nxdomain.nl/", "nxdomain.nl")])))["nxdomain.nl"]
    assert finding.status == Status.ERROR and finding.reason == "dns"


def test_site_status_is_the_worst_address(runner_factory):
    finding = by_host(asyncio.run(runner_factory().run([Site("https://v6broken.nl/", "v6broken.nl")])))["v6broken.nl"]
    assert finding.status == Status.ERROR and finding.reason == "connect"
    by_address = {a.address: a.status for a in finding.addresses}
    assert by_address == {"198.51.100.1": Status.PASS, "2001:db8::1": Status.ERROR}


def test_scanner_without_ipv6_reports_no_ipv6_not_fail(runner_factory):
    result = asyncio.run(runner_factory(run_facts={"ipv6": False}).run([Site("https://ok.nl/", "ok.nl")]))
    finding = result[0].findings[0]
    v6 = next(a for a in finding.addresses if a.address == "2001:db8::1")
    assert v6.status == Status.ERROR and v6.reason == "no_ipv6"
