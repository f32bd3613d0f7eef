"""Everything govscan shows in a terminal: the report of one site (`check`), the progress and summary of a
`scan`, what a re-evaluation changed, the list of runs, a site's history and the settings in force, and the
JSON of `--format json`. The
command line only gathers the data and calls these.

Scanned data holds whatever a web server or DNS answer chose to send, so every string that is not our own
goes through `safe`: rich markup is escaped and control characters (ANSI escape sequences included) are shown
as `\\xNN`, so a hostile summary can neither restyle nor move nor retitle the terminal.
"""
from __future__ import annotations

import json
import re
import sys
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Iterator

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from govscan.model import CheckInfo, Finding, Status, say
from reports.reevaluation import COLOUR_NAMES, FACTS_ASSUMED, FACTS_DERIVED, Reevaluation
from reports.site_report import (LEVEL_LABEL, SHOW_ORDER, STATUS_STYLE, WORDS, Catalogue, Part, ScanSummary,
                                 SiteReport, Summary, evidence_lines, family_label, fix_first,
                                 status_label)

if TYPE_CHECKING:  # the command line starts without loading SQLAlchemy
    from storage.models import FindingRow, RunRow

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def safe(value: object) -> str:
    """A value as rich markup that prints as itself, on one line and without control characters."""
    return escape(CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value)))


def print_json(data: Any) -> None:
    """Machine output (`--format json`) on standard output, not through rich (it would wrap lines). JSON
    escapes C0 control characters but leaves C1 ones raw; they are escaped too, so a terminal obeys none."""
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    print(re.sub(r"[\x7f-\x9f]", lambda m: f"\\u{ord(m.group()):04x}", text))


def console(stderr: bool = False) -> Console:
    """A console for people: no emoji codes (':warning:' in a summary stays text) and no highlighting;
    piped output (a log, a file) gets wide lines instead of the 80 columns rich assumes."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, highlight=False, emoji=False, width=None if stream.isatty() else 160)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-:--"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _table(title: str, headings: list[str]) -> Table:
    table = Table(title=safe(title), title_justify="left")
    for heading in headings:
        table.add_column(heading)
    return table


# --- one site (`govscan check`) ---

def site_report(out: Console, report: SiteReport, catalogue: Catalogue, lang: str) -> None:
    """The site's summary line, then what to fix first (`site_report.fix_first`), each part grouped by
    family: the failing required checks, the warnings and what could not be measured in full (what was found,
    per address, the norm and how to fix it), then the rest one line per check."""
    heading = f"[bold]{safe(report.url)}[/bold]"
    if report.run_id is not None:
        took = f", {report.seconds:.1f} {WORDS['seconds'].get(lang)}" if report.seconds is not None else ""
        heading += f"[dim]  ({WORDS['run'].get(lang)} {report.run_id}{took})[/dim]"
    out.print(heading)
    addresses = report.addresses.get("ipv4", []) + report.addresses.get("ipv6", [])
    out.print(f"{WORDS['addresses'].get(lang)}: {safe(', '.join(addresses) or WORDS['none'].get(lang))}")
    out.print(f"[bold]{safe(Summary.of(report, catalogue).text().get(lang))}[/bold]")

    for section in fix_first(report, catalogue):
        out.print()
        out.rule(f"[bold]{safe(section.title.get(lang))}  ({len(section.findings())})[/bold]", align="left")
        for family, findings in section.families.items():
            counts = Counter(Status(f.status) for f in findings)
            tally = ", ".join(f"{counts[s]} {status_label(s, lang)}" for s in SHOW_ORDER if counts[s])
            out.print(f"[bold]{safe(family_label(family, lang).upper())}[/bold]  ({tally})")
            for finding in findings:
                info = catalogue.get(finding.check)
                if section.part == Part.REST:
                    _compact(out, finding, info, lang)
                else:
                    _finding(out, finding, info, lang)


def _compact(out: Console, finding: Finding, info: CheckInfo | None, lang: str) -> None:
    """One line: status, title, check id and summary."""
    title = info.title.get(lang) if info else finding.check
    out.print(f"  {_status(Status(finding.status), lang)}{safe(title)}[dim]  {safe(finding.check)}[/dim]  "
              f"{safe(finding.summary.get(lang))}")


def _status(status: Status, lang: str) -> str:
    return f"[{STATUS_STYLE[status]}]{status_label(status, lang):<13}[/]"


def _reason(reason: str | None) -> str:
    return f" ({safe(reason)})" if reason else ""


def _finding(out: Console, finding: Finding, info: CheckInfo | None, lang: str) -> None:
    status = Status(finding.status)
    title = info.title.get(lang) if info else finding.check
    level = f" [{LEVEL_LABEL[info.level].get(lang)}]" if info else ""
    out.print(f"  {_status(status, lang)}[bold]{safe(title)}[/bold][dim]  {safe(finding.check + level)}[/dim]")
    attention = status in (Status.FAIL, Status.WARN)
    addresses = finding.addresses
    # Addresses that all say the same are shown as one line naming them; otherwise one line per address.
    alike = len({(a.status, a.summary.get(lang)) for a in addresses}) == 1
    if addresses and alike:
        out.print(f"      {safe(addresses[0].summary.get(lang))}{_reason(addresses[0].reason)} "
                  f"[dim]({safe(', '.join(a.address for a in addresses))})[/dim]")
    elif not addresses:
        out.print(f"      {safe(finding.summary.get(lang))}{_reason(finding.reason)}")
    if attention:
        evidence = evidence_lines(finding.details)
        if addresses and alike:
            evidence += evidence_lines(addresses[0].details)
        if evidence:
            out.print(f"      [bold]{WORDS['found'].get(lang)}:[/bold]")
            for text in evidence:
                out.print(f"        {safe(text)}")
    if addresses and not alike:
        for address in addresses:
            address_status = Status(address.status)
            out.print(f"      {safe(f'{address.address:<28}')}{_status(address_status, lang)}"
                      f"{safe(address.summary.get(lang))}{_reason(address.reason)}")
            if address_status in (Status.FAIL, Status.WARN):
                for text in evidence_lines(address.details):
                    out.print(f"        {safe(text)}")
    if attention and info:
        out.print(f"      [bold]{WORDS['norm'].get(lang)}:[/bold] {safe(info.norm)}")
        out.print(f"      [bold]{WORDS['fix'].get(lang)}:[/bold] {safe(info.advice.get(lang))}")


# --- a scan ---

@contextmanager
def scan_progress(err: Console, total: int, lang: str) -> Iterator[Callable]:
    """A progress bar for a scan of `total` sites; yields the runner's `on_progress` callback."""
    columns = (
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("[red]{task.fields[failing]} " + say(lang, "met fout", "failing")),
        TextColumn("[magenta]{task.fields[errors]} " + say(lang, "niet gemeten", "errors")),
        TextColumn("{task.fields[rate]:.1f}/min"),
        TextColumn(say(lang, "nog", "left") + " {task.fields[left]}"),
    )
    with Progress(*columns, console=err, transient=False) as bar:
        task = bar.add_task(say(lang, "scannen", "scanning"), total=total, failing=0, errors=0, rate=0.0,
                            left="-:--")

        def on_progress(progress) -> None:
            bar.update(task, completed=progress.done, failing=progress.failing, errors=progress.errors,
                       rate=progress.rate_per_minute, left=duration(progress.seconds_left))

        yield on_progress


