"""The browser probe: what a visitor's browser receives (cookies, requests, storage, the consent banner),
what axe-core finds, and where the accessibility statement is. One visit feeds the privacy and the
accessibility checks.

How the browser is set up, and why:

- One Chromium process per run (Debian's `/usr/bin/chromium`, started by us and driven by Playwright over
  CDP), and a fresh browser context for every state of every site: a context is an isolated in-memory
  profile (no cookies, storage or cache carried from another site or state).
- Third-party cookies are allowed the way a default desktop Chrome allows them. Debian's Chromium blocks
  them, and DevTools switches do not change that, so the profile's `Default/Preferences` is written
  before launch (`cookie_controls_mode` 0); the contexts inherit it. A **canary** page that sets a
  third-party cookie is loaded at the start of every run; if its cookie is not seen, setup raises
  `ThirdPartyCookiesBlocked` and nothing is reported.
- Resolution: the browser's only route out is a SOCKS5 proxy inside govscan (`scanner.socks`) that resolves
  names with the run's resolver, so the browser sees the hosts the other probes test, and that connects only
  to addresses the address policy allows (scanner/addresses.py; loopback goes through it too, and WebRTC
  may not send UDP around it). A navigation it refuses is a `refused_address` error.
- Quiet: Chromium's own services (component updater, account reconcilor, network time, the Autofill server,
  Safe Browsing) are kept off the network, so the proxy sees only what the pages ask for.
- Trust: when a CA bundle is configured, its certificates are imported into an NSS database in the
  browser's own HOME (`certutil`, package libnss3-tools), which Chromium on Linux trusts besides its roots.
- The User-Agent comes from the settings (it names govscan with a URL, without "bot");
  `AutomationControlled` is disabled so consent tools do not hide their banner; service workers are
  blocked so every visit starts the same way.

Per site, the same observations with as little work as they take (issue 18; `make bench` measures it):

- No interaction: one context, as one visitor's cookie jar. The front page, then a deterministic sample of
  same-site subpages in the order a visitor would click them (breadth-first), one after the other in the
  same tab (cookies, requests, localStorage per page).
- Once the front page is known, beside those subpages (so a site holds its slot for the longer of the two,
  not their sum): the accessibility statement's candidate pages over HTTP (scanner/probes/statement_pages.py;
  in the browser only a page that script draws), and with a banner the reject and accept states, each one
  clean context: the front page, the click, then one more page; autoconsent there gets only the rules of the
  CMPs the front page detected (none: it is not injected).
- axe-core (in every frame) on the front page and the first `axe_subpages` subpages only, inside those visits.
- Settling by observation, not by clock: a page is settled once no request, response or script cookie write
  has come for `settle_quiet_seconds`, the first page of each state not before `settle_seconds` (cookies set
  by timers seconds after load), no page later than `settle_cap_seconds`; the page is scrolled once first
  (trackers that wait for scrolling). The three are recorded in the artifact (`settle`).
- Sites at a time (`[browser] concurrency`, 0: sites_at_once) from the cores available and the measured
  wall time per CPU second of a site's visits, as many as `[browser] memory_mb` holds.

A page that hangs is cut off after `visit_timeout` (per page), one whose script never yields (a loop, endless
dialogs) once it has not answered for `unresponsive_seconds`; a subpage that fails is recorded as
such and the next one gets a fresh tab; the context is always thrown away and, if that fails, the browser
is restarted.
"""
from __future__ import annotations

import asyncio
import collections
import datetime
import json
import math
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from playwright.async_api import async_playwright

from govscan.model import Reason, Site
from scanner.domains import registrable_domain
from scanner.probes.base import Probe, ProbeContext, ProbeError
from scanner.probes.consent import Banner, local_storage_keys
from scanner.probes.statement_pages import REGISTER_LINK, read_statement_pages
from scanner.socks import ResolvingSocksProxy

