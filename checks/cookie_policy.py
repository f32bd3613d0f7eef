"""The privacy checks' policy data: the cookie classification (`cookies.csv`) and the tracker hosts
(`trackers.txt`), read once; and the importers that refresh them from the Open Cookie Database CSV and
from EasyPrivacy-style filter lists. Plain file work: nothing here goes on the network.

Both files ship with the package (config/); `govscan import` writes its result to the user's data directory,
and a file there is used instead of the shipped one (govscan/paths.py).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from govscan.paths import data_file

COOKIES = "cookies.csv"
TRACKERS = "trackers.txt"
COLUMNS = ["name", "match", "platform", "category", "tracks", "note"]
CATEGORIES = ("functional", "analytics", "marketing")


@dataclass(frozen=True)
class CookieRule:
    name: str
    prefix: bool
    platform: str
    category: str
    tracks: bool
    note: str = ""

    def matches(self, cookie_name: str) -> bool:
        return cookie_name.startswith(self.name) if self.prefix else cookie_name == self.name

    def to_row(self) -> list[str]:
        return [self.name, "prefix" if self.prefix else "exact", self.platform, self.category,
                "yes" if self.tracks else "no", self.note]


class PolicyFileError(ValueError):
    pass


def _split_comments(text: str) -> tuple[list[str], list[str]]:
    lines = text.splitlines()
    return [line for line in lines if line.startswith("#")], [line for line in lines if not line.startswith("#")]


def parse_cookie_rules(text: str, name: str = "cookies.csv") -> list[CookieRule]:
    _, data = _split_comments(text)
    rules = []
    for number, row in enumerate(csv.DictReader(io.StringIO("\n".join(data))), start=2):
        if row.get("match") not in ("exact", "prefix") or row.get("category") not in CATEGORIES \
                or row.get("tracks") not in ("yes", "no") or not row.get("name"):
            raise PolicyFileError(f"{name}: row {number}: need name, match exact|prefix, "
                                  f"category {'|'.join(CATEGORIES)}, tracks yes|no: {row}")
        rules.append(CookieRule(row["name"], row["match"] == "prefix", row["platform"], row["category"],
                                row["tracks"] == "yes", row.get("note") or ""))
    return rules


def policy_version(text: str) -> str:
    match = re.search(r"^#.*\bversion[:\s]+(\S+)", text, re.M)
    return match.group(1).rstrip(".") if match else ""


@lru_cache(maxsize=1)
def cookie_rules() -> tuple[list[CookieRule], str]:
    path = data_file(COOKIES)
    text = path.read_text(encoding="utf-8")
    return parse_cookie_rules(text, str(path)), policy_version(text)


def classify(cookie_name: str, rules: list[CookieRule] | None = None) -> CookieRule | None:
    """The rule for a cookie name: an exact name first, else the longest matching prefix."""
    rules = cookie_rules()[0] if rules is None else rules
    exact = next((r for r in rules if not r.prefix and r.name == cookie_name), None)
    if exact:
        return exact
    prefixes = [r for r in rules if r.prefix and r.matches(cookie_name)]
    return max(prefixes, key=lambda r: len(r.name)) if prefixes else None


def parse_trackers(text: str) -> list[str]:
    return [line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def trackers() -> tuple[frozenset[str], str]:
    text = data_file(TRACKERS).read_text(encoding="utf-8")
    return frozenset(parse_trackers(text)), policy_version(text)


def tracker_for(host: str, hosts: frozenset[str] | None = None) -> str | None:
    """The tracker list entry a host falls under (the host itself or a parent domain), or None."""
    hosts = trackers()[0] if hosts is None else hosts
    labels = host.lower().rstrip(".").split(".")
    for i in range(len(labels) - 1):
        candidate = ".".join(labels[i:])
        if candidate in hosts:
            return candidate
    return None


# --- importers ------------------------------------------------------------------------------------------------

OCD_COLUMNS = ("Platform", "Category", "Cookie / Data Key name", "Description", "Wildcard match")
OCD_CATEGORIES = {"marketing": "marketing", "analytics": "analytics"}


def import_open_cookie_database(source_text: str, current_text: str) -> tuple[str, int]:
    """Merge Open Cookie Database rows (CSV: ID, Platform, Category, Cookie / Data Key name, Domain,
    Description, Retention period, Data Controller, User Privacy & GDPR Rights Portals, Wildcard match) into
    the classification. Rows already present keep their hand-written verdict; new marketing and analytics
    rows track, the others are functional. Returns the new file text and the number of rows added."""
    comments, _ = _split_comments(current_text)
    rules = parse_cookie_rules(current_text)
    known = {(r.name, r.prefix) for r in rules}
    added = 0
    reader = csv.DictReader(io.StringIO(source_text))
    missing = set(OCD_COLUMNS) - set(reader.fieldnames or [])
    if missing:
        raise PolicyFileError(f"not an Open Cookie Database CSV: no column(s) {', '.join(sorted(missing))}")
    for row in reader:
        name = (row["Cookie / Data Key name"] or "").strip()
        if not name:
            continue
        prefix = (row.get("Wildcard match") or "0").strip() == "1"
        if (name, prefix) in known:
            continue
        category = OCD_CATEGORIES.get(row["Category"].strip().lower(), "functional")
        note = " ".join((row.get("Description") or "").split())[:160]
        rules.append(CookieRule(name, prefix, (row["Platform"] or "").strip(), category, category != "functional",
                                note))
        known.add((name, prefix))
        added += 1
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for rule in rules:
        writer.writerow(rule.to_row())
    return "\n".join(comments) + ("\n" if comments else "") + out.getvalue(), added


FILTER_RULE = re.compile(r"^\|\|([a-z0-9.-]+\.[a-z0-9-]+)\^(\$(?P<options>.*))?$")


def import_filter_list(source_text: str, current_text: str) -> tuple[str, int]:
    """Add the hosts of EasyPrivacy-style `||host^` rules (whole-host blocks; rules with a path, exceptions
    and cosmetic rules say nothing about a host) to the tracker list. Returns the new text and hosts added."""
    known = set(parse_trackers(current_text))
    added = []
    for line in source_text.splitlines():
        match = FILTER_RULE.match(line.strip().lower())
        if not match:
            continue
        options = match.group("options") or ""
        if "domain=" in options or "~third-party" in options:
            continue  # blocks only on some sites, or only first-party use
        host = match.group(1)
        if host not in known:
            known.add(host)
            added.append(host)
    text = current_text if current_text.endswith("\n") or not current_text else current_text + "\n"
    return text + "".join(f"{host}\n" for host in added), len(added)


def write_imported(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    cookie_rules.cache_clear()
    trackers.cache_clear()
