"""No check reaches an address it may not, whatever is typed, resolved, redirected to or fetched by a page
(issue 16, the SSRF guard; docs/ssrf.md).

The world of tests/integration/ssrf_world.py runs in network and mount namespaces of its own (`unshare --net
--mount`; root is needed, and Chromium): listeners that count every TCP connection and UDP datagram on 127.0.0.1, ::1,
10.0.0.1, 169.254.169.254, fd00::1 and the service's own address, on ports 25, 53, 80 and 443; a DNS server
that is the scanner's only resolver and the system's; an allowed HTTPS server. Typed addresses go through parse_request; the
sites are scanned as `govscan check` does it, the Runner with every check and the browser. The world runs
twice: with only the test's network allowed, where every listener must count zero and every case is an
error with reason `refused_address` and a detail naming the address and what it is; and with the internal
networks allowed, where the same scan must reach them (the counts are what tells), but for the metadata
service and the service's own address, which stay refused whatever the settings say.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.ssrf_world import OWN, SCRIPT_NAMES, SITE

ROOT = Path(__file__).resolve().parents[2]
PROBES_PER_ADDRESS = ("http", "tls")


def run_world(folder: Path, *options: str) -> dict:
    out = folder / "world.json"
    done = subprocess.run(["unshare", "--net", "--mount", sys.executable, "-m", "tests.integration.ssrf_world", str(out),
                           *options], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    return run_world(tmp_path_factory.mktemp("ssrf"))


@pytest.fixture(scope="module")
def world_allowing_internal(tmp_path_factory) -> dict:
    return run_world(tmp_path_factory.mktemp("ssrf-allowed"), "--allow-internal")


def test_not_one_connection_or_datagram_reaches_a_refused_address(world):
    reached = {listener: count for listener, count in world["listeners"].items() if count}
    assert reached == {} and len(world["listeners"]) == 6 * 4 * 2


@pytest.mark.parametrize("typed, reason", [
    ("127.0.0.1", "Addresses like this (loopback (127.0.0.0/8)) are never scanned: give the site's host name"),
    ("localhost", "localhost is not a fully qualified host name"),
    ("[::1]", "Addresses like this (loopback (::1/128)) are never scanned"),
    ("169.254.169.254", "Addresses like this (a cloud metadata address) are never scanned"),
    ("10.0.0.1", "Addresses like this (private use (10.0.0.0/8)) are never scanned"),
    ("http://10.0.0.1/", "10.0.0.1 is an IP address, not a host name"),
    ("https://[::ffff:127.0.0.1]/", "(loopback (127.0.0.0/8))"),
    ("2130706433", "so browsers read it as an IPv4 address"),
    ("user:pass@www.ssrf.test", "a URL with a user name or password is not scanned"),
    ("ftp://www.ssrf.test/", "unsupported scheme 'ftp'"),
    ("www.ssrf.test:8080", "port 8080: only the standard ports are scanned"),
])
def test_what_is_typed_is_refused_with_a_reason_before_any_dns_query(world, typed, reason):
    refusal = world["typed"][typed]
    assert reason in refusal["en"] and refusal["nl"] and refusal["nl"] != refusal["en"]
    assert world["queries_before_scan"] == 0


@pytest.mark.parametrize("host, addresses", [
    ("localhost", {"127.0.0.1": "loopback (127.0.0.0/8)", "::1": "loopback (::1/128)"}),
    ("private.ssrf.test", {"10.0.0.1": "private use (10.0.0.0/8)", "fd00::1": "unique local (ULA) (fc00::/7)"}),
    ("metadata.ssrf.test", {"169.254.169.254": "a cloud metadata address"}),
    ("own.ssrf.test", {OWN: "one of the scanner's own addresses"}),
])
def test_a_name_that_resolves_to_a_refused_address_is_refused_with_a_clear_reason(world, host, addresses):
    site = world["sites"][host]
    assert site["site"]["dns"]["data"]["refused"] == addresses
    for address, what in addresses.items():
        for probe in PROBES_PER_ADDRESS:
            artifact = site["addresses"][address][probe]
            assert artifact["error"] == "refused_address"
            assert artifact["detail"].startswith(f"{address} is {what}: not connected")
            final = what in ("a cloud metadata address", "one of the scanner's own addresses")
            assert artifact["detail"].endswith("whatever the settings say)" if final else "can allow a network)")
    first = next(iter(addresses))
    browser = site["site"]["browser"]
    assert browser["error"] == "refused_address"
    assert browser["detail"].startswith(f"{host}: {first} is {addresses[first]}: not connected")
    for check in ("web.https.available", "web.tls.version", "privacy.tracking_cookies", "a11y.wcag"):
        assert (site["findings"][check]["status"], site["findings"][check]["reason"]) == ("error", "refused_address")


def test_mail_servers_and_name_servers_at_refused_addresses_are_not_contacted(world):
    site = world["sites"]["private.ssrf.test"]["site"]
    [mx] = site["mail"]["data"]["mx_hosts"]
    assert {address: session["error"] for address, session in mx["addresses"].items()} == dict.fromkeys(
        ("10.0.0.1", "169.254.169.254", "fd00::1"), "refused_address")
    [ns] = site["nameservers"]["data"]["nameservers"]
    assert ns["ipv6_answers"]["::1"]["error"] == "refused_address"
    findings = world["sites"]["private.ssrf.test"]["findings"]
    for check in ("mail.starttls", "web.ipv6.nameservers"):
        assert (findings[check]["status"], findings[check]["reason"]) == ("error", "refused_address")


def test_every_name_is_resolved_by_govscans_resolver_and_nothing_resolves_behind_its_back(world):
    """The DNS server is the system's resolver too: a lookup by Chromium, a library or getaddrinfo would be a
    query govscan's resolver did not send."""
    assert sorted(map(tuple, world["dns_queries"])) == sorted(map(tuple, world["resolver_queries"]))
    assert ["rebind.ssrf.test.", "A"] in world["dns_queries"] and len(world["dns_queries"]) > 50


