"""Durable runs: a run's sites are work items that a scanner claims with a deadline (a lease) before it
scans them, so that

- a run killed at any moment can be resumed: its done items are never scanned again, its claimed but
  unfinished items are taken back (their results were never stored, so nothing is lost or doubled);
- two runs never scan the same site at the same time: a site with a live claim of another run is skipped
  until that claim ends (done, or past its deadline);
- a stuck scanner cannot block the schedule: its claims run out at their deadline and other runs take the
  sites; an item claimed `max_attempts` times without finishing is set to `error` and not tried again.

Claiming is one transaction: SQLite takes the write lock at BEGIN (see storage.store.create); PostgreSQL
locks the claimed items and their site rows (`FOR UPDATE SKIP LOCKED`), so two claimers never pick one site.
"""
from __future__ import annotations

import os
import socket
from datetime import timedelta

from sqlalchemy import func, insert, or_, select, text, update

from govscan.model import Site, SiteResult, Status
from storage.models import FindingRow, RunRow, SiteRow, WorkItem
from storage.store import Store, _process_start

GAVE_UP = "gave up: claimed {attempts} times without finishing (the site may crash or hang the scanner)"


def _claimable(now):
    """Items a scanner may claim: queued, or claimed by one whose deadline passed."""
    return or_(WorkItem.state == "queued", (WorkItem.state == "running") & (WorkItem.deadline <= now))


def _busy(run_id: int, now):
    """The sites another run is scanning now (a live claim)."""
    return select(WorkItem.site_id).where(WorkItem.run_id != run_id, WorkItem.state == "running",
                                          WorkItem.deadline > now)


def count(session, run_id: int, **added: int) -> None:
    """Add to a run's counts in the database itself: workers store sites of one run at the same time."""
    session.execute(update(RunRow).where(RunRow.id == run_id)
                    .values({name: getattr(RunRow, name) + n for name, n in added.items()}))


def _take(session, item: WorkItem, now, lease: timedelta, max_attempts: int) -> bool:
    """Claim an item until `now + lease`; an item claimed `max_attempts` times already is given up (error). The
    run counts the site's error once, at its first part given up (the callers hold the site's row lock)."""
    if item.attempts >= max_attempts:
        if session.scalar(select(WorkItem.id).where(WorkItem.run_id == item.run_id, WorkItem.site_id == item.site_id,
                                                    WorkItem.state == "error").limit(1)) is None:
            count(session, item.run_id, sites_error=1)
        item.state, item.error = "error", GAVE_UP.format(attempts=item.attempts)
        return False
    item.state, item.started, item.deadline = "running", now, now + lease
    item.attempts += 1
    return True


def claim(store: Store, run_id: int, limit: int, lease: timedelta, max_attempts: int = 3) -> list[Site]:
    """Claim up to `limit` sites of a run: queued items, and items whose claim ran out. Returns their sites."""
    with store.session() as session:
        now = store.now()
        busy = _busy(run_id, now)
        candidates = session.scalars(
            select(WorkItem)
            .where(WorkItem.run_id == run_id, _claimable(now), WorkItem.site_id.not_in(busy))
            .order_by(WorkItem.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=WorkItem)
        ).unique().all()
        if not candidates:
            return []
        # Lock the sites, then look again: another run may have claimed one of them since the query above.
        locked = set(session.scalars(select(SiteRow.id).where(SiteRow.id.in_([c.site_id for c in candidates]))
                                     .with_for_update(skip_locked=True)))
        still_busy = set(session.scalars(busy.where(WorkItem.site_id.in_(locked))))
        return [item.site.to_model() for item in candidates
                if item.site_id in locked and item.site_id not in still_busy
                and _take(session, item, now, lease, max_attempts)]


def _open_count(session, run_id: int) -> int:
    return session.scalar(select(func.count()).select_from(WorkItem).where(
        WorkItem.run_id == run_id, WorkItem.state.in_(("queued", "running"))))


def open_items(store: Store, run_id: int) -> int:
    """How many items of a run are not finished (queued or running)."""
    with store.session() as session:
        return _open_count(session, run_id)


def resumable(store: Store, source: str) -> int | None:
    """The newest run from `source` that was interrupted with work left, if any."""
    with store.session() as session:
        return session.scalar(
            select(RunRow.id).where(RunRow.source == source, RunRow.state == "interrupted",
                                    RunRow.id.in_(select(WorkItem.run_id).where(
                                        WorkItem.state.in_(("queued", "running")))))
            .order_by(RunRow.id.desc()).limit(1))


