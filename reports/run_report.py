"""The report of one run: an HTML page (self-contained, readable without internet) and a CSV file, per site
and per check, with the status, the summary and the evidence. Reads stored findings only."""
from __future__ import annotations

import csv
import json
from collections import Counter
from html import escape
from pathlib import Path

from reports.page import page
from reports.site_report import LEVEL_LABEL, SHOW_ORDER, check_info, family_of, status_label
from scanner.model import Status, Text
from storage.models import FindingRow, RunRow

CSV_COLUMNS = ("run", "organisation", "organisation_type", "organisation_code", "host", "url", "check", "family",
               "level", "status", "reason", "summary_nl", "summary_en", "norm", "details", "addresses",
               "first_seen", "last_seen")


def write(run: RunRow, findings: list[FindingRow], out: Path, lang: str = "nl") -> tuple[Path, Path]:
    """Write `run-ID.html` and `run-ID.csv` into `out` (created). Returns both paths."""
    out.mkdir(parents=True, exist_ok=True)
    html_path = out / f"run-{run.id}.html"
    csv_path = out / f"run-{run.id}.csv"
    html_path.write_text(render_html(run, findings, lang), encoding="utf-8")
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        write_csv(fh, run, findings)
    return html_path, csv_path


def _level(check_id: str) -> str:
    info = check_info(check_id)
    return info.level if info else ""


def write_csv(fh, run: RunRow, findings: list[FindingRow]) -> None:
    writer = csv.writer(fh)
    writer.writerow(CSV_COLUMNS)
    for row in findings:
        organisation = row.site.organisation
        writer.writerow([
            run.id, organisation.name if organisation else "", organisation.type if organisation else "",
            organisation.code if organisation else "", row.site.host, row.site.url, row.check_id,
            family_of(row.check_id), _level(row.check_id), row.status, row.reason or "", row.summary_nl,
            row.summary_en, row.norm, json.dumps(row.details, ensure_ascii=False, sort_keys=True),
            json.dumps(row.addresses, ensure_ascii=False), row.first_seen.isoformat(), row.last_seen.isoformat(),
        ])


def _status_cell(status: str, lang: str) -> str:
    css = status if status in ("pass", "warn", "fail", "error") else "other"
    return f'<td class="status-{css}">{escape(status_label(status, lang))}</td>'


def _evidence(row: FindingRow, lang: str) -> str:
    parts = []
    details = {k: v for k, v in row.details.items() if k != "addresses"}
    if details:
        parts.append(f"<pre>{escape(json.dumps(details, ensure_ascii=False, indent=1, sort_keys=True))}</pre>")
    for address in row.addresses:
        summary = address["summary"].get(lang, address["summary"]["nl"])
        text = f"{address['address']}: {status_label(address['status'], lang)} — {summary}"
        extra = json.dumps(address["details"], ensure_ascii=False, sort_keys=True) if address["details"] else ""
        parts.append(f"<div>{escape(text)}</div>" + (f"<pre>{escape(extra)}</pre>" if extra else ""))
    if not parts:
        return ""
    label = "bewijs" if lang == "nl" else "evidence"
    return f"<details><summary>{label}</summary>{''.join(parts)}</details>"


