"""Comply or explain ("pas toe of leg uit"): an organisation that does not apply a standard says why. An
explanation names one site's failing finding of one check, with a reason, who gave it, when, and an expiry (by
default, and at most, one year after it was recorded).

The audit trail is the tables themselves: nothing is edited in place or deleted. Recording adds an
ExplanationRow; revoking adds an ExplanationRevocationRow; an explanation ends without any write when it
expires, or when its finding gets other evidence (the store then closes the finding version it explained
and opens another: storage/models.py). So what held at any moment, and why it stopped, can always be
worked out again from the rows (`Explanation.ended`).

While an explanation holds, the finding keeps its measured status and evidence: the reports show it as
"explained" beside that status (`state_on` carries the explanation with each row), and never as a pass.

Only a failing finding can be explained: a warning already meets the norm, and a pass or a measurement error
has nothing to explain. That the check exists in the catalogue is for the caller to check (storage does
not know the checks); here, the site must have a current finding of the check.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterable

from sqlalchemy import func, select

from govscan.model import Status, Text
from storage.models import ExplanationRevocationRow, ExplanationRow, FindingRow, SiteRow, explanations_holding
from storage.store import Store, as_utc

MAX_REASON = 2000  # characters
MAX_BY = 200


class ExplanationRefused(Exception):
    """Bad input to record or revoke an explanation: nothing was stored. `text` says why, in both languages."""

    def __init__(self, text: Text):
        super().__init__(text.en)
        self.text = text


def a_year_after(moment: datetime) -> datetime:
    """The same moment one year later (29 February: the 28th)."""
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:
        return moment.replace(year=moment.year + 1, day=28)


def expiry(until: date | datetime | None, now: datetime) -> datetime:
    """When an explanation recorded `now` ends. A date means through that whole day (it ends at the start of
    the next); a moment as given; none: one year on. Refused in the past or more than a year ahead."""
    latest = a_year_after(now)
    if until is None:
        return latest
    if isinstance(until, datetime):
        end = as_utc(until)
        too_far = end > latest
    else:
        end = datetime.combine(until + timedelta(days=1), time())
        too_far = until > latest.date()
    if end <= now:
        raise ExplanationRefused(Text(f"de vervaldatum {until.isoformat()} is al voorbij",
                                      f"the expiry {until.isoformat()} is in the past"))
    if too_far:
        raise ExplanationRefused(Text(f"de vervaldatum {until.isoformat()} ligt meer dan een jaar vooruit "
                                      f"(uiterlijk {latest.date().isoformat()})",
                                      f"the expiry {until.isoformat()} is more than a year ahead "
                                      f"(at most {latest.date().isoformat()})"))
    return min(end, latest)  # the last allowed day counts up to the moment a year on, not beyond


def _text(value: str, limit: int, what: Text) -> str:
    value = (value or "").strip()
    if not value:
        raise ExplanationRefused(Text(f"{what.nl} is leeg", f"{what.en} is empty"))
    if len(value) > limit:
        raise ExplanationRefused(Text(f"{what.nl} is langer dan {limit} tekens",
                                      f"{what.en} is longer than {limit} characters"))
    return value


@dataclass(frozen=True)
class Explanation:
    """One explanation as `list` shows it: what it explains and, once it no longer holds, since when and why
    (`ended_because`: "expired", "revoked" or "evidence", the finding having changed)."""

    id: int
    host: str
    check: str
    reason: str
    recorded_by: str
    recorded: datetime
    expires: datetime
    status: str
    revoked_by: str | None
    revoked: datetime | None
    evidence_changed: datetime | None

    def ended(self, at: datetime) -> tuple[datetime, str] | None:
        """When and why it stopped holding, if it did by `at`: the first of its revocation, its expiry and
        its finding's change."""
        ends = [(moment, why) for moment, why in ((self.revoked, "revoked"), (self.expires, "expired"),
                                                  (self.evidence_changed, "evidence"))
                if moment is not None and moment <= at]
        return min(ends) if ends else None


