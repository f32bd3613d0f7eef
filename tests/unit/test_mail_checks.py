"""mail.*: a passing and a failing case for every rule of the catalogue, on hand-built `mail` artifacts
judged through the registry; a domain without MX, and unmeasured servers, never fail."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from checks.registry import all_checks, evaluate
from govscan.model import Artifact, Reason, Site, Status
from tests.unit.test_tls_checks import good as good_tls

HOST = "www.noordstad.nl"
SITE = Site(url=f"https://{HOST}/", host=HOST)
MX = "mail.noordstad.nl"
V4, V6 = "203.0.113.10", "2001:db8:1::10"
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)


def certificate_pem(host: str) -> tuple[str, str]:
    """A self-signed leaf for `host` and the TLSA 3 1 1 data of its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(key, hashes.SHA256()))
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return cert.public_bytes(serialization.Encoding.PEM).decode(), hashlib.sha256(spki).hexdigest()


PEM, SPKI_SHA256 = certificate_pem(MX)


def session(**changes) -> dict:
    facts = {"banner": f"220 {MX} ESMTP", "starttls": True, "extensions": ["starttls", "size"],
             "certificates": [{"pem": PEM}], "measured_at": NOW.isoformat(), "tls": good_tls()}
    facts.update(changes)
    return facts


def mx_host(**changes) -> dict:
    facts = {"host": MX, "ipv4": [V4], "ipv6": [V6],
             "dnssec": {"state": "secure", "zone": "noordstad.nl", "problem": None},
             "tlsa": {"name": f"_25._tcp.{MX}", "state": "secure",
                      "records": [{"usage": 3, "selector": 1, "mtype": 1, "data": SPKI_SHA256}]},
             "addresses": {V4: session(), V6: session()}}
    facts.update(changes)
    return facts


def answer(*records: str) -> dict:
    return {"rcode": "NOERROR" if records else "NXDOMAIN", "records": list(records)}


def spf_answers(*records: str, **others: list[str]) -> dict:
    """The mail probe's SPF facts: the domain's TXT records, its MX, and the answers to other queries by key
    ("TXT _spf.example.nl"; no records is NXDOMAIN)."""
    answers = {"TXT noordstad.nl": answer(*records), "MX noordstad.nl": answer(MX)}
    answers.update({key: answer(*values) for key, values in others.items()})
    return {"answers": answers}


def dmarc_answers(*records: str, organisational: str = "noordstad.nl", **others: list[str]) -> dict:
    answers = {"_dmarc.noordstad.nl": answer(*records)}
    answers.update({name: answer(*values) for name, values in others.items()})
    return {"organisational_domain": organisational, "answers": answers}


def mail(**changes) -> dict:
    facts = {"domain": "noordstad.nl", "mx": [{"preference": 10, "host": MX}], "null_mx": False,
             "spf": spf_answers("v=spf1 mx -all"),
             "dmarc": dmarc_answers("v=DMARC1; p=reject"),
             "dkim": {"name": "_domainkey.noordstad.nl", "rcode": "NOERROR"},
             "dnssec": {"state": "secure", "zone": "noordstad.nl", "problem": None},
             "mx_hosts": [mx_host()]}
    facts.update(changes)
    return facts


def judge(check_id: str, data: dict, run: dict | None = None):
    artifacts = {"mail": Artifact("mail", 2, HOST, data)}
    return evaluate(all_checks()[check_id], SITE, artifacts, {}, run or {"ipv6": True})


MAIL_CHECKS = ["mail.spf", "mail.dmarc", "mail.dkim", "mail.starttls", "mail.dane", "mail.dnssec", "mail.ipv6"]


@pytest.mark.parametrize("check_id", MAIL_CHECKS)
def test_a_well_configured_domain_passes_every_mail_check(check_id):
    assert judge(check_id, mail()).status == Status.PASS


# --- SPF ---

