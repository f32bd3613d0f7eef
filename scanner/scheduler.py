"""Scheduled, durable runs: the nightly scan and any other schedule in `config/schedules.toml`.

`serve` runs APScheduler 3 in the foreground with its jobs in the project's database (SQLAlchemyJobStore on
the store's engine), so a missed night still runs when the scheduler comes back. `run_due` runs what is due
now and returns (`govscan schedule --once`). Both go through `run_schedule`: resume the schedule's
interrupted run if there is one, else start a new run; then claim sites in batches (storage.work) and
scan them, storing each site as it finishes, or, with `[workers] distributed = true`, have the workers
scan them (scanner/workers.py). When the run is finished, the subscribers' digests are sent
(scanner/notify.py). Time comes from the store's clock, which tests control.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from checks.registry import Check, select
from scanner import config as config_module
from scanner import targets
from govscan.paths import package_data
from scanner.config import Settings
from govscan.model import Site
from scanner.runner import Runner, SiteResult, run_facts

SCHEDULES_FILE = package_data("schedules.toml")
JOB_TABLE = "apscheduler_jobs"
log = logging.getLogger("govscan.scheduler")


@dataclass
class WorkSettings:
    deadline_minutes: float = 30.0
    max_attempts: int = 3
    batch: int = 0
    poll_seconds: float = 5.0
    misfire_hours: float = 12.0


@dataclass
class Schedule:
    name: str
    cron: str = "0 2 * * *"
    timezone: str = "Europe/Amsterdam"
    sites: str = "lab"
    checks: str = ""
    families: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        """What runs of this schedule are stored with, so its interrupted run can be found again."""
        return f"schedule:{self.name}"

    def trigger(self):
        from apscheduler.triggers.cron import CronTrigger

        return CronTrigger.from_crontab(self.cron, timezone=self.timezone)

    def check_patterns(self) -> str:
        """The checks of this schedule as patterns (stored with the run): families become their check ids."""
        if not self.families:
            return self.checks
        ids = sorted(c.id for c in select(self.checks or None) if c.family in self.families)
        if not ids:  # an empty list would mean "every check"
            raise config_module.ConfigError(f"schedule {self.name}: no check in families {self.families}")
        return ",".join(ids)


@dataclass
class Schedules:
    schedules: list[Schedule]
    work: WorkSettings

    def get(self, name: str) -> Schedule:
        for schedule in self.schedules:
            if schedule.name == name:
                return schedule
        raise config_module.ConfigError(f"no schedule named {name!r}")


def load_schedules(path: Path | str | None = None) -> Schedules:
    path = Path(path or SCHEDULES_FILE)
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
        schedules = Schedules([Schedule(**s) for s in raw.get("schedule", [])], WorkSettings(**raw.get("work", {})))
    except FileNotFoundError:
        raise config_module.ConfigError(f"{path}: schedule file not found") from None
    except (tomllib.TOMLDecodeError, TypeError) as exc:
        raise config_module.ConfigError(f"{path}: {exc}") from None
    names = [s.name for s in schedules.schedules]
    if len(names) != len(set(names)):
        raise config_module.ConfigError(f"{path}: schedule names must be unique")
    for schedule in schedules.schedules:
        try:
            schedule.trigger()
        except ValueError as exc:
            raise config_module.ConfigError(f"{path}: schedule {schedule.name}: {exc}") from None
    return schedules


class ManualClock:
    """A clock that only moves when told: for tests of schedules, deadlines and history."""

    def __init__(self, start: datetime):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta) -> datetime:
        self.current += timedelta(**delta)
        return self.current


def sites_for(settings: Settings, spec: str) -> list[Site]:
    """The sites of a schedule: a site list file, or "lab" for the running lab's list. Bad rows are logged."""
    if spec == "lab":
        spec = settings.extra.get("lab", {}).get("sites_file", "")
        if not spec:
            raise config_module.ConfigError("schedule uses the lab's sites, but no lab configuration is loaded "
                                            "(start the lab and use --lab)")
    sites, problems = targets.load(spec)
    for problem in problems:
        log.warning("%s", problem)
    return sites


def start_or_resume(store, settings: Settings, schedule: Schedule,
                    sites: Callable[[], list[Site]]) -> tuple[int, bool]:
    """The run to work on: the schedule's interrupted run (resumed), or a new one. Returns (id, resumed)."""
    from storage import work
    from storage.store import settings_hash

    store.mark_interrupted()
    run_id = work.resumable(store, schedule.source)
    if run_id is not None:
        work.reopen(store, run_id)
        return run_id, True
    return store.start_run("nightly", sites(), checks=schedule.check_patterns(), source=schedule.source,
                           config_hash=settings_hash(settings)), False


