"""`govscan lab up | down | status`: build the lab from a scenario, run it, describe it, and remove it.

Everything the lab creates is recorded in its state directory (`/run/govscan-lab/`, or $GOVSCAN_LAB_DIR):
`state.json` lists every process by PID, so `down` stops exactly those, then deletes the namespaces (their
veths and routes go with them) and the directory. `up` replaces a running lab unless it already runs the
same scenario.
"""
from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from scanner.config import lab_config_path, lab_dir
from lab import dns, net, pki, plan as lab_plan, rpki
from lab.plan import NETNS, NOV6_NETNS, LabPlan, Service
from lab.scenario import DEFAULT_SCENARIO, Scenario, load

STATE_FILE = "state.json"
READY_TIMEOUT = 20.0


class LabError(Exception):
    pass


def state_path() -> Path:
    return lab_dir() / STATE_FILE


def read_state() -> dict | None:
    try:
        return json.loads(state_path().read_text())
    except (OSError, ValueError):
        return None


def _write_state(state: dict) -> None:
    tmp = state_path().with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(state_path())


@contextlib.contextmanager
def _locked():
    """One lab command at a time on this machine (a lock on the state directory's parent)."""
    parent = lab_dir().parent
    parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _digest(scenario: Scenario) -> str:
    """Identifies what a running lab was built from: the scenario and the lab's own code."""
    digest = hashlib.sha256(scenario.source.encode())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _start_time(pid: int) -> str | None:
    """The kernel's start time of a process (with the PID, it identifies the process: PIDs are reused);
    None when it is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else fields[19]


def _alive(process: dict) -> bool:
    """Whether a recorded process still runs and is the one we started (servers rename their process
    title, so the start time identifies it, not the command line)."""
    return _start_time(process["pid"]) == process.get("start_time")


def web_services(plan: LabPlan) -> list[Service]:
    """The web side's services (lab/web.py); none while that module does not exist."""
    try:
        from lab import web
    except ModuleNotFoundError as exc:
        if exc.name != "lab.web":
            raise
        return []
    return web.services(plan)


def up(scenario_path: str | Path | None = None, *, echo=print) -> dict:
    """Build and start the lab for a scenario; returns `status()`. Idempotent per scenario."""
    scenario = load(scenario_path or DEFAULT_SCENARIO)
    with _locked():
        state = read_state()
        if state and state.get("digest") == _digest(scenario) and state["scenario"] == str(scenario.path) \
                and all(_alive(p) for p in state["processes"]) and set(net.namespaces()) >= {NETNS, NOV6_NETNS}:
            echo(f"lab already running scenario {scenario.name} ({scenario.path})")
            return status()
        net.guard(True)
        if state or set(net.namespaces()) & {NETNS, NOV6_NETNS}:
            echo("replacing the running lab")
            _down(keep_guard=True)
        started = time.monotonic()
        try:
            _up(scenario, echo)
        except BaseException:
            _down()
            raise
        echo(f"lab up: scenario {scenario.name}, {len(scenario.sites)} sites, "
             f"{time.monotonic() - started:.1f}s")
    return status()


def _up(scenario: Scenario, echo) -> None:
    workdir = lab_dir()
    workdir.mkdir(parents=True, exist_ok=True)
    plan = lab_plan.build(scenario, workdir)
    state = {"scenario": str(scenario.path), "name": scenario.name, "digest": _digest(scenario),
             "netns": plan.netns, "nov6_netns": plan.nov6_netns, "processes": [],
             "resolver": {"ipv4": plan.resolver_ipv4, "ipv6": plan.resolver_ipv6},
             "plain_resolver": {"ipv4": lab_plan.PLAIN_RESOLVER_IPV4, "ipv6": lab_plan.PLAIN_RESOLVER_IPV6},
             "trust_anchor": str(plan.trust_anchor_file), "delv_anchor": str(dns.delv_anchor_file(plan)),
             "ca_bundle": str(plan.ca_file), "scanner_config": str(lab_config_path()),
             "sites": [s["host"] for s in scenario.sites], "sites_file": str(workdir / "sites.csv"),
             "rio_export": str(workdir / "rio.csv"),
             "hosts": {h.host: {"role": h.role, "ipv4": h.ipv4, "ipv6": h.ipv6, "ipv6_listening": h.ipv6_listening}
                       for h in plan.hosts.values()},
             "nameservers": {n.name: {"ipv4": n.ipv4, "ipv6": n.ipv6, "responsive": n.responsive}
                             for n in plan.nameservers.values()},
             "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    _write_state(state)
    pki.build(plan)
    servers = [Service(name, argv, ports) for name, argv, ports in dns.build(plan)]
    servers += web_services(plan)
    net.up(plan)
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)
    running = []
    for service in servers:
        argv = ["ip", "netns", "exec", plan.netns, *service.argv]
        log = open(_log_path(logs, service), "ab")
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        log.close()
        running.append((service, process))
        state["processes"].append({"name": service.name, "pid": process.pid, "argv": service.argv,
                                   "start_time": _start_time(process.pid)})
        _write_state(state)
    _wait_ready(running, logs)
    _write_scanner_files(plan, state)


def _log_path(logs: Path, service: Service) -> Path:
    return logs / (service.name.replace(" ", "_").replace("/", "_") + ".log")


