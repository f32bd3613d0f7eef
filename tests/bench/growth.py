"""Growth of the database over nightly runs of unchanged sites (issue: at most 1.5 times the size after
the first run, after 30 nights).

Each synthetic site carries findings and artifacts of about the size real ones have (a full web scan: some
thirty findings with evidence, DNS, HTTP and TLS facts per address). Every night is a run of all sites
followed by the scheduler's maintenance, as `govscan schedule` does it.

    .venv/bin/python -m tests.bench.growth [--db URL] [--sites 300] [--nights 30]
"""
from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from datetime import datetime, timedelta

from sqlalchemy import text

from govscan.model import AddressResult, Artifact, Finding, Organisation, Site, Status, Text
from govscan.model import SiteResult
from storage import work
from storage.store import Store

CHECKS = 30
ADDRESSES = ("198.51.100.10", "2001:db8::10")


def _blob(seed: str, size: int) -> str:
    """Text that compresses like certificates and headers do (hex digests: about half)."""
    out, counter = [], 0
    while sum(map(len, out)) < size:
        out.append(hashlib.sha256(f"{seed}:{counter}".encode()).hexdigest())
        counter += 1
    return "".join(out)[:size]


def site_result(i: int, checks: int = CHECKS) -> SiteResult:
    host = f"www.gemeente{i:04d}.nl"
    site = Site(f"https://{host}/", host, Organisation(f"Gemeente {i}", "gemeente", f"GM{i:04d}"))
    findings = []
    for c in range(checks):
        status = Status.PASS if (i + c) % 7 else Status.FAIL
        details = {"evidence": _blob(f"{host}{c}", 240), "header": "max-age=31536000; includeSubDomains"}
        addresses = [AddressResult(a, status, Text("In orde.", "Fine."), {"seen": a}) for a in ADDRESSES]
        findings.append(Finding(host, f"bench.check{c:02d}", status, Text("Samenvatting van de controle.",
                                                                          "Summary of the check."),
                                details, "Norm", 1, None, addresses))
    site_artifacts = {"dns": Artifact("dns", 1, host, {"ipv4": [ADDRESSES[0]], "ipv6": [ADDRESSES[1]],
                                                       "records": _blob(host, 600)})}
    address_artifacts = {a: {"http": Artifact("http", 1, a, {"headers": _blob(a + host, 1500)}),
                             "tls": Artifact("tls", 1, a, {"chain": _blob("tls" + a + host, 6000)})}
                         for a in ADDRESSES}
    return SiteResult(site, site_artifacts, address_artifacts, findings, 0.1)


def size(store: Store) -> int:
    """Bytes in use: SQLite pages that are not free; PostgreSQL tables with their indexes and TOAST."""
    with store.engine.connect() as connection:
        if store.engine.dialect.name == "postgresql":
            return int(connection.execute(text(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r'")).scalar())
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar()
        free = connection.exec_driver_sql("PRAGMA freelist_count").scalar()
        page_size = connection.exec_driver_sql("PRAGMA page_size").scalar()
        return (pages - free) * page_size


def measure(url: str, sites: int = 300, nights: int = 30, checks: int = CHECKS) -> list[int]:
    """The database size after each night."""
    now = [datetime(2026, 1, 1, 2, 0)]
    store = Store(url, clock=lambda: now[0])
    results = [site_result(i, checks) for i in range(sites)]
    sizes = []
    try:
        for _ in range(nights):
            run_id = store.start_run("nightly", [r.site for r in results], source="schedule:bench")
            for result in results:
                store.record_site(run_id, result)
            store.finish_run(run_id)
            work.maintain(store)
            sizes.append(size(store))
            now[0] += timedelta(days=1)
    finally:
        store.close()
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument("--sites", type=int, default=300)
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--checks", type=int, default=CHECKS, help="findings per site")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        sizes = measure(args.db or f"sqlite:///{tmp}/growth.db", args.sites, args.nights, args.checks)
        seconds = time.monotonic() - started
    print(f"{args.sites} sites, {args.nights} nights in {seconds:.0f} s")
    print(f"after night 1: {sizes[0] / 1e6:.2f} MB; after night {args.nights}: {sizes[-1] / 1e6:.2f} MB; "
          f"ratio {sizes[-1] / sizes[0]:.3f}")


if __name__ == "__main__":
    main()
