"""Comply or explain (storage/explanations.py, `govscan explain`, the reports): an explanation holds for the
failing finding it names until it expires, is revoked or the finding's evidence changes; every bad input is
refused with nothing stored; the published site shows an explained failure with its reason and its own map
colour, and as failing again the day after it expires (a controllable clock, as the ninety-night test)."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from checks.registry import all_checks
from govscan.model import Status
from reports import run_report
from reports.publish import Options, publish
from reports.standards import Colour, colour, complies
from scanner import scheduler
from scanner.cli import main
from storage import explanations as stored
from storage.models import ExplanationRevocationRow, ExplanationRow
from storage.store import Store
from tests.unit.simfakes import settings, world, write_sites  # noqa: F401 (fixture)
from tests.unit.test_storage import GOOD, NOORD, ZUID, Clock, database_url, nightly, pg_database, result  # noqa: F401

HSTS = "web.https.hsts"
FAILING = {HSTS: Status.FAIL, "web.https.redirect": Status.PASS}


@pytest.fixture
def db(request, tmp_path):
    """SQLite; the tests of what the store keeps and when an explanation holds also on PostgreSQL (BOTH)."""
    return database_url(request, tmp_path, getattr(request, "param", "sqlite"))


BOTH = pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def clock():
    return Clock(datetime(2026, 1, 1, 2, 0))


@pytest.fixture
def store(db, clock):
    """Noordstad fails HSTS, Zuiddorp passes everything: one night's run."""
    opened = Store(db, clock=clock)
    nightly(opened, clock, [(NOORD, FAILING), (ZUID, GOOD)])
    yield opened
    opened.close()


def count(store: Store, model) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def hsts_row(store: Store, when):
    return next(r for r in store.state_on(when) if r.host == NOORD.host and r.check == HSTS)


@BOTH
def test_an_explanation_holds_for_a_year_by_default_and_keeps_the_measured_status(store, clock):
    recorded = stored.record(store, NOORD.host, HSTS, "  Wordt in maart vervangen.  ", "Team Web")
    assert recorded.reason == "Wordt in maart vervangen." and recorded.recorded_by == "Team Web"
    assert recorded.expires == recorded.recorded.replace(year=2027)  # one year after it was recorded
    clock.advance(minutes=1)
    row = hsts_row(store, clock.now)
    assert row.status == "fail" and row.explanation == "Wordt in maart vervangen." and row.explained_by == "Team Web"
    assert [e.id for e in stored.explanations(store)] == [recorded.id]
    assert stored.explanations(store, ended=True) == []
    clock.advance(days=364)
    assert hsts_row(store, clock.now).explanation_id == recorded.id
    clock.advance(days=2)
    assert hsts_row(store, clock.now).explanation_id is None and hsts_row(store, clock.now).status == "fail"
    (ended,) = stored.explanations(store, ended=True)
    assert ended.ended(clock.now) == (recorded.expires, "expired")


@BOTH
def test_an_expiry_date_holds_through_that_day(store, clock):
    recorded = stored.record(store, NOORD.host, HSTS, "reden", "wie", date(2026, 1, 10))
    assert recorded.expires == datetime(2026, 1, 11)
    assert hsts_row(store, date(2026, 1, 10)).explanation_id == recorded.id
    assert hsts_row(store, date(2026, 1, 11)).explanation_id is None


@BOTH
def test_revoking_adds_a_row_and_keeps_the_history(store, clock):
    recorded = stored.record(store, NOORD.host, HSTS, "reden", "wie")
    clock.advance(hours=1)
    before_revocation = clock.now
    clock.advance(hours=1)
    revoked = stored.revoke(store, recorded.id, "Beheerder")
    assert revoked.revoked_by == "Beheerder" and revoked.reason == "reden"  # the explanation itself unchanged
    assert hsts_row(store, clock.now).explanation_id is None
    assert hsts_row(store, before_revocation).explanation_id == recorded.id  # the state then is kept
    assert stored.explanations(store) == []
    (ended,) = stored.explanations(store, ended=True)
    assert ended.ended(clock.now)[1] == "revoked"
    assert count(store, ExplanationRow) == 1 and count(store, ExplanationRevocationRow) == 1
    with pytest.raises(stored.ExplanationRefused, match="already revoked"):
        stored.revoke(store, recorded.id, "Beheerder")
    assert count(store, ExplanationRevocationRow) == 1


