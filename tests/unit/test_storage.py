"""The store (storage/store.py) on SQLite and on PostgreSQL: versioned findings, the state on a date, runs,
work items, interrupted runs, artifacts. PostgreSQL: a database of its own for this test session (dropped
after), a schema of its own per test."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text

from govscan.model import AddressResult, Artifact, Finding, Organisation, Site, Status, Text
from govscan.model import SiteResult
from storage.models import ArtifactRow, Base, FindingRow, OrganisationRow
from storage.store import Store, state_on

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def pg_database():
    name = f"govscan_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    return database_url(request, tmp_path, request.param)


def database_url(request, tmp_path, kind: str) -> str:
    """A SQLite file of the test, or a schema of its own in the session's PostgreSQL database."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/govscan.db"
    database = request.getfixturevalue("pg_database")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={database}", autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"postgresql://postgres@127.0.0.1:5432/{database}?options=-csearch_path%3D{schema}"


class Clock:
    """A controllable clock: each call returns the current time; `advance` moves it."""

    def __init__(self, start=datetime(2026, 1, 1, 2, 0)):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(db_url, clock):
    opened = Store(db_url, clock=clock)
    yield opened
    opened.close()


NOORD = Site("https://www.noordstad.nl/", "www.noordstad.nl", Organisation("Gemeente Noordstad", "gemeente", "GM9901"))
ZUID = Site("https://www.zuiddorp.nl/", "www.zuiddorp.nl")


def finding(site: Site, check: str, status: Status, evidence: str = "max-age=31536000") -> Finding:
    return Finding(
        site=site.host, check=check, status=status,
        summary=Text(f"{check} {status} (nl)", f"{check} {status} (en)"), details={"header": evidence},
        norm="Besluit beveiligde verbinding", check_version=1,
        reason="timeout" if status == Status.ERROR else None,
        addresses=[AddressResult("203.0.113.10", status, Text("nl", "en"), {"header": evidence})])


def result(site: Site, statuses: dict[str, Status], evidence: str = "max-age=31536000",
           address_data: dict | None = None) -> SiteResult:
    artifacts = {"203.0.113.10": {"http": Artifact("http", 1, "203.0.113.10", address_data or {"status": 200})}}
    dns = Artifact("dns", 1, site.host, {"ipv4": ["203.0.113.10"], "ipv6": []})
    return SiteResult(site, {"dns": dns}, artifacts,
                      [finding(site, check, status, evidence) for check, status in statuses.items()], 0.1)


GOOD = {"web.https.hsts": Status.PASS, "web.https.redirect": Status.PASS}


def count(store: Store, model) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def nightly(store: Store, clock: Clock, sites_and_statuses, checks: str = "") -> int:
    run = store.start_run("nightly", [site for site, _ in sites_and_statuses], checks=checks)
    for site, statuses in sites_and_statuses:
        clock.advance(minutes=1)
        store.record_site(run, result(site, statuses))
    store.finish_run(run)
    return run


def test_open_applies_migrations_and_reopens(db_url):
    first = Store(db_url)
    with first.session() as session:
        assert session.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0007"
    first.close()
    Store(db_url).close()  # already at head: nothing to do, no error


def test_migrations_match_the_models(store):
    """A change to storage/models.py needs a migration: the migrated schema and the models agree."""
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []


def test_sqlite_default_path_is_created_in_wal_mode(tmp_path):
    path = tmp_path / "deeper" / "dir" / "govscan.db"
    Store(f"sqlite:///{path}").close()
    assert path.exists()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_record_and_read_back_a_run(store, clock):
    run = store.start_run("batch", [NOORD, ZUID], checks="web.https.*", source="sites.csv", config_hash="abc")
    store.record_site(run, result(NOORD, {"web.https.hsts": Status.FAIL, "web.https.redirect": Status.PASS},
                                  evidence="max-age=60"))
    store.record_site(run, result(ZUID, {"web.https.hsts": Status.ERROR, "web.https.redirect": Status.PASS}))
    store.finish_run(run)

    stored = store.run(run)
    assert (stored.kind, stored.state, stored.checks, stored.source, stored.config_hash) == (
        "batch", "finished", "web.https.*", "sites.csv", "abc")
    assert (stored.sites_total, stored.sites_done, stored.sites_failing, stored.sites_error) == (2, 2, 1, 1)
    assert stored.finished is not None and stored.tool_version
    assert [w.state for w in store.work_items(run)] == ["done", "done"]

    rows = store.findings_for_run(run)
    assert [(r.site.host, r.check_id, r.status) for r in rows] == [
        ("www.noordstad.nl", "web.https.hsts", "fail"), ("www.noordstad.nl", "web.https.redirect", "pass"),
        ("www.zuiddorp.nl", "web.https.hsts", "error"), ("www.zuiddorp.nl", "web.https.redirect", "pass")]
    back = rows[0].to_model()
    assert back == finding(NOORD, "web.https.hsts", Status.FAIL, "max-age=60")  # both languages, addresses
    assert rows[0].site.organisation.code == "GM9901"
    assert rows[2].reason == "timeout"
    assert store.statuses_for_run(run) == {
        "www.noordstad.nl": [("web.https.hsts", "fail"), ("web.https.redirect", "pass")],
        "www.zuiddorp.nl": [("web.https.hsts", "error"), ("web.https.redirect", "pass")]}
    assert store.run() .id == run and [r.id for r in store.runs()] == [run]


