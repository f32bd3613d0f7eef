"""`govscan reevaluate` (scanner/reevaluate.py): stored facts judged again under the current rules without a
network, stored as a run of its own that leaves the artifacts alone; what it prints and what it skips; the
run facts a scan now stores and the ones derived for older runs. On SQLite and PostgreSQL where it stores."""
from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from checks.registry import REGISTRY, all_checks, check
from govscan.model import AddressResult, Artifact, Finding, Reason, Site, SiteResult, Status, Text, Verdict
from reports.reevaluation import FACTS_ASSUMED, FACTS_DERIVED, FACTS_STORED
from scanner import cli, scheduler
from scanner.reevaluate import NothingToReevaluate, reevaluate
from storage.models import ArtifactRow
from storage.store import Store
from tests.unit.http_facts import ADDRESS, GOOD_HEADERS, good, with_headers
from tests.unit.simfakes import settings, world, write_sites  # noqa: F401 (fixture)
from tests.unit.test_storage import Clock, clock, db_url, pg_database  # noqa: F401 (fixtures)

HSTS = "web.https.hsts"
# Valued includeSubDomains: HSTS version 1 took it, RFC 6797's grammar (version 2 on) does not.
VALUED = [["Strict-Transport-Security", "max-age=31536000; includeSubDomains=true"]]
A = Site("https://www.a.nl/", "www.a.nl")
B = Site("https://www.b.nl/", "www.b.nl")


def scanned(site: Site, headers: list, status: Status, version: int = 1, checks=(HSTS,)) -> SiteResult:
    """A site as an older govscan stored it: its http facts and the verdict its rules gave then."""
    data = with_headers(good(), [*headers, *[h for h in GOOD_HEADERS if h[0] != "Strict-Transport-Security"]])
    data["host"] = site.host
    dns = Artifact("dns", 1, site.host, {"host": site.host, "ipv4": [ADDRESS], "ipv6": []})
    findings = [Finding(site.host, check_id, status, Text(f"{status} (nl)", f"{status} (en)"), {}, "norm", version,
                        addresses=[AddressResult(ADDRESS, status, Text("nl", "en"))]) for check_id in checks]
    return SiteResult(site, {"dns": dns}, {ADDRESS: {"http": Artifact("http", 1, ADDRESS, data)}}, findings, 0.1)


def stored_run(store: Store, clock: Clock, results: list[SiteResult], checks: str = HSTS,
               facts: dict | None = None) -> int:
    run = store.start_run("nightly", [r.site for r in results], checks=checks)
    if facts is not None:
        store.record_run_facts(run, facts)
    for result in results:
        clock.advance(minutes=1)
        store.record_site(run, result)
    store.finish_run(run)
    clock.advance(hours=1)
    return run


def artifact_rows(store: Store) -> list[tuple]:
    with store.session() as session:
        return [(r.id, r.probe, r.subject, r.last_seen, r.last_run_id, r.valid_until, r.data_hash)
                for r in session.scalars(select(ArtifactRow).order_by(ArtifactRow.id))]