def reopen(store: Store, run_id: int) -> None:
    """Take over an interrupted run in this process: running again, owned by this pid."""
    pid = os.getpid()
    with store.session() as session:
        run = session.get(RunRow, run_id)
        run.state, run.finished = "running", None
        run.host, run.pid, run.process_start = socket.gethostname(), pid, _process_start(pid)


def last_started(store: Store, source: str):
    """When the newest run from `source` started (None before the first)."""
    with store.session() as session:
        return session.scalar(select(func.max(RunRow.started)).where(RunRow.source == source))


# --- the web service's jobs (scanner/service/jobs.py): runs whose source starts with a prefix ---

def _open(run_ids):
    """The runs among `run_ids` (a select of run ids) that have an unfinished item."""
    return RunRow.id.in_(select(WorkItem.run_id).where(WorkItem.run_id.in_(run_ids),
                                                       WorkItem.state.in_(("queued", "running"))))


def open_runs(store: Store, prefix: str, state: str = "running") -> list[int]:
    """The runs from sources starting with `prefix`, in `state`, that have unfinished items: oldest first."""
    with store.session() as session:
        ids = select(RunRow.id).where(RunRow.source.startswith(prefix, autoescape=True), RunRow.state == state)
        return list(session.scalars(select(RunRow.id).where(RunRow.id.in_(ids), _open(ids)).order_by(RunRow.id)))


def queued(store: Store, prefix: str, before: int | None = None) -> int:
    """How many sites of running runs from sources starting with `prefix` (of runs older than `before`, if
    given) wait to be scanned."""
    with store.session() as session:
        query = (select(func.count()).select_from(WorkItem).join(RunRow, RunRow.id == WorkItem.run_id)
                 .where(RunRow.source.startswith(prefix, autoescape=True), RunRow.state == "running",
                        WorkItem.state == "queued"))
        return session.scalar(query if before is None else query.where(RunRow.id < before))


def started_since(store: Store, source: str, since) -> list:
    """When each run from exactly `source` started at or after `since`, oldest first (a rate limit)."""
    with store.session() as session:
        return list(session.scalars(select(RunRow.started).where(RunRow.source == source, RunRow.started >= since)
                                    .order_by(RunRow.started)))


def recent_run_of(store: Store, host: str, prefix: str, since) -> int | None:
    """The newest run from a source starting with `prefix`, started at or after `since`, that has `host`
    and was not interrupted or gave up on it: a check to show again instead of scanning anew."""
    with store.session() as session:
        return session.scalar(
            select(RunRow.id).join(WorkItem, WorkItem.run_id == RunRow.id).join(SiteRow, SiteRow.id == WorkItem.site_id)
            .where(RunRow.source.startswith(prefix, autoescape=True), RunRow.started >= since,
                   RunRow.state != "interrupted", SiteRow.host == host, WorkItem.state != "error")
            .order_by(RunRow.id.desc()).limit(1))


# --- distributed runs (scanner/workers.py): a site in parts, each part an item that a worker claims by id ---

def split(store: Store, run_id: int, parts: list[str]) -> None:
    """Give every whole-site item of the run that is still queued one item per part (the first part takes the
    item over). Items that have a part already are left alone, so splitting again changes nothing."""
    with store.session() as session:
        items = list(session.scalars(select(WorkItem).where(WorkItem.run_id == run_id, WorkItem.part == "",
                                                            WorkItem.state == "queued")))
        for item in items:
            item.part = parts[0]
        session.flush()
        if items and parts[1:]:
            session.execute(insert(WorkItem), [{"run_id": run_id, "site_id": item.site_id, "part": part,
                                                "state": "queued", "attempts": 0, "error": ""}
                                               for item in items for part in parts[1:]])


def is_split(store: Store, run_id: int) -> bool:
    """Whether the run's sites are in parts (a distributed run): such a run is finished by workers."""
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(WorkItem)
                              .where(WorkItem.run_id == run_id, WorkItem.part != "")) > 0


def workers_at_work(store: Store, run_ids: list[int]) -> dict[int, set[str]]:
    """Per run, the workers holding a live claim on one of its items. A worker renews its claim while it scans
    (scanner/workers.py), so one that died drops out of this within one lease: it is the runs' heartbeat."""
    found: dict[int, set[str]] = {run_id: set() for run_id in run_ids}
    with store.session() as session:
        for run_id, worker in session.execute(
                select(WorkItem.run_id, WorkItem.worker).distinct()
                .where(WorkItem.run_id.in_(run_ids), WorkItem.state == "running", WorkItem.worker != "",
                       WorkItem.deadline > store.now())):
            found[run_id].add(worker)
    return found


def _unclaimed(session, run_id: int, now, ran_out_only: bool) -> list[tuple[int, str, object]]:
    which = ((WorkItem.state == "running") & (WorkItem.deadline <= now)) if ran_out_only else _claimable(now)
    return [tuple(row) for row in session.execute(select(WorkItem.id, WorkItem.part, WorkItem.deadline)
                                                  .where(WorkItem.run_id == run_id, which).order_by(WorkItem.id))]


