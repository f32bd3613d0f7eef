"""`govscan history` and `govscan publish` on a database with two nights, one change between them."""
from __future__ import annotations

import csv
import json
from datetime import date, datetime

from reports import boundaries
from scanner import cli, scheduler
from storage.store import Store
from tests.unit.simfakes import settings, world, write_sites  # noqa: F401 (fixture)
from tests.unit.test_cli import aware
from tests.unit.test_storage import db_url, pg_database  # noqa: F401 (fixtures)


def test_history_and_publish(db_url, world, tmp_path, capsys):
    clock = scheduler.ManualClock(datetime(2026, 1, 1, 1, 30))
    store = Store(db_url, clock=clock)
    sites = write_sites(tmp_path / "sites.csv", [("Gemeente Noordstad", "gemeente", "GM9901", "www.noordstad.nl")])
    schedules = scheduler.Schedules([scheduler.Schedule("nightly", sites=str(sites), checks="test.sim.*")],
                                    scheduler.WorkSettings(poll_seconds=0.01))
    scheduler.run_due(store, settings(), schedules)
    clock.current = datetime(2026, 1, 2, 1, 30)
    world.statuses = {"www.noordstad.nl": {"test.sim.https": "fail"}}
    scheduler.run_due(store, settings(), schedules)
    store.close()

    assert cli.main(["--db", db_url, "--lang", "en", "history", "https://www.noordstad.nl/",
                     "--check", "test.sim.https"]) == 0
    out = capsys.readouterr().out
    assert "pass → fail" in out and "2026-01-02 01:30" in out and "test.sim.dnssec" not in out
    assert cli.main(["--db", db_url, "history", "www.unknown.nl"]) == cli.EXIT_USAGE
    capsys.readouterr()
    assert cli.main(["--db", db_url, "history", "www.noordstad.nl", "--check", "test.sim.https",
                     "--format", "json"]) == 0
    history = json.loads(capsys.readouterr().out)
    assert history["format"] == 1 and history["host"] == "www.noordstad.nl"
    passed, failed = history["versions"]
    assert (passed["status"], failed["status"]) == ("pass", "fail")
    assert passed["valid_until"] == failed["first_seen"] and failed["valid_until"] is None
    assert aware(failed["first_seen"]).date() == date(2026, 1, 2)
    assert (passed["first_run"], failed["first_run"]) == (1, 2) and set(failed["summary"]) == {"nl", "en"}

    site = tmp_path / "site"
    municipalities = tmp_path / "gemeenten.geojson"  # a file as CBS/PDOK publish it, without attribution
    collection = json.loads(boundaries.LAB_BOUNDARIES["gemeente"].read_text())
    del collection["attribution"]
    municipalities.write_text(json.dumps(collection))
    assert cli.main(["--db", db_url, "publish", "--out", str(site), "--municipalities", str(municipalities),
                     "--provinces", str(boundaries.LAB_BOUNDARIES["provincie"])]) == 0
    names = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert {"index.html", "trends.html", "maps/all.html", "maps/https.html", "organisations/index.html",
            "organisations/gm9901.html", "runs/index.html", "runs/run-2.html", "runs/run-2.csv",
            "exports/state.csv", "exports/state.json", "exports/organisations.json"} <= names
    state = list(csv.DictReader(open(site / "exports" / "state.csv", encoding="utf-8")))
    assert "test.sim.https" in {row["check"] for row in state}
    assert all(aware(row["last_seen"]).date() == date(2026, 1, 2) for row in state)
    exported = json.loads((site / "exports" / "state.json").read_text())
    assert aware(exported["generated"]) and aware(exported["findings"][0]["first_seen"])
    maps = (site / "maps" / "all.html").read_text()
    assert boundaries.ATTRIBUTION in maps and boundaries.LAB_ATTRIBUTION in maps  # each file's own credit
    assert 'data-code="GM9901" data-result="grey"' in maps  # no check of config/standards.toml ran
