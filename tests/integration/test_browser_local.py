"""The browser probe against pages served here: a local HTTPS server with a throwaway CA, host names that
only the probe's resolver knows (through its SOCKS proxy), third-party cookies, a banner with reject on the
second layer, an iframe with an accessibility violation, a statement page, and pages that hang the browser.
No lab needed; Chromium is started for real."""
from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from scanner.config import load
from govscan.model import Site
from scanner.probes import browser as browser_module
from scanner.probes.base import ProbeContext, ProbeError
from scanner.probes.browser import BrowserProbe, ThirdPartyCookiesBlocked
from tests.integration.local_https import LocalWeb, MappedResolver
from tests.unit.fakedns import LOOPBACK

HTML = {"Content-Type": "text/html; charset=utf-8"}
PAGES = {
    ("canary.test", "/"): (200, HTML, "<img src='https://pixel.test:{port}/canary' alt=''>"),
    ("pixel.test", "/canary"): (200, {"Content-Type": "image/gif",
                                      "Set-Cookie": "IDE=canary; Max-Age=600; SameSite=None; Secure"}, "GIF89a"),
    ("pixel.test", "/p"): (200, {"Content-Type": "image/gif",
                                 "Set-Cookie": "IDE=abc; Path=/; Max-Age=3600; SameSite=None; Secure"}, "GIF89a"),
    ("pixel.test", "/embed"): (200, HTML, "<!doctype html><html><body><img src='x.png'>"
                               "<script>document.cookie='YSC=v; SameSite=None; Secure';"
                               "document.cookie='VISITOR_INFO1_LIVE=v; max-age=9999; SameSite=None; Secure'"
                               "</script></body></html>"),
    ("www.gemeente.test", "/"): (200, dict(HTML, **{"Set-Cookie": "PHPSESSID=s1; Path=/; HttpOnly"}), """<!doctype html>
<html lang="nl"><head><title>Gemeente</title></head><body>
<div id="cb" role="dialog">Wij gebruiken cookies.
  <button id="ok" onclick="document.cookie='_ga=GA1.1.1; max-age=63072000; path=/'; cb.remove()">Accepteren</button>
  <button onclick="l2.hidden=false">Instellingen</button>
  <div id="l2" hidden><button onclick="cb.remove()">Weigeren</button></div>
</div>
<main><h1>Welkom</h1><img src="https://pixel.test:{port}/p" alt="">
<a href="/afval">Afval</a> <a href="/video">Video</a> <a href="/folder.pdf">Folder</a></main>
<footer><a href="/toegankelijkheid">Toegankelijkheid</a></footer>
<script>setTimeout(function () { document.cookie = 'late=' + '7'.repeat(100) + '; max-age=999; path=/';
  localStorage.setItem('seen', '1') }, 300)</script>
</body></html>"""),
    ("www.gemeente.test", "/afval"): (200, HTML, "<!doctype html><html lang='nl'><head><title>Afval</title></head>"
                                      "<body><main><h1>Afval</h1></main></body></html>"),
    ("www.gemeente.test", "/video"): (200, HTML, "<!doctype html><html lang='nl'><head><title>Video</title></head>"
                                      "<body><main><h1>Video</h1><iframe title='video' "
                                      "src='https://pixel.test:{port}/embed'></iframe></main></body></html>"),
    ("www.gemeente.test", "/toegankelijkheid"): (200, HTML, "<!doctype html><html lang='nl'><head><title>T</title>"
                                                 "</head><body><h1>Toegankelijkheidsverklaring</h1>"
                                                 "<p>De status van deze website is: B</p></body></html>"),
    ("loop.test", "/"): (200, HTML, "<h1>Loop</h1><script>while (true) {}</script>"),
    ("dialogs.test", "/"): (200, HTML, "<h1>Dialogs</h1><script>while (true) { alert(1); confirm(2) }</script>"),
    ("slow.test", "/"): lambda: (time.sleep(6), (200, HTML, "<title>Traag</title><h1>Traag</h1>"))[1],
    ("busy.test", "/"): (200, HTML, "<title>Druk</title><h1>Busy</h1><script>const t = Date.now(); while (Date.now() - t < 1500) {}"
                                    "</script>"),
}


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    server = LocalWeb(PAGES, tmp_path_factory.mktemp("web")).start()
    yield server
    server.stop()


