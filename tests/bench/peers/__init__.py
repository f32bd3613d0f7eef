"""Peer tools side by side with govscan on the same sites: pshtt for the HTTPS/HSTS checks, sslyze's own
command line for the TLS scan; pa11y-ci and Lighthouse for the browser families (browser.py, over a smaller
sample: they need seconds per page).

Everything runs in the lab's client namespace (IPv4 only), whose /etc/resolv.conf (`ip netns exec` binds
/etc/netns/<name>/resolv.conf) names the lab's non-validating resolver, so the peers find every site as
govscan does; govscan runs there too, so all three test the same addresses over the same path. The peers
trust the lab's CA through their own options (pshtt --ca-file, sslyze --certinfo_ca_file).

The peers live in their own virtual environment (.venv-peers), created here on first use, so their pins
never touch the project's .venv.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from tests.bench import measure

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
VENV = REPO / ".venv-peers"
REQUIREMENTS = HERE / "requirements.txt"
PSHTT = "pshtt==0.7.6"

# govscan's checks that the peers also make.
HTTPS_CHECKS = "web.https.*,web.cert.trust,web.cert.hostname"
TLS_CHECKS = "web.tls.*,web.cert.public_key,web.cert.signature"
# sslyze scan commands for the same TLS facts: versions and suites, groups, compression, renegotiation,
# 0-RTT, the certificate with its OCSP staple. (No Mozilla-profile check: govscan judges by NCSC's.)
SSLYZE_COMMANDS = ["--sslv2", "--sslv3", "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3", "--elliptic_curves",
                   "--compression", "--reneg", "--early_data", "--certinfo", "--mozilla_config", "disable"]


class PeerError(Exception):
    pass


def ensure_venv(echo) -> Path:
    """.venv-peers with pshtt and sslyze (see requirements.txt for why pshtt goes in without its deps)."""
    marker = VENV / ".installed"
    wanted = hashlib.sha256((PSHTT + REQUIREMENTS.read_text()).encode()).hexdigest()
    if marker.exists() and marker.read_text() == wanted:
        return VENV / "bin" / "python"
    echo(f"installing the peer tools into {VENV}")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    subprocess.run([*pip, "--no-deps", PSHTT], check=True)
    marker.write_text(wanted)
    return VENV / "bin" / "python"


@contextlib.contextmanager
def namespace_resolver(netns: str, resolver: str):
    """/etc/netns/<netns>/resolv.conf naming `resolver`, removed afterwards (with the directories made)."""
    directory = Path("/etc/netns") / netns
    made = [d for d in (directory.parent, directory) if not d.exists()]
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "resolv.conf"
    existed = conf.exists()
    if existed:
        raise PeerError(f"{conf} exists already: not touching another's namespace configuration")
    conf.write_text(f"nameserver {resolver}\n")
    try:
        yield
    finally:
        conf.unlink(missing_ok=True)
        for d in reversed(made):
            with contextlib.suppress(OSError):
                d.rmdir()


def traffic(netns: str) -> dict[str, int]:
    """The namespace's own counters (/proc/net/snmp is per network namespace): TCP connections opened and
    UDP datagrams sent (DNS queries). Only the tool under test uses the client namespace meanwhile."""
    text = subprocess.run(["ip", "netns", "exec", netns, "cat", "/proc/net/snmp"], capture_output=True,
                          text=True, check=True).stdout
    tables: dict[str, dict[str, int]] = {}
    lines = [line.split() for line in text.splitlines()]
    for names, values in zip(lines[::2], lines[1::2]):
        tables[names[0].rstrip(":")] = {n: int(v) for n, v in zip(names[1:], values[1:])}
    return {"tcp_connections": tables["Tcp"]["ActiveOpens"], "udp_datagrams": tables["Udp"]["OutDatagrams"]}


def _pshtt_summary(path: Path) -> dict:
    results = json.loads(path.read_text()) if path.exists() else []
    return {"domains": len(results), "live": sum(1 for r in results if r.get("Live")),
            "valid_https": sum(1 for r in results if r.get("Valid HTTPS")),
            "hsts": sum(1 for r in results if r.get("HSTS"))}


def _sslyze_summary(path: Path) -> dict:
    data = json.loads(path.read_text()) if path.exists() else {}
    scans = data.get("server_scan_results", [])
    return {"servers": len(scans), "completed": sum(1 for s in scans if s.get("scan_status") == "COMPLETED")}


def compare(workdir: Path, sites_file: Path, status: dict, bench, browser_sites: Path) -> dict:
    """Run govscan (HTTPS, then TLS), pshtt and sslyze over the sites of `sites_file`, then govscan's browser
    families and the browser peers over those of `browser_sites` (tests/bench/peers/browser.py); costs and
    ratios. `ensure_venv` must have run."""
    from tests.bench.peers import browser
    python = VENV / "bin" / "python"
    netns = status["nov6_netns"]
    hosts = [urlsplit(line.split(",")[-1].strip()).hostname for line in sites_file.read_text().splitlines()[1:]]
    hosts = [h for h in hosts if h]
    (workdir / "sslyze-targets.txt").write_text("".join(f"{h}:443\n" for h in hosts))
    cache = workdir / "pshtt-cache"  # third-party lists given empty, so pshtt fetches nothing
    cache.mkdir(exist_ok=True)
    (cache / "preloaded.json").write_text("[]")
    (cache / "preload-pending.json").write_text("[]")
    (cache / "public-suffix-list.txt").write_text("nl\ngov.nl\ncom\n")
    env = dict(os.environ, PYTHONPATH=str(HERE))
    commands = {
        "govscan_https": lambda: bench.scan("peer-govscan-https", sites_file, HTTPS_CHECKS, netns)[0],
        "govscan_tls": lambda: bench.scan("peer-govscan-tls", sites_file, TLS_CHECKS, netns)[0],
        "pshtt": lambda: measure.run(
            ["ip", "netns", "exec", netns, str(python), "-m", "pshtt_on_sslyze6", *hosts, "--json",
             "--output", str(workdir / "pshtt.json"), "--ca-file", status["ca_bundle"], "--timeout", "5",
             "--cache-third-parties", str(cache)], log=workdir / "pshtt.log", env=env),
        "sslyze": lambda: measure.run(
            ["ip", "netns", "exec", netns, str(python), "-m", "sslyze", "--targets_in",
             str(workdir / "sslyze-targets.txt"), "--json_out", str(workdir / "sslyze.json"), "--quiet",
             "--certinfo_ca_file", status["ca_bundle"], *SSLYZE_COMMANDS], log=workdir / "sslyze.log"),
    }
    runs, sent = {}, {}

    def attempt(name: str, command) -> measure.Measurement:
        for _ in range(3):  # the shared lab (and with it the namespace) may be replaced meanwhile
            bench.echo(f"peers: {name}")
            started = bench.ensure_lab()
            before = traffic(netns)
            result = command()
            sent[name] = {key: value - before[key] for key, value in traffic(netns).items()}
            if bench.lab_status().get("started") == started:
                break
        return result

    with namespace_resolver(netns, status["plain_resolver"]["ipv4"]):
        for name, command in commands.items():
            runs[name] = attempt(name, command)
        browser_peers = browser.compare(workdir, browser_sites, status, bench, attempt)
    sites = len(hosts)

    def rate(m: measure.Measurement) -> float:
        return round(60 * sites / m.seconds, 1)

    govscan_seconds = runs["govscan_https"].seconds + runs["govscan_tls"].seconds
    peer_seconds = runs["pshtt"].seconds + runs["sslyze"].seconds
    return {
        "sites": sites,
        "namespace": netns,
        "resolver": status["plain_resolver"]["ipv4"],
        "runs": {name: {"sites_per_minute": rate(m), "cpu_seconds_per_site": round(m.cpu_total / sites, 3),
                        "tcp_connections_per_site": round(sent[name]["tcp_connections"] / sites, 1),
                        "udp_datagrams_per_site": round(sent[name]["udp_datagrams"] / sites, 1),
                        **m.to_json()} for name, m in runs.items()},
        "pshtt_results": _pshtt_summary(workdir / "pshtt.json"),
        "sslyze_results": _sslyze_summary(workdir / "sslyze.json"),
        "ratios": {
            "https_vs_pshtt": round(runs["pshtt"].seconds / runs["govscan_https"].seconds, 2),
            "tls_vs_sslyze": round(runs["sslyze"].seconds / runs["govscan_tls"].seconds, 2),
            "both_vs_pshtt_plus_sslyze": round(peer_seconds / govscan_seconds, 2),
            "cpu_both_vs_pshtt_plus_sslyze": round(
                (runs["pshtt"].cpu_total + runs["sslyze"].cpu_total)
                / max(0.001, runs["govscan_https"].cpu_total + runs["govscan_tls"].cpu_total), 2),
        },
        "versions": {"pshtt": PSHTT.split("==")[1], "sslyze": "6.3.1"},
        "browser": browser_peers,
    }
