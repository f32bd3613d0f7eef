"""Schedules and durable runs (scanner/scheduler.py, storage/work.py) on SQLite and PostgreSQL: claims with
deadlines, resuming an interrupted run, what is due when, a SIGKILL mid-run, and an on-demand check during
a nightly run."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from checks.registry import select as select_checks
from scanner import cli, scheduler
from govscan.model import Site
from scanner.runner import Runner
from storage import work
from storage.models import FindingRow, RunRow, WorkItem
from storage.store import Store
from tests.unit.simfakes import SIM_CHECKS, settings, world, write_sites  # noqa: F401 (fixture)
from tests.unit.test_storage import db_url, pg_database  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]
LEASE = timedelta(minutes=30)


@pytest.fixture
def clock():
    return scheduler.ManualClock(datetime(2026, 1, 1, 3, 0))


@pytest.fixture
def store(db_url, clock):
    opened = Store(db_url, clock=clock)
    yield opened
    opened.close()


def sites(n, prefix="www.gemeente"):
    return [Site(f"https://{prefix}{i}.nl/", f"{prefix}{i}.nl") for i in range(n)]


def nightly(tmp_path, n=5, **fields):
    path = write_sites(tmp_path / "sites.csv", [(f"Gemeente {i}", "gemeente", f"GM99{i:02d}", f"www.gemeente{i}.nl")
                                                for i in range(n)])
    schedule = scheduler.Schedule("nightly", sites=str(path), checks="test.sim.*", **fields)
    return scheduler.Schedules([schedule], scheduler.WorkSettings(poll_seconds=0.01))


def test_two_runs_never_claim_the_same_site(store, clock):
    a = store.start_run("nightly", sites(3), source="a")
    b = store.start_run("on-demand", sites(3), source="b")
    assert {s.host for s in work.claim(store, a, 10, LEASE)} == {f"www.gemeente{i}.nl" for i in range(3)}
    assert work.claim(store, b, 10, LEASE) == []
    clock.advance(minutes=31)  # a's claims ran out: b may take the sites, a may not take them back
    assert len(work.claim(store, b, 10, LEASE)) == 3
    assert work.claim(store, a, 10, LEASE) == []


def test_a_site_that_keeps_running_out_is_given_up(store, clock):
    run = store.start_run("nightly", sites(1), source="a")
    for _ in range(3):
        assert len(work.claim(store, run, 10, LEASE, max_attempts=3)) == 1
        clock.advance(minutes=31)
    assert work.claim(store, run, 10, LEASE, max_attempts=3) == []
    [item] = store.work_items(run)
    assert item.state == "error" and "gave up" in item.error
    assert work.open_items(store, run) == 0 and store.run(run).sites_error == 1


def test_a_run_scans_every_site_once_and_finishes(store, world, tmp_path):
    schedules = nightly(tmp_path, n=5)
    [run_id] = scheduler.run_due(store, settings(), schedules)
    run = store.run(run_id)
    assert run.state == "finished" and run.kind == "nightly" and run.source == "schedule:nightly"
    assert run.sites_done == 5 and Counter(world.scans) == {f"www.gemeente{i}.nl": 1 for i in range(5)}
    assert run.checks == "test.sim.*"


def test_due_follows_the_cron_in_its_timezone(store, world, tmp_path, clock):
    schedules = nightly(tmp_path, n=2)  # 02:00 Europe/Amsterdam = 01:00 UTC in winter
    assert len(scheduler.run_due(store, settings(), schedules)) == 1  # never ran: due
    assert scheduler.run_due(store, settings(), schedules) == []
    clock.current = datetime(2026, 1, 2, 0, 59)
    assert scheduler.run_due(store, settings(), schedules) == []
    clock.current = datetime(2026, 1, 2, 1, 0, 30)
    assert len(scheduler.run_due(store, settings(), schedules)) == 1
    # a missed night is caught up once, not once per missed night
    clock.current = datetime(2026, 1, 5, 9, 0)
    assert len(scheduler.run_due(store, settings(), schedules)) == 1
    assert scheduler.run_due(store, settings(), schedules) == []


def test_families_select_checks(world):
    schedule = scheduler.Schedule("x", families=["sim"])
    assert schedule.check_patterns() == ",".join(sorted(SIM_CHECKS))
    with pytest.raises(scheduler.config_module.ConfigError):
        scheduler.Schedule("x", families=["no-such-family"]).check_patterns()


def test_schedule_files_are_checked(tmp_path):
    assert [s.name for s in scheduler.load_schedules().schedules] == ["nightly"]  # the shipped file
    bad = tmp_path / "schedules.toml"
    bad.write_text('[[schedule]]\nname = "x"\ncron = "61 2 * * *"\n')
    with pytest.raises(scheduler.config_module.ConfigError, match="schedule x"):
        scheduler.load_schedules(bad)
    bad.write_text('[[schedule]]\nname = "x"\nwhen = "nightly"\n')
    with pytest.raises(scheduler.config_module.ConfigError):
        scheduler.load_schedules(bad)


def test_an_interrupted_run_is_resumed_without_rescanning_finished_sites(store, world, tmp_path):
    schedules = nightly(tmp_path, n=6)
    schedule = schedules.schedules[0]
    run_id, resumed = scheduler.start_or_resume(store, settings(), schedule,
                                                lambda: scheduler.sites_for(settings(), schedule.sites))
    assert not resumed
    # the first process claimed two sites and stored one of them, then died
    claimed = work.claim(store, run_id, 2, LEASE)
    runner = Runner(settings(), select_checks("test.sim.*"), on_site=lambda result: store.record_site(run_id, result))
    asyncio.run(runner.run(claimed[:1]))
    store.mark_interrupted(run_id)
    world.scans.clear()

    assert scheduler.run_due(store, settings(), schedules) == [run_id]
    assert store.run(run_id).state == "finished" and store.run(run_id).sites_done == 6
    assert claimed[0].host not in world.scans and claimed[1].host in world.scans
    assert sorted(world.scans) == sorted(set(world.scans)) and len(world.scans) == 5
    with store.session() as session:
        per_site = Counter(session.scalars(select(FindingRow.site_id)))
    assert len(per_site) == 6 and set(per_site.values()) == {len(SIM_CHECKS)}


def test_on_demand_check_during_a_nightly_run_is_its_own_run(store, world, tmp_path, db_url, clock):
    schedules = nightly(tmp_path, n=3)
    schedule = schedules.schedules[0]
    run_id, _ = scheduler.start_or_resume(store, settings(), schedule,
                                          lambda: scheduler.sites_for(settings(), schedule.sites))
    assert len(work.claim(store, run_id, 1, LEASE)) == 1  # the nightly run is busy with a site
    config = tmp_path / "settings.toml"
    config.write_text('[dns]\nresolvers = ["127.0.0.1"]\n')
    assert cli.main(["--db", db_url, "--config", str(config), "check", "www.gemeente1.nl",
                     "--checks", "test.sim.*", "--format", "json"]) == 0
    runs = {run.id: run for run in store.runs()}
    on_demand = [run for run in runs.values() if run.kind == "on-demand"]
    assert len(on_demand) == 1 and on_demand[0].state == "finished" and on_demand[0].sites_done == 1
    assert runs[run_id].state == "running"
    clock.advance(minutes=31)  # the claim of the site the nightly run was busy with ran out
    scheduler.execute(store, settings(), run_id, schedules.work, sleep=lambda s: None)
    assert store.run(run_id).state == "finished" and store.run(run_id).sites_done == 3



def test_on_demand_check_waits_while_the_nightly_run_scans_that_site(world, tmp_path, db_url):
    """Two runs never scan one site at the same time: `govscan check` of a site the nightly run has claimed
    waits until that claim ends, then scans it as its own run."""
    live = Store(db_url)  # the real clock: the CLI's store must see the nightly claim as current
    schedules = nightly(tmp_path, n=1)
    schedule = schedules.schedules[0]
    run_id, _ = scheduler.start_or_resume(live, settings(), schedule,
                                          lambda: scheduler.sites_for(settings(), schedule.sites))
    assert [s.host for s in work.claim(live, run_id, 1, LEASE)] == ["www.gemeente0.nl"]
    config = tmp_path / "settings.toml"
    config.write_text('[dns]\nresolvers = ["127.0.0.1"]\n')
    exit_codes = []
    checker = threading.Thread(target=lambda: exit_codes.append(cli.main(
        ["--db", db_url, "--config", str(config), "check", "www.gemeente0.nl", "--checks", "test.sim.*",
         "--format", "json"])))
    checker.start()
    time.sleep(1.5)
    assert checker.is_alive() and world.scans.count("www.gemeente0.nl") == 0  # waiting, not scanning
    with live.session() as session:  # the nightly run's claim ends
        session.execute(WorkItem.__table__.update().where(WorkItem.run_id == run_id).values(state="done"))
    checker.join(timeout=30)
    assert exit_codes == [0] and world.scans.count("www.gemeente0.nl") == 1
    live.close()


SCANNER = textwrap.dedent("""
    import asyncio, sys, time
    import scanner.runner
    from checks.registry import check
    from govscan.model import Status, Text, Verdict
    from scanner.probes.base import Probe
    from scanner import cli

    log_path, argv = sys.argv[1], sys.argv[2:]

    class Slow(Probe):
        name = "slow"

        async def collect(self, ctx, site, address, prior):
            with open(log_path, "a") as log:
                log.write(site.host + "\\n")
            await asyncio.sleep(0.15)
            return {"pid": 1}

    scanner.runner.all_probes = lambda: {"slow": Slow()}
    check("test.slow", level="required", family="slow", requires=("slow",), norm="n", title=("t", "t"),
          advice=("a", "a"))(lambda facts: Verdict(Status.PASS, Text("goed", "good"), {"nonce": time.time_ns()}))
    sys.exit(cli.main(argv))
