"""Notices on change (issue 19): who subscribed to what, which changes each subscriber has not been told
yet, and what was told.

A subscription chooses sites by organisation code, host and/or check patterns, and names one target (an
e-mail address or a webhook, whose delivery is the scanner's: scanner/notify.py). After a run, `pending`
works out one subscriber's untold changes:

- **newly failing** and **fixed**: the state at the subscriber's last delivered digest (at first: when they
  subscribed) against the state now (`state_on`, the published reports' own query). A check fails now but did
  not then (pass, warn, ...), or failed then and now does not (an `error` is no verdict: failing turning into
  an error is not "fixed", and neither is it "newly failing" the other way round). A site or check with no
  result then is compared with its first result since: a site's first results are its baseline, not a
  change. A change undone before the digest (fail, pass, fail) is no change;
- **explanation expiring**: an explanation that holds for a finding in scope and ends within `within` days
  (storage/explanations.py), told once per explanation;
- **unreachable**: a site none of whose checks could be measured, or whose `web.https.available` is an error,
  in its last three runs in a row (scans; re-evaluations observe nothing), told once per streak.

Each change has a key (kind and the finding version, explanation or streak it is about), and a delivered
digest records every key it told (`record_sent`), unique per subscriber: nothing is told twice, and an
unchanged night has nothing to tell. A failed delivery records the failure (`record_failure`) and tells
nothing, so the same changes, and any new ones, go with the next digest.

Subscriptions are never edited: removing one adds a removal row. Storage does not judge addresses or send
anything; the scanner validates targets before `subscribe`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from govscan.model import Status, Text, matches
from storage.models import (FindingRow, NoticeFailureRow, NoticeItemRow, NoticeRow, NoticeSubscriptionRemovalRow,
                            NoticeSubscriptionRow, RunRow, SiteRow, WorkItem)
from storage.store import Store, as_utc, state_on

EXPIRING_DAYS = 30
UNREACHABLE_RUNS = 3
STREAK_WINDOW = 60  # a site's runs looked at for its unreachable streak
AVAILABILITY = "web.https.available"  # the check that says whether the website answers at all
MAX_ERROR = 2000  # characters of a delivery error kept


class NoticeRefused(Exception):
    """Bad input to subscribe or remove: nothing was stored. `text` says why, in both languages."""

    def __init__(self, text: Text):
        super().__init__(text.en)
        self.text = text


@dataclass(frozen=True)
class Subscription:
    id: int
    org_code: str
    site_host: str
    checks: str
    email: str
    webhook_url: str
    secret: str
    lang: str
    created: datetime
    removed: datetime | None = None
    last_sent: datetime | None = None
    last_failure: datetime | None = None
    last_error: str = ""

    @property
    def target(self) -> str:
        return self.email or self.webhook_url

    def covers(self, org_code: str, host: str, check: str | None) -> bool:
        """Whether a site's (and one of its checks') change concerns this subscriber."""
        return ((not self.org_code or org_code == self.org_code) and (not self.site_host or host == self.site_host)
                and (check is None or matches(check, self.checks or None)))


@dataclass(frozen=True)
class Change:
    """One change to tell. `kind`: failing, fixed, expiring, unreachable. `check` is empty for unreachable;
    `previous` is the status before (failing, fixed); `expires` the explanation's end (expiring); `runs` the
    streak's length (unreachable)."""

    kind: str
    key: str
    host: str
    org_code: str
    org_name: str
    check: str = ""
    status: str = ""
    previous: str = ""
    summary: Text = field(default_factory=lambda: Text("", ""))
    expires: datetime | None = None
    reason: str = ""
    runs: int = 0


KINDS = ("failing", "fixed", "expiring", "unreachable")


def subscribe(store: Store, *, org_code: str = "", site_host: str = "", checks: str = "", email: str = "",
              webhook_url: str = "", secret: str = "", lang: str = "nl") -> Subscription:
    """Store a subscription (its target already validated by the caller). NoticeRefused when it chooses
    nothing or names no single target."""
    if not (org_code or site_host or checks):
        raise NoticeRefused(Text("geef een organisatie (--org), een site (--site) of controles (--check)",
                                 "give an organisation (--org), a site (--site) or checks (--check)"))
    if bool(email) == bool(webhook_url):
        raise NoticeRefused(Text("geef één doel: --email of --webhook", "give one target: --email or --webhook"))
    if lang not in ("nl", "en"):
        raise NoticeRefused(Text(f"taal {lang!r}: nl of en", f"language {lang!r}: nl or en"))
    with store.session() as session:
        row = NoticeSubscriptionRow(org_code=org_code, site_host=site_host, checks=checks, email=email,
                                    webhook_url=webhook_url, secret=secret, lang=lang, created=store.now())
        session.add(row)
        session.flush()
        return _view(row)


