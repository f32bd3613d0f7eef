"""The batch API against the lab: `govscan serve`'s app on uvicorn (loopback), its real background scanner,
and a client written the way internet.nl's own batch tests drive internet.nl (integration_tests/batch in
internetstandards/Internet.nl): HTTP Basic auth, register a request, poll its status until `done`, read the
results and the technical results."""
from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import uvicorn

from scanner import cli, config
from scanner.service.app import create_app
from storage.store import Store

pytestmark = pytest.mark.lab


def wait_for_request_status(url, expected_status, timeout=300, interval=1, auth=None):
    """Poll url and parse JSON for request.status, return if value matches expected status or fail when the
    time is up (as internet.nl's integration test does)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status_response = httpx.get(url, auth=auth)
        status_response.raise_for_status()
        status_data = status_response.json()
        if status_data["request"]["status"] == expected_status:
            return status_data
        time.sleep(interval)
    raise AssertionError(f"request status never reached '{expected_status}' state")


@pytest.fixture
def served(lab, tmp_path):
    """(API base URL, database URL): the service on the lab's settings and a fresh SQLite store."""
    db = f"sqlite:///{tmp_path}/govscan.db"
    store = Store(db)
    app = create_app(config.load(lab=True), store, lab=True)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/batch/v2/", db
    server.should_exit = True
    thread.join(30)
    store.close()


def govscan(db, capsys, *args) -> str:
    assert cli.main(["--db", db, *args]) == 0
    return capsys.readouterr().out.strip()


def test_twenty_lab_domains_through_the_batch_api(served, lab, capsys):
    api, db = served
    auth = ("batch-user", govscan(db, capsys, "token", "create", "--name", "integration", "--max-domains", "22"))
    domains = lab["sites"][:20]

    # start batch request
    register_response = httpx.post(api + "requests", json={"type": "web", "domains": domains, "name": "lab"},
                                   auth=auth)
    register_response.raise_for_status()
    register_data = register_response.json()
    assert register_data["request"]["name"] == "lab"
    assert register_data["request"]["request_type"] == "web"
    assert register_data["request"]["status"] in ("registering", "running")
    test_id = register_data["request"]["request_id"]

    # wait for the batch tests to complete
    done = wait_for_request_status(api + "requests/" + test_id, "done", auth=auth)
    assert done["request"]["finished_date"]

    # get batch results
    results_response = httpx.get(api + "requests/" + test_id + "/results", auth=auth)
    results_response.raise_for_status()
    results = results_response.json()["domains"]
    assert sorted(results) == sorted(domains)
    assert all(result["status"] == "ok" for result in results.values())
    noordstad = results["www.noordstad.nl"]
    assert noordstad["results"]["tests"]["web_https_http_hsts"] == {
        "status": "passed", "verdict": "pass", "govscan_check": "web.https.hsts", "reason": None}
    assert set(noordstad["results"]["categories"]) == {"web_ipv6", "web_dnssec", "web_https", "web_appsecpriv",
                                                            "web_rpki"}
    assert noordstad["scoring"]["percentage"] == 100
    assert any(r["results"]["categories"]["web_https"]["status"] == "failed" for r in results.values())

    # get batch technical results
    technical_response = httpx.get(api + "requests/" + test_id + "/results_technical", auth=auth)
    technical_response.raise_for_status()
    technical = technical_response.json()["domains"]["www.noordstad.nl"]
    assert technical["domain"]["dnssec"] == {"status": "secure"}
    ipv4 = technical["webservers"]["ipv4"]
    assert ipv4["server_reachable"] and ipv4["https_enabled"]
    assert ipv4["details"]["hsts"] == "yes" and ipv4["details"]["https_redirect"] == "good"
    assert technical["govscan"]["web.https.hsts"]["status"] == "pass"

    # the list, with internet.nl's progress
    listed = httpx.get(api + "requests", params={"progress": "true"}, auth=auth).json()["requests"]
    assert [(r["request_id"], r["status"], r["progress"]) for r in listed] == [(test_id, "done", "20/20")]

    # over the token's quota (22 domains a day): refused in internet.nl's error shape
    over = httpx.post(api + "requests", json={"type": "mail", "domains": domains[:3]}, auth=auth)
    assert over.status_code == 429
    assert over.json()["error"]["label"] == "bad-request" and "Quota exceeded" in over.json()["error"]["msg"]

    # a mail request within the quota
    mail = httpx.post(api + "requests", json={"type": "mail", "domains": ["noordstad.nl"]}, auth=auth).json()
    mail_id = mail["request"]["request_id"]
    wait_for_request_status(api + "requests/" + mail_id, "done", auth=auth)
    mail_results = httpx.get(api + "requests/" + mail_id + "/results", auth=auth).json()["domains"]["noordstad.nl"]
    assert mail_results["results"]["tests"]["mail_auth_dmarc_policy"]["status"] == "passed"
    mail_technical = httpx.get(api + "requests/" + mail_id + "/results_technical", auth=auth).json()
    assert mail_technical["domains"]["noordstad.nl"]["domain"]["dmarc"]["records"] == ["v=DMARC1; p=reject"]

    # revoked: refused
    govscan(db, capsys, "token", "revoke", "1")
    revoked = httpx.get(api + "requests/" + test_id, auth=auth)
    assert revoked.status_code == 401 and "Basic" in revoked.headers["WWW-Authenticate"]


def test_without_a_token_every_endpoint_is_refused(served):
    api, _ = served
    for path in ("requests", "requests/414878c6bde74343bcbf6a14de7d62de",
                 "requests/414878c6bde74343bcbf6a14de7d62de/results",
                 "requests/414878c6bde74343bcbf6a14de7d62de/results_technical"):
        response = httpx.get(api + path)
        assert response.status_code == 401
        assert response.json()["error"]["label"] == "unauthorised"
    refused = httpx.post(api + "requests", json={"type": "web", "domains": ["www.noordstad.nl"]})
    assert refused.status_code == 401