@pytest.fixture
def offline(monkeypatch):
    """No network at all: any connection, datagram or name lookup fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network use: {args[1:] if args else kwargs}")

    for name in ("connect", "connect_ex", "sendto", "sendmsg"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_cli_reports_the_verdicts_the_current_rules_change_without_network(tmp_path, offline, capsys):
    db = f"sqlite:///{tmp_path}/govscan.db"
    clock = Clock()
    store = Store(db, clock=clock)
    first = stored_run(store, clock, [scanned(A, VALUED, Status.PASS), scanned(B, GOOD_HEADERS[1:2], Status.PASS)])
    artifacts_before = artifact_rows(store)
    store.close()

    assert cli.main(["--db", db, "--lang", "en", "reevaluate"]) == 0
    out = capsys.readouterr().out
    current = all_checks()[HSTS].version
    assert current > 1
    assert f"Run 2: run {first} judged again under the current rules" in out
    assert "www.a.nl" in out and "www.b.nl" not in out.split("Under the current rules")[0].split("Changed")[1]
    assert f"1 → {current}" in out and "pass" in out and "fail" in out
    assert "Under the current rules, 1 site(s) change colour; 1 verdict(s) on 1 site(s) change." in out
    assert "1 verdict(s) stay the same under a new version of their check." in out  # www.b.nl

    store = Store(db)
    run = store.run(2)
    assert (run.kind, run.state, run.reevaluates_run_id, run.sites_done) == ("reevaluation", "finished", first, 2)
    new = {(f.site.host, f.check_id): (f.status, f.check_version) for f in store.findings_for_run(2)}
    assert new == {("www.a.nl", HSTS): ("fail", current), ("www.b.nl", HSTS): ("pass", current)}
    assert [v.status for v in store.history("www.a.nl", HSTS)] == ["pass", "fail"]
    assert artifact_rows(store) == artifacts_before  # nothing observed again: last_seen stays
    store.close()

    assert cli.main(["--db", db, "reevaluate", "--run", str(first), "--format", "json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["run"]["kind"] == "reevaluation" and again["run"]["reevaluates"] == {"run": first, "since": None}
    assert again["counts"]["changed"] == 0  # the same rules again: nothing changes any more
    assert again["counts"]["same_status_new_version"] == 0


def test_json_lists_each_change_with_both_versions_and_the_colour(tmp_path, offline, capsys):
    db = f"sqlite:///{tmp_path}/govscan.db"
    clock = Clock()
    store = Store(db, clock=clock)
    stored_run(store, clock, [scanned(A, VALUED, Status.PASS), scanned(B, GOOD_HEADERS[1:2], Status.PASS)])
    store.close()

    assert cli.main(["--db", db, "reevaluate", "--checks", "web.https.*", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["format"] == 1 and data["run"]["checks"] == "web.https.*"
    assert data["counts"] == {"sites": 2, "verdicts": 2, "changed": 1, "sites_changed": 1, "sites_changing_colour": 1,
                              "same_status_new_version": 1, "skipped": 0}
    [change] = data["changes"]
    assert change["site"] == "www.a.nl" and change["check"] == HSTS
    assert change["old"] == {"status": "pass", "check_version": 1}
    assert change["new"] == {"status": "fail", "check_version": all_checks()[HSTS].version}
    assert "includeSubDomains" in change["summary"]["en"]
    assert data["colours"] == [{"site": "www.a.nl", "standard": "all", "old": "green", "new": "red"},
                               {"site": "www.a.nl", "standard": "https", "old": "green", "new": "red"}]
    assert {f["source"] for f in data["run_facts"]} == {FACTS_ASSUMED}  # no run facts stored, nothing tells


def test_judging_a_scan_again_under_the_same_rules_gives_the_very_same_findings(db_url, clock):
    """The addresses in the order the scan judged them (2001:db8::10 sorts before 203.0.113.10, the deciding
    address of the summary), every artifact's keys in the order the probe wrote them."""
    from checks.registry import evaluate

    ipv4, ipv6 = "203.0.113.10", "2001:db8::10"
    v4 = with_headers(good(), VALUED)
    v6 = with_headers(good(), GOOD_HEADERS[2:])  # no HSTS at all: fails too, with another summary
    dns = Artifact("dns", 1, A.host, {"host": A.host, "ipv4": [ipv4], "ipv6": [ipv6], "rcode": {"A": "NOERROR"}})
    addresses = {ipv4: {"http": Artifact("http", 1, ipv4, v4)}, ipv6: {"http": Artifact("http", 1, ipv6, v6)}}
    finding = evaluate(all_checks()[HSTS], A, {"dns": dns}, addresses, {"ipv6": True})
    assert finding.summary.en.startswith(ipv4)
    store = Store(db_url, clock=clock)
    run = stored_run(store, clock, [SiteResult(A, {"dns": dns}, addresses, [finding], 0.1)], facts={"ipv6": True})
    assert [list(a.data) for a in store.artifacts(A.host)] == [list(dns.data), list(v6), list(v4)]

    result = reevaluate(store, settings(), run_id=run)
    assert result.judged() == 1 and result.changes() == [] and result.same_status_new_version() == 0
    assert len(store.history(A.host, HSTS)) == 1  # the same evidence: no new version stored
    store.close()


