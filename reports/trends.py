"""Adoption of each standard over time: the share of sites that comply (shared/spec/checks.md, "Scores and
colours"), per organisation type and in total, sampled per day, week or month; per organisation its history
per standard; a projection of when adoption reaches 100% at the pace of the last months; and the days a
check of a standard was first judged by a new version of its rules, so a jump a rule caused is told apart
from one the sites made.

Pure functions over state rows (`storage`'s state at a moment); `state_at` is any function from a moment to
those rows, so the numbers can be checked by hand.
"""
from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from html import escape
from typing import Callable, Iterable

from govscan.model import Text, say, utc_iso
from reports.export import csv_writer
from reports.standards import Standard, StateRow, site_compliance, site_explained, statuses_by_site

TOTAL = "total"
PERIODS = ("day", "week", "month")
NEVER_AFTER_DAYS = 100 * 365  # a projection further away than this is "never at this pace"


@dataclass(frozen=True)
class Adoption:
    """How many sites of a group comply with a standard on a day; `measured` excludes sites that could not
    be measured for it (errors never count against anyone)."""

    day: date
    standard: str
    group: str
    complying: int
    measured: int
    explained: int = 0  # of the measured sites that do not comply, those whose every failure is explained

    @property
    def share(self) -> float | None:
        return self.complying / self.measured if self.measured else None


def adoption(rows: Iterable[StateRow], standards: list[Standard], day: date,
             group_of: Callable[[StateRow], str] = lambda row: row.org_type or "other") -> list[Adoption]:
    """Adoption of every standard per group and in total, for the state in `rows`."""
    rows = list(rows)
    groups = {row.host: group_of(row) for row in rows}
    by_site = statuses_by_site(rows)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for standard in standards:
        for host, checks in by_site.items():
            result = site_compliance(checks, standard)
            if result is None:
                continue
            for group in {groups[host], TOTAL}:
                counts[standard.id, group][0] += result
                counts[standard.id, group][1] += 1
                counts[standard.id, group][2] += site_explained(checks, standard)
    return [Adoption(day, standard, group, complying, measured, explained)
            for (standard, group), (complying, measured, explained) in sorted(counts.items())]


def period_ends(start: date, end: date, period: str) -> list[date]:
    """The day that closes each period from `start` to `end` (the last period closes at `end`): every day,
    every Sunday, or the last day of every month."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r} (one of {', '.join(PERIODS)})")
    days = []
    day = start
    while day <= end:
        following = day + timedelta(days=1)
        closes = (period == "day" or (period == "week" and day.isoweekday() == 7)
                  or (period == "month" and following.day == 1))
        if closes or day == end:
            days.append(day)
        day = following
    return days


def end_of(day: date) -> datetime:
    """The last moment of a day: the state a day ends with."""
    return datetime.combine(day, time.max)


@dataclass(frozen=True)
class ExplainedVersion:
    """A finding version at a moment an explanation held for it: the version's fields and the explanation's id,
    as `storage`'s `state_on` rows carry it (reports.standards.judged_status)."""

    host: str
    check: str
    status: str
    check_version: int
    org_code: str
    org_name: str
    org_type: str
    first_seen: datetime
    valid_until: datetime | None
    explanation_id: int


def state_from(versions: Iterable, explained: dict | None = None) -> Callable[[datetime], list]:
    """A `state_at` over finding versions held in memory (rows with `first_seen` and `valid_until`, as
    `storage.history.status_versions` gives them): the versions current at the moment asked for.
    `explained`: finding id -> the periods an explanation held for it, (from, until, explanation id), as
    storage.explanations.spans gives them; a version inside one is given as an ExplainedVersion."""
    versions = list(versions)
    explained = explained or {}

    def at(v, moment: datetime):
        for start, end, explanation_id in explained.get(getattr(v, "finding_id", None), ()):
            if start <= moment < end:
                return ExplainedVersion(v.host, v.check, v.status, v.check_version, v.org_code, v.org_name,
                                        v.org_type, v.first_seen, v.valid_until, explanation_id)
        return v

    def state_at(moment: datetime) -> list:
        return [at(v, moment) for v in versions
                if v.first_seen <= moment and (v.valid_until is None or v.valid_until > moment)]

    return state_at


