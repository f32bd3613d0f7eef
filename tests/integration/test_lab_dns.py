"""The lab's DNS, network and lifecycle checked with independent clients (delv, dig, ip, ss), not govscan.

`delv` validates itself from the lab's trust anchor through the lab's non-validating resolver, so its
verdict does not depend on the lab's unbound.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from lab import commands
from lab.scenario import DEFAULT_SCENARIO, load

pytestmark = pytest.mark.lab

DELV_VERDICT = {"secure": "; fully validated", "insecure": "; unsigned answer"}
# Zones signed with an algorithm or DS digest RFC 8624 advises against still validate: secure to a resolver.
VALIDATES_AS = {"rsasha1": "secure", "sha1_ds": "secure"}


def validates_as(mode: str) -> str:
    return VALIDATES_AS.get(mode, mode)


def run(argv: list[str], timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def dig(server: str, name: str, rdtype: str, *options: str) -> subprocess.CompletedProcess:
    return run(["dig", f"@{server}", name, rdtype, "+time=2", "+tries=1", *options])


def answers(server: str, name: str, rdtype: str) -> list[str]:
    return sorted(dig(server, name, rdtype, "+short").stdout.split("\n")[:-1])


@pytest.fixture(scope="module")
def scenario(lab):
    return load(lab["scenario"])


def site_zones(scenario) -> dict[str, dict]:
    zones = {}
    for site in scenario.sites:
        zones.setdefault(site["zone"], site)
    return zones


def test_delv_agrees_with_every_zone_declaration(lab, scenario):
    wrong = []
    for zone, site in site_zones(scenario).items():
        rdtype = "AAAA" if site["stack"] == "ipv6" else "A"
        done = run(["delv", f"@{lab['plain_resolver']['ipv4']}", "-a", lab["delv_anchor"], "+root=.",
                    site["host"], rdtype])
        out = done.stderr + done.stdout  # delv writes its verdict to stderr
        first = out.splitlines()[0] if out else ""
        if validates_as(site["dnssec"]) in DELV_VERDICT:
            ok = first == DELV_VERDICT[validates_as(site["dnssec"])]
        else:  # bogus: delv finds no valid chain and gives no answer
            ok = "resolution failed" in out and "fully validated" not in out
        if not ok:
            wrong.append(f"{site['host']} ({site['dnssec']}): {out.strip()[:200]}")
    assert not wrong, "\n".join(wrong)


def test_the_validating_resolver_sets_ad_or_refuses_bogus(lab, scenario):
    resolver = lab["resolver"]["ipv6"]
    for zone, site in site_zones(scenario).items():
        rdtype = "AAAA" if site["stack"] == "ipv6" else "A"
        out = dig(resolver, site["host"], rdtype, "+dnssec").stdout
        if validates_as(site["dnssec"]) == "secure":
            assert "status: NOERROR" in out and " ad;" in out.split("flags:")[1].split("\n")[0], site["host"]
        elif site["dnssec"] == "insecure":
            assert "status: NOERROR" in out and " ad" not in out.split("flags:")[1].split(";")[0], site["host"]
        else:
            # SERVFAIL with an extended error saying why (DNSSEC Bogus, DNSKEY Missing, Signature Expired ...)
            assert "status: SERVFAIL" in out and "; EDE: " in out, site["host"]


def test_address_records_follow_the_stack(lab, scenario):
    resolver = lab["resolver"]["ipv4"]
    for site in scenario.sites:
        if site["dnssec"] not in ("secure", "insecure"):
            continue
        host = lab["hosts"][site["host"]]
        assert answers(resolver, site["host"], "A") == sorted(host["ipv4"]), site["host"]
        assert answers(resolver, site["host"], "AAAA") == sorted(host["ipv6"]), site["host"]
        assert (site["stack"] == "ipv4") == (not host["ipv6"])
        assert (site["stack"] == "ipv6") == (not host["ipv4"])


def test_tlsa_and_caa_records_as_declared(lab, scenario):
    resolver = lab["resolver"]["ipv4"]
    for site in scenario.sites:
        if site["dnssec"] not in ("secure", "insecure"):
            continue
        tlsa = answers(resolver, f"_443._tcp.{site['host']}", "TLSA")
        assert (len(tlsa) == 1 and tlsa[0].startswith("3 1 1 ")) == (site["tlsa"] != "none"), site["host"]
        caa = answers(resolver, site["zone"], "CAA")
        assert (caa == ['0 issue "labca.example"']) == site["caa"], site["host"]


def test_tlsa_match_is_the_served_key(lab, scenario):
    from lab.pki import spki_sha256

    site = next(s for s in scenario.sites if s["tlsa"] == "match" and s["dnssec"] == "secure")
    served = run(["openssl", "s_client", "-connect", f"{lab['hosts'][site['host']]['ipv4'][0]}:443",
                  "-servername", site["host"]], timeout=15)
    record = answers(lab["resolver"]["ipv4"], f"_443._tcp.{site['host']}", "TLSA")[0]
    assert record.split(" ", 3)[3].replace(" ", "").lower() == spki_sha256(served.stdout.encode())


def test_mail_records_as_declared(lab, scenario):
    """MX for every site with mail, its records (SPF, DMARC, DKIM) as written, `_25._tcp` TLSA with
    `mail_tlsa`, and the MX host's AAAA following the site's stack."""
    resolver = lab["resolver"]["ipv4"]
    for site in scenario.sites:
        if site["mail"] == "none" or site["dnssec"] not in ("secure", "insecure"):
            continue
        zone, mx = site["zone"], f"mail.{site['zone']}"
        assert answers(resolver, zone, "MX") == [f"10 {mx}."], zone
        for record in site["records"]:
            owner, _, value = record.partition(" TXT ")
            if value:  # dig +short prints each TXT record as written: in quotes
                name = zone if owner == "@" else f"{owner}.{zone}"
                assert value in answers(resolver, name, "TXT"), (name, value)
        tlsa = answers(resolver, f"_25._tcp.{mx}", "TLSA")
        assert bool(tlsa) == (site["mail_tlsa"] != "none"), mx
        assert bool(answers(resolver, mx, "AAAA")) == (site["stack"] != "ipv4"), mx


def test_mail_tlsa_match_authenticates_the_starttls_server(lab, scenario):
    """openssl's own DANE verification (RFC 7672 usage 3) over STARTTLS, with the record from the lab DNS."""
    for site in scenario.sites:
        if site["mail_tlsa"] != "match" or site["dnssec"] != "secure":
            continue
        mx = f"mail.{site['zone']}"
        [record] = answers(lab["resolver"]["ipv4"], f"_25._tcp.{mx}", "TLSA")
        for address in lab["hosts"][mx]["ipv4"]:
            out = run(["openssl", "s_client", "-starttls", "smtp", "-connect", f"{address}:25", "-servername", mx,
                       "-dane_tlsa_domain", mx, "-dane_tlsa_rrdata", record], timeout=15)
            assert "Verification: OK" in out.stdout and "DANE TLSA 3 1 1" in out.stdout, out.stdout[-500:]