def test_pruned_facts_skip_the_site_and_say_why(db_url, clock):
    store = Store(db_url, clock=clock)
    run = store.start_run("nightly", [A, B], checks=HSTS)
    store.record_site(run, scanned(A, VALUED, Status.PASS))
    clock.advance(days=40)
    store.record_site(run, scanned(B, GOOD_HEADERS[1:2], Status.PASS))
    store.finish_run(run)
    assert store.prune_artifacts(clock.now - timedelta(days=30)) == 2  # www.a.nl's dns and http

    result = reevaluate(store, settings(), run_id=run)
    assert [(s.host, s.reason.en) for s in result.skipped] == [("www.a.nl", "no stored facts (pruned, or never kept)")]
    assert [o.host for o in result.outcomes] == ["www.b.nl"]
    items = {i.site.host: (i.state, i.error) for i in store.work_items(result.run.id)}
    assert items == {"www.a.nl": ("error", "no stored facts (pruned, or never kept)"), "www.b.nl": ("done", "")}
    assert [v.status for v in store.history("www.a.nl", HSTS)] == ["pass"]  # its verdict is left alone
    store.close()


def test_unreadable_facts_skip_the_site_instead_of_stopping(db_url, clock):
    store = Store(db_url, clock=clock)
    run = stored_run(store, clock, [scanned(A, VALUED, Status.PASS), scanned(B, VALUED, Status.PASS)])
    with store.session() as session:
        for row in session.scalars(select(ArtifactRow).where(ArtifactRow.subject == "www.a.nl")):
            row.data = b"not zlib"
    result = reevaluate(store, settings(), run_id=run)
    assert [s.host for s in result.skipped] == ["www.a.nl"]
    assert result.skipped[0].reason.en.startswith("stored facts unreadable: ")
    assert [c.host for c in result.changes()] == ["www.b.nl"]
    store.close()


def test_a_site_a_scan_holds_is_skipped_and_left_to_that_scan(db_url, clock):
    from storage import work

    store = Store(db_url, clock=clock)
    first = stored_run(store, clock, [scanned(A, VALUED, Status.PASS), scanned(B, VALUED, Status.PASS)])
    scan = store.start_run("nightly", [A], checks=HSTS)
    assert [s.host for s in work.claim(store, scan, 1, timedelta(minutes=30))] == ["www.a.nl"]
    result = reevaluate(store, settings(), run_id=first)
    assert [(s.host, s.reason.en) for s in result.skipped] == [("www.a.nl", "being scanned by another run right now")]
    assert [o.host for o in result.outcomes] == ["www.b.nl"]
    store.close()


def test_a_check_whose_facts_were_never_collected_is_left_as_it_was(db_url, clock):
    store = Store(db_url, clock=clock)
    checks = (HSTS, "web.tls.version")  # the run judged TLS, but its tls facts are not stored
    run = stored_run(store, clock, [scanned(A, VALUED, Status.PASS, checks=checks)], checks=",".join(checks))
    result = reevaluate(store, settings(), run_id=run)
    assert [(h, c, why.en) for h, c, why in result.not_rejudged()] == [
        ("www.a.nl", "web.tls.version", f"no stored facts of 'tls' ({ADDRESS})")]
    assert [c.check for c in result.changes()] == [HSTS]
    assert {v.check_id: v.status for v in store.current_findings("www.a.nl")} == {HSTS: "fail",
                                                                                "web.tls.version": "pass"}
    store.close()


def test_a_rule_that_cannot_judge_the_stored_facts_leaves_the_verdict_as_it_was(db_url, clock):
    """A new rule reading what an older probe did not collect errs with reason bug (as the checks say
    "collected by an older govscan", or as a crash): that erases nothing."""
    @check("test.reeval.newfield", level="required", family="test", requires=("dns",), version=2, norm="Testnorm",
           title=("Nieuw veld", "New field"), advice=("Niets.", "Nothing."))
    def reads_a_new_field(facts):
        return Verdict(Status.PASS if facts["dns"]["new_field"] else Status.FAIL, Text("nl", "en"))

    try:
        store = Store(db_url, clock=clock)
        checks = (HSTS, "test.reeval.newfield")
        run = stored_run(store, clock, [scanned(A, VALUED, Status.PASS, checks=checks)], checks=",".join(checks))
        result = reevaluate(store, settings(), run_id=run)
        [(host, check_id, why)] = result.not_rejudged()
        assert (host, check_id) == ("www.a.nl", "test.reeval.newfield")
        assert why.en.startswith("the current rule cannot judge the stored facts: Internal error in the check: ")
        assert "new_field" in why.en
        assert [c.check for c in result.changes()] == [HSTS]
        assert {v.check_id: v.status for v in store.current_findings("www.a.nl")} == {
            HSTS: "fail", "test.reeval.newfield": "pass"}
        store.close()
    finally:
        REGISTRY.pop("test.reeval.newfield", None)