def _wait_ready(running: list[tuple[Service, subprocess.Popen]], logs: Path) -> None:
    """Wait until every service accepts TCP on each of its ports; fail early when one exits."""
    deadline = time.monotonic() + READY_TIMEOUT
    for service, process in running:
        for address, port in service.ports:
            while True:
                if process.poll() is not None:
                    log = _log_path(logs, service)
                    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                    raise LabError(f"{service.name} exited with {process.returncode}:\n{tail}")
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                with socket.socket(family, socket.SOCK_STREAM) as sock:
                    sock.settimeout(0.5)
                    if sock.connect_ex((address, port)) == 0:
                        break
                if time.monotonic() > deadline:
                    raise LabError(f"{service.name} does not accept connections on [{address}]:{port}")
                time.sleep(0.05)


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def _write_scanner_files(plan: LabPlan, state: dict) -> None:
    """The scanner's config for this lab (`govscan --lab`), the scenario's site list as CSV, the lab's
    RIO export (the zones of the sites with `in_rio`) and its RPKI files (lab/rpki.py; docs/scenario.md)."""
    sites_file = Path(state["sites_file"])
    with open(sites_file, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["organisation", "type", "code", "url"])
        for site in plan.scenario.sites:
            org = plan.scenario.organisations.get(site["organisation"], {})
            writer.writerow([org.get("name", ""), org.get("type", ""), org.get("code", ""),
                             f"https://{site['host']}/"])
    rio_file = Path(state["rio_export"])
    with open(rio_file, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["domein", "organisatie"])
        listed = {site["zone"]: site for site in plan.scenario.sites if site["in_rio"]}
        for zone, site in sorted(listed.items()):
            writer.writerow([zone, plan.scenario.organisations.get(site["organisation"], {}).get("name", "")])
    vrp_file, routes_file = plan.workdir / "rpki-vrps.json", plan.workdir / "rpki-routes.txt"
    rpki.write(plan, vrp_file, routes_file)
    lab_config_path().write_text(
        "# Written by `govscan lab up`: points govscan at the running lab (`govscan --lab ...`).\n"
        "[dns]\n"
        f"resolvers = {_toml_list([plan.resolver_ipv4, plan.resolver_ipv6])}\n"
        f"trust_anchor = {json.dumps(str(plan.trust_anchor_file))}\n\n"
        "[trust]\n"
        f"ca_bundle = {json.dumps(str(plan.ca_file))}\n\n"
        "[scan]\n"
        f"ipv6_check_address = {json.dumps(plan.resolver_ipv6)}\n"
        "# The lab's documentation ranges, which the address policy refuses elsewhere (scanner/addresses.py).\n"
        f"allowed_networks = {_toml_list(list(lab_plan.LAB_RANGES))}\n\n"
        "[register]\n"
        f"rio_export = {json.dumps(str(rio_file))}\n\n"
        "[rpki]\n"
        f"vrp_file = {json.dumps(str(vrp_file))}\n"
        f"routes_file = {json.dumps(str(routes_file))}\n\n"
        "[lab]\n"
        f"sites_file = {json.dumps(str(sites_file))}\n"
        f"scenario = {json.dumps(str(plan.scenario.path))}\n"
        f"state_dir = {json.dumps(str(plan.workdir))}\n")


def down(*, echo=print) -> None:
    """Stop every lab process, remove the namespaces and the state directory."""
    with _locked():
        _down()
    echo("lab down")


def _stop(pids: list[int]) -> None:
    """SIGTERM each process group, then SIGKILL what is left after a few seconds."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM) if os.getpgid(pid) == pid else os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_start_time(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        if _start_time(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL) if os.getpgid(pid) == pid else os.kill(pid, signal.SIGKILL)


def _down(keep_guard: bool = False) -> None:
    state = read_state() or {}
    recorded = [p["pid"] for p in state.get("processes", []) if _alive(p)]
    _stop(recorded)
    netns = state.get("netns", NETNS)
    client = state.get("nov6_netns", NOV6_NETNS)
    # Anything still running inside the lab's namespaces was started by the lab (for example children of
    # a service that left its process group).
    leftovers = [pid for ns in (netns, client) if ns in net.namespaces() for pid in net.pids_in(ns)]
    _stop(leftovers)
    net.down(netns, client)
    if not keep_guard:
        net.guard(False)
    workdir = lab_dir()
    if workdir.exists():
        subprocess.run(["rm", "-rf", "--one-file-system", str(workdir)], check=True)


def status() -> dict:
    """What a client needs to use the lab (docs/scenario.md, "Using the lab")."""
    state = read_state()
    if not state:
        return {"running": False, "state_dir": str(lab_dir())}
    processes = [{"name": p["name"], "pid": p["pid"], "alive": _alive(p)} for p in state["processes"]]
    running = bool(processes) and all(p["alive"] for p in processes) and state["netns"] in net.namespaces()
    return {
        "running": running,
        "scenario": state["scenario"],
        "scenario_name": state["name"],
        "resolver": state["resolver"],
        "plain_resolver": state["plain_resolver"],
        "trust_anchor": state["trust_anchor"],
        "delv_anchor": state["delv_anchor"],
        "ca_bundle": state["ca_bundle"],
        "scanner_config": state["scanner_config"],
        "sites": state["sites"],
        "sites_file": state["sites_file"],
        "rio_export": state["rio_export"],
        "hosts": state["hosts"],
        "nameservers": state["nameservers"],
        "netns": state["netns"],
        "nov6_netns": state["nov6_netns"],
        "nov6_exec": ["ip", "netns", "exec", state["nov6_netns"]],
        "state_dir": str(lab_dir()),
        "processes": processes,
        "started": state["started"],
    }
