"""The dashboard served live (scanner/service/dashboard.py) and the look of the pages it shares with
`govscan publish`: the same files at the same relative paths, rendered off the event loop and again only when
the store changed, nothing outside the rendered site reachable, stylesheets linked (never inline), no scripts.

The router is mounted on a bare FastAPI app with a stand-in for the service's state, so these tests depend
on nothing but the store and the reports."""
from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime
from types import SimpleNamespace
from urllib.parse import urljoin

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from checks.registry import all_checks
from reports.page import STYLESHEETS, page, static_files
from reports.publish import Options, publish
from scanner import scheduler
from scanner.service import dashboard
from storage.store import Store
from tests.unit.simfakes import settings, world, write_sites  # noqa: F401 (fixture)

HOSTILE = '<script>alert("x")</script>Gemeente'


@pytest.fixture
def nights(world, tmp_path, monkeypatch):  # noqa: F811 (fixture)
    """A store with two nights of results for two organisations (one with a hostile name), and the clock."""
    clock = scheduler.ManualClock(datetime(2026, 1, 1, 1, 30))
    store = Store(f"sqlite:///{tmp_path}/govscan.db", clock=clock)
    sites = write_sites(tmp_path / "sites.csv", [("Gemeente Noordstad", "gemeente", "GM9901", "www.noordstad.nl"),
                                                 (HOSTILE, "gemeente", "GM9902", "www.zuidstad.nl")])
    schedules = scheduler.Schedules([scheduler.Schedule("nightly", sites=str(sites), checks="test.sim.*")],
                                    scheduler.WorkSettings(poll_seconds=0.01))
    scheduler.run_due(store, settings(), schedules)
    clock.current = datetime(2026, 1, 2, 1, 30)
    world.statuses = {"www.noordstad.nl": {"test.sim.https": "fail"}}
    scheduler.run_due(store, settings(), schedules)
    yield SimpleNamespace(store=store, clock=clock, schedules=schedules, world=world)
    store.close()


def make_app(store, *, lab=True, min_seconds=0.0) -> tuple[FastAPI, dashboard.LiveSite]:
    app = FastAPI()
    app.include_router(dashboard.router)
    app.state.service = SimpleNamespace(settings=settings(), store=store, catalogue=dict(all_checks()), lang="nl",
                                        lab=lab)
    app.state.dashboard = dashboard.LiveSite.for_service(app.state.service, min_seconds=min_seconds)
    return app, app.state.dashboard


def published(store, out) -> dict[str, bytes]:
    publish(store, out, all_checks(), Options(lab=True))
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def drop_generated(content: bytes) -> dict:
    return {k: v for k, v in json.loads(content).items() if k != "generated"}


def test_dashboard_serves_what_publish_writes_at_the_same_paths(nights, tmp_path):
    files = published(nights.store, tmp_path / "site")
    assert {"index.html", "trends.html", "maps/all.html", "organisations/index.html", "organisations/gm9901.html",
            "runs/index.html", "runs/run-2.html", "runs/run-2.csv", "exports/state.csv", "exports/state.json",
            "static/govscan.css"} <= set(files)
    app, _ = make_app(nights.store)
    with TestClient(app) as client:
        for relative, content in files.items():
            response = client.get(f"/dashboard/{relative}")
            assert response.status_code == 200, relative
            if relative == "exports/state.json":  # says when it was made, to the microsecond
                assert drop_generated(response.content) == drop_generated(content)
            else:
                assert response.content == content, relative
        types = {name: client.get(f"/dashboard/{name}").headers["content-type"] for name in
                 ("index.html", "exports/state.csv", "exports/state.json", "static/govscan.css")}
        assert types == {"index.html": "text/html; charset=utf-8", "exports/state.csv": "text/csv; charset=utf-8",
                         "exports/state.json": "application/json", "static/govscan.css": "text/css; charset=utf-8"}
        assert client.get("/dashboard/").content == files["index.html"]
        assert client.get("/dashboard/organisations/").content == files["organisations/index.html"]
        root = client.get("/dashboard", follow_redirects=False)
        assert root.status_code == 308 and root.headers["location"] == "/dashboard/"


def test_every_link_and_stylesheet_of_every_page_is_served(nights):
    app, _ = make_app(nights.store)
    with TestClient(app) as client:
        pages = ["/dashboard/index.html"]
        seen = set()
        while pages:
            url = pages.pop()
            if url in seen:
                continue
            seen.add(url)
            response = client.get(url)
            assert response.status_code == 200, url
            if not url.endswith(".html"):
                continue
            for href in re.findall(r'href="([^"#]+)', response.text):
                if not href.startswith(("http:", "https:", "mailto:")):
                    pages.append(urljoin(url, href))
    assert {"/dashboard/maps/https.html", "/dashboard/organisations/gm9902.html", "/dashboard/runs/run-1.html",
            "/dashboard/exports/trends-day.csv", "/dashboard/static/voorbeeld-theme.css"} <= seen


