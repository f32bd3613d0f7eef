"""The web service passes its own checks (issue 16, item 7): govscan's header and privacy checks, and axe-core
on every page.

The service (create_app on uvicorn, a fresh SQLite store) is served over HTTPS with a throwaway CA at
govscan.test, a name only the scanner's resolver knows, on 127.77.16.2 port 443: the standard port, so the
probes and the browser reach it as they reach any site, and an address of its own, so no other test's server
is in the way. The settings allow loopback in [scan] allowed_networks, which is what lets govscan's probes
reach it at all (`govscan serve` itself refuses its own addresses).

Someone types govscan.test into the form in Chromium (Playwright), and the service's own background scanner
checks it: the real Runner with the HTTP and Browser probes (its third-party cookie canary served next to it)
and govscan's checks of the security headers, HSTS, tracking and WCAG. Two more checks are held in the
scanner's place (one running, one waiting in line) so their progress pages can be tested. Then axe-core (the
pinned copy the Browser probe uses, with its WCAG 2.1 A and AA tags) runs on every page: the form (also
with a refused input), the progress pages, the reports, the accessibility statement, the not-found page, the
dashboard (/dashboard/) and every page the links lead to, in Dutch and English.
"""
from __future__ import annotations

import asyncio
import ssl
import threading
import time
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
import uvicorn
from playwright.sync_api import sync_playwright

from checks.registry import select
from govscan.model import AddressResult, Finding, Organisation, Site, SiteResult, Status, Text
from scanner import runner as runner_module
from scanner.config import load
from scanner.probes.browser import AXE_TAGS, JS_DIR
from scanner.service.app import create_app
from scanner.service.jobs import FamilyProgress, Jobs
from storage.store import Store
from tests.integration.local_https import LocalWeb, MappedResolver, make_ca

HOST = "govscan.test"
ADDRESS = "127.77.16.2"
HELD = ("www.bezig.test", "www.wachtrij.test")  # checks kept running / waiting while their pages are tested
CHROMIUM = "/usr/bin/chromium"
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'><b>bold</b>"
OWN_CHECKS = "web.headers.*,web.https.hsts,privacy.*,a11y.wcag"
MUST_PASS = ("web.headers.csp", "web.headers.x_frame_options", "web.headers.x_content_type_options",
             "web.headers.referrer_policy", "web.https.hsts", "privacy.tracking_cookies", "privacy.trackers",
             "a11y.wcag")
SCAN_SECONDS = 240
HTML = {"Content-Type": "text/html; charset=utf-8"}
CANARY = {  # the Browser probe's check that third-party cookies are seen at all (as in test_browser_local)
    ("canary.test", "/"): (200, HTML, "<img src='https://pixel.test:{port}/canary' alt=''>"),
    ("pixel.test", "/canary"): (200, {"Content-Type": "image/gif",
                                      "Set-Cookie": "IDE=canary; Max-Age=600; SameSite=None; Secure"}, "GIF89a"),
}


def wait_until(predicate, what: str, seconds: float = SCAN_SECONDS):
    deadline = time.monotonic() + seconds
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.2)
    return result