def record(store: Store, host: str, check: str, reason: str, by: str,
           until: date | datetime | None = None) -> Explanation:
    """Explain the current failing finding of `check` on the site `host`; ExplanationRefused (nothing stored)
    on an unknown site, no current finding of the check, a finding that does not fail or that an explanation
    already holds for (one at a time, so which one the reports show is never in doubt), an empty reason or
    name, or an expiry in the past or more than a year ahead."""
    reason = _text(reason, MAX_REASON, Text("de reden", "the reason"))
    by = _text(by, MAX_BY, Text("de naam (--by)", "the name (--by)"))
    now = store.now()
    expires = expiry(until, now)
    with store.session() as session:
        site = session.scalar(select(SiteRow).where(SiteRow.host == host))
        if site is None:
            raise ExplanationRefused(Text(f"{host} staat niet in de database", f"{host} is not in the database"))
        finding = session.scalar(select(FindingRow).where(FindingRow.site_id == site.id,
                                                          FindingRow.check_id == check,
                                                          FindingRow.valid_until.is_(None)))
        if finding is None:
            raise ExplanationRefused(Text(f"{host} heeft geen uitkomst van {check}",
                                          f"{host} has no result of {check}"))
        if finding.status != Status.FAIL:
            raise ExplanationRefused(Text(
                f"{check} faalt niet op {host} (uitkomst: {finding.status}); alleen wat faalt kan worden uitgelegd",
                f"{check} does not fail on {host} (result: {finding.status}); only a failure can be explained"))
        held = session.scalar(explanations_holding(now).where(ExplanationRow.finding_id == finding.id))
        if held is not None:
            raise ExplanationRefused(Text(
                f"uitleg {held} geldt al voor {check} op {host}; trek die eerst in (--revoke {held})",
                f"explanation {held} already holds for {check} on {host}; revoke it first (--revoke {held})"))
        row = ExplanationRow(site_id=site.id, check_id=check, reason=reason, recorded_by=by, recorded=now,
                             expires=expires, finding_id=finding.id, status=finding.status,
                             evidence_hash=finding.evidence_hash)
        session.add(row)
        session.flush()
        return _view(session, row.id)


def revoke(store: Store, explanation_id: int, by: str) -> Explanation:
    """Revoke an explanation from now on: a revocation row, the explanation kept as it was."""
    by = _text(by, MAX_BY, Text("de naam (--by)", "the name (--by)"))
    with store.session() as session:
        row = session.get(ExplanationRow, explanation_id)
        if row is None:
            raise ExplanationRefused(Text(f"geen uitleg {explanation_id}", f"no explanation {explanation_id}"))
        if session.scalar(select(ExplanationRevocationRow).where(
                ExplanationRevocationRow.explanation_id == explanation_id)) is not None:
            raise ExplanationRefused(Text(f"uitleg {explanation_id} is al ingetrokken",
                                          f"explanation {explanation_id} is already revoked"))
        session.add(ExplanationRevocationRow(explanation_id=explanation_id, revoked_by=by, revoked=store.now()))
        session.flush()
        return _view(session, explanation_id)


def _views(session, query) -> list[Explanation]:
    rows = session.execute(
        query.add_columns(SiteRow.host, FindingRow.valid_until, ExplanationRevocationRow.revoked_by,
                          ExplanationRevocationRow.revoked)
        .join(SiteRow, SiteRow.id == ExplanationRow.site_id)
        .join(FindingRow, FindingRow.id == ExplanationRow.finding_id)
        .outerjoin(ExplanationRevocationRow, ExplanationRevocationRow.explanation_id == ExplanationRow.id)
        .order_by(ExplanationRow.id)).all()
    return [Explanation(e.id, host, e.check_id, e.reason, e.recorded_by, e.recorded, e.expires, e.status,
                        revoked_by, revoked, changed)
            for e, host, changed, revoked_by, revoked in rows]