def scan_summary(out: Console, summary: ScanSummary, stored_in: str, lang: str) -> None:
    """Per check how many sites got each status, then the sites failing and those with errors."""
    title = say(lang, f"Run {summary.run_id}: {summary.sites} sites in {summary.seconds:.1f} s",
                      f"Run {summary.run_id}: {summary.sites} sites in {summary.seconds:.1f} s")
    table = _table(title, [say(lang, "controle", "check")])
    for status in SHOW_ORDER:
        table.add_column(status_label(status, lang), justify="right", style=STATUS_STYLE[status])
    for check_id, counts in sorted(summary.per_check.items()):
        table.add_row(safe(check_id), *(str(counts[s]) for s in SHOW_ORDER))
    out.print(table)
    out.print(say(lang, f"{summary.failing} site(s) voldoen niet aan een of meer controles; "
                        f"bij {summary.errors} kon iets niet gemeten worden.",
                        f"{summary.failing} site(s) fail one or more checks; "
                        f"{summary.errors} had something that could not be measured."))
    out.print(say(lang, f"Opgeslagen in {safe(stored_in)}", f"Stored in {safe(stored_in)}"))


# --- a re-evaluation ---

def reevaluation(out: Console, result: Reevaluation, lang: str) -> None:
    """What the current rules change on the stored facts: each verdict that changes status with its check's
    old and new version, how many sites change colour, what was left as it was, and where the run facts the
    checks were told came from."""
    run = result.run
    if run.reevaluates_run_id is not None:
        basis = f"run {run.reevaluates_run_id}"
    else:
        basis = say(lang, f"de sites gescand sinds {run.reevaluates_since:%Y-%m-%d %H:%M} UTC",
                          f"the sites scanned since {run.reevaluates_since:%Y-%m-%d %H:%M} UTC")
    out.print(say(lang, f"[bold]Run {run.id}: {basis} opnieuw beoordeeld met de huidige regels[/bold] "
                        f"({len(result.outcomes)} sites, {result.judged()} uitkomsten; niets gescand)",
                        f"[bold]Run {run.id}: {basis} judged again under the current rules[/bold] "
                        f"({len(result.outcomes)} sites, {result.judged()} verdicts; nothing scanned)"))
    changes = result.changes()
    if changes:
        table = _table(say(lang, "Veranderde uitkomsten", "Changed verdicts"), [say(lang, *pair) for pair in (
            ("site", "site"), ("controle", "check"), ("was", "was"), ("wordt", "now"), ("versie", "version"),
            ("samenvatting", "summary"))])
        for c in changes:
            table.add_row(safe(c.host), safe(c.check), _status(Status(c.old_status), lang),
                          _status(Status(c.new_status), lang), f"{c.old_version} → {c.new_version}",
                          safe(c.summary.get(lang)))
        out.print(table)
    colours = result.colour_changes()
    if colours:
        table = _table(say(lang, "Kleur op de kaart", "Colour on the map"), [say(lang, *pair) for pair in (
            ("site", "site"), ("standaard", "standard"), ("was", "was"), ("wordt", "now"))])
        for c in colours:
            table.add_row(safe(c.host), safe(c.standard.title.get(lang)), COLOUR_NAMES[c.old].get(lang),
                          COLOUR_NAMES[c.new].get(lang))
        out.print(table)
    changed_sites = len({c.host for c in changes})
    recoloured = len({c.host for c in colours})
    out.print(say(lang, f"Met de huidige regels veranderen {recoloured} site(s) van kleur; "
                        f"{len(changes)} uitkomst(en) op {changed_sites} site(s) veranderen.",
                        f"Under the current rules, {recoloured} site(s) change colour; "
                        f"{len(changes)} verdict(s) on {changed_sites} site(s) change."))
    same = result.same_status_new_version()
    if same:
        out.print(say(lang, f"{same} uitkomst(en) blijven gelijk onder een nieuwe versie van hun controle.",
                            f"{same} verdict(s) stay the same under a new version of their check."))
    left: dict[str, list] = {}
    for host, check_id, why in result.not_rejudged():
        left.setdefault(check_id, []).append((host, why))
    if left:  # per check, with the first site's reason (every site's is in the JSON)
        table = _table(say(lang, "Niet opnieuw beoordeeld (de oude uitkomst blijft)",
                             "Not judged again (the old verdict stays)"),
                       [say(lang, "controle", "check"), say(lang, "sites", "sites"),
                        say(lang, "waarom, bijvoorbeeld", "why, for example")])
        for check_id, sites in sorted(left.items()):
            host, why = sites[0]
            table.add_row(safe(check_id), str(len(sites)), safe(f"{host}: {why.get(lang)}"))
        out.print(table)
    if result.skipped:
        table = _table(say(lang, "Overgeslagen sites", "Sites skipped"),
                       [say(lang, "site", "site"), say(lang, "waarom", "why")])
        for skipped in result.skipped:
            table.add_row(safe(skipped.host), safe(skipped.reason.get(lang)))
        out.print(table)
    sources = result.facts_sources()
    if sources[FACTS_DERIVED] or sources[FACTS_ASSUMED]:
        runs = ", ".join(map(str, result.runs_without_facts()))
        how = [say(lang, *pair) for count, pair in (
            (sources[FACTS_DERIVED], (f"voor {sources[FACTS_DERIVED]} site(s) afgeleid uit de opgeslagen gegevens",
                                      f"derived from the stored facts for {sources[FACTS_DERIVED]} site(s)")),
            (sources[FACTS_ASSUMED], (f"voor {sources[FACTS_ASSUMED]} site(s) niet af te leiden en aangenomen "
                                      "(IPv6 aanwezig, zoals de controles doen als niets gezegd wordt)",
                                      f"not derivable for {sources[FACTS_ASSUMED]} site(s), so assumed (IPv6 "
                                      "present, as the checks assume when not told)"))) if count]
        out.print(say(lang, f"Run(s) {runs} zijn opgeslagen zonder hun runfeiten (had de scanner IPv6): ",
                            f"Run(s) {runs} were stored without their run facts (whether the scanner had IPv6): ")
                  + "; ".join(how) + ".")


