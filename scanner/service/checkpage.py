"""The on-demand check page: a form for a URL or host name, then the check's own page at a permanent link.

- `GET /`: the form. `POST /check`: CSRF-checked (web.py), the input read by `scanner.targets.parse_request`
  (a refusal is shown on the form with its reason, status 400). The same site checked in the last [service]
  recheck_minutes (by anyone) sends the client to that check instead of scanning again; otherwise the client
  may start [service] checks_per_hour checks per hour (counted from the store's runs, so a restart does not
  reset it; beyond it a 429 page says when to try again). A check is a run of kind on-demand from source
  "serve:check:<client address>" with every check, as `govscan check` runs them; the background scanner
  (jobs.py) scans it. Then 303 to the check's page.
- `GET /check/<id>`: while the check waits or runs, its place in line or its progress per family; the page
  reloads itself every 3 seconds without JavaScript (a refresh in <noscript>), and with JavaScript
  /static/check.js fetches the page and swaps in the new status instead. When done, the report
  (reports/check_report.py). `GET /check/<id>.json`: the status and progress, and when done the report as
  `govscan check --format json` gives it (reports/json_report.py); the run's source is given as
  "serve:check" only, so a permanent link never tells who asked for the check.

Every string typed or scanned is escaped before it reaches a page.
"""
from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from datetime import timedelta
from html import escape

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse

from govscan.model import say
from reports import check_report, json_report
from reports.site_report import SiteReport, family_label
from scanner import targets
from scanner.service import web
from scanner.service.jobs import CHECKS
from storage import work
from storage.store import settings_hash

router = APIRouter()

MAX_INPUT = 2048  # characters of a typed target looked at; parse_request refuses longer names anyway
REFRESH_SECONDS = 3
_RUN_ID = re.compile(r"[0-9]{1,12}")
_starting = threading.Lock()  # one submission at a time decides between a stored check and a new one

# --- the form ---

def form(request: Request, typed: str = "", error: str = "") -> str:
    lang = web.lang_of(request)
    described = "site-hint site-error" if error else "site-hint"
    invalid = ' aria-invalid="true"' if error else ""
    error_html = f'<p id="site-error" class="govscan-error" role="alert">{escape(error)}</p>' if error else ""
    intro = say(lang, "Controleer of een website voldoet aan de standaarden die de overheid verplicht: HTTPS, TLS, "
                      "DNSSEC, IPv6, beveiligingsheaders, security.txt, e-mail, privacy en toegankelijkheid.",
                "Check whether a website meets the standards the Dutch government requires: HTTPS, TLS, DNSSEC, "
                "IPv6, security headers, security.txt, mail, privacy and accessibility.")
    label = say(lang, "Website (adres of hostnaam)", "Website (address or host name)")
    hint = say(lang, "Bijvoorbeeld www.gemeente.nl of https://www.gemeente.nl/",
               "For example www.gemeente.nl or https://www.gemeente.nl/")
    after = say(lang, "Een controle duurt ongeveer een minuut. U krijgt een vaste link naar het rapport.",
                "A check takes about a minute. You get a permanent link to the report.")
    return (
        f"<p>{intro}</p>\n"
        f'<form method="post" action="{escape(web.href("/check", lang))}">\n{web.csrf_field(request)}\n'
        f'<p><label for="site">{label}</label><br>'
        f'<input id="site" name="site" type="text" inputmode="url" autocomplete="url" spellcheck="false" '
        f'required maxlength="{MAX_INPUT}" value="{escape(typed)}" aria-describedby="{described}"{invalid}></p>\n'
        f'<p id="site-hint">{hint}</p>\n{error_html}\n'
        f'<p><button type="submit">{say(lang, "Controleren", "Check")}</button></p>\n</form>\n<p>{after}</p>')


def title(lang: str) -> str:
    return say(lang, "Website controleren", "Check a website")