def test_unchanged_nights_add_no_finding_or_artifact_rows(store, clock):
    runs = []
    for night in range(30):
        runs.append(nightly(store, clock, [(NOORD, GOOD), (ZUID, GOOD)]))
        clock.advance(days=1)
    assert count(store, FindingRow) == 4
    assert count(store, ArtifactRow) == 4  # dns and http for each site
    rows = store.findings_for_run(runs[-1])
    assert {r.first_run_id for r in rows} == {runs[0]} and {r.last_run_id for r in rows} == {runs[-1]}
    assert len(store.findings_for_run(runs[10])) == 4


def test_a_change_adds_a_version_and_history_shows_it(store, clock):
    first = nightly(store, clock, [(NOORD, GOOD)])
    clock.advance(days=1)
    nightly(store, clock, [(NOORD, GOOD)])
    clock.advance(days=1)
    failing = nightly(store, clock, [(NOORD, {**GOOD, "web.https.hsts": Status.FAIL})])
    clock.advance(days=1)
    nightly(store, clock, [(NOORD, GOOD)])

    history = store.history("www.noordstad.nl", "web.https.hsts")
    assert [(h.status, h.first_run_id) for h in history] == [("pass", first), ("fail", failing), ("pass", failing + 1)]
    assert history[0].valid_until == history[1].first_seen and history[-1].valid_until is None
    assert len(store.history("www.noordstad.nl")) == 4  # redirect never changed: one version
    # An old run still shows what it found then.
    assert {r.check_id: r.status for r in store.findings_for_run(failing)}["web.https.hsts"] == "fail"
    assert {r.check_id: r.status for r in store.findings_for_run(first)}["web.https.hsts"] == "pass"


def test_a_change_of_evidence_alone_is_a_new_version(store, clock):
    run = store.start_run("batch", [NOORD])
    store.record_site(run, result(NOORD, GOOD, evidence="max-age=31536000"))
    clock.advance(days=1)
    store.record_site(run, result(NOORD, GOOD, evidence="max-age=63072000"))
    assert [h.details["header"] for h in store.history("www.noordstad.nl", "web.https.hsts")] == [
        "max-age=31536000", "max-age=63072000"]
    assert store.run(run).sites_done == 1  # the same site stored twice in one run counts once


def test_state_on_a_date_is_the_state_after_that_day(store, clock):
    clock.now = datetime(2026, 3, 1, 2, 0)
    nightly(store, clock, [(NOORD, GOOD), (ZUID, GOOD)])
    clock.now = datetime(2026, 3, 2, 2, 0)
    nightly(store, clock, [(NOORD, {**GOOD, "web.https.hsts": Status.FAIL}), (ZUID, GOOD)])
    clock.now = datetime(2026, 3, 3, 2, 0)
    nightly(store, clock, [(NOORD, GOOD)])  # ZUID not scanned: its last state holds

    def states(when):
        with store.session() as session:
            return {(r.host, r.check): r.status for r in state_on(session, when)}

    assert states(date(2026, 2, 28)) == {}
    assert states(date(2026, 3, 1))[("www.noordstad.nl", "web.https.hsts")] == "pass"
    assert states(date(2026, 3, 2))[("www.noordstad.nl", "web.https.hsts")] == "fail"
    assert states(datetime(2026, 3, 2, 1, 0))[("www.noordstad.nl", "web.https.hsts")] == "pass"
    on_third = states(date(2026, 3, 3))
    assert len(on_third) == 4 and on_third[("www.noordstad.nl", "web.https.hsts")] == "pass"
    assert on_third[("www.zuiddorp.nl", "web.https.hsts")] == "pass"

    rows = store.state_on(date(2026, 3, 3), checks="web.https.hsts")
    assert [(r.host, r.org_code, r.org_type, r.org_name) for r in rows] == [
        ("www.noordstad.nl", "GM9901", "gemeente", "Gemeente Noordstad"), ("www.zuiddorp.nl", "", "", "")]


