"""Distributed runs without a broker: the family groups, the work items of a site in parts (claimed by id,
stored once), and the coordinator with a worker's task handler in this process (scanner/workers.py), on
SQLite and PostgreSQL. tests/integration/test_workers.py runs them with real workers and RabbitMQ."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from checks.registry import select as select_checks
from govscan.model import Status
from reports.site_report import ScanSummary
from scanner import cli, config, scheduler, workers
from storage import work
from tests.unit.simfakes import world, write_sites  # noqa: F401 (fixture)
from tests.unit.test_scheduler import clock, sites, store  # noqa: F401 (fixtures)
from tests.unit.test_storage import db_url, pg_database, result  # noqa: F401 (fixtures)

LEASE = timedelta(minutes=2)


def test_browser_work_is_the_checks_whose_probe_drives_a_browser():
    groups = {group: {check.family for check in workers.checks_in(select_checks(None), group)}
              for group in workers.GROUPS}
    assert groups["browser"] == {"privacy", "accessibility"}
    assert "browser" not in {probe for check in workers.checks_in(select_checks(None), "network")
                             for probe in (*check.requires, *check.optional)}
    assert len(select_checks(None)) == sum(len(workers.checks_in(select_checks(None), g)) for g in workers.GROUPS)


def test_a_site_is_done_when_its_last_part_is_stored_and_a_part_stored_twice_counts_once(store):
    [site] = sites(1)
    run = store.start_run("batch", [site])
    work.split(store, run, ["network", "browser"])
    work.split(store, run, ["network", "browser"])  # again: nothing changes
    network, browser = store.work_items(run)
    assert (network.part, browser.part) == ("network", "browser")
    for item in (network, browser):
        assert work.claim_item(store, run, item.id, LEASE, 3, "w1") == site

    assert work.record_part(store, run, network.id, result(site, {"web.https.hsts": Status.PASS}))
    assert not work.record_part(store, run, network.id, result(site, {"web.https.hsts": Status.FAIL}))
    assert store.run(run).sites_done == 0 and store.findings_for_run(run) == []  # half a site is not shown
    assert work.record_part(store, run, browser.id, result(site, {"privacy.trackers": Status.FAIL}))
    counts = store.run(run)
    assert (counts.sites_total, counts.sites_done, counts.sites_failing) == (1, 1, 1)
    assert {(f.check_id, f.status) for f in store.findings_for_run(run)} == {("web.https.hsts", "pass"),
                                                                            ("privacy.trackers", "fail")}
    assert store.statuses_for_run(run) == {site.host: [("privacy.trackers", "fail"), ("web.https.hsts", "pass")]}
    assert work.open_items(store, run) == 0


def test_a_claim_is_its_workers_until_it_runs_out(store, clock):
    run = store.start_run("batch", sites(1))
    work.split(store, run, ["network"])
    [item] = store.work_items(run)
    assert work.claim_item(store, run, item.id, LEASE, 3, "w1") is not None
    assert work.claim_item(store, run, item.id, LEASE, 3, "w2") is None  # a duplicate message: no second scan
    assert work.unclaimed(store, run) == []
    clock.advance(minutes=1)
    assert work.renew(store, item.id, "w1", LEASE)  # still scanning
    clock.advance(minutes=2, seconds=30)
    assert [i for i, _, _ in work.unclaimed(store, run)] == [item.id]  # w1 died: its claim ran out
    assert [i for i, _, _ in work.unclaimed(store, run, ran_out_only=True)] == [item.id]
    assert work.claim_item(store, run, item.id, LEASE, 3, "w2") is not None
    assert not work.renew(store, item.id, "w1", LEASE)
    [item] = store.work_items(run)
    assert (item.worker, item.attempts) == ("w2", 2)
    clock.advance(minutes=3)
    assert work.claim_item(store, run, item.id, LEASE, 2, "w3") is None  # claimed twice, never stored: given up
    [item] = store.work_items(run)
    assert item.state == "error" and work.open_items(store, run) == 0 and store.run(run).sites_error == 1


def test_a_site_whose_parts_are_all_given_up_counts_one_error(store, clock):
    [site, other] = sites(2)
    run = store.start_run("batch", [site, other])
    work.split(store, run, ["network", "browser"])
    assert [i for i, _, _ in work.unclaimed(store, run, ran_out_only=True)] == []  # queued, not ran out
    for _ in range(2):
        for item in store.work_items(run):
            assert work.claim_item(store, run, item.id, LEASE, 2, "w1") is not None
        clock.advance(minutes=3)  # every claim runs out: the worker hangs on every part
    for item in store.work_items(run):
        assert work.claim_item(store, run, item.id, LEASE, 2, "w2") is None
    assert {item.state for item in store.work_items(run)} == {"error"}
    assert store.run(run).sites_error == 2  # two sites, not four parts


@pytest.fixture
def in_process(db_url, monkeypatch):
    """Settings for `db_url`, and a worker's task handler in this process that gets every task twice (a
    redelivered message)."""
    settings = config.load(overrides={"scan": {"probe_timeout": 5.0}, "dns": {"resolvers": ["127.0.0.1"]},
                                      "storage": {"database_url": db_url}})
    process = workers.WorkerProcess(settings)
    outcomes = []

    def deliver_twice(name, args, queue):
        assert (name, queue) == (workers.TASK, workers.queue(args[2]))
        outcomes.extend(process.handle(*args) for _ in range(2))

    monkeypatch.setattr(workers.app, "send_task", deliver_twice)
    yield settings, outcomes
    process.close()


def test_the_coordinator_has_every_site_scanned_once(store, world, in_process):
    settings, outcomes = in_process
    world.statuses["www.gemeente1.nl"] = {"test.sim.https": "fail"}
    run = store.start_run("batch", sites(4), checks="test.sim.*")
    workers.coordinate(store, settings, run, sleep=lambda _: None)
    counts = store.run(run)
    assert (counts.state, counts.sites_done, counts.sites_failing) == ("finished", 4, 1)
    assert Counter(world.scans) == {f"www.gemeente{i}.nl": 1 for i in range(4)}
    assert Counter(outcomes) == {"stored": 4, "not claimed": 4}
    assert len(workers.results(store, run)) == 4
    # The text summary counts the stored statuses: the same as from the findings read back whole.
    summary = ScanSummary.counted(run, store.statuses_for_run(run).values(), 1.0)
    assert summary == ScanSummary.of(run, workers.results(store, run), 1.0)
    assert (summary.sites, summary.failing) == (4, 1)


def test_the_scheduler_hands_its_runs_to_the_workers_when_distributed(store, world, in_process, tmp_path):
    settings, outcomes = in_process
    settings.workers.distributed = True
    path = write_sites(tmp_path / "sites.csv", [(f"Gemeente {i}", "gemeente", f"GM99{i:02d}", f"www.gemeente{i}.nl")
                                                for i in range(3)])
    schedules = scheduler.Schedules([scheduler.Schedule("nightly", sites=str(path), checks="test.sim.*")],
                                    scheduler.WorkSettings(poll_seconds=0.01))
    [run] = scheduler.run_due(store, settings, schedules)
    assert store.run(run).state == "finished" and Counter(world.scans) == {f"www.gemeente{i}.nl": 1 for i in range(3)}
    assert {item.part for item in store.work_items(run)} == {"network"}


def test_distributed_without_celery_is_a_usage_error(tmp_path, monkeypatch, capsys):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "celery" else find_spec(name, *a))
    (tmp_path / "sites.txt").write_text("https://www.noordstad.nl/\n")
    assert cli.main(["--lang", "en", "scan", "--sites", str(tmp_path / "sites.txt"), "--distributed"]) == 2
    assert cli.main(["--lang", "en", "worker"]) == 2
    assert "pip install 'govscan[workers]'" in capsys.readouterr().err
