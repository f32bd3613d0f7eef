"""Database growth: the same scan results recorded on 31 successive simulated nights (one run, then 30
unchanged nightly runs) into a fresh SQLite file, through the real Store with a controllable clock."""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from govscan.model import SiteResult
from storage.store import Store

FIRST_NIGHT = datetime(2026, 1, 5, 2, 0)


def file_size(db: Path) -> int:
    """The database with its WAL, after a checkpoint."""
    return sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())


def checkpoint(store: Store) -> None:
    """Outside a transaction (the store's connections begin one on first use), so it can truncate the WAL."""
    connection = store.engine.raw_connection()
    try:
        connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def simulate(results: list[SiteResult], db: Path, nights: int = 31) -> dict:
    """Record `results` once per night for `nights` nights; sizes after the first and the last night."""
    db.unlink(missing_ok=True)
    moment = [FIRST_NIGHT]
    store = Store(str(db), clock=lambda: moment[0])
    sites = [r.site for r in results]
    sizes, seconds = [], []
    try:
        for night in range(nights):
            moment[0] = FIRST_NIGHT + timedelta(days=night)
            started = time.perf_counter()
            run_id = store.start_run("nightly", sites, source="bench")
            for result in results:
                store.record_site(run_id, result)
            store.finish_run(run_id)
            seconds.append(time.perf_counter() - started)
            checkpoint(store)
            sizes.append(file_size(db))
        with store.session() as session:
            rows = {table: session.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                    for table in ("findings", "artifacts", "work_items", "runs")}
    finally:
        store.close()
    count = max(1, len(results))
    return {
        "sites": len(results),
        "nights": nights,
        "bytes_after_first_run": sizes[0],
        "bytes_after_last_run": sizes[-1],
        "kb_per_site_after_first_run": round(sizes[0] / count / 1024, 1),
        "kb_per_site_after_last_run": round(sizes[-1] / count / 1024, 1),
        "growth_kb_per_site_per_night": round((sizes[-1] - sizes[0]) / count / 1024 / max(1, nights - 1), 2),
        "store_ms_per_site": round(1000 * sum(seconds) / (count * nights), 1),
        "rows": rows,
    }
