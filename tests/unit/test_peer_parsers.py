"""The peer benchmark's readers of pa11y-ci's and Lighthouse's reports (tests/bench/peers/browser.py), on small
real outputs (tests/data/peers/): what each peer found must be read right, or the comparison with govscan lists
differences that are not there."""
import json
from pathlib import Path

from tests.bench.peers.browser import compare_axe, parse_lighthouse, parse_pa11y

DATA = Path(__file__).resolve().parents[1] / "data" / "peers"
TAGS = {"color-contrast": ["wcag2aa"], "image-alt": ["wcag2a"], "region": ["best-practice"]}


def test_pa11y_report_gives_violated_rules_per_page_and_pages_it_could_not_test():
    pages = parse_pa11y(json.loads((DATA / "pa11y-ci-report.json").read_text()))
    assert pages["https://www.bergveld.gov.nl/"] == {"violations": ["color-contrast", "image-alt"],
                                                    "needs_review": [], "error": None}
    assert pages["https://www.bergveld.gov.nl/nieuws"]["violations"] == []
    assert "ERR_NAME_NOT_RESOLVED" in pages["https://www.example-unreachable.nl/"]["error"]


def test_lighthouse_report_gives_failed_accessibility_audits_and_third_party_cookies():
    report = parse_lighthouse(json.loads((DATA / "lighthouse-front.json").read_text()))
    assert report["url"] == "https://www.veldstad.nl/"
    assert report["error"] is None
    assert report["axe_version"] == "4.14.1"
    assert report["violations"] == ["color-contrast", "image-alt"]  # not the not-applicable accesskeys
    assert report["third_party_cookies"] == [["IDE", "doubleclick.net"]]


def test_differences_name_who_found_what_and_why():
    ours = {"https://a.nl/": {"violations": ["color-contrast"], "top_document": ["color-contrast"],
                              "needs_review": ["image-alt"]}}
    theirs = parse_pa11y({"results": {"https://a.nl/": [
        {"code": "image-alt", "runnerExtras": {"needsFurtherReview": False}},
        {"code": "region", "runnerExtras": {"needsFurtherReview": False}}]}})
    differences = compare_axe(ours, theirs, TAGS)["differences"]
    why = {(d["rule"], d["found_by"]): d["why"] for d in differences}
    assert why[("image-alt", "peer")].startswith("govscan's axe listed it as needs review")
    assert why[("region", "peer")].startswith("deliberate: axe best-practice rule")
    assert why[("color-contrast", "govscan")] == "unexplained"
