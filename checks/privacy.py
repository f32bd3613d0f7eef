"""Tracking cookies, trackers and the cookie banner (shared/spec/checks.md, "Privacy"). Judges the facts of
the `browser` probe (scanner/probes/browser.py): its visits without interaction (state "none", front page and
sampled subpages, each in a fresh browser context) and after clicking reject or accept. Which cookie is whose
and which hosts are trackers comes from checks/cookie_policy.py (the Open Cookie Database and a filter list,
with govscan's own rows on top); what counts as tracking is decided here.
"""
from __future__ import annotations

from checks.cookie_policy import CookieRule, cookie_classification, tracker_lists
from checks.registry import Facts, check
from govscan.model import Reason, Status, Text, Verdict

NORM = "Kabinetsdoel (Werkagenda Waardengedreven Digitaliseren, 2023): geen trackingcookies, ook niet na toestemming"
# An identifier-like value (see identifier_like) has at least this many characters.
IDENTIFIER_MIN_CHARS = 8


def visits(browser: dict, state: str) -> list[dict]:
    return [v for v in browser.get("visits", []) if v["state"] == state]


def tracks(rule: CookieRule, cookie: dict) -> bool:
    """Marketing cookies track. Analytics cookies track when a third party processes the data: the cookie lives
    on another site's domain, the row names the platform's own domain, or the row's data controller is not
    the site's operator (self-hosted Matomo on the site's own domain is not tracking; Google Analytics is)."""
    if rule.category == "marketing":
        return True
    if rule.category == "analytics":
        return cookie["third_party"] or bool(rule.domains) or rule.controlled_by_third_party
    return False


def identifier_like(values: list[str]) -> bool:
    """Whether a cookie's values can single out a visitor: one has at least IDENTIFIER_MIN_CHARS characters and a
    digit, and they are not the same in every fresh browser context that got the cookie (a constant such as a
    version stamp identifies no one)."""
    shaped = any(len(v) >= IDENTIFIER_MIN_CHARS and any(ch.isdigit() for ch in v) for v in values)
    return shaped and (len(values) == 1 or len(set(values)) > 1)


