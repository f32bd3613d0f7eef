"""The batch API, compatible with internet.nl's batch API v2 for the parts govscan covers (docs/batch-api.md).

internet.nl describes it in interface/batch/openapi.yaml of internetstandards/Internet.nl; this module keeps
its paths, its request and status shapes, its error shape (`{"api_version": ..., "error": {"label": ...,
"msg": ...}}`) and its messages, so the Internet.nl dashboard and scripts written for internet.nl work
against govscan with another base URL and a govscan token:

- POST   /api/batch/v2/requests                          {"type": "web"|"mail", "domains": [...], "name": ...}
- GET    /api/batch/v2/requests?limit=N&progress=true    the token's requests, newest first
- GET    /api/batch/v2/requests/{id}                     one request's status
- GET    /api/batch/v2/requests/{id}/results             per domain: categories, tests, a score
- GET    /api/batch/v2/requests/{id}/results_technical   per domain: the technical details

A request is a run of the store (source "serve:batch:<request id>") that the service's background scanner
(jobs.py) scans; its status and results are read from the store, so they survive a restart. A web request
runs the website checks, a mail request the mail checks (config/internetnl.toml). Results carry govscan's
check id for every test and, where one corresponds, internet.nl's test and category names (same file).

Who may: a token (tokens.py), as a Bearer token or as the password of HTTP Basic auth (what internet.nl's
clients send). Each token sees only its own requests and may submit `max_domains` domains in any 24 hours;
one request holds at most [service] batch_max_domains.

Every error leaves through `BatchError` (caught by this router's route class, so the app needs no handler
of its own); a request body is read up to a bound, and domains are judged by scanner.targets.parse_request
before anything is stored.
"""
from __future__ import annotations

import json
import math
import re
import tomllib
from datetime import datetime, timezone
from functools import cache
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPBasic, HTTPBasicCredentials, HTTPBearer
from pydantic import BaseModel, Field

from govscan import paths
from govscan.model import Status
from scanner import targets
from scanner.service import tokens
from storage import batch as stored
from storage.models import ApiTokenRow, BatchRequestRow, FindingRow
from storage.store import settings_hash

API_VERSION = "2.7.0"  # the internet.nl batch API version whose shapes this follows
PREFIX = "/api/batch/v2"
REQUEST_ID = re.compile(r"[a-f0-9]{32}")
MAX_NAME = 255
BYTES_PER_DOMAIN = 300  # a request body may hold batch_max_domains domains of this many bytes, JSON included
SHOWN_REFUSALS = 10  # refused domains named in an error message
REALM = "govscan batch API"


# --- errors, in internet.nl's shape ---

class BatchError(Exception):
    """An answer other than success: `status`, internet.nl's `label` and its message."""

    def __init__(self, status: int, label: str, msg: str, headers: dict[str, str] | None = None):
        super().__init__(msg)
        self.status, self.label, self.msg, self.headers = status, label, msg, headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse({"api_version": API_VERSION, "error": {"label": self.label, "msg": self.msg}},
                            status_code=self.status, headers=self.headers)


def bad_request(msg: str) -> BatchError:
    return BatchError(400, "bad-request", msg)


def unknown_request() -> BatchError:
    return BatchError(404, "unknown-request", "This request_id does not exist for the user.")


