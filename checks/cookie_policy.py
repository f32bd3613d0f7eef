"""The privacy checks' policy data, read once, and the importers that refresh it. Plain file work: nothing here
goes on the network.

Cookies. The Open Cookie Database (`open-cookie-database/`, Apache-2.0, its version in SOURCE.md there) is the
default classification; govscan's own rows (`cookies.csv`, in the database's columns) take precedence. A row
matches a cookie when its name matches (the exact name; a prefix when "Wildcard match" is 1; a `*` in a name
stands for any characters) and, when the row names domains, the cookie lives on one of them (that domain, one
under it or one above it: `.youtube.com` for `www.youtube.com`). Of the matching rows the first in this order
decides: a row that names the cookie's domain, an exact name, govscan's own row, the longest name, the
earlier row. So Instagram's `sessionid` on instagram.com is Instagram's, and a `sessionid` on the site itself
is the framework's session.

Trackers. The whole-host rules of a filter list in Adblock Plus syntax (`tracker-filters/`, EasyPrivacy):
`||host^` (any request to the host or a name under it), `||host^$third-party` (only from another site) and
`@@||host^` (an exception); rules with other options block only some requests and are not read. govscan's
own list (`trackers.txt`: a host per line, `@@host` for an exception) takes precedence: when it says
something about a host, that decides.

All four ship with the package (config/). `govscan import cookies|trackers` puts a newer database or filter
list in the user's data directory, which is used from then on instead of the shipped one (govscan/paths.py).
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from govscan.paths import data_file

# What `govscan import cookies` and `govscan import trackers` replace, and govscan's own rows on top of them.
COOKIES = "open-cookie-database/open-cookie-database.csv"
COOKIE_OVERRIDES = "cookies.csv"
TRACKERS = "tracker-filters/filters.txt"
TRACKER_OVERRIDES = "trackers.txt"
POLICY_FILES = (COOKIES, COOKIE_OVERRIDES, TRACKERS, TRACKER_OVERRIDES)

OCD_COLUMNS = ("Platform", "Category", "Cookie / Data Key name", "Domain", "Data Controller", "Wildcard match")
NAME, DOMAIN, CONTROLLER, WILDCARD = "Cookie / Data Key name", "Domain", "Data Controller", "Wildcard match"
# The database's word for "the site itself" as data controller (Umami's rows; govscan's rows for analytics
# run by or for the site).
SITE_OPERATOR = "website operator"
GOVSCAN, DATABASE, FILTERS = "govscan", "open-cookie-database", "filter-list"


class PolicyFileError(ValueError):
    pass


@dataclass(frozen=True)
class CookieRule:
    """One row of the classification."""

    name: str
    prefix: bool
    domains: tuple[str, ...]  # the platform's own domains; () when the site that uses the platform sets it
    platform: str
    category: str  # the row's category in lower case: marketing, analytics, functional, security ...
    controller: str
    source: str  # GOVSCAN or DATABASE
    note: str = ""
    pattern: re.Pattern | None = field(default=None, compare=False, repr=False)  # None: an exact name

    @property
    def exact(self) -> bool:
        return self.pattern is None

    @property
    def controlled_by_third_party(self) -> bool:
        """The row names a data controller other than the site's operator."""
        return bool(self.controller) and self.controller.lower() != SITE_OPERATOR

    def matches(self, name: str, domain: str) -> bool:
        if not (name == self.name if self.pattern is None else self.pattern.fullmatch(name)):
            return False
        return not self.domains or any(_domain_matches(domain, d) for d in self.domains)


def _domain_matches(cookie_domain: str, rule_domain: str) -> bool:
    cookie_domain = cookie_domain.lstrip(".").lower()
    return (cookie_domain == rule_domain or cookie_domain.endswith("." + rule_domain)
            or rule_domain.endswith("." + cookie_domain))


def _domains(text: str) -> tuple[str, ...]:
    """The Domain column: empty, `x.com`, `.x.com (3rd party)`, or several joined by ` or `; an empty
    alternative (`x.com (3rd party) or `) means the site itself sets it too, so the row names no domain."""
    alternatives = [part.replace("(3rd party)", "").strip().lstrip(".").lower() for part in text.split(" or ")]
    return () if not all(alternatives) else tuple(alternatives)


