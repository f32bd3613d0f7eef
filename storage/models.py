"""The tables govscan keeps (SQLAlchemy 2). The schema itself is created by the Alembic migrations in
`storage/migrations/`; these classes must match them.

History is stored as *versions*: a finding (or artifact) row holds one state of one check for one site
(or of one probe for one subject) for as long as it stays the same. A nightly run that finds the same status
and evidence only moves `last_seen`/`last_run_id` forward; a change closes the current row (`valid_until`)
and opens a new one. So an unchanged site adds no copy per night, and the state at any moment T is the rows
with `first_seen <= T < valid_until` (open rows have `valid_until` NULL): one indexed query.

Times are naive UTC.
"""
from __future__ import annotations

import json
import re
import zlib
from datetime import datetime
from typing import Any

from sqlalchemy import (JSON, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, exists,
                        func, select)
from sqlalchemy.orm import DeclarativeBase, Mapped, composite, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from govscan import model

RUN_KINDS = ("nightly", "on-demand", "batch", "reevaluation")  # reevaluation: stored facts judged again


# Scanned text is hostile: a NUL stops PostgreSQL (DataError) and control characters reach terminals. Every
# text column stores C0 and C1 control characters (tab, newline and carriage return excepted) escaped as \xNN,
# in values written and in values compared against, on SQLite and PostgreSQL alike.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def storable(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class CleanString(TypeDecorator):
    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return storable(value) if isinstance(value, str) else value


class CleanText(CleanString):
    impl = Text
    cache_ok = True


class Base(DeclarativeBase):
    pass


class OrganisationRow(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(CleanString(300))
    type: Mapped[str] = mapped_column(CleanString(40), default="other")
    code: Mapped[str] = mapped_column(CleanString(40), default="", index=True)

    __table_args__ = (UniqueConstraint("name", "type", "code", name="uq_organisation"),)

    def to_model(self) -> model.Organisation:
        return model.Organisation(self.name, self.type, self.code)


class SiteRow(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(CleanString(255), unique=True)
    url: Mapped[str] = mapped_column(CleanString(2000))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)

    organisation: Mapped[OrganisationRow | None] = relationship(lazy="joined")

    def to_model(self) -> model.Site:
        return model.Site(self.url, self.host, self.organisation.to_model() if self.organisation else None)


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(CleanString(20))  # one of RUN_KINDS
    state: Mapped[str] = mapped_column(CleanString(20), default="running", index=True)  # running, finished, interrupted
    started: Mapped[datetime] = mapped_column(DateTime)
    finished: Mapped[datetime | None] = mapped_column(DateTime)
    tool_version: Mapped[str] = mapped_column(CleanString(40))
    config_hash: Mapped[str] = mapped_column(CleanString(64))
    checks: Mapped[str] = mapped_column(CleanText, default="")  # the check patterns asked for; empty: all
    source: Mapped[str] = mapped_column(CleanText, default="")  # where the sites came from (file, "check", schedule)
    host: Mapped[str] = mapped_column(CleanString(255), default="")  # the machine and process that runs it,
    pid: Mapped[int] = mapped_column(Integer, default=0)  # so a run whose process is gone can be found
    process_start: Mapped[str] = mapped_column(CleanString(40), default="")
    sites_total: Mapped[int] = mapped_column(Integer, default=0)
    sites_done: Mapped[int] = mapped_column(Integer, default=0)
    sites_failing: Mapped[int] = mapped_column(Integer, default=0)
    sites_error: Mapped[int] = mapped_column(Integer, default=0)
    # What the runner handed every check besides the artifacts (whether this scanner had IPv6 ...), so a
    # re-evaluation judges with the same facts; NULL for runs stored before govscan kept them.
    run_facts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A re-evaluation: the run whose sites it judged again, or the moment from which every site scanned was.
    reevaluates_run_id: Mapped[int | None] = mapped_column(Integer)
    reevaluates_since: Mapped[datetime | None] = mapped_column(DateTime)


class WorkItem(Base):
    """One site of a run. `state`: queued when the run starts; running while a scanner has claimed it (until
    `deadline`, so a stuck item can be taken back); done when its results are stored; error when it could not
    be scanned at all. A distributed run (scanner/workers.py) splits a site into parts, one item each
    (`part`: "network", "browser"; empty: the whole site), claimed by a worker (`worker`: host and pid)."""

    __tablename__ = "work_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    state: Mapped[str] = mapped_column(CleanString(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    deadline: Mapped[datetime | None] = mapped_column(DateTime)
    started: Mapped[datetime | None] = mapped_column(DateTime)
    # When the site's results were stored: the moment its findings of this run were current.
    finished: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str] = mapped_column(CleanText, default="")
    part: Mapped[str] = mapped_column(CleanString(20), default="", server_default="")
    worker: Mapped[str] = mapped_column(CleanString(255), default="", server_default="")

    site: Mapped[SiteRow] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("run_id", "site_id", "part", name="uq_work_item"),
                      Index("ix_work_items_run_state", "run_id", "state"))


