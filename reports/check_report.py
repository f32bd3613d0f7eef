"""The report of one site as the web service shows it (`govscan serve`, /check/<id>): the trusted HTML body
that the check page puts into `reports.page.page()`.

It shows what reports/site_report.py decides, in the same order as `govscan check`: the summary line, then
the failing required checks, the warnings and what could not be measured, each with what was found, what the
norm asks, how to fix it and the result per IP address, then the rest collapsed (<details>). Inside each
part the checks are grouped per family. Headings run h2 (part), h3 (family), h4 (check) under the page's h1.

Everything a site or its DNS sent (summaries, evidence, addresses) is escaped with `html.escape`; the markup
carries no `style` attributes and no scripts, only classes (reports/static/govscan.css), so the service's
Content-Security-Policy needs no `unsafe-inline`. A status is always written out, never shown by colour
alone.
"""
from __future__ import annotations

from html import escape

from govscan.model import AddressResult, Finding, Status, say
from reports.site_report import (LEVEL_LABEL, WORDS, Catalogue, Part, Section, SiteReport, Summary,
                                 evidence_lines, family_label, fix_first, status_class,
                                 status_label)

PART_CLASS = {Part.FIX: "status-fail", Part.WARN: "status-warn", Part.ERROR: "status-error", Part.REST: ""}


def render(report: SiteReport, catalogue: Catalogue, lang: str) -> str:
    """The body of the report page: summary, what to fix first, the rest collapsed."""
    addresses = report.addresses.get("ipv4", []) + report.addresses.get("ipv6", [])
    parts = [
        f'<p class="govscan-summary"><strong>{escape(Summary.of(report, catalogue).text().get(lang))}</strong></p>',
        f"<p>{escape(say(lang, 'Gecontroleerd', 'Checked'))}: {escape(report.url)}</p>",
        f"<p>{escape(WORDS['addresses'].get(lang))}: {escape(', '.join(addresses) or WORDS['none'].get(lang))}</p>",
    ]
    for section in fix_first(report, catalogue):
        parts.append(_rest(section, catalogue, lang) if section.part == Part.REST
                     else _attention(section, catalogue, lang))
    return "\n".join(parts)


def _heading(section: Section, lang: str) -> str:
    css = f' class="{PART_CLASS[section.part]}"' if PART_CLASS[section.part] else ""
    return (f'<h2 id="part-{section.part}"{css}>{escape(section.title.get(lang))} '
            f"({len(section.findings())})</h2>")


def _attention(section: Section, catalogue: Catalogue, lang: str) -> str:
    """A part shown in full: per family, each check with what was found, the norm and how to fix it."""
    html = [f'<section class="govscan-part" aria-labelledby="part-{section.part}">', _heading(section, lang)]
    for family, findings in section.families.items():
        html.append(f"<h3>{escape(family_label(family, lang))}</h3>")
        html.extend(_finding(finding, catalogue, lang, fixable=section.part != Part.ERROR) for finding in findings)
    html.append("</section>")
    return "\n".join(html)


def _finding(finding: Finding, catalogue: Catalogue, lang: str, fixable: bool) -> str:
    info = catalogue.get(finding.check)
    title = info.title.get(lang) if info else finding.check
    level = f" · {escape(LEVEL_LABEL[info.level].get(lang))}" if info else ""
    found = [f"<p>{escape(finding.summary.get(lang))}{_reason(finding.reason)}</p>", _evidence(finding.details)]
    items = [(WORDS["found"], "".join(found))]
    if fixable:
        items.append((WORDS["norm"], f"<p>{escape(info.norm if info else finding.norm)}</p>"))
        if info:
            items.append((WORDS["fix"], f"<p>{escape(info.advice.get(lang))}</p>"))
    terms = "".join(f"<dt>{escape(term.get(lang))}</dt><dd>{value}</dd>" for term, value in items)
    return (f'<article class="govscan-finding" id="check-{escape(finding.check)}">'
            f"<h4>{escape(title)}</h4>"
            f"<p>{_status(finding.status, lang)}{level} · <code>{escape(finding.check)}</code></p>"
            f"<dl>{terms}</dl>{_addresses(finding.addresses, title, lang)}</article>")


def _addresses(addresses: list[AddressResult], title: str, lang: str) -> str:
    """The result per IP address, with the evidence of those that fail or warn."""
    if not addresses:
        return ""
    headings = [say(lang, "Adres", "Address"), say(lang, "Uitkomst", "Result"), WORDS["found"].get(lang)]
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headings)
    rows = []
    for address in addresses:
        evidence = _evidence(address.details) if address.status in (Status.FAIL, Status.WARN) else ""
        rows.append(f'<tr><th scope="row">{escape(address.address)}</th><td>{_status(address.status, lang)}</td>'
                    f"<td>{escape(address.summary.get(lang))}{_reason(address.reason)}{evidence}</td></tr>")
    caption = say(lang, f"{title}: per IP-adres", f"{title}: per IP address")
    return (f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _rest(section: Section, catalogue: Catalogue, lang: str) -> str:
    """The checks that need nothing, collapsed: per family a table of title, result and summary."""
    count = len(section.findings())
    show = say(lang, f"Toon de {count} andere controles", f"Show the {count} other checks")
    html = [f'<section class="govscan-part" aria-labelledby="part-{section.part}">', _heading(section, lang),
            f"<details><summary>{escape(show)}</summary>"]
    headings = [say(lang, "Controle", "Check"), say(lang, "Uitkomst", "Result"), say(lang, "Samenvatting", "Summary")]
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headings)
    for family, findings in section.families.items():
        rows = []
        for finding in findings:
            info = catalogue.get(finding.check)
            title = info.title.get(lang) if info else finding.check
            rows.append(f'<tr><th scope="row">{escape(title)} <code>{escape(finding.check)}</code></th>'
                        f"<td>{_status(finding.status, lang)}</td><td>{escape(finding.summary.get(lang))}</td></tr>")
        html.append(f"<h3>{escape(family_label(family, lang))}</h3><table><caption>{escape(family_label(family, lang))}: "
                    f"{escape(section.title.get(lang).lower())}</caption><thead><tr>{head}</tr></thead>"
                    f"<tbody>{''.join(rows)}</tbody></table>")
    html.append("</details></section>")
    return "\n".join(html)


def _status(status: str, lang: str) -> str:
    """The status in words, with its class for the colour."""
    return f'<strong class="{status_class(status)}">{escape(status_label(status, lang))}</strong>'


def _reason(reason: str | None) -> str:
    return f" ({escape(reason)})" if reason else ""


def _evidence(details: dict) -> str:
    lines = evidence_lines(details)
    if not lines:
        return ""
    items = "".join(f"<li><code>{escape(line)}</code></li>" for line in lines)
    return f'<ul class="govscan-evidence">{items}</ul>'

