"""web.https.available, web.https.redirect, web.https.hsts, web.cert.trust, web.cert.hostname: a passing and a
failing case for every rule of the catalogue, on hand-built `http` artifacts judged through the registry."""
import pytest

from checks.https import MAX_AGE_CAP, name_matches, parse_hsts
from govscan.model import Reason, Status
from tests.unit.http_facts import HOST, good, judge, with_headers


# --- web.https.available ------------------------------------------------------------------------------------

def test_available_passes_with_handshake_and_response():
    finding = judge("web.https.available", good())
    assert finding.status == Status.PASS
    assert finding.addresses[0].details["status"] == 200


@pytest.mark.parametrize("error", [Reason.CONNECT, Reason.TIMEOUT])
def test_available_fails_when_443_is_silent_but_80_answers(error):
    data = good()
    data["tcp443"] = {"open": False, "error": error, "detail": "refused or filtered"}
    for key in ("tls", "certificates", "cert_verification", "https", "security_txt", "redirects"):
        del data[key]
    assert judge("web.https.available", data).status == Status.FAIL


def test_available_fails_on_a_failed_handshake():
    data = good()
    data["tls"] = {"ok": False, "error": Reason.TLS, "detail": "handshake failure"}
    assert judge("web.https.available", data).status == Status.FAIL


def test_available_fails_on_garbage_instead_of_http():
    data = good()
    data["https"] = {"error": Reason.HTTP, "detail": "not an HTTP response"}
    assert judge("web.https.available", data).status == Status.FAIL


def test_available_is_an_error_not_a_fail_when_the_server_stalls():
    data = good()
    data["tls"] = {"ok": False, "error": Reason.TIMEOUT, "detail": "no TLS handshake within 5s"}
    finding = judge("web.https.available", data)
    assert finding.status == Status.ERROR and finding.reason == Reason.TIMEOUT


def test_an_address_that_could_not_be_measured_is_an_error():
    finding = judge("web.https.available", error=Reason.TIMEOUT)
    assert finding.status == Status.ERROR and finding.reason == Reason.TIMEOUT


# --- web.https.redirect -------------------------------------------------------------------------------------

def test_redirect_to_https_on_the_same_host_passes():
    assert judge("web.https.redirect", good()).status == Status.PASS


def test_redirect_passes_when_port_80_is_closed():
    data = good()
    data["tcp80"] = {"open": False, "error": Reason.CONNECT, "detail": "refused"}
    del data["http"]
    assert judge("web.https.redirect", data).status == Status.PASS


def test_no_redirect_fails():
    data = good()
    data["http"].update(status=200, location=None)
    assert judge("web.https.redirect", data).status == Status.FAIL


def test_a_status_outside_the_policy_fails():
    data = good()
    data["http"]["status"] = 303
    assert judge("web.https.redirect", data).status == Status.FAIL


def test_first_redirect_to_another_host_fails():
    data = good()
    data["http"]["location"] = "https://www.test.gov.nl/"
    finding = judge("web.https.redirect", data)
    assert finding.status == Status.FAIL and "www.test.gov.nl" in finding.summary.en


def test_first_redirect_to_another_port_fails():
    data = good()
    data["http"]["location"] = f"https://{data['http']['url'].split('/')[2]}:8443/"
    finding = judge("web.https.redirect", data)
    assert finding.status == Status.FAIL and ":8443" in finding.summary.en


def test_first_redirect_to_the_explicit_standard_port_passes():
    data = good()
    data["http"]["location"] = f"https://{data['http']['url'].split('/')[2]}:443/"
    assert judge("web.https.redirect", data).status == Status.PASS


def test_first_redirect_to_http_fails():
    data = good()
    data["http"]["location"] = "/home"  # relative: stays on http://
    assert judge("web.https.redirect", data).status == Status.FAIL


def test_a_port_80_that_does_not_answer_is_an_error():
    data = good()
    data["http"] = {"url": f"http://{HOST}/", "error": Reason.TIMEOUT, "detail": "no response"}
    finding = judge("web.https.redirect", data)
    assert finding.status == Status.ERROR and finding.reason == Reason.TIMEOUT


# --- web.https.hsts -----------------------------------------------------------------------------------------

def hsts(*values):
    return with_headers(good(), [["Strict-Transport-Security", v] for v in values])


def test_hsts_of_a_year_passes():
    finding = judge("web.https.hsts", hsts("max-age=31536000; includeSubDomains; preload"))
    assert finding.status == Status.PASS
    assert finding.addresses[0].details["include_subdomains"] is True


def test_hsts_missing_fails():
    assert judge("web.https.hsts", with_headers(good(), [])).status == Status.FAIL


@pytest.mark.parametrize("value", ["max-age=abc", "includeSubDomains", "max-age=31536000; max-age=31536000",
                                   "max-age=-1", "max-age=31536000; includeSubDomains=true",
                                   "max-age=31536000; MAX-AGE=31536000", "max-age=31536000 includeSubDomains",
                                   'max-age=31536000; note="a;b', "max-age=31536000; preload=", "max-age=31536000.0"])
