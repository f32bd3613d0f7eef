"""DNSSEC validation bounded by the scanner, not by the zone (issue 15; KeyTrap, CVE-2023-50387).

A KeyTrap zone (lab/dns.py `keytrap`: 80 RSA keys sharing one key tag, with exponents as long as their
moduli, and 150 RRSIGs with that tag on the host's records) cost 71 s of CPU on the event loop before the
bounds. Here it goes through the real probe, the runner and the check; the bounds are also tested one by one
on hand-made RRsets (`Validator`)."""
from __future__ import annotations

import asyncio
import threading
import time

import dns.dnssec
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.RRSIG
import dns.rrset
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from checks.registry import all_checks, evaluate
from govscan.model import Artifact, Reason, Site, Status
from lab.dns import KEYTRAP_KEYS, KEYTRAP_SIGNATURES, KEYTRAP_TAG, colliding_rsa_keys
from scanner import config, runner
from scanner.probes.base import ProbeError
from scanner.probes.dnssec import DnssecProbe, Validator
from tests.unit.fakedns import BOGUS_KEYTRAP, SECURE, Tree, TreeResolver, ZoneSpec, context

KEYTRAP_SITE = Site("https://www.noordstad.nl/", "www.noordstad.nl")
PLAIN_SITE = Site("https://www.zuiderveen.nl/", "www.zuiderveen.nl")
OWNER = dns.name.from_text("www.noordstad.nl.")
NOW = time.time()


def tree() -> Tree:
    return Tree([
        ZoneSpec(".", []), ZoneSpec("nl.", []),
        ZoneSpec("noordstad.nl.", ["www 3600 IN A 198.51.100.10", "www 3600 IN AAAA 2001:db8::10"], mode=BOGUS_KEYTRAP),
        ZoneSpec("zuiderveen.nl.", ["www 3600 IN A 198.51.100.11"], mode=SECURE),
    ])


def test_the_keytrap_zone_costs_under_a_second_of_cpu_and_the_run_goes_on(tmp_path, monkeypatch):
    """Both sites through the runner: the KeyTrap site fails dns.dnssec naming the bounds it hit, the next
    site passes, and the whole run (both sites, every thread of the process) stays under 1 s of CPU."""
    keytrap_tree = tree()
    ctx = context(keytrap_tree, tmp_path)
    monkeypatch.setattr(runner, "Resolver", lambda settings: TreeResolver(keytrap_tree, settings))
    scan = runner.Runner(ctx.settings, [all_checks()["dns.dnssec"]], run_facts={"ipv6": True})
    started = time.process_time()
    results = asyncio.run(scan.run([KEYTRAP_SITE, PLAIN_SITE]))
    cpu = time.process_time() - started
    assert cpu < 1.0, f"{cpu:.2f} s of CPU"
    by_host = {result.site.host: result for result in results}
    [keytrap] = by_host[KEYTRAP_SITE.host].findings
    assert keytrap.status == Status.FAIL
    problem = keytrap.details["problem"]
    assert problem["code"] == "validation_limit" and problem["rrset"] == "www.noordstad.nl A"
    assert {(limit["setting"], limit["found"]) for limit in problem["limits"]} == {
        ("dns.max_signatures_per_rrset", KEYTRAP_SIGNATURES), ("dns.max_keys_per_key_tag", KEYTRAP_KEYS)}
    assert "dns.max_signatures_per_rrset = 8" in keytrap.summary.en
    artifact = by_host[KEYTRAP_SITE.host].site_artifacts["dnssec"]
    assert artifact.data["verifications"] <= ctx.settings.dns.max_verifications
    [plain] = by_host[PLAIN_SITE.host].findings
    assert plain.status == Status.PASS


def test_validation_runs_off_the_event_loop(tmp_path, monkeypatch):
    threads = set()
    check = Validator.signature_problem

    def recording(self, *args):
        threads.add(threading.current_thread())
        return check(self, *args)
    monkeypatch.setattr(Validator, "signature_problem", recording)
    asyncio.run(DnssecProbe().collect(context(tree(), tmp_path), KEYTRAP_SITE, None, {}))
    assert threads and threading.main_thread() not in threads


def test_validation_stops_at_the_probes_deadline(tmp_path):
    ctx = context(tree(), tmp_path)
    ctx.settings.scan.probe_timeout = 0.0  # the deadline has passed before the first verification
    with pytest.raises(ProbeError) as raised:
        asyncio.run(DnssecProbe().collect(ctx, PLAIN_SITE, None, {}))
    assert raised.value.reason == Reason.TIMEOUT and "deadline" in raised.value.detail


def test_a_limit_with_a_resolver_that_says_secure_is_an_error_not_a_verdict(tmp_path, monkeypatch):
    """The bounds explain a bogus zone; they cannot tell a secure one from a broken one."""
    keytrap_tree = tree()
    monkeypatch.setattr(keytrap_tree, "state", lambda zone: SECURE)
    with pytest.raises(ProbeError) as raised:
        asyncio.run(DnssecProbe().collect(context(keytrap_tree, tmp_path), KEYTRAP_SITE, None, {}))
    assert raised.value.reason == Reason.DNS and "dns.max_keys_per_key_tag = 4" in raised.value.detail


def test_the_check_names_a_refused_key():
    problem = {"code": "key_refused", "zone": "noordstad.nl", "rrset": "www.noordstad.nl A", "key_tag": 7,
               "detail": "RSA exponent of 2048 bits (dns.max_rsa_exponent_bits = 32)"}
    facts = {"state": "bogus", "zone": "noordstad.nl", "problem": problem, "chain": [], "ede": []}
    verdict = evaluate(all_checks()["dns.dnssec"], KEYTRAP_SITE,
                       {"dnssec": Artifact("dnssec", 1, KEYTRAP_SITE.host, facts)}, {})
    assert verdict.status == Status.FAIL and "dns.max_rsa_exponent_bits = 32" in verdict.summary.en


