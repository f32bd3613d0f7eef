"""Trends: adoption counts, periods, the projection and the chart, on numbers worked out by hand."""
from datetime import date, datetime, timedelta

import pytest

from reports import trends
from reports.standards import Standard, State
from govscan.model import Text

HTTPS = Standard("https", Text("HTTPS", "HTTPS"), "", ("web.https.hsts", "web.https.redirect"))
DNSSEC = Standard("dnssec", Text("DNSSEC", "DNSSEC"), "", ("dns.dnssec",))


def row(host, check, status, kind="gemeente", code=""):
    return State(host, check, status, code or host, host, kind)


def test_adoption_per_group_and_total():
    rows = [
        row("a.nl", "web.https.hsts", "pass"), row("a.nl", "web.https.redirect", "pass"),   # complies
        row("b.nl", "web.https.hsts", "pass"), row("b.nl", "web.https.redirect", "fail"),   # does not
        row("c.nl", "web.https.hsts", "error"),                                             # unknown
        row("p.nl", "web.https.hsts", "warn", "provincie"),                                 # complies
        row("p.nl", "dns.dnssec", "fail", "provincie"),
    ]
    points = {(a.standard, a.group): (a.complying, a.measured) for a in trends.adoption(rows, [HTTPS, DNSSEC],
                                                                                         date(2026, 1, 1))}
    assert points == {("https", "gemeente"): (1, 2), ("https", "provincie"): (1, 1), ("https", "total"): (2, 3),
                      ("dnssec", "provincie"): (0, 1), ("dnssec", "total"): (0, 1)}


def test_period_ends():
    start, end = date(2026, 1, 28), date(2026, 3, 3)  # 2026-02-01 is a Sunday
    assert trends.period_ends(start, end, "month") == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 3)]
    assert trends.period_ends(start, end, "week")[:2] == [date(2026, 2, 1), date(2026, 2, 8)]
    assert trends.period_ends(start, end, "week")[-1] == end
    assert len(trends.period_ends(start, end, "day")) == 35
    with pytest.raises(ValueError):
        trends.period_ends(start, end, "year")


def test_series_samples_the_state_at_the_end_of_each_day():
    asked = []

    def state_at(moment):
        asked.append(moment)
        return [row("a.nl", "dns.dnssec", "pass" if moment.day >= 2 else "fail")]

    points = trends.series(state_at, [DNSSEC], date(2026, 1, 1), date(2026, 1, 2))
    assert asked[0] == datetime(2026, 1, 1, 23, 59, 59, 999999)
    assert sorted((p.day.day, p.group, p.share) for p in points) == [(1, "gemeente", 0.0), (1, "total", 0.0),
                                                                     (2, "gemeente", 1.0), (2, "total", 1.0)]


def test_csv():
    text = trends.to_csv([trends.Adoption(date(2026, 1, 1), "https", "total", 1, 3),
                          trends.Adoption(date(2026, 1, 1), "https", "other", 0, 0)], "day")
    assert text.splitlines() == ["date,period,standard,group,complying,measured,share,as_of,explained",
                                 "2026-01-01,day,https,total,1,3,0.3333,2026-01-01T23:59:59.999999Z,0",
                                 "2026-01-01,day,https,other,0,0,,2026-01-01T23:59:59.999999Z,0"]


def points_from(shares, start=date(2026, 1, 1), standard="https"):
    return [trends.Adoption(start + timedelta(days=i), standard, "total", round(s * 100), 100)
            for i, s in enumerate(shares)]


def test_projection_on_a_straight_line():
    # 40% rising 1 point a day: the fit is exact and reaches 100% 60 days after the last point (day 10: 50%)
    points = points_from([0.40 + 0.01 * i for i in range(11)])
    projection = trends.project(points, "https", months=6)
    assert projection.outcome == "on_pace"
    assert projection.when == date(2026, 1, 11) + timedelta(days=50)
    assert projection.per_month == pytest.approx(0.30)
    assert "100% rond 2026-03-02" in projection.describe("nl")


