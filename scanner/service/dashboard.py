"""The dashboard: what `govscan publish` writes (overview, trends, maps, organisation pages, run reports,
exports and the stylesheets), served live from the store at /dashboard/<the same relative path>.

The pages are the Publisher's (reports/publish.py), rendered into memory as a whole site and kept: a site
takes seconds to render on a large store, so it is rendered in a worker thread (never on the event loop),
and again only when the store has changed (a run started, stored sites or ended, or a day passed) and at
most once every REBUILD_SECONDS; between rebuilds every request is a lookup in memory. A request is only
ever answered with a file of the rendered site, looked up by its path as a key: no path reaches the file
system, so `..` and its encodings are simply not found. Links inside the pages are relative, so the same
pages work published and served.

The options are those of `govscan publish`: the service's language, and the lab's fictitious boundaries for
the maps when the service runs on the lab (else PDOK's, downloaded once and cached, as `govscan publish`
does).
"""
from __future__ import annotations

import asyncio
import math
import sys
import time
from pathlib import PurePosixPath
from typing import Callable, Hashable

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from govscan.model import say
from reports import publish

REBUILD_SECONDS = 60  # the store is looked at no more often than this
RECENT_RUNS = 20      # the runs whose progress says whether the store changed
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".csv": "text/csv; charset=utf-8", ".json": "application/json",
                 ".md": "text/markdown; charset=utf-8", ".txt": "text/plain; charset=utf-8"}

router = APIRouter()


def store_version(store) -> Hashable:
    """What changes whenever the dashboard would: the day (the charts end today), the newest runs' state
    and progress (every stored site counts in sites_done; a re-evaluation is a run of its own), and the
    explanations recorded or revoked (storage/explanations.py)."""
    from storage.explanations import changes

    return (store.now().date(), tuple((r.id, r.state, r.sites_done) for r in store.runs(limit=RECENT_RUNS)),
            changes(store))


class LiveSite:
    """One rendered site, kept in memory and rendered again when `version()` changes, looked at no more often
    than every `min_seconds`. `render` and `version` read the store and run in a worker thread."""

    def __init__(self, render: Callable[[], dict[str, bytes]], version: Callable[[], Hashable],
                 min_seconds: float = REBUILD_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.render, self.version = render, version
        self.min_seconds = min_seconds
        self.clock = clock
        self.files: dict[str, bytes] | None = None
        self.rendered_version: Hashable = None
        self.looked = -math.inf
        self.renders = 0
        self.lock = asyncio.Lock()

    @classmethod
    def for_service(cls, service, min_seconds: float = REBUILD_SECONDS) -> "LiveSite":
        options = publish.Options(lang=service.lang, lab=getattr(service, "lab", False))
        return cls(lambda: publish.render(service.store, service.catalogue, options),
                   lambda: store_version(service.store), min_seconds)

    async def get(self) -> dict[str, bytes] | None:
        """The site, up to date within `min_seconds`; None when it could not be rendered at all."""
        async with self.lock:  # one render at a time; the requests that came meanwhile get its result
            if self.files is not None and self.clock() - self.looked < self.min_seconds:
                return self.files
            self.looked = self.clock()
            try:
                version = await run_in_threadpool(self.version)
                if self.files is None or version != self.rendered_version:
                    self.files = await run_in_threadpool(self.render)
                    self.rendered_version = version
                    self.renders += 1
            except Exception as error:  # noqa: BLE001 (the service stays up; the last site, if any, is served)
                print(f"govscan serve: the dashboard could not be rendered: {error!r}", file=sys.stderr)
            return self.files


def live_site(app) -> LiveSite:
    """The app's site, made on first use."""
    site = getattr(app.state, "dashboard", None)
    if site is None:
        site = app.state.dashboard = LiveSite.for_service(app.state.service)
    return site


@router.get("/dashboard", include_in_schema=False)
async def dashboard_root() -> RedirectResponse:
    return RedirectResponse("/dashboard/", status_code=308)  # the pages' relative links need the slash


@router.get("/dashboard/{path:path}", include_in_schema=False)
async def dashboard_file(path: str, request: Request) -> Response:
    if path == "" or path.endswith("/"):
        path += "index.html"
    files = await live_site(request.app).get()
    if files is None:
        lang = request.app.state.service.lang
        return Response(say(lang, "Het dashboard kan nu niet worden gemaakt; probeer het later opnieuw.",
                            "The dashboard cannot be made now; please try again later."),
                        status_code=503, media_type="text/plain; charset=utf-8", headers={"Retry-After": "60"})
    content = files.get(path)
    if content is None:
        raise HTTPException(status_code=404)
    return Response(content, media_type=CONTENT_TYPES.get(PurePosixPath(path).suffix,
                                                          "application/octet-stream"))
