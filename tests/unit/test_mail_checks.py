"""mail.*: a passing and a failing case for every rule of the catalogue, on hand-built `mail` artifacts
judged through the registry; a domain without MX, and unmeasured servers, never fail."""
from __future__ import annotations

import datetime as dt
import hashlib

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


def mail(**changes) -> dict:
    facts = {"domain": "noordstad.nl", "mx": [{"preference": 10, "host": MX}], "null_mx": False,
             "spf": {"records": ["v=spf1 mx -all"], "lookups": 1, "errors": [], "all": "-all", "included": {}},
             "dmarc": {"name": "_dmarc.noordstad.nl", "records": ["v=DMARC1; p=reject"], "policy": "reject"},
             "dkim": {"name": "_domainkey.noordstad.nl", "rcode": "NOERROR"},
             "dnssec": {"state": "secure", "zone": "noordstad.nl", "problem": None},
             "mx_hosts": [mx_host()]}
    facts.update(changes)
    return facts


def judge(check_id: str, data: dict, run: dict | None = None):
    artifacts = {"mail": Artifact("mail", 1, HOST, data)}
    return evaluate(all_checks()[check_id], SITE, artifacts, {}, run or {"ipv6": True})


MAIL_CHECKS = ["mail.spf", "mail.dmarc", "mail.dkim", "mail.starttls", "mail.dane", "mail.dnssec", "mail.ipv6"]


@pytest.mark.parametrize("check_id", MAIL_CHECKS)
def test_a_well_configured_domain_passes_every_mail_check(check_id):
    assert judge(check_id, mail()).status == Status.PASS


# --- SPF ---

@pytest.mark.parametrize("spf, words", [
    ({"records": []}, "no SPF record"),
    ({"records": ["v=spf1 -all", "v=spf1 mx -all"]}, "2 SPF records"),
    ({"records": ["v=spf1 mx +all"], "lookups": 1, "errors": [], "all": "+all", "included": {}}, "'+all'"),
    ({"records": ["v=spf1 mx"], "lookups": 1, "errors": [], "all": None, "included": {}}, "no 'all'"),
    ({"records": ["v=spf1 include:a -all"], "lookups": 11, "errors": [], "all": "-all", "included": {}},
     "11 DNS lookups"),
    ({"records": ["v=spf1 mxx -all"], "lookups": 0, "errors": ["unknown mechanism 'mxx'"], "all": "-all",
      "included": {}}, "unknown mechanism"),
])
def test_spf_fails(spf, words):
    finding = judge("mail.spf", mail(spf=spf))
    assert finding.status == Status.FAIL and words in finding.summary.en


def test_spf_softfail_passes():
    spf = {"records": ["v=spf1 ip4:203.0.113.0/24 ~all"], "lookups": 0, "errors": [], "all": "~all", "included": {}}
    assert judge("mail.spf", mail(spf=spf)).status == Status.PASS


# --- DMARC and DKIM ---

@pytest.mark.parametrize("dmarc, words", [
    ({"name": "_dmarc.noordstad.nl", "records": [], "policy": None}, "No DMARC record"),
    ({"name": "_dmarc.noordstad.nl", "records": ["v=DMARC1; p=none"], "policy": "none"}, "p=none"),
    ({"name": "_dmarc.noordstad.nl", "records": ["v=DMARC1; p=reject", "v=DMARC1; p=none"], "policy": None},
     "2 DMARC records"),
])
def test_dmarc_fails(dmarc, words):
    finding = judge("mail.dmarc", mail(dmarc=dmarc))
    assert finding.status == Status.FAIL and words in finding.summary.en


def no_mail(**changes) -> dict:
    return mail(spf={"records": ["v=spf1 -all"], "lookups": 0, "errors": [], "all": "-all", "included": {}},
                **changes)


def test_a_domain_that_sends_no_mail_needs_reject_and_no_dkim():
    quarantine = {"name": "_dmarc.noordstad.nl", "records": ["v=DMARC1; p=quarantine"], "policy": "quarantine"}
    assert judge("mail.dmarc", no_mail(dmarc=quarantine)).status == Status.FAIL
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