@BOTH
def test_other_evidence_ends_it_and_the_same_evidence_later_does_not_bring_it_back(store, clock):
    recorded = stored.record(store, NOORD.host, HSTS, "reden", "wie")
    clock.advance(days=1)
    nightly(store, clock, [(NOORD, FAILING)])  # the same failure: it still holds
    assert hsts_row(store, clock.now).explanation_id == recorded.id
    clock.advance(days=1)
    store.record_site(store.start_run("nightly", [NOORD]), result(NOORD, FAILING, evidence="max-age=0"))
    clock.advance(minutes=1)
    assert hsts_row(store, clock.now).explanation_id is None
    (ended,) = stored.explanations(store, ended=True)
    assert ended.ended(clock.now)[1] == "evidence"
    clock.advance(days=1)
    nightly(store, clock, [(NOORD, FAILING)])  # back to the explained evidence: a new finding, not explained
    assert hsts_row(store, clock.now).explanation_id is None


@BOTH
def test_one_explanation_at_a_time_and_expiring_within_thirty_days(store, clock):
    clock.advance(days=1)
    nightly(store, clock, [(NOORD, FAILING), (ZUID, FAILING)])
    soon = stored.record(store, NOORD.host, HSTS, "kort", "wie", date(2026, 1, 20))
    with pytest.raises(stored.ExplanationRefused, match=f"explanation {soon.id} already holds"):
        stored.record(store, NOORD.host, HSTS, "lang", "wie")
    stored.record(store, ZUID.host, HSTS, "lang", "wie")
    assert [e.id for e in stored.expiring(store)] == [soon.id]
    assert stored.expiring(store, timedelta(days=5)) == []