def render_html(run: RunRow, findings: list[FindingRow], lang: str = "nl") -> str:
    t = lambda nl, en: Text(nl, en).get(lang)  # noqa: E731
    by_site: dict[str, list[FindingRow]] = {}
    for row in findings:
        by_site.setdefault(row.site.host, []).append(row)

    facts = [
        (t("soort", "kind"), run.kind), (t("toestand", "state"), run.state),
        (t("gestart (UTC)", "started (UTC)"), f"{run.started:%Y-%m-%d %H:%M:%S}"),
        (t("klaar (UTC)", "finished (UTC)"), f"{run.finished:%Y-%m-%d %H:%M:%S}" if run.finished else "-"),
        (t("sites", "sites"), f"{run.sites_done}/{run.sites_total}"),
        (t("sites met een fout", "sites failing"), str(run.sites_failing)),
        (t("sites met iets niet gemeten", "sites with errors"), str(run.sites_error)),
        (t("controles", "checks"), run.checks or t("alle", "all")), (t("bron", "source"), run.source),
        (t("versie govscan", "govscan version"), run.tool_version), (t("configuratie", "configuration"), run.config_hash),
    ]
    body = [f"<table><caption>{t('De run', 'The run')}</caption>"
            + "".join(f'<tr><th scope="row">{escape(k)}</th><td>{escape(v)}</td></tr>' for k, v in facts)
            + "</table>"]

    per_check: dict[str, Counter] = {}
    for row in findings:
        per_check.setdefault(row.check_id, Counter())[row.status] += 1
    heads = "".join(f'<th scope="col">{escape(status_label(s, lang))}</th>' for s in SHOW_ORDER)
    rows = "".join(
        f'<tr><th scope="row">{escape(check_id)}</th><td>{escape(_level_label(check_id, lang))}</td>'
        + "".join(f'<td class="num">{counts[str(s)]}</td>' for s in SHOW_ORDER) + "</tr>"
        for check_id, counts in sorted(per_check.items()))
    body.append(f"<h2>{t('Per controle', 'Per check')}</h2><table><caption>{t('Aantal sites per uitkomst', 'Sites per result')}"
                f'</caption><tr><th scope="col">{t("controle", "check")}</th><th scope="col">{t("niveau", "level")}</th>'
                f"{heads}</tr>{rows}</table>")

    overview = []
    for host, rows_ in by_site.items():
        counts = Counter(r.status for r in rows_)
        organisation = rows_[0].site.organisation
        overview.append(
            f'<tr><th scope="row"><a href="#site-{escape(host)}">{escape(host)}</a></th>'
            f"<td>{escape(organisation.name if organisation else '')}</td>"
            + "".join(f'<td class="num">{counts[str(s)]}</td>' for s in (Status.FAIL, Status.WARN, Status.ERROR))
            + "</tr>")
    body.append(
        f"<h2>{t('Per site', 'Per site')}</h2><table><caption>{t('Sites in deze run', 'Sites in this run')}</caption>"
        f'<tr><th scope="col">site</th><th scope="col">{t("organisatie", "organisation")}</th>'
        + "".join(f'<th scope="col">{escape(status_label(s, lang))}</th>' for s in (Status.FAIL, Status.WARN, Status.ERROR))
        + f"</tr>{''.join(overview)}</table>")

    for host, rows_ in by_site.items():
        site = rows_[0].site
        organisation = site.organisation
        who = f" — {escape(organisation.name)} ({escape(organisation.type)}{', ' + escape(organisation.code) if organisation.code else ''})" if organisation else ""
        lines = "".join(
            f'<tr><th scope="row">{escape(r.check_id)}</th><td>{escape(_level_label(r.check_id, lang))}</td>'
            f"{_status_cell(r.status, lang)}<td>{escape(r.summary_en if lang == 'en' else r.summary_nl)}"
            f"{' (' + escape(r.reason) + ')' if r.reason else ''}</td><td>{_evidence(r, lang)}</td></tr>"
            for r in sorted(rows_, key=lambda r: (SHOW_ORDER.index(Status(r.status)), r.check_id)))
        body.append(
            f'<section id="site-{escape(host)}"><h2>{escape(host)}{who}</h2><p><a href="{escape(site.url)}">'
            f"{escape(site.url)}</a></p><table><caption>{t('Uitkomsten', 'Results')}</caption>"
            f'<tr><th scope="col">{t("controle", "check")}</th><th scope="col">{t("niveau", "level")}</th>'
            f'<th scope="col">{t("uitkomst", "result")}</th><th scope="col">{t("samenvatting", "summary")}</th>'
            f'<th scope="col">{t("bewijs", "evidence")}</th></tr>{lines}</table></section>')

    footer = t("Gemaakt door govscan. Een fout bij het meten ('niet gemeten') telt nooit als 'voldoet niet'.",
               "Made by govscan. A measurement error ('error') never counts as a fail.")
    return page(t(f"Rapport van run {run.id}", f"Report of run {run.id}"), "\n".join(body), lang=lang,
                footer=f"<p>{footer}</p>")


def _level_label(check_id: str, lang: str) -> str:
    level = _level(check_id)
    return LEVEL_LABEL[level].get(lang) if level else ""
