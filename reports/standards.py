"""Standards and the two judgements every report makes from the state of the checks (shared/spec/checks.md,
"Scores and colours"): the colour of an organisation (its worst required result) and whether a site
complies with a standard. A failure with an explanation that holds (storage/explanations.py) has a colour of
its own and never complies.

The standards and their checks are policy data in `config/standards.toml`. Everything here is pure: it
reads rows with `host`, `check`, `status` and organisation fields, as `storage`'s `state_on` gives them.
"""
from __future__ import annotations

import tomllib
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Iterable, Protocol

from govscan.paths import package_data
from govscan.model import Status, Text

STANDARDS_FILE = package_data("standards.toml")
ALL = "all"  # the pseudo-standard "all standards together"


@dataclass(frozen=True)
class Standard:
    id: str
    title: Text
    norm: str
    checks: tuple[str, ...]


def load_standards(path: Path | str = STANDARDS_FILE) -> list[Standard]:
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    return [Standard(s["id"], Text(s["title"]["nl"], s["title"]["en"]), s.get("norm", ""), tuple(s["checks"]))
            for s in raw["standard"]]


def all_together(standards: list[Standard]) -> Standard:
    """One standard holding the checks of all: the map "all standards together"."""
    checks = tuple(dict.fromkeys(c for s in standards for c in s.checks))
    return Standard(ALL, Text("Alle standaarden", "All standards"), "", checks)


class StateRow(Protocol):
    """What a report needs of one check's state for one site."""

    host: str
    check: str
    status: str
    org_code: str
    org_name: str
    org_type: str


@dataclass(frozen=True)
class State:
    """One check's state for one site, with its organisation: the plain form of a StateRow."""

    host: str
    check: str
    status: str
    org_code: str = ""
    org_name: str = ""
    org_type: str = "other"


class Colour(StrEnum):
    """The map colour of an organisation, worst first."""

    RED = "red"
    EXPLAINED = "explained"  # fails, but every failure is explained (comply or explain)
    ORANGE = "orange"
    GREEN = "green"
    GREY = "grey"


# A failing finding for which an explanation holds, as the colour and the compliance of a standard count it:
# never a pass (it does not comply), and told apart from an unexplained failure on the maps. The finding's
# measured status stays "fail"; this stands for it only in what `statuses_by_site` gives the judgements.
EXPLAINED = "explained"


def _statuses(statuses: Iterable[str]) -> set[str]:
    return {s if s == EXPLAINED else Status(s) for s in statuses}


def colour(statuses: Iterable[str]) -> Colour:
    """Worst required result: red on any unexplained fail, "explained" when every fail is explained, orange on
    only warns, green when all pass, grey when nothing could be measured. Errors, not_applicable and info are
    left out, so an error never colours red."""
    present = _statuses(statuses)
    if Status.FAIL in present:
        return Colour.RED
    if EXPLAINED in present:
        return Colour.EXPLAINED
    if Status.WARN in present:
        return Colour.ORANGE
    if Status.PASS in present:
        return Colour.GREEN
    return Colour.GREY


def complies(statuses: Iterable[str]) -> bool | None:
    """Whether a site complies with a standard, given the statuses of the standard's checks for the site.

    True: every measured check meets the norm (pass or warn). False: any check fails, explained or not.
    None: not known (a check could not be measured, or none applies), so the site counts neither way."""
    present = _statuses(statuses)
    if Status.FAIL in present or EXPLAINED in present:
        return False
    if Status.ERROR in present:
        return None
    if present & {Status.PASS, Status.WARN}:
        return True
    return None


def judged_status(row: StateRow) -> str:
    """The status the judgements count: the measured one, or EXPLAINED for a failure an explanation holds for
    (rows of `storage`'s state carry `explanation_id`)."""
    if row.status == Status.FAIL and getattr(row, "explanation_id", None) is not None:
        return EXPLAINED
    return str(row.status)


def statuses_by_site(rows: Iterable[StateRow]) -> dict[str, dict[str, str]]:
    """host -> check -> status as judged (`judged_status`)."""
    by_site: dict[str, dict[str, str]] = defaultdict(dict)
    for row in rows:
        by_site[row.host][row.check] = judged_status(row)
    return by_site


def site_compliance(checks: dict[str, str], standard: Standard) -> bool | None:
    return complies(checks[c] for c in standard.checks if c in checks)


def site_colour(checks: dict[str, str], standard: Standard) -> Colour:
    return colour(checks[c] for c in standard.checks if c in checks)


def site_explained(checks: dict[str, str], standard: Standard) -> bool:
    """Whether a site fails the standard only by explained failures: counted apart in the trends."""
    return site_colour(checks, standard) == Colour.EXPLAINED
