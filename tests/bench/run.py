"""`make bench` (`python -m tests.bench.run --sites 500`): throughput, cost per site and growth of govscan,
measured the same way every time against the lab, printed as one table and written as JSON
(out/bench/<timestamp>.json, with the git commit and the machine's facts) so runs can be compared.

It generates a lab scenario of N sites with the lab's generator (its realistic mix), starts the lab with
it, and measures the real command line (`govscan --lab scan`) as a separate process:

1. the network families (DNS, IPv6, HTTPS, TLS, headers, security.txt) over all N sites;
2. each probe family on its own (dns, http, tls) over a deterministic sample (every k-th site), for the
   split of CPU per probe;
3. all families, the browser's included, over a smaller deterministic sample: the browser needs seconds
   per page, so N sites would not fit the 15 minutes this command is allowed; its rate is extrapolated to
   N and labelled so;
4. the store: the results of (3) recorded on 31 simulated nights (one run and 30 unchanged ones);
5. the reports: trend report and municipality maps for 342 municipalities with a year of history.

With --peers it instead runs the peer comparison (tests/bench/peers: pshtt and sslyze, pa11y-ci and
Lighthouse); with --workers the comparison of one
process with 1, 2 and 4 Celery workers and the database write rate (tests/bench/workers.py). At the end the lab is put back: the
default scenario when a lab was running before, down when none was. Benchmarks never fail on numbers.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console

from checks.registry import select as select_checks
from tests.bench import measure, reports_render, storage_growth
from tests.bench.results import costs, load_results

REPO = Path(__file__).resolve().parents[2]
PROBE_FAMILIES = ("dns", "http", "tls", "browser")
LAB_ATTEMPTS = 3
TARGETS = {  # issue 9, for this 2-core machine
    "network_sites_per_minute": 150, "network_cpu_seconds_per_site": 0.8, "all_sites_per_minute": 20,
    "peak_memory_mb": 2048, "tls_handshakes_per_address": 60, "http_requests_per_site": 25, "peer_ratio": 3,
    "workers_overhead_per_site": 0.10,  # issue 17: distributed against one process, wall time per site
    "browser_cpu_seconds_per_site": 3.0,  # issue 18: scanner, node and every Chromium process together
}


class BenchError(Exception):
    pass


def family_of(check) -> str:
    """The probe family a check costs: browser, tls or http when it needs that probe, else dns (the DNS
    probes). web.dane (TLSA with the http probe's certificate) counts as http."""
    probes = set(check.requires) | set(check.optional)
    return next((family for family in ("browser", "tls", "http") if family in probes), "dns")


def check_patterns(families: set[str]) -> str:
    return ",".join(c.id for c in select_checks(None) if family_of(c) in families)


def every_kth(rows: list, size: int) -> list:
    """A deterministic sample spread over the list: rows 0, k, 2k, ... (k = len/size)."""
    if size >= len(rows):
        return list(rows)
    step = len(rows) / size
    return [rows[int(i * step)] for i in range(size)]


def browser_verdicts(db: Path) -> dict[str, dict[str, str]]:
    """The stored status of every browser family check, per site."""
    browser_checks = {c.id for c in select_checks(None) if family_of(c) == "browser"}
    return {r.site.host: {f.check: str(f.status) for f in r.findings if f.check in browser_checks}
            for r in load_results(db)}


def compare_verdicts(before: Path, after: Path) -> dict:
    """The browser families' verdicts of two benchmark runs (another commit's all.db, same scenario and seed):
    every site and check whose status differs, and those only one run judged."""
    old, new = browser_verdicts(before), browser_verdicts(after)
    differ = [{"site": host, "check": check, "before": old[host].get(check), "after": new[host].get(check)}
              for host in sorted(set(old) & set(new))
              for check in sorted(set(old[host]) | set(new[host])) if old[host].get(check) != new[host].get(check)]
    return {"before": str(before), "sites_compared": len(set(old) & set(new)),
            "checks_compared": sum(len(new[h]) for h in set(old) & set(new)), "differences": differ,
            "sites_only_before": sorted(set(old) - set(new)), "sites_only_after": sorted(set(new) - set(old))}


def write_sites(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def git_commit() -> dict:
    def git(*args) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty_files": len(git("status", "--porcelain").splitlines())}


def machine_facts() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "")
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
    try:
        chromium = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True,
                                  timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        chromium = "not found"
    return {"cpu_count": os.cpu_count(), "cpu_model": model, "memory_gb": round(mem_kb / 1024 / 1024, 1),
            "kernel": platform.release(), "python": platform.python_version(), "chromium": chromium,
            "load_average_at_start": os.getloadavg()}


class Bench:
    def __init__(self, args, workdir: Path, console: Console):
        self.args = args
        self.workdir = workdir
        self.console = console
        self.scenario: Path | None = None
        self.lab_replaced = 0
        self.rejected: list[str] = []

    def echo(self, line: str) -> None:
        self.console.log(line, markup=False, highlight=False)

    def scan(self, name: str, sites_file: Path, checks: str, netns: str | None = None):
        """`govscan --lab scan` as its own measured process; returns the measurement and its database.

        The lab is shared: another session's test run may replace it with its own scenario meanwhile. A scan
        that did not run against this benchmark's lab from start to end is thrown away and done again."""
        db = self.workdir / f"{name}.db"
        argv = [sys.executable, "-m", "scanner.cli", "--lab", "--lang", "en", "--db", str(db), "scan",
                "--sites", str(sites_file), "--checks", checks]
        if netns:
            argv = ["ip", "netns", "exec", netns, *argv]
        for attempt in range(1, LAB_ATTEMPTS + 1):
            lab_started = self.ensure_lab()
            db.unlink(missing_ok=True)
            result = measure.run(argv, log=self.workdir / f"{name}.log")
            if self.lab_status().get("started") == lab_started and self.lab_status().get("running"):
                break
            self.echo(f"the lab was replaced during scan {name} (attempt {attempt}): scanning again")
            self.lab_replaced += 1
        else:
            raise BenchError(f"the lab kept being replaced during scan {name}")
        if result.returncode != 0:
            raise BenchError(f"scan {name} exited with {result.returncode}: see {self.workdir / name}.log")
        return result, db

    @staticmethod
    def lab_status() -> dict:
        from lab import commands as lab

        return lab.status()

    def ensure_lab(self) -> str:
        """Start (again) the benchmark's scenario unless the lab runs it; returns the lab's start time."""
        from lab import commands as lab

        status = self.lab_status()
        if not (status.get("running") and status.get("scenario") == str(self.scenario)):
            lab.up(self.scenario, echo=self.echo)
            status = self.lab_status()
        return status["started"]

    def lab_up(self, scenario: Path) -> tuple[dict, float]:
        from lab import commands as lab

        self.scenario = scenario
        started = time.monotonic()
        lab.up(scenario, echo=self.echo)
        return lab.status(), round(time.monotonic() - started, 1)

    def sites(self, status: dict) -> tuple[list[str], list[list[str]]]:
        """The lab's site list, less the rows the scanner's loader rejects (so every count is of sites
        scanned); how many were left out goes into the report."""
        from scanner import targets

        with open(status["sites_file"], newline="") as fh:
            rows = list(csv.reader(fh))
        rejected = {problem.line for problem in targets.load(status["sites_file"])[1]}
        self.rejected = [f"{row[2]} ({row[1]})" for line, row in enumerate(rows[1:], start=2) if line in rejected]
        return rows[0], [row for line, row in enumerate(rows[1:], start=2) if line not in rejected]

    def full(self, status: dict) -> dict:
        header, rows = self.sites(status)
        n = len(rows)
        all_sites = write_sites(self.workdir / "sites.csv", header, rows)
        split_rows = every_kth(rows, self.args.split_sample)
        split_sites = write_sites(self.workdir / "sites-split.csv", header, split_rows)
        browser_rows = every_kth(rows, self.args.browser_sample)
        browser_sites = write_sites(self.workdir / "sites-browser.csv", header, browser_rows)

        self.echo(f"network families over {n} sites")
        network, network_db = self.scan("network", all_sites, check_patterns({"dns", "http", "tls"}))
        startup = measure.run([sys.executable, "-m", "scanner.cli", "--lab", "--db", str(self.workdir / "startup.db"),
                               "runs"], log=self.workdir / "startup.log")
        passes = {}
        for family in ("dns", "http", "tls"):
            self.echo(f"{family} probes alone over {len(split_rows)} sites")
            passes[family] = self.scan(f"pass-{family}", split_sites, check_patterns({family}))[0]
        self.echo(f"all families (browser included) over {len(browser_rows)} sites")
        everything, everything_db = self.scan("all", browser_sites, check_patterns(set(PROBE_FAMILIES)))

        network_results = load_results(network_db)
        everything_results = load_results(everything_db)
        self.echo("store growth: 31 simulated nights")
        growth = storage_growth.simulate(everything_results, self.workdir / "growth.db")
        self.echo("reports: 342 municipalities, a year of history")
        render = reports_render.measure(self.workdir)

        compared = compare_verdicts(Path(self.args.compare_verdicts), everything_db) \
            if self.args.compare_verdicts else None
        b = len(browser_rows)
        scanner_share = everything.cpu_self - network.cpu_self / n * b  # the browser's driving, by difference
        cpu_split = {family: round(max(0.0, m.cpu_total - startup.cpu_total) / len(split_rows), 3)
                     for family, m in passes.items()}
        cpu_split["browser"] = round((everything.cpu_descendants + max(0.0, scanner_share)) / b, 3)
        return {
            "sites": n,
            "rejected_rows": self.rejected,
            "samples": {"split": len(split_rows), "browser": b, "rule": "every k-th site of the lab's list"},
            "network": {"sites_per_minute": round(60 * n / network.seconds, 1),
                        "cpu_seconds_per_site": round(network.cpu_total / n, 3), **network.to_json(),
                        "db_kb_per_site": round(storage_growth.file_size(network_db) / n / 1024, 1)},
            "all_families": {"sites_per_minute": round(60 * b / everything.seconds, 1),
                             "cpu_seconds_per_site": round(everything.cpu_total / b, 3),
                             "extrapolated_minutes_for_all_sites": round(n * everything.seconds / b / 60, 1),
                             **everything.to_json()},
            "cpu_seconds_per_site_by_probe": cpu_split,
            "cpu_split_detail": {
                "startup_cpu_seconds": round(startup.cpu_total, 3),
                "passes": {family: m.to_json() for family, m in passes.items()},
                "browser_processes_cpu_per_site": round(everything.cpu_descendants / b, 3),
                "browser_scanner_side_cpu_per_site": round(max(0.0, scanner_share) / b, 3),
                "tls_probe_own_counter_cpu_per_address":
                    costs(network_results)["tls_probe_cpu_seconds_per_address"]["mean"],
            },
            "costs": costs(network_results),
            "browser_costs": {k: v for k, v in costs(everything_results).items() if k.startswith("browser")},
            "browser_verdicts_compared": compared,
            "storage": growth,
            "reports": render,
        }

    def peers(self, status: dict) -> dict:
        from tests.bench import peers

        header, rows = self.sites(status)
        sample = every_kth(rows, self.args.peer_sample)
        sites = write_sites(self.workdir / "sites-peers.csv", header, sample)
        browser_sites = write_sites(self.workdir / "sites-browser-peers.csv", header,
                                    every_kth(rows, self.args.browser_peer_sample))
        return {"rejected_rows": self.rejected, **peers.compare(self.workdir, sites, status, self, browser_sites)}


def restore_lab(before: dict, echo) -> str:
    """The lab as others expect it: the default scenario, unless no lab had been started before (a fresh
    machine), which gets none. (The lab is shared: one found half-started was being restarted by another.)"""
    from lab import commands as lab

    if before.get("running") or "scenario" in before:
        lab.up(None, echo=echo)
        return "default scenario"
    lab.down(echo=echo)
    return "down (as before)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=500, help="sites in the generated scenario (default 500)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--split-sample", type=int, default=100, help="sites for the per-probe passes")
    parser.add_argument("--browser-sample", type=int, default=25, help="sites for the run with the browser")
    parser.add_argument("--compare-verdicts", metavar="ALL_DB",
                        help="compare the browser families' verdicts with another run's all.db (out/bench/work/"
                             "<stamp>/all.db of another commit, same --sites, --seed and --browser-sample)")
    parser.add_argument("--peers", action="store_true",
                        help="compare with pshtt, sslyze, pa11y-ci and Lighthouse instead")
    parser.add_argument("--peer-sample", type=int, default=100, help="sites for the peer comparison")
    parser.add_argument("--browser-peer-sample", type=int, default=25,
                        help="sites for the browser peers (pa11y-ci, Lighthouse)")
    parser.add_argument("--workers", action="store_true",
                        help="compare one process with 1, 2 and 4 worker processes instead")
    parser.add_argument("--out", default="out/bench", help="where the JSON goes (default out/bench)")
    args = parser.parse_args(argv)

    from lab import commands as lab
    from lab.generate import generate

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = REPO / args.out
    workdir = out / "work" / stamp
    workdir.mkdir(parents=True, exist_ok=True)
    bench = Bench(args, workdir, console)
    report = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), **git_commit(),
              "machine": machine_facts(),
              "mode": "peers" if args.peers else "workers" if args.workers else "full",
              "arguments": vars(args), "targets": TARGETS}
    started = time.monotonic()
    before = lab.status()
    if args.peers:
        from tests.bench import peers

        from tests.bench.peers import browser as browser_peers

        peers.ensure_venv(bench.echo)
        browser_peers.ensure_npm(bench.echo)
    try:
        scenario = workdir / f"scenario-{args.sites}.yaml"
        scenario.write_text(generate(args.sites, args.seed), encoding="utf-8")
        bench.echo(f"lab up with {args.sites} generated sites")
        status, report["lab_up_seconds"] = bench.lab_up(scenario)
        if args.workers:
            from tests.bench import workers

            report.update(workers.compare(bench, status, check_patterns({"dns", "http", "tls"})))
        else:
            report.update(bench.peers(status) if args.peers else bench.full(status))
    finally:
        report["lab_restored"] = restore_lab(before, bench.echo)
    report["machine"]["load_average_at_end"] = os.getloadavg()
    report["scans_repeated_because_the_lab_was_replaced"] = bench.lab_replaced
    report["bench_seconds"] = round(time.monotonic() - started, 1)
    path = out / f"{stamp}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    from tests.bench.table import render

    render(console, report)
    console.print(f"JSON: {path.relative_to(REPO)}  (work files: {workdir.relative_to(REPO)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