def test_published_state_holds_only_sites_a_site_list_names_not_what_people_checked_in_the_service(store, clock):
    from storage.history import status_versions

    nightly(store, clock, [(NOORD, GOOD)])
    clock.advance(hours=1)
    for source, site in (("serve:check:192.0.2.7", ZUID), ("serve:check:192.0.2.8", NOORD)):
        run = store.start_run("on-demand", [site], source=source)
        store.record_site(run, result(site, {**GOOD, "web.https.hsts": Status.FAIL}))
        store.finish_run(run)
    clock.advance(minutes=1)

    published = store.state_on(clock.now, listed_only=True)
    assert {r.host for r in published} == {"www.noordstad.nl"}  # the service's check of a listed site counts
    assert {r.status for r in published if r.check == "web.https.hsts"} == {"fail"}
    assert {r.host for r in store.state_on(clock.now)} == {"www.noordstad.nl", "www.zuiddorp.nl"}
    assert {r.host for r in status_versions(store, clock.now.date(), clock.now, listed_only=True)} == {
        "www.noordstad.nl"}
    assert [r.source for r in store.runs(listed_only=True)] == [""]


def test_run_findings_are_limited_to_the_checks_it_ran(store, clock):
    nightly(store, clock, [(NOORD, GOOD)])
    clock.advance(hours=1)
    on_demand = store.start_run("on-demand", [NOORD], checks="web.https.hsts")
    store.record_site(on_demand, result(NOORD, {"web.https.hsts": Status.FAIL}))
    store.finish_run(on_demand)
    assert [(r.check_id, r.status) for r in store.findings_for_run(on_demand)] == [("web.https.hsts", "fail")]
    assert store.statuses_for_run(on_demand) == {"www.noordstad.nl": [("web.https.hsts", "fail")]}


def test_a_site_not_in_the_run_list_gets_a_work_item(store, clock):
    run = store.start_run("batch", [NOORD])
    store.record_site(run, result(ZUID, GOOD))
    assert store.run(run).sites_total == 2
    assert {w.site.host: w.state for w in store.work_items(run)} == {"www.noordstad.nl": "queued",
                                                                     "www.zuiddorp.nl": "done"}


def test_organisation_is_kept_and_updated(store, clock):
    nightly(store, clock, [(NOORD, GOOD)])
    renamed = Site(NOORD.url, NOORD.host, Organisation("Gemeente Noordstad-Oost", "gemeente", "GM9901"))
    nightly(store, clock, [(renamed, GOOD)])
    nightly(store, clock, [(Site(NOORD.url, NOORD.host), GOOD)])  # a plain list does not drop it
    assert store.state_on(clock.now)[0].org_name == "Gemeente Noordstad-Oost"


def test_recorder_stores_in_the_background_and_raises_failures(store, clock):
    run = store.start_run("batch", [NOORD, ZUID])
    with store.recorder(run) as record:
        record(result(NOORD, GOOD))
        record(result(ZUID, GOOD))
    assert store.run(run).sites_done == 2

    with pytest.raises(AttributeError):
        with store.recorder(run) as record:
            record("not a site result")
    assert store.run(run).sites_done == 2


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_runs_of_a_gone_process_are_marked_interrupted(store, clock):
    mine = store.start_run("batch", [NOORD])
    orphan = store.start_run("nightly", [NOORD, ZUID])
    with store.session() as session:
        session.execute(text("UPDATE runs SET pid = :pid WHERE id = :id"), {"pid": _dead_pid(), "id": orphan})
        session.execute(text("UPDATE work_items SET state = 'running' WHERE run_id = :id"), {"id": orphan})
    assert store.mark_interrupted() == [orphan]
    assert store.run(orphan).state == "interrupted" and store.run(orphan).finished is not None
    assert {w.state for w in store.work_items(orphan)} == {"queued"}
    assert store.run(mine).state == "running"  # this process is alive
    assert store.mark_interrupted(mine) == [mine] and store.run(mine).state == "interrupted"


def test_artifacts_are_compressed_versioned_at_changes_and_pruned(store, clock):
    run = store.start_run("batch", [NOORD])
    store.record_site(run, result(NOORD, GOOD, address_data={"status": 200, "body": "x" * 5000}))
    with store.session() as session:
        blob = session.scalars(select(ArtifactRow.data).where(ArtifactRow.probe == "http")).one()
    assert len(blob) < 200  # zlib
    first_day = clock.now + timedelta(hours=1)

    clock.advance(days=1)  # other facts (a new Date header), the same findings: brought up to date in place
    store.record_site(run, result(NOORD, GOOD, address_data={"status": 200, "date": "day 2"}))
    assert count(store, ArtifactRow) == 2
    assert {a.probe: a.data for a in store.artifacts("www.noordstad.nl")}["http"]["date"] == "day 2"

    clock.advance(days=40)  # other findings: a new version, the old one kept until pruned
    store.record_site(run, result(NOORD, {**GOOD, "web.https.hsts": Status.FAIL}, address_data={"status": 500}))
    assert count(store, ArtifactRow) == 3  # dns did not change: one version
    assert {a.probe: a.data for a in store.artifacts("www.noordstad.nl", first_day)}["http"]["date"] == "day 2"
    assert {a.probe: a.data for a in store.artifacts("www.noordstad.nl")}["http"] == {"status": 500}
    assert store.prune_artifacts(clock.now - timedelta(days=30)) == 1  # the old http version; dns is current
    assert count(store, ArtifactRow) == 2


