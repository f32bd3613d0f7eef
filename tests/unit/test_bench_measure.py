"""The benchmark's own arithmetic (tests/bench): process accounting, samples, family split, the storage
simulation. The benchmarks themselves are not tests; these check that what they report is measured right."""
from __future__ import annotations

import sys
from pathlib import Path

from checks.registry import select
from govscan.model import Artifact, Finding, Site, Status, Text
from govscan.model import SiteResult
from tests.bench import measure, storage_growth
from tests.bench.results import costs
from tests.bench.run import check_patterns, every_kth, family_of

BUSY = "import time\nend = time.process_time() + {0}\nwhile time.process_time() < end: pass\n"


def test_cpu_of_a_child_process_is_counted_as_descendant(tmp_path: Path):
    child = BUSY.format(0.6)
    parent = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {child!r}])\n" + BUSY.format(0.3)
    result = measure.run([sys.executable, "-c", parent], log=tmp_path / "log", interval=0.1)
    assert result.returncode == 0
    assert 0.5 <= result.cpu_descendants <= 1.0
    assert result.cpu_total >= 0.85
    assert result.peak_rss_mb > 0


def test_failing_command_reports_its_exit_status(tmp_path: Path):
    assert measure.run([sys.executable, "-c", "raise SystemExit(3)"], log=tmp_path / "log").returncode == 3


def test_every_kth_is_spread_and_deterministic():
    rows = list(range(500))
    assert every_kth(rows, 25) == list(range(0, 500, 20))
    assert every_kth(rows[:10], 25) == rows[:10]


def test_every_check_belongs_to_one_family():
    families = {family_of(check) for check in select(None)}
    assert families == {"dns", "http", "tls", "browser"}
    assert "web.dane" in check_patterns({"http"}).split(",")
    assert "privacy.trackers" not in check_patterns({"dns", "http", "tls"})


def _result(host: str) -> SiteResult:
    site = Site(f"https://{host}/", host)
    dns = Artifact("dns", 1, host, {"ipv4": ["203.0.113.7"], "ipv6": [], "validated": True})
    dnssec = Artifact("dnssec", 1, host, {"queries": {"asked": 9, "sent": 6}})
    tls = Artifact("tls", 1, "203.0.113.7", {"handshakes": 21, "cpu_seconds": 0.02})
    http = Artifact("http", 1, "203.0.113.7", {"requests": 5, "tls": {"ok": True}})
    finding = Finding(site=host, check="web.https.available", status=Status.PASS, summary=Text("ja", "yes"),
                      details={}, norm="", check_version=1)
    return SiteResult(site, {"dns": dns, "dnssec": dnssec}, {"203.0.113.7": {"tls": tls, "http": http}},
                      [finding], 0.1)


def test_costs_from_artifacts():
    found = costs([_result("www.a.nl"), _result("www.b.nl")])
    assert found["tls_handshakes_per_address"] == {"mean": 22, "max": 22, "n": 2}  # tls probe + http's one
    assert found["http_requests_per_site"]["max"] == 5
    assert found["dns_queries_sent_per_site"]["mean"] == 8  # A + AAAA, then the DNSSEC probe's 6


def test_unchanged_nights_add_no_finding_versions(tmp_path: Path):
    grown = storage_growth.simulate([_result("www.a.nl")], tmp_path / "g.db", nights=3)
    assert grown["rows"]["findings"] == 1 and grown["rows"]["runs"] == 3
    assert grown["bytes_after_last_run"] >= grown["bytes_after_first_run"] > 0
