"""Chromium reaches nothing on the scanner's own host, and asks nothing the pages did not ask for (issue 15).

Pages served here (tests/integration/local_https.py, on 127.0.0.2, the only address the settings allow) point
at a listener on one port of 127.0.0.1 and ::1 (tests/unit/test_internal_addresses.py) every way a page can:
frames and images by literal address (also written as 2130706433 and 0x7f.1, which browsers read as
127.0.0.1) and by a name that resolves to loopback, fetch, a beacon, a WebSocket, WebRTC (STUN and TURN),
preconnect hints, and redirects of the front page. The listener must count nothing; with loopback allowed it
is reached, which shows the pages do try. Every host the browser's proxy is asked for must be one the pages
name: Chromium's own services (component updater, account reconcilor, network time, Safe Browsing,
Autofill) stay silent. No lab needed; Chromium is started for real.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from govscan.model import Reason, Site
from scanner.config import load
from scanner.probes.base import ProbeContext, ProbeError
from scanner.probes.browser import BrowserProbe
from scanner.socks import ResolvingSocksProxy
from tests.integration.local_https import LocalWeb, MappedResolver
from tests.unit.fakedns import LOOPBACK
from tests.unit.test_internal_addresses import Listener

SITE_ADDRESS = "127.0.0.2"
HTML = {"Content-Type": "text/html; charset=utf-8"}
# {port} is the web server's port, {loopback} the listener's.
FRONT = """<!doctype html><html lang="nl"><head><title>Gemeente</title>
<link rel="preconnect" href="https://127.0.0.1:{loopback}">
<link rel="dns-prefetch" href="https://metadata.test:{loopback}">
</head><body><main><h1>Welkom</h1>
<iframe title="kaart" src="https://127.0.0.1:{loopback}/frame"></iframe>
<iframe title="meta" src="https://metadata.test:{loopback}/latest/meta-data/"></iframe>
<img src="https://[::1]:{loopback}/a.png" alt=""><img src="https://2130706433:{loopback}/b.png" alt="">
<img src="https://0x7f.1:{loopback}/c.png" alt=""><img src="https://pixel.test:{port}/p" alt="">
<form action="/zoeken"><label>Naam <input name="name" autocomplete="name"></label>
<label>E-mail <input name="email" type="email" autocomplete="email"></label>
<label>Adres <input name="address" autocomplete="street-address"></label><button>Zoeken</button></form>
<a href="/afval">Afval</a></main>
<script>
fetch("https://metadata.test:{loopback}/fetch").catch(() => {{}});
navigator.sendBeacon("https://[::1]:{loopback}/beacon", "x");
try {{ new WebSocket("wss://127.0.0.1:{loopback}/ws") }} catch (e) {{}}
const rtc = new RTCPeerConnection({{iceServers: [{{urls: "stun:127.0.0.1:{loopback}"}},
  {{urls: "turn:127.0.0.1:{loopback}?transport=tcp", username: "u", credential: "p"}}]}});
rtc.createDataChannel("x");
rtc.createOffer().then(offer => rtc.setLocalDescription(offer));
</script></body></html>"""
PAGES = {
    ("canary.test", "/"): (200, HTML, "<img src='https://pixel.test:{port}/canary' alt=''>"),
    ("pixel.test", "/canary"): (200, {"Content-Type": "image/gif",
                                      "Set-Cookie": "IDE=canary; Max-Age=600; SameSite=None; Secure"}, "GIF89a"),
    ("pixel.test", "/p"): (200, {"Content-Type": "image/gif"}, "GIF89a"),
    ("www.gemeente.test", "/"): (200, HTML, FRONT),
    ("www.gemeente.test", "/afval"): (200, HTML, "<!doctype html><html lang='nl'><title>Afval</title><h1>Afval</h1>"),
    ("www.gemeente.test", "/naar-metadata"): (302, {"Location": "http://metadata.test:{loopback}/"}, ""),
    ("www.gemeente.test", "/naar-loopback"): (302, {"Location": "http://127.0.0.1:{loopback}/"}, ""),
}
# What the pages name, besides the listener's addresses: every host the proxy may be asked for.
NAMED = {"canary.test", "pixel.test", "www.gemeente.test", "metadata.test", "127.0.0.1", "::1"}


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    server = LocalWeb(dict(PAGES), tmp_path_factory.mktemp("web"), address=SITE_ADDRESS).start()
    yield server
    server.stop()


def scan(web, paths: list[str], allowed: list[str], monkeypatch) -> tuple[list, Listener, set[str]]:
    """Set the browser probe up, visit www.gemeente.test at each path (a ProbeError is kept as the result)
    and tear down; with the listener, and every host the proxy was asked for."""
    asked: set[str] = set()
    connect = ResolvingSocksProxy._connect

    async def recording(proxy, host, port):
        asked.add(host)
        return await connect(proxy, host, port)

    monkeypatch.setattr(ResolvingSocksProxy, "_connect", recording)

    async def run():
        async with Listener() as listener:
            loopback = str(listener.port)
            for key, (status, headers, body) in list(PAGES.items()):
                web.pages[key] = (status, {k: v.replace("{loopback}", loopback) for k, v in headers.items()},
                                  body.replace("{loopback}", loopback).replace("{{", "{").replace("}}", "}"))
            settings = load(overrides={
                "trust": {"ca_bundle": str(web.ca)}, "scan": {"allowed_networks": [f"{SITE_ADDRESS}/32", *allowed]},
                # a generous visit timeout: the first test of a run starts Chromium cold; refusals are quick
                "browser": {"canary_url": web.url("canary.test"), "settle_seconds": 2.0, "subpages": 1,
                            "visit_timeout": 30.0}})
            names = {"canary.test": SITE_ADDRESS, "pixel.test": SITE_ADDRESS, "www.gemeente.test": SITE_ADDRESS,
                     "metadata.test": "127.0.0.1"}
            ctx = ProbeContext(settings=settings, resolver=MappedResolver(names), executor=ThreadPoolExecutor(2))
            probe = BrowserProbe()
            await probe.setup(ctx)
            results = []
            try:
                for path in paths:
                    site = Site(url=web.url("www.gemeente.test", path), host="www.gemeente.test")
                    try:
                        results.append(await probe.collect(ctx, site, None, {}))
                    except ProbeError as exc:
                        results.append(exc)
            finally:
                await probe.teardown(ctx)
        return results, listener

    results, listener = asyncio.run(run())
    for key, page in PAGES.items():
        web.pages[key] = page
    return results, listener, asked


def test_no_page_makes_chromium_reach_loopback_and_chromium_asks_only_for_what_pages_name(web, monkeypatch):
    (front, by_name, by_literal), listener, asked = scan(
        web, ["/", "/naar-metadata", "/naar-loopback"], [], monkeypatch)
    assert listener.accepted == 0 and listener.datagrams == 0
    assert not isinstance(front, ProbeError) and front["final_url"].endswith("/")
    assert isinstance(by_name, ProbeError) and by_name.reason == Reason.REFUSED_ADDRESS
    assert by_name.detail.startswith("metadata.test: 127.0.0.1 is loopback")
    assert isinstance(by_literal, ProbeError) and by_literal.reason == Reason.REFUSED_ADDRESS
    assert asked <= NAMED, f"Chromium asked the proxy for {sorted(asked - NAMED)}, which no page names"


def test_the_same_pages_reach_loopback_where_the_settings_allow_it(web, monkeypatch):
    _, listener, _ = scan(web, ["/"], LOOPBACK, monkeypatch)
    assert listener.accepted > 0
