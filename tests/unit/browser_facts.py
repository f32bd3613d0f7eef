"""Hand-built facts of the `browser` probe (scanner/probes/browser.py) for the privacy and accessibility
check tests: only the fields the checks read, in the probe's shape."""
from __future__ import annotations

from checks.registry import Facts
from govscan.model import Artifact, Site

SITE = Site("https://www.gemeente.nl/", "www.gemeente.nl")
FRONT = "https://www.gemeente.nl/"


def cookie(name: str, domain: str = "www.gemeente.nl", *, third_party: bool = False, session: bool = False,
           days: float | None = 365, value: str = "1") -> dict:
    return {"name": name, "value": value, "domain": domain, "path": "/", "session": session,
            "expires": None if session else 1,
            "days": None if session else days, "secure": True, "http_only": False, "same_site": "Lax",
            "partition_key": None, "third_party": third_party, "set_by": {"via": "script", "url": FRONT}}


def request(url: str, third_party: bool = True) -> dict:
    host = url.split("/")[2]
    return {"url": url, "host": host, "type": "script", "initiator": FRONT, "seconds": 0.5, "third_party": third_party}


def visit(state: str = "none", page: str = FRONT, cookies=(), requests=()) -> dict:
    return {"state": state, "page": page, "final_url": page, "status": 200, "title": "", "site_domain": "gemeente.nl",
            "cookies": list(cookies), "requests": list(requests), "local_storage": [], "dialogs": 0}


def banner(platform: str = "generic", roles=("accept", "reject")) -> dict:
    return {"platform": platform, "frame": FRONT, "text": "wij gebruiken cookies",
            "buttons": [{"id": str(i), "role": role, "text": role} for i, role in enumerate(roles)]}


def consent(choice: str, clicks: int = 1, clicked: bool = True) -> dict:
    return {"choice": choice, "banner": True, "clicked": clicked, "clicks": clicks, "path": [], "layer": clicks}


def browser(visits=(), *, banner_=None, consent_=None, axe_pages=(), statement=None,
            visited_at: str = "2026-11-23T10:00:00+00:00") -> dict:
    return {"url": FRONT, "final_url": FRONT, "site_domain": "gemeente.nl", "visited_at": visited_at,
            "pages": [{"url": FRONT, "depth": 0, "error": None}], "visits": list(visits) or [visit()],
            "banner": banner_, "consent": consent_ or {},
            "axe": {"version": "4.14.1", "tags": ["wcag2a"], "pages": list(axe_pages)},
            "statement": statement or {"candidates": [], "fetched": []}}


def facts(data: dict) -> Facts:
    return Facts(SITE, {"browser": Artifact("browser", 1, SITE.host, data)})
