"""The web service's app (FastAPI; docs/service.md says why) and `govscan serve`.

`create_app` puts together the routers (the check page, the dashboard, the batch API), the static files
(the service's scripts from scanner/service/static, the pages' stylesheet from reports/static), the
service's own pages (/.well-known/security.txt, the accessibility statement) and one middleware that:

- decides who the client is: X-Forwarded-For and X-Forwarded-Proto are believed only from the peers in
  [service] trusted_proxies (web.forwarded); uvicorn's own proxy handling is off, so there is one rule;
- sets the CSRF cookie when a page handed out a new token (web.csrf_field), the only cookie there is;
- adds the security headers to every response: a Content-Security-Policy without 'unsafe-inline' (no page
  has inline script or style), X-Content-Type-Options, Referrer-Policy, and HSTS when the request came over
  HTTPS.

The background scanner (jobs.Jobs) starts and stops with the app (its lifespan). `serve` runs the app on
uvicorn, after adding the service's own addresses to the address policy, so a check can never be pointed
at the service itself.
"""
from __future__ import annotations

import sys
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html import escape

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from checks.registry import all_checks
from govscan.model import CheckInfo, say
from scanner.config import Settings
from scanner.service import batch, checkpage, dashboard, web
from scanner.service.jobs import Jobs
from storage.store import Store, tool_version

CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000"
MAX_FORM_BYTES = 16 * 1024  # a form of the service holds a URL and a token; its body is read whole