def execute(store, settings: Settings, run_id: int, work_settings: WorkSettings,
            sleep: Callable[[float], None] = time.sleep, on_progress=None) -> list[SiteResult]:
    """Scan a run's sites until none is left: claim a batch, scan it, store each site as it finishes. Sites
    that another run is scanning are waited for, so two runs (nightly or on demand) never scan one site at
    the same time. The run is finished at the end; returns the results of this call's scans. The run facts
    are found once and stored with the run (a resumed run stores those of its latest start)."""
    from storage import work

    checks: list[Check] = select(store.run(run_id).checks or None)
    facts = run_facts(settings)
    store.record_run_facts(run_id, facts)
    batch = work_settings.batch or 2 * settings.scan.sites_in_flight
    lease = timedelta(minutes=work_settings.deadline_minutes)
    results: list[SiteResult] = []
    while True:
        sites = work.claim(store, run_id, batch, lease, work_settings.max_attempts)
        if not sites:
            if not work.open_items(store, run_id):
                break
            sleep(work_settings.poll_seconds)
            continue
        with store.recorder(run_id) as record:
            results += asyncio.run(Runner(settings, checks, on_site=record, on_progress=on_progress,
                                          run_facts=facts).run(sites))
    store.finish_run(run_id)
    return results


def run_schedule(store, settings: Settings, schedule: Schedule, work_settings: WorkSettings,
                 sleep: Callable[[float], None] = time.sleep) -> int:
    """One run of a schedule (resumed or new), to the end. Returns its id."""
    from storage import work

    run_id, resumed = start_or_resume(store, settings, schedule, lambda: sites_for(settings, schedule.sites))
    log.info("%s run %s of schedule %s", "resuming" if resumed else "starting", run_id, schedule.name)
    try:
        if settings.workers.distributed or work.is_split(store, run_id):  # a split run is the workers' to finish
            from scanner import workers

            workers.coordinate(store, settings, run_id, max_attempts=work_settings.max_attempts, sleep=sleep)
        else:
            execute(store, settings, run_id, work_settings, sleep)
    except BaseException:
        store.mark_interrupted(run_id)
        raise
    work.maintain(store)
    from scanner import notify

    notify.after_run(store, settings, run_id, sleep)  # never raises: the run is stored whatever happens
    return run_id


def is_due(store, schedule: Schedule, now: datetime) -> bool:
    """Whether the schedule has a fire time after its last run's start that is not after `now` (UTC,
    naive). A schedule that never ran is due."""
    from storage import work

    last = work.last_started(store, schedule.source)
    if last is None:
        return True
    following = schedule.trigger().get_next_fire_time(
        None, last.replace(tzinfo=timezone.utc) + timedelta(seconds=1))
    return following is not None and following.astimezone(timezone.utc).replace(tzinfo=None) <= now


def run_due(store, settings: Settings, schedules: Schedules, only: str | None = None,
            sleep: Callable[[float], None] = time.sleep) -> list[int]:
    """`--once`: every schedule with an interrupted run or a fire time since its last run, run now."""
    from storage import work
    from storage.store import as_utc

    store.mark_interrupted()
    done = []
    for schedule in schedules.schedules:
        if only and schedule.name != only:
            continue
        if work.resumable(store, schedule.source) is not None or is_due(store, schedule, as_utc(store.clock())):
            done.append(run_schedule(store, settings, schedule, schedules.work, sleep))
    return done


# --- the foreground scheduler ---

def scheduled_job(name: str, options: dict) -> None:
    """What APScheduler runs (a module-level function with plain arguments, so the job can be stored)."""
    from storage.store import Store

    overrides = {"storage": {"database_url": options["db"]}} if options.get("db") else None
    settings = config_module.load(options.get("config"), lab=options.get("lab", False), overrides=overrides)
    schedules = load_schedules(options.get("schedules"))
    store = Store.open(settings)
    try:
        run_schedule(store, settings, schedules.get(name), schedules.work)
    finally:
        store.close()


def make_scheduler(store, schedules: Schedules):
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=store.engine, tablename=JOB_TABLE)},
        executors={"default": {"type": "threadpool", "max_workers": max(1, len(schedules.schedules))}},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": int(schedules.work.misfire_hours * 3600)},
        timezone="UTC")


def sync_jobs(scheduler, schedules: Schedules, options: dict) -> None:
    """Make the stored jobs match the schedules. A job whose trigger did not change is kept as stored, with
    its next fire time, so a night missed while the scheduler was down runs on start (within the misfire
    limit); jobs of removed schedules are removed."""
    wanted = {f"schedule:{s.name}": s for s in schedules.schedules}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            job.remove()
    for job_id, schedule in wanted.items():
        trigger = schedule.trigger()
        job = scheduler.get_job(job_id)
        if job is not None and str(job.trigger) == str(trigger) and job.kwargs.get("options") == options:
            continue
        scheduler.add_job(scheduled_job, trigger, id=job_id, name=schedule.name, replace_existing=True,
                          kwargs={"name": schedule.name, "options": options})


def serve(store, settings: Settings, schedules: Schedules, options: dict, stop: threading.Event) -> None:
    """Run the schedules until `stop` is set: first resume any interrupted scheduled run, then fire jobs."""
    from storage import work

    store.mark_interrupted()
    for schedule in schedules.schedules:
        if work.resumable(store, schedule.source) is not None:
            run_schedule(store, settings, schedule, schedules.work)
    scheduler = make_scheduler(store, schedules)
    scheduler.start(paused=True)
    try:
        sync_jobs(scheduler, schedules, options)
        for job in scheduler.get_jobs():
            log.info("schedule %s: next run %s", job.name, job.next_run_time)
        scheduler.resume()
        stop.wait()
    finally:
        scheduler.shutdown(wait=False)
