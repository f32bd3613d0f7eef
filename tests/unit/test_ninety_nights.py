"""Ninety nightly runs with a controllable clock and scripted changes of the sites between nights, then the
trend numbers, the projection and "the state on date X" compared with values worked out by hand; and the
published site built from them. On SQLite and PostgreSQL.

The script (night n = 0..89, the night of 2026-01-01 + n days):
- gemeente i (i = 0..9) fails HTTPS until night 10*i, and passes from then on: at the end of night n,
  floor(n/10) + 1 of the 10 municipalities comply;
- the two provinces always pass; of three water boards one always fails, one passes and one is never
  measurable (error), so it never counts;
- DNSSEC passes everywhere (but at the unmeasurable water board), but gemeente 0 breaks it on night 45
  (2026-02-15).
"""
from __future__ import annotations

import statistics
from datetime import date, datetime, timedelta

import pytest

from checks.registry import all_checks
from reports import trends
from reports.publish import Options, publish
from reports.standards import Standard
from scanner import scheduler
from govscan.model import Text
from storage.store import Store
from tests.unit.simfakes import settings, world, write_sites  # noqa: F401 (fixture)
from tests.unit.test_storage import db_url, pg_database  # noqa: F401 (fixtures)

START = date(2026, 1, 1)
NIGHTS = 90
HTTPS = Standard("https", Text("HTTPS", "HTTPS"), "test", ("test.sim.https",))
DNSSEC = Standard("dnssec", Text("DNSSEC", "DNSSEC"), "test", ("test.sim.dnssec",))
GEMEENTEN = [(f"Gemeente {i}", "gemeente", f"GM99{i + 1:02d}", f"www.gemeente{i}.nl") for i in range(10)]
OTHERS = [("Provincie Labland", "provincie", "PV99", "www.labland.nl"),
          ("Provincie Zuid", "provincie", "PV98", "www.pvzuid.nl"),
          ("Waterschap Nat", "waterschap", "WS9901", "www.nat.nl"),
          ("Waterschap Droog", "waterschap", "WS9902", "www.droog.nl"),
          ("Waterschap Stil", "waterschap", "WS9903", "www.stil.nl")]


def script(world, night: int) -> None:
    statuses = {}
    for i, (_, _, _, host) in enumerate(GEMEENTEN):
        statuses[host] = {"test.sim.https": "pass" if night >= 10 * i else "fail",
                          "test.sim.dnssec": "fail" if i == 0 and night >= 45 else "pass"}
    statuses["www.nat.nl"] = {"test.sim.https": "fail"}
    statuses["www.stil.nl"] = {"test.sim.https": "error", "test.sim.dnssec": "error"}
    world.statuses = statuses


@pytest.fixture
def ninety_nights(db_url, world, tmp_path):
    clock = scheduler.ManualClock(datetime(2026, 1, 1, 1, 30))
    store = Store(db_url, clock=clock)
    sites = write_sites(tmp_path / "sites.csv", GEMEENTEN + OTHERS)
    schedules = scheduler.Schedules([scheduler.Schedule("nightly", sites=str(sites), checks="test.sim.*")],
                                    scheduler.WorkSettings(poll_seconds=0.01))
    for night in range(NIGHTS):
        clock.current = datetime.combine(START + timedelta(days=night), datetime.min.time()) + timedelta(hours=1,
                                                                                                        minutes=30)
        script(world, night)
        assert len(scheduler.run_due(store, settings(), schedules)) == 1, f"night {night}"
        assert scheduler.run_due(store, settings(), schedules) == []  # not due twice in one night
    clock.current = datetime(2026, 3, 31, 12, 0)
    yield store, clock, schedules
    store.close()


def by_key(points):
    return {(p.day, p.standard, p.group): (p.complying, p.measured) for p in points}


