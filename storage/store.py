"""The store: runs, their work items, findings and artifacts, in SQLite (WAL, the embedded default) or
PostgreSQL. Opening a store applies the Alembic migrations, so a database is always at the current schema.

Every site is stored in its own transaction as soon as it is scanned (`record_site`), so a scan killed with
SIGKILL keeps every site it finished; the next command that starts a run (check, scan, schedule) finds the run
still `running` with its process gone and marks it `interrupted` (`mark_interrupted`). Opening a store (beyond
bringing its schema up to date) and reading it change nothing.

Findings and artifacts are kept as versions (see storage/models.py): unchanged results only move
`last_seen` forward, so "the state of every site at moment T" is one query (`state_on`).
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import os
import re
import socket
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable, Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, and_, create_engine, delete, event, func, insert, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from govscan.model import Artifact, Finding, Organisation, Site, SiteResult, Status, matches
from storage.models import (RUN_KINDS, ArtifactRow, FindingRow, OrganisationRow, RunRow, SiteRow, WorkItem,
                            explanations_holding, pack)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x67737363616E  # PostgreSQL advisory lock key: one process migrates at a time


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def as_utc(when: datetime | date) -> datetime:
    """A moment as naive UTC; a date means the end of that day (the state after that day's runs)."""
    if not isinstance(when, datetime):
        return datetime.combine(when + timedelta(days=1), time()) - timedelta(microseconds=1)
    if when.tzinfo is not None:
        return when.astimezone(timezone.utc).replace(tzinfo=None)
    return when


def tool_version() -> str:
    try:
        return metadata.version("govscan")
    except metadata.PackageNotFoundError:
        return "unknown"


def settings_hash(settings) -> str:
    """A short hash of the effective settings, stored with each run so differing configurations show."""
    raw = dataclasses.asdict(settings)
    raw.pop("sources", None)
    raw.pop("origins", None)
    return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _digest(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def evidence_hash(finding: Finding) -> str:
    """What makes a finding different from the one stored before: status, reason, summary and evidence."""
    data = finding.to_dict()
    return _digest({key: data[key] for key in ("status", "reason", "summary", "details", "addresses", "norm",
                                                "check_version")})


def artifact_hash(artifact: Artifact) -> str:
    return _digest([artifact.version, artifact.data, artifact.error, artifact.error_detail])


def _process_start(pid: int) -> str:
    """The start time of a process (Linux /proc), so a reused pid is not taken for the run's process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def _process_alive(pid: int, started: str) -> bool:
    if pid <= 0:
        return False
    if Path("/proc/self/stat").exists():
        current = _process_start(pid)
        return bool(current) and (not started or current == started)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def normalise_url(url: str) -> str:
    """A plain file path means SQLite; `postgresql://` means psycopg 3 (the driver the project installs)."""
    if "://" not in url:
        return f"sqlite:///{Path(url).resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class DatabaseError(Exception):
    """The database cannot be used as given (an unsupported or malformed URL, a missing driver, a path that
    cannot be written, a server that refuses): a message for the user, the password never in it."""


def masked(url: str) -> str:
    """A database URL fit to print or log: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return re.sub(r"://([^:/@]*):[^@]*@", r"://\1:***@", url)


def checked_url(url: str):
    """The parsed URL of a database govscan can use, or DatabaseError saying why not."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise DatabaseError(f"{masked(url)}: not a database URL (use postgresql://user@host/name or the "
                            "path of a SQLite file)") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseError(f"{masked(url)}: govscan stores its results in SQLite or PostgreSQL, not {backend}")
    if backend == "postgresql" and importlib.util.find_spec("psycopg") is None:
        raise DatabaseError(f"{masked(url)}: the PostgreSQL driver is not installed "
                            "(pip install 'govscan[postgres]')")
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"{parsed.database}: cannot create {folder}: {exc.strerror}") from None
        if not os.access(folder, os.W_OK) or (Path(parsed.database).exists()
                                               and not os.access(parsed.database, os.W_OK)):
            raise DatabaseError(f"{parsed.database}: not writable")
    return parsed


def create(url: str) -> Engine:
    """An engine; for SQLite: WAL, foreign keys, a busy timeout, and write transactions that take the write
    lock at BEGIN (so two processes never deadlock upgrading a read lock)."""
    parsed = checked_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    engine = create_engine(parsed, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # transactions are begun below, not by the driver
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # in WAL: durable against a killed process
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def migrate(engine: Engine) -> None:
    """`alembic upgrade head` on this database, one process at a time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


# Runs of the web service (`govscan serve`: anyone's on-demand checks, batch API requests) have a source that
# starts with this. The published reports show only sites that a site list (a scan or a schedule) names.
SERVICE_SOURCE = "serve:"


def listed_sites():
    """The ids of the sites some run that is not the web service's was given: the sites the published reports
    are about. A site anyone typed into the check page is kept, but published only once a list names it."""
    return (select(WorkItem.site_id).join(RunRow, RunRow.id == WorkItem.run_id)
            .where(RunRow.source.not_like(f"{SERVICE_SOURCE}%")))


def state_on(session: Session, when: datetime | date, checks: str | Iterable[str] | None = None, *,
             listed_only: bool = False):
    """The state of every site at a moment (a date: at the end of that day): for each site and check, the
    finding that was current then. One query; rows have `host`, `url`, `check`, `status`, `reason`,
    `summary` (a Text), `details`, `addresses`, `norm`, `check_version`, `first_seen`, `last_seen`,
    `first_run_id`, `last_run_id`, `org_name`, `org_type`, `org_code` (empty strings without organisation),
    `finding_id`, and the explanation that holds for the finding then (storage/explanations.py):
    `explanation_id`, `explanation` (its reason), `explained_by`, `explanation_expires`, all None without one.
    `checks` (patterns as for --checks) is applied in Python, after the query; `listed_only` keeps the
    sites of `listed_sites`."""
    moment = as_utc(when)
    held = explanations_holding(moment).subquery()
    query = (
        select(
            SiteRow.host, SiteRow.url, FindingRow.check_id.label("check"), FindingRow.status, FindingRow.reason,
            FindingRow.summary, FindingRow.details, FindingRow.addresses,
            FindingRow.norm, FindingRow.check_version, FindingRow.first_seen, FindingRow.last_seen,
            FindingRow.first_run_id, FindingRow.last_run_id,
            func.coalesce(OrganisationRow.name, "").label("org_name"),
            func.coalesce(OrganisationRow.type, "").label("org_type"),
            func.coalesce(OrganisationRow.code, "").label("org_code"),
            FindingRow.id.label("finding_id"), held.c.id.label("explanation_id"),
            held.c.reason.label("explanation"), held.c.recorded_by.label("explained_by"),
            held.c.expires.label("explanation_expires"),
        )
        .join(SiteRow, FindingRow.site_id == SiteRow.id)
        .outerjoin(OrganisationRow, SiteRow.organisation_id == OrganisationRow.id)
        .outerjoin(held, held.c.finding_id == FindingRow.id)
        .where(FindingRow.first_seen <= moment,
               or_(FindingRow.valid_until.is_(None), FindingRow.valid_until > moment))
        .order_by(SiteRow.host, FindingRow.check_id)
    )
    if listed_only:
        query = query.where(SiteRow.id.in_(listed_sites()))
    rows = session.execute(query).all()
    return [row for row in rows if matches(row.check, checks)] if checks else rows


def _run_findings(run_id: int, *columns):
    """`columns` of the findings a run shows: for each site it stored, the versions current when that site was
    stored (every part of a site has that moment as `finished`, so a finding comes once per part)."""
    return (select(*columns).select_from(FindingRow)
            .join(WorkItem, and_(WorkItem.site_id == FindingRow.site_id, WorkItem.run_id == run_id,
                                 WorkItem.state == "done"))
            .join(SiteRow, SiteRow.id == FindingRow.site_id)
            .where(FindingRow.first_seen <= WorkItem.finished,
                   or_(FindingRow.valid_until.is_(None), FindingRow.valid_until > WorkItem.finished))
            .order_by(SiteRow.host, FindingRow.check_id))


class Store:
    """The one door to the database for the CLI, the scheduler and the reports."""

    def __init__(self, url: str, *, clock: Callable[[], datetime] = utcnow):
        self.url = normalise_url(url)
        self.engine = create(self.url)
        try:
            migrate(self.engine)
        except (OperationalError, InterfaceError) as exc:  # server down, refused, wrong credentials
            self.engine.dispose()
            raise DatabaseError(f"{masked(self.url)}: cannot open the database: "
                                f"{str(exc.orig or exc).strip().splitlines()[0]}") from None
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.clock = clock
        self._last = datetime.min

    @classmethod
    def open(cls, settings, **kwargs) -> "Store":
        return cls(settings.storage.url, **kwargs)

    def close(self) -> None:
        self.engine.dispose()

    def now(self) -> datetime:
        """The clock, strictly increasing within this store, so two writes never share a moment."""
        moment = as_utc(self.clock())
        if moment <= self._last:
            moment = self._last + timedelta(microseconds=1)
        self._last = moment
        return moment

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back on an exception."""
        with self.sessions.begin() as session:
            yield session

    # --- sites and organisations ---

    def _insert_ignore(self, session: Session, table, values: dict | list[dict]) -> None:
        dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
        if isinstance(values, dict):
            session.execute(dialect.insert(table).values(**values).on_conflict_do_nothing())
        elif values:
            session.execute(dialect.insert(table).on_conflict_do_nothing(), values)

    def _organisation(self, session: Session, organisation: Organisation) -> OrganisationRow:
        if organisation.code:
            found = session.scalar(select(OrganisationRow).where(OrganisationRow.code == organisation.code)
                                   .order_by(OrganisationRow.id).limit(1))
            if found is not None:
                found.name, found.type = organisation.name, organisation.type
                return found
        self._insert_ignore(session, OrganisationRow.__table__,
                            {"name": organisation.name, "type": organisation.type, "code": organisation.code})
        return session.scalars(select(OrganisationRow).where(
            OrganisationRow.name == organisation.name, OrganisationRow.type == organisation.type,
            OrganisationRow.code == organisation.code)).one()

    def _site(self, session: Session, site: Site) -> SiteRow:
        """The site's row, created or updated (a list without organisations keeps the one known)."""
        self._insert_ignore(session, SiteRow.__table__, {"host": site.host, "url": site.url})
        row = session.scalars(select(SiteRow).where(SiteRow.host == site.host).with_for_update(of=SiteRow)).one()
        row.url = site.url
        if site.organisation is not None:
            row.organisation = self._organisation(session, site.organisation)
        return row

    def _sites(self, session: Session, sites: list[Site]) -> dict[str, int]:
        """Like `_site` for a whole list in a few statements (a run may list thousands): host -> site id."""
        organisations = {org: self._organisation(session, org).id for org in {s.organisation for s in sites} if org}
        self._insert_ignore(session, SiteRow.__table__, [{"host": s.host, "url": s.url} for s in sites])
        rows: dict[str, SiteRow] = {}
        hosts = [s.host for s in sites]
        for start in range(0, len(hosts), 500):
            rows.update((row.host, row) for row in session.scalars(
                select(SiteRow).where(SiteRow.host.in_(hosts[start:start + 500]))))
        for site in sites:
            row = rows[site.host]
            row.url = site.url
            if site.organisation is not None:
                row.organisation_id = organisations[site.organisation]
        return {host: row.id for host, row in rows.items()}

    # --- runs ---

    def start_run(self, kind: str, sites: list[Site], *, checks: str = "", source: str = "",
                  config_hash: str = "", reevaluates_run_id: int | None = None,
                  reevaluates_since: datetime | None = None) -> int:
        """A new run in state `running`, with one queued work item per site. Returns the run id. A
        re-evaluation names the run it judges again (`reevaluates_run_id`) or the moment from which
        (`reevaluates_since`)."""
        if kind not in RUN_KINDS:
            raise ValueError(f"unknown run kind {kind!r}")
        sites = list({site.host: site for site in sites}.values())
        pid = os.getpid()
        with self.session() as session:
            run = RunRow(kind=kind, state="running", started=self.now(), tool_version=tool_version(),
                         config_hash=config_hash, checks=checks or "", source=source, host=socket.gethostname(),
                         pid=pid, process_start=_process_start(pid), sites_total=len(sites), sites_done=0,
                         sites_failing=0, sites_error=0, reevaluates_run_id=reevaluates_run_id,
                         reevaluates_since=reevaluates_since)
            session.add(run)
            session.flush()
            site_ids = self._sites(session, sites)
            if sites:
                session.execute(insert(WorkItem), [{"run_id": run.id, "site_id": site_ids[site.host], "state": "queued",
                                                    "attempts": 0, "error": ""} for site in sites])
            return run.id

    def record_site(self, run_id: int, result: SiteResult) -> None:
        """Store one scanned site: its findings and artifacts (new versions only where they changed), its work
        item done and the run's counts, in one transaction."""
        with self.session() as session:
            moment = self.now()
            site = self._site(session, result.site)
            item = session.scalar(select(WorkItem).where(WorkItem.run_id == run_id, WorkItem.site_id == site.id))
            if item is None:
                item = WorkItem(run_id=run_id, site_id=site.id, state="queued", attempts=0, error="")
                session.add(item)
                session.get(RunRow, run_id).sites_total += 1
            first_time = item.state != "done"
            changed = self._store_findings(session, site, run_id, moment, result.findings)
            self._store_artifacts(session, site, run_id, moment, result.artifacts(), changed)
            item.state, item.finished = "done", moment
            item.attempts += 1
            if first_time:
                run = session.get(RunRow, run_id)
                statuses = {Status(f.status) for f in result.findings}
                run.sites_done += 1
                run.sites_failing += Status.FAIL in statuses
                run.sites_error += Status.ERROR in statuses

    def _store_findings(self, session: Session, site: SiteRow, run_id: int, moment: datetime,
                        findings: list[Finding]) -> bool:
        """New versions for the findings that changed; True when there was any."""
        changed = False
        current = {row.check_id: row for row in session.scalars(select(FindingRow).where(
            FindingRow.site_id == site.id, FindingRow.valid_until.is_(None)))}
        for finding in findings:
            digest = evidence_hash(finding)
            row = current.get(finding.check)
            if row is not None and row.evidence_hash == digest:
                row.last_seen, row.last_run_id = moment, run_id
                continue
            if row is not None:
                row.valid_until = moment
            changed = True
            data = finding.to_dict()
            session.add(FindingRow(
                site_id=site.id, check_id=finding.check, status=str(finding.status), reason=finding.reason,
                summary_nl=finding.summary.nl, summary_en=finding.summary.en, details=data["details"],
                addresses=data["addresses"], norm=finding.norm, check_version=finding.check_version,
                evidence_hash=digest, first_seen=moment, first_run_id=run_id, last_seen=moment,
                last_run_id=run_id, valid_until=None))
        return changed

    def _store_artifacts(self, session: Session, site: SiteRow, run_id: int, moment: datetime,
                         artifacts: list[Artifact], findings_changed: bool) -> None:
        """Raw facts change on every visit (timings, Date headers, query counts), so a new version is kept only
        where the site's findings changed: the facts behind each judgement stay, and otherwise the current
        version is brought up to date in place (the newest facts of a span that judged the same)."""
        probes = {a.probe for a in artifacts}
        current = {(row.probe, row.subject): row for row in session.scalars(select(ArtifactRow).where(
            ArtifactRow.site_id == site.id, ArtifactRow.valid_until.is_(None)))}
        seen = set()
        for artifact in artifacts:
            key = (artifact.probe, artifact.subject)
            seen.add(key)
            digest = artifact_hash(artifact)
            row = current.get(key)
            if row is not None and (row.data_hash == digest or not findings_changed):
                if row.data_hash != digest:
                    row.probe_version, row.data_hash, row.data = artifact.version, digest, pack(artifact.data)
                    row.error, row.error_detail = artifact.error, artifact.error_detail or ""
                row.last_seen, row.last_run_id = moment, run_id
                continue
            if row is not None:
                row.valid_until = moment
            session.add(ArtifactRow(
                site_id=site.id, probe=artifact.probe, subject=artifact.subject, probe_version=artifact.version,
                error=artifact.error, error_detail=artifact.error_detail or "", data_hash=digest,
                data=pack(artifact.data), first_seen=moment, first_run_id=run_id, last_seen=moment,
                last_run_id=run_id, valid_until=None))
        for key, row in current.items():  # an address the probe no longer tests (the site moved)
            if key[0] in probes and key not in seen:
                row.valid_until = moment

    def record_run_facts(self, run_id: int, facts: dict) -> None:
        """Keep what the runner hands every check besides the artifacts, for re-evaluations."""
        with self.session() as session:
            session.get(RunRow, run_id).run_facts = facts

    def skip_site(self, run_id: int, host: str, reason: str) -> None:
        """A site of the run that could not be handled at all: its work item ends in `error` with the reason."""
        with self.session() as session:
            item = session.scalar(select(WorkItem).join(SiteRow, SiteRow.id == WorkItem.site_id)
                                  .where(WorkItem.run_id == run_id, SiteRow.host == host))
            item.state, item.error, item.finished = "error", reason, self.now()
            session.get(RunRow, run_id).sites_error += 1

    @contextmanager
    def recorder(self, run_id: int) -> Iterator[Callable[[SiteResult], None]]:
        """An `on_site` callback for the Runner that stores each site from a background thread, so the scan's
        event loop never waits for the database (a write, or another process holding the SQLite lock).
        Leaving the block, also on Ctrl-C, waits until every site handed over is stored; a failed write is
        raised at the next hand-over or when the block ends."""
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="govscan-store")
        failures: list[BaseException] = []

        def stored(future: Future) -> None:
            if future.exception() is not None:
                failures.append(future.exception())

        def hand_over(result: SiteResult) -> None:
            if failures:
                raise failures[0]
            pool.submit(self.record_site, run_id, result).add_done_callback(stored)

        try:
            yield hand_over
        finally:
            pool.shutdown(wait=True)
        if failures:
            raise failures[0]

    def finish_run(self, run_id: int) -> None:
        with self.session() as session:
            run = session.get(RunRow, run_id)
            run.state, run.finished = "finished", self.now()

    def mark_interrupted(self, run_id: int | None = None) -> list[int]:
        """Mark a run interrupted (Ctrl-C), or, without `run_id`, every run of this machine left `running` by a
        process that is gone (killed, crashed). Their unfinished work items go back to `queued`, so a resumed
        run scans them again. Returns the run ids marked."""
        with self.session() as session:
            query = select(RunRow).where(RunRow.state == "running")
            if run_id is not None:
                runs = session.scalars(query.where(RunRow.id == run_id)).all()
            else:
                runs = [run for run in session.scalars(query.where(RunRow.host == socket.gethostname()))
                        if not _process_alive(run.pid, run.process_start)]
            for run in runs:
                run.state, run.finished = "interrupted", self.now()
                for item in session.scalars(select(WorkItem).where(WorkItem.run_id == run.id,
                                                                   WorkItem.state == "running")):
                    item.state = "queued"
            return [run.id for run in runs]

    def runs(self, limit: int | None = None, *, listed_only: bool = False) -> list[RunRow]:
        """Runs, newest first; `listed_only`: not the web service's (SERVICE_SOURCE)."""
        query = select(RunRow).order_by(RunRow.id.desc()).limit(limit)
        if listed_only:
            query = query.where(RunRow.source.not_like(f"{SERVICE_SOURCE}%"))
        with self.session() as session:
            return list(session.scalars(query))

    def run(self, run_id: int | None = None) -> RunRow | None:
        """One run; the newest when no id is given."""
        with self.session() as session:
            if run_id is not None:
                return session.get(RunRow, run_id)
            return session.scalar(select(RunRow).order_by(RunRow.id.desc()).limit(1))

    def last_finished_scan(self) -> RunRow | None:
        """The newest finished run that observed its sites (a re-evaluation observes nothing)."""
        with self.session() as session:
            return session.scalar(select(RunRow).where(RunRow.state == "finished", RunRow.kind != "reevaluation")
                                  .order_by(RunRow.id.desc()).limit(1))

    def sites_scanned_since(self, moment: datetime) -> list[Site]:
        """Every site a run (not a re-evaluation) finished scanning at or after a moment, by host."""
        with self.session() as session:
            scanned = (select(WorkItem.site_id).join(RunRow, RunRow.id == WorkItem.run_id)
                       .where(WorkItem.state == "done", WorkItem.finished >= as_utc(moment),
                              RunRow.kind != "reevaluation"))
            rows = session.scalars(select(SiteRow).where(SiteRow.id.in_(scanned)).order_by(SiteRow.host))
            return [row.to_model() for row in rows.unique()]

    def work_items(self, run_id: int) -> list[WorkItem]:
        with self.session() as session:
            return list(session.scalars(select(WorkItem).where(WorkItem.run_id == run_id).order_by(WorkItem.id)))

    # --- findings ---

    def findings_for_run(self, run_id: int) -> list[FindingRow]:
        """The findings of a run: for each site it stored, the versions current when that site was stored,
        of the checks the run asked for. Ordered by host and check."""
        with self.session() as session:
            run = session.get(RunRow, run_id)
            if run is None:
                return []
            rows = session.scalars(_run_findings(run_id, FindingRow)).unique().all()
            return [row for row in rows if matches(row.check_id, run.checks)]

    def statuses_for_run(self, run_id: int) -> dict[str, list[tuple[str, str]]]:
        """host -> [(check id, status)] of the findings `findings_for_run` returns, without their evidence:
        all a run's summary counts, so a large run's summary does not read every finding back whole."""
        with self.session() as session:
            run = session.get(RunRow, run_id)
            if run is None:
                return {}
            rows = session.execute(_run_findings(run_id, FindingRow.id, SiteRow.host, FindingRow.check_id,
                                                 FindingRow.status).distinct()).all()
            asked = {row.check_id for row in rows if matches(row.check_id, run.checks)}
            found: dict[str, list[tuple[str, str]]] = {}
            for _, host, check, status in rows:
                if check in asked:
                    found.setdefault(host, []).append((check, status))
            return found

    def history(self, host: str, check: str | None = None) -> list[FindingRow]:
        """Every version of a site's findings (one check's, or all), oldest first: when each status began."""
        with self.session() as session:
            query = (select(FindingRow).join(SiteRow, SiteRow.id == FindingRow.site_id)
                     .where(SiteRow.host == host))
            if check:
                query = query.where(FindingRow.check_id == check)
            return list(session.scalars(query.order_by(FindingRow.check_id, FindingRow.first_seen)).unique())

    def state_on(self, when: datetime | date, checks: str | Iterable[str] | None = None, *,
                 listed_only: bool = False):
        with self.session() as session:
            return state_on(session, when, checks, listed_only=listed_only)

    def current_findings(self, host: str) -> list[FindingRow]:
        """A site's findings as they stand now, one per check."""
        with self.session() as session:
            return list(session.scalars(
                select(FindingRow).join(SiteRow, SiteRow.id == FindingRow.site_id)
                .where(SiteRow.host == host, FindingRow.valid_until.is_(None))
                .order_by(FindingRow.check_id)).unique())

    # --- artifacts ---

    def artifacts(self, host: str, when: datetime | date | None = None) -> list[Artifact]:
        """The raw facts of a site as they were at a moment (now by default), to re-run checks on."""
        return [row.to_model() for row in self.artifact_versions(host, when)]

    def artifact_versions(self, host: str, when: datetime | date | None = None) -> list[ArtifactRow]:
        """The stored versions behind `artifacts`: with the run that last wrote each (`last_run_id`) and
        whether a later observation replaced it (`valid_until`)."""
        moment = as_utc(when) if when is not None else self.now()
        with self.session() as session:
            return list(session.scalars(
                select(ArtifactRow).join(SiteRow, SiteRow.id == ArtifactRow.site_id)
                .where(SiteRow.host == host, ArtifactRow.first_seen <= moment,
                       or_(ArtifactRow.valid_until.is_(None), ArtifactRow.valid_until > moment))
                .order_by(ArtifactRow.probe, ArtifactRow.subject)))

    def prune_artifacts(self, older_than: datetime | date) -> int:
        """Delete artifact versions last seen before a moment. Returns how many were deleted."""
        with self.session() as session:
            result = session.execute(delete(ArtifactRow).where(ArtifactRow.last_seen < as_utc(older_than)))
            return result.rowcount