def test_projection_only_uses_the_window():
    # falling for a year, then rising for the last two months: a 1-month window sees only the rise
    falling = [0.9 - 0.001 * i for i in range(300)]
    rising = [falling[-1] + 0.002 * i for i in range(1, 61)]
    points = points_from(falling + rising)
    assert trends.project(points, "https", months=1).outcome == "on_pace"
    assert trends.project(points, "https", months=24).outcome == "never"


def test_projection_never_reached_and_unknown():
    assert trends.project(points_from([0.5, 0.5, 0.5]), "https").outcome == "never"
    assert trends.project(points_from([0.6, 0.5]), "https").describe("en") == "never at this pace"
    assert trends.project(points_from([0.5, 1.0]), "https").outcome == "reached"
    assert trends.project(points_from([0.5]), "https").outcome == "unknown"
    assert trends.project([], "https").outcome == "unknown"
    # a rise so slow it would take over a century is "never at this pace"
    assert trends.project(points_from([0.5, 0.50001]), "https").outcome == "never"


def test_months_before_clamps_the_day():
    assert trends.months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert trends.months_before(date(2026, 1, 15), 3) == date(2025, 10, 15)


def test_organisation_history():
    def state_at(moment):
        status = "pass" if moment.day >= 2 else "fail"
        return [row("a.nl", "dns.dnssec", status, code="GM0001"), row("b.nl", "dns.dnssec", "pass", code="GM0001"),
                row("c.nl", "dns.dnssec", "fail", code="GM0002")]

    history = trends.organisation_history(state_at, [DNSSEC], "GM0001", [date(2026, 1, 1), date(2026, 1, 2)])
    assert [(p.day.day, p.complying, p.measured) for p in history] == [(1, 1, 2), (2, 2, 2)]


def test_chart_has_a_line_per_group_text_alternative_and_projection():
    points = points_from([0.5 + 0.05 * i for i in range(9)])  # 90% on day 8, 100% expected on day 10
    points += [trends.Adoption(p.day, "https", "gemeente", p.complying, p.measured) for p in points]
    projection = trends.project(points, "https")
    assert projection.when == date(2026, 1, 11)
    svg = trends.chart_svg(points, HTTPS, projection, lang="nl")
    assert svg.count("<polyline") == 2 and 'role="img"' in svg and "<title>HTTPS: adoptie door de tijd" in svg
    assert "Totaal 90%" in svg and "Gemeenten 90%" in svg and "2026-01-11" in svg
    assert 'stroke-dasharray="1 3"' in svg  # the projection to 100%
    assert "Nog geen metingen" in trends.chart_svg([], HTTPS)


def test_state_from_versions_gives_the_versions_current_at_a_moment():
    from types import SimpleNamespace as Version

    old = Version(host="a.nl", check="dns.dnssec", status="fail", first_seen=datetime(2026, 1, 1),
                  valid_until=datetime(2026, 1, 5))
    new = Version(host="a.nl", check="dns.dnssec", status="pass", first_seen=datetime(2026, 1, 5), valid_until=None)
    state_at = trends.state_from([old, new])
    assert state_at(datetime(2025, 12, 31)) == []
    assert state_at(datetime(2026, 1, 4, 23)) == [old]
    assert state_at(datetime(2026, 1, 5)) == [new]


def test_rule_changes_are_the_days_a_newer_check_version_was_first_stored():
    from types import SimpleNamespace as Version

    def version(host, check, check_version, day):
        return Version(host=host, check=check, status="pass", check_version=check_version,
                       first_seen=datetime(2026, 1, day, 2), valid_until=None)

    versions = [version("a.nl", "web.https.hsts", 1, 1), version("b.nl", "web.https.hsts", 1, 2),
                version("b.nl", "web.https.hsts", 2, 6), version("a.nl", "web.https.hsts", 2, 5),
                version("a.nl", "web.https.hsts", 3, 9), version("a.nl", "dns.dnssec", 1, 1),
                version("a.nl", "web.https.redirect", 1, 1)]
    changes = trends.rule_changes(versions, [HTTPS, DNSSEC])
    assert [(c.day.day, c.standard, c.check, c.old_version, c.new_version) for c in changes] == [
        (5, "https", "web.https.hsts", 1, 2), (9, "https", "web.https.hsts", 2, 3)]
    assert trends.rule_changes_csv(changes).splitlines() == [
        "date,standard,check,old_version,new_version", "2026-01-05,https,web.https.hsts,1,2",
        "2026-01-09,https,web.https.hsts,2,3"]


