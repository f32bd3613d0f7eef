"""The web service's check page without the network: the app on a fresh SQLite store, driven through httpx's
ASGI transport, with a background scanner whose scan of a site is a stand-in (held until the test lets it
go, and returning findings the test chose), so queueing, limits and escaping are seen exactly."""
from __future__ import annotations

import asyncio
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from govscan.model import Finding, Site, SiteResult, Status, Text
from scanner import config
from scanner.service.app import create_app
from scanner.service.jobs import FamilyProgress, Jobs
from storage.models import RunRow
from storage.store import Store

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def wait_until(predicate, what: str, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.02)


class StandInScan:
    """A scan that reports one family in progress, waits until released, and returns a failing finding
    whose text and evidence carry markup (as a hostile site's would)."""

    def __init__(self):
        self.released = threading.Event()
        self.scanning = 0
        self.most = 0
        self.order: list[str] = []  # the hosts in the order their scans began

    async def __call__(self, settings, checks, site: Site, facts, progress) -> SiteResult:
        tracked = progress[site.host] = FamilyProgress({"https": {"http"}, "tls": {"tls"}}, set(),
                                                       {"http": 1, "tls": 1})
        tracked.done["http"] = 1
        self.order.append(site.host)
        self.scanning += 1
        self.most = max(self.most, self.scanning)
        try:
            while not self.released.is_set():
                await asyncio.sleep(0.01)
        finally:
            self.scanning -= 1
        finding = Finding(site.host, "headers.csp", Status.FAIL, Text(f"CSP {HOSTILE}", f"CSP {HOSTILE}"),
                          {"header": HOSTILE}, "norm", 1)
        return SiteResult(site, {}, {}, [finding], 0.1)


@pytest.fixture
def scan():
    stand_in = StandInScan()
    yield stand_in
    stand_in.released.set()


@pytest.fixture
def make_app(tmp_path, scan):
    """An app with its scanner started; `service` settings override [service]."""
    made = []

    def make(client="192.0.2.10", **service):
        settings = config.load(overrides={"service": service})
        store = Store(f"{tmp_path}/govscan.db")
        jobs = Jobs(settings, store, scan=scan)
        app = create_app(settings, store, jobs=jobs)
        jobs.start()
        made.append(jobs)
        transport = httpx.ASGITransport(app=app, client=(client, 40000))
        return app, httpx.Client(transport=_Sync(transport), base_url="http://govscan.test")

    yield make
    for jobs in made:
        jobs.stop()


class _Sync(httpx.BaseTransport):
    """httpx's ASGI transport is asynchronous only: run each request in a fresh event loop."""

    def __init__(self, transport: httpx.ASGITransport):
        self.transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send():
            request.stream = httpx.ByteStream(request.read())
            response = await self.transport.handle_async_request(request)
            return httpx.Response(response.status_code, headers=response.headers, content=await response.aread())

        return asyncio.run(send())


def token(client: httpx.Client) -> str:
    page = client.get("/")
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def submit(client: httpx.Client, site: str, csrf: str | None = None) -> httpx.Response:
    return client.post("/check", data={"site": site, "csrf": token(client) if csrf is None else csrf})


def test_a_check_waits_runs_and_shows_its_report_and_json(make_app, scan):
    app, client = make_app()
    response = submit(client, "https://www.noordstad.nl/")
    assert response.status_code == 303
    link = response.headers["location"]
    assert re.fullmatch(r"/check/\d+", link)
    wait_until(lambda: client.get(link + ".json").json()["state"] == "running", "the check runs")
    page = client.get(link).text
    assert "De website wordt nu gecontroleerd" in page
    assert 'http-equiv="refresh"' in page and '/static/check.js' in page
    status = client.get(link + ".json").json()
    assert status["families"]["https"] == {"done": 1, "total": 1, "busy": False, "finished": True}
    assert status["families"]["tls"] == {"done": 0, "total": 1, "busy": False, "finished": False}
    scan.released.set()
    wait_until(lambda: client.get(link + ".json").json()["state"] == "done", "the check is done")
    report = client.get(link + ".json").json()["report"]
    assert report["site"]["host"] == "www.noordstad.nl"
    assert [f["check"] for f in report["findings"]] == ["headers.csp"]
    assert report["run"]["source"] == "serve:check" and "192.0.2.10" not in str(report)
    page = client.get(link).text
    assert "Rapport van www.noordstad.nl" in page and 'http-equiv="refresh"' not in page
    english = client.get(link + "?lang=en").text
    assert "Report of www.noordstad.nl" in english and '<html lang="en">' in english


