"""What every page of the web service shares: the language, who the client is, the CSRF token of its forms,
and the page frame.

- Language: Dutch unless the address asks `?lang=en`; every link the service writes keeps the choice
  (`href`), so no cookie is needed for it.
- The client: its address and scheme as the middleware in app.py decided them (proxy headers are believed
  only from [service] trusted_proxies, see `forwarded`).
- CSRF: double submit. A page with a form sets one HttpOnly, SameSite=Strict cookie holding a random token
  and writes the same token in a hidden field; a POST is accepted only when the two match. SameSite=Strict
  alone already keeps other sites' forms from sending the cookie; the matching field also stops a POST
  from a page that cannot read the cookie. It is the only cookie the service sets.
"""
from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
from html import escape

from fastapi import Request
from fastapi.responses import HTMLResponse

from govscan.model import say
from reports import page as page_frame

CSRF_COOKIE = "govscan_csrf"
CSRF_FIELD = "csrf"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")


# --- language ---

def lang_of(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "nl"


def href(path: str, lang: str) -> str:
    """A link within the service that keeps the language."""
    if lang != "en":
        return path
    return f"{path}{'&' if '?' in path else '?'}lang=en"


# --- the client, behind trusted proxies ---

def networks(addresses: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(address, strict=False) for address in addresses]


def _trusted(address: str, trusted) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def forwarded(peer: str, scheme: str, headers, trusted) -> tuple[str, str]:
    """The client's address and the scheme it used. X-Forwarded-For and X-Forwarded-Proto are believed only
    when the peer is a trusted proxy; the client is then the right-most address in X-Forwarded-For that is
    not a trusted proxy itself (what a client writes on the left cannot be told from the truth)."""
    if not _trusted(peer, trusted):
        return peer, scheme
    chain = [part.strip() for part in headers.get("x-forwarded-for", "").split(",") if part.strip()]
    client = peer
    for address in reversed(chain):
        client = address
        if not _trusted(address, trusted):
            break
    proto = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return client, proto if proto in ("http", "https") else scheme


def client_address(request: Request) -> str:
    return request.state.client


def base_url(request: Request) -> str:
    """Where users reach the service: [service] public_url, else the address this request came to."""
    public = request.app.state.service.settings.service.public_url
    return (public or f"{request.state.scheme}://{request.url.netloc}").rstrip("/")


def is_https(request: Request) -> bool:
    return request.state.scheme == "https"


# --- CSRF ---

def csrf_field(request: Request) -> str:
    """The hidden form field with the client's CSRF token; a new token (and its cookie, set by the
    middleware) when the client has none."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if not _TOKEN.fullmatch(token):
        token = getattr(request.state, "new_csrf", "") or secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">'


def csrf_ok(request: Request, submitted: str) -> bool:
    token = request.cookies.get(CSRF_COOKIE, "")
    return bool(_TOKEN.fullmatch(token)) and hmac.compare_digest(token.encode(), submitted.encode())


# --- pages ---

def render(request: Request, title: str, body: str, *, status: int = 200, headers: dict | None = None) -> HTMLResponse:
    """A complete page in the service's frame: the main links, the language switch, the footer. `body` is
    trusted HTML (its scanned and typed strings already escaped)."""
    lang = lang_of(request)
    path = request.url.path
    switch = (path, "Nederlands") if lang == "en" else (f"{path}?lang=en", "English")
    nav = [(href("/", lang), say(lang, "Website controleren", "Check a website")),
           ("/dashboard/", "Dashboard"),
           (href("/toegankelijkheid", lang), say(lang, "Toegankelijkheid", "Accessibility")),
           switch]
    footer = (f'<p><a href="{escape(href("/toegankelijkheid", lang))}">'
              f'{say(lang, "Toegankelijkheidsverklaring", "Accessibility statement")}</a> · '
              f'<a href="/.well-known/security.txt">security.txt</a></p>')
    html = page_frame.page(title, body, lang=lang, nav=nav, footer=footer, static="/static/")
    return HTMLResponse(html, status_code=status, headers=headers)


def not_found(request: Request) -> HTMLResponse:
    lang = lang_of(request)
    return render(request, say(lang, "Niet gevonden", "Not found"),
                  f'<p>{say(lang, "Deze pagina bestaat niet.", "This page does not exist.")} '
                  f'<a href="{escape(href("/", lang))}">{say(lang, "Een website controleren", "Check a website")}'
                  f'</a></p>', status=404)
