"""RFC 8624 in dns.dnssec and mail.dnssec (config/policy/dnssec.toml): zones signed with dnspython
(tests/unit/fakedns.py) with each kind of algorithm and DS digest, probed and judged; what dnspython cannot sign
(ECC-GOST, GOST digests) on hand-built facts. A passing and a failing (or warning) case for every rule."""
from __future__ import annotations

import asyncio

import pytest
from dns.dnssec import Algorithm, DSDigest

from checks.registry import all_checks, evaluate
from govscan.model import Artifact, Site, Status
from scanner.probes.dnssec import DnssecProbe
from tests.unit.fakedns import INSECURE, SECURE, Tree, ZoneSpec, context

SITE = Site("https://www.noordstad.nl/", "www.noordstad.nl")


def tree(*algorithms: int, ds_digest: int = DSDigest.SHA256) -> Tree:
    """root and nl as usual; noordstad.nl signed with a KSK and a ZSK of each algorithm, its DS with `ds_digest`."""
    return Tree([ZoneSpec(".", []), ZoneSpec("nl.", []),
                 ZoneSpec("noordstad.nl.", ["www 3600 IN A 198.51.100.10"], algorithms=algorithms,
                          ds_digest=ds_digest)])


def probed(zones: Tree, tmp_path) -> dict:
    return asyncio.run(DnssecProbe().collect(context(zones, tmp_path), SITE, None, {}))


def judge(check_id: str, probe: str, data: dict):
    return evaluate(all_checks()[check_id], SITE, {probe: Artifact(probe, 1, SITE.host, data)}, {}, {"ipv6": True})


def dnssec_finding(zones: Tree, tmp_path):
    return judge("dns.dnssec", "dnssec", probed(zones, tmp_path))


@pytest.mark.parametrize("algorithm", [Algorithm.ECDSAP256SHA256, Algorithm.RSASHA256])
def test_a_zone_signed_with_a_must_algorithm_passes(tmp_path, algorithm):
    finding = dnssec_finding(tree(algorithm), tmp_path)
    assert finding.status == Status.PASS and "algorithms" not in finding.details


@pytest.mark.parametrize("algorithm, name", [(Algorithm.RSASHA1, "RSASHA1"),
                                             (Algorithm.RSASHA1NSEC3SHA1, "RSASHA1-NSEC3-SHA1"),
                                             (Algorithm.RSASHA512, "RSASHA512")])
def test_a_not_recommended_algorithm_warns_with_the_zone_cut(tmp_path, algorithm, name):
    finding = dnssec_finding(tree(algorithm), tmp_path)
    assert finding.status == Status.WARN
    assert (f"zone cut nl -> noordstad.nl: noordstad.nl is signed with {name}, which RFC 8624 advises against "
            "(RFC 8624: signing NOT RECOMMENDED, validation MUST)") in finding.summary.en
    assert finding.details["algorithms"] == [{"zone": "noordstad.nl", "parent": "nl", "table": "algorithms",
                                              "number": int(algorithm), "name": name, "use": "NOT RECOMMENDED",
                                              "validate": "MUST"}]
    assert finding.details["algorithm_policy"] == "2019.6"


@pytest.mark.parametrize("algorithm, name", [(Algorithm.RSAMD5, "RSAMD5"), (Algorithm.DSA, "DSA"),
                                             (Algorithm.DSANSEC3SHA1, "DSA-NSEC3-SHA1")])
def test_a_zone_signed_only_with_a_forbidden_algorithm_fails_naming_it(tmp_path, monkeypatch, algorithm, name):
    zones = tree(algorithm)
    monkeypatch.setattr(zones, "state", lambda zone: INSECURE)  # validators must not validate it: unsigned
    facts = probed(zones, tmp_path)
    assert facts["problem"]["code"] == "signature_invalid"  # what the chain walk alone would say
    finding = judge("dns.dnssec", "dnssec", facts)
    assert finding.status == Status.FAIL
    assert finding.summary.en == (f"The zone noordstad.nl is not secured with DNSSEC: zone cut nl -> noordstad.nl: "
                                  f"noordstad.nl is signed with {name}, which RFC 8624 forbids (RFC 8624: signing "
                                  "MUST NOT, validation MUST NOT).")
    assert "does not verify" not in finding.summary.en
    assert finding.details["problem"]["zone"] == "noordstad.nl"  # the zone cut stays in the details