def test_scanned_and_typed_markup_is_escaped(make_app, scan):
    app, client = make_app()
    refused = submit(client, f"www.{HOSTILE}.nl")
    assert refused.status_code == 400
    assert "<script>" not in refused.text and "&lt;script&gt;" in refused.text
    assert 'role="alert"' in refused.text
    link = submit(client, "www.zuiderveen.nl").headers["location"]
    scan.released.set()
    wait_until(lambda: client.get(link + ".json").json()["state"] == "done", "the check is done")
    page = client.get(link).text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert" in page


def test_the_same_site_within_the_interval_gives_the_same_check(make_app):
    app, client = make_app()
    first = submit(client, "www.oostermeer.nl").headers["location"]
    assert submit(client, "https://www.oostermeer.nl/").headers["location"] == first
    assert submit(client, "www.westerbroek.nl").headers["location"] != first


def test_more_checks_than_allowed_per_hour_get_429_saying_when_to_try_again(make_app):
    app, client = make_app(checks_per_hour=3)
    for n in range(3):
        assert submit(client, f"www{n}.noordstad.nl").status_code == 303
    refused = submit(client, "www9.noordstad.nl")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert "Probeer het over 60 minuten opnieuw" in refused.text
    # Another client has its own allowance; the limit is counted from the store, so it survives a restart.
    assert submit(make_app(client="192.0.2.11", checks_per_hour=3)[1], "www9.noordstad.nl").status_code == 303
    assert submit(make_app(checks_per_hour=3)[1], "www8.noordstad.nl").status_code == 429


def test_a_post_without_the_csrf_token_is_refused(make_app):
    app, client = make_app()
    token(client)  # the cookie is there, the field is not
    assert client.post("/check", data={"site": "www.noordstad.nl"}).status_code == 403
    assert submit(client, "www.noordstad.nl", csrf="x" * 43).status_code == 403
    fresh = httpx.Client(transport=client._transport, base_url="http://govscan.test")
    assert fresh.post("/check", data={"site": "www.noordstad.nl", "csrf": token(client)}).status_code == 403
    assert app.state.service.store.runs() == []


