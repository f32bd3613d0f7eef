"""The browser probe with the privacy and accessibility checks against the running lab: every expectation
the lab's scenario states for these checks is met (trackers, banners, statements, WCAG, pages that hang the
browser), and the third-party cookie canary passes with the lab's canary page."""
import asyncio
import time

import pytest

from checks.registry import select
from scanner import config
from govscan.model import Site, Status
from scanner.runner import Runner
from lab import scenario as lab_scenario
from lab.verify import compare_results

pytestmark = pytest.mark.lab

CHECKS = "privacy.*,a11y.*"


@pytest.fixture(scope="module")
def scan(lab):
    """One run of these checks over every lab site that states an expectation for one of them."""
    settings = config.load(lab=True)
    checks = select(CHECKS)
    ids = {c.id for c in checks}
    scenario = lab_scenario.load(settings.extra["lab"]["scenario"])
    sites = [s for s in scenario.sites if ids & set(s.get("expect") or {})]
    runner = Runner(settings, checks)
    started = time.monotonic()
    results = asyncio.run(runner.run([Site(f"https://{s['host']}/", s["host"]) for s in sites]))
    return {"settings": settings, "ids": ids, "sites": {s["host"]: s for s in sites},
            "results": {r.site.host: r for r in results}, "seconds": time.monotonic() - started}


def test_every_privacy_and_accessibility_expectation_is_met(scan):
    outcome = compare_results(lab_scenario.load(scan["settings"].extra["lab"]["scenario"]),
                              scan["results"].values(), CHECKS, lang="en")
    assert outcome.compared and not outcome.not_implemented
    assert [(c.site, c.check, c.expected, c.got, c.summary) for c in outcome.mismatches] == []

def test_hanging_pages_are_errors_within_the_site_budget(scan):
    budget = scan["settings"].browser.visit_timeout * (scan["settings"].browser.subpages + 6)
    hostile = [h for h, s in scan["sites"].items() if s.get("hostile") in ("js_loop", "js_dialogs")]
    assert hostile
    for host in hostile:
        result = scan["results"][host]
        artifact = result.site_artifacts["browser"]
        assert artifact.error in ("timeout", "browser"), artifact.error_detail
        assert result.seconds < budget * 2


def params(site: dict) -> dict:
    return (site.get("pages") or {}).get("params") or {}


def test_ga_cookie_set_by_script_on_the_first_party_domain(scan):
    host = next(h for h, s in scan["sites"].items()
                if "analytics" in params(s).get("trackers", []) and params(s).get("banner") == "none")
    finding = next(f for f in scan["results"][host].findings if f.check == "privacy.tracking_cookies")
    ga = next(c for c in finding.details["tracking"] if c["name"] == "_ga")
    assert not ga["third_party"] and ga["set_by"]["via"] == "script"
    assert "googletagmanager.com" in ga["set_by"]["url"]


def test_statement_found_only_through_the_register_label(scan):
    host = next(h for h, s in scan["sites"].items()
                if isinstance(params(s).get("statement"), dict) and params(s)["statement"]["where"] == "register_label"
                and s["expect"].get("a11y.statement") == "pass")
    finding = next(f for f in scan["results"][host].findings if f.check == "a11y.statement")
    assert finding.status == Status.PASS
    assert finding.details["statement"]["found_via"] == "register_label"