class SelfScan:
    """The scan the service's Jobs run: govscan.test with govscan's own checks through the real Runner;
    the held sites report progress and wait until `released`."""

    def __init__(self):
        self.released = threading.Event()
        self.results: dict[str, SiteResult] = {}

    async def __call__(self, settings, checks, site: Site, facts, progress) -> SiteResult:
        if site.host in HELD:
            tracked = progress[site.host] = FamilyProgress({"https": {"http"}, "privacy": {"browser"}}, set(),
                                                           {"http": 1, "browser": 1})
            tracked.done["http"] = 1
            while not self.released.is_set():
                await asyncio.sleep(0.05)
            return SiteResult(site, {}, {}, [], 0.0)
        runner = runner_module.Runner(settings, select(OWN_CHECKS), run_facts=facts)
        self.results[site.host] = (await runner.run([site]))[0]
        return self.results[site.host]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    directory = tmp_path_factory.mktemp("own-checks")
    canary = LocalWeb(CANARY, directory).start()
    (directory / "service").mkdir()
    ca, cert, key = make_ca(directory / "service", [HOST])
    bundle = directory / "bundle.pem"
    bundle.write_bytes(ca.read_bytes() + canary.ca.read_bytes())
    settings = load(overrides={
        "trust": {"ca_bundle": str(bundle)},
        "scan": {"allowed_networks": ["127.0.0.0/8"]},
        # axe on every sampled subpage: the service's own pages are all judged, and the security.txt every
        # page links is visited as a subpage
        "browser": {"canary_url": canary.url("canary.test"), "settle_seconds": 1.0, "subpages": 4,
                    "axe_subpages": 4, "visit_timeout": 30.0},
        "service": {"sites_at_once": 1},
    })
    resolver = MappedResolver({HOST: ADDRESS, "canary.test": "127.0.0.1", "pixel.test": "127.0.0.1"})
    scan = SelfScan()
    store = Store(f"sqlite:///{directory}/govscan.db")
    # lab=True: the dashboard's maps draw the lab's fictitious boundaries, not PDOK's (no download)
    app = create_app(settings, store, lab=True, jobs=Jobs(settings, store, scan=scan))
    server = uvicorn.Server(uvicorn.Config(app, host=ADDRESS, port=443, ssl_certfile=str(cert), ssl_keyfile=str(key),
                                           proxy_headers=False, server_header=False, log_level="warning"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner_module, "Resolver", lambda _dns: resolver)  # govscan.test is known only here
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        wait_until(lambda: server.started, "uvicorn to start", 30)
        try:
            yield {"app": app, "scan": scan, "base": f"https://{HOST}", "ca": str(ca)}
        finally:
            scan.released.set()
            server.should_exit = True
            thread.join(timeout=60)
            canary.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=[f"--host-resolver-rules=MAP {HOST} {ADDRESS}"])
        context = chromium.new_context(ignore_https_errors=True)
        yield context.new_page()
        chromium.close()


@pytest.fixture(scope="module")
def checked(service, browser):
    """Checks started from the form: govscan.test scanned to its report, one held site running and one
    waiting; and a stored check that fails. Returns {host (or "failing"): check page URL}."""
    base = service["base"]
    pages = {"failing": stored_failing_check(service)}  # first: the dashboard, once rendered, shows it
    for host in (HOST, *HELD):
        browser.goto(base + "/")
        browser.fill("#site", host)
        browser.click("button[type=submit]")
        browser.wait_for_url(f"{base}/check/*")
        pages[host] = browser.url
    wait_until(lambda: state(service, pages[HOST]) == "done", "the check of the service itself")
    return pages


def stored_failing_check(service) -> str:
    """The page of a check with something in every part of the report (a required check failing on one of
    two addresses, a warning, one not measured, passes), its texts carrying markup as a hostile site's would;
    its site belongs to an organisation and a site list names it (a nightly run), so the dashboard has an
    organisation page and a coloured map. Stored directly, as the scanner stores a site (runs without queued
    sites: no scanner takes them)."""
    store = service["app"].state.service.store
    site = Site("https://www.zwakstad.test/", "www.zwakstad.test",
                Organisation("Gemeente Zwakstad", "gemeente", "GM9901"))
    findings = [
        Finding(site.host, "web.https.hsts", Status.FAIL, Text(f"max-age=60 {HOSTILE}", f"max-age=60 {HOSTILE}"),
                {}, "norm", 1, addresses=[
                    AddressResult("192.0.2.1", Status.PASS, Text("HSTS staat aan.", "HSTS is on.")),
                    AddressResult("2001:db8::1", Status.FAIL, Text("max-age=60", "max-age=60"),
                                  {"header": f"max-age=60; {HOSTILE}"})]),
        Finding(site.host, "web.headers.csp", Status.WARN, Text("Geen CSP.", "No CSP."), {"header": None}, "n", 1),
        Finding(site.host, "web.tls.version", Status.ERROR, Text("Geen antwoord.", "No answer."), {}, "n", 1,
                reason="timeout"),
        Finding(site.host, "dns.dnssec", Status.PASS, Text("Ondertekend.", "Signed."), {}, "n", 1),
        Finding(site.host, "privacy.consent_banner", Status.INFO, Text(HOSTILE, HOSTILE), {}, "n", 1),
    ]
    for kind, source in (("nightly", "sites.csv"), ("on-demand", "serve:check:127.0.0.1")):
        run_id = store.start_run(kind, [], source=source)
        store.record_site(run_id, SiteResult(site, {}, {}, findings, 1.0))
        store.finish_run(run_id)
    return f"{service['base']}/check/{run_id}"


def state(service, page_url: str) -> str:
    """A check's state from its JSON, fetched at the service's address with its name (as the browser)."""
    path = urlsplit(page_url).path
    with httpx.Client(verify=ssl.create_default_context(cafile=service["ca"]), timeout=30) as client:
        request = client.build_request("GET", f"https://{ADDRESS}{path}.json", headers={"Host": HOST},
                                       extensions={"sni_hostname": HOST})
        return client.send(request).json()["state"]


