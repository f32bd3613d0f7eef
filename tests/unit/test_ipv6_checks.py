"""web.ipv6.* and domain.gov_nl on hand-built artifacts: a passing and a failing case for every rule, and
the scanner without IPv6 never giving a false pass or fail."""
from __future__ import annotations

import pytest

from checks.ipv6 import similarity
from checks.registry import all_checks, evaluate
from govscan.model import Artifact, Site, Status
from tests.unit.http_facts import HOST, SITE, good

V4, V6, V6B = "198.51.100.10", "2001:db8::10", "2001:db8::11"


def dns_artifact(ipv4=(V4,), ipv6=(V6,)) -> Artifact:
    return Artifact("dns", 1, HOST, {"host": HOST, "ipv4": list(ipv4), "ipv6": list(ipv6)})


def http(address: str, data: dict | None = None, error: str | None = None) -> Artifact:
    if error:
        return Artifact("http", 1, address, error=error, error_detail=f"{error} on {address}")
    return Artifact("http", 1, address, data if data is not None else page())


def page(body: str = "<html><body><h1>Gemeente Test</h1><p>Welkom</p></body></html>", status=200, port80=True):
    data = good()
    data["https"]["body"] = body
    data["https"]["status"] = status
    if not port80:
        data["tcp80"] = {"open": False, "error": "connect", "detail": "refused"}
        data.pop("http")
    return data


def judge(check_id, *, dns=None, addresses=None, run=None, site_artifacts=None, site=SITE):
    artifacts = {"dns": dns or dns_artifact(), **(site_artifacts or {})}
    by_address = {a: {"http": art} for a, art in (addresses or {}).items()}
    return evaluate(all_checks()[check_id], site, artifacts, by_address, {"ipv6": True} if run is None else run)


# --- web.ipv6.address ---------------------------------------------------------------------------------------

def test_address_with_aaaa_passes():
    assert judge("web.ipv6.address").status == Status.PASS


def test_address_without_aaaa_fails():
    assert judge("web.ipv6.address", dns=dns_artifact(ipv6=())).status == Status.FAIL


# --- web.ipv6.nameservers -----------------------------------------------------------------------------------

def ns(name, ipv6=(), answered=True):
    server = {"name": name, "ipv4": ["198.51.100.53"], "ipv6": list(ipv6)}
    server["ipv6_answers"] = {a: {"answered": answered, "transport": "udp" if answered else None} for a in ipv6}
    return server


def nameservers(*servers, tested=True):
    return {"nameservers": Artifact("nameservers", 1, HOST, {"zone": "test.nl", "nameservers": list(servers),
                                                               "ipv6_tested": tested})}


def test_two_name_servers_answering_over_ipv6_pass():
    artifacts = nameservers(ns("ns1", ["2001:db8:53::1"]), ns("ns2", ["2001:db8:53::2"]))
    assert judge("web.ipv6.nameservers", site_artifacts=artifacts).status == Status.PASS


def test_one_name_server_over_ipv6_warns():
    artifacts = nameservers(ns("ns1", ["2001:db8:53::1"]), ns("ns2"))
    finding = judge("web.ipv6.nameservers", site_artifacts=artifacts)
    assert finding.status == Status.WARN and "ns2" in finding.summary.en


def test_aaaa_that_does_not_answer_does_not_count():
    artifacts = nameservers(ns("ns1", ["2001:db8:53::1"]), ns("ns2", ["2001:db8:53::2"], answered=False))
    assert judge("web.ipv6.nameservers", site_artifacts=artifacts).status == Status.WARN


def test_no_name_server_over_ipv6_fails():
    assert judge("web.ipv6.nameservers", site_artifacts=nameservers(ns("ns1"), ns("ns2"))).status == Status.FAIL
    silent = nameservers(ns("ns1", ["2001:db8:53::1"], answered=False), ns("ns2"))
    assert judge("web.ipv6.nameservers", site_artifacts=silent).status == Status.FAIL


def test_name_servers_without_scanner_ipv6_are_an_error_unless_none_has_aaaa():
    untested = nameservers(ns("ns1", ["2001:db8:53::1"]), ns("ns2", ["2001:db8:53::2"]), tested=False)
    finding = judge("web.ipv6.nameservers", site_artifacts=untested, run={"ipv6": False})
    assert finding.status == Status.ERROR and finding.reason == "no_ipv6"
    # no AAAA at all is a fail that needs no IPv6 to see
    no_aaaa = nameservers(ns("ns1"), ns("ns2"), tested=False)
    assert judge("web.ipv6.nameservers", site_artifacts=no_aaaa, run={"ipv6": False}).status == Status.FAIL


def test_name_servers_whose_ipv6_address_is_refused_are_an_error_not_a_fail():
    refused = ns("ns1", ["::1"], answered=False)
    refused["ipv6_answers"]["::1"].update(error="refused_address", detail="::1 is loopback (::1/128): not connected")
    finding = judge("web.ipv6.nameservers", site_artifacts=nameservers(refused, ns("ns2", ["2001:db8:53::2"])))
    assert finding.status == Status.ERROR and finding.reason == "refused_address"
    assert finding.details["refused"] == {"::1": "::1 is loopback (::1/128): not connected"}
    # two others that answer decide without it
    enough = nameservers(refused, ns("ns2", ["2001:db8:53::2"]), ns("ns3", ["2001:db8:53::3"]))
    assert judge("web.ipv6.nameservers", site_artifacts=enough).status == Status.PASS


# --- web.ipv6.reachable -------------------------------------------------------------------------------------

def test_reachable_when_ipv6_accepts_the_ports_ipv4_does():
    finding = judge("web.ipv6.reachable", addresses={V4: http(V4), V6: http(V6)})
    assert finding.status == Status.PASS


