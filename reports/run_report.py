"""The report of one run: an HTML page (self-contained, readable without internet) and a CSV file, per site
and per check, with the status, the summary and the evidence, and the explanation that holds for a failing
finding (comply or explain: `explanations`, finding id -> explanation, from storage.explanations.holding_for).
Reads stored findings only."""
from __future__ import annotations

import json
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any, Mapping

from govscan.model import Status, Text, say, utc_iso
from reports.explained import EXPORT_FIELDS, export_fields
from reports.explained import html as explanation_html
from reports.export import csv_writer
from reports.page import page, static_files
from reports.site_report import SHOW_ORDER, Catalogue, family_of, level_label, status_class, status_label
from storage.models import FindingRow, RunRow

CSV_COLUMNS = ("run", "organisation", "organisation_type", "organisation_code", "host", "url", "check", "family",
               "level", "status", "reason", "summary_nl", "summary_en", "norm", "details", "addresses",
               "first_seen", "last_seen") + EXPORT_FIELDS


def write(run: RunRow, findings: list[FindingRow], out: Path, catalogue: Catalogue,
          lang: str = "nl", explanations: Mapping[int, Any] | None = None) -> tuple[Path, Path]:
    """Write `run-ID.html` and `run-ID.csv` into `out` (created), with the stylesheets the page links in
    `out/static/`. Returns both paths."""
    (out / "static").mkdir(parents=True, exist_ok=True)
    for name, content in static_files().items():
        (out / "static" / name).write_bytes(content)
    html_path = out / f"run-{run.id}.html"
    csv_path = out / f"run-{run.id}.csv"
    html_path.write_text(render_html(run, findings, catalogue, lang, explanations=explanations), encoding="utf-8")
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        write_csv(fh, run, findings, catalogue, explanations)
    return html_path, csv_path


def _explanation(row: FindingRow, explanations: Mapping[int, Any] | None):
    return (explanations or {}).get(row.id)


def write_csv(fh, run: RunRow, findings: list[FindingRow], catalogue: Catalogue,
              explanations: Mapping[int, Any] | None = None) -> None:
    writer = csv_writer(fh)
    writer.writerow(CSV_COLUMNS)
    for row in findings:
        organisation = row.site.organisation
        held = _explanation(row, explanations)
        explained = export_fields(*((held.reason, held.recorded_by, held.expires) if held else (None, None, None)))
        writer.writerow([
            run.id, organisation.name if organisation else "", organisation.type if organisation else "",
            organisation.code if organisation else "", row.site.host, row.site.url, row.check_id,
            family_of(row.check_id, catalogue), _level(row.check_id, catalogue), row.status, row.reason or "",
            row.summary_nl, row.summary_en, row.norm, json.dumps(row.details, ensure_ascii=False, sort_keys=True),
            json.dumps(row.addresses, ensure_ascii=False), utc_iso(row.first_seen), utc_iso(row.last_seen),
        ] + [explained[field] or "" for field in EXPORT_FIELDS])


def _status_cell(status: str, lang: str) -> str:
    return f'<td class="{status_class(status)}">{escape(status_label(status, lang))}</td>'


def _evidence(row: FindingRow, lang: str) -> str:
    parts = []
    details = {k: v for k, v in row.details.items() if k != "addresses"}
    if details:
        parts.append(f"<pre>{escape(json.dumps(details, ensure_ascii=False, indent=1, sort_keys=True))}</pre>")
    for address in row.addresses:
        summary = Text(**address["summary"]).get(lang)
        text = f"{address['address']}: {status_label(address['status'], lang)} — {summary}"
        extra = json.dumps(address["details"], ensure_ascii=False, sort_keys=True) if address["details"] else ""
        parts.append(f"<div>{escape(text)}</div>" + (f"<pre>{escape(extra)}</pre>" if extra else ""))
    if not parts:
        return ""
    return f"<details><summary>{say(lang, 'bewijs', 'evidence')}</summary>{''.join(parts)}</details>"


def _explained_html(row: FindingRow, explanations: Mapping[int, Any] | None, lang: str) -> str:
    held = _explanation(row, explanations)
    return explanation_html(held.reason, held.recorded_by, held.expires, lang) if held else ""