def _pattern(name: str, prefix: bool) -> re.Pattern | None:
    if not prefix and "*" not in name:
        return None
    return re.compile(".*".join(re.escape(part) for part in (name + "*" if prefix else name).split("*")))


def _comments_and_data(text: str) -> tuple[list[str], str]:
    lines = text.splitlines()
    return ([line for line in lines if line.startswith("#")],
            "\n".join(line for line in lines if not line.startswith("#")))


def parse_cookie_rules(text: str, source: str = DATABASE, where: str = COOKIES) -> list[CookieRule]:
    """Rows in the Open Cookie Database's columns (lines starting with `#` are comments)."""
    _, data = _comments_and_data(text)
    reader = csv.DictReader(io.StringIO(data))
    missing = set(OCD_COLUMNS) - set(reader.fieldnames or [])
    if missing:
        raise PolicyFileError(f"{where}: not an Open Cookie Database CSV: no column(s) {', '.join(sorted(missing))}")
    rules = []
    for number, row in enumerate(reader, start=2):
        name = (row[NAME] or "").strip()
        wildcard = (row[WILDCARD] or "").strip()
        category = (row["Category"] or "").strip().lower()
        if not name or wildcard not in ("0", "1") or not category:
            raise PolicyFileError(f"{where}: row {number}: need a name, a category and Wildcard match 0 or 1")
        rules.append(CookieRule(name, wildcard == "1", _domains(row[DOMAIN] or ""), (row["Platform"] or "").strip(),
                                category, (row[CONTROLLER] or "").strip(), source,
                                " ".join((row.get("Description") or "").split())[:200],
                                _pattern(name, wildcard == "1")))
    return rules


@dataclass(frozen=True)
class CookieClassification:
    rules: tuple[CookieRule, ...]  # govscan's rows first, then the database's
    versions: dict[str, str]
    _exact: dict[str, list[int]] = field(default_factory=dict, compare=False, repr=False)
    _patterns: list[int] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self):
        for index, rule in enumerate(self.rules):
            if rule.exact:
                self._exact.setdefault(rule.name, []).append(index)
            else:
                self._patterns.append(index)

    def rule_for(self, name: str, domain: str) -> CookieRule | None:
        """The row that classifies a cookie (module docstring: which row wins), or None when none matches."""
        candidates = [i for i in self._exact.get(name, []) + self._patterns if self.rules[i].matches(name, domain)]
        if not candidates:
            return None

        def order(index: int) -> tuple:
            rule = self.rules[index]
            return (not rule.domains, not rule.exact, rule.source != GOVSCAN, -len(rule.name.replace("*", "")), index)

        return self.rules[min(candidates, key=order)]


def policy_version(text: str) -> str:
    """The `# version: X` line of govscan's own files."""
    match = re.search(r"^#\s*version:\s*(\S+)", text, re.M)
    return match.group(1) if match else ""


def source_version(path: Path) -> str:
    """The version of a shipped list as its SOURCE.md states it, else (an imported file) its SHA-256."""
    source = path.parent / "SOURCE.md"
    if source.is_file():
        match = re.search(r"^- Version: (.+)$", source.read_text(encoding="utf-8"), re.M)
        if match:
            return match.group(1).strip()
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()[:16]


@lru_cache(maxsize=1)
def cookie_classification() -> CookieClassification:
    overrides_path, database_path = data_file(COOKIE_OVERRIDES), data_file(COOKIES)
    overrides = overrides_path.read_text(encoding="utf-8")
    rules = (parse_cookie_rules(overrides, GOVSCAN, str(overrides_path))
             + parse_cookie_rules(database_path.read_text(encoding="utf-8"), DATABASE, str(database_path)))
    return CookieClassification(tuple(rules), {"cookie_overrides": policy_version(overrides),
                                               "cookie_database": source_version(database_path)})


# --- tracker hosts ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HostList:
    """Tracker hosts of one list: host -> True when only requests from another site count; exceptions."""

    name: str
    blocks: dict[str, bool]
    exceptions: frozenset[str]

    def verdict(self, host: str, third_party: bool) -> tuple[bool, str] | None:
        """(tracker or not, the entry that says so) when this list names the host or a parent, else None."""
        labels = host.lower().rstrip(".").split(".")
        names = [".".join(labels[i:]) for i in range(len(labels) - 1)]
        exception = next((n for n in names if n in self.exceptions), None)
        if exception:
            return False, exception
        block = next((n for n in names if n in self.blocks and (third_party or not self.blocks[n])), None)
        return (True, block) if block else None