def test_ninety_nights(ninety_nights, world, tmp_path):
    store, clock, schedules = ninety_nights
    assert len(store.runs()) == NIGHTS and all(r.state == "finished" and r.sites_done == 15 for r in store.runs())

    # the state on a date: gemeente 0's DNSSEC broke on 2026-02-15
    def dnssec_of(day):
        return {r.host: r.status for r in store.state_on(day) if r.check == "test.sim.dnssec"}["www.gemeente0.nl"]
    assert dnssec_of(date(2026, 2, 14)) == "pass" and dnssec_of(date(2026, 2, 15)) == "fail"
    state = store.state_on(date(2026, 1, 25))  # night 24: gemeenten 0, 1, 2 pass HTTPS
    https = {r.host: r.status for r in state if r.check == "test.sim.https"}
    assert [https[f"www.gemeente{i}.nl"] for i in range(10)] == ["pass"] * 3 + ["fail"] * 7

    # daily adoption, by hand: municipalities floor(n/10)+1 of 10; total adds 2 provinces and 1 of 2 water
    # boards (the third is never measurable)
    daily = by_key(trends.series(store.state_on, [HTTPS, DNSSEC], START, date(2026, 3, 31), "day"))
    for night in (0, 9, 10, 24, 45, 89):
        day = START + timedelta(days=night)
        k = night // 10 + 1
        assert daily[day, "https", "gemeente"] == (k, 10)
        assert daily[day, "https", "provincie"] == (2, 2)
        assert daily[day, "https", "waterschap"] == (1, 2)
        assert daily[day, "https", "total"] == (k + 3, 14)
        assert daily[day, "dnssec", "total"] == ((14 if night < 45 else 13), 14)

    monthly = by_key(trends.series(store.state_on, [HTTPS], START, date(2026, 3, 31), "month"))
    assert monthly[date(2026, 1, 31), "https", "gemeente"] == (4, 10)   # night 30
    assert monthly[date(2026, 2, 28), "https", "gemeente"] == (6, 10)   # night 58
    assert monthly[date(2026, 3, 31), "https", "gemeente"] == (9, 10)   # night 89

    # the projection over the last month (2026-02-28 .. 2026-03-31, nights 58..89), fitted by hand with the
    # standard library on the same step function
    points = trends.series(store.state_on, [HTTPS, DNSSEC], START, date(2026, 3, 31), "day")
    nights = range(58, 90)
    slope, intercept = statistics.linear_regression([n - 89 for n in nights], [(n // 10 + 4) / 14 for n in nights])
    expected = date(2026, 3, 31) + timedelta(days=round((1 - intercept) / slope))
    projection = trends.project(points, "https", "total", months=1)
    assert projection.outcome == "on_pace" and projection.when == expected
    assert expected.year == 2026 and expected > date(2026, 3, 31)
    assert trends.project(points, "dnssec", "total", months=3).outcome == "never"  # it only went down

    # per organisation: gemeente 5 complies from night 50 (2026-02-20)
    history = trends.organisation_history(store.state_on, [HTTPS], "GM9906",
                                          [date(2026, 2, 19), date(2026, 2, 20)])
    assert [(p.complying, p.measured) for p in history] == [(0, 1), (1, 1)]

    # the published site
    standards_file = tmp_path / "standards.toml"
    standards_file.write_text('[[standard]]\nid = "https"\ntitle = { nl = "HTTPS", en = "HTTPS" }\n'
                              'checks = ["test.sim.https"]\n[[standard]]\nid = "dnssec"\n'
                              'title = { nl = "DNSSEC", en = "DNSSEC" }\nchecks = ["test.sim.dnssec"]\n')
    out = tmp_path / "site"
    index = publish(store, out, all_checks(), Options(lab=True, standards=standards_file, months=1))
    html = index.read_text()
    assert "86% (12/14)" in html and "93% (13/14)" in html  # in total on the last day: HTTPS, DNSSEC
    assert expected.isoformat() in html
    trend_csv = (out / "exports" / "trends-day.csv").read_text().splitlines()
    assert "2026-03-31,day,https,total,12,14,0.8571,2026-03-31T23:59:59.999999Z,0" in trend_csv
    gm0 = (out / "organisations" / "gm9901.html").read_text()
    assert "Herstel test.sim.dnssec." in gm0  # how to fix the failing check
    assert "Geen veranderingen." in gm0  # nothing changed in the last night
    for page in out.rglob("*.html"):
        text = page.read_text()
        assert '<html lang="nl">' in text and "<script" not in text, page
    lab_map = (out / "maps" / "https.html").read_text()
    assert 'data-code="GM9901" data-result="green"' in lab_map
    assert 'data-code="GM9910" data-result="red"' in lab_map

    # one more night in which gemeente 3 breaks HTTPS: its page shows the change and how to fix it
    clock.current = datetime(2026, 4, 1, 1, 30)
    script(world, NIGHTS)
    world.statuses["www.gemeente3.nl"]["test.sim.https"] = "fail"
    assert len(scheduler.run_due(store, settings(), schedules)) == 1
    publish(store, out, all_checks(), Options(lab=True, standards=standards_file, months=1))
    gm3 = (out / "organisations" / "gm9904.html").read_text()
    assert "test.sim.https: voldoet → voldoet niet (2026-04-01)" in gm3 and "Herstel test.sim.https." in gm3
