"""Compliance maps: every municipality and province coloured by its organisation's worst required result
(shared/spec/checks.md, "Scores and colours"), for all standards together and per standard, with a legend,
a table beside the map, and a list for organisation types that have no area. An organisation whose failures
are all explained (comply or explain) has a colour and pattern of its own, between red and orange.

The map is static SVG inside an HTML page: no tile server, no script, nothing fetched. The palette is safe
for colour-blind readers: the four results differ in lightness, not only in hue, and each has its own
pattern, so the map also reads in grey print; every area carries its result as text in its `<title>`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Iterable

from reports import boundaries as geo
from reports.boundaries import Boundaries
from reports.explained import LABEL
from reports.standards import EXPLAINED, Colour, Standard, StateRow, colour, statuses_by_site
from govscan.model import Text, say

MAP_WIDTH = 560
NOT_SCANNED = "none"  # an area whose organisation is not in the results

# fill, pattern ink, label. Lightness runs dark (fail) -> light (not scanned); hues from Okabe-Ito.
PALETTE = {
    Colour.RED: ("#a3210f", "#ffffff", Text("Voldoet niet", "Fails")),
    Colour.EXPLAINED: ("#0072b2", "#ffffff", Text("Voldoet niet, uitgelegd", "Fails, explained")),
    Colour.ORANGE: ("#e69f00", "#5c3d00", Text("Voldoet, met waarschuwing", "Passes with warnings")),
    Colour.GREEN: ("#009e73", "#004d38", Text("Voldoet", "Passes")),
    Colour.GREY: ("#c8c8c8", "#5a5a5a", Text("Niet te meten", "Not measurable")),
    NOT_SCANNED: ("#ffffff", "#767676", Text("Niet gescand", "Not scanned")),
}
EXPLANATION = Text(
    "Kleur: het slechtste resultaat van de verplichte controles. Rood: een verplichte controle faalt. "
    "Blauw (horizontale strepen): controles falen, maar de organisatie heeft elke fout uitgelegd (pas toe of leg "
    "uit); dat is geen voldoende. Oranje: alleen waarschuwingen. Groen: alles voldoet. Grijs: niets te meten. "
    "Meetfouten kleuren nooit rood.",
    "Colour: the worst result of the required checks. Red: a required check fails. Blue (horizontal stripes): "
    "checks fail, but the organisation explained every failure (comply or explain); that is not a pass. "
    "Orange: only warnings. Green: everything passes. Grey: nothing measurable. Measurement errors never "
    "colour red.")
AREA_TYPES = {"gemeente": Text("Gemeenten", "Municipalities"), "provincie": Text("Provincies", "Provinces")}
OTHER_TYPES = Text("Organisaties zonder gebied op de kaart", "Organisations without an area on the map")


@dataclass
class OrganisationResult:
    """One organisation's colour for one standard, with the evidence the table shows."""

    code: str
    name: str
    type: str
    colour: Colour
    sites: int = 0
    failing: list[str] = field(default_factory=list)   # "host: check" of every unexplained failing required check
    explained: list[str] = field(default_factory=list)  # the same of every explained one
    warning: list[str] = field(default_factory=list)


def organisation_results(rows: Iterable[StateRow], standard: Standard) -> dict[str, OrganisationResult]:
    """Colour per organisation (keyed by its code, or its name when it has none) for one standard."""
    rows = list(rows)
    orgs: dict[str, tuple[str, str, str]] = {}
    hosts: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        key = row.org_code or row.org_name
        if not key:
            continue
        orgs[key] = (row.org_code, row.org_name, row.org_type)
        hosts[key].add(row.host)
    by_site = statuses_by_site(rows)
    results = {}
    for key, (code, name, kind) in orgs.items():
        sites = {host: by_site[host] for host in sorted(hosts[key])}
        measured = [(host, check, checks[check]) for host, checks in sites.items()
                    for check in standard.checks if check in checks]
        result = OrganisationResult(code, name or code, kind or "other",
                                    colour(status for _, _, status in measured), len(sites))
        result.failing = [f"{host}: {check}" for host, check, status in measured if status == "fail"]
        result.explained = [f"{host}: {check}" for host, check, status in measured if status == EXPLAINED]
        result.warning = [f"{host}: {check}" for host, check, status in measured if status == "warn"]
        results[key] = result
    return results


