"""The DNS probes and the DNSSEC, DANE, CAA, IPv6 and .gov.nl checks against the running lab.

Cross-checked with independent clients, not with govscan itself: every site zone's DNSSEC state equals
what `delv` concludes from the lab's trust anchor, and every DANE verdict equals `openssl s_client` with the
same TLSA record against the same address. The scanner without IPv6 runs inside the lab's `gslab-nov6`
namespace.
"""
import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from checks.registry import select
from scanner import config
from govscan.model import Site, Status
from scanner.runner import Runner, has_ipv6_connectivity
from lab import scenario as lab_scenario
from lab.verify import compare_results

pytestmark = pytest.mark.lab

CHECKS = "dns.dnssec,web.dane,web.caa,web.ipv6.*,domain.gov_nl"
GOVSCAN = str(Path(sys.executable).parent / "govscan")
# DNS queries a site may send on average for DNSSEC, CAA and TLSA (its zone's SOA, DS and DNSKEY, CAA
# climbing, TLSA) when the chain from the root is fetched once per run; without the cache it would be ~20.
QUERIES_PER_SITE = 10


@pytest.fixture(scope="module")
def scan(lab):
    """One run of these checks over every site of the lab's scenario."""
    settings = config.load(lab=True)
    checks = select(CHECKS)
    scenario = lab_scenario.load(settings.extra["lab"]["scenario"])
    results = asyncio.run(Runner(settings, checks).run([Site(f"https://{s['host']}/", s["host"])
                                                        for s in scenario.sites]))
    return {"ids": {c.id for c in checks}, "sites": {s["host"]: s for s in scenario.sites},
            "ipv6": has_ipv6_connectivity(settings), "status": lab,
            "results": {r.site.host: r for r in results}}


def finding(scan, host, check_id):
    return next(f for f in scan["results"][host].findings if f.check == check_id)


def test_every_expectation_of_the_scenario_is_met(scan):
    outcome = compare_results(lab_scenario.load(scan["status"]["scenario"]),
                              scan["results"].values(), CHECKS, lang="en")
    assert outcome.compared and not outcome.not_implemented
    assert [(c.site, c.check, c.expected, c.got, c.summary) for c in outcome.mismatches] == []


def delv_state(status: dict, host: str, rdtype: str) -> str:
    """secure, insecure or bogus as delv validates it itself from the lab's trust anchor."""
    run = subprocess.run(["delv", f"@{status['resolver']['ipv4']}", "-a", status["delv_anchor"], "+root",
                          host, rdtype], capture_output=True, text=True, timeout=60)
    out = run.stdout + run.stderr
    if "fully validated" in out:
        return "secure"
    if "unsigned answer" in out:
        return "insecure"
    assert "timed out" not in out, out
    assert "resolution failed" in out or "validation failed" in out, out
    return "bogus"


def test_dnssec_state_equals_delv_for_every_zone(scan):
    seen = set()
    for host, site in scan["sites"].items():
        found = finding(scan, host, "dns.dnssec")
        assert found.status != Status.ERROR, f"{host}: {found.summary.en}"
        state = found.details["state"]
        rdtype = "AAAA" if site.get("stack") == "ipv6" else "A"
        assert state == delv_state(scan["status"], host, rdtype), f"{host}: govscan says {state}"
        if state == "secure":  # rsasha1 and sha1_ds validate but warn (RFC 8624)
            assert found.status == (Status.WARN if site.get("dnssec") in ("rsasha1", "sha1_ds") else Status.PASS)
        else:
            assert found.status == Status.FAIL and found.details["problem"]["zone"] == found.details["zone"]
        seen.add(site.get("dnssec", "secure"))
    assert {"secure", "insecure", "bogus_ds", "bogus_expired", "bogus_missing_rrsig"} <= seen


def openssl_dane(address: str, host: str, record: str) -> bool:
    """Whether openssl's own DANE verification accepts what `address` serves for `host` with this TLSA."""
    target = f"[{address}]:443" if ":" in address else f"{address}:443"
    run = subprocess.run(["openssl", "s_client", "-connect", target, "-servername", host,
                          "-dane_tlsa_domain", host, "-dane_tlsa_rrdata", record, "-verify_return_error",
                          "-brief"], input="", capture_output=True, text=True, timeout=30)
    return run.returncode == 0 and "Verification: OK" in run.stdout + run.stderr


