"""The report of one site's findings and the summary of a scan, with what their renderings share: for a
terminal in reports/console.py, as JSON in reports/json_report.py (docs/json.md) and as the web service's HTML
report in reports/check_report.py.

What to fix first is decided here once, so the three renderings show the same order and summary: the summary
(how many required checks fail, warn or could not be measured, and the totals per status), then the parts of
`fix_first`, each grouped by family:

1. fix: the required checks that fail; a site complies with a standard only when these pass;
2. warnings: the required checks that warn, and the recommended or informational checks that fail or warn
   (a missed recommendation is shown as a warning: shared/spec/checks.md, "Levels");
3. not measured: the checks that could not be measured (an error is never a fail, but it hides a verdict);
4. the rest: what passes, informs or does not apply, shown compactly or collapsed.

It works from `govscan.model.Finding`s, so it shows a fresh `govscan check` and a stored run alike; the
check's family, level, title and advice come from the catalogue the caller passes (`{check_id: CheckInfo}`),
so reports never import the checks.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Iterable, Mapping

from govscan.model import CheckInfo, Finding, SiteResult, Status, Text, say

STATUS_LABEL = {
    Status.PASS: Text("voldoet", "pass"),
    Status.WARN: Text("waarschuwing", "warn"),
    Status.FAIL: Text("voldoet niet", "fail"),
    Status.INFO: Text("info", "info"),
    Status.NOT_APPLICABLE: Text("n.v.t.", "n/a"),
    Status.ERROR: Text("niet gemeten", "error"),
}
STATUS_STYLE = {
    Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "bold red", Status.INFO: "cyan",
    Status.NOT_APPLICABLE: "dim", Status.ERROR: "magenta",
}
# Order of the checks inside a family: what needs attention first.
SHOW_ORDER = (Status.FAIL, Status.ERROR, Status.WARN, Status.INFO, Status.PASS, Status.NOT_APPLICABLE)
LEVEL_LABEL = {
    "required": Text("verplicht", "required"),
    "recommended": Text("aanbevolen", "recommended"),
    "informational": Text("informatief", "informational"),
}
# The families of checks by name, for people; a family not named here is shown by its id.
FAMILY_LABEL = {
    "accessibility": Text("Toegankelijkheid", "Accessibility"),
    "dns": Text("DNS", "DNS"),
    "domain": Text("Domein", "Domain"),
    "headers": Text("Beveiligingsheaders", "Security headers"),
    "https": Text("HTTPS", "HTTPS"),
    "ipv6": Text("IPv6", "IPv6"),
    "mail": Text("E-mail", "Mail"),
    "privacy": Text("Privacy en cookies", "Privacy and cookies"),
    "rpki": Text("RPKI", "RPKI"),
    "security_txt": Text("security.txt", "security.txt"),
    "tls": Text("TLS", "TLS"),
}
WORDS = {
    "found": Text("Gevonden", "Found"),
    "norm": Text("Norm", "Norm"),
    "fix": Text("Oplossing", "How to fix"),
    "addresses": Text("Adressen", "Addresses"),
    "none": Text("geen", "none"),
    "run": Text("run", "run"),
    "seconds": Text("s", "s"),
}


@dataclass
class SiteReport:
    """Everything shown about one site."""

    url: str
    host: str
    findings: list[Finding]
    addresses: dict[str, list[str]] = field(default_factory=dict)  # {"ipv4": [...], "ipv6": [...]}
    run_id: int | None = None
    seconds: float | None = None

    @classmethod
    def of(cls, result: SiteResult, run_id: int | None = None) -> SiteReport:
        """The report of a fresh scan, with the addresses its DNS probe found."""
        dns = result.site_artifacts.get("dns")
        addresses = {"ipv4": dns.data.get("ipv4", []), "ipv6": dns.data.get("ipv6", [])} if dns and dns.ok else {}
        return cls(result.site.url, result.site.host, result.findings, addresses, run_id, result.seconds)


@dataclass
class ScanSummary:
    """What a scan found, for the terminal and JSON alike: per check how many sites got each status, and how
    many sites failed a check or had something that could not be measured."""

    run_id: int
    sites: int
    failing: int
    errors: int
    seconds: float
    per_check: dict[str, Counter]

    @classmethod
    def of(cls, run_id: int, results: list[SiteResult], seconds: float) -> ScanSummary:
        return cls.counted(run_id, [[(f.check, f.status) for f in r.findings] for r in results], seconds)

    @classmethod
    def counted(cls, run_id: int, sites: Iterable[list[tuple[str, str]]], seconds: float) -> ScanSummary:
        """From each site's (check id, status) pairs, all a summary needs: a stored run's summary then reads
        no evidence (Store.statuses_for_run)."""
        per_check: dict[str, Counter] = {}
        count = failing = errors = 0
        for statuses in sites:
            for check, status in statuses:
                per_check.setdefault(check, Counter())[Status(status)] += 1
            found = {status for _, status in statuses}
            count += 1
            failing += Status.FAIL in found
            errors += Status.ERROR in found
        return cls(run_id, count, failing, errors, seconds, per_check)


Catalogue = Mapping[str, CheckInfo]


def family_of(check_id: str, catalogue: Catalogue) -> str:
    """The check's family; for a check no longer registered, guessed from its id."""
    found = catalogue.get(check_id)
    return found.family if found else check_id.split(".")[1 if check_id.startswith("web.") else 0]


