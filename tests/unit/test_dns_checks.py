"""dns.dnssec, web.dane and web.caa on hand-built artifacts: a passing and a failing case for every rule,
and DANE matching for every usage, selector and matching type against certificates built here."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from checks.registry import all_checks, evaluate
from govscan.model import Artifact, Status
from tests.unit.http_facts import ADDRESS, FETCHED_AT, HOST, SITE, good

NOW = dt.datetime.fromisoformat(FETCHED_AT)


def judge(check_id: str, site_artifacts: dict, http: dict | None = None, run=None):
    address_artifacts = {ADDRESS: {"http": Artifact("http", 1, ADDRESS, http)}} if http is not None else {}
    return evaluate(all_checks()[check_id], SITE, site_artifacts, address_artifacts, run or {"ipv6": True})


def artifact(probe: str, data: dict | None = None, error: str | None = None) -> Artifact:
    return Artifact(probe, 1, HOST, data or {}, error=error, error_detail=error or "")


# --- dns.dnssec ---------------------------------------------------------------------------------------------

def dnssec_facts(state: str, problem: dict | None = None, ede=()) -> dict:
    return {"name": HOST, "state": state, "zone": "test.nl", "problem": problem, "ede": list(ede),
            "chain": [{"zone": "."}, {"zone": "nl"}, {"zone": "test.nl"}], "queries": {"asked": 9, "sent": 3}}


def test_dnssec_secure_passes():
    finding = judge("dns.dnssec", {"dnssec": artifact("dnssec", dnssec_facts("secure"))})
    assert finding.status == Status.PASS
    assert "queries" not in finding.details  # run-dependent counts would make every night a new finding


def test_dnssec_insecure_fails_naming_the_zone_cut():
    problem = {"code": "no_ds", "zone": "test.nl", "parent": "nl"}
    finding = judge("dns.dnssec", {"dnssec": artifact("dnssec", dnssec_facts("insecure", problem))})
    assert finding.status == Status.FAIL
    assert "nl -> test.nl" in finding.summary.en and "no DS record" in finding.summary.en
    assert "niet beveiligd" in finding.summary.nl


@pytest.mark.parametrize("problem, words", [
    ({"code": "ds_matches_no_dnskey", "zone": "test.nl", "parent": "nl"}, "matches no DNSKEY"),
    ({"code": "signature_expired", "zone": "test.nl", "parent": "nl", "rrset": "test.nl DNSKEY",
      "expiration": "2026-11-01T00:00:00Z"}, "expired at 2026-11-01"),
    ({"code": "rrsig_missing", "zone": "test.nl", "rrset": "www.test.nl A"}, "(RRSIG) of www.test.nl A is missing"),
])
def test_dnssec_bogus_fails_saying_what_and_where(problem, words):
    finding = judge("dns.dnssec", {"dnssec": artifact("dnssec", dnssec_facts("bogus", problem))})
    assert finding.status == Status.FAIL
    assert "bogus" in finding.summary.en and words in finding.summary.en and "test.nl" in finding.summary.en


def test_dnssec_bogus_without_diagnosis_quotes_the_resolver():
    ede = [{"code": 6, "name": "DNSSEC_BOGUS", "text": "validation failure"}]
    finding = judge("dns.dnssec", {"dnssec": artifact("dnssec", dnssec_facts("bogus", None, ede))})
    assert finding.status == Status.FAIL and "DNSSEC_BOGUS" in finding.summary.en


def test_dnssec_resolver_timeout_is_an_error_not_insecure():
    finding = judge("dns.dnssec", {"dnssec": artifact("dnssec", error="timeout")})
    assert finding.status == Status.ERROR and finding.reason == "timeout"


# --- web.caa ------------------------------------------------------------------------------------------------

def test_caa_found_at_a_parent_passes():
    facts = {"found_at": "test.nl", "records": ['0 issue "labca.example"'], "searched": ["www.test.nl", "test.nl"]}
    finding = judge("web.caa", {"caa": artifact("caa", facts)})
    assert finding.status == Status.PASS and "test.nl" in finding.summary.en


def test_caa_missing_warns():
    facts = {"found_at": None, "records": [], "searched": ["www.test.nl", "test.nl", "nl"]}
    assert judge("web.caa", {"caa": artifact("caa", facts)}).status == Status.WARN


# --- web.dane: certificates ---------------------------------------------------------------------------------

def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, key, issuer_name: str, issuer_key, *, ca: bool, sans=(), days=(-30, 60)):
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer_name))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW + dt.timedelta(days=days[0])).not_valid_after(NOW + dt.timedelta(days=days[1]))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki():
    root_key, mid_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = _cert("Root", root_key, "Root", root_key, ca=True, days=(-300, 3000))
    mid = _cert("Intermediate", mid_key, "Root", root_key, ca=True, days=(-100, 1000))
    leaf = _cert(HOST, leaf_key, "Intermediate", mid_key, ca=False, sans=[HOST])
    other = _cert("Other", ec.generate_private_key(ec.SECP256R1()), "Other", root_key, ca=False, sans=[HOST])
    return {"root": root, "mid": mid, "leaf": leaf, "other": other}


def served(*certs, validated=True) -> dict:
    data = good()
    data["certificates"] = [{"pem": c.public_bytes(serialization.Encoding.PEM).decode(),
                             "subject": c.subject.rfc4514_string(),
                             "sha256": hashlib.sha256(c.public_bytes(serialization.Encoding.DER)).hexdigest()}
                            for c in certs]
    data["cert_verification"] = {"validated": validated, "error": None if validated else "untrusted", "chain": []}
    return data


def association(cert, selector: int, mtype: int) -> str:
    if selector == 0:
        data = cert.public_bytes(serialization.Encoding.DER)
    else:
        data = cert.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
    return {0: data, 1: hashlib.sha256(data).digest(), 2: hashlib.sha512(data).digest()}[mtype].hex()


def tlsa(*records, state="secure", problem=None) -> Artifact:
    recs = [{"usage": u, "selector": s, "mtype": m, "data": d} for u, s, m, d in records]
    return artifact("tlsa", {"name": f"_443._tcp.{HOST}", "records": recs, "state": state, "problem": problem,
                             "ede": []})


def dane(tlsa_artifact, http):
    return judge("web.dane", {"tlsa": tlsa_artifact}, http)


@pytest.mark.parametrize("selector", [0, 1])
@pytest.mark.parametrize("mtype", [0, 1, 2])
def test_dane_ee_matches_the_leaf_for_every_selector_and_matching_type(pki, selector, mtype):
    chain = served(pki["leaf"], pki["mid"], validated=False)  # DANE-EE needs no PKIX
    assert dane(tlsa((3, selector, mtype, association(pki["leaf"], selector, mtype))), chain).status == Status.PASS
    wrong = association(pki["other"], selector, mtype)
    finding = dane(tlsa((3, selector, mtype, wrong)), chain)
    assert finding.status == Status.FAIL
    assert finding.addresses[0].details["results"][0]["why"] == "does not match the leaf certificate"


@pytest.mark.parametrize("selector", [0, 1])
@pytest.mark.parametrize("mtype", [0, 1, 2])
def test_dane_ta_matches_an_issuer_the_server_sent(pki, selector, mtype):
    chain = served(pki["leaf"], pki["mid"], validated=False)
    assert dane(tlsa((2, selector, mtype, association(pki["mid"], selector, mtype))), chain).status == Status.PASS
    # the leaf itself is no trust anchor
    assert dane(tlsa((2, selector, mtype, association(pki["leaf"], selector, mtype))), chain).status == Status.FAIL


def test_dane_ta_needs_the_chain_signed_up_to_the_anchor(pki):
    # `other` was signed by the root's key, not by the intermediate served above it
    chain = served(pki["other"], pki["mid"], validated=False)
    finding = dane(tlsa((2, 1, 1, association(pki["mid"], 1, 1))), chain)
    assert finding.status == Status.FAIL and "not signed in order" in finding.addresses[0].details["results"][0]["why"]


def test_dane_ta_needs_the_host_name_on_the_leaf():
    root_key, mid_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    mid = _cert("Intermediate", mid_key, "Root", root_key, ca=True)
    leaf = _cert("www.elders.nl", leaf_key, "Intermediate", mid_key, ca=False, sans=["www.elders.nl"])
    finding = dane(tlsa((2, 1, 1, association(mid, 1, 1))), served(leaf, mid, validated=False))
    assert finding.status == Status.FAIL and "does not carry" in finding.addresses[0].details["results"][0]["why"]


@pytest.mark.parametrize("selector, mtype", [(0, 0), (0, 1), (1, 1), (1, 2)])
def test_pkix_ee_needs_a_match_and_a_trusted_chain(pki, selector, mtype):
    record = (1, selector, mtype, association(pki["leaf"], selector, mtype))
    assert dane(tlsa(record), served(pki["leaf"], pki["mid"], validated=True)).status == Status.PASS
    finding = dane(tlsa(record), served(pki["leaf"], pki["mid"], validated=False))
    assert finding.status == Status.FAIL and "PKIX" in finding.addresses[0].details["results"][0]["why"]


@pytest.mark.parametrize("selector, mtype", [(0, 1), (1, 0), (1, 2)])
def test_pkix_ta_needs_a_served_ca_and_a_trusted_chain(pki, selector, mtype):
    record = (0, selector, mtype, association(pki["mid"], selector, mtype))
    assert dane(tlsa(record), served(pki["leaf"], pki["mid"], validated=True)).status == Status.PASS
    assert dane(tlsa(record), served(pki["leaf"], pki["mid"], validated=False)).status == Status.FAIL
    other = (0, selector, mtype, association(pki["root"], selector, mtype))  # not served: cannot be matched
    assert dane(tlsa(other), served(pki["leaf"], pki["mid"], validated=True)).status == Status.FAIL


def test_one_matching_record_of_several_is_enough(pki):
    records = [(3, 1, 1, "00" * 32), (3, 1, 1, association(pki["leaf"], 1, 1))]
    finding = dane(tlsa(*records), served(pki["leaf"], pki["mid"]))
    assert finding.status == Status.PASS
    assert [r["matched"] for r in finding.addresses[0].details["results"]] == [False, True]


def test_dane_without_tlsa_is_not_applicable(pki):
    assert dane(tlsa(), served(pki["leaf"], pki["mid"])).status == Status.NOT_APPLICABLE


def test_dane_tlsa_must_be_secure(pki):
    record = (3, 1, 1, association(pki["leaf"], 1, 1))
    insecure = dane(tlsa(record, state="insecure", problem={"code": "no_ds", "zone": "test.nl", "parent": "nl"}),
                    served(pki["leaf"], pki["mid"]))
    assert insecure.status == Status.FAIL and "not secured with DNSSEC" in insecure.summary.en
    bogus = dane(tlsa(record, state="bogus", problem={"code": "signature_expired", "zone": "test.nl",
                                                      "parent": "nl", "rrset": "test.nl DNSKEY",
                                                      "expiration": "2026-11-01T00:00:00Z"}),
                 served(pki["leaf"], pki["mid"]))
    assert bogus.status == Status.FAIL and "bogus" in bogus.summary.en and "expired" in bogus.summary.en


def test_dane_without_a_handshake_is_an_error(pki):
    data = served(pki["leaf"], pki["mid"])
    data.pop("certificates")
    data["tls"] = {"ok": False, "error": "tls", "detail": "handshake failure"}
    finding = dane(tlsa((3, 1, 1, association(pki["leaf"], 1, 1))), data)
    assert finding.status == Status.ERROR and finding.reason == "tls"


def test_dane_is_judged_per_address(pki):
    record = (3, 1, 1, association(pki["leaf"], 1, 1))
    addresses = {"198.51.100.10": {"http": Artifact("http", 1, "198.51.100.10", served(pki["leaf"], pki["mid"]))},
                 "2001:db8::10": {"http": Artifact("http", 1, "2001:db8::10", served(pki["other"], pki["mid"]))}}
    finding = evaluate(all_checks()["web.dane"], SITE, {"tlsa": tlsa(record)}, addresses, {"ipv6": True})
    assert finding.status == Status.FAIL
    assert [a.status for a in finding.addresses] == [Status.PASS, Status.FAIL]


def test_dane_without_tlsa_is_not_applicable_even_on_an_unreachable_address():
    failed = {ADDRESS: {"http": Artifact("http", 1, ADDRESS, error="connect", error_detail="refused")}}
    finding = evaluate(all_checks()["web.dane"], SITE, {"tlsa": tlsa()}, failed, {"ipv6": True})
    assert finding.status == Status.NOT_APPLICABLE


def test_dane_with_tlsa_on_an_unreachable_address_is_an_error(pki):
    failed = {ADDRESS: {"http": Artifact("http", 1, ADDRESS, error="timeout", error_detail="no answer")}}
    record = (3, 1, 1, association(pki["leaf"], 1, 1))
    finding = evaluate(all_checks()["web.dane"], SITE, {"tlsa": tlsa(record)}, failed, {"ipv6": True})
    assert finding.status == Status.ERROR and finding.reason == "timeout"