def remove(store: Store, subscription_id: int) -> Subscription:
    """End a subscription (a removal row); NoticeRefused when there is none by that id in force."""
    with store.session() as session:
        row = session.get(NoticeSubscriptionRow, subscription_id)
        removed = session.scalar(select(NoticeSubscriptionRemovalRow.removed)
                                 .where(NoticeSubscriptionRemovalRow.subscription_id == subscription_id))
        if row is None or removed is not None:
            raise NoticeRefused(Text(f"geen abonnement {subscription_id}", f"no subscription {subscription_id}")
                                if row is None else
                                Text(f"abonnement {subscription_id} is al opgezegd",
                                     f"subscription {subscription_id} is already removed"))
        moment = store.now()
        session.add(NoticeSubscriptionRemovalRow(subscription_id=subscription_id, removed=moment))
        return _view(row, removed=moment)


def subscriptions(store: Store, *, removed: bool = False) -> list[Subscription]:
    """The subscriptions in force (`removed`: also the removed ones), with their last delivery and failure."""
    with store.session() as session:
        ends = dict(session.execute(select(NoticeSubscriptionRemovalRow.subscription_id,
                                           NoticeSubscriptionRemovalRow.removed)).all())
        sent = dict(session.execute(select(NoticeRow.subscription_id, func.max(NoticeRow.sent))
                                    .group_by(NoticeRow.subscription_id)).all())
        newest = (select(func.max(NoticeFailureRow.id)).group_by(NoticeFailureRow.subscription_id))
        failures = {row.subscription_id: row for row in session.scalars(
            select(NoticeFailureRow).where(NoticeFailureRow.id.in_(newest)))}
        views = []
        for row in session.scalars(select(NoticeSubscriptionRow).order_by(NoticeSubscriptionRow.id)):
            if row.id in ends and not removed:
                continue
            failure = failures.get(row.id)
            if failure is not None and sent.get(row.id) is not None and sent[row.id] > failure.attempted:
                failure = None  # delivered since
            views.append(_view(row, removed=ends.get(row.id), last_sent=sent.get(row.id),
                               last_failure=failure.attempted if failure else None,
                               last_error=failure.error if failure else ""))
        return views


def _view(row: NoticeSubscriptionRow, **more) -> Subscription:
    return Subscription(row.id, row.org_code, row.site_host, row.checks, row.email, row.webhook_url, row.secret,
                        row.lang, row.created, **more)


def _baseline(session, subscription: Subscription) -> datetime:
    """The moment of the state the subscriber was last told of: their last delivered digest's, else when they
    subscribed."""
    told = session.scalar(select(func.max(NoticeRow.state_moment))
                          .where(NoticeRow.subscription_id == subscription.id))
    return told or subscription.created


def pending(store: Store, subscription: Subscription, now: datetime, *, within_days: int = EXPIRING_DAYS,
            current=None) -> list[Change]:
    """The changes this subscriber has not been told yet, as of `now` (see the module's docstring), ordered
    by kind, organisation, host and check. `current`: the listed state at `now` when the caller has it."""
    now = as_utc(now)
    with store.session() as session:
        rows = current if current is not None else state_on(session, now, listed_only=True)
        rows = [row for row in rows if subscription.covers(row.org_code, row.host, row.check)]
        since = _baseline(session, subscription)
        before = {(row.host, row.check): row.status for row in state_on(session, since, listed_only=True)
                  if subscription.covers(row.org_code, row.host, row.check)}
        before.update(_first_results(session, since, {(row.host, row.check) for row in rows} - set(before)))
        told = set(session.scalars(select(NoticeItemRow.key)
                                   .where(NoticeItemRow.subscription_id == subscription.id)))
        changes: list[Change] = []
        for row in rows:
            common = dict(host=row.host, org_code=row.org_code, org_name=row.org_name, check=row.check,
                          status=row.status, summary=row.summary)
            then = before.get((row.host, row.check))
            if then is not None:
                failing_now, failing_then = row.status == Status.FAIL, then == Status.FAIL
                if failing_now and not failing_then and then != Status.ERROR:
                    changes.append(Change("failing", f"failing:{row.finding_id}", previous=then, **common))
                elif failing_then and not failing_now and row.status != Status.ERROR:
                    changes.append(Change("fixed", f"fixed:{row.finding_id}", previous=then, **common))
            expires = getattr(row, "explanation_expires", None)
            if expires is not None and expires <= now + timedelta(days=within_days):
                changes.append(Change("expiring", f"expiring:{row.explanation_id}", expires=expires,
                                      reason=row.explanation, **common))
        changes += _unreachable(session, subscription, rows, told)
    fresh = [change for change in changes if change.key not in told]
    return sorted(fresh, key=lambda c: (KINDS.index(c.kind), c.org_name, c.host, c.check))


