"""The accessibility statement and the automated WCAG tests (shared/spec/checks.md, "Accessibility").
Judges the facts of the `browser` probe: the candidate statement pages it loaded (in the order a person would
look for them) and the axe-core results of every frame of the sampled pages. Thresholds come from
config/policy/accessibility.toml.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from functools import lru_cache
from typing import Any

from checks.registry import Facts, check
from checks.statement import STATUS_LABELS, parse
from govscan.paths import package_data
from govscan.model import Reason, Status, Text, Verdict

POLICY_FILE = package_data("policy", "accessibility.toml")
NORM = "Tijdelijk besluit digitale toegankelijkheid overheid; WCAG 2.1 AA (EN 301 549)"
REGISTER_PAGE = re.compile(r"toegankelijkheidsverklaring\.nl/register/\d+", re.I)
IMPACT_ORDER = ("critical", "serious", "moderate", "minor")


@lru_cache(maxsize=1)
def policy() -> dict[str, Any]:
    with open(POLICY_FILE, "rb") as fh:
        return tomllib.load(fh)


def measured_on(browser: dict) -> dt.date:
    """The day of the visit: a statement's age is judged against when it was measured, so re-evaluating an
    old artifact gives the same answer."""
    stamp = browser.get("visited_at")
    return dt.datetime.fromisoformat(stamp).date() if stamp else dt.date.today()


def find_statement(fetched: list[dict]) -> tuple[dict | None, dict | None]:
    """(the site's own statement page, the register entry), each as {candidate, parsed}, from the loaded
    candidates in the order they were found."""
    own = register = None
    for candidate in fetched:
        if candidate.get("error") or (candidate.get("status") or 0) >= 400:
            continue
        parsed = parse(candidate.get("text", ""), candidate.get("final_url", candidate["url"]),
                       candidate.get("links", []))
        if not parsed.is_statement:
            continue
        entry = {"candidate": candidate, "parsed": parsed}
        if REGISTER_PAGE.search(candidate.get("final_url", candidate["url"])):
            register = register or entry
        else:
            own = own or entry
    return own, register


def _evidence(entry: dict | None) -> dict | None:
    if entry is None:
        return None
    candidate = entry["candidate"]
    return {"url": candidate.get("final_url", candidate["url"]), "found_via": candidate.get("via"),
            "link_text": candidate.get("text", "") if candidate.get("via") != "common_path" else "",
            **entry["parsed"].to_dict()}


@check("a11y.statement", level="required", family="accessibility", requires=("browser",), norm=NORM,
       title=("Toegankelijkheidsverklaring", "Accessibility statement"),
       advice=("Publiceer een toegankelijkheidsverklaring volgens het model van DigiToegankelijk, link ernaar "
               "vanuit de footer en houd haar actueel (status A of B, minstens jaarlijks herzien).",
               "Publish an accessibility statement using the DigiToegankelijk model, link to it from the footer "
               "and keep it current (status A or B, revised at least yearly)."))
def statement(facts: Facts) -> Verdict:
    """The candidate pages the browser loaded (register links, links whose text or target names
    toegankelijk(heid)/accessibility, the common paths) that read as a statement (a phrase of the model statement):
    the site's own page when it states a status, else the register's entry
    (toegankelijkheidsverklaring.nl/register/<id>), else the own page. Its status (A-D) and date are judged on the
    day of the visit (config/policy/accessibility.toml).
    Pass: status A or B, dated at most `max_age_days` (365) before the visit.
    Warn: A or B dated longer ago, or undated; C dated at most `c_grace_days` (183) before the visit, or undated; a
    statement without a recognisable status.
    Fail: no statement found (status E); status D; C dated longer ago.
    """
    browser = facts["browser"]
    found = browser.get("statement", {})
    own, register = find_statement(found.get("fetched", []))
    chosen = own if own and own["parsed"].status else (register or own)
    details = {"statement": _evidence(chosen), "site_page": _evidence(own), "register": _evidence(register),
               "candidates": [{k: c.get(k) for k in ("url", "via", "status", "error")} for c in found.get("fetched", [])],
               "policy_version": policy()["policy"]["version"]}
    if chosen is None:
        return Verdict(Status.FAIL, Text("Geen toegankelijkheidsverklaring gevonden (status E).",
                                         "No accessibility statement found (status E)."), details)
    parsed = chosen["parsed"]
    where = _evidence(chosen)["url"]
    status = parsed.status
    if status is None:
        return Verdict(Status.WARN, Text(f"Verklaring gevonden op {where}, maar zonder herkenbare status.",
                                         f"Statement found at {where}, but without a recognisable status."), details)
    rules = policy()["statement"]
    label = f"{status} ({STATUS_LABELS[status]})"
    age = (measured_on(browser) - parsed.date).days if parsed.date else None
    details["age_days"] = age
    dated = f", {parsed.date.strftime('%d-%m-%Y')}" if parsed.date else ", zonder datum"
    dated_en = f", {parsed.date.isoformat()}" if parsed.date else ", undated"
    if status in rules["failing"]:
        return Verdict(Status.FAIL, Text(f"Status {label}{dated}: voldoet niet aan de eisen.",
                                         f"Status {label}{dated_en}: does not meet the requirements."), details)
    if status == "C":
        if age is not None and age <= rules["c_grace_days"]:
            return Verdict(Status.WARN, Text(f"Status {label}{dated}: eerste maatregelen, minder dan een half jaar oud.",
                                             f"Status {label}{dated_en}: first measures, less than six months old."),
                           details)
        if age is None:
            return Verdict(Status.WARN, Text(f"Status {label} zonder datum: de termijn is niet te beoordelen.",
                                             f"Status {label} without a date: its term cannot be judged."), details)
        return Verdict(Status.FAIL, Text(f"Status {label}{dated}: langer dan een half jaar alleen eerste maatregelen.",
                                         f"Status {label}{dated_en}: only first measures for more than six months."),
                       details)
    if age is None:
        return Verdict(Status.WARN, Text(f"Status {label}, maar zonder datum van opstellen of herzien.",
                                         f"Status {label}, but without a date of drafting or revision."), details)
    if age > rules["max_age_days"]:
        return Verdict(Status.WARN, Text(f"Status {label}{dated}: meer dan een jaar niet herzien.",
                                         f"Status {label}{dated_en}: not revised for more than a year."), details)
    return Verdict(Status.PASS, Text(f"Toegankelijkheidsverklaring met status {label}{dated}.",
                                     f"Accessibility statement with status {label}{dated_en}."), details)


def wcag_criteria(tags: list[str]) -> list[str]:
    """axe's criterion tags ('wcag111', 'wcag1410') as success criteria ('1.1.1', '1.4.10')."""
    found = []
    for tag in tags:
        match = re.fullmatch(r"wcag(\d)(\d)(\d{1,2})", tag)
        if match:
            found.append(".".join(match.groups()))
    return found


def aggregate(axe_pages: list[dict], kind: str) -> list[dict]:
    """Rules over every frame of every page: impact, nodes, pages, a few selectors, WCAG criteria."""
    rules: dict[str, dict] = {}
    for page in axe_pages:
        for frame in page.get("frames", []):
            for rule in frame.get(kind, []):
                entry = rules.setdefault(rule["id"], {
                    "rule": rule["id"], "impact": rule.get("impact"), "help": rule.get("help", ""),
                    "help_url": rule.get("help_url", ""), "criteria": wcag_criteria(rule.get("tags", [])),
                    "nodes": 0, "pages": [], "frames": [], "selectors": []})
                entry["nodes"] += rule.get("nodes", 0)
                if _rank(rule.get("impact")) < _rank(entry["impact"]):
                    entry["impact"] = rule.get("impact")
                if page["url"] not in entry["pages"]:
                    entry["pages"].append(page["url"])
                if frame["url"] != page["url"] and frame["url"] not in entry["frames"]:
                    entry["frames"].append(frame["url"])
                entry["selectors"] = (entry["selectors"] + rule.get("selectors", []))[:5]
    return sorted(rules.values(), key=lambda r: (_rank(r["impact"]), r["rule"]))


def _rank(impact: str | None) -> int:
    return IMPACT_ORDER.index(impact) if impact in IMPACT_ORDER else len(IMPACT_ORDER)


@check("a11y.wcag", level="required", family="accessibility", requires=("browser",), norm=NORM,
       title=("Automatische WCAG-tests", "Automated WCAG tests"),
       advice=("Los de gevonden fouten op (zie per regel de uitleg van axe-core) en laat de website daarnaast "
               "handmatig onderzoeken: automatische tests vinden maar een deel van de problemen.",
               "Fix the violations found (see axe-core's explanation per rule) and have the site audited by "
               "hand as well: automated tests find only part of the problems."))
def wcag(facts: Facts) -> Verdict:
    """axe-core (pinned; its version recorded) with the tags wcag2a, wcag2aa, wcag21a and wcag21aa in every frame of
    the sampled pages; each rule's violations taken together, with the worst impact seen
    (config/policy/accessibility.toml).
    Fail: a violation of impact critical or serious (`fail_impacts`).
    Warn: violations of other impacts only (moderate, minor).
    Pass: no violation (never called conformance). axe's `incomplete` results are listed as needs review, not judged.
    Error: axe-core ran in no frame (browser).
    """
    axe = facts["browser"].get("axe", {})
    pages = axe.get("pages", [])
    frames = [f for p in pages for f in p.get("frames", [])]
    tested = [f for f in frames if "error" not in f]
    details = {"axe_version": axe.get("version"), "tags": axe.get("tags"), "pages": [p["url"] for p in pages],
               "frames_tested": len(tested), "frames_failed": [f for f in frames if "error" in f],
               "policy_version": policy()["policy"]["version"]}
    if not tested:
        return Verdict(Status.ERROR, Text("axe-core kon op geen enkele pagina draaien.",
                                          "axe-core could not run on any page."), details, reason=Reason.BROWSER)
    violations = aggregate(pages, "violations")
    details["violations"] = violations
    details["needs_review"] = aggregate(pages, "incomplete")
    fail_impacts = set(policy()["wcag"]["fail_impacts"])
    serious = [v for v in violations if v["impact"] in fail_impacts]
    rules = ", ".join(v["rule"] for v in (serious or violations)[:8])
    not_conformance = ("Automatische tests vinden een deel van de problemen; dit is geen conformiteitsverklaring.",
                       "Automated tests find part of the problems; this is not a statement of conformance.")
    if serious:
        return Verdict(Status.FAIL, Text(f"{len(serious)} ernstige WCAG-fout(en) gevonden: {rules}.",
                                         f"{len(serious)} serious WCAG violation(s) found: {rules}."), details)
    if violations:
        return Verdict(Status.WARN, Text(f"Alleen matige of kleine WCAG-fouten gevonden: {rules}.",
                                         f"Only moderate or minor WCAG violations found: {rules}."), details)
    return Verdict(Status.PASS, Text(f"Geen automatisch vindbare WCAG-fouten op {len(pages)} pagina('s). "
                                     f"{not_conformance[0]}",
                                     f"No automatically detectable WCAG violations on {len(pages)} page(s). "
                                     f"{not_conformance[1]}"), details)