class FindingRow(Base):
    """One state of one check on one site, from `first_seen` until `valid_until` (NULL: still current)."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    check_id: Mapped[str] = mapped_column(CleanString(100))
    status: Mapped[str] = mapped_column(CleanString(20))
    reason: Mapped[str | None] = mapped_column(CleanString(20))
    summary_nl: Mapped[str] = mapped_column(CleanText)
    summary_en: Mapped[str] = mapped_column(CleanText)
    # Both columns as one Text, so readers choose the language with Text.get, also in a select().
    summary: Mapped[model.Text] = composite("summary_nl", "summary_en")
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    addresses: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    norm: Mapped[str] = mapped_column(CleanText)
    check_version: Mapped[int] = mapped_column(Integer)
    evidence_hash: Mapped[str] = mapped_column(CleanString(64))
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    first_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    last_seen: Mapped[datetime] = mapped_column(DateTime)
    last_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime)

    site: Mapped[SiteRow] = relationship(lazy="joined")

    __table_args__ = (
        Index("ix_findings_site_check", "site_id", "check_id", "first_seen"),
        Index("ix_findings_time", "first_seen", "valid_until"),
    )

    def to_model(self) -> model.Finding:
        """Back to the scanner's Finding, both languages kept."""
        return model.Finding(
            site=self.site.host,
            check=self.check_id,
            status=model.Status(self.status),
            summary=self.summary,
            details=self.details,
            norm=self.norm,
            check_version=self.check_version,
            reason=self.reason,
            addresses=[
                model.AddressResult(a["address"], model.Status(a["status"]),
                                    model.Text(a["summary"]["nl"], a["summary"]["en"]), a["details"], a["reason"])
                for a in self.addresses
            ],
        )


