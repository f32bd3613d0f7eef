"""Notices on change (scanner/notify.py, storage/notices.py, reports/digest.py) against a local SMTP server
(aiosmtpd, STARTTLS required, a certificate made here) and a local webhook receiver (http.server on
127.0.0.1), with nightly runs of the scripted world (tests/unit/simfakes.py) on SQLite and PostgreSQL: one
digest per subscriber with exactly the change, nothing on an unchanged night, a webhook's retry, the
signature, an SMTP server that is down, and the bad input `notify add` refuses."""
from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import subprocess
import threading
import time
from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from checks.registry import all_checks
from reports.publish import Options, publish
from scanner import cli, config, notify, scheduler
from scanner.targets import RefusedTarget
from storage import explanations, notices
from storage.models import NoticeFailureRow, NoticeRow, NoticeSubscriptionRow
from storage.store import Store
from tests.unit.simfakes import world, write_sites  # noqa: F401 (fixture)
from tests.unit.test_storage import db_url, pg_database  # noqa: F401 (fixtures)
from tests.unit.tls_servers import free_port

SITE_URL = "https://govscan.example.nl"
GEMEENTEN = [(f"Gemeente {i}", "gemeente", f"GM99{i:02d}", f"www.gemeente{i}.nl") for i in range(1, 4)]


# --- the local servers ---

@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate, key)."""
    directory = tmp_path_factory.mktemp("smtp-tls")
    paths = directory / "smtp.crt", directory / "smtp.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-days", "2", "-nodes", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(paths[1]),
                    "-out", str(paths[0])], check=True, capture_output=True)
    return paths


class Mailbox:
    """aiosmtpd handler: every message accepted, as an email.message.EmailMessage."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"


class Smtp:
    """An SMTP server on 127.0.0.1 that requires STARTTLS, started and stopped on a fixed port."""

    def __init__(self, certificate, port: int):
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(*certificate)
        self.port = port
        self.mailbox = Mailbox()
        self.controller = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, tls_context=self.context,
                                     require_starttls=True)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(certificate):
    server = Smtp(certificate, free_port("127.0.0.1"))
    server.start()
    yield server
    server.stop()


class Receiver:
    """A webhook receiver: answers each POST with the next scripted status (then 200), keeps what came."""

    def __init__(self, statuses=(), certificate=None):
        self.statuses = list(statuses)
        self.posts: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*certificate)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/govscan/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def payloads(self) -> list[dict]:
        return [json.loads(body) for _, body in self.posts]


@pytest.fixture
def receiver():
    opened = Receiver()
    yield opened
    opened.close()


# --- runs ---

def notify_settings(certificate, smtp_port: int, **notify_overrides) -> dict:
    return {"site_url": SITE_URL, "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_from": "govscan@example.nl",
            "allowed_networks": ["127.0.0.1/32"], "attempts": 2, "backoff_seconds": 0.01, "timeout": 5.0,
            **notify_overrides}


def make_settings(certificate, smtp_port: int, **notify_overrides):
    return config.load(overrides={"scan": {"probe_timeout": 5.0}, "dns": {"resolvers": ["127.0.0.1"]},
                                  "trust": {"ca_bundle": str(certificate[0])},
                                  "notify": notify_settings(certificate, smtp_port, **notify_overrides)})


@pytest.fixture
def clock():
    return scheduler.ManualClock(datetime(2026, 3, 1, 1, 0))