""")


def test_sigkill_mid_run_then_resume_scans_every_site_once(db_url, tmp_path):
    n = 40
    path = write_sites(tmp_path / "sites.csv", [(f"G{i}", "gemeente", f"GM99{i:02d}", f"www.g{i}.nl") for i in range(n)])
    (tmp_path / "schedules.toml").write_text(
        f'[work]\nbatch = 4\npoll_seconds = 0.05\n[[schedule]]\nname = "nightly"\nsites = "{path}"\nchecks = "test.slow"\n')
    (tmp_path / "settings.toml").write_text('[scan]\nsites_in_flight = 4\n[dns]\nresolvers = ["127.0.0.1"]\n')
    log = tmp_path / "scans.log"
    argv = [sys.executable, "-c", SCANNER, str(log), "--db", db_url, "--config", str(tmp_path / "settings.toml"),
            "schedule", "--once", "--schedules", str(tmp_path / "schedules.toml")]
    child = subprocess.Popen(argv, cwd=ROOT)
    store = Store(db_url)
    try:
        deadline = time.monotonic() + 60
        done = 0
        while time.monotonic() < deadline and done < 12:
            time.sleep(0.05)
            with store.session() as session:
                done = session.scalar(select(func.count()).select_from(WorkItem).where(WorkItem.state == "done"))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert 12 <= done < n
        with store.session() as session:
            done_before = set(session.scalars(select(WorkItem.site_id).where(WorkItem.state == "done")))
            run_id = session.scalar(select(RunRow.id))
        scans_before = log.read_text().split()

        assert subprocess.run(argv, cwd=ROOT, timeout=120).returncode == 0
        with store.session() as session:
            runs = session.scalars(select(RunRow)).all()
            items = session.scalars(select(WorkItem)).all()
            findings = Counter(session.scalars(select(FindingRow.site_id)))
    finally:
        store.close()
    assert [(r.id, r.state, r.sites_done) for r in runs] == [(run_id, "finished", n)]
    assert len(items) == n and all(item.state == "done" for item in items)
    # every site stored exactly once: the check's evidence differs per scan, so a second store of a site
    # would have added a second version; none is missing
    assert len(findings) == n and set(findings.values()) == {1}
    scans = Counter(log.read_text().split())
    assert len(scans) == n
    finished_sites = {item.site.host for item in items if item.site_id in done_before}
    assert all(scans[host] == 1 for host in finished_sites)  # finished before the kill: never scanned again
    assert all(count <= 2 for count in scans.values())  # only the sites in flight at the kill were redone
    assert len(scans_before) < sum(scans.values())


def test_the_foreground_scheduler_keeps_its_jobs_and_runs_a_missed_night(store, world, tmp_path, db_url):
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    schedules = nightly(tmp_path, n=2)
    schedule = schedules.schedules[0]
    (tmp_path / "schedules.toml").write_text(
        f'[work]\npoll_seconds = 0.05\n[[schedule]]\nname = "nightly"\nsites = "{schedule.sites}"\n'
        f'checks = "test.sim.*"\n')
    schedules = scheduler.load_schedules(tmp_path / "schedules.toml")
    options = {"db": db_url, "schedules": str(tmp_path / "schedules.toml")}
    first = scheduler.make_scheduler(store, schedules)
    first.start(paused=True)
    scheduler.sync_jobs(first, schedules, options)
    assert first.get_job("schedule:nightly").kwargs["name"] == "nightly"
    first.shutdown(wait=False)

    # the machine was down at 02:00: the stored job's next run time is in the past
    jobs = SQLAlchemyJobStore(engine=store.engine, tablename=scheduler.JOB_TABLE)
    jobs.start(first, "default")
    job = jobs.lookup_job("schedule:nightly")
    job._modify(next_run_time=datetime.now(job.next_run_time.tzinfo) - timedelta(hours=1))
    jobs.update_job(job)

    stop = threading.Event()
    serving = threading.Thread(target=scheduler.serve, args=(store, settings(), schedules, options, stop))
    serving.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(r.state == "finished" for r in store.runs()):
            time.sleep(0.1)
    finally:
        stop.set()
        serving.join(30)
    [run] = store.runs()
    assert run.state == "finished" and run.sites_done == 2 and run.source == "schedule:nightly"
    job = jobs.lookup_job("schedule:nightly")
    assert job.next_run_time > datetime.now(job.next_run_time.tzinfo)  # the next night is stored

    changed = scheduler.Schedules([scheduler.Schedule("weekly", cron="0 3 * * 0")], schedules.work)
    again = scheduler.make_scheduler(store, changed)
    again.start(paused=True)
    scheduler.sync_jobs(again, changed, options)  # a removed schedule's job goes, a new one comes
    assert [j.id for j in again.get_jobs()] == ["schedule:weekly"]
    again.shutdown(wait=False)
