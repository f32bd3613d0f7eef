"""The status history of every site over a period, in one query, for reports that need the state on many
days (trends, an organisation's history).

Asking `state_on` once per day reads every finding with its evidence each time; the versions that overlap
the period, with only their status, are far fewer (findings are stored only when they change) and let a
report take the state on any day in memory (`reports.trends.state_from`).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, or_, select

from storage.models import FindingRow, OrganisationRow, SiteRow
from storage.store import Store, as_utc, listed_sites


def status_versions(store: Store, start: datetime | date, end: datetime | date, *,
                    listed_only: bool = False) -> list:
    """Every finding version current at some moment from the start of `start` to `end` (a date: the end of
    that day). Rows have `host`, `check`, `status`, `check_version`, `org_code`, `org_name`, `org_type`,
    `first_seen`, `valid_until` (None while current) and `finding_id` (the version's id, which explanations
name: storage/explanations.py `spans`). `listed_only`: the sites of `listed_sites`."""
    begin = datetime.combine(start, datetime.min.time()) if not isinstance(start, datetime) else start
    query = (
        select(SiteRow.host, FindingRow.check_id.label("check"), FindingRow.status, FindingRow.check_version,
               func.coalesce(OrganisationRow.code, "").label("org_code"),
               func.coalesce(OrganisationRow.name, "").label("org_name"),
               func.coalesce(OrganisationRow.type, "").label("org_type"),
               FindingRow.first_seen, FindingRow.valid_until, FindingRow.id.label("finding_id"))
        .join(SiteRow, FindingRow.site_id == SiteRow.id)
        .outerjoin(OrganisationRow, SiteRow.organisation_id == OrganisationRow.id)
        .where(FindingRow.first_seen <= as_utc(end),
               or_(FindingRow.valid_until.is_(None), FindingRow.valid_until > as_utc(begin)))
        .order_by(SiteRow.host, FindingRow.check_id, FindingRow.first_seen)
    )
    if listed_only:
        query = query.where(SiteRow.id.in_(listed_sites()))
    with store.session() as session:
        return session.execute(query).all()