def test_the_rio_export_lists_the_zones_of_sites_in_the_register(lab, scenario):
    rows = Path(lab["rio_export"]).read_text().splitlines()
    assert rows[0] == "domein,organisatie"
    listed = {row.split(",")[0] for row in rows[1:]}
    assert listed == {site["zone"] for site in scenario.sites if site["in_rio"]}
    assert any(not site["in_rio"] for site in scenario.sites)


def test_name_servers_answer_over_ipv6_unless_ipv4_only(lab, scenario):
    zones = site_zones(scenario)
    for name, server in lab["nameservers"].items():
        zone = next((z for z, s in zones.items() if name in s["nameservers"]), None)
        if zone is None or not server["responsive"]:
            continue
        for address in server["ipv4"] + server["ipv6"]:
            out = dig(address, zone, "SOA", "+norecurse").stdout
            assert "status: NOERROR" in out and " aa" in out.split("flags:")[1].split(";")[0], (name, address)
        assert bool(server["ipv6"]) == (scenario.nameserver_sets.get(name, {}).get("stack", "dual") == "dual")


def test_an_unresponsive_name_server_times_out(lab):
    silent = [n for n in lab["nameservers"].values() if not n["responsive"]]
    assert silent, "the default scenario declares an unresponsive name server"
    for address in silent[0]["ipv4"] + silent[0]["ipv6"]:
        out = dig(address, "nl", "SOA", "+time=1").stdout
        assert "timed out" in out or "no servers could be reached" in out, address