def pattern_defs() -> str:
    """The fill patterns, once per page (ids must be unique): a hidden SVG that the maps and legend swatches
    refer to. One pattern per result: a base colour with its own texture (diagonal stripes, horizontal stripes,
dots, plain, cross)."""
    marks = {
        Colour.RED: '<path d="M0,8 L8,0" stroke-width="2"/>',
        Colour.EXPLAINED: '<path d="M0,2 L8,2 M0,6 L8,6" stroke-width="1.2"/>',
        Colour.ORANGE: '<circle cx="4" cy="4" r="1.3" stroke="none"/>',
        Colour.GREEN: "",
        Colour.GREY: '<path d="M0,0 L8,8 M8,0 L0,8" stroke-width="0.8"/>',
        NOT_SCANNED: "",
    }
    defs = []
    for key, (fill, ink, _) in PALETTE.items():
        defs.append(f'<pattern id="fill-{key}" width="8" height="8" patternUnits="userSpaceOnUse">'
                    f'<rect width="8" height="8" fill="{fill}"/><g stroke="{ink}" fill="{ink}">{marks[key]}</g>'
                    f"</pattern>")
    return ('<svg class="map-patterns" width="0" height="0" aria-hidden="true" focusable="false">'
            f'<defs>{"".join(defs)}</defs></svg>')


def swatch(key: str) -> str:
    """A legend swatch using the same pattern as the map (decorative: the label is next to it)."""
    return (f'<svg class="swatch" viewBox="0 0 16 16" aria-hidden="true" focusable="false">'
            f'<rect width="16" height="16" fill="url(#fill-{key})" stroke="#1a1a1a" stroke-width="1"/></svg>')


def label(key: str, lang: str) -> str:
    return PALETTE[key][2].get(lang)


def render_svg(projected: tuple[Boundaries, float], results: dict[str, OrganisationResult], *,
               title: str, svg_id: str, lang: str = "nl") -> str:
    """The choropleth of one area type. Areas without a result are drawn as "not scanned"."""
    bounds, height = projected
    attribution_height = 22
    paths = []
    for code, area in sorted(bounds.areas.items()):
        result = results.get(code)
        key = result.colour if result else NOT_SCANNED
        name = result.name if result else area.name
        paths.append(f'<path d="{geo.path_data(area)}" fill="url(#fill-{key})" data-code="{escape(code)}" '
                     f'data-result="{key}"><title>{escape(name)} ({escape(code)}): {escape(label(key, lang))}'
                     f"</title></path>")
    total_height = height + attribution_height
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {MAP_WIDTH} {total_height:.0f}" '
        f'role="img" aria-labelledby="{svg_id}-title" id="{svg_id}">'
        f'<title id="{svg_id}-title">{escape(title)}</title>'
        f'<g stroke="#1a1a1a" stroke-width="0.4" stroke-linejoin="round">{"".join(paths)}</g>'
        f'<text x="{MAP_WIDTH - 4}" y="{total_height - 6:.0f}" text-anchor="end" font-size="11" '
        f'fill="#3d3d3d">{escape(bounds.attribution)}</text></svg>'
    )


def _legend(counts: dict[str, int], lang: str) -> str:
    heading = say(lang, "Legenda", "Legend")
    items = "".join(f"<li>{swatch(key)}<span>{escape(label(key, lang))} ({counts.get(key, 0)})</span></li>"
                    for key in PALETTE)
    return f'<h3>{heading}</h3><ul class="legend">{items}</ul>'


