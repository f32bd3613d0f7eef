"""`govscan publish`: the whole set of reports as a static site for any web server: an index, trends,
maps, a page per organisation, the run reports, CSV/JSON exports, and the stylesheets they link.

Reads storage only, and what the caller says about the checks (a catalogue of `CheckInfo`). The Publisher
renders the site into memory (relative path -> bytes); `publish` writes that out, and the web service
(scanner/service/dashboard.py) serves the same files live under /dashboard/, so publishing is a static copy
of the same thing. Every link inside the site is relative, so both work. Pages are HTML in the NL Design
System's look (reports/page.py): no scripts, no inline styles, nothing fetched from elsewhere, so they track
nobody and work offline.

A failing finding with an explanation that holds (comply or explain, storage/explanations.py) keeps its
measured status; the pages show it as explained with its reason, the maps in a colour and pattern of their
own, the trends count it apart (never as complying), and the exports carry the explanation's fields.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from pathlib import Path

from govscan.model import say, utc_iso
from reports import maps as maps_module
from reports import run_report, trends
from reports.console import sites_per_minute
from reports.explained import EXPORT_FIELDS, LABEL, export_fields
from reports.explained import html as explanation_html
from reports.export import csv_writer
from reports.page import page, static_files
from reports.site_report import Catalogue, status_label
from reports.standards import Colour, all_together, load_standards, site_colour, statuses_by_site
from storage.explanations import holding_for, spans
from storage.history import status_versions

DAY_SERIES_DAYS = 92  # the daily series covers the last three months; weeks and months cover everything
RUN_REPORTS = 30      # run reports for the newest runs


@dataclass
class Options:
    lang: str = "nl"
    boundaries: dict | None = None   # kind -> GeoJSON path; None: the lab's (lab=True) or the shipped 2025 ones
    lab: bool = False
    months: int = 6                  # the projection's window
    standards: Path | None = None    # a standards file other than config/standards.toml


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "organisatie"


def org_key(row) -> str:
    return row.org_code or row.org_name


def page_names(keys) -> dict[str, str]:
    """The page file name of each organisation: its slug, and where two keys share one (codes `AB.1` and
    `ab-1`) a short hash of the key after it, so no organisation's page replaces another's."""
    by_slug: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        by_slug[slug(key)].append(key)
    return {key: name if len(same) == 1 else f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"
            for name, same in by_slug.items() for key in same}


def _nav(lang: str, root: str) -> list[tuple[str, str]]:
    return [(f"{root}index.html", say(lang, "Overzicht", "Overview")), (f"{root}trends.html", "Trends"),
            (f"{root}maps/all.html", say(lang, "Kaarten", "Maps")),
            (f"{root}organisations/index.html", say(lang, "Organisaties", "Organisations")),
            (f"{root}runs/index.html", "Runs")]


def _footer(lang: str, generated: datetime) -> str:
    return (f"<p>{escape(say(lang, 'Gemaakt door govscan op', 'Made by govscan on'))} "
            f"{generated:%Y-%m-%d %H:%M} UTC. "
            f"{escape(say(lang, 'Een meetfout telt nooit als “voldoet niet”.', 'A measurement error never counts as a fail.'))}"
            f"</p>")


def _table(caption: str, headings: list[str], rows: list[list[str]]) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headings)
    body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    return f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _rate(run, now: datetime) -> str:
    """Sites a minute from the run's start to its end, or to the moment of publishing while it runs."""
    rate = sites_per_minute(run, now)
    return "" if rate is None else f"{rate:.1f}"