def test_the_scanner_side_without_ipv6_reaches_the_resolver_over_ipv4_only(lab):
    prefix = lab["nov6_exec"]
    resolver = lab["resolver"]
    over_ipv4 = run([*prefix, "dig", f"@{resolver['ipv4']}", "www.noordstad.nl", "A", "+short", "+time=2"])
    assert over_ipv4.stdout.strip()
    routes = run([*prefix, "ip", "-6", "route"]).stdout.strip()
    assert routes == ""
    over_ipv6 = run([*prefix, "dig", f"@{resolver['ipv6']}", "www.noordstad.nl", "A", "+time=1", "+tries=1"])
    assert over_ipv6.returncode != 0


def test_unreachable_ipv6_is_refused_or_dropped_as_declared(lab, scenario):
    import socket

    for site in scenario.sites:
        if site["ipv6_unreachable"] == "none":
            continue
        address = lab["hosts"][site["host"]]["ipv6"][0]
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            if site["ipv6_unreachable"] == "no_listener":
                with pytest.raises(ConnectionRefusedError):
                    sock.connect((address, 443))
            else:
                with pytest.raises(TimeoutError):
                    sock.connect((address, 443))


def test_the_scanner_config_points_at_the_lab(lab):
    import tomllib

    settings = tomllib.loads(Path(lab["scanner_config"]).read_text())
    assert settings["dns"]["resolvers"] == [lab["resolver"]["ipv4"], lab["resolver"]["ipv6"]]
    assert settings["dns"]["trust_anchor"] == lab["trust_anchor"]
    assert settings["trust"]["ca_bundle"] == lab["ca_bundle"]
    assert settings["scan"]["allowed_networks"] == ["198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"]
    assert Path(settings["lab"]["sites_file"]).read_text().splitlines()[0] == "organisation,type,code,url"
    assert Path(lab["trust_anchor"]).read_text().startswith(". 300 IN DS ")


def _running(pid: int) -> bool:
    """Alive, not a zombie: a lab started by an earlier `govscan lab up` has exited processes reaped by
    whatever adopted them, which may take a moment; a zombie holds nothing of the lab any more."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _leftovers(status: dict) -> list[str]:
    """Everything of the lab that could outlive it: processes, namespaces, links, routes, sockets, files."""
    found = []
    for process in status["processes"]:
        if _running(process["pid"]):
            found.append(f"process {process['pid']} ({process['name']})")
    namespaces = run(["ip", "netns", "list"]).stdout
    found += [f"namespace {ns}" for ns in (status["netns"], status["nov6_netns"]) if ns in namespaces]
    for argv in (["ip", "route"], ["ip", "-6", "route"], ["ip", "link"]):
        found += [f"{argv[-1]}: {line}" for line in run(argv).stdout.splitlines()
                  if any(mark in line for mark in ("198.51.100.", "203.0.113.", "2001:db8:", "gslab"))]
    sockets = run(["ss", "-Hlntu"]).stdout
    found += [f"socket {line}" for line in sockets.splitlines()
              if any(mark in line for mark in ("198.51.100.", "203.0.113.", "[2001:db8:"))]
    if Path(status["state_dir"]).exists():
        found.append(f"directory {status['state_dir']}")
    return found


@pytest.mark.lab_restart
def test_down_leaves_nothing_and_up_is_idempotent(lab):
    before = commands.status()
    assert before["running"]
    commands.down(echo=lambda line: None)
    assert _leftovers(before) == []
    assert commands.status() == {"running": False, "state_dir": before["state_dir"]}
    commands.up(DEFAULT_SCENARIO, echo=lambda line: None)
    again = commands.status()
    assert again["running"] and again["hosts"] == before["hosts"]  # same scenario, same addresses
    lines = []
    commands.up(DEFAULT_SCENARIO, echo=lines.append)
    assert lines and lines[0].startswith("lab already running")
    assert [p["pid"] for p in commands.status()["processes"]] == [p["pid"] for p in again["processes"]]
    json.dumps(again)  # the status is plain JSON