@pytest.mark.parametrize("path", [
    "/dashboard/nothing.html", "/dashboard/../../etc/passwd", "/dashboard/%2e%2e/%2e%2e/etc/passwd",
    "/dashboard/..%2f..%2f..%2fetc%2fpasswd", "/dashboard/static/..%2f..%2fpage.py", "/dashboard//etc/passwd",
    "/dashboard/static/%2e%2e/%2e%2e/%2e%2e/pyproject.toml", "/dashboard/static/", "/dashboard/index.html%00",
    "/dashboard/runs/run-999.html"])
def test_unknown_paths_are_not_found_and_nothing_outside_the_site_is_reachable(nights, path):
    app, _ = make_app(nights.store)
    with TestClient(app) as client:
        response = client.get(path)
    assert response.status_code == 404
    assert b"root:" not in response.content and b"[project]" not in response.content


def test_rendered_in_a_worker_thread_and_again_only_when_the_store_changed(nights):
    app, site = make_app(nights.store)
    on_loop = []
    render = site.render

    def watched_render():
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        return render()

    site.render = watched_render
    with TestClient(app) as client:
        first = client.get("/dashboard/runs/index.html").text
        client.get("/dashboard/trends.html")
        assert site.renders == 1 and "run-3" not in first  # nothing changed: the same site
        nights.clock.current = datetime(2026, 1, 3, 1, 30)
        scheduler.run_due(nights.store, settings(), nights.schedules)  # a third night
        assert "run-3.html" in client.get("/dashboard/runs/index.html").text
        assert site.renders == 2 and on_loop == [False, False]


def test_the_store_is_looked_at_no_more_often_than_every_n_seconds(nights):
    app, site = make_app(nights.store, min_seconds=60)
    now = [1000.0]
    site.clock = lambda: now[0]
    with TestClient(app) as client:
        client.get("/dashboard/index.html")
        nights.clock.current = datetime(2026, 1, 3, 1, 30)
        scheduler.run_due(nights.store, settings(), nights.schedules)
        now[0] += 59
        assert "run-3.html" not in client.get("/dashboard/runs/index.html").text and site.renders == 1
        now[0] += 2
        assert "run-3.html" in client.get("/dashboard/runs/index.html").text and site.renders == 2


def test_without_the_lab_the_maps_use_the_shipped_boundaries(nights):
    app, _ = make_app(nights.store, lab=False)
    with TestClient(app) as client:
        page = client.get("/dashboard/maps/all.html")
    assert page.status_code == 200 and "Amsterdam" in page.text


def test_a_site_that_cannot_be_rendered_is_a_clear_503_not_a_crash(nights):
    app, site = make_app(nights.store)
    def broken():
        raise OSError("disk full")

    site.render = broken
    with TestClient(app) as client:
        response = client.get("/dashboard/index.html")
    assert response.status_code == 503 and "dashboard" in response.text


# --- the look: stylesheets linked, nothing inline ---

INLINE = re.compile(r"<style|\sstyle\s*=|<script|\son[a-z]+\s*=|javascript:", re.IGNORECASE)


def test_published_pages_link_the_stylesheets_at_their_depth_and_carry_nothing_inline(nights, tmp_path):
    files = published(nights.store, tmp_path / "site")
    assert {f"static/{name}" for name in STYLESHEETS} | {"static/NLDS-LICENCE.md", "static/NLDS-SOURCE.txt"} <= set(files)
    pages = {name: content.decode() for name, content in files.items() if name.endswith(".html")}
    assert len(pages) >= 10
    for name, html in pages.items():
        depth = "../" * name.count("/")
        linked = re.findall(r'<link rel="stylesheet" href="([^"]+)">', html)
        assert linked == [f"{depth}static/{sheet}" for sheet in STYLESHEETS], name
        assert not INLINE.search(html), (name, INLINE.search(html))
        assert HOSTILE not in html  # escaped wherever the organisation's name appears
    assert "&lt;script&gt;" in pages["organisations/index.html"]


def test_page_links_the_stylesheets_where_it_is_told():
    html = page("Titel", "<p>x</p>", nav=[("/a", "A")], static="/static/")
    assert '<link rel="stylesheet" href="/static/govscan.css">' in html and not INLINE.search(html)
    assert 'class="utrecht-skip-link' in html and '<main id="main"' in html and 'class="utrecht-nav-bar"' in html
    assert static_files()["NLDS-SOURCE.txt"].startswith(b"@utrecht/component-library-css ")
    assert b"EUROPEAN UNION PUBLIC LICENCE" in static_files()["NLDS-LICENCE.md"]


def test_no_report_module_writes_an_inline_style_or_script():
    from pathlib import Path

    import reports

    for source in Path(reports.__file__).parent.glob("*.py"):
        text = source.read_text()
        assert not re.search(r"""style=["'{]|<style|<script""", text), source.name


def test_a_run_report_written_on_its_own_brings_its_stylesheets(tmp_path):
    from reports import run_report
    from tests.unit.test_reports import CATALOGUE, run, stored

    html_path, _ = run_report.write(run(), [stored()], tmp_path, CATALOGUE)
    html = html_path.read_text()
    for href in re.findall(r'<link rel="stylesheet" href="([^"]+)">', html):
        assert (tmp_path / href).is_file()
    assert not INLINE.search(html)
