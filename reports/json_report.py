"""What `--format json` prints (docs/json.md): `check`, `scan`, `reevaluate`, `runs`, `history` and
`explain --list`, one versioned format.

Texts for people come in both languages, so a program picks one; times are UTC with a `Z` (`utc_iso`).
"""
from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from govscan.model import Status, utc_iso
from reports.reevaluation import Reevaluation
from reports.site_report import SHOW_ORDER, Catalogue, ScanSummary, SiteReport, Summary, family_of, fix_first

if TYPE_CHECKING:  # the command line starts without loading SQLAlchemy
    from storage.models import FindingRow, RunRow

FORMAT = 1  # raised only when a field changes meaning or disappears


def run(row: RunRow) -> dict[str, Any]:
    """A stored run: what it scanned, when, and how many of its sites failed or could not be measured."""
    return {
        "id": row.id, "kind": row.kind, "state": row.state, "started": utc_iso(row.started),
        "finished": utc_iso(row.finished), "tool_version": row.tool_version, "config_hash": row.config_hash,
        "checks": row.checks, "source": row.source,
        "sites": {"total": row.sites_total, "done": row.sites_done, "failing": row.sites_failing,
                  "error": row.sites_error},
        "run_facts": row.run_facts,
        "reevaluates": None if row.kind != "reevaluation" else {
            "run": row.reevaluates_run_id, "since": utc_iso(row.reevaluates_since)},
    }


def _statuses(counts: Counter) -> dict[str, int]:
    return {str(s): counts.get(s, 0) for s in SHOW_ORDER}


def site(report: SiteReport, catalogue: Catalogue) -> dict[str, Any]:
    """One site's findings, each with its check's family, level, title and advice from the catalogue; the
    summary and the order to read them in (`site_report.fix_first`) as the text and HTML reports show them."""
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
    return {
        "site": {"url": report.url, "host": report.host,
                 "addresses": {"ipv4": report.addresses.get("ipv4", []), "ipv6": report.addresses.get("ipv6", [])}},
        "seconds": report.seconds,
        "counts": _statuses(Counter(f.status for f in report.findings)),
        "summary": _summary(Summary.of(report, catalogue)),
        "fix_first": [{"part": str(section.part), "title": {"nl": section.title.nl, "en": section.title.en},
                       "checks": [f.check for f in section.findings()]} for section in fix_first(report, catalogue)],
        "findings": findings,
    }


def _summary(summary: Summary) -> dict[str, Any]:
    text = summary.text()
    return {"required": {str(s): summary.required[s] for s in (Status.FAIL, Status.WARN, Status.ERROR)},
            "text": {"nl": text.nl, "en": text.en}}


def check(row: RunRow, report: SiteReport, catalogue: Catalogue) -> dict[str, Any]:
    """`govscan check`: the stored run and the site."""
    return {"format": FORMAT, "run": run(row), **site(report, catalogue)}


def scan(row: RunRow, summary: ScanSummary, reports: list[SiteReport], catalogue: Catalogue) -> dict[str, Any]:
    """`govscan scan`: the stored run, per check how many sites got each status, and every site as `check`
    gives it."""
    return {
        "format": FORMAT, "run": run(row), "seconds": summary.seconds,
        "checks": {check_id: _statuses(counts) for check_id, counts in sorted(summary.per_check.items())},
        "sites": [site(report, catalogue) for report in reports],
    }


def reevaluation(result: Reevaluation) -> dict[str, Any]:
    """`govscan reevaluate`: the stored re-evaluation run, every verdict whose status changes, the sites
    that change colour, and what was not judged again."""
    changes = result.changes()
    colours = result.colour_changes()
    return {
        "format": FORMAT, "run": run(result.run),
        "counts": {"sites": len(result.outcomes), "verdicts": result.judged(), "changed": len(changes),
                   "sites_changed": len({c.host for c in changes}), "sites_changing_colour": len({c.host for c in colours}),
                   "same_status_new_version": result.same_status_new_version(), "skipped": len(result.skipped)},
        "changes": [{"site": c.host, "check": c.check, "old": {"status": c.old_status, "check_version": c.old_version},
                     "new": {"status": c.new_status, "check_version": c.new_version},
                     "summary": {"nl": c.summary.nl, "en": c.summary.en}} for c in changes],
        "colours": [{"site": c.host, "standard": c.standard.id, "old": str(c.old), "new": str(c.new)}
                    for c in colours],
        "not_rejudged": [{"site": host, "check": check_id, "reason": {"nl": why.nl, "en": why.en}}
                         for host, check_id, why in result.not_rejudged()],
        "skipped": [{"site": s.host, "reason": {"nl": s.reason.nl, "en": s.reason.en}} for s in result.skipped],
        "run_facts": [{"site": o.host, "facts": o.facts, "source": o.facts_source, "run": o.facts_run}
                      for o in result.outcomes],
    }


def runs(rows: list[RunRow]) -> dict[str, Any]:
    """`govscan runs`: newest first."""
    return {"format": FORMAT, "runs": [run(row) for row in rows]}


def history(host: str, versions: list[FindingRow], explained: list | None = None, now=None) -> dict[str, Any]:
    """`govscan history`: every version of the site's findings, oldest first per check, each with when it
    began (`first_seen`), was last confirmed (`last_seen`) and ended (`valid_until`, null while current);
    and every explanation of them (`explanations`, as `explain --list` gives them)."""
    return {"format": FORMAT, "host": host, "explanations": [explanation(e, now) for e in explained or []],
            "versions": [
        {**v.to_model().to_dict(), "first_seen": utc_iso(v.first_seen), "last_seen": utc_iso(v.last_seen),
         "valid_until": utc_iso(v.valid_until), "first_run": v.first_run_id, "last_run": v.last_run_id}
        for v in versions]}


def explanation(e, now) -> dict[str, Any]:
    """One explanation with, once it no longer holds, since when and why (`ended_because`: expired, revoked or
    evidence, its finding having changed)."""
    ended = e.ended(now)
    return {"id": e.id, "site": e.host, "check": e.check, "reason": e.reason, "by": e.recorded_by,
            "recorded": utc_iso(e.recorded), "expires": utc_iso(e.expires), "status": e.status,
            "revoked": utc_iso(e.revoked), "revoked_by": e.revoked_by,
            "ended": utc_iso(ended[0]) if ended else None, "ended_because": ended[1] if ended else None}


def explanations(rows: list, now) -> dict[str, Any]:
    """`govscan explain --list [--expired]`."""
    return {"format": FORMAT, "explanations": [explanation(e, now) for e in rows]}
