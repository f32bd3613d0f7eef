"""Distributed runs (scanner/workers.py) for real: `govscan worker` processes on a RabbitMQ broker, the results
in a PostgreSQL database of the test's own.

- The lab's sites scanned by two workers get exactly the verdicts of a scan in one process (every network
  check on every site; every check, browser ones too, on a few sites: the browser takes minutes per site).
- A worker killed with SIGKILL in the middle of a run and a broker restarted once lose no site and double
  none. That test runs on a RabbitMQ node of its own (own node name, ports and data directory, stopped by its
  pid), never the machine's, and scans without the lab: a resolver that never answers makes every site take
  the DNS timeout, so a worker is reliably in the middle of sites when it is killed.
"""
from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from checks.registry import select as select_checks
from scanner import config, workers
from scanner.cli import main
from storage.models import FindingRow, WorkItem
from storage.store import Store

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
GOVSCAN = [sys.executable, "-m", "scanner.cli"]
RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"  # the script itself: /usr/sbin's wrapper changes user


@pytest.fixture
def db_url():
    name = f"govscan_workers_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, seconds: float, what: str):
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds:g}s for {what}")


class Workers:
    """`govscan worker` processes started by the test, each logging to a file; ended by their pid."""

    def __init__(self, tmp_path: Path, options: list[str]):
        self.tmp_path, self.options, self.processes = tmp_path, options, []

    def start(self, families: str, concurrency: int) -> subprocess.Popen:
        log = open(self.tmp_path / f"worker-{len(self.processes)}-{families}.log", "w")
        process = subprocess.Popen([*GOVSCAN, *self.options, "worker", "--families", families, "--concurrency",
                                    str(concurrency)], stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.tmp_path.glob("worker-*.log")))


def verdicts(store: Store, run_id: int) -> dict[str, dict[str, str]]:
    """host -> check -> status of a run, as stored."""
    found = defaultdict(dict)
    for row in store.findings_for_run(run_id):
        assert row.check_id not in found[row.site.host], f"{row.site.host} {row.check_id} twice"
        found[row.site.host][row.check_id] = row.status
    return dict(found)


# --- the lab: a distributed scan judges as a scan in one process ---

@pytest.fixture
def vhost():
    """A virtual host of the test's own on the machine's RabbitMQ, deleted at the end."""
    name = f"govscan-test-{uuid.uuid4().hex[:10]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"], check=True)
    yield f"amqp://guest:guest@127.0.0.1:5672/{name}"
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], check=True)


def lab_sites_file(tmp_path: Path, count: int) -> Path:
    """The first `count` sites of the lab's list, as a site list of their own."""
    with open(config.load(lab=True).extra["lab"]["sites_file"], newline="") as fh:
        rows = list(csv.reader(fh))
    path = tmp_path / "sites.csv"
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(rows[:count + 1])
    return path


@pytest.mark.lab
def test_two_workers_judge_the_lab_as_one_process_does(lab, db_url, vhost, tmp_path, capsys):
    settings = tmp_path / "settings.toml"
    settings.write_text(f'[workers]\nbroker_url = "{vhost}"\n')
    options = ["--lab", "--config", str(settings), "--db", db_url]
    network = ",".join(c.id for c in workers.checks_in(select_checks(None), "network"))
    few_sites = lab_sites_file(tmp_path, 6)
    # Every network check on every lab site, then every check (browser ones too) on a few sites.
    scans = [["--sites", "lab", "--checks", network], ["--sites", str(few_sites)]]
    single = []
    for scan in scans:
        assert main([*options, "scan", *scan, "--format", "json"]) == 0
        single.append(json.loads(capsys.readouterr().out)["run"]["id"])

    pool = Workers(tmp_path, options)
    try:
        pool.start("network", 8)  # no browser work for this one
        pool.start("all", 8)
        distributed = []
        for scan in scans:
            assert main([*options, "scan", *scan, "--format", "json", "--distributed"]) == 0
            report = json.loads(capsys.readouterr().out)
            distributed.append(report["run"]["id"])
    finally:
        pool.stop()

    store = Store(db_url)
    try:
        for one, spread in zip(single, distributed):
            expected, got = verdicts(store, one), verdicts(store, spread)
            assert set(got) == set(expected)
            differing = {host: {check: (status, got[host].get(check)) for check, status in checks.items()
                                if got[host].get(check) != status}
                         for host, checks in expected.items()}
            assert not {host: d for host, d in differing.items() if d}, "verdicts differ (single, distributed)"
            run = store.run(spread)
            assert (run.state, run.sites_done) == ("finished", run.sites_total)
        # The browser parts were scanned only by the worker that takes browser work.
        browser_workers = {item.worker for item in store.work_items(distributed[1]) if item.part == "browser"}
        assert len(browser_workers) == 1
    finally:
        store.close()


# --- faults: a worker killed mid-site, the broker restarted ---