def _table(results: list[OrganisationResult], caption: str, lang: str, known_codes: set[str] | None) -> str:
    head = (say(lang, "Organisatie", "Organisation"), "Code", say(lang, "Resultaat", "Result"), "Sites",
            say(lang, "Faalt", "Failing"))
    order = {c: i for i, c in enumerate(Colour)}  # worst first
    rows = []
    for r in sorted(results, key=lambda r: (order[r.colour], r.name)):
        note = ""
        if known_codes is not None and r.code not in known_codes:
            note = say(lang, " (geen gebied op de kaart)", " (no area on the map)")
        css = {Colour.RED: "fail", Colour.EXPLAINED: "explained", Colour.ORANGE: "warn",
               Colour.GREEN: "pass"}.get(r.colour, "other")
        named = r.failing + [f"{item} ({LABEL.get(lang)})" for item in r.explained]
        failing = escape(", ".join(named)) if named else "-"
        rows.append(f"<tr><td>{escape(r.name)}{note}</td><td>{escape(r.code)}</td>"
                    f'<td class="status-{css}">{escape(label(r.colour, lang))}</td>'
                    f'<td class="num">{r.sites}</td><td>{failing}</td></tr>')
    header = "".join(f'<th scope="col">{h}</th>' for h in head)
    return (f"<table><caption>{escape(caption)}</caption><thead><tr>{header}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def render_section(standard: Standard, rows: list[StateRow], maps: dict[str, tuple[Boundaries, float]],
                   lang: str = "nl") -> str:
    """The maps (one per area type in `maps`), legend and tables of one standard, as an HTML fragment
    (one per page: it carries the page's fill patterns)."""
    results = organisation_results(rows, standard)
    by_type: dict[str, list[OrganisationResult]] = defaultdict(list)
    for result in results.values():
        by_type[result.type].append(result)
    parts = [pattern_defs(), f"<p>{escape(EXPLANATION.get(lang))}</p>"]
    for kind, projected in maps.items():
        in_type = by_type.pop(kind, [])
        known = set(projected[0].areas)
        by_code = {r.code: r for r in in_type}
        counts: dict[str, int] = defaultdict(int)
        for code in known:
            counts[by_code[code].colour if code in by_code else NOT_SCANNED] += 1
        heading = AREA_TYPES.get(kind, Text(kind, kind)).get(lang)
        title = f"{heading}: {standard.title.get(lang)}"
        svg_id = f"map-{standard.id}-{kind}"
        caption = projected[0].attribution
        parts.append(
            f'<section aria-labelledby="{svg_id}-h"><h2 id="{svg_id}-h">{escape(heading)}</h2>'
            f'<div class="map-layout"><figure>'
            f"{render_svg(projected, by_code, title=title, svg_id=svg_id, lang=lang)}"
            f"<figcaption>{escape(caption)}</figcaption></figure>"
            f"<div>{_legend(counts, lang)}{_table(in_type, title, lang, known)}</div></div></section>")
    rest = [r for kind in sorted(by_type) for r in by_type[kind]]
    if rest:
        heading = OTHER_TYPES.get(lang)
        parts.append(f'<section aria-labelledby="other-{standard.id}"><h2 id="other-{standard.id}">'
                     f"{escape(heading)}</h2>{_table(rest, heading, lang, None)}</section>")
    return "\n".join(parts)


def load_maps(sources: dict[str, Path | str] | None = None, *, lab: bool = False,
              width: float = MAP_WIDTH) -> dict[str, tuple[Boundaries, float]]:
    """Projected boundaries per area type: from the files in `sources` (kind -> path), the lab's own
    fictitious boundaries with `lab=True`, else the 2025 boundaries shipped in config/boundaries."""
    maps = {}
    for kind in ("gemeente", "provincie"):
        if sources and kind in sources:
            path, attribution = sources[kind], geo.ATTRIBUTION
        elif lab:
            path, attribution = geo.LAB_BOUNDARIES[kind], geo.LAB_ATTRIBUTION
        else:
            path, attribution = geo.NL_BOUNDARIES[kind], geo.ATTRIBUTION
        collection, attribution = geo.load(path, attribution)
        maps[kind] = geo.project(collection, width, attribution)
    return maps