@pytest.fixture
def store(db_url, clock):
    opened = Store(db_url, clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def nightly(tmp_path):
    path = write_sites(tmp_path / "sites.csv", GEMEENTEN)
    return scheduler.Schedules([scheduler.Schedule("nightly", sites=str(path), checks="test.sim.*")],
                               scheduler.WorkSettings(poll_seconds=0.01))


def night(store, settings, nightly, clock) -> int:
    """One nightly run a day after the last, its notices sent at its end (scheduler.run_schedule)."""
    clock.advance(days=1)
    return scheduler.run_schedule(store, settings, nightly.schedules[0], nightly.work, sleep=lambda s: None)


def subscribe_webhook(store, url: str, **scope) -> notices.Subscription:
    return notices.subscribe(store, webhook_url=url, secret=notify.new_secret(), lang="en", **scope)


def verified(subscription: notices.Subscription, headers: dict, body: bytes) -> bool:
    expected = "sha256=" + hmac.new(subscription.secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Govscan-Signature"], expected)


# --- the tests ---

def test_a_change_is_told_once_to_each_subscriber_and_an_unchanged_night_tells_nothing(
        store, world, nightly, clock, certificate, smtp, receiver, tmp_path):
    settings = make_settings(certificate, smtp.port)
    world.statuses = {"www.gemeente2.nl": {"test.sim.dnssec": "fail"}}
    by_mail = notices.subscribe(store, org_code="GM9901", email="web@gemeente1.nl", lang="nl")
    by_hook = subscribe_webhook(store, receiver.url, org_code="GM9902")
    quiet = subscribe_webhook(store, receiver.url, org_code="GM9903")
    night(store, settings, nightly, clock)  # the first results are the baseline: nothing to tell
    assert smtp.mailbox.messages == [] and receiver.posts == []

    world.statuses = {"www.gemeente1.nl": {"test.sim.https": "fail"}}  # 1 breaks HTTPS, 2 fixes DNSSEC
    run = night(store, settings, nightly, clock)
    (mail,) = smtp.mailbox.messages
    assert mail["To"] == "web@gemeente1.nl" and mail["Subject"] == "govscan: 1 wijziging"
    text = mail.get_content()
    assert "www.gemeente1.nl, test.sim.https: voldoet → voldoet niet" in text
    assert f"{SITE_URL}/organisations/gm9901.html" in text
    assert "gemeente2" not in text and "gemeente3" not in text
    ((headers, body),) = receiver.posts
    assert verified(by_hook, headers, body)
    assert not verified(quiet, headers, body)  # each subscription signs with its own key
    payload = json.loads(body)
    assert payload["subscription"] == by_hook.id
    assert [(c["kind"], c["host"], c["check"], c["previous_status"], c["status"]) for c in payload["changes"]] == [
        ("fixed", "www.gemeente2.nl", "test.sim.dnssec", "fail", "pass")]
    assert payload["changes"][0]["link"] == f"{SITE_URL}/organisations/gm9902.html"
    site = publish(store, tmp_path / "site", all_checks(), Options(lang="nl")).parent
    assert (site / "organisations" / "gm9901.html").exists() and (site / "organisations" / "gm9902.html").exists()

    night(store, settings, nightly, clock)  # nothing changed
    assert len(smtp.mailbox.messages) == 1 and len(receiver.posts) == 1
    listed = {s.id: s for s in notices.subscriptions(store)}
    assert listed[by_mail.id].last_sent is not None and listed[quiet.id].last_sent is None
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(NoticeRow)) == 2
        assert session.scalar(select(NoticeRow.run_id).where(NoticeRow.subscription_id == by_mail.id)) == run


def test_a_change_undone_before_the_digest_is_no_change(store, world, nightly, clock, certificate, receiver):
    settings = make_settings(certificate, free_port("127.0.0.1"))
    subscribe_webhook(store, receiver.url, site_host="www.gemeente1.nl")
    night(store, settings, nightly, clock)
    world.statuses = {"www.gemeente1.nl": {"test.sim.https": "fail"}}
    clock.advance(days=1)
    scheduler.execute(store, settings, store.start_run("batch", scheduler.sites_for(settings, nightly.schedules[0].sites),
                                                       checks="test.sim.*"), nightly.work)  # no notices sent
    world.statuses = {}
    night(store, settings, nightly, clock)  # failed in between, passes again: nothing to tell
    assert receiver.posts == []


def test_a_webhook_answering_500_then_200_gets_the_notice_once_on_retry(store, world, nightly, clock, certificate):
    settings = make_settings(certificate, free_port("127.0.0.1"))
    receiver = Receiver(statuses=[500])
    try:
        subscription = subscribe_webhook(store, receiver.url, checks="test.sim.https")
        night(store, settings, nightly, clock)
        world.statuses = {"www.gemeente3.nl": {"test.sim.https": "fail"}}
        night(store, settings, nightly, clock)
        assert len(receiver.posts) == 2  # the 500, then the retry that was accepted
        assert receiver.posts[0][1] == receiver.posts[1][1]
        assert all(verified(subscription, headers, body) for headers, body in receiver.posts)
        assert [c["host"] for c in receiver.payloads()[1]["changes"]] == ["www.gemeente3.nl"]
        night(store, settings, nightly, clock)
        assert len(receiver.posts) == 2
        with store.session() as session:
            assert session.scalar(select(func.count()).select_from(NoticeRow)) == 1
            assert session.scalar(select(func.count()).select_from(NoticeFailureRow)) == 0
    finally:
        receiver.close()


def test_a_webhook_over_https_is_verified_and_signed(store, world, nightly, clock, certificate):
    receiver = Receiver(certificate=certificate)
    try:
        subscription = subscribe_webhook(store, receiver.url, site_host="www.gemeente2.nl")
        night(store, make_settings(certificate, free_port("127.0.0.1")), nightly, clock)
        world.statuses = {"www.gemeente2.nl": {"test.sim.dnssec": "fail"}}
        night(store, make_settings(certificate, free_port("127.0.0.1")), nightly, clock)
        ((headers, body),) = receiver.posts
        assert verified(subscription, headers, body)
        assert json.loads(body)["changes"][0]["kind"] == "failing"
        world.statuses = {}
        untrusted = make_settings(certificate, free_port("127.0.0.1"))
        untrusted.trust.ca_bundle = ""  # the public roots: the receiver's certificate is not trusted
        night(store, untrusted, nightly, clock)
        assert len(receiver.posts) == 1
        (listed,) = notices.subscriptions(store)
        assert "CERTIFICATE_VERIFY_FAILED" in listed.last_error
    finally:
        receiver.close()


def test_an_smtp_server_that_is_down_fails_no_run_and_is_told_next_time(db_url, world, tmp_path, certificate):
    port = free_port("127.0.0.1")  # nothing listens here yet
    sites = write_sites(tmp_path / "sites.csv", GEMEENTEN)
    settings_file = tmp_path / "settings.toml"
    notify_lines = "\n".join(f"{key} = {json.dumps(value)}"
                             for key, value in notify_settings(certificate, port).items())
    settings_file.write_text(f'[dns]\nresolvers = ["127.0.0.1"]\n[trust]\nca_bundle = "{certificate[0]}"\n'
                             f"[notify]\n{notify_lines}\n")
    scan = ["--db", db_url, "--config", str(settings_file), "scan", "--sites", str(sites), "--checks", "test.sim.*"]
    assert cli.main(["--db", db_url, "--config", str(settings_file), "notify", "add", "--org", "gm9902",
                     "--email", "ict@gemeente2.nl", "--lang", "en"]) == 0
    assert cli.main(scan) == 0

    world.statuses = {"www.gemeente2.nl": {"test.sim.https": "fail"}}
    started = time.monotonic()
    assert cli.main(scan) == 0  # the run is stored and the command succeeds, the notice fails
    assert time.monotonic() - started < 10
    store = Store(db_url)
    try:
        with store.session() as session:
            failure = session.scalars(select(NoticeFailureRow)).one()
            assert failure.items == 1 and "SMTP 127.0.0.1" in failure.error
        (subscription,) = notices.subscriptions(store)
        assert subscription.last_failure is not None and subscription.last_sent is None
        assert store.run().state == "finished"

        server = Smtp(certificate, port)
        server.start()
        try:
            assert cli.main(scan) == 0  # nothing new changed: the untold change is sent now
        finally:
            server.stop()
        (mail,) = server.mailbox.messages
        assert mail["Subject"] == "govscan: 1 change"
        assert "www.gemeente2.nl, test.sim.https: pass → fail" in mail.get_content()
        (subscription,) = notices.subscriptions(store)
        assert subscription.last_sent is not None and subscription.last_failure is None
    finally:
        store.close()


def test_starttls_is_required_unless_configured_otherwise(store, world, nightly, clock, certificate):
    """A server that offers no STARTTLS gets no digest: the failure says why."""
    port = free_port("127.0.0.1")
    plain = Controller(Mailbox(), hostname="127.0.0.1", port=port)
    plain.start()
    try:
        settings = make_settings(certificate, port)
        notices.subscribe(store, site_host="www.gemeente1.nl", email="a@gemeente1.nl")
        night(store, settings, nightly, clock)
        world.statuses = {"www.gemeente1.nl": {"test.sim.https": "fail"}}
        night(store, settings, nightly, clock)
        assert plain.handler.messages == []
        (subscription,) = notices.subscriptions(store)
        assert "offers no STARTTLS" in subscription.last_error
        night(store, make_settings(certificate, port, smtp_starttls=False), nightly, clock)
        assert len(plain.handler.messages) == 1
    finally:
        plain.stop()


def test_unreachable_three_runs_in_a_row_and_an_expiring_explanation_are_told_once(
        store, world, nightly, clock, certificate, receiver):
    settings = make_settings(certificate, free_port("127.0.0.1"))
    world.statuses = {"www.gemeente1.nl": {"test.sim.dnssec": "fail"}}
    subscribe_webhook(store, receiver.url, org_code="GM9901")
    night(store, settings, nightly, clock)
    explanation = explanations.record(store, "www.gemeente1.nl", "test.sim.dnssec", "Nieuwe provider in mei",
                                      "CISO", clock.current + timedelta(days=40))
    world.statuses = {"www.gemeente1.nl": {"test.sim.dnssec": "fail"}}
    night(store, settings, nightly, clock)
    assert receiver.posts == []  # 39 days left
    for _ in range(10):  # 30 days left on the ninth of these nights
        night(store, settings, nightly, clock)
    assert [(c["kind"], c["explanation"]) for c in receiver.payloads()[-1]["changes"]] == [
        ("expiring", "Nieuwe provider in mei")]
    assert explanation.id and len(receiver.posts) == 1

    world.statuses = {"www.gemeente1.nl": {"test.sim.https": "error", "test.sim.dnssec": "error"}}
    night(store, settings, nightly, clock)
    night(store, settings, nightly, clock)
    assert len(receiver.posts) == 1  # two runs unreachable: not yet
    night(store, settings, nightly, clock)
    assert [(c["kind"], c["host"], c["runs"]) for c in receiver.payloads()[-1]["changes"]] == [
        ("unreachable", "www.gemeente1.nl", 3)]
    night(store, settings, nightly, clock)
    assert len(receiver.posts) == 2  # still unreachable: told once per streak


@pytest.mark.parametrize("args, message", [
    (["--org", "GM9901", "--email", "a@@b.nl"], "not an e-mail address"),
    (["--org", "GM9901", "--email", "a b@b.nl"], "invalid part before the @"),
    (["--org", "GM9901", "--email", "a@localhost"], "not a fully qualified host name"),
    (["--org", "GM9901", "--webhook", "ftp://hooks.example.nl/x"], "not an http(s) URL"),
    (["--org", "GM9901", "--webhook", "https://user:secret@hooks.example.nl/x"], "user name or password"),
    (["--org", "GM9901", "--webhook", "http://127.0.0.1:8080/x"], "loopback"),
    (["--org", "GM9901", "--webhook", "http://[::1]/x"], "loopback"),
    (["--org", "GM9901", "--webhook", "https://10.1.2.3/x"], "private use"),
    (["--org", "GM9901", "--webhook", "http://169.254.169.254/latest"], "cloud metadata"),
    (["--org", "GM9901", "--webhook", "http://169.254.1.1/latest"], "link local"),
    (["--org", "nope nope", "--email", "a@b.nl"], "not an organisation code"),
    (["--site", "127.0.0.1", "--email", "a@b.nl"], "is an IP address"),
    (["--check", "no.such.*", "--email", "a@b.nl"], "no check matches"),
    (["--email", "a@b.nl"], "give an organisation"),
])
def test_bad_input_is_refused_and_nothing_is_stored(tmp_path, capsys, args, message):
    db = f"sqlite:///{tmp_path}/govscan.db"
    assert cli.main(["--db", db, "--lang", "en", "notify", "add", *args]) == cli.EXIT_USAGE
    assert message in capsys.readouterr().err
    store = Store(db)
    try:
        with store.session() as session:
            assert session.scalar(select(func.count()).select_from(NoticeSubscriptionRow)) == 0
    finally:
        store.close()


def test_webhook_addresses_are_judged_by_the_policy_and_the_lab_setting_allows_a_named_one():
    policy = config.load(overrides={"notify": {"allowed_networks": ["127.0.0.1/32", "169.254.0.0/16"]}}).notify.address_policy
    assert notify.check_webhook("http://127.0.0.1:9999/hook", policy) == "http://127.0.0.1:9999/hook"
    with pytest.raises(RefusedTarget, match="loopback"):
        notify.check_webhook("http://127.0.0.2:9999/hook", policy)
    with pytest.raises(RefusedTarget, match="cloud metadata"):  # whatever the settings say
        notify.check_webhook("http://169.254.169.254/", policy)
    with pytest.raises(RefusedTarget, match="hooks.example.nl leads to 10.0.0.7"):  # a name leading inside
        notify.check_webhook("https://hooks.example.nl/x", policy, resolve=lambda host, port: ["10.0.0.7"])
    assert notify.check_webhook("https://Hooks.Example.NL/x", policy,
                                resolve=lambda host, port: ["8.8.8.8"]) == "https://hooks.example.nl/x"


def test_remove_ends_a_subscription_and_list_keeps_it(tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/govscan.db"
    assert cli.main(["--db", db, "--lang", "en", "notify", "add", "--org", "GM9901", "--email", "a@b.nl"]) == 0
    assert cli.main(["--db", db, "--lang", "en", "notify", "remove", "1"]) == 0
    assert cli.main(["--db", db, "--lang", "en", "notify", "remove", "1"]) == cli.EXIT_USAGE
    capsys.readouterr()
    assert cli.main(["--db", db, "notify", "list", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert cli.main(["--db", db, "notify", "list", "--removed", "--format", "json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["email"] == "a@b.nl" and listed["removed"] and "secret" not in listed
