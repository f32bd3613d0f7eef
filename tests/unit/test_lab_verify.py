"""The comparison `govscan lab verify` prints: mismatches, not-implemented expectations counted apart, and
the exact agreement line."""
from __future__ import annotations

import io
import textwrap

from rich.console import Console

from govscan.model import Finding, Site, SiteResult, Status, Text
from lab.scenario import loads
from lab.verify import Comparison, Outcome, compare_results, render


def outcome() -> Outcome:
    return Outcome(
        compared=[Comparison("www.a.nl", "dns.dnssec", "pass", "pass"),
                  Comparison("www.a.nl", "web.https.hsts", "pass", "fail", "HSTS ontbreekt"),
                  Comparison("www.b.nl", "web.ipv6.reachable", "error", "error", without_ipv6=True)],
        not_implemented=[Comparison("www.b.nl", "mail.dane", "pass", "not implemented")])


def test_the_agreement_line_counts_compared_expectations_only():
    assert outcome().agreement == "agreement: 2/3 expectations met, 1 mismatches"
    assert Outcome().agreement == "agreement: 0/0 expectations met, 0 mismatches"


def test_render_lists_mismatches_and_not_implemented_and_ends_with_the_agreement():
    out = io.StringIO()
    render(outcome(), Console(file=out, width=200))
    text = out.getvalue()
    assert "web.https.hsts" in text and "HSTS ontbreekt" in text
    assert "mail.dane" in text and "not implemented: 1 expectations" in text
    assert "dns.dnssec" not in text  # met expectations are not listed
    assert text.rstrip().splitlines()[-1] == "agreement: 2/3 expectations met, 1 mismatches"


def test_an_expected_reason_is_compared_with_the_findings_reason():
    scenario = loads(textwrap.dedent("""\
        name: t
        sites:
          - host: www.a.nl
            expect: {a11y.wcag: error (refused_address), web.caa: error}
        """), "s.yaml")

    def result(reason):
        findings = [Finding("www.a.nl", check, Status.ERROR, Text("niet gemeten", "not measured"), {}, "", 1,
                            reason=reason) for check in ("a11y.wcag", "web.caa")]
        return SiteResult(Site("https://www.a.nl/", "www.a.nl"), {}, {}, findings, 0.0)

    met = compare_results(scenario, [result("refused_address")])
    assert [(c.check, c.got, c.met) for c in met.compared] == [("a11y.wcag", "error (refused_address)", True),
                                                               ("web.caa", "error", True)]
    connected = compare_results(scenario, [result("connect")])
    assert [(c.check, c.got) for c in connected.mismatches] == [("a11y.wcag", "error (connect)")]


def test_json_round_trip_keeps_the_no_ipv6_results():
    data = outcome().to_json()
    assert data["declared"] == 3 and data["met"] == 2 and len(data["mismatches"]) == 1
    again = Outcome.from_json(data)
    assert again.agreement == outcome().agreement
    assert [c.without_ipv6 for c in again.compared] == [False, False, True]
