"""The browser probe on consent banners rendered the ways real platforms render them (the lab's emulations in
lab/templates/thirdparty/cmp.js: OneTrust markup, Didomi with the TCF API, Usercentrics in a shadow root, a
banner in a cross-origin iframe) and a hand-made one, each behind trackers that load after accept: whatever
the rendering, the probe names the platform, rejects and accepts, and a site that tracks after accept fails
privacy.tracking_with_consent. No lab needed; Chromium is started for real."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from checks.privacy import tracking_after_reject, tracking_with_consent
from govscan.model import Site, Status
from scanner.probes.base import ProbeContext
from scanner.probes.browser import BrowserProbe
from tests.integration.local_https import LocalWeb, MappedResolver
from tests.integration.test_browser_local import settings_for
from tests.unit import browser_facts

CMP_JS = (Path(__file__).parents[2] / "lab/templates/thirdparty/cmp.js").read_text()
FRAME_HTML = (Path(__file__).parents[2] / "lab/templates/thirdparty/cmp-frame.html").read_text()
FRAME_JS = (Path(__file__).parents[2] / "lab/templates/thirdparty/cmp-frame.js").read_text()
HTML = {"Content-Type": "text/html; charset=utf-8"}
JS = {"Content-Type": "text/javascript"}
TRACKER = ("<script type='text/plain' data-cookieconsent='statistics' src='https://tracker.test:{port}/ga.js'>"
           "</script>")
HAND_MADE = """<div id="cb" role="dialog">Wij gebruiken cookies.
  <button onclick="var s=document.createElement('script');s.src='https://tracker.test:{port}/ga.js';
    document.head.appendChild(s); cb.remove()">Accepteren</button>
  <button onclick="cb.remove()">Weigeren</button></div>"""
# host -> (the platform the probe should name, what the page carries)
SITES = {
    "www.onetrust.test": ("Onetrust", "onetrust"),
    "www.didomi.test": ("didomi", "didomi"),
    "www.usercentrics.test": ("usercentrics-api", "usercentrics"),
    "www.frame.test": ("piano.io", "frame"),
    "www.handmade.test": ("generic", None),
}


def page(platform: str | None) -> str:
    loader = (f"<script src='https://consent.test:{{port}}/cmp.js' data-lab-platform='{platform}'></script>"
              if platform else "")
    body = "" if platform else HAND_MADE
    return (f"<!doctype html><html lang='nl'><head><title>Gemeente</title>{loader}{TRACKER if platform else ''}"
            f"</head><body><h1>Welkom</h1>{body}</body></html>")


PAGES = {
    ("canary.test", "/"): (200, HTML, "<img src='https://tracker.test:{port}/canary' alt=''>"),
    ("tracker.test", "/canary"): (200, {"Content-Type": "image/gif",
                                        "Set-Cookie": "IDE=canary; Max-Age=600; SameSite=None; Secure"}, "GIF89a"),
    ("tracker.test", "/ga.js"): (200, JS, "document.cookie = '_ga=GA1.1.42; max-age=63072000; path=/'"),
    ("consent.test", "/cmp.js"): (200, JS, CMP_JS),
    ("consent.test", "/frame.html"): (200, HTML, FRAME_HTML),
    ("consent.test", "/frame.js"): (200, JS, FRAME_JS),
    **{(host, "/"): (200, HTML, page(platform)) for host, (_, platform) in SITES.items()},
}


async def scan(web) -> dict:
    settings = settings_for(web, subpages=0, visit_timeout=30.0)
    ctx = ProbeContext(settings=settings, resolver=MappedResolver({h for h, _ in PAGES}),
                       executor=ThreadPoolExecutor(2))
    probe = BrowserProbe()
    await probe.setup(ctx)
    try:
        return {host: await probe.collect(ctx, Site(web.url(host), host), None, {}) for host in SITES}
    finally:
        await probe.teardown(ctx)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    web = LocalWeb(PAGES, tmp_path_factory.mktemp("web")).start()
    try:
        return asyncio.run(scan(web))
    finally:
        web.stop()


@pytest.mark.parametrize("host", list(SITES))
def test_tracking_after_accept_fails_whatever_the_rendering(scanned, host):
    data = scanned[host]
    platform = SITES[host][0]
    assert data["banner"]["platform"] == platform
    assert data["banner"]["rules"].startswith("autoconsent ")
    # the consent states are sent only the rules of the CMPs the first visit detected, and find them as well
    assert (platform in data["banner"]["cmps_detected"]) if platform != "generic" else not data["banner"]["cmps_detected"]
    for choice in ("reject", "accept"):
        outcome = data["consent"][choice]
        assert outcome["clicked"] and outcome["platform"] == platform and outcome["screenshot_png_b64"]
        assert outcome["acted_by"] == ("heuristics" if platform == "generic" else "autoconsent")
    assert data["consent"]["accept"]["effect"]["changed"]
    facts = browser_facts.facts(data)
    assert tracking_with_consent(facts).status == Status.FAIL
    assert tracking_after_reject(facts).status == Status.PASS


def test_the_tcf_string_is_recorded_decoded_after_each_choice(scanned):
    consent = scanned["www.didomi.test"]["consent"]
    reject, accept = consent["reject"]["tcf"], consent["accept"]["tcf"]
    assert reject["cmp_id"] == accept["cmp_id"] == 7
    assert reject["decoded"]["purposes_consent"] == [] and reject["decoded"]["vendor_consents"] == []
    assert accept["decoded"]["purposes_consent"] == list(range(1, 11)) and accept["decoded"]["vendor_consents"] == [755]


def test_buttons_are_recorded_in_shadow_roots_and_frames(scanned):
    shadow = scanned["www.usercentrics.test"]["consent"]["reject"]["buttons"]
    assert shadow[0]["text"] == "Weigeren" and ">>>" in shadow[0]["selector"]
    framed = scanned["www.frame.test"]["consent"]["accept"]["buttons"]
    assert framed[0]["text"] == "Accepteren" and "consent.test" in framed[0]["frame"]