class BatchRoute(APIRoute):
    """Every error of this router, also FastAPI's own (a query parameter that is not a number), answered in
    internet.nl's error shape."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def handle(request: Request):
            try:
                return await handler(request)
            except BatchError as exc:
                return exc.response()
            except RequestValidationError as exc:
                where = ", ".join(".".join(map(str, e.get("loc", ()))) for e in exc.errors()[:5])
                return bad_request(f"Invalid parameters: {where}.").response()

        return handle


router = APIRouter(prefix=PREFIX, route_class=BatchRoute, tags=["batch API (internet.nl v2)"])


# --- the shapes, for the OpenAPI document ---

class ApiError(BaseModel):
    label: str = Field(description="bad-request, unknown-request or unauthorised")
    msg: str


class ErrorReply(BaseModel):
    api_version: str
    error: ApiError


class RegisterRequest(BaseModel):
    type: Literal["web", "mail"]
    domains: list[str] = Field(description="host names (or http(s) URLs) to test")
    name: str = Field("no-name", max_length=MAX_NAME, description="free text for the requester")


class RequestInfo(BaseModel):
    request_id: str = Field(pattern=REQUEST_ID.pattern)
    name: str
    request_type: Literal["web", "mail"]
    status: Literal["registering", "running", "generating", "done", "cancelled", "error"]
    submit_date: str
    finished_date: str | None
    progress: str | None = Field(None, description="with ?progress=true: domains finished/total")
    num_domains: int | None = Field(None, description="with ?progress=true")


class RequestReply(BaseModel):
    api_version: str
    request: RequestInfo


class ListReply(BaseModel):
    api_version: str
    requests: list[RequestInfo]


class ResultOfTest(BaseModel):
    status: Literal["passed", "failed", "warning", "info", "not_tested", "error"]
    verdict: str = Field(description="govscan's own status: pass, fail, warn, info, not_applicable or error")
    govscan_check: str
    reason: str | None = Field(None, description="why it could not be measured (status error)")


class CategoryResult(BaseModel):
    status: Literal["passed", "failed", "warning", "info", "error"]
    verdict: str


class DomainResults(BaseModel):
    categories: dict[str, CategoryResult]
    tests: dict[str, ResultOfTest] = Field(description="by internet.nl test name, else by govscan check id")
    custom: dict[str, Any]


class Scoring(BaseModel):
    percentage: int


class DomainResult(BaseModel):
    status: Literal["ok", "error"]
    scoring: Scoring | None = None
    results: DomainResults | None = None


class ResultsReply(BaseModel):
    api_version: str
    request: RequestInfo
    domains: dict[str, DomainResult]


class GovscanFinding(BaseModel):
    status: str
    reason: str | None
    summary: dict[str, str]
    details: dict[str, Any]
    addresses: list[dict[str, Any]]


class DomainTechnical(BaseModel):
    status: Literal["ok", "error"]
    domain: dict[str, Any] | None = None
    nameservers: dict[str, Any] | None = None
    webservers: dict[str, Any] | None = None
    govscan: dict[str, GovscanFinding] | None = Field(None, description="every finding, as govscan stores it")


class TechnicalReply(BaseModel):
    api_version: str
    request: RequestInfo
    domains: dict[str, DomainTechnical]


ERRORS = {400: {"model": ErrorReply, "description": "Bad request"},
          401: {"model": ErrorReply, "description": "Unauthorised: no token, or a wrong or revoked one"}}
WITH_ID = {**ERRORS, 404: {"model": ErrorReply, "description": "Unknown request"}}


# --- who is asking ---

class _OptionalBasic(HTTPBasic):
    """HTTP Basic auth that lets a malformed header through as no credentials (answered by `caller`)."""

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:
        try:
            return await super().__call__(request)
        except HTTPException:
            return None


_basic = _OptionalBasic(auto_error=False, realm=REALM, scheme_name="BATCH_HTTP_AUTH",
                        description="any user name, the token as password (as internet.nl's clients send)")
_bearer = HTTPBearer(auto_error=False, scheme_name="BearerToken", description="Authorization: Bearer <token>")


def caller(request: Request, basic=Depends(_basic), bearer=Depends(_bearer)) -> ApiTokenRow:
    """The token of the request: Bearer, or the password of Basic auth. Refused: 401 with both challenges."""
    secret = bearer.credentials if bearer else basic.password if basic else None
    token = tokens.authenticate(request.app.state.service.store, secret)
    if token is None:
        raise BatchError(401, "unauthorised", "A valid token is needed: Authorization: Bearer <token>, or HTTP "
                         "Basic auth with the token as password.",
                         {"WWW-Authenticate": f'Basic realm="{REALM}", Bearer realm="{REALM}"'})
    return token


# --- what each request type runs, and how internet.nl names it ---

@cache
def internetnl_map() -> dict[str, dict]:
    """config/internetnl.toml: per type, its check patterns and {check id: {test, category}}."""
    with open(paths.package_data("internetnl.toml"), "rb") as f:
        return tomllib.load(f)


def _time(moment: datetime | None) -> str | None:
    return moment.replace(tzinfo=timezone.utc).isoformat() if moment else None


def _status(run, states: dict[str, int]) -> str:
    if run is None:
        return "error"  # its run could not be started
    if run.state == "finished":
        return "done"
    return "running" if states.get("running") or states.get("done") or states.get("error") else "registering"


def request_info(store, request: BatchRequestRow, progress: bool = False, run=None,
                 states: dict[str, int] | None = None) -> dict:
    """internet.nl's request object (with `progress` and `num_domains` when asked, as internet.nl adds them)."""
    if request.run_id is not None and run is None:
        run = store.run(request.run_id)
    if states is None:
        states = stored.work_states(store, [request.run_id])[request.run_id] if request.run_id else {}
    status = _status(run, states)
    info = {"request_id": request.request_id, "name": request.name, "request_type": request.type,
            "status": status, "submit_date": _time(request.submitted),
            "finished_date": _time(run.finished) if status == "done" else None}
    if progress:
        total = sum(states.values())
        info["progress"] = f"{states.get('done', 0) + states.get('error', 0)}/{total}"
        info["num_domains"] = total
    return info