def test_the_csrf_cookie_is_the_only_cookie_and_is_strict(make_app):
    app, client = make_app()
    cookie = client.get("/").headers["set-cookie"]
    assert cookie.startswith("govscan_csrf=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "set-cookie" not in client.get("/").headers  # set once
    assert "set-cookie" not in client.get("/toegankelijkheid").headers


def test_security_headers_on_every_response(make_app):
    app, client = make_app()
    for path in ("/", "/check/999", "/toegankelijkheid", "/.well-known/security.txt", "/static/check.js",
                 "/api/openapi.json"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in headers  # plain HTTP


def test_hsts_and_the_client_only_from_trusted_proxies(make_app):
    app, client = make_app(client="192.0.2.20", trusted_proxies=["192.0.2.20"], checks_per_hour=1)
    behind = {"x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.7"}
    assert client.get("/", headers=behind).headers["strict-transport-security"] == "max-age=31536000"
    csrf = token(client)
    assert client.post("/check", data={"site": "www1.noordstad.nl", "csrf": csrf}, headers=behind).status_code == 303
    store = app.state.service.store
    assert store.runs()[0].source == "serve:check:203.0.113.7"
    # An untrusted peer's headers are not believed: no HSTS over plain HTTP, and its own address counts.
    app, other = make_app(client="192.0.2.30", trusted_proxies=["192.0.2.20"])
    assert "strict-transport-security" not in other.get("/", headers=behind).headers
    other.post("/check", data={"site": "www2.noordstad.nl", "csrf": token(other)}, headers=behind)
    assert store.runs()[0].source == "serve:check:192.0.2.30"


def test_unknown_checks_are_a_404_page(make_app):
    app, client = make_app()
    for path in ("/check/999", "/check/abc", "/check/1.json", "/nothing-here"):
        response = client.get(path)
        assert response.status_code == 404, path


def test_security_txt_and_the_accessibility_statement(make_app):
    app, client = make_app(contact_email="security@govscan.test", public_url="https://govscan.test")
    text = client.get("/.well-known/security.txt").text
    assert "Contact: mailto:security@govscan.test" in text
    assert "Canonical: https://govscan.test/.well-known/security.txt" in text
    assert "Preferred-Languages: nl, en" in text
    assert re.search(r"Expires: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text)
    assert "WCAG" in client.get("/toegankelijkheid").text
    assert "Accessibility statement" in client.get("/toegankelijkheid?lang=en").text


def test_fifty_checks_queue_with_their_place_and_a_bounded_number_scan(make_app, scan):
    app, client = make_app(sites_at_once=4, checks_per_hour=100)
    csrf = token(client)
    with ThreadPoolExecutor(max_workers=50) as pool:  # fifty submissions at the same moment
        responses = list(pool.map(lambda n: submit(client, f"site{n}.noordstad.nl", csrf), range(50)))
    assert {r.status_code for r in responses} == {303}
    links = [r.headers["location"] for r in responses]
    assert len(set(links)) == 50
    wait_until(lambda: scan.scanning == 4, "four sites in scan")
    states = [client.get(link + ".json").json() for link in links]
    assert [s["state"] for s in states].count("running") == 4
    positions = sorted(s["position"] for s in states if s["state"] == "queued")
    assert positions == list(range(1, 47))
    last = max(states, key=lambda s: s["position"] or 0)
    assert "plaats 46" in client.get(f"/check/{last['id']}").text
    scan.released.set()
    wait_until(lambda: all(client.get(link + ".json").json()["state"] == "done" for link in links), "all done")
    assert scan.most == 4


def test_a_form_post_larger_than_any_form_is_refused_unread(make_app):
    app, client = make_app()
    assert submit(client, "www." + "a" * 20000 + ".nl").status_code == 413
    assert app.state.service.store.runs() == []


def test_a_check_goes_before_the_waiting_sites_of_a_batch(make_app, scan):
    app, client = make_app(sites_at_once=1)
    service = app.state.service
    batch = [Site(f"https://b{n}.noordstad.nl/", f"b{n}.noordstad.nl") for n in range(3)]
    batch_run = service.store.start_run("batch", batch, source="serve:batch:test")
    service.jobs.wake()
    wait_until(lambda: scan.scanning == 1, "the batch's first site in scan")
    link = submit(client, "www.noordstad.nl").headers["location"]
    assert client.get(link + ".json").json()["position"] == 1
    assert service.jobs.position(batch_run, "serve:batch:test") == 2  # its two sites wait after the check
    scan.released.set()
    wait_until(lambda: service.store.run(batch_run).state == "finished", "the batch is done")
    assert scan.order == ["b0.noordstad.nl", "www.noordstad.nl", "b1.noordstad.nl", "b2.noordstad.nl"]


def test_a_check_left_by_a_killed_service_is_resumed_by_the_next(make_app, scan, tmp_path):
    store = Store(f"{tmp_path}/govscan.db")
    run_id = store.start_run("on-demand", [Site("https://www.noordstad.nl/", "www.noordstad.nl")],
                             source="serve:check:192.0.2.10")
    with store.session() as session:  # as a service killed with SIGKILL leaves it: running, its process gone
        run = session.get(RunRow, run_id)
        run.pid, run.process_start = 2**22 + 1, "1"
    scan.released.set()
    app, client = make_app()
    wait_until(lambda: client.get(f"/check/{run_id}.json").json()["state"] == "done", "the check is done")
    # the check says done only once its run is closed too
    assert store.run(run_id).state == "finished"