# The scripts injected into pages, and axe-core pinned beside them (version in its first line, licence in
# axe.min.js.LICENSE; `make update-axe` replaces it), all package data.
JS_DIR = resources.files("scanner.probes.browser_js")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Where Chromium's own services are sent so that they fail inside the browser: port 1 is on Chromium's list
# of unsafe ports, so a request there ends with net::ERR_UNSAFE_PORT before any proxy or connection.
NOWHERE = "http://127.0.0.1:1"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-default-browser-check", "--mute-audio", "--hide-scrollbars",
    # Measured one by one (tests/bench/browser_flags.py, README): each cut Chromium's CPU per site by 7-8%
    # without changing what a page sets or requests. (GPU in the browser process cost 10% more; no software
    # rasterizer and background throttling off changed little.)
    "--disable-extensions", "--autoplay-policy=user-gesture-required",
    "--disable-blink-features=AutomationControlled",
    # Measured the same way on 2026-12-06: Debian's /usr/bin/chromium turns GPU rasterization on, which with no
    # GPU means rasterizing in SwiftShader (off: -8.8%); background throttling off (-7.7%, and -6.2% in an
    # earlier run): a visitor's tab is in the foreground, where timers are not throttled either.
    "--disable-gpu-rasterization", "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    # Chromium's own requests, which would reach the proxy besides the pages' (seen with Chromium 156): the
    # component updater (update.googleapis.com, on demand at start and then every few hours, despite
    # --disable-component-update) and the account reconcilor (accounts.google.com/ListAccounts, with
    # backoff) are sent NOWHERE; network time queries (clients2.google.com) and the Autofill server that a
    # form's fields are sent to (content-autofill.googleapis.com) are switched off below.
    f"--component-updater=url-source={NOWHERE}/", f"--gaia-url={NOWHERE}",
    # One renderer per tab instead of one per site (IsolateOrigins, site-per-process): the same cookies and
    # requests, less CPU and memory. Chromium 156 preloads its omnibox popups as two WebUI pages in a renderer
    # of their own for every window, and every context is a window here: off, Chromium's CPU per site fell
    # by a quarter (tests/bench/browser_flags.py's local site, 3 rounds: 3.44 to 2.52 s).
    "--disable-features=IsolateOrigins,site-per-process,Translate,MediaRouter,OptimizationHints,"
    "NetworkTimeServiceQuerying,AutofillServerCommunication,WebUIOmniboxPopup,WebUIOmniboxAimPopup",
]
# Written before launch: allow third-party cookies like a default desktop Chrome; WebRTC only through the
# proxy (no UDP around it, so no STUN to any address a page names); no Safe Browsing lookups (they would
# tell Google every page scanned).
PROFILE_PREFERENCES = {
    "profile": {"cookie_controls_mode": 0, "block_third_party_cookies": False},
    "browser": {"has_seen_welcome_page": True},
    "webrtc": {"ip_handling_policy": "disable_non_proxied_udp"},
    "safebrowsing": {"enabled": False},
}
STATEMENT_PATHS = ("/toegankelijkheid", "/toegankelijkheidsverklaring", "/toegankelijkheidsverklaringen")
SKIP_EXTENSIONS = re.compile(r"\.(pdf|docx?|xlsx?|pptx?|odt|ods|zip|jpe?g|png|gif|svg|webp|mp[34]|avi|ics|xml|rss)$",
                             re.I)
REGISTER_LABEL = re.compile(r"/files/verklaring/label/[0-9a-f]{32}\.(\d+)\.svg", re.I)
STATEMENT_WORDS = re.compile(r"toegankelijk|accessibility", re.I)
SCRIPT_URL = re.compile(r"(https?://[^\s()]+?):\d+:\d+")
MAX_REQUESTS = 600
# Measured with `make bench` (README, "Benchmarks"): a site's visits take this many seconds of wall time per
# CPU second they cost (mostly waiting for pages to settle), and this much memory (PSS) while in flight.
WAIT_PER_CPU_SECOND = 6
MB_PER_SITE = 175


def sites_at_once(settings) -> int:
    """How many sites the browser visits at the same time: `[browser] concurrency`, or when that is 0 enough
    to keep the cores available busy while visits wait for their pages to settle (WAIT_PER_CPU_SECOND),
    as far as `[browser] memory_mb` holds at MB_PER_SITE each (0: half the available memory)."""
    if settings.browser.concurrency > 0:
        return settings.browser.concurrency
    cores = len(os.sched_getaffinity(0))
    memory_mb = settings.browser.memory_mb or os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**20 / 2
    return max(1, min(round(cores * WAIT_PER_CPU_SECOND), int(memory_mb / MB_PER_SITE)))


class BrowserSetupError(RuntimeError):
    """The browser cannot measure in this run: the run stops instead of reporting (the CLI says why)."""


class ThirdPartyCookiesBlocked(BrowserSetupError):
    """The canary's third-party cookie was not seen: every privacy result would be a false pass."""


class BrowserUnavailable(BrowserSetupError):
    """The browser could not be started (missing executable, certutil, axe-core)."""


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _js(name: str) -> str:
    return (JS_DIR / name).read_text()


def same_site_links(page_url: str, links: list[dict]) -> list[str]:
    """Links to other pages of the same host, without fragments or files, in a stable order."""
    host = _host(page_url)
    found = set()
    for link in links:
        parts = urlsplit(link["href"])
        if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() != host:
            continue
        if SKIP_EXTENSIONS.search(parts.path):
            continue
        url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))
        if url.rstrip("/") != page_url.split("#")[0].rstrip("/"):
            found.add(url)
    return sorted(found, key=lambda u: (urlsplit(u).path.count("/"), len(u), u))