def test_a_forbidden_algorithm_next_to_an_acceptable_one_warns(tmp_path):
    finding = dnssec_finding(tree(Algorithm.ECDSAP256SHA256, Algorithm.RSAMD5), tmp_path)
    assert finding.status == Status.WARN
    assert "noordstad.nl is also signed with RSAMD5, which RFC 8624 forbids" in finding.summary.en


def test_a_sha1_ds_digest_warns(tmp_path):
    finding = dnssec_finding(tree(Algorithm.ECDSAP256SHA256, ds_digest=DSDigest.SHA1), tmp_path)
    assert finding.status == Status.WARN
    assert ("zone cut nl -> noordstad.nl: the DS records of noordstad.nl in nl use SHA-1, which RFC 8624 forbids "
            "(RFC 8624: delegation MUST NOT, validation MUST)") in finding.summary.en


def test_a_sha384_ds_digest_passes(tmp_path):
    assert dnssec_finding(tree(Algorithm.ECDSAP256SHA256, ds_digest=DSDigest.SHA384), tmp_path).status == Status.PASS


# --- what dnspython cannot sign, on hand-built facts ---------------------------------------------------------

def facts(state: str, algorithm: int, ds: str = "1234 13 2 " + "ab" * 32, problem=None) -> dict:
    """A chain root -> nl -> noordstad.nl whose last zone uses `algorithm` and whose DS record is `ds`."""
    def step(zone, algorithm, ds_texts):
        return {"zone": zone, "ds": ds_texts, "dnskeys": [{"key_tag": 1, "flags": 257, "algorithm": algorithm}],
                "rrsig_algorithms": [algorithm]}
    chain = [step(".", 13, []), step("nl", 8, ["2222 8 2 " + "cd" * 32]), step("noordstad.nl", algorithm, [ds])]
    return {"name": "www.noordstad.nl", "state": state, "zone": "noordstad.nl", "chain": chain, "problem": problem,
            "ede": []}


def test_ecc_gost_fails_even_where_a_resolver_validates_it():
    finding = judge("dns.dnssec", "dnssec", facts(SECURE, 12))
    assert finding.status == Status.FAIL
    assert ("validates, but zone cut nl -> noordstad.nl: noordstad.nl is signed with ECC-GOST, which RFC 8624 "
            "forbids (RFC 8624: signing MUST NOT, validation MAY)") in finding.summary.en


def test_ds_records_only_with_gost_digests_fail_naming_the_digest():
    problem = {"code": "ds_matches_no_dnskey", "zone": "noordstad.nl", "parent": "nl"}
    finding = judge("dns.dnssec", "dnssec", facts("insecure", 13, "1234 13 3 " + "ab" * 32, problem))
    assert finding.status == Status.FAIL
    assert "the DS records of noordstad.nl in nl use GOST R 34.11-94, which RFC 8624 forbids" in finding.summary.en
    assert "matches no DNSKEY" not in finding.summary.en


def test_a_step_from_before_rrsig_algorithms_were_recorded_is_judged_on_its_keys():
    old = facts(SECURE, 5)
    del old["chain"][2]["rrsig_algorithms"]
    assert judge("dns.dnssec", "dnssec", old).status == Status.WARN


def mail(*zones: dict) -> dict:
    domain, *mx = zones
    return {"domain": "noordstad.nl", "dnssec": domain, "mx_hosts": [
        {"host": f"mx{i}.noordstad.nl", "dnssec": found} for i, found in enumerate(mx)]}


def test_mail_dnssec_judges_the_algorithms_of_every_zone():
    good, rsasha1 = facts(SECURE, 13), facts(SECURE, 5)
    assert judge("mail.dnssec", "mail", mail(good, good)).status == Status.PASS
    warned = judge("mail.dnssec", "mail", mail(good, rsasha1))
    assert warned.status == Status.WARN and "mx0.noordstad.nl: validates, but zone cut nl -> noordstad.nl: " \
                                            "noordstad.nl is signed with RSASHA1" in warned.summary.en
    failed = judge("mail.dnssec", "mail", mail(facts("insecure", 1), good))
    assert failed.status == Status.FAIL and "insecure: zone cut nl -> noordstad.nl: noordstad.nl is signed with " \
                                            "RSAMD5, which RFC 8624 forbids" in failed.summary.en