@pytest.mark.parametrize("records, words", [
    ((), "noordstad.nl has no SPF record"),
    (("v=spf1 -all", "v=spf1 mx -all"), "noordstad.nl has 2 SPF records; there must be one"),
    (("v=spf1 mx +all",), "gets 'pass' from '+all'"),
    (("v=spf1 mx ?all",), "gets 'neutral' from '?all'"),
    (("v=spf1 mx",), "gets 'neutral' (no mechanism matches, and there is no all or redirect)"),
    (("v=spf1 ip4:999.1.1.1 mx -all",), "invalid (permerror): in the SPF record of noordstad.nl: '999.1.1.1' in "
                                        "'ip4:999.1.1.1' is not an IPv4 address"),
    (("v=spf1 ip4:192.0.2.0/33 -all",), "prefix length /33 is over 32"),
    (("v=spf1 include:bad_domain -all",), "'bad_domain' does not end in a top-level label"),
    (("v=spf1 redirect=a.example.nl redirect=b.example.nl",), "redirect= more than once"),
    (("v=spf1 -all:foo",), "all takes no argument"),
    (("v=spf1 mxx -all",), "unknown mechanism 'mxx'"),
    (("v=spf1 " + "a " * 11 + "-all",), "more than 10 DNS lookups"),
    (("v=spf1 a:x1.example.nl a:x2.example.nl a:x3.example.nl -all",), "more than 2 void lookups"),
])
def test_spf_fails(records, words):
    others = {"A noordstad.nl": ["192.0.2.1"], "AAAA noordstad.nl": ["2001:db8::1"],
              **{f"{rtype} x{i}.example.nl": [] for i in (1, 2, 3) for rtype in ("A", "AAAA")}}
    finding = judge("mail.spf", mail(spf=spf_answers(*records, **others)))
    assert finding.status == Status.FAIL and words in finding.summary.en, finding.summary.en
    assert finding.summary.nl != finding.summary.en


@pytest.mark.parametrize("record, words", [
    ("v=spf1 ip4:203.0.113.0/24 ~all", "gets softfail ('~all')"),
    ("v=spf1 mx -all", "gets fail ('-all')"),
])
def test_spf_ending_in_fail_or_softfail_passes(record, words):
    finding = judge("mail.spf", mail(spf=spf_answers(record)))
    assert finding.status == Status.PASS and words in finding.summary.en
    assert finding.details["result"] in ("fail", "softfail") and finding.details["lookups"] <= 1


def test_spf_judges_what_includes_and_redirects_give():
    included_pass = spf_answers("v=spf1 include:_spf.provider.example -all",
                                **{"TXT _spf.provider.example": ["v=spf1 +all"]})
    finding = judge("mail.spf", mail(spf=included_pass))
    assert finding.status == Status.FAIL and "gets 'pass' from 'include:_spf.provider.example'" in finding.summary.en
    redirected = spf_answers("v=spf1 redirect=_spf.provider.example",
                             **{"TXT _spf.provider.example": ["v=spf1 ip4:192.0.2.0/24 -all"]})
    finding = judge("mail.spf", mail(spf=redirected))
    assert finding.status == Status.PASS and "in the record of _spf.provider.example" in finding.summary.en
    assert finding.details["included"] == {"_spf.provider.example": "v=spf1 ip4:192.0.2.0/24 -all"}


def test_spf_that_cannot_be_evaluated_is_an_error_or_info_never_a_fail():
    timeout = mail(spf={"answers": {"TXT noordstad.nl": {"error": "timeout: resolver did not answer"}}})
    finding = judge("mail.spf", timeout)
    assert finding.status == Status.ERROR and finding.reason == Reason.DNS and "temperror" in finding.summary.en
    per_sender = judge("mail.spf", mail(spf=spf_answers("v=spf1 redirect=%{l}._spf.example.nl")))
    assert per_sender.status == Status.INFO and "depends on the sender" in per_sender.summary.en