def statement_candidates(page_url: str, links: list[dict], labels: list[dict]) -> list[dict]:
    """Where a person would look for the accessibility statement, in order: a register link or label image,
    a link mentioning accessibility (footer first), the common paths."""
    candidates: list[dict] = []

    def add(url: str, via: str, text: str = "") -> None:
        url = url.split("#")[0]
        if url and all(c["url"] != url for c in candidates):
            candidates.append({"url": url, "via": via, "text": text})

    for link in links:
        if REGISTER_LINK.search(link["href"]):
            via = "register_label" if any(REGISTER_LABEL.search(src) for src in link["images"]) else "register_link"
            add(link["href"], via, link["text"])
    for link in links:
        if any(REGISTER_LABEL.search(src) for src in link["images"]):
            add(link["href"], "register_label", link["text"])
    for label in labels:
        match = REGISTER_LABEL.search(label["src"])
        if match and not label["linked"]:
            parts = urlsplit(label["src"])
            add(f"{parts.scheme}://{parts.netloc}/register/{match.group(1)}", "register_label")
    keyword = [link for link in links if STATEMENT_WORDS.search(link["text"]) or STATEMENT_WORDS.search(link["href"])]
    for link in sorted(keyword, key=lambda link: not link["footer"]):
        if urlsplit(link["href"]).scheme in ("http", "https"):
            add(link["href"], "footer_link" if link["footer"] else "link", link["text"])
    for path in STATEMENT_PATHS:
        add(urljoin(page_url, path), "common_path")
    return candidates


def _cookie_name(header_or_assignment: str) -> str:
    return header_or_assignment.split(";", 1)[0].split("=", 1)[0].strip()


def _domain_matches(cookie_domain: str, host: str) -> bool:
    domain = cookie_domain.lstrip(".").lower()
    return host == domain or host.endswith("." + domain)


