"""The report of one site's findings: as text for a terminal (grouped by family, each failing or warning check
with what was found, what the norm asks and how to fix it) and as JSON for machines (docs/json.md).

It works from `govscan.model.Finding`s, so it shows a fresh `govscan check` and a stored run alike; the
check's family, level, title and advice come from the catalogue the caller passes (`{check_id: CheckInfo}`),
so reports never import the checks.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Mapping

from rich.console import Console
from rich.markup import escape
from rich.text import Text as RichText

from govscan.model import CheckInfo, Finding, Status, Text

JSON_FORMAT_VERSION = 1

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
    run: dict[str, Any] = field(default_factory=dict)
    seconds: float | None = None


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


def _evidence_lines(details: dict[str, Any], limit: int = 160) -> list[str]:
    lines = []
    for key, value in details.items():
        if key in ("addresses", "traceback"):
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        lines.append(f"{key}: {text if len(text) <= limit else text[:limit - 1] + '…'}")
    return lines


def render_text(console: Console, report: SiteReport, catalogue: Catalogue, lang: str = "nl") -> None:
    """Print the report for people."""
    heading = RichText(report.url, style="bold")
    if report.run:
        heading.append(f"  ({WORDS['run'].get(lang)} {report.run.get('id')}", style="dim")
        if report.seconds is not None:
            heading.append(f", {report.seconds:.1f} {WORDS['seconds'].get(lang)}", style="dim")
        heading.append(")", style="dim")
    console.print(heading)
    addresses = report.addresses.get("ipv4", []) + report.addresses.get("ipv6", [])
    console.print(f"{WORDS['addresses'].get(lang)}: {escape(', '.join(addresses) or WORDS['none'].get(lang))}")

    for family, findings in by_family(report.findings, catalogue).items():
        counts = Counter(Status(f.status) for f in findings)
        tally = ", ".join(f"{counts[s]} {status_label(s, lang)}" for s in SHOW_ORDER if counts[s])
        console.print()
        console.rule(RichText(f"{family.upper()}  ({tally})", style="bold"), align="left")
        for finding in findings:
            _render_finding(console, finding, catalogue.get(finding.check), lang)


def _render_finding(console: Console, finding: Finding, info: CheckInfo | None, lang: str) -> None:
    status = Status(finding.status)
    title = info.title.get(lang) if info else finding.check
    level = f" [{LEVEL_LABEL[info.level].get(lang)}]" if info else ""
    line = RichText("  ")
    line.append(f"{status_label(status, lang):<13}", style=STATUS_STYLE[status])
    line.append(f"{title}", style="bold")
    line.append(f"  {finding.check}{level}", style="dim")
    console.print(line)
    attention = status in (Status.FAIL, Status.WARN)
    addresses = finding.addresses
    # Addresses that all say the same are shown as one line naming them; otherwise one line per address.
    alike = len({(a.status, a.summary.get(lang)) for a in addresses}) == 1
    if addresses and alike:
        reason = f" ({addresses[0].reason})" if addresses[0].reason else ""
        console.print(f"      {escape(addresses[0].summary.get(lang))}{reason} "
                      f"[dim]({escape(', '.join(a.address for a in addresses))})[/dim]")
    elif not addresses:
        console.print(f"      {escape(finding.summary.get(lang))}" + (f" ({finding.reason})" if finding.reason else ""))
    if attention:
        evidence = _evidence_lines(finding.details)
        if addresses and alike:
            evidence += _evidence_lines(addresses[0].details)
        if evidence:
            console.print(f"      [bold]{WORDS['found'].get(lang)}:[/bold]")
            for text in evidence:
                console.print(f"        {escape(text)}")
    if addresses and not alike:
        for address in addresses:
            addr_status = Status(address.status)
            row = RichText(f"      {address.address:<28}")
            row.append(f"{status_label(addr_status, lang):<13}", style=STATUS_STYLE[addr_status])
            row.append(address.summary.get(lang) + (f" ({address.reason})" if address.reason else ""))
            console.print(row)
            if addr_status in (Status.FAIL, Status.WARN):
                for text in _evidence_lines(address.details):
                    console.print(f"        {escape(text)}")
    if attention and info:
        console.print(f"      [bold]{WORDS['norm'].get(lang)}:[/bold] {escape(info.norm)}")
        console.print(f"      [bold]{WORDS['fix'].get(lang)}:[/bold] {escape(info.advice.get(lang))}")


def to_json(report: SiteReport, catalogue: Catalogue) -> dict[str, Any]:
    """The machine-readable report (docs/json.md): both languages, every finding with its check's metadata."""
    findings = []
    for finding in report.findings:
        info = catalogue.get(finding.check)
        item = finding.to_dict()
        item.update({
            "family": family_of(finding.check, catalogue),
            "level": info.level if info else None,
            "title": {"nl": info.title.nl, "en": info.title.en} if info else None,
            "advice": {"nl": info.advice.nl, "en": info.advice.en} if info else None,
        })
        findings.append(item)
    counts = Counter(str(f.status) for f in report.findings)
    return {
        "format": JSON_FORMAT_VERSION,
        "run": report.run,
        "site": {"url": report.url, "host": report.host,
                 "addresses": {"ipv4": report.addresses.get("ipv4", []), "ipv6": report.addresses.get("ipv6", [])}},
        "seconds": report.seconds,
        "counts": {str(s): counts.get(str(s), 0) for s in SHOW_ORDER},
        "findings": findings,
    }
