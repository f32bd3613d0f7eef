"""The four web.headers.* checks: a passing and a failing case for every rule of the catalogue, judged
through the registry on hand-built `http` artifacts."""
import pytest

from govscan.model import Reason, Status
from tests.unit.http_facts import GOOD_HEADERS, HOST, good, judge, with_headers


def headers(*pairs):
    return with_headers(good(), [list(p) for p in pairs])


# --- which response ------------------------------------------------------------------------------------------

def test_headers_are_judged_on_the_page_the_host_lands_on():
    data = good()
    data["https"].update(status=301, location="/home", headers=[["Location", "/home"]])
    data["redirects"]["hops"] = [
        {"url": f"https://{HOST}/", "status": 301, "location": "/home", "headers": [["Location", "/home"]]},
        {"url": f"https://{HOST}/home", "status": 200, "location": None, "headers": GOOD_HEADERS}]
    finding = judge("web.headers.x_content_type_options", data)
    assert finding.status == Status.PASS and finding.addresses[0].details["url"].endswith("/home")


def test_a_redirect_to_another_host_is_not_followed_for_headers():
    data = good()
    data["https"].update(status=301, location="https://elders.nl/", headers=[["Location", "https://elders.nl/"]])
    data["redirects"]["hops"] = [
        {"url": f"https://{HOST}/", "status": 301, "location": "https://elders.nl/", "headers": data["https"]["headers"]},
        {"url": "https://elders.nl/", "status": 200, "location": None, "headers": GOOD_HEADERS}]
    assert judge("web.headers.x_content_type_options", data).status == Status.WARN


def test_without_an_https_response_the_headers_are_an_error():
    data = good()
    data["https"] = {"error": Reason.TIMEOUT, "detail": "drip"}
    finding = judge("web.headers.csp", data)
    assert finding.status == Status.ERROR and finding.reason == Reason.TIMEOUT


# --- web.headers.x_frame_options ----------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["DENY", "sameorigin"])
def test_x_frame_options_deny_or_sameorigin_passes(value):
    assert judge("web.headers.x_frame_options", headers(["X-Frame-Options", value])).status == Status.PASS


def test_csp_frame_ancestors_stands_in_for_x_frame_options():
    data = headers(["Content-Security-Policy", "frame-ancestors 'self'"])
    assert judge("web.headers.x_frame_options", data).status == Status.PASS


def test_x_frame_options_missing_warns():
    assert judge("web.headers.x_frame_options", headers()).status == Status.WARN


def test_x_frame_options_first_value_counts():
    data = headers(["X-Frame-Options", "ALLOW-FROM https://elders.nl/"], ["X-Frame-Options", "DENY"])
    assert judge("web.headers.x_frame_options", data).status == Status.WARN


# --- web.headers.x_content_type_options ---------------------------------------------------------------------

def test_nosniff_passes():
    assert judge("web.headers.x_content_type_options", headers(["x-content-type-options", "NoSniff"])).status \
        == Status.PASS


@pytest.mark.parametrize("pairs", [(), (["X-Content-Type-Options", "sniff"],)])
def test_anything_but_nosniff_warns(pairs):
    assert judge("web.headers.x_content_type_options", headers(*pairs)).status == Status.WARN


# --- web.headers.referrer_policy ----------------------------------------------------------------------------

@pytest.mark.parametrize("value, status", [
    ("no-referrer", Status.PASS),
    ("same-origin", Status.PASS),
    ("strict-origin", Status.INFO),
    ("strict-origin-when-cross-origin", Status.INFO),
    ("origin", Status.WARN),
    ("origin-when-cross-origin", Status.WARN),
    ("no-referrer-when-downgrade", Status.WARN),
    ("unsafe-url", Status.WARN),
    ("nonsense", Status.WARN),
    ("unsafe-url, no-referrer", Status.PASS),   # browsers take the last value they know
    ("no-referrer, nonsense", Status.PASS),
])
def test_referrer_policy_values(value, status):
    assert judge("web.headers.referrer_policy", headers(["Referrer-Policy", value])).status == status


def test_referrer_policy_missing_warns():
    assert judge("web.headers.referrer_policy", headers()).status == Status.WARN


# --- web.headers.csp ----------------------------------------------------------------------------------------

STRICT = "default-src 'self'; base-uri 'none'; frame-ancestors 'self'; form-action 'self'"


def csp(value):
    return judge("web.headers.csp", headers(["Content-Security-Policy", value]))


@pytest.mark.parametrize("value", [
    STRICT,
    f"default-src 'self' https://{HOST}; base-uri 'self'; frame-ancestors 'none'; form-action 'self' {HOST}",
    STRICT + "; img-src 'self' data: https://cdn.test.nl; script-src 'self' 'nonce-abc'",
])
def test_a_strict_csp_passes(value):
    assert csp(value).status == Status.PASS


def test_csp_missing_warns():
    assert judge("web.headers.csp", headers()).status == Status.WARN


@pytest.mark.parametrize("directive", ["default-src", "base-uri", "frame-ancestors", "form-action"])
def test_each_required_directive_missing_warns(directive):
    value = "; ".join(part for part in STRICT.split("; ") if not part.startswith(directive))
    finding = csp(value)
    assert finding.status == Status.WARN and finding.addresses[0].details["missing"] == [directive]


@pytest.mark.parametrize("value", [
    "default-src 'self' https://cdn.elders.nl; base-uri 'self'; frame-ancestors 'self'; form-action 'self'",
    "default-src 'self'; base-uri *; frame-ancestors 'self'; form-action 'self'",
])
def test_default_src_and_base_uri_must_stay_on_the_site(value):
    assert csp(value).status == Status.WARN


@pytest.mark.parametrize("source", ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "http:", "https:", "*",
                                    "http://cdn.test.nl"])
def test_forbidden_sources_warn(source):
    finding = csp(f"{STRICT}; script-src 'self' {source}")
    assert finding.status == Status.WARN
    assert finding.addresses[0].details["too_wide"] == [f"script-src {source}"]


@pytest.mark.parametrize("directive", ["script-src", "object-src"])
def test_data_in_script_or_object_src_warns(directive):
    assert csp(f"{STRICT}; {directive} 'self' data:").status == Status.WARN


def test_only_the_first_csp_header_counts():
    data = headers(["Content-Security-Policy", "default-src *"], ["Content-Security-Policy", STRICT])
    assert judge("web.headers.csp", data).status == Status.WARN
