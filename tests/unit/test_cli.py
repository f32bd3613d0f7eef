"""The govscan command line (scanner/cli.py) with fake probes and checks (tests/unit/fakes.py): what it prints,
what it stores, its exit status, and a SIGKILL during `govscan scan`."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from scanner.cli import main
from storage.models import RunRow
from storage.store import Store
from tests.unit.fakes import fake_checks  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
CHECKS = "test.fake.*"


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path}/govscan.db"


@pytest.fixture
def short_timeout(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text("[scan]\nprobe_timeout = 0.5\n")
    return str(path)


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_check_prints_failures_with_norm_advice_and_addresses(fake_checks, db, capsys):
    code, out, _ = run_cli(capsys, "--db", db, "check", "BAD.example.NL.", "--checks", CHECKS)
    assert code == 0
    assert "https://bad.example.nl/" in out and "198.51.100.1, 198.51.100.2" in out
    assert "FAKEHTTPS" in out and "FAKEINFO" in out  # grouped by family
    assert "voldoet niet" in out and "Nep-HSTS" in out
    assert "198.51.100.2" in out and "header: max-age=60" in out  # per-address evidence
    assert "Norm: Testnorm HSTS" in out and "Oplossing: Zet HSTS aan." in out
    run = Store(db).runs()[0]
    assert (run.kind, run.state, run.checks, run.sites_failing) == ("on-demand", "finished", CHECKS, 1)


def test_check_in_english(fake_checks, db, capsys):
    code, out, _ = run_cli(capsys, "--lang", "en", "--db", db, "check", "warn.example.nl", "--checks", CHECKS)
    assert code == 0
    assert "Fake HSTS" in out and "Nearly right." in out and "How to fix: Turn HSTS on." in out
    assert "Addresses:" in out


def test_check_passing_site_shows_no_advice(fake_checks, db, capsys):
    code, out, _ = run_cli(capsys, "--db", db, "check", "good.example.nl", "--checks", CHECKS)
    assert code == 0 and "voldoet" in out and "Oplossing" not in out


def test_check_json(fake_checks, db, capsys):
    code, out, _ = run_cli(capsys, "--db", db, "check", "bad.example.nl", "--checks", CHECKS, "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["format"] == 1 and report["run"]["kind"] == "on-demand"
    assert report["run"]["started"].endswith("Z") and report["run"]["finished"].endswith("Z")
    assert report["site"] == {"url": "https://bad.example.nl/", "host": "bad.example.nl",
                              "addresses": {"ipv4": ["198.51.100.1", "198.51.100.2"], "ipv6": []}}
    assert report["counts"]["fail"] == 1 and report["counts"]["info"] == 1
    hsts = next(f for f in report["findings"] if f["check"] == "test.fake.hsts")
    assert hsts["status"] == "fail" and hsts["level"] == "required" and hsts["family"] == "fakehttps"
    assert hsts["title"] == {"nl": "Nep-HSTS", "en": "Fake HSTS"}
    assert hsts["advice"]["en"] == "Turn HSTS on." and hsts["norm"] == "Testnorm HSTS"
    assert [a["status"] for a in hsts["addresses"]] == ["pass", "fail"]
    assert hsts["addresses"][1]["details"] == {"header": "max-age=60"}
    assert hsts["summary"]["en"].endswith("HSTS too short.")


def test_hanging_site_gives_timeout_errors_and_exit_0(fake_checks, db, short_timeout, capsys):
    code, out, _ = run_cli(capsys, "--config", short_timeout, "--db", db, "check", "hang.example.nl",
                           "--checks", CHECKS, "--format", "json")
    assert code == 0
    hsts = next(f for f in json.loads(out)["findings"] if f["check"] == "test.fake.hsts")
    assert hsts["status"] == "error" and hsts["reason"] == "timeout"


@pytest.mark.parametrize("argv, message", [
    (["check", "ftp://example.nl"], "schema 'ftp' wordt niet ondersteund"),
    (["--lang", "en", "check", "127.0.0.1"], "Addresses like this (loopback (127.0.0.0/8)) are never scanned"),
    (["check", "example.nl", "--checks", "no.such.check"], "geen controle past bij"),
    (["scan", "--sites", "/nonexistent/sites.txt"], "file not found"),
    (["report", "run", "42"], "run 42 bestaat niet"),
    (["--lang", "en", "report", "run"], "there are no runs yet"),
    (["--db", "nosuchdb://x", "runs"], "kan de database niet openen: nosuchdb://x"),
    (["--db", "postgresql://nobody@127.0.0.1:1/none", "runs"], "niet openen"),
])
def test_usage_errors_exit_2(fake_checks, db, capsys, argv, message):
    code, _, err = run_cli(capsys, "--db", db, *argv)
    assert code == 2 and message in err


def test_db_may_be_a_plain_path(fake_checks, tmp_path, capsys):
    path = tmp_path / "plain.db"
    code, _, _ = run_cli(capsys, "--db", str(path), "check", "a.example.nl", "--checks", CHECKS)
    assert code == 0 and Store(str(path)).runs()[0].kind == "on-demand"


def test_unknown_option_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["check"])
    assert exc.value.code == 2


def test_scan_reports_bad_rows_scans_the_rest_and_writes_the_report(fake_checks, db, tmp_path, short_timeout,
                                                                   capsys):
    sites = tmp_path / "sites.csv"
    sites.write_text("organisation,type,code,url\n"
                     "Gemeente Noordstad,gemeente,GM9901,bad.noordstad.nl\n"
                     "Gemeente Fout,gemeente,GM12,fout.nl\n"
                     "Gemeente Zuiddorp,gemeente,GM9902,www.zuiddorp.nl\n"
                     "Gemeente Traag,gemeente,GM9903,hang.traag.nl\n")
    out_dir = tmp_path / "out"
    code, out, err = run_cli(capsys, "--config", short_timeout, "--db", db, "scan", "--sites", str(sites),
                             "--checks", CHECKS, "--out", str(out_dir))
    assert code == 0
    assert f"{sites}:3: invalid code 'GM12'" in err
    assert "3/3" in err  # the progress bar
    assert "1 site(s) voldoen niet" in out
    store = Store(db)
    run = store.runs()[0]
    assert (run.kind, run.state, run.sites_done, run.sites_failing, run.sites_error) == ("batch", "finished", 3, 1, 1)
    hosts = {r.site.host for r in store.findings_for_run(run.id)}
    assert hosts == {"bad.noordstad.nl", "www.zuiddorp.nl", "hang.traag.nl"}

    html = (out_dir / f"run-{run.id}.html").read_text()
    assert "<script" not in html and "src=" not in html and "<style" not in html  # nothing inline, nothing fetched
    assert (out_dir / "static" / "govscan.css").is_file() and 'href="static/govscan.css"' in html  # written beside it
    assert "bad.noordstad.nl" in html and "Gemeente Noordstad" in html and "max-age=60" in html
    csv_lines = (out_dir / f"run-{run.id}.csv").read_text().splitlines()
    assert csv_lines[0].startswith("run,organisation,organisation_type,organisation_code,host,url,check")
    assert len(csv_lines) == 1 + 3 * 2


def aware(timestamp: str) -> datetime:
    moment = datetime.fromisoformat(timestamp)
    assert moment.utcoffset() == timedelta(0), timestamp
    return moment


def test_scan_json_has_the_run_the_checks_and_every_site_like_check(fake_checks, db, tmp_path, capsys):
    sites = tmp_path / "sites.txt"
    sites.write_text("bad.example.nl\ngood.example.nl\n")
    code, out, err = run_cli(capsys, "--db", db, "scan", "--sites", str(sites), "--checks", CHECKS, "--format", "json",
                             "--out", str(tmp_path / "r"))
    assert code == 0 and "run-1.html" in err  # the note about the report stays out of the JSON
    scan = json.loads(out)
    assert scan["format"] == 1 and scan["run"]["id"] == 1 and scan["run"]["kind"] == "batch"
    assert scan["run"]["sites"] == {"total": 2, "done": 2, "failing": 1, "error": 0}
    assert aware(scan["run"]["started"]) <= aware(scan["run"]["finished"])
    assert scan["checks"]["test.fake.hsts"]["fail"] == 1 and scan["checks"]["test.fake.hsts"]["pass"] == 1
    bad, good = scan["sites"]
    assert (bad["site"]["host"], good["site"]["host"]) == ("bad.example.nl", "good.example.nl")
    hsts = next(f for f in bad["findings"] if f["check"] == "test.fake.hsts")
    assert hsts["status"] == "fail" and hsts["title"] == {"nl": "Nep-HSTS", "en": "Fake HSTS"}


def test_runs_json(fake_checks, db, capsys):
    run_cli(capsys, "--db", db, "check", "bad.example.nl", "--checks", CHECKS)
    code, out, _ = run_cli(capsys, "--db", db, "runs", "--format", "json")
    runs = json.loads(out)
    assert code == 0 and runs["format"] == 1
    (run,) = runs["runs"]
    assert (run["id"], run["kind"], run["state"], run["checks"], run["source"]) == (
        1, "on-demand", "finished", CHECKS, "check bad.example.nl")
    assert aware(run["started"]) <= aware(run["finished"])


def test_runs_and_report_run(fake_checks, db, tmp_path, capsys):
    run_cli(capsys, "--db", db, "check", "bad.example.nl", "--checks", CHECKS)
    code, out, _ = run_cli(capsys, "--lang", "en", "--db", db, "runs")
    assert code == 0 and "on-demand" in out and "finished" in out and "check bad.example.nl" in out
    code, out, _ = run_cli(capsys, "--lang", "en", "--db", db, "report", "run", "--out", str(tmp_path / "r"))
    assert code == 0 and "run-1.html" in out
    html = (tmp_path / "r" / "run-1.html").read_text()
    assert 'lang="en"' in html and "Report of run 1" in html and "HSTS too short." in html


def test_reading_commands_leave_a_dead_run_alone_and_scan_marks_it_interrupted(fake_checks, db, tmp_path, capsys):
    """Opening the store never changes it: a run whose process is gone stays `running` through runs, history
    and report; the next command that starts a run marks it interrupted."""
    store = Store(db)
    dead = store.start_run("batch", [], source="killed")
    with store.session() as session:
        session.get(RunRow, dead).pid = 0  # no such process
    sites = tmp_path / "sites.txt"
    sites.write_text("good.example.nl\n")
    for argv in (["runs"], ["history", "good.example.nl"], ["report", "run", str(dead), "--out", str(tmp_path / "r")]):
        run_cli(capsys, "--db", db, *argv)
        assert (store.run(dead).state, store.run(dead).finished) == ("running", None), argv
    code, _, err = run_cli(capsys, "--db", db, "scan", "--sites", str(sites), "--checks", CHECKS)
    assert code == 0 and f"Onderbroken run(s) gemarkeerd: {dead}" in err
    assert store.run(dead).state == "interrupted"


def test_sigkill_during_scan(db, tmp_path):
    """Acceptance: kill -9 during `govscan scan` leaves a sound database, the run marked interrupted on the
    next start and the sites already stored intact."""
    sites = tmp_path / "sites.txt"
    sites.write_text("".join(f"site{i}.example.nl\n" for i in range(3)) + "hang.example.nl\n")
    child = subprocess.Popen([sys.executable, "-m", "tests.unit.fakes", "--db", db, "scan", "--sites", str(sites),
                              "--checks", CHECKS], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        watcher = Store(db)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(run.sites_done == 3 for run in watcher.runs()):
            time.sleep(0.1)
        watcher.close()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()

    store = Store(db)
    run = store.runs()[0]
    assert run.state == "running"
    assert store.mark_interrupted() == [run.id]
    run = store.run(run.id)
    assert run.state == "interrupted" and run.sites_done == 3
    findings = store.findings_for_run(run.id)
    assert sorted({f.site.host for f in findings}) == ["site0.example.nl", "site1.example.nl", "site2.example.nl"]
    assert {f.check_id: f.status for f in findings} == {"test.fake.hsts": "pass", "test.fake.site": "info"}


def test_ctrl_c_during_scan_marks_the_run_interrupted(db, tmp_path):
    sites = tmp_path / "sites.txt"
    sites.write_text("site0.example.nl\nhang.example.nl\n")
    child = subprocess.Popen([sys.executable, "-m", "tests.unit.fakes", "--db", db, "scan", "--sites", str(sites),
                              "--checks", CHECKS], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    watcher = Store(db)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(run.sites_done == 1 for run in watcher.runs()):
        time.sleep(0.1)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130 and "onderbroken" in err
    run = watcher.runs()[0]
    assert (run.state, run.sites_done) == ("interrupted", 1)


def test_internal_error_exits_1_with_the_traceback(db, capsys, monkeypatch):
    def broken(self, limit=None):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Store, "runs", broken)
    code, _, err = run_cli(capsys, "--db", db, "runs")
    assert code == 1 and "RuntimeError: disk on fire" in err and "interne fout" in err


def test_the_scan_summary_names_the_database_without_its_password(fake_checks, tmp_path, short_timeout, capsys):
    from tests.unit.test_storage import PG_ADMIN

    import psycopg

    name = f"govscan_cli_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        url = f"postgresql://postgres:S3cret@127.0.0.1:5432/{name}"  # trust authentication: any password
        sites = tmp_path / "sites.txt"
        sites.write_text("www.zuiddorp.nl\n")
        code, out, err = run_cli(capsys, "--config", short_timeout, "--db", url, "scan", "--sites", str(sites),
                                 "--checks", CHECKS)
        assert code == 0 and "postgres:***@127.0.0.1" in out
        assert "S3cret" not in out + err
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