FILTER_RULE = re.compile(r"^(?P<exception>@@)?\|\|(?P<host>[a-z0-9_-]+(\.[a-z0-9_-]+)+)\^(\$(?P<options>.*))?$")
OVERRIDE_LINE = re.compile(r"^(?P<exception>@@)?(?P<host>[a-z0-9_-]+(\.[a-z0-9_-]+)+)$")


def parse_filter_list(text: str, name: str = FILTERS) -> HostList:
    """The whole-host rules of an Adblock Plus filter list (module docstring)."""
    blocks: dict[str, bool] = {}
    exceptions = set()
    for line in text.splitlines():
        match = FILTER_RULE.match(line.strip().lower())
        if not match:
            continue  # comments, cosmetic rules, rules with a path
        options, host = match.group("options"), match.group("host")
        if match.group("exception"):
            if options is None:
                exceptions.add(host)
        elif options in (None, "third-party", "3p"):
            blocks[host] = blocks.get(host, True) and options is not None
    return HostList(name, blocks, frozenset(exceptions))


def parse_tracker_overrides(text: str, where: str = TRACKER_OVERRIDES) -> HostList:
    blocks, exceptions = {}, set()
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip().lower()
        if not line or line.startswith("#"):
            continue
        match = OVERRIDE_LINE.match(line)
        if not match:
            raise PolicyFileError(f"{where}: line {number}: need a host name, or @@ and a host name: {line[:80]}")
        if match.group("exception"):
            exceptions.add(match.group("host"))
        else:
            blocks[match.group("host")] = False
    return HostList(GOVSCAN, blocks, frozenset(exceptions))


@dataclass(frozen=True)
class TrackerLists:
    lists: tuple[HostList, ...]  # in precedence order: govscan's, then the filter list
    versions: dict[str, str]

    def tracker_for(self, host: str, third_party: bool = True) -> dict | None:
        """{"tracker": the entry, "list": which list} when a request to `host` goes to a tracker, else None."""
        for host_list in self.lists:
            verdict = host_list.verdict(host, third_party)
            if verdict is not None:
                tracks, entry = verdict
                return {"tracker": entry, "list": host_list.name} if tracks else None
        return None


@lru_cache(maxsize=1)
def tracker_lists() -> TrackerLists:
    overrides_path, filters_path = data_file(TRACKER_OVERRIDES), data_file(TRACKERS)
    overrides = overrides_path.read_text(encoding="utf-8")
    return TrackerLists((parse_tracker_overrides(overrides, str(overrides_path)),
                         parse_filter_list(filters_path.read_text(encoding="utf-8"))),
                        {"tracker_overrides": policy_version(overrides),
                         "tracker_filters": source_version(filters_path)})


# --- importers --------------------------------------------------------------------------------------------------

def _rule_keys(rules: list[CookieRule]) -> set[tuple]:
    return {(r.name, r.prefix, r.domains) for r in rules}


def import_open_cookie_database(source_text: str, current_text: str) -> tuple[str, int]:
    """A newer Open Cookie Database CSV, checked, to take the place of the current one. Returns the text to
    write and the number of rows (name, wildcard, domains) the current database does not have."""
    new = parse_cookie_rules(source_text, where="the file")
    try:
        current = _rule_keys(parse_cookie_rules(current_text))
    except PolicyFileError:
        current = set()
    return source_text, len(_rule_keys(new) - current)


def import_filter_list(source_text: str, current_text: str) -> tuple[str, int]:
    """A newer filter list (EasyPrivacy or another in its syntax), checked, to take the place of the current
    one. Returns the text to write and the number of tracker hosts the current list does not have."""
    new = parse_filter_list(source_text)
    if not new.blocks:
        raise PolicyFileError("no whole-host rules (||host^): not an Adblock Plus filter list")
    return source_text, len(set(new.blocks) - set(parse_filter_list(current_text).blocks))


def write_imported(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    cookie_classification.cache_clear()
    tracker_lists.cache_clear()
