"""The tls probe against the lab's TLS profiles, over IPv4 and IPv6, cross-checked with an independent client.

For every TLS profile the running scenario uses, one site that serves it (dual stack when there is one,
ordinary otherwise: a valid certificate and no hostile behaviour) is evaluated on each of its listening
addresses; the accepted protocol versions and suites must equal what nmap's ssl-enum-ciphers finds there,
and the handshake count must stay within the budget. The verdicts are compared with the scenario's
expectations the way `govscan lab verify` does.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from govscan.model import Reason
from scanner.probes.base import ProbeError
from scanner.probes.tls import Endpoint, Evaluation
from lab.scenario import load
from lab.tls_profiles import PROFILES
from lab.verify import compare
from tests.unit.tls_servers import govscan_sets, nmap_enum

HANDSHAKE_BUDGET = 60
TLS_CHECKS = "web.tls.*,web.cert.public_key,web.cert.signature"

pytestmark = pytest.mark.lab


def sites_per_profile(status: dict) -> dict[str, tuple[str, list[str]]]:
    """Profile name -> (host, listening addresses) of one plain site serving it in the running lab, from
    `govscan lab status` (the `lab` fixture's value)."""
    scenario = load(status["scenario"])
    chosen: dict[str, tuple[str, list[str]]] = {}
    for site in scenario.sites:
        if site["hostile"] != "none" or site["cert"] != "valid":
            continue
        host = status["hosts"].get(site["host"], {})
        addresses = host.get("ipv4", []) + (host.get("ipv6", []) if host.get("ipv6_listening") else [])
        if not addresses:
            continue
        best = chosen.get(site["tls"])
        if best is None or len(addresses) > len(best[1]):
            chosen[site["tls"]] = (site["host"], addresses)
    return chosen


def check_address(profile: str, host: str, address: str, ca_bundle: Path) -> None:
    data = Evaluation(Endpoint(host, address, 5.0, time.monotonic() + 120), ca_bundle).run()
    where = (profile, host, address)
    assert govscan_sets(data) == nmap_enum(address, 443, servername=host), where
    assert data["handshakes"] < HANDSHAKE_BUDGET, where
    expected = {"TLSv1.0" if v == "TLSv1" else v for v in PROFILES[profile].protocols}
    assert {v for v, on in data["protocols"].items() if on} == expected, where
    if "TLSv1.2" in expected:
        # With one suite per key type (the compression profile) there is no order to enforce or to see.
        single = len(data["suites"]["TLSv1.2"]) == 1
        assert data["server_order"]["TLSv1.2"] == (None if single else PROFILES[profile].server_order), where


def test_every_lab_profile_matches_an_independent_client(lab):
    chosen = sites_per_profile(lab)
    assert set(chosen) == set(PROFILES), "the default scenario serves every TLS profile on a plain site"
    ca_bundle = Path(lab["ca_bundle"])
    for profile, (host, addresses) in sorted(chosen.items()):
        for address in addresses:
            check_address(profile, host, address, ca_bundle)
    assert any(":" in a for _, addresses in chosen.values() for a in addresses), "nothing measured over IPv6"


def test_scenario_expectations_for_the_tls_checks_are_met(lab):
    """`govscan lab verify` for the checks of this family: legacy, RSA key exchange, DHE, CBC-SHA256 and
    client-order profiles, RSA-2048 and SHA-1 certificates, each over IPv4 and IPv6."""
    outcome = compare(load(lab["scenario"]), TLS_CHECKS)
    assert outcome.compared and not outcome.not_implemented
    assert [(c.site, c.check, c.expected, c.got, c.summary) for c in outcome.mismatches] == []


def test_a_stalling_lab_server_is_a_timeout_on_both_addresses(lab):
    """The lab's `tls_stall` site accepts TCP and never answers the ClientHello: an error, not a fail."""
    scenario = load(lab["scenario"])
    host = next(s["host"] for s in scenario.sites if s["hostile"] == "tls_stall")
    addresses = lab["hosts"][host]["ipv4"] + lab["hosts"][host]["ipv6"]
    assert any(":" in a for a in addresses)
    for address in addresses:
        with pytest.raises(ProbeError) as caught:
            Evaluation(Endpoint(host, address, 2.0, time.monotonic() + 60), None).run()
        assert caught.value.reason == Reason.TIMEOUT, address