@router.get("/", include_in_schema=False)
def home(request: Request):
    return web.render(request, title(web.lang_of(request)), form(request))


@router.post("/check", include_in_schema=False)
def submit(request: Request, site: str = Form(""), csrf: str = Form("")):
    service = request.app.state.service
    lang = web.lang_of(request)
    typed = site[:MAX_INPUT]
    if not web.csrf_ok(request, csrf):
        message = say(lang, "Het formulier is verlopen of kwam niet van deze site. Probeer het opnieuw.",
                      "The form expired or did not come from this site. Please try again.")
        return web.render(request, title(lang), form(request, typed, message), status=403)
    try:
        target = targets.parse_request(typed.strip())
    except targets.RefusedTarget as refused:
        return web.render(request, title(lang), form(request, typed, refused.text.get(lang)), status=400)
    store, settings = service.store, service.settings.service
    source = CHECKS + web.client_address(request)
    with _starting:
        now = store.now()
        recent = work.recent_run_of(store, target.host, CHECKS, now - timedelta(minutes=settings.recheck_minutes))
        if recent is None:
            started = work.started_since(store, source, now - timedelta(hours=1))
            if len(started) >= settings.checks_per_hour:
                return too_many(request, started[0] + timedelta(hours=1) - now)
            recent = store.start_run("on-demand", [target], checks="", source=source,
                                     config_hash=settings_hash(service.settings))
            service.jobs.wake()
    return RedirectResponse(web.href(f"/check/{recent}", lang), status_code=303)


def too_many(request: Request, wait: timedelta):
    lang = web.lang_of(request)
    seconds = max(1, math.ceil(wait.total_seconds()))
    minutes = math.ceil(seconds / 60)
    limit = request.app.state.service.settings.service.checks_per_hour
    message = say(lang, f"U hebt het afgelopen uur al {limit} controles gestart, het maximum. "
                        f"Probeer het over {minutes} minuten opnieuw.",
                  f"You started {limit} checks in the past hour, the most allowed. "
                  f"Please try again in {minutes} minutes.")
    body = f'<p role="alert">{message}</p><p><a href="{escape(web.href("/", lang))}">{title(lang)}</a></p>'
    return web.render(request, say(lang, "Te veel controles", "Too many checks"), body, status=429,
                      headers={"Retry-After": str(seconds)})


# --- a check's status ---

@dataclass
class CheckStatus:
    """What a check's page shows: `state` is queued, running, done or error (could not be scanned)."""

    run: object  # storage.models.RunRow
    item: object  # storage.models.WorkItem: the check's one site
    state: str
    position: int | None = None
    families: dict[str, dict] | None = None


def status_of(service, text_id: str) -> CheckStatus | None:
    if not _RUN_ID.fullmatch(text_id):
        return None
    run = service.store.run(int(text_id))
    if run is None or not run.source.startswith(CHECKS):
        return None
    item = service.store.work_items(run.id)[0]
    # done or error once the run is closed too (just after the site is stored), so that the report says so
    if item.state in ("done", "error") and run.state != "running":
        return CheckStatus(run, item, item.state)
    if item.state != "queued" and run.state == "running":
        return CheckStatus(run, item, "running", families=service.jobs.progress(run.id, item.site.host))
    return CheckStatus(run, item, "queued", position=service.jobs.position(run.id, run.source))


def stored_report(service, status: CheckStatus) -> SiteReport:
    """The check's report from the store: its findings and the addresses its DNS probe found then."""
    store, host = service.store, status.item.site.host
    findings = [row.to_model() for row in store.findings_for_run(status.run.id)]
    dns = [a for a in store.artifacts(host, status.item.finished) if a.probe == "dns" and a.ok]
    addresses = {"ipv4": dns[0].data.get("ipv4", []), "ipv6": dns[0].data.get("ipv6", [])} if dns else {}
    seconds = (status.item.finished - status.item.started).total_seconds() if status.item.started else None
    return SiteReport(status.item.site.url, host, findings, addresses, status.run.id, seconds)


