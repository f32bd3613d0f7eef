"""The http probe and the HTTPS, certificate, header and security.txt checks against the running lab: every
expectation the lab's scenario states for these checks is met, and hostile servers cost no more than the
configured limits."""
import asyncio

import pytest

from checks.registry import select
from scanner import config
from govscan.model import Reason, Site
from scanner.probes.http import MAX_REDIRECTS
from scanner.runner import Runner, has_ipv6_connectivity
from lab import scenario as lab_scenario
from lab.verify import compare_results

pytestmark = pytest.mark.lab

CHECKS = ("web.https.available,web.https.redirect,web.https.hsts,web.cert.trust,web.cert.hostname,"
          "web.headers.*,web.security_txt")
REQUEST_BUDGET = 25  # HTTP requests per site over all its addresses (hostile redirect loops excepted)


@pytest.fixture(scope="module")
def scan(lab):
    """One run of these checks over every lab site that states an expectation for one of them."""
    settings = config.load(lab=True)
    checks = select(CHECKS)
    ids = {c.id for c in checks}
    scenario = lab_scenario.load(settings.extra["lab"]["scenario"])
    sites = [s for s in scenario.sites if ids & set(s.get("expect") or {}) or s.get("hostile") != "none"]
    runner = Runner(settings, checks)
    results = asyncio.run(runner.run([Site(f"https://{s['host']}/", s["host"]) for s in sites]))
    return {"settings": settings, "ids": ids, "sites": {s["host"]: s for s in sites},
            "ipv6": has_ipv6_connectivity(settings), "results": {r.site.host: r for r in results}}


def finding(scan, host, check_id):
    return next(f for f in scan["results"][host].findings if f.check == check_id)


def http_artifacts(scan, host):
    return [found["http"] for found in scan["results"][host].address_artifacts.values()]


def test_every_expectation_of_the_scenario_is_met(scan):
    outcome = compare_results(lab_scenario.load(scan["settings"].extra["lab"]["scenario"]),
                              scan["results"].values(), CHECKS, lang="en")
    assert outcome.compared and not outcome.not_implemented
    assert [(c.site, c.check, c.expected, c.got, c.summary) for c in outcome.mismatches] == []


def hosts_where(scan, key, *values):
    """The scanned sites whose scenario entry has one of these values for `key`."""
    return [host for host, site in scan["sites"].items() if site.get(key) in values]


def test_a_hanging_site_is_a_timeout_error_within_the_configured_time(scan):
    settings = scan["settings"]
    for host in hosts_where(scan, "hostile", "hang"):
        for artifact in http_artifacts(scan, host):
            assert artifact.error == Reason.TIMEOUT
        assert finding(scan, host, "web.https.available").reason == Reason.TIMEOUT
        assert scan["results"][host].seconds < settings.scan.probe_timeout + settings.scan.connect_timeout


def test_hostile_bodies_and_redirects_stop_at_the_limits(scan):
    limit = scan["settings"].scan.max_body_bytes
    for host in hosts_where(scan, "hostile", "huge_body", "gzip_bomb"):  # 1 GB body, 4 GB gzip bomb
        for artifact in http_artifacts(scan, host):
            page = artifact.data["https"]
            assert page["body_bytes"] <= limit and page["body_truncated"] is True
    for host in hosts_where(scan, "hostile", "redirect_loop"):
        for artifact in http_artifacts(scan, host):
            assert artifact.data["redirects"]["stopped"] == "too_many"
            assert len(artifact.data["redirects"]["hops"]) == MAX_REDIRECTS + 1


def test_the_served_chain_is_recorded_whether_or_not_it_is_trusted(scan):
    for host in hosts_where(scan, "cert", "self_signed"):
        for artifact in http_artifacts(scan, host):
            assert artifact.data["cert_verification"]["validated"] is False
            assert artifact.data["certificates"][0]["self_issued"] is True
    for host, site in scan["sites"].items():
        if (site.get("expect") or {}).get("web.cert.trust") == "pass":
            for artifact in http_artifacts(scan, host):  # leaf and intermediate
                assert len(artifact.data["certificates"]) >= 2
                assert artifact.data["cert_verification"]["validated"] is True


def test_ordinary_sites_stay_within_the_request_budget(scan):
    for host in hosts_where(scan, "hostile", "none", "js_loop", "js_dialogs"):
        requests = sum(a.data.get("requests", 0) for a in http_artifacts(scan, host) if a.ok)
        assert requests <= REQUEST_BUDGET, host


def test_each_address_is_judged_on_its_own(scan):
    dual = [host for host in hosts_where(scan, "stack", "dual")
            if scan["sites"][host].get("ipv6_unreachable") == "none" and scan["sites"][host].get("hostile") == "none"]
    assert dual
    for host in dual:
        addresses = set(scan["results"][host].address_artifacts)
        assert any(":" in a for a in addresses) and any("." in a for a in addresses)
        assert {a.address for a in finding(scan, host, "web.https.available").addresses} == addresses