# --- what the store holds ---

def sites_per_minute(run: RunRow, now: datetime) -> float | None:
    """Sites done per minute from the run's start to its end, or to `now` (naive UTC) while it runs."""
    minutes = ((run.finished or now) - run.started).total_seconds() / 60
    return run.sites_done / minutes if minutes > 0 else None


def runs(out: Console, rows: list[RunRow], lang: str, now: datetime | None = None,
         at_work: dict[int, set[str]] | None = None, answering: list[str] | None = None) -> None:
    """The runs, with each one's progress (sites done, failing, errors, rate) at `now` (naive UTC; default the
    clock). `at_work`: per running run, the workers with a live claim on it (a distributed run); `answering`:
    the workers that answered the broker's ping, None when it was not asked."""
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    at_work = at_work or {}
    headings = [say(lang, *pair) for pair in (
        ("id", "id"), ("soort", "kind"), ("toestand", "state"), ("gestart (UTC)", "started (UTC)"), ("duur", "took"),
        ("sites", "sites"), ("met fout", "failing"), ("niet gemeten", "errors"), ("sites/min", "sites/min"),
        ("workers", "workers"), ("controles", "checks"), ("bron", "source"))]
    table = _table("Runs", headings)
    for run in rows:
        took = duration(((run.finished or now) - run.started).total_seconds())
        rate = sites_per_minute(run, now)
        table.add_row(str(run.id), safe(run.kind), safe(run.state), f"{run.started:%Y-%m-%d %H:%M}", took,
                      f"{run.sites_done}/{run.sites_total}", str(run.sites_failing), str(run.sites_error),
                      "" if rate is None else f"{rate:.1f}",
                      str(len(at_work[run.id])) if at_work.get(run.id) else "",
                      safe(run.checks or say(lang, "alle", "all")), safe(run.source))
    out.print(table)
    if answering is not None:
        names = ", ".join(safe(name) for name in sorted(answering))
        out.print(say(lang, f"Workers die de broker antwoorden: {len(answering)}", f"Workers answering the broker: "
                            f"{len(answering)}") + (f" ({names})" if names else ""))


