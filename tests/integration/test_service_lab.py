"""`govscan --lab serve` against the running lab, as its users meet it: a real process on uvicorn at
127.0.0.1, a fresh SQLite store, every check of `govscan check` (the Browser probe included), and the machine's
Chromium driven by Playwright, with and without JavaScript. Also: a check whose service is stopped halfway is
finished by the next service on the same store.

With GOVSCAN_SCREENSHOTS=DIR the browser test saves the README's screenshots there (service-check.png while
a check runs, service-report.png of its report): `GOVSCAN_SCREENSHOTS=docs pytest ...test_service_lab.py`.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

pytestmark = pytest.mark.lab

CHROMIUM = "/usr/bin/chromium"
GOVSCAN = str(Path(sys.executable).parent / "govscan")
CHECK_SECONDS = 240  # a full check of a lab site takes under a minute; two at once, on a busy machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Service:
    """`govscan --lab --db DB serve` in a process of its own."""

    def __init__(self, db: str, port: int):
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([GOVSCAN, "--lab", "--db", db, "serve", "--host", "127.0.0.1",
                                         "--port", str(port)], stderr=subprocess.PIPE, text=True)
        self.said = self.process.stderr.readline()
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(self.url + "/", timeout=5)
                break
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"govscan serve did not start: {self.said}{self.process.stderr.read()}")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=120)


@pytest.fixture
def serve(lab, tmp_path):
    started: list[Service] = []

    def start() -> Service:
        service = Service(f"{tmp_path}/govscan.db", free_port())
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


def submit(client: httpx.Client, site: str) -> str:
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)
    response = client.post("/check", data={"site": site, "csrf": csrf})
    assert response.status_code == 303, response.text
    return response.headers["location"]


def wait_for(client: httpx.Client, link: str, states: set[str]) -> dict:
    deadline = time.monotonic() + CHECK_SECONDS
    while True:
        status = client.get(link + ".json").json()
        if status["state"] in states:
            return status
        assert time.monotonic() < deadline, f"still {status['state']} after {CHECK_SECONDS}s"
        time.sleep(0.5)


def test_a_check_survives_a_restart_of_the_service(serve):
    first = serve()
    assert first.said.startswith("govscan serve luistert op http://127.0.0.1:")
    client = httpx.Client(base_url=first.url, timeout=30)
    link = submit(client, "www.zuiderveen.nl")
    wait_for(client, link, {"running"})
    first.stop()
    second = serve()
    client = httpx.Client(base_url=second.url, timeout=30)
    status = wait_for(client, link, {"done", "error"})
    assert status["state"] == "done"
    report = status["report"]
    assert report["run"]["state"] == "finished" and report["run"]["sites"]["done"] == 1
    assert len(report["findings"]) > 40  # every check, as govscan check runs them


def test_check_a_lab_site_in_the_browser(serve, tmp_path):
    service = serve()
    shots = os.environ.get("GOVSCAN_SCREENSHOTS")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            # Without JavaScript: the form posts and the progress page reloads itself until the report is there.
            plain = browser.new_page(java_script_enabled=False, base_url=service.url)
            plain.goto("/")
            plain.get_by_label("Website (adres of hostnaam)").fill("www.westerbroek.nl")
            plain.get_by_role("button", name="Controleren").click()
            expect(plain.get_by_role("heading", name="Controle van www.westerbroek.nl")).to_be_visible()

            page = browser.new_page(base_url=service.url, viewport={"width": 1100, "height": 900})
            page.goto("/")
            expect(page).to_have_title("Website controleren")
            page.get_by_label("Website (adres of hostnaam)").fill("www.klokkenveen.nl")
            page.get_by_role("button", name="Controleren").click()
            expect(page.get_by_role("heading", name="Controle van www.klokkenveen.nl")).to_be_visible()
            expect(page.locator("#check-status")).to_contain_text(re.compile("wachtrij|gecontroleerd"))
            expect(page.get_by_role("table", name="Voortgang per onderdeel")).to_be_visible(timeout=60_000)
            expect(page.get_by_role("row", name=re.compile("^Toegankelijkheid"))).to_be_visible()
            expect(page.get_by_role("cell", name="klaar").first).to_be_visible(timeout=60_000)
            if shots:
                page.screenshot(path=f"{shots}/service-check.png", full_page=True)
            # With JavaScript the page updates in place and loads the report when the check is done.
            expect(page.get_by_role("heading", name="Rapport van www.klokkenveen.nl")).to_be_visible(
                timeout=CHECK_SECONDS * 1000)
            if shots:
                page.screenshot(path=f"{shots}/service-report.png", full_page=True)
            permanent = page.get_by_role("link", name=re.compile(r"^http:\/\/127\.0\.0\.1:\d+\/check\/\d+$"))
            link = permanent.get_attribute("href")
            permanent.click()
            expect(page).to_have_url(service.url + link)
            expect(page.get_by_role("heading", name="Rapport van www.klokkenveen.nl")).to_be_visible()
            page.get_by_role("link", name="English").click()
            expect(page).to_have_url(service.url + link + "?lang=en")
            expect(page.get_by_role("heading", name="Report of www.klokkenveen.nl")).to_be_visible()
            expect(page.get_by_role("link", name="Nederlands")).to_be_visible()
            page.get_by_role("link", name="Check a website").click()
            expect(page.get_by_role("button", name="Check")).to_be_visible()

            expect(plain.get_by_role("heading", name="Rapport van www.westerbroek.nl")).to_be_visible(
                timeout=CHECK_SECONDS * 1000)
        finally:
            browser.close()
    # The Browser probe ran from the service as from govscan check: its checks were measured.
    report = httpx.get(service.url + link + ".json", timeout=30).json()["report"]
    measured = {f["check"]: f["status"] for f in report["findings"]}
    assert measured["web.https.hsts"] == "fail"  # the lab site's one flaw (an includeSubDomains with a value)
    assert measured["a11y.statement"] == "pass"
    assert all(measured[c] != "error" for c in measured if c.startswith(("privacy.", "a11y.")))