def public_run(row) -> dict:
    """The run as json_report gives it, without who asked for it."""
    return {**json_report.run(row), "source": "serve:check"}


@router.get("/check/{run_id}.json", summary="An on-demand check: status, progress and, when done, the report")
def check_json(request: Request, run_id: str):
    service = request.app.state.service
    status = status_of(service, run_id)
    if status is None:
        return JSONResponse({"error": "not found"}, status_code=404)
    data = {"id": status.run.id, "state": status.state, "site": status.item.site.host,
            "position": status.position, "families": status.families}
    if status.state == "error":
        data["error"] = status.item.error
    if status.state == "done":
        data["report"] = {**json_report.check(status.run, stored_report(service, status), service.catalogue),
                          "run": public_run(status.run)}
    return data


@router.get("/check/{run_id}", include_in_schema=False)
def check_page(request: Request, run_id: str):
    service = request.app.state.service
    lang = web.lang_of(request)
    status = status_of(service, run_id)
    if status is None:
        return web.not_found(request)
    host = status.item.site.host
    link = web.href(f"/check/{status.run.id}", lang)
    links = (f'<p>{say(lang, "Vaste link naar deze controle", "Permanent link to this check")}: '
             f'<a href="{escape(link)}">{escape(web.base_url(request) + link)}</a> · '
             f'<a href="/check/{status.run.id}.json">JSON</a></p>')
    if status.state == "done":
        body = links + check_report.render(stored_report(service, status), service.catalogue, lang)
        return web.render(request, say(lang, f"Rapport van {host}", f"Report of {host}"), body)
    if status.state == "error":
        failed = say(lang, "Deze website kon niet worden gecontroleerd", "This website could not be checked")
        body = f'<p role="alert">{failed}: {escape(status.item.error)}</p>{links}'
        return web.render(request, say(lang, f"Controle van {host}", f"Check of {host}"), body)
    body = (progress_html(status, lang) + links
            + f'<noscript><meta http-equiv="refresh" content="{REFRESH_SECONDS}"></noscript>'
            + '<script src="/static/check.js"></script>')
    return web.render(request, say(lang, f"Controle van {host}", f"Check of {host}"), body)


def progress_html(status: CheckStatus, lang: str) -> str:
    """The part of a waiting or running check's page that check.js swaps in as it changes."""
    if status.state == "queued":
        line = say(lang, f"In de wachtrij: plaats {status.position}. De controle begint zodra er plaats is.",
                   f"Waiting in line: position {status.position}. The check starts as soon as there is room.")
    else:
        line = say(lang, "De website wordt nu gecontroleerd.", "The website is being checked now.")
    rows = ""
    for family, progress in (status.families or {}).items():
        name = family_label(family, lang)
        if progress["finished"]:
            state = say(lang, "klaar", "done")
        elif progress["busy"] or progress["done"]:
            state = say(lang, "bezig", "busy")
        else:
            state = say(lang, "wacht", "waiting")
        total = "?" if progress["total"] is None else progress["total"]
        rows += (f'<tr><th scope="row">{escape(name)}</th><td>{state}</td>'
                 f'<td>{progress["done"]} {say(lang, "van", "of")} {total}</td></tr>')
    table = (f'<table><caption>{say(lang, "Voortgang per onderdeel", "Progress per family")}</caption>'
             f'<thead><tr><th scope="col">{say(lang, "Onderdeel", "Family")}</th>'
             f'<th scope="col">{say(lang, "Status", "Status")}</th>'
             f'<th scope="col">{say(lang, "Metingen", "Measurements")}</th></tr></thead><tbody>{rows}</tbody>'
             f'</table>') if rows else ""
    return (f'<div id="check-status" data-state="{status.state}" aria-live="polite">'
            f'<p id="check-line">{line}</p>{table}</div>')