def test_the_service_passes_its_own_header_and_privacy_checks(service, checked):
    findings = {f.check: f for f in service["scan"].results[HOST].findings}
    assert set(MUST_PASS) <= set(findings)
    bad = {c: (f.status, f.summary.en, f.details) for c, f in findings.items()
           if f.status in (Status.FAIL, Status.WARN, Status.ERROR)}
    assert not bad, bad
    assert all(findings[c].status == Status.PASS for c in MUST_PASS), {c: findings[c].status for c in MUST_PASS}
    # every page links security.txt: visited, but as a text file not judged as a web page
    assert f"https://{HOST}/.well-known/security.txt" in findings["a11y.wcag"].details["pages"]


def test_the_report_of_the_service_itself_shows_no_failures(service, browser, checked):
    browser.goto(checked[HOST] + "?lang=en")
    summary = browser.inner_text(".govscan-summary")
    assert summary.startswith("Required checks failing: 0; warning: 0; not measured: 0.")
    assert browser.locator("#part-fix").count() == 0


def test_a_failing_report_opens_with_what_to_fix_first_and_shows_markup_as_text(browser, checked):
    browser.goto(checked["failing"] + "?lang=en")
    assert browser.inner_text(".govscan-summary").startswith("Required checks failing: 1; warning: 0; "
                                                            "not measured: 1.")
    assert browser.locator("main h2").all_inner_texts() == [
        "Fix first: required checks that fail (1)", "Warnings (1)", "Not measured (1)", "The rest (2)"]
    hsts = browser.locator("#check-web\\.https\\.hsts")
    assert "How to fix" in hsts.inner_text() and hsts.locator("table caption").inner_text().endswith("per IP address")
    assert HOSTILE in browser.inner_text("main") and browser.locator("main img, main b, main script").count() == 0
    assert not browser.locator("main details").evaluate("d => d.open")  # the rest, collapsed


def axe(page) -> list[dict]:
    """axe-core's WCAG 2.1 A and AA violations in the page and each of its frames."""
    source = (JS_DIR / "axe.min.js").read_text(encoding="utf-8")
    run = (JS_DIR / "axe_run.js").read_text(encoding="utf-8")
    violations = []
    for frame in page.frames:
        frame.evaluate(source + "\n;true")
        violations += frame.evaluate(run, AXE_TAGS)["violations"]
    return violations


def test_axe_as_run_here_finds_violations(browser):
    browser.set_content('<img src="x.png">')
    assert {"image-alt", "html-has-lang", "document-title"} <= {v["id"] for v in axe(browser)}


def links_of(page, base: str) -> set[str]:
    """The service's HTML pages the page links to (not its files, JSON or API)."""
    found = set()
    for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
        url = urljoin(page.url, href).split("#")[0]
        path = urlsplit(url).path
        if url.startswith(base + "/") and not path.startswith(("/static/", "/api/", "/.well-known/")) \
                and not path.endswith((".json", ".csv", ".txt", ".svg", ".png")):
            found.add(url)
    return found


def test_every_page_is_axe_clean(service, browser, checked):
    base = service["base"]
    wait_until(lambda: state(service, checked[HELD[0]]) == "running", "the held check to run", 60)
    assert state(service, checked[HELD[1]]) == "queued"
    to_visit = [base + "/", base + "/?lang=en", base + "/toegankelijkheid", base + "/bestaat-niet",
                base + "/dashboard/", *(page + suffix for page in checked.values() for suffix in ("", "?lang=en"))]
    seen, found = set(), {}
    while to_visit and len(seen) < 100:
        url = to_visit.pop(0)
        if url in seen:
            continue
        seen.add(url)
        browser.goto(url)
        for violation in axe(browser):
            found.setdefault(url, []).append((violation["id"], violation["impact"], violation["selectors"]))
        to_visit += sorted(links_of(browser, base) - seen)
    # the form with a refused input and its message
    browser.goto(base + "/")
    browser.fill("#site", "127.0.0.1")
    browser.click("button[type=submit]")
    assert browser.locator("#site-error").count() == 1
    for violation in axe(browser):
        found.setdefault("the form with a refusal", []).append((violation["id"], violation["impact"],
                                                                violation["selectors"]))
    assert {f"{base}/", f"{base}/toegankelijkheid", checked[HOST], checked["failing"], f"{base}/dashboard/trends.html",
            f"{base}/dashboard/maps/all.html", f"{base}/dashboard/organisations/gm9901.html"} <= seen
    assert not found, found