def test_chart_marks_the_days_a_check_of_the_standard_got_new_rules():
    points = points_from([0.5, 0.5, 0.9, 0.9])  # days 1 to 4: the jump on day 3 came from a rule
    changes = [trends.RuleChange(date(2026, 1, 3), "https", "web.https.hsts", 1, 2),
               trends.RuleChange(date(2026, 1, 3), "dnssec", "dns.dnssec", 1, 2),   # another standard's
               trends.RuleChange(date(2025, 12, 1), "https", "web.https.hsts", 0, 1)]  # before the chart
    svg = trends.chart_svg(points, HTTPS, lang="en", changes=changes)
    assert svg.count('class="rule-change"') == 1
    assert "<title>2026-01-03: web.https.hsts version 1 → 2</title>" in svg and ">v2</text>" in svg
    assert 'class="rule-change"' not in trends.chart_svg(points, HTTPS)


def svg_tree(svg: str):
    import xml.etree.ElementTree as ET

    return ET.fromstring(svg)


NS = "{http://www.w3.org/2000/svg}"


def test_chart_with_one_night_draws_a_point_and_its_value():
    points = [trends.Adoption(date(2026, 1, 1), "https", trends.TOTAL, 3, 4),
              trends.Adoption(date(2026, 1, 1), "https", "gemeente", 1, 2)]
    tree = svg_tree(trends.chart_svg(points, HTTPS, trends.project(points, "https"), lang="nl"))
    width = float(tree.get("viewBox").split()[2])
    dots = tree.findall(f"{NS}circle")
    assert len(dots) == 2 and all(float(d.get("r")) >= 3 for d in dots)
    for dot in dots:  # inside the chart, not on its edge
        assert 0 < float(dot.get("cx")) < width and 0 < float(dot.get("cy")) < float(tree.get("viewBox").split()[3])
    labels = [t.text for t in tree.findall(f"{NS}text") if t.get("class") == "series-label"]
    assert labels == ["Totaal 75%", "Gemeenten 50%"]
    assert [t.text for t in tree.findall(f"{NS}text")].count("2026-01-01") == 1  # one date on the axis


def test_series_labels_fit_inside_the_chart():
    points = []
    for kind in ("uitvoeringsorganisatie", "gemeente", "waterschap", "provincie", "ministerie",
                 "een-heel-lange-organisatiesoort-die-niemand-kent"):
        points += [trends.Adoption(date(2026, 1, d), "https", kind, 1, 10) for d in (1, 2, 3)]
    points += [trends.Adoption(date(2026, 1, d), "https", trends.TOTAL, 6, 60) for d in (1, 2, 3)]
    tree = svg_tree(trends.chart_svg(points, HTTPS, lang="nl"))
    _, _, width, height = (float(v) for v in tree.get("viewBox").split())
    labels = [t for t in tree.findall(f"{NS}text") if t.get("class") == "series-label"]
    assert "Uitvoeringsorganisaties 10%" in [t.text for t in labels] and len(labels) == 7
    for label in labels:
        # 0.7 em per character is more than any sans-serif font needs on average
        assert float(label.get("x")) + len(label.text) * 0.7 * float(label.get("font-size")) <= width
        assert 0 < float(label.get("y")) <= height
    ys = sorted(float(t.get("y")) for t in labels)
    assert all(b - a >= 12 for a, b in zip(ys, ys[1:]))  # ending at the same share: still apart