def judge_cookies(records: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """(tracking cookies, unknown persistent third-party cookies, unclassified cookies) over the visits, each
    cookie once with the pages it was seen on. Unclassified: unknown first-party persistent cookies with an
    identifier-like value. Unknown session cookies end with the visit and are not listed."""
    classification = cookie_classification()
    found: dict[tuple, dict] = {}
    values: dict[tuple, dict] = {}  # per cookie: its value in each browser context (a page's record names its context)
    for record in records:
        for cookie in record["cookies"]:
            rule = classification.rule_for(cookie["name"], cookie["domain"])
            if rule is not None and not tracks(rule, cookie) or rule is None and cookie["session"]:
                continue
            key = (cookie["name"], cookie["domain"])
            entry = found.setdefault(key, {
                "name": cookie["name"], "domain": cookie["domain"], "third_party": cookie["third_party"],
                "session": cookie["session"], "days": cookie["days"], "partition_key": cookie.get("partition_key"),
                "set_by": cookie.get("set_by", {}), "pages": []})
            if rule is not None:
                entry.update(platform=rule.platform, category=rule.category, rule=rule.name,
                             rule_domains=list(rule.domains), controller=rule.controller, listed_by=rule.source)
            values.setdefault(key, {})[record.get("context", id(record))] = cookie.get("value", "")
            if record["page"] not in entry["pages"]:
                entry["pages"].append(record["page"])
    tracking = [e for e in found.values() if "platform" in e]
    unknown = [e for e in found.values() if "platform" not in e and e["third_party"]]
    unclassified = [e for key, e in found.items() if "platform" not in e and not e["third_party"]
                    and identifier_like(list(values[key].values()))]
    return tracking, unknown, unclassified


def tracker_requests(records: list[dict]) -> list[dict]:
    """Requests to tracker hosts, grouped by host, with the list that names them and the pages they came from."""
    lists = tracker_lists()
    found: dict[str, dict] = {}
    for record in records:
        for request in record["requests"]:
            tracker = lists.tracker_for(request["host"], request.get("third_party", True))
            if tracker is None:
                continue
            entry = found.setdefault(request["host"], {"host": request["host"], **tracker,
                                                       "example": request["url"], "requests": 0, "pages": []})
            entry["requests"] += 1
            if record["page"] not in entry["pages"]:
                entry["pages"].append(record["page"])
    return list(found.values())


def _names(cookies: list[dict]) -> str:
    """Cookie names, each with its platform when it has one: `_ga (Google Analytics), IDE (DoubleClick)`."""
    return ", ".join(sorted({f"{c['name']} ({c['platform']})" if c.get("platform") else c["name"] for c in cookies}))


def _versions() -> dict:
    return {**cookie_classification().versions, **tracker_lists().versions}


def _measured(browser: dict) -> dict:
    return {"pages": [p["url"] for p in browser.get("pages", []) if not p.get("error")],
            "pages_not_measured": [p for p in browser.get("pages", []) if p.get("error")]}


@check("privacy.tracking_cookies", level="required", family="privacy", requires=("browser",), norm=NORM, version=2,
       title=("Geen trackingcookies", "No tracking cookies"),
       advice=("Plaats zonder toestemming geen cookies van advertentie- of analysediensten die gegevens met derden "
               "delen; gebruik privacyvriendelijke, zelf gehoste statistieken en toon video's pas na een klik.",
               "Set no advertising cookies, nor analytics cookies that share data with third parties; use "
               "privacy-friendly self-hosted statistics and load videos only after a click."))
def tracking_cookies(facts: Facts) -> Verdict:
    """The cookies of the visits without interaction (the front page and the sampled subpages, each in a fresh
    browser context), classified by the Open Cookie Database with govscan's own rows on top (checks/cookie_policy.py:
    by name, and by domain where a row names one).
    Fail: a tracking cookie: category Marketing, or Analytics that a third party processes (the cookie is
    third-party, its row names the platform's domains, or its data controller is not the site's operator).
    Warn: no tracking cookie, but a persistent third-party cookie no row knows.
    Pass: neither. Unknown first-party persistent cookies with an identifier-like value (8 or more characters with
    a digit, not the same in every context that got it) are listed as unclassified whatever the status.
    """
    browser = facts["browser"]
    tracking, unknown, unclassified = judge_cookies(visits(browser, "none"))
    details = {"tracking": tracking, "unknown_third_party": unknown, "unclassified": unclassified,
               **_measured(browser), **_versions()}
    also_nl = f" Niet geclassificeerd (ter beoordeling): {_names(unclassified)}." if unclassified else ""
    also_en = f" Unclassified (to review): {_names(unclassified)}." if unclassified else ""
    if tracking:
        return Verdict(Status.FAIL, Text(f"Trackingcookies zonder toestemming: {_names(tracking)}.{also_nl}",
                                         f"Tracking cookies without consent: {_names(tracking)}.{also_en}"), details)
    if unknown:
        return Verdict(Status.WARN, Text(f"Onbekende persistente cookies van derden (ter beoordeling): "
                                         f"{_names(unknown)}.{also_nl}",
                                         f"Unknown persistent third-party cookies (to review): {_names(unknown)}."
                                         f"{also_en}"), details)
    return Verdict(Status.PASS, Text(f"Geen trackingcookies zonder interactie.{also_nl}",
                                     f"No tracking cookies without interaction.{also_en}"), details)


@check("privacy.trackers", level="required", family="privacy", requires=("browser",), norm=NORM, version=2,
       title=("Geen trackers", "No trackers"),
       advice=("Laad geen scripts, pixels of andere verzoeken van trackingdiensten zonder interactie.",
               "Load no scripts, pixels or other requests from tracking services without interaction."))
def trackers_without_interaction(facts: Facts) -> Verdict:
    """The requests of the visits without interaction (the front page and the sampled subpages).
    Fail: a request goes to a tracker host: govscan's trackers.txt decides where it names the host, else the
    whole-host rules of the EasyPrivacy filter list (`||host^`, with `$third-party` only for requests from another
    site, `@@||host^` an exception).
    Pass: none does.
    """
    browser = facts["browser"]
    found = tracker_requests(visits(browser, "none"))
    details = {"trackers": found, **_measured(browser), **_versions()}
    hosts = ", ".join(sorted(t["host"] for t in found))
    if found:
        return Verdict(Status.FAIL, Text(f"Verzoeken naar trackers zonder interactie: {hosts}.",
                                         f"Requests to trackers without interaction: {hosts}."), details)
    return Verdict(Status.PASS, Text("Geen verzoeken naar trackers zonder interactie.",
                                     "No requests to trackers without interaction."), details)


@check("privacy.consent_banner", level="informational", family="privacy", requires=("browser",), norm=NORM,
       title=("Cookiebanner", "Cookie banner"),
       advice=("Maak weigeren even makkelijk als accepteren: een weigerknop op de eerste laag. Beter nog: plaats "
               "geen cookies waarvoor toestemming nodig is, dan is een banner overbodig.",
               "Make rejecting as easy as accepting: a reject button on the first layer. Better still: set no "
               "cookies that need consent, so no banner is needed."))
def consent_banner(facts: Facts) -> Verdict:
    """Informational: whether the front page shows a cookie banner, whose, and how hard rejecting is.
    Info: no banner found; or a banner where rejecting is not harder than accepting.
    Warn: a banner whose reject option was not found (the reject visit found no button to click); or rejecting is
    harder: it took more clicks than accepting, or, when a click visit could not be measured, the first layer has an
    accept button and no reject button.
    """
    browser = facts["browser"]
    banner = browser.get("banner")
    if not banner:
        return Verdict(Status.INFO, Text("Geen cookiebanner gevonden.", "No cookie banner found."), {"banner": None})
    consent = browser.get("consent", {})
    reject, accept = consent.get("reject", {}), consent.get("accept", {})
    roles = {b["role"] for b in banner.get("buttons", [])}
    first_layer = "reject" in roles
    details = {"banner": _shown(banner), "platform": banner.get("platform"), "reject_on_first_layer": first_layer,
               "reject": _shown(reject), "accept": _shown(accept)}
    platform = banner.get("platform")
    if "error" not in reject and not reject.get("clicked"):
        return Verdict(Status.WARN, Text(f"Cookiebanner ({platform}) zonder gevonden weigeroptie.",
                                         f"Cookie banner ({platform}) without a reject option found."), details)
    if reject.get("clicked") and accept.get("clicked"):
        harder = reject["clicks"] > accept["clicks"]
        counts_nl = f": weigeren kost {reject['clicks']} klikken, accepteren {accept['clicks']}"
        counts_en = f": rejecting takes {reject['clicks']} clicks, accepting {accept['clicks']}"
    else:  # a click visit could not be measured: the first layer still tells
        harder = not first_layer and "accept" in roles
        counts_nl = counts_en = ""
    if harder:
        return Verdict(Status.WARN, Text(f"Cookiebanner ({platform}): weigeren is lastiger dan accepteren{counts_nl}.",
                                         f"Cookie banner ({platform}): rejecting is harder than accepting{counts_en}."),
                       details)
    return Verdict(Status.INFO, Text(f"Cookiebanner ({platform}) met een weigeroptie op de eerste laag.",
                                     f"Cookie banner ({platform}) with a reject option on the first layer."), details)


def _shown(record: dict) -> dict:
    """A banner or consent record without its screenshot: the screenshot stays in the browser artifact, and a
    finding keeps only what decides the verdict, so an unchanged banner does not write a new finding every night."""
    return {key: value for key, value in record.items() if key != "screenshot_png_b64"}


def _after_click(facts: Facts, choice: str, count_requests: bool) -> Verdict:
    browser = facts["browser"]
    if not browser.get("banner"):
        return Verdict(Status.NOT_APPLICABLE, Text("Geen cookiebanner.", "No cookie banner."))
    outcome = browser.get("consent", {}).get(choice, {})
    if "error" in outcome:
        reason = outcome["error"].split(":", 1)[0]
        return Verdict(Status.ERROR, Text(f"Niet gemeten: {outcome['error']}", f"Not measured: {outcome['error']}"),
                       {"consent": _shown(outcome)}, reason=reason if reason in set(Reason) else Reason.BROWSER)
    records = visits(browser, choice)
    tracking, _, _ = judge_cookies(records)
    found = tracker_requests(records)
    details = {"consent": _shown(outcome), "tracking": tracking, "trackers": found,
               "pages": [r["page"] for r in records], **_versions()}
    nl_choice, en_choice = ("weigeren", "rejecting") if choice == "reject" else ("accepteren", "accepting")
    problems_nl, problems_en = [], []
    if tracking:
        problems_nl.append(f"trackingcookies {_names(tracking)}")
        problems_en.append(f"tracking cookies {_names(tracking)}")
    if count_requests and found:
        hosts = ", ".join(sorted(t["host"] for t in found))
        problems_nl.append(f"verzoeken naar {hosts}")
        problems_en.append(f"requests to {hosts}")
    if problems_nl:
        return Verdict(Status.FAIL, Text(f"Na {nl_choice}: {'; '.join(problems_nl)}.",
                                         f"After {en_choice}: {'; '.join(problems_en)}."), details)
    if not outcome.get("clicked"):
        return Verdict(Status.WARN, Text(f"Geen knop voor {nl_choice} gevonden; zonder klik geen tracking gezien.",
                                         f"No button for {en_choice} found; no tracking seen without a click."),
                       details)
    return Verdict(Status.PASS, Text(f"Geen tracking na {nl_choice}.", f"No tracking after {en_choice}."), details)


@check("privacy.tracking_after_reject", level="required", family="privacy", requires=("browser",), norm=NORM,
       version=2,
       title=("Geen tracking na weigeren", "No tracking after rejecting"),
       advice=("Laad trackers en hun cookies niet meer nadat een bezoeker heeft geweigerd; controleer de instelling "
               "van het toestemmingsplatform.",
               "Load no trackers or their cookies after a visitor rejected; check the consent platform's setup."))
def tracking_after_reject(facts: Facts) -> Verdict:
    """The front page after clicking the banner's reject option (on a settings layer when the first has none, where
    saving the defaults counts as rejecting), and one more page; cookies classified as for
    privacy.tracking_cookies, requests made after the click as for privacy.trackers.
    Fail: a tracking cookie, or a request to a tracker host.
    Warn: neither, but no reject button was found to click (so nothing was rejected).
    Pass: neither, after a click.
    Not applicable: no cookie banner.
    Error: the reject visit could not be measured (its reason, else browser).
    """
    return _after_click(facts, "reject", count_requests=True)


@check("privacy.tracking_with_consent", level="required", family="privacy", requires=("browser",), norm=NORM,
       version=2,
       title=("Geen trackingcookies na toestemming", "No tracking cookies after consent"),
       advice=("Het kabinetsdoel geldt ook met toestemming: vervang diensten die trackingcookies plaatsen door "
               "privacyvriendelijke alternatieven.",
               "The cabinet's goal holds with consent too: replace services that set tracking cookies with "
               "privacy-friendly alternatives."))
def tracking_with_consent(facts: Facts) -> Verdict:
    """The front page after clicking the banner's accept option (on a settings layer when the first has none), and
    one more page; cookies classified as for privacy.tracking_cookies; requests to trackers are not judged here.
    Fail: a tracking cookie (the cabinet's goal holds with consent too).
    Warn: none, but no accept button was found to click.
    Pass: none, after a click.
    Not applicable: no cookie banner.
    Error: the accept visit could not be measured (its reason, else browser).
    """
    return _after_click(facts, "accept", count_requests=False)