def test_an_address_that_is_gone_closes_its_artifact(store, clock):
    run = store.start_run("batch", [NOORD])
    store.record_site(run, result(NOORD, GOOD))
    clock.advance(days=1)
    moved = result(NOORD, GOOD)
    moved.address_artifacts = {"203.0.113.20": {"http": Artifact("http", 1, "203.0.113.20", {"status": 200})}}
    store.record_site(run, moved)
    assert sorted(a.subject for a in store.artifacts("www.noordstad.nl") if a.probe == "http") == ["203.0.113.20"]


SCANNER = """
import sys, time
from govscan.model import Site
from storage.store import Store
from tests.unit.test_storage import result, GOOD, NOORD
sites = [Site(f"https://s{i}.example.nl/", f"s{i}.example.nl") for i in range(50)]
store = Store(sys.argv[1])
run = store.start_run("batch", sites)
print(run, flush=True)
for site in sites:
    store.record_site(run, result(site, GOOD))
    time.sleep(0.05)
"""


def test_sigkill_mid_run_keeps_what_was_stored(db_url):
    child = subprocess.Popen([sys.executable, "-c", SCANNER, db_url], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    run = int(child.stdout.readline())
    watcher = Store(db_url)
    while watcher.run(run).sites_done < 5:
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    watcher.close()

    store = Store(db_url)
    assert store.mark_interrupted() == [run]
    stored = store.run(run)
    assert stored.state == "interrupted" and 5 <= stored.sites_done < 50
    rows = store.findings_for_run(run)
    assert len(rows) == 2 * stored.sites_done
    assert all(r.to_model() == finding(Site(r.site.url, r.site.host), r.check_id, Status.PASS) for r in rows)
    states = [w.state for w in store.work_items(run)]
    assert states.count("done") == stored.sites_done and states.count("queued") == 50 - stored.sites_done
    if db_url.startswith("sqlite"):
        with store.session() as session:
            assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"


@pytest.mark.parametrize("url, message", [
    ("mysql://scanner:S3cret@db.example/govscan", "SQLite or PostgreSQL, not mysql"),
    ("postgresql://scanner:S3cret@db.example:notaport/govscan", "not a database URL"),
    ("postgresql://scanner:S3cret@127.0.0.1:1/govscan", "cannot open the database"),
])
def test_an_unusable_database_url_is_a_clear_error_without_the_password(url, message):
    from storage.store import DatabaseError

    with pytest.raises(DatabaseError) as error:
        Store(url)
    assert message in str(error.value) and "S3cret" not in str(error.value)


def test_an_unwritable_sqlite_path_is_a_clear_error(tmp_path):
    from storage.store import DatabaseError

    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(DatabaseError, match="cannot create"):
        Store(str(tmp_path / "file" / "sub" / "govscan.db"))


def test_printed_urls_hide_the_password():
    from storage.store import masked

    assert masked("postgresql://scanner:S3cret@db.example/govscan") == "postgresql://scanner:***@db.example/govscan"
    assert "S3cret" not in masked("postgresql://scanner:S3cret@db.example:notaport/govscan")


def test_nul_and_control_characters_in_scanned_text_are_stored_escaped(store):
    """A NUL in an organisation name or a TXT record used to stop the run on PostgreSQL (DataError)."""
    hostile = Site("https://www.nul.nl/", "www.nul.nl", Organisation("Gemeente\x00Nul\x1b[2J", "gemeente", "GM0\x00"))
    run = store.start_run("batch", [hostile])
    spf = Finding(site=hostile.host, check="mail.spf", status=Status.FAIL,
                  summary=Text("SPF-record v=spf1\x00 -all\x9b", "SPF record v=spf1\x00 -all\x9b"),
                  details={"record": "v=spf1\x00 -all"}, norm="RFC 7208", check_version=1)
    store.record_site(run, SiteResult(hostile, {}, {}, [spf], 0.1))
    store.finish_run(run)
    [row] = store.findings_for_run(run)
    assert row.summary_en == "SPF record v=spf1\\x00 -all\\x9b" and row.details == {"record": "v=spf1\x00 -all"}
    assert store.run(run).state == "finished"
    with store.session() as session:
        assert session.scalar(select(OrganisationRow.name)) == "Gemeente\\x00Nul\\x1b[2J"