def series(state_at: Callable[[datetime], Iterable[StateRow]], standards: list[Standard], start: date, end: date,
           period: str = "day") -> list[Adoption]:
    """Adoption at the end of every period between `start` and `end`."""
    points: list[Adoption] = []
    for day in period_ends(start, end, period):
        points.extend(adoption(state_at(end_of(day)), standards, day))
    return points


def to_csv(points: Iterable[Adoption], period: str) -> str:
    """One row per point; `as_of` is the moment (UTC) whose state it counts: the end of `date`; `explained`:
of the measured sites that do not comply, how many fail only by explained failures (never counted as
complying)."""
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(["date", "period", "standard", "group", "complying", "measured", "share", "as_of",
                     "explained"])
    for p in points:
        share = "" if p.share is None else f"{p.share:.4f}"
        writer.writerow([p.day.isoformat(), period, p.standard, p.group, p.complying, p.measured, share,
                         utc_iso(end_of(p.day)), p.explained])
    return out.getvalue()


@dataclass(frozen=True)
class RuleChange:
    """From `day` on, a check of a standard was judged by a new version of its rules (a scan or a
    re-evaluation under the new rule): a jump in adoption from that day may come from the rule, not the sites."""

    day: date
    standard: str
    check: str
    old_version: int
    new_version: int


def rule_changes(versions: Iterable, standards: list[Standard]) -> list[RuleChange]:
    """Per standard, the day each newer version of one of its checks was first stored, from finding versions
    with `check`, `check_version` and `first_seen` (as `storage.history.status_versions` gives them)."""
    first: dict[tuple[str, int], datetime] = {}
    for v in versions:
        key = (v.check, v.check_version)
        first[key] = min(first.get(key, v.first_seen), v.first_seen)
    by_check: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
    for (check, version), seen in first.items():
        by_check[check].append((version, seen))
    changes = []
    for standard in standards:
        for check in standard.checks:
            known = sorted(by_check.get(check, []))
            changes += [RuleChange(seen.date(), standard.id, check, old, new)
                        for (old, _), (new, seen) in zip(known, known[1:])]
    return sorted(changes, key=lambda c: (c.day, c.standard, c.check))


def rule_changes_csv(changes: Iterable[RuleChange]) -> str:
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(["date", "standard", "check", "old_version", "new_version"])
    for c in changes:
        writer.writerow([c.day.isoformat(), c.standard, c.check, c.old_version, c.new_version])
    return out.getvalue()


def describe_rule_change(change: RuleChange, lang: str) -> str:
    return say(lang, f"{change.day.isoformat()}: {change.check} versie {change.old_version} → {change.new_version}",
                     f"{change.day.isoformat()}: {change.check} version {change.old_version} → {change.new_version}")


@dataclass(frozen=True)
class Projection:
    """When adoption reaches 100% at the pace of the window: `outcome` is "reached" (already there),
    "on_pace" (on `when`), "never" (flat or falling) or "unknown" (too few points)."""

    standard: str
    group: str
    outcome: str
    when: date | None = None
    per_month: float | None = None  # change of the share per 30 days, from the fit

    def describe(self, lang: str = "nl") -> str:
        text = {
            "reached": Text("100% bereikt", "100% reached"),
            "never": Text("nooit in dit tempo", "never at this pace"),
            "unknown": Text("te weinig metingen", "too few measurements"),
        }
        if self.outcome == "on_pace":
            return say(lang, f"100% rond {self.when.isoformat()} in dit tempo",
                             f"100% around {self.when.isoformat()} at this pace")
        return text[self.outcome].get(lang)


def months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    last_day = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


