"""The report of one site's findings and the summary of a scan, with what their renderings share: for a
terminal in reports/console.py (grouped by family, each failing or warning check with what was found, what the
norm asks and how to fix it) and as JSON in reports/json_report.py (docs/json.md).

It works from `govscan.model.Finding`s, so it shows a fresh `govscan check` and a stored run alike; the
check's family, level, title and advice come from the catalogue the caller passes (`{check_id: CheckInfo}`),
so reports never import the checks.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping

from govscan.model import CheckInfo, Finding, SiteResult, Status, Text

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
        per_check: dict[str, Counter] = {}
        for result in results:
            for finding in result.findings:
                per_check.setdefault(finding.check, Counter())[Status(finding.status)] += 1

        def sites_with(status: Status) -> int:
            return sum(any(f.status == status for f in r.findings) for r in results)

        return cls(run_id, len(results), sites_with(Status.FAIL), sites_with(Status.ERROR), seconds, per_check)


Catalogue = Mapping[str, CheckInfo]


def family_of(check_id: str, catalogue: Catalogue) -> str:
    """The check's family; for a check no longer registered, guessed from its id."""
    found = catalogue.get(check_id)
    return found.family if found else check_id.split(".")[1 if check_id.startswith("web.") else 0]


def level_label(check_id: str, catalogue: Catalogue, lang: str) -> str:
    found = catalogue.get(check_id)
    return LEVEL_LABEL[found.level].get(lang) if found else ""


def status_label(status: str, lang: str) -> str:
    return STATUS_LABEL[Status(status)].get(lang)


def by_family(findings: list[Finding], catalogue: Catalogue) -> dict[str, list[Finding]]:
    """Findings grouped by family, in the order the families first appear; inside, failing checks first."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(family_of(finding.check, catalogue), []).append(finding)
    for group in groups.values():
        group.sort(key=lambda f: (SHOW_ORDER.index(Status(f.status)), f.check))
    return groups