def test_dane_verdict_equals_openssl_for_every_tlsa(scan):
    compared = 0
    for host in scan["sites"]:
        dane = finding(scan, host, "web.dane")
        tlsa = scan["results"][host].site_artifacts["tlsa"].data
        if not tlsa.get("records") or tlsa["state"] != "secure":
            continue
        for result in dane.addresses:
            if result.status == Status.ERROR:  # not measured (unreachable address): nothing to compare
                continue
            accepted = any(openssl_dane(result.address, host, f"{r['usage']} {r['selector']} {r['mtype']} {r['data']}")
                           for r in tlsa["records"])
            assert (result.status == Status.PASS) == accepted, f"{host} {result.address}: govscan {result.status}"
            compared += 1
    assert compared >= 2  # a matching and a mismatching TLSA in the default scenario


def test_dns_queries_per_site_are_bounded_and_the_root_is_fetched_once(scan):
    sent = {host: sum(a.data["queries"]["sent"] for name, a in result.site_artifacts.items()
                      if name in ("dnssec", "caa", "tlsa") and a.ok)
            for host, result in scan["results"].items()}
    assert sum(sent.values()) <= QUERIES_PER_SITE * len(sent), f"queries per site: {sent}"
    assert max(sent.values()) <= 2 * QUERIES_PER_SITE, f"queries per site: {sent}"


def test_bogus_zones_say_which_cut_and_what(scan):
    codes = {"bogus_ds": "ds_matches_no_dnskey", "bogus_expired": "signature_expired",
             "bogus_missing_rrsig": "rrsig_missing"}
    for host, site in scan["sites"].items():
        if site.get("dnssec") in codes:
            problem = finding(scan, host, "dns.dnssec").details["problem"]
            assert problem["code"] == codes[site["dnssec"]], f"{host}: {problem}"


def test_unreachable_ipv6_addresses_are_listed(scan):
    for host, site in scan["sites"].items():
        if site.get("ipv6_unreachable", "none") != "none" and scan["ipv6"]:
            found = finding(scan, host, "web.ipv6.reachable")
            assert found.status == Status.FAIL and found.details["unreachable"], host


def test_scanner_without_ipv6_says_error_never_fail(lab, tmp_path):
    """`govscan --lab check` run from the namespace that has no IPv6 route."""
    scenario = lab_scenario.load(config.load(lab=True).extra["lab"]["scenario"])
    sites = [s for s in scenario.sites if s.get("expect_without_ipv6")]
    assert sites
    for site in sites:
        run = subprocess.run([*lab["nov6_exec"], GOVSCAN, "--lab", "--db", f"sqlite:///{tmp_path}/nov6.db",
                              "check", site["host"], "--checks", CHECKS, "--format", "json"],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        findings = {f["check"]: f for f in json.loads(run.stdout)["findings"]}
        for check_id, expected in site["expect_without_ipv6"].items():
            assert findings[check_id]["status"] == expected, f"{site['host']} {check_id}: {findings[check_id]}"
        for check_id in ("web.ipv6.reachable", "web.ipv6.same_content"):
            if findings[check_id]["status"] == "error":
                assert findings[check_id]["reason"] == "no_ipv6"
        assert findings["dns.dnssec"]["status"] != "error"  # the resolver is still reachable over IPv4


def test_a_resolver_that_does_not_validate_gives_an_error_not_insecure(lab):
    """The lab's plain (non-validating) resolver never sets AD: govscan must not call signed zones insecure."""
    settings = config.load(lab=True, overrides={"dns": {"resolvers": [lab["plain_resolver"]["ipv4"]]}})
    site = next(s for s in lab_scenario.load(settings.extra["lab"]["scenario"]).sites
                if s.get("dnssec", "secure") == "secure")
    result = asyncio.run(Runner(settings, select("dns.dnssec")).run([Site(f"https://{site['host']}/", site["host"])]))
    found = result[0].findings[0]
    assert found.status == Status.ERROR and found.reason == "dns" and "does not validate" in found.summary.en