def history(out: Console, host: str, versions: list[FindingRow], lang: str) -> None:
    """Each version of each check, oldest first, with the change of status that began it."""
    headings = [say(lang, *pair) for pair in (
        ("controle", "check"), ("uitkomst", "result"), ("vanaf (UTC)", "from (UTC)"), ("tot (UTC)", "until (UTC)"),
        ("laatst gezien", "last seen"), ("runs", "runs"), ("samenvatting", "summary"))]
    table = _table(say(lang, f"Geschiedenis van {host}", f"History of {host}"), headings)
    previous: dict[str, str] = {}
    for v in versions:
        change = status_label(v.status, lang)
        if v.check_id in previous and previous[v.check_id] != v.status:
            change = f"{status_label(previous[v.check_id], lang)} → {change}"
        previous[v.check_id] = v.status
        table.add_row(safe(v.check_id), change, f"{v.first_seen:%Y-%m-%d %H:%M}",
                      f"{v.valid_until:%Y-%m-%d %H:%M}" if v.valid_until else say(lang, "nu", "now"),
                      f"{v.last_seen:%Y-%m-%d %H:%M}", f"{v.first_run_id}-{v.last_run_id}",
                      safe(v.summary.get(lang)))
    out.print(table)


def settings(out: Console, rows: list[tuple[str, Any, str]], lang: str) -> None:
    """The settings in force, each with where its value came from."""
    headings = [say(lang, *pair) for pair in (("instelling", "setting"), ("waarde", "value"), ("bron", "source"))]
    table = _table(say(lang, "Instellingen", "Settings"), headings)
    for key, value, source in rows:
        table.add_row(safe(key), safe(json.dumps(value, ensure_ascii=False, default=str)), safe(source))
    out.print(table)


def explanations(out: Console, rows: list, lang: str, now: datetime, title: str) -> None:
    """Explanations (`govscan explain --list`, `govscan history`): each with until when it holds, or since
    when and why it no longer does. Reason and names are the user's text: through `safe` like scanned text."""
    from reports.explained import ENDED, until

    headings = [say(lang, *pair) for pair in (
        ("id", "id"), ("site", "site"), ("controle", "check"), ("door", "by"), ("vastgelegd (UTC)", "recorded (UTC)"),
        ("geldt", "holds"), ("reden", "reason"))]
    table = _table(title, headings)
    for e in rows:
        ended = e.ended(now)
        if ended is None:
            holds = say(lang, f"tot en met {until(e.expires)}", f"until {until(e.expires)} inclusive")
        else:
            who = f": {safe(e.revoked_by)}" if ended[1] == "revoked" else ""
            holds = say(lang, "geëindigd", "ended") + f" {ended[0]:%Y-%m-%d %H:%M} ({ENDED[ended[1]].get(lang)}{who})"
        table.add_row(str(e.id), safe(e.host), safe(e.check), safe(e.recorded_by), f"{e.recorded:%Y-%m-%d %H:%M}",
                      holds, safe(e.reason))
    out.print(table)
    if not rows:
        out.print(say(lang, "Geen uitleg.", "No explanations."))
