"""The data that flows through govscan: sites in, artifacts (raw facts) out of probes, findings out of checks,
a site's result to storage.

Everything here is plain data: JSON-serialisable, no I/O, and nothing else of govscan imported, so every
layer can share it (scanner collects, checks judge, storage keeps, reports show).
"""
from __future__ import annotations

import fnmatch
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Iterable


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    INFO = "info"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"


# Order used to combine per-address results into one site result: the first in this list wins.
# A fail anywhere is a fail; an address that could not be measured outweighs the ones that passed.
WORST_FIRST = (Status.FAIL, Status.ERROR, Status.WARN, Status.INFO, Status.PASS, Status.NOT_APPLICABLE)


def worst(statuses) -> Status:
    present = set(statuses)
    for status in WORST_FIRST:
        if status in present:
            return status
    return Status.NOT_APPLICABLE


class Reason(StrEnum):
    """Why something could not be measured (only on `error`)."""

    TIMEOUT = "timeout"
    DNS = "dns"
    CONNECT = "connect"
    TLS = "tls"
    HTTP = "http"
    BROWSER = "browser"
    BUG = "bug"
    NO_IPV6 = "no_ipv6"
    REFUSED_ADDRESS = "refused_address"  # an address the scanner may not connect to (scanner/addresses.py)


ORGANISATION_TYPES = ("gemeente", "provincie", "waterschap", "ministerie", "uitvoeringsorganisatie", "other")


@dataclass(frozen=True)
class Organisation:
    name: str
    type: str = "other"
    code: str = ""


@dataclass(frozen=True)
class Site:
    """One website to scan: its normalised start URL and host (punycode, lower case)."""

    url: str
    host: str
    organisation: Organisation | None = None


@dataclass
class Artifact:
    """What one probe collected for one site, or for one address of it.

    `subject` is the host for site-level probes and the IP address for per-address probes.
    On failure `data` is empty and `error` holds a Reason with `error_detail` for people.
    """

    probe: str
    version: int
    subject: str
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_detail: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Text:
    """A line meant for people, in Dutch (the default) and English."""

    nl: str
    en: str

    def get(self, lang: str | None = "nl") -> str:
        """The one way govscan chooses a language: English when `lang` is "en", Dutch for anything else
        (also an unknown or missing language)."""
        return self.en if lang == "en" else self.nl


def say(lang: str | None, nl: str, en: str) -> str:
    """`Text(nl, en).get(lang)`, for a text written where it is used."""
    return Text(nl, en).get(lang)


def utc_iso(moment: datetime | None) -> str | None:
    """A moment as every export gives it: ISO 8601 in UTC with a `Z`. The store keeps naive UTC, so a naive
    moment is taken as UTC; an aware one is converted."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat() + "Z"


@dataclass
class CheckInfo:
    """What people are told about a check: the registry's checks are built on this, and the top layer hands
    reports a catalogue `{check_id: CheckInfo}`, so reports never import checks/."""

    id: str
    version: int
    level: str  # required, recommended or informational
    family: str
    norm: str
    title: Text
    advice: Text


@dataclass
class Verdict:
    """What a check function returns: a status, a human line, and the evidence."""

    status: Status
    summary: Text
    details: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None


@dataclass
class AddressResult:
    address: str
    status: Status
    summary: Text
    details: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None


@dataclass
class Finding:
    """One check's result for one site (shared/spec/checks.md, 'Statuses')."""

    site: str
    check: str
    status: Status
    summary: Text
    details: dict[str, Any]
    norm: str
    check_version: int
    reason: str | None = None
    addresses: list[AddressResult] = field(default_factory=list)

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        def text(t: Text):
            return t.get(lang) if lang else {"nl": t.nl, "en": t.en}

        return {
            "site": self.site,
            "check": self.check,
            "status": str(self.status),
            "summary": text(self.summary),
            "details": self.details,
            "norm": self.norm,
            "check_version": self.check_version,
            "reason": self.reason,
            "addresses": [
                {
                    "address": a.address,
                    "status": str(a.status),
                    "summary": text(a.summary),
                    "details": a.details,
                    "reason": a.reason,
                }
                for a in self.addresses
            ],
        }


@dataclass
class SiteResult:
    """Everything one scan of one site produced: what the probes collected and what the checks found."""

    site: Site
    site_artifacts: dict[str, Artifact]
    address_artifacts: dict[str, dict[str, Artifact]]
    findings: list[Finding]
    seconds: float

    def artifacts(self) -> list[Artifact]:
        found = list(self.site_artifacts.values())
        for per_probe in self.address_artifacts.values():
            found.extend(per_probe.values())
        return found


def check_patterns(patterns: str | Iterable[str] | None) -> list[str]:
    """Comma-separated check ids with `*` wildcards (`web.tls.*,dns.dnssec`) as a list; empty means all."""
    if not patterns:
        return []
    if isinstance(patterns, str):
        return [p.strip() for p in patterns.split(",") if p.strip()]
    return list(patterns)


def matches(check_id: str, patterns: str | Iterable[str] | None) -> bool:
    """Whether a check id is chosen by `patterns` (see `check_patterns`)."""
    chosen = check_patterns(patterns)
    return not chosen or any(fnmatch.fnmatchcase(check_id, p) for p in chosen)