def test_an_spf_include_diamond_gives_a_small_finding():
    """Issue 15: 38 records that each include the next two; the evaluation stops at the lookup limit and
    the finding stays small."""
    names = ["noordstad.nl"] + [f"r{i}.{'x' * 40}.example" for i in range(1, 38)]
    others = {f"TXT {name}": [f"v=spf1 include:{names[i + 1]} include:{names[i + 2]} ip4:192.0.2.0/24 -all"]
              for i, name in enumerate(names[1:-2], start=1)}
    data = mail(spf=spf_answers(f"v=spf1 include:{names[1]} include:{names[2]} -all", **others))
    finding = judge("mail.spf", data)
    assert finding.status == Status.FAIL and "more than 10 DNS lookups" in finding.summary.en
    assert finding.details["lookups"] == 10
    assert len(json.dumps({"summary": finding.summary.en, "details": finding.details})) < 10_000


def test_a_long_record_is_shortened_in_the_finding():
    record = "v=spf1 " + " ".join(f"ip4:192.0.2.{i}" for i in range(200)) + " -all"
    finding = judge("mail.spf", mail(spf=spf_answers(record)))
    assert finding.status == Status.PASS and len(finding.details["records"][0]) == 512 + len("...")


# --- DMARC and DKIM ---

@pytest.mark.parametrize("dmarc, words", [
    (dmarc_answers(), "No DMARC record at _dmarc.noordstad.nl."),
    (dmarc_answers(" v=DMARC1; p=reject"), "a TXT record there does not begin with 'v=DMARC1': ' v=DMARC1; p=reject'"),
    (dmarc_answers("v=DMARC1; p=none"), "The DMARC policy is p=none"),
    (dmarc_answers("v=DMARC1; p=reject", "v=DMARC1; p=none"), "2 DMARC records at _dmarc.noordstad.nl"),
    (dmarc_answers("v=DMARC1; p=reject; p=none"), "invalid: the tag p appears more than once"),
    (dmarc_answers("v=DMARC1; p=reject; sp=everything"), "invalid: sp=everything is not none, quarantine or reject"),
    (dmarc_answers("v=DMARC1; rua=mailto:dmarc@noordstad.nl"), "invalid: the tag p (the policy) is missing"),
    (dmarc_answers("v=DMARC1; p=reject; rua mailto:dmarc@noordstad.nl"), "invalid: 'rua mailto:dmarc@noordstad.nl' "
                                                                         "is not a tag"),
])
def test_dmarc_fails(dmarc, words):
    finding = judge("mail.dmarc", mail(dmarc=dmarc))
    assert finding.status == Status.FAIL and words in finding.summary.en, finding.summary.en


def test_dmarc_reports_sp_and_test_mode():
    finding = judge("mail.dmarc", mail(dmarc=dmarc_answers("v=DMARC1; p=reject; sp=none; t=y; pct=50")))
    assert finding.status == Status.PASS and finding.summary.en == "DMARC at _dmarc.noordstad.nl with p=reject " \
                                                                   "(t=y: test mode)."
    assert (finding.details["sp"], finding.details["t"], finding.details["policy"]) == ("none", "y", "reject")


def test_dmarc_of_the_organisational_domain_applies_with_its_sp():
    """A subdomain zone without its own record gets the organisational domain's, whose sp decides."""
    data = mail(domain="post.noordstad.nl",
                dmarc={"organisational_domain": "noordstad.nl",
                       "answers": {"_dmarc.post.noordstad.nl": answer(),
                                   "_dmarc.noordstad.nl": answer("v=DMARC1; p=reject; sp=none")}})
    finding = judge("mail.dmarc", data)
    assert finding.status == Status.FAIL and "sp=none" in finding.summary.en
    assert finding.details["found_at_organisational_domain"] and finding.details["name"] == "_dmarc.noordstad.nl"