class ArtifactRow(Base):
    """One version of the raw facts of one probe for one subject (host or IP address) of a site.

    `data` is zlib-compressed JSON. Versioned like findings, but a new version is kept only when the site's
    findings changed (raw facts differ on every visit: timings, Date headers); in between, the current version
    is updated in place. Pruned by age (`Store.prune_artifacts`): they serve to re-evaluate checks."""

    __tablename__ = "artifacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    probe: Mapped[str] = mapped_column(CleanString(60))
    subject: Mapped[str] = mapped_column(CleanString(255))
    probe_version: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(CleanString(20))
    error_detail: Mapped[str] = mapped_column(CleanText, default="")
    data_hash: Mapped[str] = mapped_column(CleanString(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    first_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    last_seen: Mapped[datetime] = mapped_column(DateTime, index=True)
    last_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_artifacts_site_probe", "site_id", "probe", "subject", "first_seen"),)

    def to_model(self) -> model.Artifact:
        return model.Artifact(self.probe, self.probe_version, self.subject, unpack(self.data), self.error,
                              self.error_detail)


class ApiTokenRow(Base):
    """A batch API token (scanner/service/tokens.py). Only the SHA-256 of the secret is kept: the secret is shown
    once when created. `max_domains`: how many domains its requests may hold in any 24 hours."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(CleanString(200))
    secret_hash: Mapped[str] = mapped_column(CleanString(64), unique=True)
    created: Mapped[datetime] = mapped_column(DateTime)
    revoked: Mapped[datetime | None] = mapped_column(DateTime)
    max_domains: Mapped[int] = mapped_column(Integer)


class BatchRequestRow(Base):
    """A request to the batch API: its internet.nl-style id, who sent it and the run that scans its domains."""

    __tablename__ = "batch_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(CleanString(32), unique=True)  # 32 hex digits, as internet.nl's
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"))
    name: Mapped[str] = mapped_column(CleanString(255))
    type: Mapped[str] = mapped_column(CleanString(10))  # web or mail
    # NULL until its run is started: the request is stored first, so the token's quota is counted and
    # reserved in one transaction (two requests at once cannot both take the last of it).
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    domains: Mapped[int] = mapped_column(Integer)  # how many, for the token's quota
    submitted: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_batch_requests_token_submitted", "token_id", "submitted"),)


class ExplanationRow(Base):
    """An explanation ("pas toe of leg uit") of one site's finding of one check: why it fails, who says so,
    when, and until when (`expires`). It explains the finding version `finding_id` as it was: its `status` and
    `evidence_hash`; once the site's current finding of that check has other evidence, it no longer applies.
    Rows are never edited or deleted (the audit trail): revoking adds an ExplanationRevocationRow, and an
    explanation that expired or whose finding changed ends by comparison with the kept finding versions."""

    __tablename__ = "explanations"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    check_id: Mapped[str] = mapped_column(CleanString(100))
    reason: Mapped[str] = mapped_column(CleanText)
    recorded_by: Mapped[str] = mapped_column(CleanString(200))
    recorded: Mapped[datetime] = mapped_column(DateTime)
    expires: Mapped[datetime] = mapped_column(DateTime, index=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"))
    status: Mapped[str] = mapped_column(CleanString(20))
    evidence_hash: Mapped[str] = mapped_column(CleanString(64))

    site: Mapped[SiteRow] = relationship(lazy="joined")

    __table_args__ = (Index("ix_explanations_site_check", "site_id", "check_id"),)


class ExplanationRevocationRow(Base):
    """The revocation of an explanation: by whom and when. At most one per explanation."""

    __tablename__ = "explanation_revocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    explanation_id: Mapped[int] = mapped_column(ForeignKey("explanations.id"), unique=True)
    revoked_by: Mapped[str] = mapped_column(CleanString(200))
    revoked: Mapped[datetime] = mapped_column(DateTime)


def explanations_holding(moment: datetime):
    """The explanations that hold at a moment, the newest per finding version: recorded by then, not yet
    expired, not revoked by then. Each explains one finding version (`finding_id`), so one whose finding got
    other evidence no longer matches the version current at the moment, and ends without a write.
    Columns: `id`, `finding_id`, `reason`, `recorded_by`, `recorded`, `expires`."""
    revoked = exists().where(ExplanationRevocationRow.explanation_id == ExplanationRow.id,
                             ExplanationRevocationRow.revoked <= moment)
    newest = (select(func.max(ExplanationRow.id))
              .where(ExplanationRow.recorded <= moment, ExplanationRow.expires > moment, ~revoked)
              .group_by(ExplanationRow.finding_id))
    return select(ExplanationRow.id, ExplanationRow.finding_id, ExplanationRow.reason, ExplanationRow.recorded_by,
                  ExplanationRow.recorded, ExplanationRow.expires).where(ExplanationRow.id.in_(newest))


def pack(data: Any) -> bytes:
    """Keys in the order the probe wrote them: checks read them in that order (an MX host's addresses, the
    deciding address), so a re-evaluation of stored facts judges as the scan did."""
    return zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 6)


def unpack(blob: bytes) -> Any:
    return json.loads(zlib.decompress(blob))


class NoticeSubscriptionRow(Base):
    """Who hears of changes (storage/notices.py): an organisation (`org_code`), a site (`site_host`) and/or
    check patterns (`checks`, as for --checks), each empty for "any"; one target, an e-mail address or a
    webhook URL (with `secret`, the key of its HMAC-SHA256 signature); the digest's language. Never edited:
    removing adds a NoticeSubscriptionRemovalRow."""

    __tablename__ = "notice_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_code: Mapped[str] = mapped_column(CleanString(40))
    site_host: Mapped[str] = mapped_column(CleanString(255))
    checks: Mapped[str] = mapped_column(CleanText)
    email: Mapped[str] = mapped_column(CleanString(254))
    webhook_url: Mapped[str] = mapped_column(CleanText)
    secret: Mapped[str] = mapped_column(CleanString(64))
    lang: Mapped[str] = mapped_column(CleanString(2))
    created: Mapped[datetime] = mapped_column(DateTime)


class NoticeSubscriptionRemovalRow(Base):
    """The removal of a subscription: when. At most one per subscription."""

    __tablename__ = "notice_subscription_removals"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("notice_subscriptions.id"), unique=True)
    removed: Mapped[datetime] = mapped_column(DateTime)


class NoticeRow(Base):
    """A digest delivered to a subscriber: when, and the moment of the state it told (`state_moment`: the
    subscriber's next digest tells what changed after it)."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("notice_subscriptions.id"))
    sent: Mapped[datetime] = mapped_column(DateTime)
    state_moment: Mapped[datetime] = mapped_column(DateTime)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    items: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_notices_subscription_sent", "subscription_id", "sent"),)


class NoticeItemRow(Base):
    """One change a delivered digest told, by its key (storage/notices.py, `Change.key`): unique per
    subscription, so no change is told twice."""

    __tablename__ = "notice_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("notice_subscriptions.id"))
    key: Mapped[str] = mapped_column(CleanString(400))

    __table_args__ = (UniqueConstraint("subscription_id", "key", name="uq_notice_item"),)


class NoticeFailureRow(Base):
    """A digest that could not be delivered (the SMTP server or webhook failed): its changes stay untold and
    go with the subscriber's next digest."""

    __tablename__ = "notice_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("notice_subscriptions.id"))
    attempted: Mapped[datetime] = mapped_column(DateTime)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    items: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(CleanText)

    __table_args__ = (Index("ix_notice_failures_subscription", "subscription_id", "attempted"),)
