"""`make bench ARGS=--workers`: what spreading a run over Celery workers costs, on the benchmark's generated lab
scenario (the network families over all N sites, as the full benchmark's first scan).

The same scan is measured in one process (`govscan scan`) and distributed (`govscan scan --distributed` with 1,
2 and 4 `govscan worker --families network` processes started beforehand), each into a fresh PostgreSQL
database of its own on this machine, with a RabbitMQ virtual host of its own and the shared connection
limiter in Redis (scanner/limits.py) in a database number of its own, all removed afterwards. The sites in
flight are the same in every mode: the single process's `[scan] sites_in_flight`, split evenly over the
workers (`--concurrency`), so the difference is what distribution costs, not more parallelism.

Per mode: sites per minute (the coordinator's wall time, from its start to the run finished), CPU seconds per
site (coordinator plus the workers' CPU during the run, their start-up excluded) and the overhead per site
against the single process, in wall time and in CPU. On a 2-core machine more workers cannot go faster; the
overhead is the figure to watch; the sites judged otherwise than by the single process are counted (the
lab's verdicts do not change between scans, so any is a fault). Then the database write rate (tests/bench/store_rate.py) with the network
scan's results. Benchmarks never fail on numbers.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis

from scanner import limits
from tests.bench import measure, store_rate
from tests.bench.results import load_results

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
REDIS = "redis://127.0.0.1:6379/13"  # a database number of the benchmark's own, emptied of its keys after
WORKER_COUNTS = (1, 2, 4)
GOVSCAN = [sys.executable, "-m", "scanner.cli"]


@contextmanager
def database():
    name = f"govscan_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@contextmanager
def vhost():
    name = f"govscan-bench-{uuid.uuid4().hex[:10]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"], check=True)
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/{name}"
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], check=True)


def tree_cpu(pid: int) -> float:
    return sum(measure.cpu_seconds(p) or 0.0 for p in (pid, *measure.descendants(pid)))


class Pool:
    """`govscan worker` processes started by the benchmark, ended by their pid."""

    def __init__(self, options: list[str], workdir: Path, count: int, concurrency: int):
        self.processes = []
        for i in range(count):
            log = open(workdir / f"worker-{count}-{i}.log", "w")
            self.processes.append(subprocess.Popen(
                [*GOVSCAN, *options, "worker", "--families", "network", "--concurrency", str(concurrency)],
                stdout=log, stderr=subprocess.STDOUT))
        self.logs = [workdir / f"worker-{count}-{i}.log" for i in range(count)]

    def wait_ready(self, seconds: float = 120) -> None:
        """Until every worker's Celery says it is ready (so start-up is not measured)."""
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            if all("ready." in log.read_text() for log in self.logs):
                return
            if any(p.poll() is not None for p in self.processes):
                break
            time.sleep(0.2)
        raise RuntimeError(f"workers did not start: see {self.logs[0]}")

    def cpu(self) -> float:
        return sum(tree_cpu(p.pid) for p in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def scan_argv(options: list[str], sites: Path, checks: str, distributed: bool) -> list[str]:
    return [*GOVSCAN, *options, "scan", "--sites", str(sites), "--checks", checks,
            *(["--distributed"] if distributed else [])]


def one_mode(bench, name: str, sites: Path, checks: str, n: int, workers: int, in_flight: int) -> tuple[dict, list]:
    """One scan of `sites`, in one process (workers == 0) or by `workers` worker processes: its figures and
    the results it stored."""
    with database() as url, vhost() as broker:
        settings = bench.workdir / f"settings-{name}.toml"
        settings.write_text(f'[workers]\nbroker_url = "{broker}"\nlimiter_url = "{REDIS}"\n')
        options = ["--lab", "--lang", "en", "--config", str(settings), "--db", url]
        pool = None
        try:
            bench.ensure_lab()
            if workers:
                pool = Pool(options, bench.workdir, workers, max(1, in_flight // workers))
                pool.wait_ready()
            before = pool.cpu() if pool else 0.0
            result = measure.run(scan_argv(options, sites, checks, bool(workers)),
                                 log=bench.workdir / f"{name}.log")
            worker_cpu = (pool.cpu() - before) if pool else 0.0
        finally:
            if pool:
                pool.stop()
            client = redis.Redis.from_url(REDIS)
            for key in client.scan_iter(f"{limits.PREFIX}*"):
                client.delete(key)
        if result.returncode != 0:
            raise RuntimeError(f"scan {name} exited with {result.returncode}: see {bench.workdir / name}.log")
        results = load_results(url)
        cpu = result.cpu_total + worker_cpu
        return results, {"workers": workers, "concurrency_per_worker": max(1, in_flight // workers) if workers else in_flight,
                "seconds": round(result.seconds, 1), "sites_per_minute": round(60 * n / result.seconds, 1),
                "cpu_seconds_per_site": round(cpu / n, 4), "coordinator_cpu_seconds": round(result.cpu_total, 2),
                "workers_cpu_seconds": round(worker_cpu, 2), "sites_stored": len(results)}


def verdicts(results: list) -> dict[str, dict[str, str]]:
    return {r.site.host: {f.check: str(f.status) for f in r.findings} for r in results}


def compare(bench, status, checks: str) -> dict:
    """Every mode over the same site list, then the database write rate with the first scan's results."""
    from scanner import config
    from tests.bench.run import write_sites

    header, rows = bench.sites(status)
    n = len(rows)
    sites = write_sites(bench.workdir / "sites.csv", header, rows)
    in_flight = config.load().scan.sites_in_flight
    modes = {}
    bench.echo(f"network families over {n} sites in one process")
    results, modes["single"] = one_mode(bench, "single", sites, checks, n, 0, in_flight)
    for count in WORKER_COUNTS:
        bench.echo(f"network families over {n} sites with {count} worker process(es)")
        found, modes[f"{count}_workers"] = one_mode(bench, f"workers-{count}", sites, checks, n, count, in_flight)
        modes[f"{count}_workers"]["sites_judged_otherwise_than_single"] = len(
            [host for host, judged in verdicts(found).items() if judged != verdicts(results).get(host)])
    single = modes["single"]
    for mode in modes.values():
        mode["overhead_per_site"] = round(single["sites_per_minute"] / mode["sites_per_minute"] - 1, 3)
        mode["cpu_overhead_per_site"] = round(mode["cpu_seconds_per_site"] / single["cpu_seconds_per_site"] - 1, 3)
    bench.echo("database write rate: Store.record_site on PostgreSQL, with the single process's results")
    return {"sites": n, "sites_in_flight": in_flight, "modes": modes, "store_rate": store_rate.measure(results, sites=500),
            "load_average_during": os.getloadavg()}