class Broker:
    """A RabbitMQ node of the test's own: its node name, ports, data and configuration in a temporary
    directory, so the machine's broker is never touched. Stopped (and restarted) by its pid."""

    def __init__(self, root: Path):
        self.root, self.port = root, free_port()
        root.mkdir()
        (root / "enabled_plugins").write_text("[].\n")  # no management listener: nothing beyond AMQP
        (root / "rabbitmq.conf").write_text(f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
                                            "loopback_users = none\n")
        self.env = {"PATH": os.environ["PATH"], "HOME": str(root), "ERL_EPMD_ADDRESS": "127.0.0.1",
                    "RABBITMQ_NODENAME": f"govscan-test-{uuid.uuid4().hex[:8]}@localhost",
                    "RABBITMQ_DIST_PORT": str(free_port()), "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
                    "RABBITMQ_LOG_BASE": str(root / "log"), "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq.conf"),
                    "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
                    "RABBITMQ_PID_FILE": str(root / "pid")}
        self.process = None
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def start(self) -> None:
        self.process = subprocess.Popen([RABBITMQ_SERVER], env=self.env, stdout=open(self.root / "out.log", "a"),
                                        stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(self.accepts, 60, "the test's RabbitMQ node to accept connections")

    def accepts(self) -> bool:
        assert self.process.poll() is None, (self.root / "out.log").read_text()[-2000:]
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the script passes it on: the node stops cleanly
            self.process.wait(60)


@pytest.fixture
def broker(tmp_path):
    node = Broker(tmp_path / "rabbitmq")
    node.start()
    yield node
    node.stop()


@pytest.fixture
def silent_resolver():
    """A DNS resolver address that never answers (UDP and TCP): every lookup takes the full timeout."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    port = udp.getsockname()[1]
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", port))
    tcp.listen(64)
    yield port
    udp.close()
    tcp.close()


def test_a_killed_worker_and_a_broker_restart_lose_no_site_and_double_none(db_url, broker, silent_resolver,
                                                                           tmp_path):
    sites = [f"https://www.site{n:02}.example.nl/" for n in range(30)]
    (tmp_path / "sites.txt").write_text("\n".join(sites) + "\n")
    settings = tmp_path / "settings.toml"
    settings.write_text(f"""
[scan]
probe_timeout = 3.0
[dns]
resolvers = ["127.0.0.1"]
port = {silent_resolver}
timeout = 1.5
[workers]
broker_url = "{broker.url}"
lease_seconds = 4.0
republish_seconds = 8.0
time_limit_margin = 3.0
""")
    options = ["--config", str(settings), "--db", db_url, "--lang", "en"]
    pool = Workers(tmp_path, options)
    store = Store(db_url)  # the schema, before the processes open it
    coordinator = None
    try:
        doomed = pool.start("network", 3)
        pool.start("all", 3)
        coordinator = subprocess.Popen([*GOVSCAN, *options, "scan", "--sites", str(tmp_path / "sites.txt"),
                                        "--checks", "web.ipv6.address", "--distributed", "--format", "json"],
                                       stdout=subprocess.PIPE, stderr=open(tmp_path / "coordinator.log", "w"))
        doomed_name = f"{socket.gethostname()}:{doomed.pid}"

        def items(*conditions):
            with store.session() as session:
                return session.scalars(select(WorkItem).where(*conditions)).all()

        wait_for(lambda: items(WorkItem.worker == doomed_name, WorkItem.state == "running"), 60,
                 "the first worker to be scanning a site")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        held = {item.id for item in items(WorkItem.worker == doomed_name, WorkItem.state == "running")}
        assert held, "the worker was killed between two sites"
        done_before = len(items(WorkItem.state == "done"))
        wait_for(lambda: len(items(WorkItem.state == "done")) >= done_before + 3, 60, "more sites after the kill")
        broker.stop()
        broker.start()
        out, _ = coordinator.communicate(timeout=240)
        assert coordinator.returncode == 0, (tmp_path / "coordinator.log").read_text()
    finally:
        if coordinator is not None and coordinator.poll() is None:
            coordinator.kill()
            coordinator.wait()
        pool.stop()

    try:
        run = store.run(json.loads(out)["run"]["id"])
        assert (run.state, run.sites_total, run.sites_done) == ("finished", 30, 30)
        work = store.work_items(run.id)
        assert len(work) == 30 and {item.state for item in work} == {"done"}
        # The sites the killed worker held were scanned again, by the other worker.
        again = [item for item in work if item.id in held]
        assert again and all(item.attempts == 2 and item.worker != doomed_name for item in again)
        # One set of findings per site: one finding of the check, seen first and last in this run.
        with store.session() as session:
            per_site = session.execute(select(FindingRow.site_id, func.count()).where(
                FindingRow.first_run_id == run.id).group_by(FindingRow.site_id)).all()
        assert len(per_site) == 30 and {n for _, n in per_site} == {1}
        assert {host: checks for host, checks in verdicts(store, run.id).items()} == {
            site.split("/")[2]: {"web.ipv6.address": "error"} for site in sites}
    finally:
        store.close()