def _reply(data: dict, status: int = 200) -> JSONResponse:
    return JSONResponse({"api_version": API_VERSION, **data}, status_code=status)


# --- requests ---

async def _body(request: Request, limit: int) -> Any:
    """The JSON body, read up to `limit` bytes."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BatchError(413, "bad-request", f"The request body is larger than {limit} bytes.")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError):
        raise bad_request("Problem parsing json. Did you supply a 'type' and 'domains'?") from None


def _registration(data: Any, max_domains: int) -> tuple[str, str, list]:
    """The type, name and sites of a request body, judged as internet.nl judges it, and every domain by
    govscan's rules for what may be checked."""
    if not isinstance(data, dict):
        raise bad_request("Problem parsing json. Did you supply a 'type' and 'domains'?")
    missing = [f"'{field}' is missing from the request." for field in ("type", "domains") if field not in data]
    if missing:
        raise bad_request(",".join(missing))
    type_ = data["type"].lower() if isinstance(data["type"], str) else None
    if type_ not in ("web", "mail"):
        raise bad_request("'type' is not one of the expected values.")
    domains = data["domains"]
    if not domains:
        raise bad_request("Domains are empty.")
    if not isinstance(domains, list):
        raise bad_request("'domains' is not a list of domain names.")
    if len(domains) > max_domains:
        raise bad_request(f"Too many domains: at most {max_domains} in one request.")
    name = data.get("name", "no-name")
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise bad_request(f"'name' is not a text of at most {MAX_NAME} characters.")
    sites, refused = {}, []
    for domain in domains:
        try:
            site = targets.parse_request(domain)
        except targets.RefusedTarget as exc:
            refused.append(f"{json.dumps(domain)[:100]}: {exc.text.en}")
            continue
        sites.setdefault(site.host, site)
    if refused:
        more = f" (and {len(refused) - SHOWN_REFUSALS} more)" if len(refused) > SHOWN_REFUSALS else ""
        raise bad_request(f"{len(refused)} domain(s) refused: {'; '.join(refused[:SHOWN_REFUSALS])}{more}.")
    return type_, name, list(sites.values())


def _submit(service, token: ApiTokenRow, type_: str, name: str, sites: list) -> dict:
    """Reserve the request against the token's quota, start its run and wake the scanner."""
    store = service.store
    request = stored.reserve_request(store, token.id, name, type_, len(sites))
    if isinstance(request, stored.Quota):
        left = max(request.allowed - request.used, 0)
        raise BatchError(429, "bad-request", f"Quota exceeded: this token may submit {request.allowed} domains in "
                         f"24 hours and has {left} left; this request holds {len(sites)}.",
                         {"Retry-After": "3600"})
    run_id = store.start_run("batch", sites, checks=internetnl_map()[type_]["checks"],
                             source=f"serve:batch:{request.request_id}", config_hash=settings_hash(service.settings))
    stored.attach_run(store, request.request_id, run_id)
    request.run_id = run_id
    service.jobs.wake()
    return request_info(store, request)