@BOTH
def test_explanations_are_shown_in_the_run_report_and_its_csv(store, clock):
    stored.record(store, NOORD.host, HSTS, "=HYPERLINK(\"http://x\") <b>reden</b>", "Team <Web>")
    clock.advance(minutes=1)
    run = store.runs()[0]
    findings = store.findings_for_run(run.id)
    held = stored.holding_for(store, [f.id for f in findings], clock.now)
    html = run_report.render_html(run, findings, all_checks(), "nl", explanations=held)
    assert "uitgelegd</strong> door Team &lt;Web&gt;, tot en met 2027-01-01: " in html
    assert "&lt;b&gt;reden&lt;/b&gt;" in html and "<b>reden" not in html
    out = io.StringIO()
    run_report.write_csv(out, run, findings, all_checks(), held)
    rows = {(r["host"], r["check"]): r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    explained = rows[NOORD.host, HSTS]
    assert explained["explanation"].startswith("'=HYPERLINK")  # a spreadsheet does not run it
    assert explained["explained_by"] == "Team <Web>" and explained["explanation_expires"].startswith("2027-01-01T02:")
    assert rows[ZUID.host, HSTS]["explanation"] == ""


@pytest.mark.parametrize("statuses, expected_colour", [
    (["explained", "pass"], Colour.EXPLAINED),
    (["explained", "warn"], Colour.EXPLAINED),
    (["explained", "fail"], Colour.RED),  # one unexplained failure keeps it red
    (["explained", "error"], Colour.EXPLAINED),
])
def test_an_explained_failure_has_its_own_colour_and_never_complies(statuses, expected_colour):
    assert colour(statuses) == expected_colour
    assert complies(statuses) is False


# --- the command line ---

def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


TODAY = date.today()


@pytest.mark.parametrize("argv, message", [
    (["explain", "www.onbekend.nl", HSTS, "--reason", "r", "--by", "b"], "www.onbekend.nl staat niet in de database"),
    (["explain", "www.noordstad.nl", "no.such.check", "--reason", "r", "--by", "b"],
     "onbekende controle 'no.such.check'"),
    (["explain", "www.noordstad.nl", "web.https.available", "--reason", "r", "--by", "b"], "heeft geen uitkomst"),
    (["explain", "www.noordstad.nl", "web.https.redirect", "--reason", "r", "--by", "b"], "alleen wat faalt"),
    (["explain", "www.noordstad.nl", HSTS, "--reason", "   ", "--by", "b"], "de reden is leeg"),
    (["explain", "www.noordstad.nl", HSTS, "--by", "b"], "de reden is leeg"),
    (["explain", "www.noordstad.nl", HSTS, "--reason", "r", "--by", " "], "de naam (--by) is leeg"),
    (["explain", "www.noordstad.nl", HSTS, "--reason", "r"], "de naam (--by) is leeg"),
    (["explain", "www.noordstad.nl", HSTS, "--reason", "x" * 2001, "--by", "b"], "langer dan 2000 tekens"),
    (["explain", "www.noordstad.nl", HSTS, "--reason", "r", "--by", "b", "--expires",
      (TODAY - timedelta(days=1)).isoformat()], "is al voorbij"),
    (["explain", "www.noordstad.nl", HSTS, "--reason", "r", "--by", "b", "--expires",
      (TODAY + timedelta(days=367)).isoformat()],
     "meer dan een jaar vooruit"),
    (["explain", "www.noordstad.nl", HSTS, "--reason", "r", "--by", "b", "--expires", "volgende week"],
     "geen datum"),
    (["explain", "www.noordstad.nl", "--reason", "r", "--by", "b"], "geef SITE en CHECK"),
    (["explain", "--list", "--revoke", "1"], "geef SITE en CHECK, of --list, of --revoke ID"),
    (["explain", "--expired"], "geef SITE en CHECK"),
    (["explain", "www.noordstad.nl", HSTS, "--reason", "r", "--by", "b", "--expired"], "--expired hoort bij --list"),
    (["explain", "--revoke", "99", "--by", "b"], "geen uitleg 99"),
    (["--lang", "en", "explain", "www.noordstad.nl", HSTS, "--reason", "r", "--by", "b", "--expires", "2020-01-01"],
     "the expiry 2020-01-01 is in the past"),
])
def test_bad_input_is_refused_and_nothing_is_stored(store, db, capsys, argv, message):
    code, out, err = run_cli(capsys, "--db", db, *argv)
    assert code == 2 and message in err, err
    assert count(store, ExplanationRow) == 0 and count(store, ExplanationRevocationRow) == 0


def test_the_last_day_of_the_year_is_allowed(store, db, capsys):
    last = stored.a_year_after(datetime.combine(TODAY, datetime.min.time())).date()
    code, out, _ = run_cli(capsys, "--db", db, "explain", "www.noordstad.nl", HSTS, "--reason", "r", "--by", "b",
                           "--expires", last.isoformat())
    assert code == 0 and f"Uitleg 1 vastgelegd voor www.noordstad.nl, {HSTS}, tot en met {last}." in out


def test_explain_list_and_revoke(store, db, capsys):
    code, out, _ = run_cli(capsys, "--db", db, "explain", "https://www.noordstad.nl/", HSTS,
                           "--reason", "Leverancier \x1b[31mlost het op", "--by", "Team Web")
    assert code == 0 and f"Uitleg 1 vastgelegd voor www.noordstad.nl, {HSTS}" in out
    code, out, _ = run_cli(capsys, "--db", db, "explain", "--list")
    assert code == 0 and "Team Web" in out and "\x1b" not in out and "Leverancier" in out
    code, out, _ = run_cli(capsys, "--db", db, "explain", "--list", "--format", "json")
    (listed,) = json.loads(out)["explanations"]
    assert listed["site"] == "www.noordstad.nl" and listed["check"] == HSTS and listed["ended"] is None
    code, out, _ = run_cli(capsys, "--db", db, "--lang", "en", "explain", "--revoke", "1", "--by", "Beheer")
    assert code == 0 and "Explanation 1 (www.noordstad.nl, web.https.hsts) is revoked." in out
    code, out, _ = run_cli(capsys, "--db", db, "explain", "--list")
    assert "Geen uitleg." in out
    code, out, _ = run_cli(capsys, "--db", db, "explain", "--list", "--expired", "--format", "json")
    (ended,) = json.loads(out)["explanations"]
    assert ended["ended_because"] == "revoked" and ended["revoked_by"] == "Beheer"
    code, out, _ = run_cli(capsys, "--db", db, "explain", "--list", "--expired")
    assert "ingetrokken: Beheer" in out
    code, out, _ = run_cli(capsys, "--db", db, "history", "www.noordstad.nl")  # the site's history says so
    assert code == 0 and "Uitleg bij www.noordstad.nl" in out and "ingetrokken: Beheer" in out
    code, out, _ = run_cli(capsys, "--db", db, "history", "www.noordstad.nl", "--check", HSTS, "--format", "json")
    (ended,) = json.loads(out)["explanations"]
    assert ended["ended_because"] == "revoked" and ended["check"] == HSTS


# --- the published site, with a controllable clock ---

START = date(2026, 1, 1)
SITES = [("Gemeente Nul", "gemeente", "GM9901", "www.gemeente0.nl"),
         ("Gemeente Een", "gemeente", "GM9902", "www.gemeente1.nl")]
REASON = "Nieuwe server in <maart> & daarna HTTPS"


@BOTH
def test_published_site_shows_the_explanation_and_fails_again_the_day_after_it_expires(world, db, tmp_path):
    """Gemeente 0 fails HTTPS every night; it is explained on 2026-01-03 until 2026-01-06 inclusive. Published
    on 2026-01-06 the failure is explained (reason, own map colour, counted apart in the trends, in the
    exports); published on 2026-01-07 it is failing again, and the trends still show the explained days."""
    world.statuses = {"www.gemeente0.nl": {"test.sim.https": "fail"}}
    clock = scheduler.ManualClock(datetime(2026, 1, 1, 1, 30))
    store = Store(db, clock=clock)
    sites = write_sites(tmp_path / "sites.csv", SITES)
    schedules = scheduler.Schedules([scheduler.Schedule("nightly", sites=str(sites), checks="test.sim.*")],
                                    scheduler.WorkSettings(poll_seconds=0.01))
    standards_file = tmp_path / "standards.toml"
    standards_file.write_text('[[standard]]\nid = "https"\ntitle = { nl = "HTTPS", en = "HTTPS" }\n'
                              'checks = ["test.sim.https"]\n')
    options = Options(lab=True, standards=standards_file, months=1)

    def night(n: int) -> None:
        clock.current = datetime.combine(START + timedelta(days=n), datetime.min.time()) + timedelta(hours=1,
                                                                                                    minutes=30)
        assert len(scheduler.run_due(store, settings(), schedules)) == 1

    def published(day: date, name: str):
        clock.current = datetime.combine(day, datetime.min.time()) + timedelta(hours=12)
        out = tmp_path / name
        publish(store, out, all_checks(), options)
        return out

    for n in range(3):
        night(n)
    clock.current = datetime(2026, 1, 3, 9, 0)
    stored.record(store, "www.gemeente0.nl", "test.sim.https", REASON, "Team <Web>", date(2026, 1, 6))
    for n in range(3, 6):
        night(n)

    out = published(date(2026, 1, 6), "explained")
    page = (out / "organisations" / "gm9901.html").read_text()
    assert ('<td class="status-explained">voldoet niet, uitgelegd</td>' in page)
    assert ("uitgelegd</strong> door Team &lt;Web&gt;, tot en met 2026-01-06: "
            "Nieuwe server in &lt;maart&gt; &amp; daarna HTTPS") in page
    assert "Herstel test.sim.https." in page  # how to fix it is still shown
    lab_map = (out / "maps" / "https.html").read_text()
    assert 'data-code="GM9901" data-result="explained"' in lab_map
    assert 'data-code="GM9902" data-result="green"' in lab_map
    assert 'id="fill-explained"' in lab_map and "Voldoet niet, uitgelegd (1)" in lab_map  # pattern and legend
    assert '<td class="status-explained">Voldoet niet, uitgelegd</td>' in lab_map
    assert "www.gemeente0.nl: test.sim.https (uitgelegd)" in lab_map
    trend_csv = (out / "exports" / "trends-day.csv").read_text().splitlines()
    assert "2026-01-02,day,https,gemeente,1,2,0.5000,2026-01-02T23:59:59.999999Z,0" in trend_csv
    assert "2026-01-03,day,https,gemeente,1,2,0.5000,2026-01-03T23:59:59.999999Z,1" in trend_csv  # never a pass
    with open(out / "exports" / "state.csv", newline="") as fh:
        state = {r["host"]: r for r in csv.DictReader(fh)}
    assert state["www.gemeente0.nl"]["status"] == "fail" and state["www.gemeente0.nl"]["explanation"] == REASON
    assert state["www.gemeente0.nl"]["explanation_expires"] == "2026-01-07T00:00:00Z"
    assert state["www.gemeente1.nl"]["explanation"] == ""
    findings = {f["host"]: f for f in json.loads((out / "exports" / "state.json").read_text())["findings"]}
    assert findings["www.gemeente0.nl"]["explained_by"] == "Team <Web>"
    assert findings["www.gemeente1.nl"]["explanation"] is None
    organisations = json.loads((out / "exports" / "organisations.json").read_text())
    gm0 = next(o for o in organisations if o["code"] == "GM9901")["standards"]["https"]
    assert gm0 == {"colour": "explained", "failing": [], "explained": ["www.gemeente0.nl: test.sim.https"],
                   "warning": []}
    run_page = next(p for p in (out / "runs").glob("run-*.html") if "www.gemeente0.nl" in p.read_text())
    assert "uitgelegd</strong> door Team &lt;Web&gt;" in run_page.read_text()

    night(6)
    out = published(date(2026, 1, 7), "expired")
    page = (out / "organisations" / "gm9901.html").read_text()
    assert '<td class="status-fail">voldoet niet</td>' in page and "uitgelegd" not in page
    lab_map = (out / "maps" / "https.html").read_text()
    assert 'data-code="GM9901" data-result="red"' in lab_map
    trend_csv = (out / "exports" / "trends-day.csv").read_text().splitlines()
    assert "2026-01-06,day,https,gemeente,1,2,0.5000,2026-01-06T23:59:59.999999Z,1" in trend_csv
    assert "2026-01-07,day,https,gemeente,1,2,0.5000,2026-01-07T23:59:59.999999Z,0" in trend_csv
    with open(out / "exports" / "state.csv", newline="") as fh:
        assert {r["host"]: r for r in csv.DictReader(fh)}["www.gemeente0.nl"]["explanation"] == ""
    store.close()


def test_the_dashboard_renders_again_when_an_explanation_is_recorded_or_revoked(store):
    from scanner.service.dashboard import store_version

    before = store_version(store)
    recorded = stored.record(store, NOORD.host, HSTS, "reden", "wie")
    after_recording = store_version(store)
    stored.revoke(store, recorded.id, "wie")
    assert len({before, after_recording, store_version(store)}) == 3