def family_label(family: str, lang: str) -> str:
    return FAMILY_LABEL.get(family, Text(family, family)).get(lang)


def level_label(check_id: str, catalogue: Catalogue, lang: str) -> str:
    found = catalogue.get(check_id)
    return LEVEL_LABEL[found.level].get(lang) if found else ""


def status_label(status: str, lang: str) -> str:
    return STATUS_LABEL[Status(status)].get(lang)


def status_class(status: str) -> str:
    """The HTML class that colours a status (reports/static/govscan.css); the status is always written too."""
    return f"status-{status if status in ('pass', 'warn', 'fail', 'error') else 'other'}"


def by_family(findings: list[Finding], catalogue: Catalogue) -> dict[str, list[Finding]]:
    """Findings grouped by family, in the order the families first appear; inside, failing checks first."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(family_of(finding.check, catalogue), []).append(finding)
    for group in groups.values():
        group.sort(key=lambda f: (SHOW_ORDER.index(Status(f.status)), f.check))
    return groups


def level_of(check_id: str, catalogue: Catalogue) -> str | None:
    found = catalogue.get(check_id)
    return found.level if found else None


def evidence_lines(details: dict[str, Any], limit: int = 160) -> list[str]:
    """A finding's evidence as `key: value` lines for people, each cut at `limit` characters; the addresses
    (shown per address) and a traceback (for developers, in the JSON) are left out."""
    lines = []
    for key, value in details.items():
        if key in ("addresses", "traceback"):
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        lines.append(f"{key}: {text if len(text) <= limit else text[:limit - 1] + '…'}")
    return lines


# --- what to fix first ---

class Part(StrEnum):
    FIX = "fix"
    WARN = "warn"
    ERROR = "error"
    REST = "rest"


PART_TITLE = {
    Part.FIX: Text("Eerst oplossen: verplichte controles die niet voldoen",
                   "Fix first: required checks that fail"),
    Part.WARN: Text("Waarschuwingen", "Warnings"),
    Part.ERROR: Text("Niet gemeten", "Not measured"),
    Part.REST: Text("De rest", "The rest"),
}


def part_of(finding: Finding, catalogue: Catalogue) -> Part:
    status = Status(finding.status)
    if status == Status.FAIL and level_of(finding.check, catalogue) == "required":
        return Part.FIX
    if status in (Status.FAIL, Status.WARN):
        return Part.WARN
    if status == Status.ERROR:
        return Part.ERROR
    return Part.REST


@dataclass
class Section:
    """One part of the report with its findings grouped by family (see `by_family`)."""

    part: Part
    families: dict[str, list[Finding]]

    @property
    def title(self) -> Text:
        return PART_TITLE[self.part]

    def findings(self) -> list[Finding]:
        return [f for group in self.families.values() for f in group]


def fix_first(report: SiteReport, catalogue: Catalogue) -> list[Section]:
    """The report's parts that hold findings, in the order to read them (the module docstring)."""
    parts: dict[Part, list[Finding]] = {part: [] for part in Part}
    for finding in report.findings:
        parts[part_of(finding, catalogue)].append(finding)
    return [Section(part, by_family(findings, catalogue)) for part, findings in parts.items() if findings]


@dataclass
class Summary:
    """The line a report opens with: the required checks that fail, warn and could not be measured, and how
    many checks got each status."""

    required: Counter  # {Status.FAIL: n, Status.WARN: n, Status.ERROR: n} over the required checks
    totals: Counter  # {Status: n} over all checks

    @classmethod
    def of(cls, report: SiteReport, catalogue: Catalogue) -> Summary:
        statuses = [Status(f.status) for f in report.findings]
        required = [Status(f.status) for f in report.findings if level_of(f.check, catalogue) == "required"]
        return cls(Counter(required), Counter(statuses))

    def text(self) -> Text:
        return Text(self._line("nl"), self._line("en"))

    def _line(self, lang: str) -> str:
        fail, warn, error = (self.required[s] for s in (Status.FAIL, Status.WARN, Status.ERROR))
        checks = sum(self.totals.values())
        totals = ", ".join(f"{self.totals[s]} {status_label(s, lang)}" for s in SHOW_ORDER if self.totals[s])
        return say(lang, f"Verplichte controles die niet voldoen: {fail}; met een waarschuwing: {warn}; "
                         f"niet gemeten: {error}. Alle {checks} controles: {totals or 'geen'}",
                         f"Required checks failing: {fail}; warning: {warn}; not measured: {error}. "
                         f"All {checks} checks: {totals or 'none'}")