def project(points: Iterable[Adoption], standard: str, group: str = TOTAL, months: int = 6) -> Projection:
    """Least-squares line through the shares of the last `months` months (up to the last point), solved for
    a share of 1."""
    mine = sorted((p for p in points if p.standard == standard and p.group == group and p.share is not None),
                  key=lambda p: p.day)
    if not mine:
        return Projection(standard, group, "unknown")
    last = mine[-1]
    if last.share >= 1.0:
        return Projection(standard, group, "reached", last.day, None)
    window = [p for p in mine if p.day >= months_before(last.day, months)]
    xs = [(p.day - last.day).days for p in window]
    ys = [p.share for p in window]
    if len(set(xs)) < 2:
        return Projection(standard, group, "unknown")
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = (sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys))
             / sum((x - mean_x) ** 2 for x in xs))
    if slope <= 0:
        return Projection(standard, group, "never", None, slope * 30)
    intercept = mean_y - slope * mean_x  # the fitted share on the last day (x = 0)
    days = (1.0 - intercept) / slope
    if days > NEVER_AFTER_DAYS:
        return Projection(standard, group, "never", None, slope * 30)
    return Projection(standard, group, "on_pace", last.day + timedelta(days=max(1, round(days))), slope * 30)


@dataclass(frozen=True)
class OrganisationPoint:
    """An organisation's compliance with one standard on one day: how many of its measured sites comply."""

    day: date
    standard: str
    complying: int
    measured: int


def organisation_history(state_at: Callable[[datetime], Iterable[StateRow]], standards: list[Standard],
                         organisation: str, days: Iterable[date]) -> list[OrganisationPoint]:
    """History per standard of one organisation (by code, or name when it has no code)."""
    history = []
    for day in days:
        rows = [r for r in state_at(end_of(day)) if (r.org_code or r.org_name) == organisation]
        for a in adoption(rows, standards, day, group_of=lambda row: TOTAL):
            if a.group == TOTAL:
                history.append(OrganisationPoint(day, a.standard, a.complying, a.measured))
    return history


# Lines of a chart: Okabe-Ito hues with at least 3:1 contrast on white, each with its own dash pattern so
# they are told apart without colour.
LINE_STYLES = [("#000000", ""), ("#0072b2", "6 3"), ("#b34700", "2 3"), ("#007a5a", "10 3 2 3"),
               ("#a8447e", "4 4"), ("#6b5600", "1 2")]
GROUP_NAMES = {TOTAL: Text("Totaal", "Total"), "gemeente": Text("Gemeenten", "Municipalities"),
               "provincie": Text("Provincies", "Provinces"), "waterschap": Text("Waterschappen", "Water boards"),
               "ministerie": Text("Ministeries", "Ministries"),
               "uitvoeringsorganisatie": Text("Uitvoeringsorganisaties", "Executive agencies"),
               "other": Text("Overig", "Other")}


def group_name(group: str, lang: str) -> str:
    return GROUP_NAMES.get(group, Text(group, group)).get(lang)


LABEL_FONT = 11          # px, the series labels at the right of a chart
LABEL_EM_PER_CHAR = 0.7  # an upper bound of a character's width in em, for a sans-serif font at that size


def label_width(text: str) -> float:
    """The room a series label needs at most (no font metrics here: an upper bound per character)."""
    return len(text) * LABEL_FONT * LABEL_EM_PER_CHAR