def test_a_site_scanned_again_since_is_judged_on_its_newer_run_only(db_url, clock):
    store = Store(db_url, clock=clock)
    first = stored_run(store, clock, [scanned(A, VALUED, Status.PASS)])
    second = stored_run(store, clock, [scanned(A, GOOD_HEADERS[1:2], Status.PASS, version=2)])

    old = reevaluate(store, settings(), run_id=first)
    assert old.outcomes == [] and old.skipped[0].reason.en.startswith("scanned again on ")
    newer = reevaluate(store, settings())  # the latest finished scan, not the re-evaluation just stored
    assert newer.run.reevaluates_run_id == second
    assert [(o.host, [str(f.status) for f in o.after]) for o in newer.outcomes] == [("www.a.nl", ["pass"])]
    store.close()


def test_since_judges_every_site_scanned_from_that_moment(db_url, clock):
    store = Store(db_url, clock=clock)
    stored_run(store, clock, [scanned(A, VALUED, Status.PASS)])
    clock.advance(days=2)
    since = clock.now
    stored_run(store, clock, [scanned(B, VALUED, Status.PASS)])

    result = reevaluate(store, settings(), since=since)
    assert result.run.reevaluates_since == since and result.run.reevaluates_run_id is None
    assert [c.host for c in result.changes()] == ["www.b.nl"]
    with pytest.raises(NothingToReevaluate):
        reevaluate(store, settings(), since=clock.now + timedelta(days=1))
    store.close()