def too_large(request: Request) -> bool:
    """A form post whose body is larger than any of the service's forms, or of unknown length (the JSON of
    the batch API is bounded there)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method != "POST" or kind not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return False
    length = request.headers.get("content-length", "")
    return not length.isdigit() or int(length) > MAX_FORM_BYTES


@dataclass
class Service:
    """What every router reads from `request.app.state.service`."""

    settings: Settings
    store: Store
    catalogue: dict[str, CheckInfo]
    jobs: Jobs
    lang: str = "nl"
    lab: bool = False


def create_app(settings: Settings, store: Store, *, lab: bool = False, jobs: Jobs | None = None) -> FastAPI:
    """The app on a store. `jobs` replaces the background scanner (tests give one with a scan of their own)."""
    service = Service(settings, store, dict(all_checks()), jobs or Jobs(settings, store), lab=lab)
    trusted = web.networks(settings.service.trusted_proxies)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        resumed = service.jobs.start()
        if resumed:
            listed = ", ".join(map(str, resumed))
            print(say(service.lang, f"Hervat: run(s) {listed}", f"Resumed: run(s) {listed}"), file=sys.stderr,
                  flush=True)
        try:
            yield
        finally:
            service.jobs.stop()

    app = FastAPI(title="govscan", version=tool_version(), openapi_url="/api/openapi.json", docs_url=None,
                  redoc_url=None, lifespan=lifespan)
    app.state.service = service

    @app.middleware("http")
    async def frame(request: Request, call_next):
        peer = request.client.host if request.client else ""
        request.state.client, request.state.scheme = web.forwarded(peer, request.url.scheme, request.headers,
                                                                   trusted)
        if too_large(request):
            response = PlainTextResponse("413 form too large", status_code=413)
        else:
            response = await call_next(request)
        new_csrf = getattr(request.state, "new_csrf", "")
        if new_csrf:
            response.set_cookie(web.CSRF_COOKIE, new_csrf, httponly=True, samesite="strict",
                                secure=web.is_https(request), path="/")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if web.is_https(request):
            response.headers["Strict-Transport-Security"] = HSTS
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404 and not request.url.path.startswith("/api/"):
            return web.not_found(request)
        return await http_exception_handler(request, exc)

    app.include_router(checkpage.router)
    app.include_router(dashboard.router)
    app.include_router(batch.router)
    app.add_api_route("/.well-known/security.txt", security_txt, methods=["GET"], include_in_schema=False)
    app.add_api_route("/toegankelijkheid", accessibility_statement, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(packages=[("scanner.service", "static"), ("reports", "static")]),
              name="static")
    return app


def security_txt(request: Request) -> PlainTextResponse:
    """RFC 9116: who to tell about a vulnerability in the service."""
    settings = request.app.state.service.settings.service
    base = web.base_url(request)
    contact = f"mailto:{settings.contact_email}" if settings.contact_email else base + "/"
    expires = (datetime.now(timezone.utc) + timedelta(days=364)).replace(microsecond=0)
    text = (f"Contact: {contact}\nExpires: {expires.isoformat().replace('+00:00', 'Z')}\n"
            f"Canonical: {base}/.well-known/security.txt\nPreferred-Languages: nl, en\n")
    return PlainTextResponse(text, headers={"Cache-Control": "max-age=86400"})


def accessibility_statement(request: Request):
    """The service's own accessibility statement (what it aims for, how it is tested, whom to tell)."""
    lang = web.lang_of(request)
    settings = request.app.state.service.settings.service
    contact = settings.contact_email or ""
    reach = (f'<a href="mailto:{escape(contact)}">{escape(contact)}</a>' if contact
             else say(lang, "de beheerder van deze dienst", "the people who run this service"))
    if lang == "en":
        body = (
            "<p>govscan wants this service to be usable by everyone. Its pages are meant to meet the Web "
            "Content Accessibility Guidelines (WCAG) 2.1 at level AA, as the Dutch government requires "
            "(EN 301 549).</p>"
            "<h2>How it is tested</h2>"
            "<p>Every page (the check form, the progress and report pages, the dashboard and this statement) is "
            "tested automatically with axe-core in Chromium, and the check pages also work without JavaScript "
            "and with the keyboard only. Automatic tests find part of the problems; this is not a full audit "
            "by an expert.</p>"
            "<h2>Known limitations</h2>"
            "<p>The maps of the dashboard show their figures in a table next to them as well. Reports contain "
            "text copied from the websites checked (headers, cookie names); it is shown as plain text.</p>"
            f"<h2>Tell us</h2><p>Does something not work for you? Let us know: {reach}. We answer within "
            "two weeks.</p>")
        return web.render(request, "Accessibility statement", body)
    body = (
        "<p>govscan wil dat iedereen deze dienst kan gebruiken. De pagina's zijn bedoeld om te voldoen aan de "
        "Web Content Accessibility Guidelines (WCAG) 2.1 op niveau AA, zoals de overheid verplicht "
        "(EN 301 549).</p>"
        "<h2>Hoe het getest wordt</h2>"
        "<p>Elke pagina (het controleformulier, de voortgang en het rapport, het dashboard en deze verklaring) "
        "wordt automatisch getest met axe-core in Chromium, en de controlepagina's werken ook zonder "
        "JavaScript en met alleen het toetsenbord. Automatische tests vinden een deel van de problemen; dit "
        "is geen volledig onderzoek door een deskundige.</p>"
        "<h2>Bekende beperkingen</h2>"
        "<p>De kaarten van het dashboard tonen hun cijfers ook in een tabel ernaast. Rapporten bevatten tekst "
        "die van de gecontroleerde websites komt (headers, namen van cookies); die wordt als platte tekst "
        "getoond.</p>"
        f"<h2>Meld het ons</h2><p>Werkt iets niet voor u? Laat het ons weten: {reach}. We antwoorden binnen "
        "twee weken.</p>")
    return web.render(request, "Toegankelijkheidsverklaring", body)


def serve(ctx, args) -> int:
    """`govscan serve`: the app on uvicorn at --host/--port (else [service] host and port), on the command
    line's store and settings; the service's own addresses are refused as scan targets."""
    import uvicorn

    from scanner.addresses import own_addresses

    settings = ctx.settings
    host = args.host or settings.service.host
    port = args.port or settings.service.port
    settings.scan.address_policy = settings.scan.address_policy.refusing(own_addresses(host))
    app = create_app(settings, ctx.store, lab=bool(ctx.args.lab))
    app.state.service.lang = ctx.lang
    where = f"http://{f'[{host}]' if ':' in host else host}:{port}/"
    print(say(ctx.lang, f"govscan serve luistert op {where} (stoppen: Ctrl-C)",
                        f"govscan serve listens on {where} (stop: Ctrl-C)"),
          file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, proxy_headers=False, server_header=False, log_level="warning")
    return 0