def _table(caption: str, headings: list[str], rows: list[list[str]]) -> str:
    """A table whose first column heads each row. `rows` hold HTML cells (already escaped, <td> or <th>)."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headings)
    body = "".join(f"<tr>{''.join(cells)}</tr>" for cells in rows)
    return f"<table><caption>{escape(caption)}</caption><tr>{head}</tr>{body}</table>"


def _row_head(text: str, href: str | None = None) -> str:
    inner = f'<a href="{escape(href)}">{escape(text)}</a>' if href else escape(text)
    return f'<th scope="row">{inner}</th>'


def _num(n: int) -> str:
    return f'<td class="num">{n}</td>'


def _level(check_id: str, catalogue: Catalogue) -> str:
    info = catalogue.get(check_id)
    return info.level if info else ""


def render_html(run: RunRow, findings: list[FindingRow], catalogue: Catalogue, lang: str = "nl",
                static: str = "static/", explanations: Mapping[int, Any] | None = None) -> str:
    """The run's report page; `static` is the href of the stylesheets' folder (reports.page.page)."""
    by_site: dict[str, list[FindingRow]] = {}
    for row in findings:
        by_site.setdefault(row.site.host, []).append(row)
    problems = (Status.FAIL, Status.WARN, Status.ERROR)

    facts = [
        (say(lang, "soort", "kind"), run.kind), (say(lang, "toestand", "state"), run.state),
        (say(lang, "gestart (UTC)", "started (UTC)"), f"{run.started:%Y-%m-%d %H:%M:%S}"),
        (say(lang, "klaar (UTC)", "finished (UTC)"), f"{run.finished:%Y-%m-%d %H:%M:%S}" if run.finished else "-"),
        (say(lang, "sites", "sites"), f"{run.sites_done}/{run.sites_total}"),
        (say(lang, "sites met een fout", "sites failing"), str(run.sites_failing)),
        (say(lang, "sites met iets niet gemeten", "sites with errors"), str(run.sites_error)),
        (say(lang, "controles", "checks"), run.checks or say(lang, "alle", "all")),
        (say(lang, "bron", "source"), run.source),
        (say(lang, "versie govscan", "govscan version"), run.tool_version),
        (say(lang, "configuratie", "configuration"), run.config_hash),
    ]
    body = [_table(say(lang, "De run", "The run"), [say(lang, "gegeven", "item"), say(lang, "waarde", "value")],
                   [[_row_head(k), f"<td>{escape(v)}</td>"] for k, v in facts])]

    per_check: dict[str, Counter] = {}
    for row in findings:
        per_check.setdefault(row.check_id, Counter())[row.status] += 1
    body.append(f"<h2>{say(lang, 'Per controle', 'Per check')}</h2>")
    body.append(_table(
        say(lang, "Aantal sites per uitkomst", "Sites per result"),
        [say(lang, "controle", "check"), say(lang, "niveau", "level")] + [status_label(s, lang) for s in SHOW_ORDER],
        [[_row_head(check_id), f"<td>{escape(level_label(check_id, catalogue, lang))}</td>"]
         + [_num(counts[str(s)]) for s in SHOW_ORDER] for check_id, counts in sorted(per_check.items())]))

    overview = []
    for host, rows in by_site.items():
        counts = Counter(r.status for r in rows)
        organisation = rows[0].site.organisation
        name = organisation.name if organisation else ""
        overview.append([_row_head(host, f"#site-{host}"), f"<td>{escape(name)}</td>"]
                        + [_num(counts[str(s)]) for s in problems])
    body.append(f"<h2>{say(lang, 'Per site', 'Per site')}</h2>")
    body.append(_table(say(lang, "Sites in deze run", "Sites in this run"),
                       ["site", say(lang, "organisatie", "organisation")] + [status_label(s, lang) for s in problems],
                       overview))

    for host, rows in by_site.items():
        site = rows[0].site
        who = ""
        if site.organisation:
            org = site.organisation
            who = f" — {org.name} ({org.type}{', ' + org.code if org.code else ''})"
        results = [
            [_row_head(r.check_id), f"<td>{escape(level_label(r.check_id, catalogue, lang))}</td>",
             _status_cell(r.status, lang),
             f"<td>{escape(r.summary.get(lang))}"
             f"{' (' + escape(r.reason) + ')' if r.reason else ''}{_explained_html(r, explanations, lang)}</td>",
             f"<td>{_evidence(r, lang)}</td>"]
            for r in sorted(rows, key=lambda r: (SHOW_ORDER.index(Status(r.status)), r.check_id))]
        body.append(
            f'<section id="site-{escape(host)}"><h2>{escape(host + who)}</h2>'
            f'<p><a href="{escape(site.url)}">{escape(site.url)}</a></p>'
            + _table(say(lang, "Uitkomsten", "Results"),
                     [say(lang, "controle", "check"), say(lang, "niveau", "level"), say(lang, "uitkomst", "result"),
                      say(lang, "samenvatting", "summary"), say(lang, "bewijs", "evidence")], results)
            + "</section>")

    footer = say(lang, "Gemaakt door govscan. Een fout bij het meten ('niet gemeten') telt nooit als 'voldoet niet'.",
                       "Made by govscan. A measurement error ('error') never counts as a fail.")
    return page(say(lang, f"Rapport van run {run.id}", f"Report of run {run.id}"), "\n".join(body), lang=lang,
                footer=f"<p>{footer}</p>", static=static)