def test_dmarc_of_a_gov_nl_domain_is_its_own():
    """gov.nl is a public suffix: x.gov.nl is its own organisational domain (the probe asks only there)."""
    data = mail(domain="digitalezaken.gov.nl",
                dmarc={"organisational_domain": "digitalezaken.gov.nl",
                       "answers": {"_dmarc.digitalezaken.gov.nl": answer()}})
    finding = judge("mail.dmarc", data)
    assert finding.status == Status.FAIL and finding.summary.en == "No DMARC record at _dmarc.digitalezaken.gov.nl."


def test_dmarc_that_cannot_be_looked_up_is_an_error():
    data = mail(dmarc={"organisational_domain": "noordstad.nl",
                       "answers": {"_dmarc.noordstad.nl": {"error": "timeout: resolver did not answer"}}})
    finding = judge("mail.dmarc", data)
    assert finding.status == Status.ERROR and finding.reason == Reason.DNS


def no_mail(**changes) -> dict:
    return mail(spf=spf_answers("v=spf1 -all"), **changes)


def test_a_domain_that_sends_no_mail_needs_reject_and_no_dkim():
    assert judge("mail.dmarc", no_mail(dmarc=dmarc_answers("v=DMARC1; p=quarantine"))).status == Status.FAIL
    assert judge("mail.dmarc", no_mail()).status == Status.PASS
    assert judge("mail.dkim", no_mail(dkim={"name": "_domainkey.noordstad.nl", "rcode": "NXDOMAIN"})).status \
        == Status.NOT_APPLICABLE


def test_dkim_without_domainkey_fails():
    finding = judge("mail.dkim", mail(dkim={"name": "_domainkey.noordstad.nl", "rcode": "NXDOMAIN"}))
    assert finding.status == Status.FAIL and "NXDOMAIN" in finding.summary.en


# --- STARTTLS ---

def test_no_starttls_fails_and_names_the_address():
    host = mx_host(addresses={V4: session(starttls=False, certificates=[]), V6: session()})
    finding = judge("mail.starttls", mail(mx_hosts=[host]))
    assert finding.status == Status.FAIL and f"{MX} ({V4})" in finding.summary.en


def test_starttls_with_legacy_tls_fails_by_the_web_tls_rules():
    legacy = good_tls()
    legacy["protocols"]["TLSv1.0"] = True
    finding = judge("mail.starttls", mail(mx_hosts=[mx_host(addresses={V4: session(tls=legacy)})]))
    assert finding.status == Status.FAIL and "TLSv1.0" in finding.summary.en


def test_starttls_with_phase_out_suites_warns():
    dhe = good_tls()
    dhe["suites"]["TLSv1.2"].append("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384")
    assert judge("mail.starttls", mail(mx_hosts=[mx_host(addresses={V4: session(tls=dhe)})])).status == Status.WARN


def test_an_unreachable_mx_is_an_error_not_a_fail():
    down = {"error": Reason.TIMEOUT, "detail": "SMTP 203.0.113.10 port 25: no answer within 5s"}
    finding = judge("mail.starttls", mail(mx_hosts=[mx_host(addresses={V4: down})]))
    assert finding.status == Status.ERROR and finding.reason == Reason.TIMEOUT


@pytest.mark.parametrize("check_id", ["mail.starttls", "mail.dane", "mail.ipv6"])
@pytest.mark.parametrize("mx, null_mx", [([], False), ([{"preference": 0, "host": "."}], True)])
def test_mx_checks_do_not_apply_without_mx(check_id, mx, null_mx):
    assert judge(check_id, mail(mx=mx, null_mx=null_mx, mx_hosts=[])).status == Status.NOT_APPLICABLE


# --- DANE ---

def tlsa(records: list[dict], state: str = "secure") -> dict:
    return {"name": f"_25._tcp.{MX}", "state": state, "records": records}