@dataclass
class Recorder:
    """Everything one browser context sees: requests, Set-Cookie headers, script cookie writes, dialogs."""

    started: float = field(default_factory=time.monotonic)
    requests: list[dict] = field(default_factory=list)
    cookie_events: list[dict] = field(default_factory=list)
    dialogs: int = 0
    pending: set = field(default_factory=set)
    activity: float = field(default_factory=time.monotonic)  # the last request, response or script cookie write
    navigating: bool = False  # a top-level document has been asked for and has neither come nor failed
    crashed: bool = False  # a page's renderer died (out of memory on a decompression bomb, say)

    def seconds(self) -> float:
        return round(time.monotonic() - self.started, 2)

    def attach(self, context) -> None:
        context.on("request", self._on_request)
        context.on("response", self._on_response)
        context.on("requestfailed", self._on_request_failed)
        context.on("page", self._on_page)

    def _on_page(self, page) -> None:
        page.on("dialog", self._on_dialog)
        page.on("framenavigated", self._on_frame_navigated)
        page.on("crash", self._on_crash)

    def _on_crash(self, page) -> None:
        self.crashed = True

    def _on_frame_navigated(self, frame) -> None:
        if frame.parent_frame is None:
            self.navigating = False

    def _on_request_failed(self, request) -> None:
        if _top_level_navigation(request):
            self.navigating = False

    def _on_dialog(self, dialog) -> None:
        self.dialogs += 1
        self._track(dialog.dismiss())

    def _track(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self.pending.add(task)
        task.add_done_callback(lambda t: (self.pending.discard(t), t.cancelled() or t.exception()))

    def _on_request(self, request) -> None:
        self.activity = time.monotonic()
        if _top_level_navigation(request):
            self.navigating = True
        if len(self.requests) >= MAX_REQUESTS:
            return
        frame = _frame(request)
        self.requests.append({"url": request.url[:300], "host": _host(request.url), "type": request.resource_type,
                              "initiator": frame.url[:300] if frame else "", "seconds": self.seconds()})

    def _on_response(self, response) -> None:
        self.activity = time.monotonic()
        self._track(self._read_set_cookie(response, self.seconds()))

    async def _read_set_cookie(self, response, seconds: float) -> None:
        values = await response.header_values("set-cookie")
        for value in values:
            for line in value.split("\n"):
                if line.strip():
                    self.cookie_events.append({"name": _cookie_name(line), "via": "header", "url": response.url[:300],
                                               "host": _host(response.url), "seconds": seconds})

    def on_script_cookie(self, source, assignment: str, stack: str) -> None:
        self.activity = time.monotonic()
        frame_url = source["frame"].url if source.get("frame") else ""
        match = SCRIPT_URL.search(stack)
        self.cookie_events.append({"name": _cookie_name(assignment), "via": "script",
                                   "url": match.group(1)[:300] if match else "", "frame": frame_url[:300],
                                   "host": _host(frame_url), "seconds": self.seconds()})

    async def settle(self) -> None:
        if self.pending:
            await asyncio.wait(list(self.pending), timeout=5)

    def setter(self, cookie: dict) -> dict:
        """The first Set-Cookie header or script write that matches this cookie, or 'unknown'."""
        for event in self.cookie_events:
            if event["name"] == cookie["name"] and _domain_matches(cookie["domain"], event["host"]):
                return {k: v for k, v in event.items() if k not in ("name", "host")}
        return {"via": "unknown"}


def _frame(request):
    """The frame a request comes from; None for requests of workers, which have none."""
    try:
        return request.frame
    except Exception:
        return None


def _top_level_navigation(request) -> bool:
    frame = _frame(request)
    return frame is not None and frame.parent_frame is None and request.is_navigation_request()


class Chromium:
    """One Chromium process with a prepared profile, driven over CDP; restarted when it dies."""

    def __init__(self, settings, proxy_port: int):
        self.settings = settings
        self.proxy_port = proxy_port
        self.home = Path(tempfile.mkdtemp(prefix="govscan-browser-"))
        self.process: asyncio.subprocess.Process | None = None
        self.browser = None
        self.version = ""
        self.restarts = 0
        self._playwright = None
        self._lock = asyncio.Lock()

    @property
    def profile(self) -> Path:
        return self.home / "profile"

    def prepare(self) -> None:
        """Write the profile preferences and, when a CA bundle is configured, the NSS trust store."""
        if not shutil.which(self.settings.browser.executable):
            raise BrowserUnavailable(f"browser executable {self.settings.browser.executable} not found")
        (self.profile / "Default").mkdir(parents=True, exist_ok=True)
        (self.profile / "Default" / "Preferences").write_text(json.dumps(PROFILE_PREFERENCES))
        if self.settings.trust.ca_bundle:
            import_ca_bundle(self.home, self.settings.trust.ca_bundle_path)

    async def start(self) -> None:
        if self._playwright is None:
            self._playwright = await async_playwright().start()
        port_file = self.profile / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)
        args = CHROMIUM_FLAGS + [f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
                                 f"--proxy-server=socks5://127.0.0.1:{self.proxy_port}",
                                 "--proxy-bypass-list=<-loopback>", "about:blank"]
        self.process = await asyncio.create_subprocess_exec(
            self.settings.browser.executable, *args, env=dict(os.environ, HOME=str(self.home)),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not (port_file.exists() and "\n" in port_file.read_text()):
            if self.process.returncode is not None or time.monotonic() > deadline:
                await self._kill()
                raise BrowserUnavailable("Chromium did not start (no DevTools port)")
            await asyncio.sleep(0.05)
        port = port_file.read_text().split("\n")[0]
        self.browser = await self._playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
        self.version = self.browser.version

    async def new_context(self, **options):
        async with self._lock:
            if self.browser is None or not self.browser.is_connected() or self.process.returncode is not None:
                await self.restart()
            browser = self.browser
        return await browser.new_context(**options)

    async def restart(self) -> None:
        """Replace a dead or stuck browser (visits in flight in it fail as `browser` errors)."""
        self.restarts += 1
        await self._kill()
        await self.start()

    async def close_context(self, context) -> None:
        try:
            await asyncio.wait_for(context.close(), 10)
        except Exception:
            async with self._lock:
                if self.browser is not None and context in self.browser.contexts:
                    await self.restart()

    async def _kill(self) -> None:
        if self.browser is not None:
            try:
                await asyncio.wait_for(self.browser.close(), 5)
            except Exception:
                pass
            self.browser = None
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    async def close(self) -> None:
        await self._kill()
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None
        shutil.rmtree(self.home, ignore_errors=True)


def import_ca_bundle(home: Path, bundle: Path) -> None:
    """Trust every certificate of a PEM bundle in the NSS database Chromium reads from $HOME/.pki/nssdb."""
    certutil = shutil.which("certutil")
    if certutil is None:
        raise BrowserUnavailable("certutil not found (install libnss3-tools) to trust the configured CA bundle")
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True, exist_ok=True)
    subprocess.run([certutil, "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True, capture_output=True)
    pems = re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", bundle.read_text(), re.S)
    if not pems:
        raise BrowserUnavailable(f"{bundle}: no certificates found")
    for index, pem in enumerate(pems):
        path = home / "ca.pem"
        path.write_text(pem + "\n")
        subprocess.run([certutil, "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", f"govscan-ca-{index}", "-i", str(path)],
                       check=True, capture_output=True)


class VisitFailed(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class BrowserProbe(Probe):
    name = "browser"
    version = 1

    def __init__(self):
        self.chromium: Chromium | None = None
        self.proxy: ResolvingSocksProxy | None = None
        self.axe_source = ""
        self.slots: asyncio.Semaphore | None = None
        self.contexts = 0
        self.page_loads = 0
        self.children_cpu = 0.0

    def site_budget(self, settings) -> float:
        """Time for one site once it has a browser slot: every sampled page, two consent states with two
        pages each, and the statement pages."""
        return settings.browser.visit_timeout * (settings.browser.subpages + 6)

    def timeout(self, settings) -> float:
        # The runner's backstop also covers waiting for a slot behind the other sites in flight.
        queue = math.ceil(settings.scan.sites_in_flight / sites_at_once(settings))
        return self.site_budget(settings) * max(1, queue)

    async def setup(self, ctx: ProbeContext) -> None:
        settings = ctx.settings
        axe_path = Path(settings.browser.axe_script) if settings.browser.axe_script else JS_DIR / "axe.min.js"
        if not axe_path.is_file():
            raise BrowserUnavailable(f"[browser] axe_script: {axe_path} is missing")
        self.axe_source = axe_path.read_text(encoding="utf-8")

        async def resolve(host: str) -> list[str]:
            found = await ctx.resolver.addresses(host)
            return found["ipv4"] + found["ipv6"]  # IPv4 first; without IPv6 routes those connects fail at once

        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.children_cpu = cpu.ru_utime + cpu.ru_stime
        self.proxy = ResolvingSocksProxy(resolve, settings.scan.connect_timeout, ctx.address_policy)
        port = await self.proxy.start()
        self.chromium = Chromium(settings, port)
        self.slots = asyncio.Semaphore(sites_at_once(settings))
        try:
            await ctx.in_thread(self.chromium.prepare)
            await self.chromium.start()
            await self.check_canary(settings)
        except BaseException:
            await self.teardown(ctx)
            raise

    async def teardown(self, ctx: ProbeContext) -> None:
        if self.chromium is not None:
            await self.chromium.close()
            # Chromium's processes have all been waited for now, so their CPU time is in our children's usage.
            cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
            ctx.counters.add("browser_cpu_ms", int(1000 * (cpu.ru_utime + cpu.ru_stime - self.children_cpu)))
            ctx.counters.add("browser_visits", self.contexts)
            ctx.counters.add("browser_page_loads", self.page_loads)
            ctx.counters.add("browser_restarts", self.chromium.restarts)
            self.chromium = None
        if self.proxy is not None:
            await self.proxy.close()
            self.proxy = None

    async def check_canary(self, settings) -> None:
        url = settings.browser.canary_url
        try:
            visit = await self.in_context(settings, "canary",
                                          lambda v: v.step(url, v.page_record, floor=settings.browser.settle_seconds))
        except VisitFailed as exc:
            raise ThirdPartyCookiesBlocked(f"the third-party cookie canary {url} could not be loaded: {exc.detail}")
        third_party = [c["name"] for c in visit["cookies"] if c["third_party"]]
        if not third_party:
            raise ThirdPartyCookiesBlocked(
                f"the canary {url} set no third-party cookie: this browser blocks third-party cookies, so "
                "privacy results would be false passes")

    # --- one state: a fresh context, one or more pages ---

    async def in_context(self, settings, state: str, work, site_domain: str | None = None,
                         tally: collections.Counter | None = None):
        """Open a fresh context for one state, let `work(visit)` load and collect its pages (each within
        `visit_timeout`) and always throw the context away. `tally` counts the site's contexts and page loads."""
        try:
            context = await self.chromium.new_context(
                user_agent=settings.scan.user_agent or None, service_workers="block",
                viewport={"width": 1280, "height": 800}, locale="nl-NL", timezone_id="Europe/Amsterdam")
        except BrowserUnavailable as exc:
            raise VisitFailed(Reason.BROWSER, str(exc)) from None
        self.contexts += 1
        visit = Visit(self, settings, context, state, site_domain)
        if tally is not None:
            tally["contexts"] += 1
        try:
            await visit.open()
            return await work(visit)
        except VisitFailed:
            raise
        except Exception as exc:
            raise VisitFailed(*self.classify(None, exc, visit.recorder.requests)) from None
        finally:
            if tally is not None:
                tally["page_loads"] += visit.loads
            await self.chromium.close_context(context)

    def classify(self, url: str | None, exc: Exception, requests: list[dict]) -> tuple[str, str]:
        """The reason and detail of a failed visit; `requests` are the visit's, whose last document request
        is where a redirected navigation failed."""
        message = str(exc).split("\n")[0]
        host = next((r["host"] for r in reversed(requests) if r["type"] == "document"), _host(url or ""))
        if "ERR_CERT" in message or "ERR_SSL" in message:
            return Reason.TLS, message
        if "ERR_NAME_NOT_RESOLVED" in message:
            return Reason.DNS, f"{host} could not be resolved"
        if re.search(r"ERR_(CONNECTION|SOCKS|PROXY|ADDRESS|TUNNEL)", message):
            # why the proxy could not connect: dns, refused_address or connect
            return self.proxy.failures.get(host, (Reason.CONNECT, message))
        if "ERR_TIMED_OUT" in message or "Timeout" in message:
            return Reason.TIMEOUT, message
        return Reason.BROWSER, message  # the page crashed, the browser died, or something else went wrong

    # --- a site ---

    async def collect(self, ctx: ProbeContext, site: Site, address, prior) -> dict[str, Any]:
        async with self.slots:
            try:
                return await asyncio.wait_for(self.scan_site(ctx, site), self.site_budget(ctx.settings))
            except asyncio.TimeoutError:
                raise ProbeError(Reason.TIMEOUT, f"browser visits took longer than "
                                                 f"{self.site_budget(ctx.settings):g}s") from None
            except VisitFailed as exc:
                raise ProbeError(exc.reason, exc.detail) from None

    async def scan_site(self, ctx: ProbeContext, site: Site) -> dict[str, Any]:
        settings = ctx.settings
        visited_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        tally: collections.Counter = collections.Counter()
        beside: list[asyncio.Task] = []  # the statement and the consent states, started once the front page is known

        async def no_interaction(visit: Visit) -> tuple[dict, dict]:
            front = await visit.front_page(site.url)
            beside.append(asyncio.ensure_future(self.after_front_page(ctx, front, tally)))
            return front, await visit.subpages(front)

        try:
            front, rest = await self.in_context(settings, "none", no_interaction, tally=tally)
            statement, consent, consent_visits = await beside[0]
        finally:
            for task in beside:
                if not task.done():
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
        browser = settings.browser
        return {
            "url": site.url,
            "visited_at": visited_at,
            "final_url": front["record"]["final_url"],
            "site_domain": front["site_domain"],
            "browser": self.chromium.version,
            "user_agent": settings.scan.user_agent,
            "settle": {"floor_seconds": browser.settle_seconds, "quiet_seconds": browser.settle_quiet_seconds,
                       "cap_seconds": browser.settle_cap_seconds},
            "pages": rest["pages"],
            "visits": rest["records"] + consent_visits,
            "banner": front["banner"],
            "consent": consent,
            "axe": {"version": next((p["version"] for p in rest["axe"] if p.get("version")), ""), "tags": AXE_TAGS,
                    "pages": rest["axe"]},
            "statement": statement,
            "browser_visits": tally["contexts"],  # fresh contexts this site used
            "page_loads": tally["page_loads"],
        }

    async def after_front_page(self, ctx: ProbeContext, front: dict,
                               tally: collections.Counter) -> tuple[dict, dict, list[dict]]:
        """What needs only the front page, beside the subpages: the statement read over HTTP, and with a banner
        the reject and accept states, each its own clean context so neither sees the other (autoconsent there
        with only the rules of the CMPs the front page detected). The statement, the consent outcomes, and the
        consent states' page records."""
        settings = ctx.settings
        states = ("reject", "accept") if front["banner"] else ()
        cmps = tuple(front["banner"]["cmps_detected"]) if front["banner"] else ()
        url, follow, site_domain = front["record"]["final_url"], front["follow_url"], front["site_domain"]
        statement, *results = await asyncio.gather(
            self.statement(ctx, front["statement_candidates"], site_domain, tally),
            *(self.in_context(settings, choice, lambda v, c=choice: v.consent(url, c, follow, cmps), site_domain, tally)
              for choice in states), return_exceptions=True)
        if isinstance(statement, BaseException):
            raise statement
        consent, records = {}, []
        for choice, result in zip(states, results):
            if isinstance(result, VisitFailed):
                consent[choice] = {"error": f"{result.reason}: {result.detail}"}
                continue
            if isinstance(result, BaseException):
                raise result
            consent[choice] = result["consent"]
            records.extend(result["records"])
        return statement, consent, records

    async def statement(self, ctx: ProbeContext, candidates: list[dict], site_domain: str,
                        tally: collections.Counter) -> dict:
        """The statement's candidate pages over HTTP, a page that script draws in a fresh context; all within
        `visit_timeout`."""
        settings = ctx.settings

        async def render(url: str) -> dict:
            try:
                return await self.in_context(settings, "statement", lambda v: v.statement_page(url), site_domain,
                                             tally)
            except VisitFailed as exc:
                return {"render_error": f"{exc.reason}: {exc.detail}"}

        timeout = settings.browser.visit_timeout
        try:
            return await asyncio.wait_for(read_statement_pages(ctx, candidates, render), timeout)
        except asyncio.TimeoutError:
            return {"candidates": candidates, "fetched": [], "error": f"{Reason.TIMEOUT}: no statement within {timeout:g}s"}


class Visit:
    """One fresh context in one state: the pages it loads one after the other (in one tab, as a visitor
    clicks on), each leaving plain data."""

    def __init__(self, probe: BrowserProbe, settings, context, state: str, site_domain: str | None):
        self.probe = probe
        self.settings = settings
        self.context = context
        self.state = state
        self.site_domain = site_domain
        self.recorder = Recorder()
        self.page = None
        self.response = None
        self.loads = 0

    async def open(self) -> None:
        self.recorder.attach(self.context)
        await self.context.expose_binding("__govscanCookieSet", self.recorder.on_script_cookie)
        await self.context.add_init_script(_js("cookie_hook.js"))
        self.page = await self.context.new_page()

    async def step(self, url: str, work, floor: float = 0.0):
        """Load `url` in this context's tab (a fresh tab after a failed step) and let it settle, then
        `work()`; all within `visit_timeout`. A failure is a VisitFailed."""
        timeout = self.settings.browser.visit_timeout
        try:
            return await asyncio.wait_for(self.answering(url, self._step(url, work, floor)), timeout)
        except asyncio.TimeoutError:
            failure = VisitFailed(Reason.TIMEOUT, f"{url}: no result within {timeout:g}s ({self.state})")
        except VisitFailed as exc:
            failure = exc
        except Exception as exc:
            failure = VisitFailed(*self.probe.classify(url, exc, self.recorder.requests))
        if self.page is not None:  # a page that failed may still be loading, looping or showing an error
            self.recorder._track(asyncio.wait_for(self.page.close(), 5))
            self.page = None
        raise failure

    async def answering(self, url: str, step):
        """Run `step` while making sure the page still answers: every second the page is asked for nothing
        (`evaluate("0")`), which its main thread does between two tasks. A page whose script never yields (an
        endless loop, endless dialogs) cannot be measured and would keep a core busy until `visit_timeout`, so
        it fails once it has not answered for `unresponsive_seconds`. While a top-level document is on its way
        no page answers (a slow server is no hung page), so that time does not count."""
        limit = self.settings.browser.unresponsive_seconds
        task = asyncio.ensure_future(step)
        ping, asked = None, 0.0
        try:
            while not (await asyncio.wait({task}, timeout=1.0))[0]:
                self.raise_if_crashed(url)
                if self.recorder.navigating or self.page is None:
                    if ping is not None:
                        ping.cancel()
                    ping = None
                elif ping is None or ping.done():
                    if ping is not None and not ping.cancelled():
                        ping.exception()  # the page navigated away or closed meanwhile: it did answer
                    ping, asked = asyncio.ensure_future(self.page.evaluate("0")), time.monotonic()
                elif time.monotonic() - asked >= limit:
                    raise VisitFailed(Reason.TIMEOUT, f"{url}: the page did not answer for {limit:g}s (its script "
                                                      f"does not yield) ({self.state})")
            self.raise_if_crashed(url)
            return task.result()
        finally:
            for pending in (task, ping):
                if pending is not None and not pending.done():
                    pending.cancel()
                    await asyncio.gather(pending, return_exceptions=True)

    def raise_if_crashed(self, url: str) -> None:
        """A page whose renderer died shows nothing: what was collected from it (no cookies, no requests)
        would read as a clean page."""
        if self.recorder.crashed:
            raise VisitFailed(Reason.BROWSER, f"{url}: the page crashed ({self.state})")

    async def _step(self, url: str, work, floor: float):
        if self.page is None:
            self.page = await self.context.new_page()
        await self.load(url, floor)
        return await work()

    async def load(self, url: str, floor: float) -> None:
        self.recorder.requests = []
        self.recorder.started = time.monotonic()
        self.recorder.crashed = False
        self.loads += 1
        self.probe.page_loads += 1
        self.response = await self.page.goto(url, wait_until="load", timeout=self.settings.browser.visit_timeout * 1000)
        if self.site_domain is None:
            self.site_domain = registrable_domain(_host(self.page.url))
        await self.settle(floor)

    async def settle(self, floor: float) -> None:
        """Wait for late activity, by observation: scroll once, then wait until no request, response or
        script cookie write has come for `settle_quiet_seconds` and at least `floor` seconds have passed
        (the first page of a state: timer cookies), but never longer than `settle_cap_seconds`."""
        browser = self.settings.browser
        loaded = time.monotonic()
        self.recorder.activity = loaded
        try:
            await self.page.mouse.wheel(0, 4000)
        except Exception:  # a page that navigated away while scrolling still counts as visited
            pass
        while True:
            now = time.monotonic()
            if now - loaded >= browser.settle_cap_seconds:
                break
            if now - loaded >= floor and now - self.recorder.activity >= browser.settle_quiet_seconds:
                break
            await asyncio.sleep(0.1)
        await self.recorder.settle()

    async def page_record(self, page_url: str | None = None) -> dict:
        cookies = await self.context.cookies()
        now = time.time()
        storage = await self.local_storage()
        return {
            "state": self.state,
            "context": self.state,  # one context per state: the cookies' values within it are one visitor's
            "page": page_url or self.page.url,
            "final_url": self.page.url,
            "status": self.response.status if self.response else None,
            "title": await self._title(),
            "site_domain": self.site_domain,
            "cookies": [self.cookie(c, now) for c in cookies],
            "requests": [dict(r, third_party=registrable_domain(r["host"]) != self.site_domain)
                         for r in self.recorder.requests if r["host"]],
            "local_storage": storage,
            "dialogs": self.recorder.dialogs,
        }

    def cookie(self, c: dict, now: float) -> dict:
        session = c.get("expires", -1) in (-1, None) or c["expires"] < 0
        record = {
            "name": c["name"], "value": c["value"][:self.settings.browser.cookie_value_chars],
            "domain": c["domain"], "path": c["path"], "session": session,
            "expires": None if session else int(c["expires"]),
            "days": None if session else round((c["expires"] - now) / 86400, 2),
            "secure": c.get("secure", False), "http_only": c.get("httpOnly", False),
            "same_site": c.get("sameSite"), "partition_key": c.get("partitionKey"),
            "third_party": registrable_domain(c["domain"]) != self.site_domain,
            "set_by": self.recorder.setter(c),
        }
        return record

    async def _title(self) -> str:
        try:
            return (await self.page.title())[:200]
        except Exception:
            return ""

    async def local_storage(self) -> list[dict]:
        return [{"frame": frame.url[:300], "origin": _origin(frame.url), "keys": sorted(keys)[:100]}
                for frame, keys in await local_storage_keys(self.page) if keys]

    async def facts(self) -> dict:
        return await self.page.main_frame.evaluate(_js("page_facts.js"))

    async def axe(self) -> dict:
        """axe-core in every frame of the page, each frame on its own; a frame that holds no HTML document (a
        linked security.txt or JSON file, shown as text) is no web page to judge and is left out."""
        frames = []
        version = ""
        for frame in self.page.frames:
            entry = {"url": frame.url[:300]}
            if not frame.url.startswith(("http://", "https://")):
                continue
            try:
                if await frame.evaluate("document.contentType") not in ("text/html", "application/xhtml+xml"):
                    continue
                await frame.evaluate(self.probe.axe_source + "\n;true")
                result = await frame.evaluate(_js("axe_run.js"), AXE_TAGS)
                version = result.pop("version")
                entry.update(result)
            except Exception as exc:
                entry["error"] = str(exc).split("\n")[0][:300]
            frames.append(entry)
        return {"url": self.page.url, "version": version, "frames": frames}

    # --- the states ---

    async def front_page(self, start_url: str) -> dict:
        """The front page: its record, banner and axe-core, where its links lead (the subpages to sample, the
        page the consent states follow on to) and where to look for the accessibility statement."""
        browser = self.settings.browser

        async def collect() -> dict:
            record = await self.page_record(start_url)
            facts = await self.facts()
            banner = await Banner(self.page).find_for_record()
            return {"record": record, "facts": facts, "banner": banner, "axe": await self.axe()}

        front = await self.step(start_url, collect, floor=browser.settle_seconds)
        final_url = front["record"]["final_url"]
        front["links"] = same_site_links(final_url, front["facts"]["links"])
        front["follow_url"] = front["links"][0] if front["links"] and browser.subpages else final_url
        front["statement_candidates"] = statement_candidates(final_url, front["facts"]["links"], front["facts"]["labels"])
        front["site_domain"] = self.site_domain
        return front

    async def subpages(self, front: dict) -> dict:
        """After the front page, the sampled subpages breadth-first in this same context (a visitor's cookie
        jar), axe-core on the first `axe_subpages` of them: the records, pages and axe results of the state."""
        browser = self.settings.browser
        start_url, final_url = front["record"]["page"], front["record"]["final_url"]
        records, axe = [front["record"]], [front["axe"]]
        pages = [{"url": start_url, "depth": 0, "error": None}]
        queue = [(url, 1) for url in front["links"]]
        seen = {final_url.rstrip("/"), start_url.rstrip("/")} | {u.rstrip("/") for u, _ in queue}
        while queue and len(pages) <= browser.subpages:
            url, depth = queue.pop(0)
            with_axe = len(axe) <= browser.axe_subpages

            async def subpage(url=url, with_axe=with_axe) -> dict:
                return {"record": await self.page_record(url), "links": (await self.facts())["links"],
                        "axe": await self.axe() if with_axe else None}

            try:
                result = await self.step(url, subpage)
            except VisitFailed as exc:
                pages.append({"url": url, "depth": depth, "error": f"{exc.reason}: {exc.detail}"})
                continue
            pages.append({"url": url, "depth": depth, "error": None})
            records.append(result["record"])
            if result["axe"] is not None:
                axe.append(result["axe"])
            if depth < browser.subpage_depth:
                for link in same_site_links(result["record"]["final_url"], result["links"]):
                    if link.rstrip("/") not in seen:
                        seen.add(link.rstrip("/"))
                        queue.append((link, depth + 1))
        return {"records": records, "pages": pages, "axe": axe}

    async def consent(self, url: str, choice: str, follow_url: str, cmps: tuple[str, ...]) -> dict:
        """The front page from a clean state; click `choice` (reject or accept) on the banner
        (scanner/probes/consent.py), with autoconsent's rules for the `cmps` the first visit detected only;
        then collect on this page and on one more page."""
        floor = self.settings.browser.settle_seconds

        async def click() -> dict:
            outcome = await Banner(self.page, cmps).choose(choice, floor, self.recorder)
            await self.settle(floor)
            return {"outcome": outcome, "record": await self.page_record()}

        clicked = await self.step(url, click)
        records = [clicked["record"]]
        if clicked["outcome"]["banner"]:
            records.append(await self.step(follow_url, lambda: self.page_record(follow_url)))
        return {"consent": clicked["outcome"], "records": records}

    # --- the accessibility statement, where script draws it ---

    async def statement_page(self, url: str) -> dict:
        """A statement candidate as the browser draws it: status, final URL, title, text and links."""

        async def read() -> dict:
            facts = await self.facts()
            return {"status": self.response.status if self.response else None, "final_url": self.page.url,
                    "title": await self._title(), "text": (await self.page.inner_text("body", timeout=5000))[:40000],
                    "links": [{"href": link["href"], "text": link["text"]} for link in facts["links"]][:300]}

        return await self.step(url, read)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
