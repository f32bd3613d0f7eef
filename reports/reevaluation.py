"""What a re-evaluation changed (`govscan reevaluate`): per site, the verdicts stored before and the ones the
current rules give on the same stored facts; from those, which verdicts change status, which sites change
colour (shared/spec/checks.md, "Scores and colours") on the map of a standard or of all standards together,
and what could not be judged again and why. The scanner fills it in; `console.reevaluation` and `json_report.reevaluation` show it.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from govscan.model import Finding, Text
from reports.standards import Colour, Standard, all_together, load_standards, site_colour

if TYPE_CHECKING:  # the command line starts without loading SQLAlchemy
    from storage.models import RunRow

# Where the run facts a site was judged with came from.
FACTS_STORED = "stored"    # kept with the run that observed the site's facts
FACTS_DERIVED = "derived"  # that run was stored before runs kept them: read off its artifacts
FACTS_ASSUMED = "assumed"  # not stored and not derivable: the value a check assumes when it is not told


@dataclass(frozen=True)
class Stored:
    """A verdict as it stood before the re-evaluation."""

    status: str
    check_version: int


@dataclass
class SiteOutcome:
    """One site judged again: every finding it had (`before`, by check), the findings the current rules
    give (`after`), the run facts they were judged with, and the checks left as they were, with why."""

    host: str
    before: dict[str, Stored]
    after: list[Finding]
    facts: dict[str, Any]
    facts_source: str
    facts_run: int | None = None  # the run that observed the facts
    not_rejudged: dict[str, Text] = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    """A site that was not judged again, and why."""

    host: str
    reason: Text


@dataclass(frozen=True)
class Change:
    """A verdict whose status the current rules change."""

    host: str
    check: str
    old_status: str
    new_status: str
    old_version: int
    new_version: int
    summary: Text  # the new verdict's


@dataclass(frozen=True)
class ColourChange:
    host: str
    standard: Standard
    old: Colour
    new: Colour


COLOUR_NAMES = {Colour.RED: Text("rood", "red"), Colour.ORANGE: Text("oranje", "orange"),
                Colour.GREEN: Text("groen", "green"), Colour.GREY: Text("grijs", "grey")}


@dataclass
class Reevaluation:
    run: RunRow  # the re-evaluation, as stored
    outcomes: list[SiteOutcome]
    skipped: list[Skipped]

    def changes(self) -> list[Change]:
        """Verdicts whose status changes, by site and check."""
        found = []
        for outcome in self.outcomes:
            for finding in outcome.after:
                old = outcome.before[finding.check]
                if old.status != str(finding.status):
                    found.append(Change(outcome.host, finding.check, old.status, str(finding.status),
                                        old.check_version, finding.check_version, finding.summary))
        return sorted(found, key=lambda c: (c.host, c.check))

    def same_status_new_version(self) -> int:
        """Verdicts that keep their status under a newer version of their check."""
        return sum(1 for o in self.outcomes for f in o.after
                   if o.before[f.check].status == str(f.status) and o.before[f.check].check_version != f.check_version)

    def judged(self) -> int:
        return sum(len(o.after) for o in self.outcomes)

    def colour_changes(self, standards: list[Standard] | None = None) -> list[ColourChange]:
        """Each site's colour that changes, for all standards together and for each standard
        (`config/standards.toml` by default), by site."""
        standards = standards if standards is not None else load_standards()
        maps = [all_together(standards)] + standards
        found = []
        for outcome in self.outcomes:
            before = {check: stored.status for check, stored in outcome.before.items()}
            after = before | {f.check: str(f.status) for f in outcome.after}
            for standard in maps:
                old, new = site_colour(before, standard), site_colour(after, standard)
                if old != new:
                    found.append(ColourChange(outcome.host, standard, old, new))
        return sorted(found, key=lambda c: c.host)

    def not_rejudged(self) -> list[tuple[str, str, Text]]:
        """(site, check, why) for every check left as it was."""
        return [(o.host, check, why) for o in self.outcomes for check, why in sorted(o.not_rejudged.items())]

    def facts_sources(self) -> Counter:
        """How many sites were judged with run facts of each source."""
        return Counter(o.facts_source for o in self.outcomes)

    def runs_without_facts(self) -> list[int]:
        """The runs whose facts were read off their artifacts, as they were stored without them."""
        return sorted({o.facts_run for o in self.outcomes
                       if o.facts_source != FACTS_STORED and o.facts_run is not None})
