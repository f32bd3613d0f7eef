"""The batch API (scanner/service/batch.py) and its tokens (tokens.py) without the network: the app on a fresh
SQLite store, a background scanner that only counts wake-ups, and runs the test finishes itself with findings
it chose, so shapes, errors, quotas and the internet.nl mapping are seen exactly."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from checks.registry import all_checks, select as select_checks
from govscan.model import AddressResult, Finding, Site, SiteResult, Status, Text
from scanner import cli, config
from scanner.service import batch, tokens
from scanner.service.app import create_app
from storage import batch as stored
from storage.models import ApiTokenRow
from storage.store import Store
from tests.unit.test_storage import db_url, pg_database  # noqa: F401  (fixtures: SQLite and PostgreSQL)

API = "/api/batch/v2"


class CountingJobs:
    """The background scanner's interface, scanning nothing: the test stores the results itself."""

    def __init__(self):
        self.woken = 0

    def start(self):
        return []

    def stop(self):
        pass

    def wake(self):
        self.woken += 1


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path}/govscan.db"


@pytest.fixture
def service(db):
    """(client, store, jobs) on a fresh store; [service] batch_max_domains 5."""
    settings = config.load(overrides={"service": {"batch_max_domains": 5}})
    store = Store(db)
    jobs = CountingJobs()
    yield TestClient(create_app(settings, store, jobs=jobs)), store, jobs
    store.close()


def govscan(db, *args) -> int:
    return cli.main(["--db", db, "--lang", "en", *args])


def new_token(db, capsys, *args) -> str:
    assert govscan(db, "token", "create", "--name", "Gemeente Noordstad", *args) == 0
    return capsys.readouterr().out.strip()


def finish(store: Store, request_id: str, findings_per_host: dict[str, list[Finding]]) -> None:
    """Do what the background scanner does: store each site of the request's run and finish the run."""
    run_id = store.run().id
    assert store.run(run_id).source == f"serve:batch:{request_id}"
    for item in store.work_items(run_id):
        store.record_site(run_id, SiteResult(item.site.to_model(), {}, {}, findings_per_host[item.site.host], 0.1))
    store.finish_run(run_id)


def finding(host: str, check: str, status: Status, details: dict | None = None, addresses=()) -> Finding:
    return Finding(host, check, status, Text(f"{check} nl", f"{check} en"), details or {}, "norm", 1,
                   reason="timeout" if status == Status.ERROR else None, addresses=list(addresses))


def test_token_create_prints_the_secret_once_and_stores_only_its_hash(db, capsys):
    secret = new_token(db, capsys, "--max-domains", "50")
    assert len(secret) >= 43  # 32 random bytes, URL-safe base64
    assert new_token(db, capsys) != secret
    store = Store(db)
    with store.session() as session:
        rows = session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id)).all()
        assert [(r.name, r.max_domains) for r in rows] == [("Gemeente Noordstad", 50), ("Gemeente Noordstad", 10000)]
        assert rows[0].secret_hash == tokens.secret_hash(secret)
        assert all(secret not in str(value) for r in rows for value in vars(r).values())
    store.close()

    assert govscan(db, "token", "list", "--format", "json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(t["id"], t["max_domains_per_day"], t["revoked"]) for t in listed] == [(1, 50, None), (2, 10000, None)]
    assert secret not in json.dumps(listed) and tokens.secret_hash(secret) not in json.dumps(listed)

    assert govscan(db, "token", "revoke", "1") == 0
    assert govscan(db, "token", "list", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1])[0]["revoked"] is not None
    assert govscan(db, "token", "revoke", "99") == 2