def settings_for(web, **browser):
    values = {"canary_url": web.url("canary.test"), "settle_seconds": 1.0, "subpages": 3, "visit_timeout": 8.0}
    values.update(browser)
    return load(overrides={"trust": {"ca_bundle": str(web.ca)}, "browser": values,
                           "scan": {"allowed_networks": LOOPBACK}})


def run_probe(web, sites: list[str], **browser) -> list:
    """Set the probe up, collect each site in turn (ProbeError kept as the result), tear down."""
    settings = settings_for(web, **browser)

    async def scan():
        ctx = ProbeContext(settings=settings, resolver=MappedResolver({h for h, _ in PAGES}),
                           executor=ThreadPoolExecutor(2))
        probe = BrowserProbe()
        await probe.setup(ctx)
        results = []
        try:
            for host in sites:
                started = time.monotonic()
                try:
                    outcome = await probe.collect(ctx, Site(web.url(host), host), None, {})
                except ProbeError as exc:
                    outcome = exc
                results.append((outcome, time.monotonic() - started))
        finally:
            await probe.teardown(ctx)
        return results

    return asyncio.run(scan())


def cookies_of(data: dict, state: str) -> dict:
    return {c["name"]: c for v in data["visits"] if v["state"] == state for c in v["cookies"]}


def test_a_visit_collects_cookies_requests_banner_axe_and_statement(web):
    [(data, _), (again, _)] = run_probe(web, ["www.gemeente.test", "www.gemeente.test"], axe_subpages=2)
    # isolation: the second scan starts clean although the first one accepted (and got _ga)
    assert "_ga" in cookies_of(data, "accept")
    assert "_ga" not in cookies_of(again, "none") and "_ga" not in cookies_of(again, "reject")
    assert {c["name"] for c in again["visits"][0]["cookies"]} == {c["name"] for c in data["visits"][0]["cookies"]}
    none = cookies_of(data, "none")
    assert data["site_domain"] == "gemeente.test"
    # the third-party pixel cookie, with the response that set it
    assert none["IDE"]["third_party"] and none["IDE"]["set_by"]["via"] == "header"
    assert none["IDE"]["set_by"]["url"].startswith("https://pixel.test:")
    # cookies set by script inside a third-party iframe, and a first-party cookie set after load
    assert none["VISITOR_INFO1_LIVE"]["third_party"] and none["VISITOR_INFO1_LIVE"]["set_by"]["via"] == "script"
    assert none["YSC"]["session"]
    assert none["late"]["set_by"]["via"] == "script" and none["late"]["set_by"]["seconds"] >= 0.3
    assert none["PHPSESSID"]["value"] == "s1" and none["late"]["value"] == "7" * 64  # [browser] cookie_value_chars
    assert not none["PHPSESSID"]["third_party"] and none["PHPSESSID"]["session"]
    assert "_ga" not in none
    front = data["visits"][0]
    assert any(r["host"] == "pixel.test" and r["third_party"] for r in front["requests"])
    assert front["local_storage"][0]["keys"] == ["seen"]
    # subpages sampled deterministically, files skipped
    assert [p["url"].rsplit("/", 1)[1] for p in data["pages"]] == ["", "afval", "video", "toegankelijkheid"]
    # the banner: accept on the first layer, reject behind "Instellingen"
    assert data["banner"]["platform"] == "generic" and data["banner"]["screenshot_png_b64"]
    assert data["consent"]["accept"]["clicks"] == 1 and data["consent"]["reject"]["clicks"] == 2
    assert "_ga" in cookies_of(data, "accept") and "_ga" not in cookies_of(data, "reject")
    # the pages without interaction in one context, in visitor order: the front page's cookies are in the
    # jar of every later page
    assert [v["page"].rsplit("/", 1)[1] for v in data["visits"] if v["state"] == "none"] == [
        "", "afval", "video", "toegankelijkheid"]
    assert all("IDE" in {c["name"] for c in v["cookies"]} for v in data["visits"] if v["state"] == "none")
    assert data["browser_visits"] == 3 and data["settle"]["floor_seconds"] == 1.0
    # axe-core on the front page and the first axe_subpages (2) subpages, in every frame, the violation
    # inside the iframe
    assert data["axe"]["version"] == "4.14.1"
    assert [p["url"].rsplit("/", 1)[1] for p in data["axe"]["pages"]] == ["", "afval", "video"]
    video = next(p for p in data["axe"]["pages"] if p["url"].endswith("/video"))
    embed = next(f for f in video["frames"] if "pixel.test" in f["url"])
    assert "image-alt" in {v["id"] for v in embed["violations"]}
    # the statement page, fetched and kept
    first = data["statement"]["fetched"][0]
    assert first["via"] == "footer_link" and "De status van deze website is: B" in first["text"]


