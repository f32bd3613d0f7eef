"""`govscan lab verify`: scan every site of the scenario in the running lab and compare each finding with
the status the scenario declares for it. The agreement is the project's accuracy figure.

Expectations for check ids that no module registers yet are listed as `not implemented` and counted apart.
`expect_without_ipv6` is verified by the same command run again inside the lab's client namespace without
IPv6 (`--without-ipv6`), whose JSON result is merged into this one.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from checks.registry import all_checks, select
from govscan.model import matches
from scanner import config
from govscan.model import Organisation, Site
from scanner.runner import Runner
from lab import commands
from lab.scenario import Scenario, load


@dataclass
class Comparison:
    site: str
    check: str
    expected: str
    got: str = ""
    summary: str = ""
    without_ipv6: bool = False

    @property
    def met(self) -> bool:
        return self.expected == self.got


@dataclass
class Outcome:
    compared: list[Comparison] = field(default_factory=list)
    not_implemented: list[Comparison] = field(default_factory=list)

    @property
    def mismatches(self) -> list[Comparison]:
        return [c for c in self.compared if not c.met]

    @property
    def agreement(self) -> str:
        met = len(self.compared) - len(self.mismatches)
        return f"agreement: {met}/{len(self.compared)} expectations met, {len(self.mismatches)} mismatches"

    def merge(self, other: "Outcome") -> None:
        self.compared += other.compared
        self.not_implemented += other.not_implemented

    def to_json(self) -> dict:
        return {"declared": len(self.compared), "met": len(self.compared) - len(self.mismatches),
                "mismatches": [asdict(c) for c in self.mismatches],
                "not_implemented": [asdict(c) for c in self.not_implemented],
                "compared": [asdict(c) for c in self.compared], "agreement": self.agreement}

    @classmethod
    def from_json(cls, data: dict) -> "Outcome":
        return cls([Comparison(**c) for c in data["compared"]],
                   [Comparison(**c) for c in data["not_implemented"]])


def _expectations(scenario: Scenario, patterns: str | None, without_ipv6: bool) -> dict[str, dict[str, str]]:
    key = "expect_without_ipv6" if without_ipv6 else "expect"
    found = {}
    for site in scenario.sites:
        chosen = {check: status for check, status in site[key].items() if matches(check, patterns)}
        if chosen:
            found[site["host"]] = chosen
    return found


def _site(scenario: Scenario, host: str) -> Site:
    site = scenario.site(host)
    org = scenario.organisations.get(site["organisation"])
    organisation = Organisation(org["name"], org["type"], org["code"]) if org else None
    return Site(url=f"https://{host}/", host=host, organisation=organisation)


def compare(scenario: Scenario, patterns: str | None = None, without_ipv6: bool = False, lang: str = "nl",
            on_progress=None) -> Outcome:
    """Scan the sites that declare expectations (with only the checks they name) and compare."""
    expected = _expectations(scenario, patterns, without_ipv6)
    registered = all_checks()
    wanted = {check for per_site in expected.values() for check in per_site if check in registered}
    results = []
    if wanted:
        settings = config.load(lab=True)
        checks = [c for c in select(patterns) if c.id in wanted]
        sites = [_site(scenario, host) for host, per_site in expected.items() if set(per_site) & wanted]
        results = asyncio.run(Runner(settings, checks, on_progress=on_progress).run(sites))
    return compare_results(scenario, results, patterns, without_ipv6, lang)


def compare_results(scenario: Scenario, results, patterns: str | None = None, without_ipv6: bool = False,
                    lang: str = "nl") -> Outcome:
    """Compare scan results (runner SiteResults) with the scenario's expectations for the checks matching
    `patterns`; every such expectation must have been scanned."""
    expected = _expectations(scenario, patterns, without_ipv6)
    registered = all_checks()
    findings = {(r.site.host, f.check): f for r in results for f in r.findings}
    outcome = Outcome()
    for host, per_site in expected.items():
        for check, status in sorted(per_site.items()):
            comparison = Comparison(host, check, status, without_ipv6=without_ipv6)
            if check not in registered:
                comparison.got = "not implemented"
                outcome.not_implemented.append(comparison)
                continue
            finding = findings[(host, check)]
            comparison.got = str(finding.status)
            if "(" in status:  # an error expected with its reason
                comparison.got += f" ({finding.reason})"
            comparison.summary = finding.summary.get(lang)
            outcome.compared.append(comparison)
    return outcome


def compare_without_ipv6(scenario: Scenario, patterns: str | None, status: dict) -> Outcome:
    """Run `lab verify --without-ipv6 --json` inside the client namespace that has no IPv6."""
    if not _expectations(scenario, patterns, without_ipv6=True):
        return Outcome()
    argv = [*status["nov6_exec"], sys.executable, "-m", "scanner.cli", "lab", "verify", "--without-ipv6",
            "--json", "--scenario", str(scenario.path)]
    if patterns:
        argv += ["--checks", patterns]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    try:
        return Outcome.from_json(json.loads(done.stdout))
    except (ValueError, KeyError):
        raise commands.LabError(f"the scan without IPv6 failed ({done.returncode}):\n{done.stderr[-3000:]}") from None


def run(scenario_path: str | None, patterns: str | None, without_ipv6: bool = False, lang: str = "nl",
        on_progress=None) -> Outcome:
    """Compare the running lab with its scenario (or the given one, which must be the one running).
    `on_progress` gets the runner's progress after every site."""
    status = commands.status()
    if not status["running"]:
        raise commands.LabError("the lab is not running (start it with 'govscan lab up')")
    scenario = load(scenario_path or status["scenario"])
    if Path(status["scenario"]).resolve() != scenario.path:
        raise commands.LabError(f"the lab runs {status['scenario']}, not {scenario.path} "
                                f"(start it with 'govscan lab up --scenario {scenario.path}')")
    outcome = compare(scenario, patterns, without_ipv6, lang, on_progress)
    if not without_ipv6:
        outcome.merge(compare_without_ipv6(scenario, patterns, status))
    return outcome


def render(outcome: Outcome, console) -> None:
    """The mismatches and the not-implemented expectations as tables, then the agreement line."""
    from rich.table import Table

    from reports.console import safe

    def table(title: str, rows: list[Comparison]) -> Table:
        result = Table(title=title, title_justify="left")
        for heading in ("site", "check", "expected", "got", "summary"):
            result.add_column(heading, overflow="fold")
        for c in rows:  # summaries hold what the lab's sites sent
            result.add_row(*map(safe, (c.site + (" (no IPv6)" if c.without_ipv6 else ""), c.check, c.expected,
                                       c.got, c.summary)))
        return result

    if outcome.mismatches:
        console.print(table(f"{len(outcome.mismatches)} mismatches", outcome.mismatches))
    if outcome.not_implemented:
        console.print(table(f"{len(outcome.not_implemented)} expectations not implemented (no such check yet)",
                            outcome.not_implemented))
        console.print(f"not implemented: {len(outcome.not_implemented)} expectations")
    console.print(outcome.agreement, markup=False, highlight=False)