def test_no_wrong_or_revoked_token_is_refused_in_internetnl_shape(service, db, capsys):
    client, store, _ = service
    secret = new_token(db, capsys)
    for auth in ({}, {"auth": ("user", "not-the-token")}, {"headers": {"Authorization": "Bearer " + "x" * 300}},
                 {"headers": {"Authorization": "Basic !!not-base64!!"}}):
        answer = client.get(f"{API}/requests", **auth)
        assert answer.status_code == 401
        assert answer.json() == {"api_version": batch.API_VERSION, "error": {
            "label": "unauthorised", "msg": answer.json()["error"]["msg"]}}
        assert answer.headers["WWW-Authenticate"].startswith('Basic realm="govscan batch API"')
    assert client.get(f"{API}/requests", auth=("anyone", secret)).status_code == 200
    assert client.get(f"{API}/requests", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert govscan(db, "token", "revoke", "1") == 0
    assert client.get(f"{API}/requests", auth=("anyone", secret)).status_code == 401


def test_a_request_is_a_run_and_reads_back_as_internetnl_does(service, db, capsys):
    client, store, jobs = service
    auth = ("user", new_token(db, capsys))
    answer = client.post(f"{API}/requests", auth=auth,
                         json={"type": "web", "domains": ["www.noordstad.nl", "WWW.Noordstad.nl", "zuiddorp.nl"],
                               "name": "Nightly <b>check</b>"})
    assert answer.status_code == 200
    request = answer.json()["request"]
    assert set(request) == {"request_id", "name", "request_type", "status", "submit_date", "finished_date"}
    assert (request["name"], request["request_type"], request["status"], request["finished_date"]) == (
        "Nightly <b>check</b>", "web", "registering", None)
    assert len(request["request_id"]) == 32 and request["submit_date"].endswith("+00:00")
    assert jobs.woken == 1
    run = store.run()
    assert (run.kind, run.checks, run.sites_total) == ("batch", "web.*,dns.dnssec", 2)  # duplicates once

    status = client.get(f"{API}/requests/{request['request_id']}", params={"progress": "true"}, auth=auth).json()
    assert (status["request"]["status"], status["request"]["progress"], status["request"]["num_domains"]) == (
        "registering", "0/2", 2)
    not_done = client.get(f"{API}/requests/{request['request_id']}/results", auth=auth)
    assert (not_done.status_code, not_done.json()["error"]) == (400, {
        "label": "bad-request", "msg": "The request is not yet `done`."})

    finish(store, request["request_id"], {
        "www.noordstad.nl": [
            finding("www.noordstad.nl", "web.https.hsts", Status.PASS, addresses=[AddressResult(
                "203.0.113.10", Status.PASS, Text("", ""), {"headers": ["max-age=31536000"]})]),
            finding("www.noordstad.nl", "web.https.available", Status.PASS, addresses=[AddressResult(
                "203.0.113.10", Status.PASS, Text("", ""), {})]),
            finding("www.noordstad.nl", "web.ipv6.address", Status.FAIL, {"ipv4": ["203.0.113.10"], "ipv6": []}),
            finding("www.noordstad.nl", "web.ipv6.reachable", Status.PASS, {"ipv4": {"203.0.113.10": [80, 443]}}),
            finding("www.noordstad.nl", "web.headers.csp", Status.FAIL),
            finding("www.noordstad.nl", "web.tls.ocsp_stapling", Status.FAIL),
            finding("www.noordstad.nl", "dns.dnssec", Status.ERROR),
        ],
        "zuiddorp.nl": [finding("zuiddorp.nl", "web.https.hsts", Status.NOT_APPLICABLE)]})

    done = client.get(f"{API}/requests/{request['request_id']}", auth=auth).json()["request"]
    assert done["status"] == "done" and done["finished_date"].endswith("+00:00")
    results = client.get(f"{API}/requests/{request['request_id']}/results", auth=auth).json()
    assert results["api_version"] == batch.API_VERSION and results["request"] == done
    noordstad = results["domains"]["www.noordstad.nl"]
    tests = noordstad["results"]["tests"]
    assert tests["web_https_http_hsts"] == {"status": "passed", "verdict": "pass",
                                            "govscan_check": "web.https.hsts", "reason": None}
    assert tests["web_ipv6_ws_address"]["status"] == "failed"  # required
    assert tests["web_appsecpriv_csp"]["status"] == "warning"  # recommended
    assert tests["web_https_tls_ocsp"]["status"] == "info"  # informational
    assert tests["web_dnssec_valid"] == {"status": "error", "verdict": "error", "govscan_check": "dns.dnssec",
                                         "reason": "timeout"}
    assert noordstad["results"]["categories"] == {
        "web_appsecpriv": {"status": "warning", "verdict": "warning"},
        "web_dnssec": {"status": "error", "verdict": "error"},
        "web_https": {"status": "info", "verdict": "info"},  # an informational check fails: internet.nl's info
        "web_ipv6": {"status": "failed", "verdict": "failed"}}
    assert noordstad["scoring"] == {"percentage": 60}  # hsts, https, reachable pass; address, csp do not
    assert results["domains"]["zuiddorp.nl"]["results"]["tests"]["web_https_http_hsts"]["status"] == "not_tested"

    technical = client.get(f"{API}/requests/{request['request_id']}/results_technical", auth=auth).json()
    domain = technical["domains"]["www.noordstad.nl"]
    assert domain["domain"] == {"dnssec": {"status": "error"}}
    assert domain["webservers"]["ipv4"] == {
        "addresses": [{"address": "203.0.113.10", "reachable": True}], "tested_address": "203.0.113.10",
        "server_reachable": True, "https_enabled": True,
        "details": {"hsts": "yes", "hsts_policies": ["max-age=31536000"]}}
    assert domain["webservers"]["ipv6"] == {"addresses": []}
    assert domain["govscan"]["web.headers.csp"]["status"] == "fail"

    listed = client.get(f"{API}/requests", params={"limit": 0}, auth=auth).json()
    assert listed == {"api_version": batch.API_VERSION, "requests": [done]}


def test_mail_requests_run_the_mail_checks_and_read_internetnl_mail_fields(service, db, capsys):
    client, store, _ = service
    auth = ("user", new_token(db, capsys))
    request = client.post(f"{API}/requests", auth=auth, json={"type": "MAIL", "domains": ["noordstad.nl"]}
                          ).json()["request"]
    assert (request["request_type"], request["name"], store.run().checks) == ("mail", "no-name", "mail.*")
    finish(store, request["request_id"], {"noordstad.nl": [
        finding("noordstad.nl", "mail.dmarc", Status.PASS, {"records": ["v=DMARC1; p=reject"]}),
        finding("noordstad.nl", "mail.spf", Status.FAIL, {"records": ["v=spf1 +all"]}),
        finding("noordstad.nl", "mail.dkim", Status.PASS)]})
    domain = client.get(f"{API}/requests/{request['request_id']}/results_technical", auth=auth
                        ).json()["domains"]["noordstad.nl"]["domain"]
    assert domain["dmarc"] == {"records": ["v=DMARC1; p=reject"], "policy_status": "valid"}
    assert domain["spf"] == {"records": ["v=spf1 +all"]}
    assert domain["dkim"] == {"discovered": True}
    tests = client.get(f"{API}/requests/{request['request_id']}/results", auth=auth
                       ).json()["domains"]["noordstad.nl"]["results"]["tests"]
    assert set(tests) == {"mail_auth_dmarc_policy", "mail_auth_spf_policy", "mail_auth_dkim_exist"}


def error_of(answer) -> tuple[int, str, str]:
    body = answer.json()
    assert set(body) == {"api_version", "error"}
    return answer.status_code, body["error"]["label"], body["error"]["msg"]


def test_bad_requests_are_refused_as_internetnl_refuses_them_and_store_nothing(service, db, capsys):
    client, store, jobs = service
    auth = ("user", new_token(db, capsys))

    def post(**kwargs):
        return error_of(client.post(f"{API}/requests", auth=auth, **kwargs))

    assert post(content=b"{not json") == (400, "bad-request",
                                          "Problem parsing json. Did you supply a 'type' and 'domains'?")
    assert post(json={"name": "x"}) == (400, "bad-request", "'type' is missing from the request.,'domains' is "
                                                            "missing from the request.")
    assert post(json={"type": "dns", "domains": ["a.nl"]}) == (400, "bad-request",
                                                               "'type' is not one of the expected values.")
    assert post(json={"type": "web", "domains": []}) == (400, "bad-request", "Domains are empty.")
    assert post(json={"type": "web", "domains": "a.nl"})[2] == "'domains' is not a list of domain names."
    assert post(json={"type": "web", "domains": [f"www.s{i}.nl" for i in range(6)]})[2] == (
        "Too many domains: at most 5 in one request.")
    status, label, msg = post(json={"type": "web", "domains": ["www.noordstad.nl", "127.0.0.1", None,
                                                               "ftp://x.nl", "<script>.nl"]})
    assert (status, label) == (400, "bad-request") and msg.startswith("4 domain(s) refused: \"127.0.0.1\": ")
    assert post(content=b"[" + b" " * 2_000_000 + b"]")[0] == 413
    assert error_of(client.get(f"{API}/requests", params={"limit": "ten"}, auth=auth))[:2] == (400, "bad-request")
    assert store.runs() == [] and jobs.woken == 0


def test_a_token_sees_only_its_own_requests(service, db, capsys):
    client, _, _ = service
    mine, theirs = ("u", new_token(db, capsys)), ("u", new_token(db, capsys))
    request_id = client.post(f"{API}/requests", auth=mine, json={"type": "web", "domains": ["www.noordstad.nl"]}
                             ).json()["request"]["request_id"]
    for path in ("", "/results", "/results_technical"):
        assert error_of(client.get(f"{API}/requests/{request_id}{path}", auth=theirs)) == (
            404, "unknown-request", "This request_id does not exist for the user.")
    assert error_of(client.get(f"{API}/requests/{request_id.upper()}", auth=mine))[0] == 404
    assert client.get(f"{API}/requests", auth=theirs).json()["requests"] == []
    assert len(client.get(f"{API}/requests", auth=mine).json()["requests"]) == 1


def test_the_quota_counts_the_domains_of_the_last_24_hours(service, db, capsys):
    client, store, _ = service
    auth = ("u", new_token(db, capsys, "--max-domains", "6"))
    four = {"type": "web", "domains": ["a.noordstad.nl", "b.noordstad.nl", "c.noordstad.nl", "d.noordstad.nl"]}
    assert client.post(f"{API}/requests", auth=auth, json=four).status_code == 200
    over = client.post(f"{API}/requests", auth=auth, json=four)
    assert error_of(over) == (429, "bad-request", "Quota exceeded: this token may submit 6 domains in 24 hours and "
                                                  "has 2 left; this request holds 4.")
    assert over.headers["Retry-After"]
    assert client.post(f"{API}/requests", auth=auth, json={**four, "domains": four["domains"][:2]}).status_code == 200
    store.clock = lambda: datetime(2100, 1, 1)  # a day (and more) later, the quota is back
    assert client.post(f"{API}/requests", auth=auth, json=four).status_code == 200


def test_the_openapi_document_describes_the_batch_api(service):
    client, _, _ = service
    document = client.app.openapi()
    paths = {path: set(ops) for path, ops in document["paths"].items() if path.startswith(API)}
    assert paths == {f"{API}/requests": {"get", "post"}, f"{API}/requests/{{request_id}}": {"get"},
                     f"{API}/requests/{{request_id}}/results": {"get"},
                     f"{API}/requests/{{request_id}}/results_technical": {"get"}}
    post = document["paths"][f"{API}/requests"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["required"] == ["type", "domains"]
    assert {"200", "400", "401", "429"} <= set(post["responses"])
    assert {"ResultsReply", "TechnicalReply", "RequestReply", "ErrorReply"} <= set(document["components"]["schemas"])
    assert set(document["components"]["securitySchemes"]) == {"BATCH_HTTP_AUTH", "BearerToken"}


def test_the_internetnl_mapping_names_real_checks_once_each():
    mapping = batch.internetnl_map()
    catalogue = all_checks()
    names = [entry["test"] for kind in ("web", "mail") for entry in mapping[kind]["tests"].values()]
    assert len(names) == len(set(names))
    for kind, category_prefix in (("web", "web_"), ("mail", "mail_")):
        chosen = {c.id for c in select_checks(mapping[kind]["checks"])}
        assert chosen and set(mapping[kind]["tests"]) <= chosen <= set(catalogue)
        # internet.nl's test names mostly start with their category's (web_ns_rpki_valid is in web_rpki)
        assert all(e["test"].startswith(category_prefix) and e["category"].startswith(category_prefix)
                   for e in mapping[kind]["tests"].values())
        assert not any(catalogue[c].family in ("privacy", "accessibility") for c in chosen)  # no browser



def test_tokens_and_quota_on_sqlite_and_postgresql(db_url):
    """storage/batch.py on both databases: a token found by its secret until revoked, a request reserved
    against the quota before its run exists, and the one that would go over refused."""
    store = Store(db_url)
    token, secret = tokens.create(store, "Gemeente Noordstad", 5)
    assert tokens.authenticate(store, secret).id == token.id and tokens.authenticate(store, secret + "x") is None
    first = stored.reserve_request(store, token.id, "first", "web", 3)
    assert first.run_id is None and len(first.request_id) == 32
    run_id = store.start_run("batch", [Site("https://www.noordstad.nl/", "www.noordstad.nl")],
                             source=f"serve:batch:{first.request_id}")
    stored.attach_run(store, first.request_id, run_id)
    assert stored.reserve_request(store, token.id, "second", "web", 3) == stored.Quota(allowed=5, used=3)
    assert [r.run_id for r in stored.requests_of(store, token.id, None)] == [run_id]
    assert stored.work_states(store, [run_id]) == {run_id: {"queued": 1}}
    stored.revoke_token(store, token.id)
    assert tokens.authenticate(store, secret) is None
    store.close()
