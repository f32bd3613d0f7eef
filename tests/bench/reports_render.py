"""Time to render the trend report and the municipality maps for 342 municipalities with a year of nightly
history, from a store filled with synthetic history (one site per municipality, every check, a few status
changes per site over the year, as versions: the way nightly runs leave them).

Boundaries: the real 2025 municipalities and provinces in ../shared/data/nl-boundaries/ when present, else a
synthetic grid of 342 squares (and 12 for provinces), so a fresh clone measures the same amount of work.
"""
from __future__ import annotations

import json
import random
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from checks.registry import select as select_checks
from reports import maps, trends
from reports.standards import all_together, load_standards
from govscan.model import Site
from storage.history import status_versions
from storage.models import FindingRow, RunRow
from storage.store import Store

REPO = Path(__file__).resolve().parents[2]
REAL_BOUNDARIES = REPO.parent / "shared" / "data" / "nl-boundaries"
MUNICIPALITIES = 342
DAYS = 365
FIRST_DAY = date(2025, 11, 23)


def _grid(count: int, prefix: str, columns: int) -> dict:
    """Squares in a grid over the Netherlands' extent (WGS84), with CBS-like codes."""
    features = []
    for index in range(count):
        x, y = 3.4 + 0.2 * (index % columns), 50.8 + 0.2 * (index // columns)
        ring = [[x, y], [x + 0.2, y], [x + 0.2, y + 0.2], [x, y + 0.2], [x, y]]
        code = f"{prefix}{index + 1:04d}"
        features.append({"type": "Feature", "id": code, "geometry": {"type": "Polygon", "coordinates": [ring]},
                         "properties": {"statcode": code, "statnaam": f"{prefix} {index + 1}"}})
    return {"type": "FeatureCollection", "features": features}


def boundaries(workdir: Path) -> tuple[dict[str, Path], str]:
    """Files per area type, and which they are ("real" or "synthetic")."""
    real = {"gemeente": REAL_BOUNDARIES / "gemeente_2025.geojson",
            "provincie": REAL_BOUNDARIES / "provincie_2025.geojson"}
    if all(path.exists() for path in real.values()):
        return real, "real (CBS/PDOK 2025, ../shared/data/nl-boundaries)"
    files = {}
    for kind, prefix, count, columns in (("gemeente", "GM", MUNICIPALITIES, 19), ("provincie", "PV", 12, 4)):
        files[kind] = workdir / f"synthetic-{kind}.geojson"
        files[kind].write_text(json.dumps(_grid(count, prefix, columns)))
    return files, "synthetic grid (../shared/data/nl-boundaries absent)"


def municipalities(path: Path) -> list[tuple[str, str]]:
    features = json.loads(path.read_text())["features"]
    return [(f["properties"]["statcode"], f["properties"].get("statnaam", "")) for f in features][:MUNICIPALITIES]


def fill_history(store: Store, codes: list[tuple[str, str]], seed: int = 9) -> int:
    """A year of nightly runs for one site per municipality: every check starts with a status and about a
    third of them change once or twice during the year (mostly towards pass). Returns the findings stored."""
    from govscan.model import Organisation

    rng = random.Random(seed)
    check_ids = [c.id for c in select_checks(None)]
    sites = [Site(f"https://www.{code.lower()}.nl/", f"www.{code.lower()}.nl", Organisation(f"Gemeente {name}",
                                                                                          "gemeente", code))
             for code, name in codes]
    with store.session() as session:
        site_ids = store._sites(session, sites)
        nights = [datetime.combine(FIRST_DAY + timedelta(days=d), datetime.min.time()) + timedelta(hours=2)
                  for d in range(DAYS)]
        result = session.execute(insert(RunRow).returning(RunRow.id), [
            {"kind": "nightly", "state": "finished", "started": night, "finished": night + timedelta(minutes=40),
             "tool_version": "bench", "config_hash": "", "checks": "", "source": "bench", "host": "bench",
             "pid": 0, "process_start": "", "sites_total": len(sites), "sites_done": len(sites),
             "sites_failing": 0, "sites_error": 0} for night in nights])
        run_ids = [row[0] for row in result]
        rows = []
        for site in sites:
            for check in check_ids:
                status = rng.choices(["pass", "fail", "warn", "error", "not_applicable"], [55, 30, 7, 4, 4])[0]
                changes = sorted(rng.sample(range(1, DAYS), rng.choice([0, 0, 0, 0, 1, 2])))
                starts = [0, *changes]
                for index, start in enumerate(starts):
                    end = starts[index + 1] if index + 1 < len(starts) else None
                    rows.append({
                        "site_id": site_ids[site.host], "check_id": check, "status": status, "reason": None,
                        "summary_nl": f"{check}: {status}", "summary_en": f"{check}: {status}",
                        "details": {"night": start}, "addresses": [], "norm": "", "check_version": 1,
                        "evidence_hash": f"{site.host}-{check}-{start}", "first_seen": nights[start],
                        "first_run_id": run_ids[start], "last_seen": nights[(end or DAYS) - 1],
                        "last_run_id": run_ids[(end or DAYS) - 1],
                        "valid_until": nights[end] if end is not None else None})
                    status = "pass" if rng.random() < 0.7 else rng.choice(["fail", "warn"])
        session.execute(insert(FindingRow), rows)
    return len(rows)


def _timed(fn):
    started = time.perf_counter()
    value = fn()
    return value, round(time.perf_counter() - started, 2)


def measure(workdir: Path) -> dict:
    files, kind = boundaries(workdir)
    db = workdir / "history.db"
    db.unlink(missing_ok=True)
    store = Store(str(db))
    try:
        findings, fill_seconds = _timed(lambda: fill_history(store, municipalities(files["gemeente"])))
        standards = load_standards()
        last = FIRST_DAY + timedelta(days=DAYS - 1)

        def trend_report(period: str) -> int:
            """What `govscan publish` does: the year's status versions in one query, each point in memory."""
            state_at = trends.state_from(status_versions(store, FIRST_DAY, last))
            points = trends.series(state_at, standards, FIRST_DAY, last, period)
            charts = [trends.chart_svg(points, standard, trends.project(points, standard.id)) for standard in standards]
            trends.to_csv(points, period)
            return sum(len(c) for c in charts)

        def map_report() -> int:
            projected = maps.load_maps(files)
            rows = store.state_on(last)
            return sum(len(maps.render_section(standard, rows, projected))
                       for standard in [all_together(standards), *standards])

        _, weekly = _timed(lambda: trend_report("week"))
        _, one_day = _timed(lambda: store.state_on(last))
        _, map_seconds = _timed(map_report)
    finally:
        store.close()
    return {"municipalities": MUNICIPALITIES, "days": DAYS, "boundaries": kind, "findings_rows": findings,
            "fill_seconds": fill_seconds, "trend_report_weekly_seconds": weekly,
            "state_on_one_day_seconds": one_day,
            "maps_seconds": map_seconds, "standards": len(standards)}