def test_unreachable_ipv6_address_fails_listing_address_and_port():
    for error in ("connect", "timeout"):  # refused, or packets dropped while IPv4 answers
        finding = judge("web.ipv6.reachable", dns=dns_artifact(ipv6=(V6, V6B)),
                        addresses={V4: http(V4), V6: http(V6), V6B: http(V6B, error=error)})
        assert finding.status == Status.FAIL
        assert finding.details["unreachable"] == [f"[{V6B}]:80", f"[{V6B}]:443"]


def test_a_port_only_ipv4_serves_fails():
    finding = judge("web.ipv6.reachable", addresses={V4: http(V4), V6: http(V6, page(port80=False))})
    assert finding.status == Status.FAIL and finding.details["unreachable"] == [f"[{V6}]:80"]


def test_reachable_without_aaaa_is_not_applicable():
    finding = judge("web.ipv6.reachable", dns=dns_artifact(ipv6=()), addresses={V4: http(V4)})
    assert finding.status == Status.NOT_APPLICABLE


def test_reachable_without_scanner_ipv6_is_an_error_never_a_fail():
    addresses = {V4: http(V4), V6: http(V6, error="no_ipv6")}
    finding = judge("web.ipv6.reachable", addresses=addresses, run={"ipv6": False})
    assert finding.status == Status.ERROR and finding.reason == "no_ipv6"


def test_reachable_when_ipv4_answers_nothing_either_is_an_error():
    finding = judge("web.ipv6.reachable", addresses={V4: http(V4, error="timeout"), V6: http(V6, error="timeout")})
    assert finding.status == Status.ERROR


def test_ipv6_only_host_is_reachable_when_its_addresses_answer():
    dns = dns_artifact(ipv4=(), ipv6=(V6,))
    assert judge("web.ipv6.reachable", dns=dns, addresses={V6: http(V6)}).status == Status.PASS
    assert judge("web.ipv6.reachable", dns=dns, addresses={V6: http(V6, error="connect")}).status == Status.FAIL


# --- web.ipv6.same_content ----------------------------------------------------------------------------------

def test_same_content_passes_when_only_nonces_and_view_state_differ():
    def body(nonce, state):
        return (f'<html><head><script nonce="{nonce}">init()</script></head><body><form>'
                f'<input type="hidden" name="__VIEWSTATE" value="{state}"/><h1>Gemeente Test</h1>'
                "<p>Welkom bij de gemeente.</p></form></body></html>")
    addresses = {V4: http(V4, page(body("abc123", "dDwtMTA4NzA2OTkx"))), V6: http(V6, page(body("zz99", "x1y2")))}
    finding = judge("web.ipv6.same_content", addresses=addresses)
    assert finding.status == Status.PASS
    assert {c["similarity"] for c in finding.details["comparisons"]} == {1.0}


def test_other_content_over_ipv6_warns():
    other = "<html><body><h1>It works!</h1><p>Default page of the web server.</p></body></html>"
    finding = judge("web.ipv6.same_content", addresses={V4: http(V4), V6: http(V6, page(other))})
    assert finding.status == Status.WARN and f"{V6} https" in finding.summary.en


def test_other_status_over_ipv6_warns():
    finding = judge("web.ipv6.same_content", addresses={V4: http(V4), V6: http(V6, page(status=404))})
    assert finding.status == Status.WARN and "404" in finding.summary.en


def test_same_content_needs_both_families_and_scanner_ipv6():
    assert judge("web.ipv6.same_content", dns=dns_artifact(ipv6=()),
                 addresses={V4: http(V4)}).status == Status.NOT_APPLICABLE
    finding = judge("web.ipv6.same_content", addresses={V4: http(V4), V6: http(V6, error="no_ipv6")},
                    run={"ipv6": False})
    assert finding.status == Status.ERROR and finding.reason == "no_ipv6"


def test_similarity_reads_only_the_policy_length():
    head = "<p>" + "ab " * 200_000 + "</p>"
    assert similarity(head + "<p>one</p>", head + "<p>two</p>") == 1.0


def test_similarity_of_unrelated_large_pages_is_low():
    left = "".join(f"<p>regel {i}</p>" for i in range(5000))
    right = "".join(f"<div>anders {i * 7}</div>" for i in range(5000))
    assert similarity(left, right) < 0.5


# --- domain.gov_nl ------------------------------------------------------------------------------------------

def redirecting_to(final_host: str) -> dict:
    data = page()
    data["redirects"]["final_url"] = f"https://{final_host}/"
    data["redirects"]["final_host"] = final_host
    return data


@pytest.mark.parametrize("host", ["www.digitalezaken.gov.nl", "gov.nl"])
def test_gov_nl_host_is_reported(host):
    site = Site(f"https://{host}/", host)
    finding = judge("domain.gov_nl", site=site, addresses={V4: http(V4)})
    assert finding.status == Status.INFO and finding.details["gov_nl"] is True


def test_redirect_to_gov_nl_is_reported_with_the_final_host():
    finding = judge("domain.gov_nl", addresses={V4: http(V4, redirecting_to("www.test.gov.nl"))})
    assert finding.status == Status.INFO
    assert finding.details["gov_nl"] is True and finding.details["final_host"] == "www.test.gov.nl"


def test_site_not_on_gov_nl_is_reported_as_such():
    finding = judge("domain.gov_nl", addresses={V4: http(V4, redirecting_to("www.gov.nl.example.com"))})
    assert finding.status == Status.INFO and finding.details["gov_nl"] is False
    assert "www.gov.nl.example.com" in finding.summary.en


def test_gov_nl_without_any_answer_is_an_error():
    finding = judge("domain.gov_nl", addresses={V4: http(V4, error="timeout")})
    assert finding.status == Status.ERROR and finding.reason == "timeout"