def _first_results(session, since: datetime, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The status of the first result after `since` of each (host, check) that had none then: its baseline."""
    if not wanted:
        return {}
    hosts = sorted({host for host, _ in wanted})
    first: dict[tuple[str, str], str] = {}
    for start in range(0, len(hosts), 500):
        for host, check, status in session.execute(
                select(SiteRow.host, FindingRow.check_id, FindingRow.status)
                .join(SiteRow, SiteRow.id == FindingRow.site_id)
                .where(SiteRow.host.in_(hosts[start:start + 500]), FindingRow.first_seen > since)
                .order_by(FindingRow.first_seen.desc())):
            if (host, check) in wanted:
                first[host, check] = status  # the earliest one is written last
    return first


def _unreachable_in(statuses: dict[str, str]) -> bool:
    return bool(statuses) and (all(s == Status.ERROR for s in statuses.values())
                               or statuses.get(AVAILABILITY) == Status.ERROR)


def _unreachable(session, subscription: Subscription, rows, told: set[str]) -> list[Change]:
    """Sites in scope unreachable in their last UNREACHABLE_RUNS runs in a row: one change per streak, keyed
    by the streak's first run. A streak longer than the window looked at is told once: when a change about
    the site's being unreachable was told before, it is that one."""
    by_host: dict[str, dict[str, str]] = {}
    first: dict[str, object] = {}
    for row in rows:
        by_host.setdefault(row.host, {})[row.check] = row.status
        first.setdefault(row.host, row)
    changes = []
    for host, statuses in by_host.items():
        if not _unreachable_in(statuses):
            continue
        site_id = session.scalar(select(SiteRow.id).where(SiteRow.host == host))
        items = session.execute(
            select(WorkItem.run_id, WorkItem.finished, RunRow.checks)
            .join(RunRow, RunRow.id == WorkItem.run_id)
            .where(WorkItem.site_id == site_id, WorkItem.state == "done", RunRow.kind != "reevaluation")
            .order_by(WorkItem.finished.desc()).limit(STREAK_WINDOW)).all()
        if len(items) < UNREACHABLE_RUNS:
            continue
        oldest = items[-1].finished
        versions = session.execute(
            select(FindingRow.check_id, FindingRow.status, FindingRow.first_seen, FindingRow.valid_until)
            .where(FindingRow.site_id == site_id,
                   (FindingRow.valid_until.is_(None)) | (FindingRow.valid_until > oldest))).all()
        streak = []
        for item in items:
            then = {v.check_id: v.status for v in versions
                    if v.first_seen <= item.finished and (v.valid_until is None or v.valid_until > item.finished)
                    and matches(v.check_id, item.checks or None)}
            if not _unreachable_in(then):
                break
            streak.append(item.run_id)
        if len(streak) < UNREACHABLE_RUNS:
            continue
        prefix = f"unreachable:{host}:"
        if len(streak) == len(items) and any(key.startswith(prefix) for key in told):
            continue
        row = first[host]
        changes.append(Change("unreachable", f"{prefix}{streak[-1]}", host=host, org_code=row.org_code,
                              org_name=row.org_name, runs=len(streak)))
    return changes


def record_sent(store: Store, subscription: Subscription, state_moment: datetime, changes: list[Change],
                run_id: int | None = None) -> None:
    """A delivered digest and the changes it told (their keys, so none is told again)."""
    with store.session() as session:
        notice = NoticeRow(subscription_id=subscription.id, sent=store.now(), state_moment=as_utc(state_moment),
                           run_id=run_id, items=len(changes))
        session.add(notice)
        session.flush()
        for key in sorted({change.key for change in changes}):
            session.add(NoticeItemRow(notice_id=notice.id, subscription_id=subscription.id, key=key))


def record_failure(store: Store, subscription: Subscription, changes: list[Change], error: str,
                   run_id: int | None = None) -> None:
    """A digest that could not be delivered: its changes stay untold, for the next digest."""
    with store.session() as session:
        session.add(NoticeFailureRow(subscription_id=subscription.id, attempted=store.now(), run_id=run_id,
                                     items=len(changes), error=error[:MAX_ERROR]))