def test_nothing_to_reevaluate_is_a_usage_error(tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/govscan.db"
    assert cli.main(["--db", db, "--lang", "en", "reevaluate"]) == cli.EXIT_USAGE
    assert "there is no finished run yet" in capsys.readouterr().err
    assert cli.main(["--db", db, "--lang", "en", "reevaluate", "--run", "7"]) == cli.EXIT_USAGE
    assert "no run 7" in capsys.readouterr().err
    assert cli.main(["--db", db, "--lang", "en", "reevaluate", "--since", "yesterday"]) == cli.EXIT_USAGE
    assert "not a date" in capsys.readouterr().err


def test_published_trends_mark_the_day_the_new_rule_was_applied(db_url, clock, tmp_path):
    from reports.publish import Options, publish

    store = Store(db_url, clock=clock)
    stored_run(store, clock, [scanned(A, VALUED, Status.PASS), scanned(B, GOOD_HEADERS[1:2], Status.PASS)])
    clock.advance(days=3)
    reevaluate(store, settings())
    clock.advance(days=1)
    publish(store, tmp_path / "site", all_checks(), Options(lang="en", lab=True))
    store.close()

    change = f"2026-01-04: {HSTS} version 1 → {all_checks()[HSTS].version}"
    page = (tmp_path / "site" / "trends.html").read_text()
    assert f"<li>{change}</li>" in page and f"<title>{change}</title>" in page
    assert "a jump on such a day may come from the rule" in page
    exported = (tmp_path / "site" / "exports" / "rule-changes.csv").read_text().splitlines()
    assert exported == ["date,standard,check,old_version,new_version",
                        f"2026-01-04,https,{HSTS},1,{all_checks()[HSTS].version}"]


# --- run facts ---

IPV6_AWARE = "test.reeval.ipv6"


@pytest.fixture
def ipv6_aware():
    """A check that reads the run facts: error no_ipv6 on a scanner without IPv6."""
    @check(IPV6_AWARE, level="required", family="test", requires=("dns",), version=2, norm="Testnorm",
           title=("IPv6-test", "IPv6 test"), advice=("Niets.", "Nothing."))
    def judged(facts):
        if facts.run.get("ipv6", True):
            return Verdict(Status.PASS, Text("IPv6 gemeten.", "IPv6 measured."))
        return Verdict(Status.ERROR, Text("Geen IPv6.", "No IPv6."), reason=Reason.NO_IPV6)

    yield
    REGISTRY.pop(IPV6_AWARE, None)


def site_with(site: Site, ipv6_artifact: Artifact | None = None) -> SiteResult:
    result = scanned(site, GOOD_HEADERS[1:2], Status.PASS, checks=(IPV6_AWARE,))
    if ipv6_artifact is not None:
        result.site_artifacts["dns"].data["ipv6"] = [ipv6_artifact.subject]
        result.address_artifacts[ipv6_artifact.subject] = {"http": ipv6_artifact}
    return result


def test_the_run_facts_stored_with_the_scan_are_the_ones_judged_with(db_url, clock, ipv6_aware):
    store = Store(db_url, clock=clock)
    run = stored_run(store, clock, [site_with(A)], checks=IPV6_AWARE, facts={"ipv6": False})
    result = reevaluate(store, settings(), run_id=run)
    [outcome] = result.outcomes
    assert (outcome.facts, outcome.facts_source, outcome.facts_run) == ({"ipv6": False}, FACTS_STORED, run)
    assert [(c.old_status, c.new_status) for c in result.changes()] == [("pass", "error")]
    store.close()


def test_older_runs_without_run_facts_derive_them_from_the_artifacts(db_url, clock, ipv6_aware):
    store = Store(db_url, clock=clock)
    untried = Artifact("http", 1, "2001:db8::1", error=Reason.NO_IPV6, error_detail="no IPv6 on the scanning host")
    tried = Artifact("http", 1, "2001:db8::2", error=Reason.CONNECT, error_detail="refused")
    c = Site("https://www.c.nl/", "www.c.nl")
    run = stored_run(store, clock, [site_with(A, untried), site_with(B, tried), site_with(c)], checks=IPV6_AWARE)
    result = reevaluate(store, settings(), run_id=run)
    facts = {o.host: (o.facts, o.facts_source) for o in result.outcomes}
    assert facts == {"www.a.nl": ({"ipv6": False}, FACTS_DERIVED), "www.b.nl": ({"ipv6": True}, FACTS_DERIVED),
                     "www.c.nl": ({"ipv6": True}, FACTS_ASSUMED)}
    assert [(c.host, c.new_status) for c in result.changes()] == [("www.a.nl", "error")]
    assert result.runs_without_facts() == [run]
    store.close()


def test_the_reevaluation_says_where_run_facts_were_derived(tmp_path, capsys, ipv6_aware):
    db = f"sqlite:///{tmp_path}/govscan.db"
    clock = Clock()
    store = Store(db, clock=clock)
    run = stored_run(store, clock, [site_with(A)], checks=IPV6_AWARE)
    store.close()
    assert cli.main(["--db", db, "--lang", "en", "reevaluate", "--checks", IPV6_AWARE]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"Run(s) {run} were stored without their run facts" in out
    assert "not derivable for 1 site(s), so assumed (IPv6 present" in out


def test_a_scan_stores_its_run_facts(db_url, world, tmp_path):
    store = Store(db_url, clock=scheduler.ManualClock(datetime(2026, 1, 1, 1, 30)))
    sites = write_sites(tmp_path / "sites.csv", [("Gemeente Noordstad", "gemeente", "GM9901", "www.noordstad.nl")])
    schedules = scheduler.Schedules([scheduler.Schedule("nightly", sites=str(sites), checks="test.sim.*")],
                                    scheduler.WorkSettings(poll_seconds=0.01))
    [run_id] = scheduler.run_due(store, settings(), schedules)
    facts = store.run(run_id).run_facts
    assert set(facts) == {"ipv6"} and isinstance(facts["ipv6"], bool)
    store.close()


def test_a_database_of_the_previous_schema_keeps_its_runs_without_run_facts(db_url):
    """Migration 0003 adds the run facts and what a re-evaluation judged; runs stored before have none."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from storage.store import MIGRATIONS, create, normalise_url

    engine = create(normalise_url(db_url))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.execute(text(
            "INSERT INTO runs (kind, state, started, tool_version, config_hash, checks, source, host, pid, "
            "process_start, sites_total, sites_done, sites_failing, sites_error) VALUES ('nightly', 'finished', "
            "'2026-01-01 02:00:00', '0.1.0', '', '', '', 'scanner', 1, '', 0, 0, 0, 0)"))
    engine.dispose()

    store = Store(db_url)
    run = store.run()
    assert (run.kind, run.run_facts, run.reevaluates_run_id, run.reevaluates_since) == ("nightly", None, None, None)
    store.close()