def _td(text: str, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f"<td{cls}>{escape(str(text))}</td>"


def _status_td(status: str, lang: str, explained: bool = False) -> str:
    """The measured status; an explained failure says so beside it, in a class of its own."""
    if explained:
        return _td(f"{status_label(status, lang)}, {LABEL.get(lang)}", "status-explained")
    css = {"fail": "status-fail", "warn": "status-warn", "pass": "status-pass"}.get(status, "status-other")
    return _td(status_label(status, lang), css)


def _share(a: trends.Adoption | None) -> str:
    return "-" if a is None or a.share is None else f"{a.share:.0%} ({a.complying}/{a.measured})"


class Publisher:
    """Renders the site: `render()` returns every file by its path relative to the site's root."""

    def __init__(self, store, catalogue: Catalogue, options: Options, now: datetime | None = None):
        self.store = store
        self.catalogue = catalogue
        self.options = options
        self.lang = options.lang
        self.now = now or store.now()
        self.standards = load_standards(options.standards) if options.standards else load_standards()
        self.files: dict[str, bytes] = {}

    def write(self, relative: str, text: str) -> None:
        self.files[relative] = text.encode("utf-8")

    def page(self, relative: str, title: str, body: str) -> None:
        root = "../" * relative.count("/")
        self.write(relative, page(title, body, lang=self.lang, nav=_nav(self.lang, root),
                                  footer=_footer(self.lang, self.now), static=f"{root}static/"))

    def render(self) -> dict[str, bytes]:
        self.files = {f"static/{name}": content for name, content in static_files().items()}
        # What the site lists name, never the sites people checked through the web service (storage.store).
        runs = self.store.runs(listed_only=True)
        state = self.store.state_on(self.now, listed_only=True)
        first_day = min((r.started.date() for r in runs), default=self.now.date())
        versions = status_versions(self.store, first_day, self.now, listed_only=True)
        self.state_at = trends.state_from(versions, spans(self.store, first_day, self.now))
        self.rule_changes = trends.rule_changes(versions, self.standards)
        series = {}
        for period in trends.PERIODS:
            start = max(first_day, self.now.date() - timedelta(days=DAY_SERIES_DAYS)) if period == "day" else first_day
            series[period] = trends.series(self.state_at, self.standards, start, self.now.date(), period)
        chart_period = "day" if (self.now.date() - first_day).days <= DAY_SERIES_DAYS else "week"
        points = series[chart_period]
        projections = {s.id: trends.project(points, s.id, months=self.options.months) for s in self.standards}
        self.exports(state, series, projections)
        self.trends_page(points, projections, chart_period)
        self.map_pages(state)
        self.organisation_pages(state, first_day)
        self.run_pages(runs)
        self.index(state, points, projections, runs)
        return self.files

    # --- pages ---

    def index(self, state, points, projections, runs) -> None:
        lang = self.lang
        latest = {}
        for p in points:
            latest[p.standard, p.group] = p  # points are in time order: the last one wins
        groups = sorted({g for _, g in latest}, key=lambda g: (g != trends.TOTAL, g))
        rows = [[f'<th scope="row">{escape(s.title.get(lang))}</th>']
                + [_td(_share(latest.get((s.id, g))), "num") for g in groups]
                + [_td(projections[s.id].describe(lang))] for s in self.standards]
        body = [f"<p>{escape(say(lang, 'Stand op', 'State on'))} {self.now:%Y-%m-%d %H:%M} UTC: "
                f"{len({r.host for r in state})} sites, {len(runs)} runs.</p>",
                f"<h2>{escape(say(lang, 'Adoptie per standaard', 'Adoption per standard'))}</h2>",
                _table(say(lang, "Aandeel sites dat voldoet, en wanneer 100% bereikt wordt in het huidige tempo",
                           "Share of sites that comply, and when 100% is reached at the current pace"),
                       [say(lang, "standaard", "standard")] + [trends.group_name(g, lang) for g in groups]
                       + [say(lang, "prognose", "projection")], rows),
                f"<h2>{escape(say(lang, 'Downloads', 'Downloads'))}</h2><ul>"
                + "".join(f'<li><a href="exports/{name}">{name}</a></li>' for name in self.export_names)
                + "</ul>"]
        title = say(lang, "Naleving van standaarden door de overheid",
                          "Compliance of government websites with the standards")
        self.page("index.html", title, "\n".join(body))

    def trends_page(self, points, projections, period: str) -> None:
        lang = self.lang
        body = [f"<p>{escape(say(lang, 'Aandeel sites dat aan elke verplichte controle van de standaard voldoet, per ', 'Share of sites meeting every required check of the standard, per '))}"
                f"{escape({'day': say(lang, 'dag', 'day'), 'week': say(lang, 'week', 'week')}[period])}. "
                f"{escape(say(lang, 'De prognose volgt een rechte lijn door de laatste', 'The projection follows a straight line through the last'))} "
                f"{self.options.months} {escape(say(lang, 'maanden', 'months'))}.</p>"]
        for standard in self.standards:
            mine = [p for p in points if p.standard == standard.id]
            last_day = max((p.day for p in mine), default=None)
            table = ""
            if last_day:
                rows = [[f'<th scope="row">{escape(trends.group_name(p.group, lang))}</th>', _td(_share(p), "num"),
                         _td(p.explained, "num")]
                        for p in sorted(mine, key=lambda p: (p.group != trends.TOTAL, p.group)) if p.day == last_day]
                table = _table(f"{standard.title.get(lang)}, {last_day.isoformat()}",
                               [say(lang, "groep", "group"), say(lang, "voldoet", "complies"),
                                say(lang, "voldoet niet, uitgelegd", "does not comply, explained")], rows)
            changes = [c for c in self.rule_changes if c.standard == standard.id]
            chart = trends.chart_svg(mine, standard, projections[standard.id], lang=lang, changes=changes)
            body.append(f'<section aria-labelledby="t-{standard.id}"><h2 id="t-{standard.id}">'
                        f"{escape(standard.title.get(lang))}</h2>"
                        f"<p>{escape(say(lang, 'Prognose', 'Projection'))}: {escape(projections[standard.id].describe(lang))}."
                        + (f" {escape(say(lang, 'Norm', 'Norm'))}: {escape(standard.norm)}" if standard.norm else "")
                        + "</p>"
                        f'<div class="chart">{chart}</div>{self.rule_change_list(changes)}{table}</section>')
        body.append(f"<p>{escape(say(lang, 'Alle cijfers', 'All figures'))}: "
                    + ", ".join(f'<a href="exports/{name}">{name}</a>'
                                for name in [f"trends-{p}.csv" for p in trends.PERIODS] + ["rule-changes.csv"])
                    + "</p>")
        self.page("trends.html", say(lang, "Trends per standaard", "Trends per standard"), "\n".join(body))

    def rule_change_list(self, changes) -> str:
        """The days a check of the standard got new rules (the grey lines of the chart), in words."""
        if not changes:
            return ""
        lang = self.lang
        intro = say(lang, "Nieuwe regels (grijze lijnen; een sprong op zo'n dag kan van de regel komen, niet van "
                          "de sites)", "New rules (grey lines; a jump on such a day may come from the rule, not "
                                       "from the sites)")
        return (f"<p>{escape(intro)}:</p><ul>"
                + "".join(f"<li>{escape(trends.describe_rule_change(c, lang))}</li>" for c in changes) + "</ul>")

    def map_pages(self, state) -> None:
        lang = self.lang
        loaded = maps_module.load_maps(self.options.boundaries, lab=self.options.lab)
        choices = [all_together(self.standards)] + self.standards
        for standard in choices:
            current = ' aria-current="page"'
            links = "".join(f'<li><a href="{s.id}.html"{current if s.id == standard.id else ""}>'
                            f"{escape(s.title.get(lang))}</a></li>" for s in choices)
            nav = (f'<nav aria-label="{escape(say(lang, "Standaarden", "Standards"))}"><ul>{links}</ul></nav>')
            self.page(f"maps/{standard.id}.html", f"{say(lang, 'Kaart', 'Map')}: {standard.title.get(lang)}",
                      nav + maps_module.render_section(standard, list(state), loaded, lang))

    def organisation_pages(self, state, first_day: date) -> None:
        lang = self.lang
        orgs: dict[str, list] = defaultdict(list)
        for row in state:
            if org_key(row):
                orgs[org_key(row)].append(row)
        together = all_together(self.standards)
        # the weekly states the history tables show, taken once and split by organisation
        self.history_days = trends.period_ends(first_day, self.now.date(), "week")[-12:]
        self.weekly: dict[tuple[date, str], list] = defaultdict(list)
        for day in self.history_days:
            for row in self.state_at(trends.end_of(day)):
                self.weekly[day, org_key(row)].append(row)
        index_rows = []
        names = page_names(orgs)
        for key, rows in sorted(orgs.items(), key=lambda kv: kv[1][0].org_name):
            first = rows[0]
            name = f"organisations/{names[key]}.html"
            by_site: dict[str, dict[str, str]] = defaultdict(dict)
            for r in rows:
                by_site[r.host][r.check] = r.status
            colour = maps_module.organisation_results(rows, together)[key].colour
            index_rows.append([f'<th scope="row"><a href="{names[key]}.html">{escape(first.org_name)}</a></th>',
                               _td(first.org_type), _td(first.org_code), _td(len(by_site), "num"),
                               _td(maps_module.label(colour, lang))])
            self.organisation_page(name, key, rows)
        self.page("organisations/index.html", say(lang, "Organisaties", "Organisations"),
                  _table(say(lang, "Alle organisaties", "All organisations"),
                         [say(lang, "organisatie", "organisation"), "type", "code", "sites",
                          say(lang, "alle standaarden", "all standards")], index_rows))

    def organisation_page(self, relative: str, key: str, rows) -> None:
        lang = self.lang
        first = rows[0]
        body = [f"<p>{escape(first.org_type)}{', ' + escape(first.org_code) if first.org_code else ''}</p>"]
        by_site: dict[str, list] = defaultdict(list)
        for r in rows:
            by_site[r.host].append(r)
        statuses = statuses_by_site(rows)

        standard_rows = []
        for standard in self.standards:
            colours = [site_colour(checks, standard) for checks in statuses.values()]
            worst = next((c for c in Colour if c in colours), Colour.GREY)  # Colour runs worst first
            standard_rows.append([f'<th scope="row">{escape(standard.title.get(lang))}</th>',
                                  _td(maps_module.label(worst, lang))])
        body.append(f"<h2>{escape(say(lang, 'Per standaard', 'Per standard'))}</h2>")
        body.append(_table(say(lang, "Slechtste verplichte uitkomst per standaard",
                                 "Worst required result per standard"),
                           [say(lang, "standaard", "standard"), say(lang, "uitkomst", "result")], standard_rows))

        days = self.history_days
        history = trends.organisation_history(lambda moment: self.weekly[moment.date(), key], self.standards,
                                              key, days)
        cells = {(p.day, p.standard): f"{p.complying}/{p.measured}" for p in history}
        body.append(f"<h2>{escape(say(lang, 'Geschiedenis per standaard', 'History per standard'))}</h2>")
        body.append(_table(say(lang, "Sites die voldoen / gemeten sites, per week",
                                 "Sites that comply / sites measured, per week"),
                           [say(lang, "standaard", "standard")] + [d.isoformat() for d in days],
                           [[f'<th scope="row">{escape(s.title.get(lang))}</th>']
                            + [_td(cells.get((d, s.id), "-"), "num") for d in days] for s in self.standards]))

        for host, site_rows in sorted(by_site.items()):
            body.append(self.site_section(host, site_rows))
        self.page(relative, first.org_name, "\n".join(body))

    def site_section(self, host: str, rows) -> str:
        lang = self.lang
        order = {s: i for i, s in enumerate(("fail", "error", "warn", "info", "pass", "not_applicable"))}
        results, fixes = [], []
        for r in sorted(rows, key=lambda r: (order.get(r.status, 9), r.check)):
            info = self.catalogue.get(r.check)
            title = info.title.get(lang) if info else r.check
            explained = r.explanation_id is not None
            summary = escape(r.summary.get(lang)) + (explanation_html(r.explanation, r.explained_by,
                                                                      r.explanation_expires, lang) if explained else "")
            results.append([f'<th scope="row">{escape(title)} <small>({escape(r.check)})</small></th>',
                            _status_td(r.status, lang, explained), f"<td>{summary}</td>",
                            _td(f"{r.first_seen:%Y-%m-%d}")])
            if r.status in ("fail", "warn") and info:
                fixes.append(f"<li><strong>{escape(title)}</strong>: {escape(info.advice.get(lang))}"
                             f" <small>({escape(say(lang, 'norm', 'norm'))}: {escape(info.norm)})</small></li>")
        changes = self.changes(host)
        anchor = slug(host)
        parts = [f'<section aria-labelledby="site-{anchor}"><h2 id="site-{anchor}">{escape(host)}</h2>',
                 _table(say(lang, f"Huidige uitkomsten voor {host}", f"Current results for {host}"),
                        [say(lang, "controle", "check"), say(lang, "uitkomst", "result"),
                         say(lang, "samenvatting", "summary"), say(lang, "sinds", "since")], results)]
        heading = say(lang, "Veranderd sinds de vorige run", "Changed since the previous run")
        parts.append(f"<h3>{escape(heading)}</h3>")
        parts.append("<ul>" + "".join(changes) + "</ul>" if changes else
                     f"<p>{escape(say(lang, 'Geen veranderingen.', 'No changes.'))}</p>")
        if fixes:
            parts.append(f"<h3>{escape(say(lang, 'Zo lost u het op', 'How to fix'))}</h3><ul>{''.join(fixes)}</ul>")
        parts.append("</section>")
        return "".join(parts)

    def changes(self, host: str) -> list[str]:
        """What the site's latest run changed: checks whose current version began in that run and had an
        earlier version (a status change or new evidence)."""
        lang = self.lang
        versions = self.store.history(host)
        current = [v for v in versions if v.valid_until is None]
        if not current:
            return []
        latest_run = max(v.last_run_id for v in current)
        items = []
        for version in current:
            if version.first_run_id != latest_run:
                continue
            before = [v for v in versions if v.check_id == version.check_id and v.valid_until is not None]
            if not before:
                continue
            old = max(before, key=lambda v: v.first_seen)
            what = (f"{status_label(old.status, lang)} → {status_label(version.status, lang)}"
                    if old.status != version.status else say(lang, "ander bewijs", "different evidence"))
            items.append(f"<li>{escape(version.check_id)}: {escape(what)} ({version.first_seen:%Y-%m-%d})</li>")
        return items

    def run_pages(self, runs) -> None:
        lang = self.lang
        rows = []
        for index, run in enumerate(runs):
            link = escape(str(run.id))
            if index < RUN_REPORTS:
                findings = self.store.findings_for_run(run.id)
                explanations = holding_for(self.store, [f.id for f in findings], self.now)
                self.write(f"runs/run-{run.id}.html", run_report.render_html(run, findings, self.catalogue, lang,
                                                                             static="../static/",
                                                                             explanations=explanations))
                csv_file = io.StringIO(newline="")
                run_report.write_csv(csv_file, run, findings, self.catalogue, explanations)
                self.write(f"runs/run-{run.id}.csv", csv_file.getvalue())
                link = f'<a href="run-{run.id}.html">{run.id}</a>'
            rows.append([f'<th scope="row">{link}</th>', _td(run.kind), _td(run.state),
                         _td(f"{run.started:%Y-%m-%d %H:%M}"), _td(f"{run.sites_done}/{run.sites_total}", "num"),
                         _td(run.sites_failing, "num"), _td(run.sites_error, "num"), _td(_rate(run, self.now), "num")])
        self.page("runs/index.html", "Runs",
                  _table(say(lang, "Runs, nieuwste eerst", "Runs, newest first"),
                         ["run", say(lang, "soort", "kind"), say(lang, "toestand", "state"),
                          say(lang, "gestart (UTC)", "started (UTC)"), "sites", say(lang, "met fout", "failing"),
                          say(lang, "niet gemeten", "errors"), "sites/min"], rows))

    # --- exports ---

    export_names = ("state.csv", "state.json", "trends-day.csv", "trends-week.csv", "trends-month.csv",
                    "rule-changes.csv", "projections.csv", "organisations.json")

    def exports(self, state, series, projections) -> None:
        columns = ("host", "url", "org_name", "org_type", "org_code", "check", "status", "reason", "summary_nl",
                   "summary_en", "first_seen", "last_seen") + EXPORT_FIELDS
        out = io.StringIO()
        writer = csv_writer(out, lineterminator="\n")
        writer.writerow(columns)
        records = []
        for row in state:
            exported = {"summary_nl": row.summary.nl, "summary_en": row.summary.en,
                        "first_seen": utc_iso(row.first_seen), "last_seen": utc_iso(row.last_seen),
                        **export_fields(row.explanation, row.explained_by, row.explanation_expires)}
            record = {c: exported[c] if c in exported else getattr(row, c) for c in columns}
            records.append(record)
            writer.writerow([record[c] if record[c] is not None else "" for c in columns])
        self.write("exports/state.csv", out.getvalue())
        self.write("exports/state.json", json.dumps({"generated": utc_iso(self.now), "findings": records},
                                                    ensure_ascii=False, indent=1))
        for period, points in series.items():
            self.write(f"exports/trends-{period}.csv", trends.to_csv(points, period))
        self.write("exports/rule-changes.csv", trends.rule_changes_csv(self.rule_changes))
        out = io.StringIO()
        writer = csv_writer(out, lineterminator="\n")
        writer.writerow(["standard", "group", "outcome", "when", "per_month"])
        for p in projections.values():
            writer.writerow([p.standard, p.group, p.outcome, p.when.isoformat() if p.when else "",
                             "" if p.per_month is None else f"{p.per_month:.4f}"])
        self.write("exports/projections.csv", out.getvalue())
        organisations = {}
        for standard in [all_together(self.standards)] + self.standards:
            for key, result in maps_module.organisation_results(list(state), standard).items():
                entry = organisations.setdefault(key, {"code": result.code, "name": result.name,
                                                       "type": result.type, "standards": {}})
                entry["standards"][standard.id] = {"colour": str(result.colour), "failing": result.failing,
                                                   "explained": result.explained, "warning": result.warning}
        self.write("exports/organisations.json", json.dumps(list(organisations.values()), ensure_ascii=False,
                                                            indent=1))


def render(store, catalogue: Catalogue, options: Options | None = None,
           now: datetime | None = None) -> dict[str, bytes]:
    """The site in memory: every file by its path relative to the site's root. `catalogue` gives each
    check's title, advice and norm."""
    return Publisher(store, catalogue, options or Options(), now).render()


def publish(store, out: Path | str, catalogue: Catalogue, options: Options | None = None,
            now: datetime | None = None) -> Path:
    """Write the site into `out`; returns the path of its index page."""
    out = Path(out)
    for relative, content in render(store, catalogue, options, now).items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return out / "index.html"
