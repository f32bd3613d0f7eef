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


@pytest.mark.parametrize("pairs", [
    [["Content-Security-Policy", "default-src 'self'"], ["Content-Security-Policy", "frame-ancestors 'none'"]],
    [["Content-Security-Policy", "default-src 'self', frame-ancestors 'none'"]]])
def test_frame_ancestors_in_any_enforced_csp_stands_in_for_x_frame_options(pairs):
    assert judge("web.headers.x_frame_options", headers(*pairs)).status == Status.PASS


def test_frame_ancestors_in_a_report_only_csp_does_not_stand_in_for_x_frame_options():
    data = headers(["Content-Security-Policy-Report-Only", "frame-ancestors 'self'"])
    assert judge("web.headers.x_frame_options", data).status == Status.WARN


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


# Every enforced policy applies: a resource must be allowed by all of them, so a directive is satisfied when
# any one policy satisfies it.

@pytest.mark.parametrize("pairs", [
    [["Content-Security-Policy", "default-src *"], ["Content-Security-Policy", STRICT]],
    [["Content-Security-Policy", STRICT], ["Content-Security-Policy", "script-src * 'unsafe-inline'"]],
    [["Content-Security-Policy", "default-src 'self'; base-uri 'self'"],
     ["Content-Security-Policy", "frame-ancestors 'self'; form-action 'self'"]],
    [["Content-Security-Policy", "default-src 'self'; base-uri 'self', frame-ancestors 'self'; form-action 'self'"]],
    [["Content-Security-Policy", f"{STRICT}; script-src 'self' 'unsafe-inline'"],
     ["Content-Security-Policy", "script-src 'self' 'nonce-r4nd0m'"]],
])
def test_the_enforced_policies_together_pass_when_each_rule_is_met_by_one_of_them(pairs):
    finding = judge("web.headers.csp", headers(*pairs))
    assert finding.status == Status.PASS and finding.addresses[0].details["headers"] == [v for _, v in pairs]


def test_a_directive_every_policy_sets_too_wide_warns_with_all_their_sources():
    data = headers(["Content-Security-Policy", f"{STRICT}; script-src 'self' 'unsafe-inline'"],
                   ["Content-Security-Policy", "script-src * 'unsafe-inline'"])
    finding = judge("web.headers.csp", data)
    assert finding.status == Status.WARN
    assert finding.addresses[0].details["too_wide"] == ["script-src 'unsafe-inline' *"]


def test_a_policy_without_the_directive_restricts_it_through_its_csp3_fallback():
    wide = ["Content-Security-Policy", f"{STRICT}; worker-src *"]
    assert judge("web.headers.csp", headers(wide, ["Content-Security-Policy", "script-src 'self'"])).status == Status.PASS
    finding = judge("web.headers.csp", headers(wide, ["Content-Security-Policy", "img-src 'self'"]))
    assert finding.status == Status.WARN and finding.addresses[0].details["too_wide"] == ["worker-src *"]


def test_a_directive_no_policy_has_is_missing():
    data = headers(["Content-Security-Policy", "default-src 'self'; base-uri 'self'"],
                   ["Content-Security-Policy", "default-src *, frame-ancestors 'self'"])
    finding = judge("web.headers.csp", data)
    assert finding.status == Status.WARN and finding.addresses[0].details["missing"] == ["form-action"]
    assert finding.addresses[0].details["policies"] == 3


def test_a_report_only_policy_enforces_nothing():
    data = headers(["Content-Security-Policy-Report-Only", STRICT], ["Content-Security-Policy", "default-src *"])
    finding = judge("web.headers.csp", data)
    assert finding.status == Status.WARN
    assert finding.addresses[0].details["missing"] == ["base-uri", "frame-ancestors", "form-action"]