def _view(session, explanation_id: int) -> Explanation:
    return _views(session, select(ExplanationRow).where(ExplanationRow.id == explanation_id))[0]


def explanations(store: Store, *, ended: bool = False, at: datetime | None = None) -> list[Explanation]:
    """The explanations that hold at `at` (now by default), or with `ended` those that no longer do (each
    with `ended(at)`: since when and why), oldest first."""
    moment = as_utc(at) if at is not None else store.now()
    with store.session() as session:
        every = _views(session, select(ExplanationRow).where(ExplanationRow.recorded <= moment))
    return [e for e in every if (e.ended(moment) is not None) == ended]


def site_history(store: Store, host: str, check: str | None = None) -> list[Explanation]:
    """Every explanation ever recorded for a site (of one check, or all), holding or ended, oldest first: for
    `govscan history`."""
    query = select(ExplanationRow).where(SiteRow.host == host)
    if check:
        query = query.where(ExplanationRow.check_id == check)
    with store.session() as session:
        return _views(session, query)


def expiring(store: Store, within: timedelta = timedelta(days=30), at: datetime | None = None) -> list[Explanation]:
    """The explanations that hold at `at` (now by default) and expire within `within` of it, soonest first:
    for notices that an explanation is about to end."""
    moment = as_utc(at) if at is not None else store.now()
    return sorted((e for e in explanations(store, at=moment) if e.expires <= moment + within),
                  key=lambda e: (e.expires, e.id))


def holding_for(store: Store, finding_ids: Iterable[int], at: datetime) -> dict[int, object]:
    """finding id -> the explanation holding for that finding version at `at` (rows with `id`, `reason`,
    `recorded_by`, `recorded`, `expires`): for reports of findings other than `state_on`'s (run reports)."""
    ids = list(set(finding_ids))
    held = explanations_holding(as_utc(at)).subquery()
    found = {}
    with store.session() as session:
        for start in range(0, len(ids), 500):
            found.update((row.finding_id, row) for row in session.execute(
                select(held).where(held.c.finding_id.in_(ids[start:start + 500]))))
    return found


def spans(store: Store, start: datetime | date,
          end: datetime | date) -> dict[int, list[tuple[datetime, datetime, int]]]:
    """finding id -> the periods [from, until) in which an explanation held for that finding version, with the
    explanation's id, for
    explanations recorded by `end` that had not ended before `start`: for the trends, which take the state on
    many days in memory (storage/history.py). A period ends at the expiry or the revocation; that it also
    ends when the finding changes, the finding version's own end says."""
    begin = datetime.combine(start, time()) if not isinstance(start, datetime) else as_utc(start)
    last = as_utc(end)
    found: dict[int, list[tuple[datetime, datetime, int]]] = {}
    with store.session() as session:
        rows = session.execute(
            select(ExplanationRow.id, ExplanationRow.finding_id, ExplanationRow.recorded, ExplanationRow.expires,
                   ExplanationRevocationRow.revoked)
            .outerjoin(ExplanationRevocationRow, ExplanationRevocationRow.explanation_id == ExplanationRow.id)
            .where(ExplanationRow.recorded <= last, ExplanationRow.expires > begin))
        for explanation_id, finding_id, recorded, expires, revoked in rows:
            until = min(expires, revoked) if revoked is not None else expires
            if until > recorded and until > begin:
                found.setdefault(finding_id, []).append((recorded, until, explanation_id))
    return found



def changes(store: Store) -> tuple[int, int]:
    """How many explanations and revocations were ever recorded: rows are only added, so this changes
    exactly when one is (the web service's dashboard renders again then)."""
    with store.session() as session:
        return (session.scalar(select(func.count()).select_from(ExplanationRow)),
                session.scalar(select(func.count()).select_from(ExplanationRevocationRow)))