def test_canary_stops_the_run_when_third_party_cookies_are_blocked(web, monkeypatch):
    monkeypatch.setattr(browser_module, "PROFILE_PREFERENCES", {})  # Debian's default: blocked
    with pytest.raises(ThirdPartyCookiesBlocked, match="third-party"):
        run_probe(web, [])


def test_a_looping_page_is_an_error_long_before_the_visit_timeout_and_the_browser_keeps_serving(web):
    results = run_probe(web, ["loop.test", "dialogs.test", "busy.test", "slow.test", "www.gemeente.test"],
                        subpages=0, visit_timeout=40.0, unresponsive_seconds=4.0)
    (loop, loop_seconds), (dialogs, dialog_seconds), (busy, _), (slow, _), (after, _) = results
    for outcome, seconds in ((loop, loop_seconds), (dialogs, dialog_seconds)):
        assert isinstance(outcome, ProbeError) and outcome.reason == "timeout"
        assert "did not answer for 4s" in outcome.detail and seconds < 20  # not the 40 s visit timeout
    # a page busy for a while, shorter than unresponsive_seconds, is measured as any other
    assert not isinstance(busy, ProbeError) and busy["visits"][0]["title"] == "Druk"
    # and so is a page whose server takes longer than that to answer: the wait for a document does not count
    assert not isinstance(slow, ProbeError) and slow["visits"][0]["title"] == "Traag"
    assert not isinstance(after, ProbeError) and after["visits"][0]["status"] == 200


def test_a_page_whose_renderer_dies_is_an_error_not_a_clean_page(web, monkeypatch):
    axe = browser_module.Visit.axe

    async def crash_then_axe(visit):  # what a decompression bomb did to the renderer, on demand
        session = await visit.context.new_cdp_session(visit.page)
        try:
            await asyncio.wait_for(session.send("Page.crash"), 5)
        except Exception:
            pass  # the page is gone before it answers
        return await axe(visit)  # axe records a frame it cannot reach and goes on

    monkeypatch.setattr(browser_module.Visit, "axe", crash_then_axe)
    [(outcome, _)] = run_probe(web, ["www.gemeente.test"], subpages=0)
    assert isinstance(outcome, ProbeError) and outcome.reason == "browser"
    assert "the page crashed" in outcome.detail


def test_unknown_host_is_a_dns_error(web):
    [(outcome, _)] = run_probe(web, ["nowhere.test"])
    assert isinstance(outcome, ProbeError) and outcome.reason == "dns"


def test_a_dead_browser_is_started_again(web):
    settings = settings_for(web, subpages=0)

    async def scan():
        ctx = ProbeContext(settings=settings, resolver=MappedResolver({h for h, _ in PAGES}),
                           executor=ThreadPoolExecutor(2))
        probe = BrowserProbe()
        await probe.setup(ctx)
        try:
            probe.chromium.process.kill()  # the Chromium this probe started, by its own handle
            await probe.chromium.process.wait()
            data = await probe.collect(ctx, Site(web.url("www.gemeente.test"), "www.gemeente.test"), None, {})
            return data, probe.chromium.restarts
        finally:
            await probe.teardown(ctx)

    data, restarts = asyncio.run(scan())
    assert restarts == 1 and data["visits"][0]["status"] == 200
