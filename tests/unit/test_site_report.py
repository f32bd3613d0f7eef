"""What to fix first (reports/site_report.py): one order and one summary, the same in the terminal
(`govscan check`) and in the JSON; the HTML page is tested in test_check_report.py."""
from __future__ import annotations

import io
import re

from rich.console import Console

from govscan.model import AddressResult, CheckInfo, Finding, Status, Text
from reports import console, json_report
from reports.site_report import Part, SiteReport, Summary, fix_first


def info(check_id: str, level: str, family: str) -> CheckInfo:
    return CheckInfo(check_id, 1, level, family, f"Norm of {check_id}", Text(f"Titel {check_id}", f"Title {check_id}"),
                     Text(f"Los {check_id} op.", f"Fix {check_id}."))


CATALOGUE = {c.id: c for c in (
    info("web.dns.ok", "required", "dns"),           # the first family passes...
    info("web.https.hsts", "required", "https"),     # ...the second fails: the failure still comes first
    info("web.https.caa", "recommended", "https"),
    info("web.tls.version", "required", "tls"),
    info("web.tls.cipher_order", "required", "tls"),
    info("web.tls.ocsp", "informational", "tls"),
    info("web.ipv6.address", "required", "ipv6"),
)}


def finding(check: str, status: Status, summary: str = "", **kw) -> Finding:
    summary = summary or f"{check} is {status}"
    return Finding("www.example.nl", check, status, Text(summary, summary), kw.pop("details", {}), "", 1, **kw)


def example() -> SiteReport:
    hsts = finding("web.https.hsts", Status.FAIL, "HSTS te kort", details={"addresses": ["192.0.2.1", "192.0.2.2"]},
                   addresses=[AddressResult("192.0.2.1", Status.PASS, Text("goed", "good")),
                              AddressResult("192.0.2.2", Status.FAIL, Text("max-age=60", "max-age=60"),
                                            {"header": "max-age=60"})])
    return SiteReport("https://www.example.nl/", "www.example.nl", [
        finding("web.dns.ok", Status.PASS),
        hsts,
        finding("web.https.caa", Status.FAIL),          # recommended: a warning, not a thing to fix first
        finding("web.tls.version", Status.WARN),
        finding("web.tls.cipher_order", Status.ERROR, reason="timeout"),
        finding("web.tls.ocsp", Status.INFO),
        finding("web.ipv6.address", Status.FAIL),
        finding("web.gone.check", Status.FAIL),         # no longer registered: its level is unknown
    ], {"ipv4": ["192.0.2.1", "192.0.2.2"]}, run_id=3, seconds=1.5)


def test_failing_required_checks_first_then_warnings_then_not_measured_then_the_rest():
    sections = fix_first(example(), CATALOGUE)
    assert [(s.part, [f.check for f in s.findings()]) for s in sections] == [
        (Part.FIX, ["web.https.hsts", "web.ipv6.address"]),
        (Part.WARN, ["web.https.caa", "web.tls.version", "web.gone.check"]),
        (Part.ERROR, ["web.tls.cipher_order"]),
        (Part.REST, ["web.dns.ok", "web.tls.ocsp"]),
    ]
    assert list(sections[0].families) == ["https", "ipv6"]  # grouped per family inside each part


def test_summary_counts_the_required_checks_and_all_checks():
    summary = Summary.of(example(), CATALOGUE)
    assert (summary.required[Status.FAIL], summary.required[Status.WARN], summary.required[Status.ERROR]) == (2, 1, 1)
    assert summary.text().en == ("Required checks failing: 2; warning: 1; not measured: 1. "
                                 "All 8 checks: 4 fail, 1 error, 1 warn, 1 info, 1 pass")
    assert summary.text().nl.startswith("Verplichte controles die niet voldoen: 2; met een waarschuwing: 1; "
                                        "niet gemeten: 1. Alle 8 controles: 4 voldoet niet")


def printed(report: SiteReport, lang: str) -> str:
    out = io.StringIO()
    console.site_report(Console(file=out, width=300, highlight=False, emoji=False), report, CATALOGUE, lang)
    return out.getvalue()


def test_check_text_opens_with_the_summary_and_shows_what_to_fix_first():
    text = printed(example(), "en")
    lines = text.splitlines()
    assert lines[2].startswith("Required checks failing: 2; warning: 1; not measured: 1.")
    order = [text.index(s) for s in ("Fix first", "Title web.https.hsts", "Title web.ipv6.address", "Warnings",
                                     "Title web.https.caa", "Not measured", "Title web.tls.cipher_order",
                                     "The rest", "Title web.dns.ok")]
    assert order == sorted(order)
    # what was found, per address, the norm and how to fix it, for what fails
    assert re.search(r"192\.0\.2\.2 +fail +max-age=60", text) and "header: max-age=60" in text
    assert "Norm: Norm of web.https.hsts" in text and "How to fix: Fix web.https.hsts." in text
    # the rest: one line per check, without advice
    assert re.search(r"pass +Title web\.dns\.ok  web\.dns\.ok  web\.dns\.ok is pass", text)
    assert "Fix web.dns.ok." not in text


def test_check_text_in_dutch():
    text = printed(example(), "nl")
    assert "Verplichte controles die niet voldoen: 2" in text
    order = [text.index(s) for s in ("Eerst oplossen", "Waarschuwingen", "Niet gemeten", "De rest")]
    assert order == sorted(order)
    assert "Oplossing: Los web.https.hsts op." in text


def test_json_has_the_summary_and_the_order_and_keeps_the_findings_as_registered():
    report = example()
    data = json_report.site(report, CATALOGUE)
    assert data["summary"]["required"] == {"fail": 2, "warn": 1, "error": 1}
    assert data["summary"]["text"]["en"] == Summary.of(report, CATALOGUE).text().en
    assert [(p["part"], p["checks"]) for p in data["fix_first"]] == [
        ("fix", ["web.https.hsts", "web.ipv6.address"]),
        ("warn", ["web.https.caa", "web.tls.version", "web.gone.check"]),
        ("error", ["web.tls.cipher_order"]),
        ("rest", ["web.dns.ok", "web.tls.ocsp"]),
    ]
    assert data["fix_first"][0]["title"]["en"] == "Fix first: required checks that fail"
    assert [f["check"] for f in data["findings"]] == [f.check for f in report.findings]
    assert data["counts"]["fail"] == 4


def test_a_site_with_nothing_wrong_has_only_the_rest():
    report = SiteReport("https://www.example.nl/", "www.example.nl", [finding("web.dns.ok", Status.PASS)])
    assert [s.part for s in fix_first(report, CATALOGUE)] == [Part.REST]
    assert Summary.of(report, CATALOGUE).text().en == ("Required checks failing: 0; warning: 0; not measured: 0. "
                                                      "All 1 checks: 1 pass")