# --- the bounds one by one, on hand-made RRsets --------------------------------------------------------------

def settings(**dns_settings) -> config.DnsSettings:
    return config.load(overrides={"dns": dns_settings}).dns


def a_rrset() -> dns.rrset.RRset:
    return dns.rrset.from_text(OWNER, 300, "IN", "A", "198.51.100.10")


def garbage_rrsigs(count: int, key_tag: int) -> dns.rrset.RRset:
    """RRSIGs over the A record with this key tag that verify with no key."""
    return dns.rrset.from_rdata_list(OWNER, 300, [dns.rdtypes.ANY.RRSIG.RRSIG(
        dns.rdataclass.IN, dns.rdatatype.RRSIG, dns.rdatatype.A, dns.dnssec.Algorithm.RSASHA256, 3, 300,
        int(NOW) + 86400, int(NOW) - 3600, key_tag, dns.name.from_text("noordstad.nl."),
        i.to_bytes(2, "big") * 128) for i in range(count)])


def keyset(keys) -> dict:
    return {dns.name.from_text("noordstad.nl."): dns.rrset.from_rdata_list("noordstad.nl.", 300, keys)}


def signed_with_colliding_keys(colliding: int):
    """An A record signed by a real RSA key, and `colliding` keys with the same key tag listed before it."""
    private = rsa.generate_private_key(65537, 2048)
    real = dns.dnssec.make_dnskey(private.public_key(), dns.dnssec.Algorithm.RSASHA256, flags=256)
    rrsig = dns.dnssec.sign(a_rrset(), private, dns.name.from_text("noordstad.nl."), real,
                            inception=NOW - 3600, expiration=NOW + 86400)
    fakes = colliding_rsa_keys(dns.dnssec.key_id(real), colliding, exponent=65537)
    return dns.rrset.from_rdata(OWNER, 300, rrsig), keyset([*fakes, real])


@pytest.mark.parametrize("keys_per_tag, code", [(4, None), (3, "validation_limit")])
def test_colliding_keys_up_to_the_bound_are_tried(keys_per_tag, code):
    """Three fake keys share the real key's tag: it is found when four keys may be tried, not with three."""
    rrsig, keys = signed_with_colliding_keys(3)
    validator = Validator(settings(max_keys_per_key_tag=keys_per_tag), time.monotonic() + 60)
    problem = validator.signature_problem(a_rrset(), rrsig, keys, NOW)
    assert (problem or {}).get("code") == code
    if code:
        assert problem["limits"] == [{"setting": "dns.max_keys_per_key_tag", "limit": 3, "found": 4,
                                      "key_tag": rrsig[0].key_tag}]


def test_the_verification_budget_holds_across_rrsets():
    """Cheap keys (exponent 65537) are tried, but never more than max_verifications in all."""
    keys = keyset(colliding_rsa_keys(KEYTRAP_TAG, 10, exponent=65537))
    validator = Validator(settings(max_verifications=10), time.monotonic() + 60)
    problems = [validator.signature_problem(a_rrset(), garbage_rrsigs(20, KEYTRAP_TAG), keys, NOW) for _ in range(3)]
    assert validator.verifications == 10
    assert {"setting": "dns.max_verifications", "limit": 10, "found": 10} in problems[-1]["limits"]
    assert {"setting": "dns.max_signatures_per_rrset", "limit": 8, "found": 20} in problems[0]["limits"]


@pytest.mark.parametrize("exponent, refused", [(65537, False), ((1 << 40) + 1, True)])
def test_rsa_exponents_above_two_to_the_32_are_refused(exponent, refused):
    keys = keyset(colliding_rsa_keys(KEYTRAP_TAG, 1, exponent=exponent))
    validator = Validator(settings(), time.monotonic() + 60)
    problem = validator.signature_problem(a_rrset(), garbage_rrsigs(1, KEYTRAP_TAG), keys, NOW)
    assert problem["code"] == ("key_refused" if refused else "signature_invalid")
    assert validator.verifications == (0 if refused else 1)
    if refused:
        assert problem["detail"] == "RSA exponent of 41 bits (dns.max_rsa_exponent_bits = 32)"


@pytest.mark.parametrize("bits, refused", [(4096, False), (4104, True)])
def test_rsa_moduli_above_4096_bits_are_refused(bits, refused):
    keys = keyset(colliding_rsa_keys(KEYTRAP_TAG, 1, bits=bits, exponent=65537))
    validator = Validator(settings(), time.monotonic() + 60)
    problem = validator.signature_problem(a_rrset(), garbage_rrsigs(1, KEYTRAP_TAG), keys, NOW)
    assert problem["code"] == ("key_refused" if refused else "signature_invalid")
    if refused:
        assert problem["detail"] == "RSA modulus of 4104 bits (dns.max_rsa_modulus_bits = 4096)"


def test_a_response_with_too_many_records_is_not_looked_at():
    validator = Validator(settings(max_answer_records=100), time.monotonic() + 60)
    response = dns.message.make_response(dns.message.make_query(OWNER, "A"))
    response.answer += [a_rrset(), garbage_rrsigs(100, KEYTRAP_TAG)]
    assert validator.too_large(response) == {"setting": "dns.max_answer_records", "limit": 100, "found": 101,
                                              "response": "www.noordstad.nl A"}