def test_an_hsts_header_outside_the_rfc6797_grammar_fails_as_if_there_were_none(value):
    finding = judge("web.https.hsts", hsts(value))
    assert finding.status == Status.FAIL and "ignore" in finding.addresses[0].summary.en
    assert finding.addresses[0].details["invalid"]


@pytest.mark.parametrize("value", ["MAX-AGE=31536000; INCLUDESUBDOMAINS", 'max-age="31536000"; note="a;b"',
                                   " ; max-age = 31536000 ;; preload ; ", "max-age=31536000; ext=token; x=\"\\\"\""])
def test_an_hsts_header_in_the_rfc6797_grammar_passes(value):
    assert judge("web.https.hsts", hsts(value)).status == Status.PASS


def test_a_semicolon_inside_a_quoted_value_is_no_separator():
    assert parse_hsts('max-age=1; animal="squirrel; distinguished"')["animal"] == "squirrel; distinguished"


def test_a_max_age_of_any_length_is_read_without_error():
    assert judge("web.https.hsts", hsts("max-age=" + "9" * 5000)).addresses[0].details["max_age"] == MAX_AGE_CAP


def test_hsts_shorter_than_a_year_fails():
    assert judge("web.https.hsts", hsts("max-age=86400")).status == Status.FAIL


def test_quoted_max_age_is_valid():
    assert parse_hsts('max-age="31536000"')["max-age"] == "31536000"


def test_only_the_first_hsts_header_counts():
    assert judge("web.https.hsts", hsts("max-age=60", "max-age=31536000")).status == Status.FAIL
    assert judge("web.https.hsts", hsts("max-age=31536000", "max-age=0")).status == Status.PASS


def test_hsts_is_judged_on_the_hosts_own_response_not_after_redirects():
    data = good()
    data["https"].update(status=301, location="/home", headers=[["Location", "/home"]])
    data["redirects"]["hops"] = [
        {"url": f"https://{HOST}/", "status": 301, "location": "/home", "headers": [["Location", "/home"]]},
        {"url": f"https://{HOST}/home", "status": 200, "location": None,
         "headers": [["Strict-Transport-Security", "max-age=31536000"]]}]
    assert judge("web.https.hsts", data).status == Status.FAIL


# --- web.cert.trust -----------------------------------------------------------------------------------------

def untrusted(error="candidates exhausted"):
    data = good()
    data["cert_verification"] = {"validated": False, "error": error, "chain": []}
    return data


def test_a_chain_to_a_trusted_root_passes():
    assert judge("web.cert.trust", good()).status == Status.PASS


def test_an_expired_certificate_fails():
    data = untrusted("cert is not valid at validation time")
    data["certificates"][0]["not_after"] = "2026-11-01T00:00:00+00:00"
    finding = judge("web.cert.trust", data)
    assert finding.status == Status.FAIL and "expired" in finding.summary.en


def test_a_self_signed_certificate_fails():
    data = untrusted()
    data["certificates"] = data["certificates"][:1]
    data["certificates"][0].update(issuer=f"CN={HOST}", self_issued=True)
    finding = judge("web.cert.trust", data)
    assert finding.status == Status.FAIL and "self-signed" in finding.summary.en


def test_a_chain_to_an_unknown_root_fails():
    finding = judge("web.cert.trust", untrusted())
    assert finding.status == Status.FAIL and "trusted root" in finding.summary.en


def test_trust_is_an_error_without_a_handshake():
    data = good()
    data["tls"] = {"ok": False, "error": Reason.TIMEOUT, "detail": "stalled"}
    finding = judge("web.cert.trust", data)
    assert finding.status == Status.ERROR and finding.reason == Reason.TIMEOUT


# --- web.cert.hostname --------------------------------------------------------------------------------------

def test_a_san_matching_the_host_passes():
    assert judge("web.cert.hostname", good()).status == Status.PASS


def test_a_matching_wildcard_passes():
    data = good()
    data["certificates"][0]["sans"] = ["*.test.nl"]
    assert judge("web.cert.hostname", data).status == Status.PASS


def test_a_certificate_for_another_name_fails():
    data = good()
    data["certificates"][0]["sans"] = ["www.andere-organisatie.nl"]
    finding = judge("web.cert.hostname", data)
    assert finding.status == Status.FAIL and "www.andere-organisatie.nl" in finding.summary.nl


def test_the_hostname_is_judged_even_when_the_chain_is_untrusted():
    assert judge("web.cert.hostname", untrusted()).status == Status.PASS


@pytest.mark.parametrize("pattern, host, matches", [
    ("WWW.Test.NL", "www.test.nl", True),
    ("*.test.nl", "www.test.nl", True),
    ("*.test.nl", "a.www.test.nl", False),
    ("*.test.nl", "test.nl", False),
    ("*.nl", "test.nl", False),
    ("w*.test.nl", "www.test.nl", False),
    ("www.test.nl.", "www.test.nl", True),
])
def test_name_matching_follows_rfc_6125(pattern, host, matches):
    assert name_matches(pattern, host) is matches