@pytest.mark.parametrize("found, words", [
    (tlsa([]), "no TLSA record"),
    (tlsa([{"usage": 1, "selector": 1, "mtype": 1, "data": SPKI_SHA256}]), "only PKIX usages"),
    (tlsa([{"usage": 3, "selector": 1, "mtype": 1, "data": "00" * 32}]), "no TLSA record matches"),
    (tlsa([{"usage": 3, "selector": 1, "mtype": 1, "data": SPKI_SHA256}], state="insecure"), "not DNSSEC-secure"),
])
def test_dane_fails(found, words):
    finding = judge("mail.dane", mail(mx_hosts=[mx_host(tlsa=found)]))
    assert finding.status == Status.FAIL and words in finding.summary.en


def test_dane_reports_the_rollover_scheme():
    single = judge("mail.dane", mail())
    assert single.details["rollover_scheme"] == {MX: False}
    two = tlsa([{"usage": 3, "selector": 1, "mtype": 1, "data": SPKI_SHA256},
                {"usage": 3, "selector": 1, "mtype": 1, "data": "11" * 32}])
    rollover = judge("mail.dane", mail(mx_hosts=[mx_host(tlsa=two)]))
    assert rollover.status == Status.PASS and rollover.details["rollover_scheme"] == {MX: True}


# --- DNSSEC and IPv6 ---

def test_dnssec_fails_when_an_mx_zone_is_unsigned():
    host = mx_host(dnssec={"state": "insecure", "zone": "mailhost.nl", "problem": None})
    finding = judge("mail.dnssec", mail(mx_hosts=[host]))
    assert finding.status == Status.FAIL and MX in finding.summary.en


def test_dnssec_fails_when_the_mail_domain_is_bogus():
    bogus = {"state": "bogus", "zone": "noordstad.nl", "problem": {"code": "signature_expired", "zone": "noordstad.nl"}}
    assert judge("mail.dnssec", mail(dnssec=bogus)).status == Status.FAIL


def test_ipv6_fails_without_aaaa():
    host = mx_host(ipv6=[], addresses={V4: session()})
    finding = judge("mail.ipv6", mail(mx_hosts=[host]))
    assert finding.status == Status.FAIL and "no AAAA record" in finding.summary.en


def test_ipv6_fails_when_the_aaaa_does_not_answer_but_ipv4_does():
    silent = {"error": Reason.TIMEOUT, "detail": "no answer"}
    finding = judge("mail.ipv6", mail(mx_hosts=[mx_host(addresses={V4: session(), V6: silent})]))
    assert finding.status == Status.FAIL and V6 in finding.summary.en


def test_ipv6_without_ipv6_on_the_scanner_is_an_error():
    no_ipv6 = {"error": Reason.NO_IPV6, "detail": "this scanner has no IPv6 connectivity"}
    finding = judge("mail.ipv6", mail(mx_hosts=[mx_host(addresses={V4: session(), V6: no_ipv6})]))
    assert finding.status == Status.ERROR and finding.reason == Reason.NO_IPV6


def test_facts_of_the_first_mail_probe_are_judged_again_only_where_they_suffice():
    """Mail probe version 1 kept SPF and DMARC as conclusions, not DNS answers: judging an old scan again
    says so for SPF and DMARC, and DKIM still reads its SPF records."""
    old = mail(spf={"records": ["v=spf1 -all"], "lookups": 0, "errors": [], "all": "-all", "included": {}},
               dmarc={"name": "_dmarc.noordstad.nl", "records": ["v=DMARC1; p=reject"], "policy": "reject"},
               dkim={"name": "_domainkey.noordstad.nl", "rcode": "NXDOMAIN"})
    for check_id in ("mail.spf", "mail.dmarc"):
        finding = evaluate(all_checks()[check_id], SITE, {"mail": Artifact("mail", 1, HOST, old)}, {}, {})
        assert finding.status == Status.ERROR and "mail probe version 1" in finding.summary.en
    dkim = evaluate(all_checks()["mail.dkim"], SITE, {"mail": Artifact("mail", 1, HOST, old)}, {}, {})
    assert dkim.status == Status.NOT_APPLICABLE
