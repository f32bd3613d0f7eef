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


def site_with(scan, tracker: str | None = None, session_cookie=False) -> str:
    """The host of the lab site without a banner that has this tracker (and session cookie) and nothing else."""
    return next(h for h, s in scan["sites"].items()
                if params(s).get("trackers", []) == ([tracker] if tracker else [])
                and params(s).get("banner", "none") == "none" and s["session_cookie"] == session_cookie)


def cookie_finding(scan, host: str):
    return next(f for f in scan["results"][host].findings if f.check == "privacy.tracking_cookies")


def seen_cookies(scan, host: str) -> list[dict]:
    """Every cookie the browser had after the visits without interaction, as the probe recorded it."""
    artifact = scan["results"][host].site_artifacts["browser"]
    return [c for v in artifact.data["visits"] if v["state"] == "none" for c in v["cookies"]]


def test_a_marketing_cookie_only_the_open_cookie_database_knows_fails_with_its_platform(scan):
    host = site_with(scan, "quantcast")
    finding = cookie_finding(scan, host)
    assert finding.status == Status.FAIL
    assert "__qca (Quantcast)" in finding.summary.en and "__qca (Quantcast)" in finding.summary.nl
    qca = next(c for c in finding.details["tracking"] if c["name"] == "__qca")
    assert (qca["platform"], qca["category"], qca["listed_by"]) == ("Quantcast", "marketing", "open-cookie-database")
    assert not qca["third_party"] and qca["set_by"]["via"] == "script"
    assert qca["set_by"]["url"].startswith("https://secure.quantserve.com/")


def test_an_unknown_persistent_third_party_cookie_is_a_warning_that_names_it(scan):
    host = site_with(scan, "widget")
    finding = cookie_finding(scan, host)
    assert finding.status == Status.WARN and "akw_bezoeker" in finding.summary.en
    assert finding.details["tracking"] == []
    [unknown] = finding.details["unknown_third_party"]
    assert (unknown["name"], unknown["domain"], unknown["session"]) == ("akw_bezoeker",
                                                                        "afvalkalender.govscan-lab.com", False)


def test_self_hosted_matomo_is_not_tracking(scan):
    host = site_with(scan, "matomo")
    finding = cookie_finding(scan, host)
    assert finding.status == Status.PASS
    assert finding.details["tracking"] == finding.details["unknown_third_party"] == []
    assert finding.details["unclassified"] == []
    matomo = [c for c in seen_cookies(scan, host) if c["name"].startswith(("_pk_id.", "_pk_ses."))]
    assert {c["name"].split(".")[0] for c in matomo} == {"_pk_id", "_pk_ses"}
    for cookie in matomo:
        assert cookie["domain"] == host and not cookie["third_party"] and not cookie["session"]
        assert cookie["set_by"]["via"] == "script" and cookie["set_by"]["url"].startswith(f"https://{host}/matomo/")


def test_instagrams_sessionid_tracks_and_the_sites_own_sessionid_does_not(scan):
    host = site_with(scan, "instagram", session_cookie="django")
    finding = cookie_finding(scan, host)
    assert finding.status == Status.FAIL and "sessionid (Instagram)" in finding.summary.en
    assert [(c["name"], c["domain"], c["platform"], c["third_party"]) for c in finding.details["tracking"]] == [
        ("sessionid", ".instagram.com", "Instagram", True)]
    assert finding.details["unclassified"] == []
    own = [c for c in seen_cookies(scan, host) if c["name"] == "sessionid" and c["domain"] == host]
    assert own and not own[0]["session"] and own[0]["set_by"]["via"] == "header"

    loket = site_with(scan, session_cookie="django")
    finding = cookie_finding(scan, loket)
    assert finding.status == Status.PASS and finding.details["unclassified"] == []
    assert any(c["name"] == "sessionid" and c["domain"] == loket for c in seen_cookies(scan, loket))
