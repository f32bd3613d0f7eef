"""The command line against the running lab: `govscan --lab check` on one site and `govscan scan --sites lab`
over all of them, stored in a fresh SQLite database, with the run report written."""
import csv
import json

import pytest

from scanner import config, targets
from scanner.cli import main
from storage.store import Store

pytestmark = pytest.mark.lab

CHECKS = "web.https.*"


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path}/govscan.db"


@pytest.fixture
def lab_sites(lab):
    sites, problems = targets.load(config.load(lab=True).extra["lab"]["sites_file"])
    assert not problems
    return sites


def test_check_one_lab_site(lab, lab_sites, db, capsys):
    site = lab_sites[0]
    assert main(["--lab", "--db", db, "check", site.host, "--checks", CHECKS, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["site"]["host"] == site.host
    assert report["site"]["addresses"]["ipv4"] or report["site"]["addresses"]["ipv6"]
    assert {f["check"] for f in report["findings"]} == {"web.https.available", "web.https.redirect",
                                                        "web.https.hsts"}
    run = Store(db).run(report["run"]["id"])
    assert (run.kind, run.state, run.sites_done) == ("on-demand", "finished", 1)


def test_scan_the_lab_and_write_the_report(lab, lab_sites, db, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--db", db, "scan", "--sites", "lab", "--checks", CHECKS, "--out", str(out)]) == 0
    store = Store(db)
    run = store.runs()[0]
    assert (run.kind, run.state, run.sites_done, run.sites_total) == ("batch", "finished", len(lab_sites),
                                                                      len(lab_sites))
    assert len(store.findings_for_run(run.id)) == 3 * len(lab_sites)
    html = (out / f"run-{run.id}.html").read_text()
    assert all(site.host in html for site in lab_sites)
    with open(out / f"run-{run.id}.csv", newline="") as fh:
        assert len(list(csv.reader(fh))) == 1 + 3 * len(lab_sites)