def test_a_name_that_rebinds_to_a_private_address_is_resolved_once_and_only_that_address_is_used(world):
    assert world["rebind_answers"] == [SITE], "resolved once per run: the later, private answer is never asked for"
    site = world["sites"]["rebind.ssrf.test"]
    assert site["site"]["dns"]["data"]["ipv4"] == [SITE] and list(site["addresses"]) == [SITE]
    assert site["addresses"][SITE]["http"]["data"]["https"]["status"] == 200
    assert site["site"]["browser"]["error"] is None
    # the browser fetched the page's own resources from the same host again, through the same answer
    assert {("rebind.ssrf.test", path) for path in ("/logo.png", "/pixel.png", "/api/nieuws", "/contact")} <= {
        tuple(hit) for hit in world["web_hits"]}
    assert world["listeners"]["10.0.0.1 tcp/443"] == 0 and "rebind.ssrf.test" not in world["proxy_refused"]


def test_a_redirect_to_a_private_address_is_refused(world):
    site = world["sites"]["redirect.ssrf.test"]
    http = site["addresses"][SITE]["http"]["data"]
    hop = http["redirects"]["hops"][-1]
    assert (http["redirects"]["stopped"], hop["url"], hop["error"]) == (
        "error", "https://private.ssrf.test/", "refused_address")
    assert hop["detail"].startswith("10.0.0.1 is private use (10.0.0.0/8): not connected")
    security_txt = http["security_txt"]["/.well-known/security.txt"]
    assert security_txt["error"] == "refused_address"
    assert security_txt["detail"].startswith("169.254.169.254 is a cloud metadata address: not connected")
    browser = site["site"]["browser"]
    assert browser["error"] == "refused_address"
    assert browser["detail"].startswith("private.ssrf.test: 10.0.0.1 is private use (10.0.0.0/8): not connected")


def test_a_page_whose_scripts_frames_and_images_fetch_private_addresses_reaches_none(world):
    browser = world["sites"]["script.ssrf.test"]["site"]["browser"]
    assert browser["error"] is None
    tried = {request["host"] for visit in browser["data"]["visits"] for request in visit["requests"]}
    literals = {"10.0.0.1": "private use", "fd00::1": "unique local", "169.254.169.254": "a cloud metadata",
                "::1": "loopback", "127.0.0.1": "loopback"}
    assert set(SCRIPT_NAMES) | set(literals) <= tried, "the page asks for every one of them"
    for name, address in SCRIPT_NAMES.items():
        reason, detail = world["proxy_refused"][name]
        assert reason == "refused_address" and detail.startswith(f"{name}: {address} is ")
    for address, what in literals.items():
        reason, detail = world["proxy_refused"][address]
        assert reason == "refused_address" and detail.startswith(f"{address} is {what}")


def test_with_the_internal_networks_allowed_the_same_scan_reaches_them_but_never_metadata_or_itself(
        world_allowing_internal):
    counts = world_allowing_internal["listeners"]
    for listener in ("127.0.0.1 tcp/443", "::1 tcp/443", "10.0.0.1 tcp/443", "fd00::1 tcp/443", "10.0.0.1 tcp/25",
                     "::1 udp/53"):
        assert counts[listener] > 0, f"{listener} is reached where the settings allow it"
    never = {listener: count for listener, count in counts.items()
             if listener.startswith(("169.254.169.254 ", f"{OWN} ")) and count}
    assert never == {}
    refused = world_allowing_internal["proxy_refused"]
    assert refused["metadata.ssrf.test"][1].startswith("metadata.ssrf.test: 169.254.169.254 is a cloud metadata")
    assert refused["own.ssrf.test"][1].startswith(f"own.ssrf.test: {OWN} is one of the scanner's own addresses")
