"""The accessibility statement's candidate pages, read over HTTP rather than in the browser (issue 18).

A statement is a page of text: the model statement of DigiToegankelijk, or the register's entry. Loading it in
Chromium cost about 0.4 CPU seconds a page, and a site has up to MAX_STATEMENT_FETCHES candidates (the register
link, footer links, the common paths, most of which answer 404); one HTTP request costs a few milliseconds.

How:

- The candidates come from the front page as the browser drew it (`browser.statement_candidates`), in the order
  a person would look; they are fetched in that order with the HTTP probe's client (`http.Session`): every
  address allowed by the address policy before a connection, under the per-address connection limit, bodies
  bounded by `[scan] max_body_bytes`, at most STATEMENT_REDIRECTS redirects per candidate, all of it within
  one deadline (`[browser] visit_timeout`).
- HTML is read with beautifulsoup4 and Python's own parser: the title, the text without scripts, styles,
  templates and noscript blocks (what a browser with script shows), and the links.
- A page whose HTML has scripts and hardly any text (SCRIPT_DRAWN_CHARS) is drawn by script: only then is it
  loaded in the browser (`render`, a fresh context of its own), and the entry says `read_by: browser`.
- A register link (toegankelijkheidsverklaring.nl/register/<id>) found on a page is fetched next.

The artifact keeps per candidate what checks/accessibility.py reads: url, via, status, final_url, title,
text, links, error, and read_by.
"""
from __future__ import annotations

import re
import time
from typing import Awaitable, Callable
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup

from govscan.model import Reason
from scanner.probes.base import ProbeContext, ProbeError
from scanner.probes.http import REDIRECT_STATUSES, Failed, Session, allowed_address

MAX_STATEMENT_FETCHES = 6
STATEMENT_REDIRECTS = 3
SCRIPT_DRAWN_CHARS = 200  # less text than this beside a script: the page is drawn by script
TEXT_CHARS = 40000
MAX_LINKS = 300
REGISTER_LINK = re.compile(r"toegankelijkheidsverklaring\.nl/register/(\d+)", re.I)
HTML_TYPES = ("text/html", "application/xhtml+xml", "")  # no Content-Type: browsers sniff HTML too

Render = Callable[[str], Awaitable[dict]]


def read_html(html: str, url: str) -> dict:
    """Title, visible text and links of an HTML document, and whether it has script and hardly any text."""
    soup = BeautifulSoup(html, "html.parser")
    title = " ".join(soup.title.get_text(" ").split())[:200] if soup.title else ""
    scripts = len(soup.find_all("script"))
    for hidden in soup.find_all(["script", "style", "template", "noscript", "head"]):
        hidden.decompose()
    text = soup.get_text("\n", strip=True)
    links = []
    for anchor in soup.find_all("a", href=True):
        try:
            href = urljoin(url, anchor["href"].strip())
            scheme = urlsplit(href).scheme
        except ValueError:  # not a URL at all, e.g. an unclosed "[" of an IPv6 address
            continue
        if scheme in ("http", "https"):
            links.append({"href": href, "text": " ".join(anchor.get_text(" ").split())[:200]})
        if len(links) >= MAX_LINKS:
            break
    return {"title": title, "text": text[:TEXT_CHARS], "links": links,
            "script_only": scripts > 0 and len(" ".join(text.split())) < SCRIPT_DRAWN_CHARS}


async def fetch_page(ctx: ProbeContext, session: Session, url: str) -> dict:
    """GET `url` (following at most STATEMENT_REDIRECTS redirects): status, final URL and, for HTML or other
    text, what `read_html` finds. Raises Failed or ProbeError (a refused address)."""
    for _ in range(STATEMENT_REDIRECTS + 1):
        try:
            parts = urlsplit(url)
            host = parts.hostname if parts.scheme in ("http", "https") else None
        except ValueError:
            host = None
        if not host:
            raise Failed(Reason.HTTP, f"{url[:200]!r}: not an http(s) address")
        response = await session.get(url, await allowed_address(ctx, host))
        location = response.header("location")
        if response.status not in REDIRECT_STATUSES or not location:
            break
        try:
            url = urljoin(url, location.strip())
        except ValueError:
            raise Failed(Reason.HTTP, f"a redirect to {location[:200]!r}, not an address") from None
    else:
        raise Failed(Reason.HTTP, f"more than {STATEMENT_REDIRECTS} redirects, the last to {url[:200]}")
    page = {"status": response.status, "final_url": url}
    media, _ = response.content_type()
    if media in HTML_TYPES:
        page.update(read_html(response.text(), url))
        # Only a page that exists is worth a browser: an error page with little text is what it seems.
        page["drawn_by_script"] = page.pop("script_only") and 200 <= response.status < 300
    elif media.startswith("text/"):
        page["text"] = response.text()[:TEXT_CHARS]
    else:
        page["content_type"] = media[:100]
    return page


async def read_statement_pages(ctx: ProbeContext, candidates: list[dict], render: Render) -> dict:
    """The candidates in order (register links found on them next), at most MAX_STATEMENT_FETCHES, each an
    entry of the artifact; a page drawn by script is read by `render` (the browser)."""
    session = Session(ctx, time.monotonic() + ctx.settings.browser.visit_timeout)
    queue = list(candidates)
    seen = {c["url"] for c in queue}
    fetched = []
    try:
        while queue and len(fetched) < MAX_STATEMENT_FETCHES:
            candidate = queue.pop(0)
            entry = dict(candidate, read_by="http")
            try:
                entry.update(await fetch_page(ctx, session, candidate["url"]))
            except (Failed, ProbeError) as exc:
                entry["error"] = f"{exc.reason}: {exc.detail}"
            if entry.pop("drawn_by_script", False):
                entry.update(await render(candidate["url"]), read_by="browser")
            fetched.append(entry)
            for link in entry.get("links", []):
                if REGISTER_LINK.search(link["href"]) and link["href"] not in seen:
                    seen.add(link["href"])
                    queue.insert(0, {"url": link["href"], "via": "register_link_on_page", "text": link["text"],
                                     "from": candidate["url"]})
    finally:
        session.close()
    return {"candidates": candidates, "fetched": fetched}
