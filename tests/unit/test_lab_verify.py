"""The comparison `govscan lab verify` prints: mismatches, not-implemented expectations counted apart, and
the exact agreement line."""
from __future__ import annotations

import io

from rich.console import Console

from lab.verify import Comparison, Outcome, render


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


def test_json_round_trip_keeps_the_no_ipv6_results():
    data = outcome().to_json()
    assert data["declared"] == 3 and data["met"] == 2 and len(data["mismatches"]) == 1
    again = Outcome.from_json(data)
    assert again.agreement == outcome().agreement
    assert [c.without_ipv6 for c in again.compared] == [False, False, True]