@router.post("/requests", summary="New request", response_model=None,
             responses={200: {"model": RequestReply, "description": "Registered"}, **ERRORS,
                        413: {"model": ErrorReply, "description": "Body too large"},
                        429: {"model": ErrorReply, "description": "Over the token's quota"}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": RegisterRequest.model_json_schema()}}}})
async def register_request(request: Request, token: ApiTokenRow = Depends(caller)) -> JSONResponse:
    """Register a batch request for the domains; its `request_id` tracks it. As internet.nl, the domains are
    tested as given (no www. added) and answered with 200."""
    service = request.app.state.service
    max_domains = service.settings.service.batch_max_domains
    data = await _body(request, max_domains * BYTES_PER_DOMAIN + 4096)
    type_, name, sites = _registration(data, max_domains)
    info = await run_in_threadpool(_submit, service, token, type_, name, sites)
    return _reply({"request": info})


@router.get("/requests", summary="List requests", response_model=None,
            responses={200: {"model": ListReply, "description": "Success"}, **ERRORS})
def list_requests(request: Request, limit: int = 10, progress: bool = False,
                  token: ApiTokenRow = Depends(caller)) -> JSONResponse:
    """The token's requests, newest first: `limit` of them (default 10, 0 for all)."""
    if limit < 0:
        raise bad_request("'limit' must be 0 or more.")
    store = request.app.state.service.store
    rows = stored.requests_of(store, token.id, limit or None)
    states = stored.work_states(store, [r.run_id for r in rows if r.run_id])
    return _reply({"requests": [request_info(store, row, progress, states=states.get(row.run_id, {}))
                                for row in rows]})


def _own_request(request: Request, token: ApiTokenRow, request_id: str) -> BatchRequestRow:
    if not REQUEST_ID.fullmatch(request_id):
        raise unknown_request()
    row = stored.request_of(request.app.state.service.store, token.id, request_id)
    if row is None:
        raise unknown_request()
    return row


@router.get("/requests/{request_id}", summary="Request status", response_model=None,
            responses={200: {"model": RequestReply, "description": "Success"}, **WITH_ID})
def request_status(request: Request, request_id: str, progress: bool = False,
                   token: ApiTokenRow = Depends(caller)) -> JSONResponse:
    """How far the request is; results are there when its status is `done`."""
    row = _own_request(request, token, request_id)
    return _reply({"request": request_info(request.app.state.service.store, row, progress)})


def _done(request: Request, token: ApiTokenRow, request_id: str) -> tuple[BatchRequestRow, dict, dict]:
    """A finished request: its row, its request object, and per domain the work item and the findings."""
    store = request.app.state.service.store
    row = _own_request(request, token, request_id)
    info = request_info(store, row)
    if info["status"] != "done":
        raise bad_request("The request is not yet `done`.")
    findings: dict[str, dict[str, FindingRow]] = {}
    for finding in store.findings_for_run(row.run_id):
        findings.setdefault(finding.site.host, {})[finding.check_id] = finding
    items = {item.site.host: item for item in store.work_items(row.run_id)}
    return row, info, {host: (item, findings.get(host, {})) for host, item in sorted(items.items())}


@router.get("/requests/{request_id}/results", summary="Results", response_model=None,
            responses={200: {"model": ResultsReply, "description": "Success"}, **WITH_ID})
def results(request: Request, request_id: str, token: ApiTokenRow = Depends(caller)) -> JSONResponse:
    """Per domain: the categories and tests as internet.nl names them, each with govscan's check id, and a
    score (the share of judged checks that pass)."""
    row, info, domains = _done(request, token, request_id)
    catalogue = request.app.state.service.catalogue
    return _reply({"request": info, "domains": {
        host: domain_results(row.type, findings, catalogue) if item.state == "done" else {"status": "error"}
        for host, (item, findings) in domains.items()}})


@router.get("/requests/{request_id}/results_technical", summary="Technical results", response_model=None,
            responses={200: {"model": TechnicalReply, "description": "Success"}, **WITH_ID})
def results_technical(request: Request, request_id: str, token: ApiTokenRow = Depends(caller)) -> JSONResponse:
    """Per domain: internet.nl's technical fields that govscan measures, and every finding's details."""
    row, info, domains = _done(request, token, request_id)
    return _reply({"request": info, "domains": {
        host: domain_technical(row.type, findings) if item.state == "done" else {"status": "error"}
        for host, (item, findings) in domains.items()}})


# --- results: govscan's verdicts in internet.nl's terms ---

def internetnl_status(status: str, level: str) -> str:
    """internet.nl's test status: a failing check is `failed` when required, `warning` when recommended and
    `info` when informational, as internet.nl ranks its tests."""
    if status == Status.FAIL:
        return {"required": "failed", "recommended": "warning"}.get(level, "info")
    return {Status.PASS: "passed", Status.WARN: "warning", Status.INFO: "info",
            Status.NOT_APPLICABLE: "not_tested"}.get(Status(status), "error")


CATEGORY_ORDER = ("failed", "error", "warning", "info", "passed")  # the worst test decides the category


def domain_results(type_: str, findings: dict[str, FindingRow], catalogue) -> dict:
    mapping = internetnl_map()[type_]["tests"]
    tests, worst = {}, {}
    for check_id, finding in sorted(findings.items()):
        named = mapping.get(check_id)
        status = internetnl_status(finding.status, catalogue[check_id].level if check_id in catalogue else "required")
        tests[named["test"] if named else check_id] = {
            "status": status, "verdict": finding.status, "govscan_check": check_id, "reason": finding.reason}
        if named and status != "not_tested":
            current = worst.get(named["category"], "passed")
            worst[named["category"]] = min(current, status, key=CATEGORY_ORDER.index)
    judged = [t["status"] for t in tests.values() if t["status"] in ("passed", "failed", "warning")]
    percentage = math.floor(100 * judged.count("passed") / len(judged)) if judged else 0
    return {"status": "ok", "scoring": {"percentage": percentage},
            "results": {"categories": {name: {"status": status, "verdict": status}
                                       for name, status in sorted(worst.items())},
                        "tests": tests, "custom": {}}}


# --- technical results: internet.nl's fields read off govscan's findings ---

def _address_details(finding: FindingRow | None, address: str) -> tuple[str | None, dict]:
    for result in finding.addresses if finding else ():
        if result["address"] == address:
            return result["status"], result["details"] or {}
    return None, {}


def _header_fields(name: str, values: list[str], enabled: bool | None = None) -> dict:
    return {f"{name}_enabled": bool(values) if enabled is None else enabled, f"{name}_values": values}


def _server_details(findings: dict[str, FindingRow], address: str) -> dict:
    """internet.nl's webserver details for one address, from the per-address results of govscan's checks."""
    def at(check_id: str) -> tuple[str | None, dict]:
        return _address_details(findings.get(check_id), address)

    details: dict[str, Any] = {}
    status, data = at("web.https.redirect")
    if status:
        details["https_redirect"] = "good" if status == Status.PASS else "bad"
    status, data = at("web.https.hsts")
    if status:
        details["hsts"] = "yes" if status == Status.PASS else "no"
        details["hsts_policies"] = data.get("headers") or []
    for check_id, name in (("web.headers.x_frame_options", "x_frame_options"),
                           ("web.headers.x_content_type_options", "x_content_type_options"),
                           ("web.headers.referrer_policy", "referrer_policy")):
        status, data = at(check_id)
        if status:
            header = data.get("header")
            details.update(_header_fields(name, [header] if header else [],
                                          status == Status.PASS if name == "referrer_policy" else None))
    status, data = at("web.headers.csp")
    if status:
        details.update(_header_fields("content_security_policy", data.get("headers") or []))
    status, data = at("web.security_txt")
    if status:
        details["securitytxt_enabled"] = status in (Status.PASS, Status.WARN)
    status, data = at("web.cert.trust")
    if status:
        details["cert_trusted"] = status == Status.PASS
    status, data = at("web.tls.compression")
    if status and "secure_renegotiation" in data:
        details["compression"] = bool(data.get("compression"))
        details["secure_reneg"] = bool(data.get("secure_renegotiation"))
    status, data = at("web.tls.zero_rtt")
    if status and "accepted" in data:
        details["zero_rtt"] = "bad" if data["accepted"] else "good"
    status, data = at("web.tls.version")
    if status and "protocols" in data:
        details["protocols_bad"] = [p["name"] for p in data["protocols"] if p.get("class") == "insufficient"]
        details["protocols_phase_out"] = [p["name"] for p in data["protocols"] if p.get("class") == "phase_out"]
    status, data = at("web.dane")
    if status:
        details["dane_status"] = {Status.PASS: "validated", Status.FAIL: "failed",
                                  Status.NOT_APPLICABLE: "none"}.get(Status(status), "none")
        details["dane_records"] = data.get("records") or []
    caa = findings.get("web.caa")
    if caa is not None and caa.status != Status.ERROR:
        details["caa_enabled"] = bool(caa.details.get("records"))
        details["caa_records"] = caa.details.get("records") or []
        if caa.details.get("found_at"):
            details["caa_found_on_domain"] = caa.details["found_at"]
    return details


def _webserver(findings: dict[str, FindingRow], family: str) -> dict:
    listed = findings.get("web.ipv6.address")
    addresses = list((listed.details if listed else {}).get(family) or [])
    reach = findings.get("web.ipv6.reachable")
    ports = (reach.details if reach else {}).get(family) or {}
    server: dict[str, Any] = {"addresses": [{"address": a, "reachable": bool(ports.get(a))} for a in addresses]}
    if addresses:
        tested = addresses[0]
        https, _ = _address_details(findings.get("web.https.available"), tested)
        server.update(tested_address=tested, server_reachable=bool(ports.get(tested)),
                      https_enabled=https == Status.PASS,
                      details=_server_details(findings, tested) if https == Status.PASS else {})
    return server


def _dnssec(finding: FindingRow | None) -> dict:
    if finding is None or finding.status == Status.ERROR:
        return {"status": "error"}
    state = finding.details.get("state")
    if state in ("secure", "insecure", "bogus"):
        return {"status": state}
    return {"status": "secure" if finding.status == Status.PASS else "insecure"}


def _nameservers(finding: FindingRow | None) -> dict:
    return {ns["name"]: {family: {"addresses": [{"address": a} for a in ns.get(family) or []]}
                         for family in ("ipv4", "ipv6")}
            for ns in (finding.details.get("nameservers") or [] if finding else []) if "name" in ns}


def _policy(finding: FindingRow | None) -> dict:
    """DMARC or SPF: the records found and, when the check passes, internet.nl's `valid`."""
    if finding is None:
        return {"records": []}
    policy = {"records": finding.details.get("records") or []}
    if finding.status == Status.PASS:
        policy["policy_status"] = "valid"
    return policy


def domain_technical(type_: str, findings: dict[str, FindingRow]) -> dict:
    everything = {check_id: {"status": f.status, "reason": f.reason,
                             "summary": {"nl": f.summary_nl, "en": f.summary_en}, "details": f.details,
                             "addresses": f.addresses} for check_id, f in sorted(findings.items())}
    if type_ == "web":
        return {"status": "ok", "domain": {"dnssec": _dnssec(findings.get("dns.dnssec"))},
                "nameservers": _nameservers(findings.get("web.ipv6.nameservers")),
                "webservers": {"ipv4": _webserver(findings, "ipv4"), "ipv6": _webserver(findings, "ipv6")},
                "govscan": everything}
    dmarc_finding = findings.get("mail.dmarc")
    dmarc = _policy(dmarc_finding)
    if dmarc_finding is not None and dmarc_finding.details.get("found_at_organisational_domain"):
        dmarc["record_org_domain"] = dmarc_finding.details.get("organisational_domain")
    dkim = findings.get("mail.dkim")
    return {"status": "ok",
            "domain": {"dnssec": _dnssec(findings.get("mail.dnssec")), "dmarc": dmarc,
                       "spf": _policy(findings.get("mail.spf")),
                       "dkim": {"discovered": dkim is not None and dkim.status == Status.PASS}},
            "govscan": everything}