def chart_svg(points: Iterable[Adoption], standard: Standard, projection: Projection | None = None, *,
              lang: str = "nl", plot_width: int = 440, height: int = 300,
              changes: Iterable[RuleChange] = ()) -> str:
    """A line chart of one standard's adoption (0-100%) over time, one line per group, each ending in a dot
    with a label (group and share) at the right; the chart is as wide as its longest label needs, so no
    label is cut off. With one day of data each group is a dot in the middle. The projection of the total is
    a thin line to the day it reaches 100% when that falls within twice the chart's span; each day a check
    of the standard got a new rule version (`changes`) is a grey vertical line marked "v"."""
    mine = [p for p in points if p.standard == standard.id and p.share is not None]
    title = f"{standard.title.get(lang)}: " + say(lang, "adoptie door de tijd", "adoption over time")
    left, top, bottom, gap = 48, 16, 36, 10
    plot_h = height - top - bottom
    groups = sorted({p.group for p in mine}, key=lambda g: (g != TOTAL, g))
    lines = {g: sorted((p for p in mine if p.group == g), key=lambda p: p.day) for g in groups}
    label_texts = {g: f"{group_name(g, lang)} {lines[g][-1].share:.0%}" for g in groups}
    right = gap + max([label_width(t) for t in label_texts.values()] + [100]) + 4
    width = round(left + plot_width + right)
    svg_head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
                f'aria-label="{escape(title)}"><title>{escape(title)}</title>')
    if not mine:
        none = say(lang, "Nog geen metingen", "No measurements yet")
        return f'{svg_head}<text x="{left}" y="{height / 2}" font-size="14">{none}</text></svg>'
    first, last = min(p.day for p in mine), max(p.day for p in mine)
    end = last
    if projection and projection.outcome == "on_pace" and projection.when <= last + (last - first):
        end = projection.when
    span = (end - first).days

    def x(day: date) -> float:
        return left + (plot_width * (day - first).days / span if span else plot_width / 2)

    def y(share: float) -> float:
        return top + plot_h * (1 - share)

    parts = [svg_head]
    for pct in (0, 25, 50, 75, 100):
        yy = y(pct / 100)
        parts.append(f'<line x1="{left}" x2="{left + plot_width}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#d0d0d0"/>'
                     f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" font-size="11" fill="#3d3d3d">'
                     f"{pct}%</text>")
    for day in sorted({first, end}):
        parts.append(f'<text x="{x(day):.1f}" y="{height - 12}" text-anchor="middle" font-size="11" '
                     f'fill="#3d3d3d">{day.isoformat()}</text>')
    for change in (c for c in changes if c.standard == standard.id and first <= c.day <= end):
        xx = x(change.day)
        parts.append(f'<g class="rule-change"><title>{escape(describe_rule_change(change, lang))}</title>'
                     f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#595959" '
                     f'stroke-width="1" stroke-dasharray="3 3"/><text x="{xx:.1f}" y="{top - 4}" '
                     f'text-anchor="middle" font-size="10" fill="#3d3d3d">v{change.new_version}</text></g>')
    labels = []
    for index, group in enumerate(groups):
        colour, dash = LINE_STYLES[index % len(LINE_STYLES)]
        line = lines[group]
        end_point = line[-1]
        if len(line) > 1:
            coords = " ".join(f"{x(p.day):.1f},{y(p.share):.1f}" for p in line)
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>')
        point_title = (f"{group_name(group, lang)}, {end_point.day.isoformat()}: {end_point.share:.0%} "
                       f"({end_point.complying}/{end_point.measured})")
        parts.append(f'<circle class="point" cx="{x(end_point.day):.1f}" cy="{y(end_point.share):.1f}" r="4" '
                     f'fill="{colour}"><title>{escape(point_title)}</title></circle>')
        labels.append([y(end_point.share) + 4, colour, label_texts[group]])
        if group == TOTAL and projection and end == getattr(projection, "when", None):
            parts.append(f'<line x1="{x(end_point.day):.1f}" y1="{y(end_point.share):.1f}" x2="{x(end):.1f}" '
                         f'y2="{y(1):.1f}" stroke="#000000" stroke-width="1" stroke-dasharray="1 3"/>')
    labels.sort()
    for previous, label in zip(labels, labels[1:]):  # lines that end close together: labels apart
        label[0] = max(label[0], previous[0] + 13)
    overflow = labels[-1][0] - (height - 4)  # pushed below the chart: move them all up
    if overflow > 0:
        for label in labels:
            label[0] = max(top, label[0] - overflow)
    for label_y, colour, text in labels:
        parts.append(f'<text class="series-label" x="{left + plot_width + gap}" y="{label_y:.1f}" '
                     f'font-size="{LABEL_FONT}" fill="{colour}">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