def unclaimed(store: Store, run_id: int, ran_out_only: bool = False) -> list[tuple[int, str, object]]:
    """(id, part, deadline) of the run's items that no live claim holds: queued, or their claim ran out (only
    those with `ran_out_only`: the run's running items, a few per worker, not all it still needs)."""
    with store.session() as session:
        return _unclaimed(session, run_id, store.now(), ran_out_only)


def poll(store: Store, run_id: int, ran_out_only: bool) -> tuple[list[tuple[int, str, object]], int, RunRow]:
    """What the coordinator looks at every second, in one transaction (each costs the store a connection
    check and a commit): `unclaimed` items, how many items are open, and the run with its counts."""
    with store.session() as session:
        items = _unclaimed(session, run_id, store.now(), ran_out_only)
        return items, _open_count(session, run_id), session.get(RunRow, run_id)


def claim_item(store: Store, run_id: int, item_id: int, lease: timedelta, max_attempts: int,
               worker: str) -> Site | None:
    """Claim one item for `worker`, as `claim` would. None when it is done, given up, held by a live claim
    (of this run: a duplicate message; whoever holds it stores it, or its claim runs out and the item is
    published again) or its site is being scanned by another run (the item stays queued)."""
    with store.session() as session:
        now = store.now()
        item = session.scalar(select(WorkItem).where(WorkItem.id == item_id, WorkItem.run_id == run_id,
                                                     _claimable(now))
                              .with_for_update(skip_locked=True, of=WorkItem))
        if item is None:
            return None
        session.scalar(select(SiteRow.id).where(SiteRow.id == item.site_id).with_for_update())
        if session.scalar(_busy(run_id, now).where(WorkItem.site_id == item.site_id).limit(1)) is not None:
            return None
        if not _take(session, item, now, lease, max_attempts):
            return None
        item.worker = worker
        return item.site.to_model()


def renew(store: Store, item_id: int, worker: str, lease: timedelta) -> bool:
    """Move the deadline of `worker`'s claim on an item forward (it is still scanning). False when the claim
    is no longer its own: it ran out and someone else took the item, or the item is done."""
    with store.session() as session:
        now = store.now()
        return session.execute(update(WorkItem).where(WorkItem.id == item_id, WorkItem.state == "running",
                                                      WorkItem.worker == worker)
                               .values(deadline=now + lease)).rowcount == 1


def record_part(store: Store, run_id: int, item_id: int, result: SiteResult) -> bool:
    """Store one part of a site (its findings and artifacts) and set its item done, in one transaction. When
    the item was done already (a task delivered twice), nothing is stored: a site keeps one set of findings.
    When the last part is stored the site is done: every part gets that moment as `finished` (what
    `Store.findings_for_run` reads) and the run counts the site, failing or with errors by all its parts'
    findings. Returns whether anything was stored."""
    with store.session() as session:
        moment = store.now()
        site = store._site(session, result.site)  # locks the site row: one part of a site is stored at a time
        item = session.get(WorkItem, item_id)
        if item.state == "done":
            return False
        changed = store._store_findings(session, site, run_id, moment, result.findings)
        store._store_artifacts(session, site, run_id, moment, result.artifacts(), changed)
        item.state = "done"
        parts = list(session.scalars(select(WorkItem).where(WorkItem.run_id == run_id, WorkItem.site_id == site.id)))
        if all(part.state == "done" for part in parts):
            for part in parts:
                part.finished = moment
            statuses = {Status(s) for s in session.scalars(select(FindingRow.status).where(
                FindingRow.site_id == site.id, FindingRow.valid_until.is_(None), FindingRow.last_run_id == run_id))}
            count(session, run_id, sites_done=1, sites_failing=int(Status.FAIL in statuses),
                  sites_error=int(Status.ERROR in statuses))
        return True


VERSIONED_TABLES = ("findings", "artifacts", "work_items", "runs")


def maintain(store: Store) -> None:
    """After a scheduled run: let the database reuse the space of the rows the run rewrote. A night of
    unchanged sites only moves `last_seen` forward, which PostgreSQL writes as new row versions; VACUUM
    makes the old ones reusable at once instead of whenever autovacuum comes by. SQLite rewrites rows in
    place; its write-ahead log is folded back into the database file."""
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in VERSIONED_TABLES:
                connection.execute(text(f"VACUUM (ANALYZE) {table}"))
    else:
        connection = store.engine.raw_connection()  # outside a transaction: a checkpoint cannot run in one
        try:
            connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
