"""A subscriber's digest (notices on change, issue 19): the changes storage/notices.py found, as the text of
an e-mail and as the JSON a webhook receives, in Dutch or English, each change with a link to its
organisation's page on the published site (`[notify] site_url`; the page names are the publisher's own,
reports/publish.py `page_names`).

The text is plain: scanned values in summaries are already stored with control characters escaped
(storage/models.py), and nothing is interpreted as markup by a mail reader.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from govscan.model import say, utc_iso
from reports.explained import until
from reports.publish import org_key, page_names
from storage.notices import Change, Subscription

HEADINGS = {
    "failing": ("Faalt sinds de vorige melding", "Newly failing"),
    "fixed": ("Hersteld", "Fixed"),
    "expiring": ("Uitleg verloopt binnenkort", "Explanation expiring soon"),
    "unreachable": ("Onbereikbaar", "Unreachable"),
}
STATUS = {"pass": ("voldoet", "pass"), "warn": ("waarschuwing", "warning"), "fail": ("voldoet niet", "fail"),
          "info": ("informatief", "info"), "not_applicable": ("niet van toepassing", "not applicable"),
          "error": ("niet te meten", "error")}


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    payload: dict


def organisation_links(site_url: str, state) -> dict[str, str]:
    """Organisation key (code, else name) -> the URL of its page on the published site; empty without a
    `site_url`. `state`: the listed state the site was published from (its rows' org_code and org_name)."""
    if not site_url:
        return {}
    names = page_names({org_key(row) for row in state if org_key(row)})
    root = site_url.rstrip("/")
    return {key: f"{root}/organisations/{name}.html" for key, name in names.items()}


def _status(status: str, lang: str) -> str:
    nl, en = STATUS.get(status, (status, status))
    return say(lang, nl, en)


def _flat(text: str) -> str:
    """One line: a summary or reason with a line break in it cannot start a line of its own in the digest."""
    return " ".join(text.split())


def _line(change: Change, lang: str) -> str:
    if change.kind == "unreachable":
        return say(lang, f"{change.host}: {change.runs} runs op rij niet bereikbaar",
                         f"{change.host}: unreachable {change.runs} runs in a row")
    if change.kind == "expiring":
        day = until(change.expires)
        return say(lang, f"{change.host}, {change.check}: de uitleg geldt tot en met {day} ({_flat(change.reason)})",
                         f"{change.host}, {change.check}: the explanation holds until {day} inclusive "
                         f"({_flat(change.reason)})")
    return (f"{change.host}, {change.check}: {_status(change.previous, lang)} → {_status(change.status, lang)}"
            f" — {_flat(change.summary.get(lang))}")


def _organisation(change: Change) -> str:
    return change.org_code or change.org_name


def render(subscription: Subscription, changes: list[Change], links: dict[str, str],
           generated: datetime) -> Digest:
    """The digest of `changes` for a subscriber, in their language: grouped by organisation, then by kind."""
    lang = subscription.lang
    count = len(changes)
    subject = say(lang, f"govscan: {count} wijziging{'en' if count != 1 else ''}",
                        f"govscan: {count} change{'s' if count != 1 else ''}")
    by_org: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        by_org[_organisation(change)].append(change)
    lines = [say(lang, f"Wijzigingen sinds de vorige melding (abonnement {subscription.id}):",
                       f"Changes since the previous notice (subscription {subscription.id}):"), ""]
    for key in sorted(by_org, key=lambda k: (by_org[k][0].org_name, k)):
        group = by_org[key]
        name = group[0].org_name or say(lang, "zonder organisatie", "no organisation")
        lines.append(f"{name}{f' ({group[0].org_code})' if group[0].org_code else ''}")
        if key in links:
            lines.append(f"  {links[key]}")
        for kind in HEADINGS:
            kind_changes = [change for change in group if change.kind == kind]
            if kind_changes:
                lines.append(f"  {say(lang, *HEADINGS[kind])}:")
                lines += [f"  - {_line(change, lang)}" for change in kind_changes]
        lines.append("")
    lines.append(say(lang, f"Opzeggen: govscan notify remove {subscription.id}",
                           f"Unsubscribe: govscan notify remove {subscription.id}"))
    payload = {
        "subscription": subscription.id,
        "generated": utc_iso(generated),
        "lang": lang,
        "changes": [{
            "kind": change.kind,
            "host": change.host,
            "organisation": {"code": change.org_code, "name": change.org_name},
            "check": change.check or None,
            "status": change.status or None,
            "previous_status": change.previous or None,
            "summary": change.summary.get(lang) or None,
            "explanation_expires": utc_iso(change.expires) if change.expires else None,
            "explanation": change.reason or None,
            "runs": change.runs or None,
            "link": links.get(_organisation(change)),
        } for change in changes],
        "text": "\n".join(lines),
    }
    return Digest(subject, "\n".join(lines) + "\n", payload)
