"""The database write rate on PostgreSQL: how many scanned sites a second `Store.record_site` keeps, with one
writer and with several writer processes at once (as many workers store their sites), for a first run (every
finding and artifact a new version) and for an unchanged second run (the usual night: the current versions
brought up to date in place). The sizing model in docs/deploy.md reads where PostgreSQL becomes the
bottleneck from it.

The results written are real scan results (a benchmark scan's database, tests/bench/results.py) copied under
new host names until there are `sites` of them. A fresh database of its own is created on the local server
and dropped afterwards. `python -m tests.bench.store_rate SCAN.db` measures on its own.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
import uuid
from dataclasses import replace

import psycopg

from govscan.model import SiteResult
from storage.store import Store

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def copies(results: list[SiteResult], sites: int) -> list[SiteResult]:
    """`sites` results cycled from `results`, each under a host name of its own."""
    out = []
    for i in range(sites):
        result = results[i % len(results)]
        host = f"c{i}.{result.site.host}"
        out.append(replace(result, site=replace(result.site, host=host, url=f"https://{host}/")))
    return out


def _write(url: str, run_id: int, results: list[SiteResult], start, done) -> None:
    store = Store(url)
    start.wait()
    for result in results:
        store.record_site(run_id, result)
    store.close()
    done.put(len(results))


def record(url: str, results: list[SiteResult], writers: int) -> float:
    """One run of `results` stored by `writers` processes at once (each a share of the sites); sites a second."""
    store = Store(url)
    run_id = store.start_run("batch", [r.site for r in results], source="bench")
    spawn = multiprocessing.get_context("spawn")
    start, done = spawn.Event(), spawn.Queue()
    processes = [spawn.Process(target=_write, args=(url, run_id, results[i::writers], start, done))
                 for i in range(writers)]
    for process in processes:
        process.start()
    time.sleep(2)  # every writer has opened its store (imports, migration check) before the clock starts
    began = time.perf_counter()
    start.set()
    stored = sum(done.get() for _ in processes)
    seconds = time.perf_counter() - began
    for process in processes:
        process.join()
    store.finish_run(run_id)
    store.close()
    return round(stored / seconds, 1)


def measure(results: list[SiteResult], sites: int = 1000, writers: tuple[int, ...] = (1, 4)) -> dict:
    """Sites stored a second on a fresh PostgreSQL database: per number of writers, first and unchanged run."""
    name = f"govscan_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    rows = copies(results, sites)
    try:
        rates = {}
        for n in writers:
            prefix = f"w{n}-"
            batch = [replace(r, site=replace(r.site, host=prefix + r.site.host)) for r in rows]
            rates[f"{n}_writers"] = {"first_run": record(url, batch, n), "unchanged_run": record(url, batch, n)}
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    return {"sites": sites, "distinct_results": len(results), "sites_per_second": rates,
            "server": "PostgreSQL on this machine (127.0.0.1), default settings"}


if __name__ == "__main__":
    from tests.bench.results import load_results

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", help="a benchmark scan's SQLite database (out/bench/work/*/network.db)")
    parser.add_argument("--sites", type=int, default=1000)
    args = parser.parse_args()
    print(json.dumps(measure(load_results(args.db), args.sites), indent=2))
