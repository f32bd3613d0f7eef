"""RPKI (issue 20): RFC 6811 route origin validation as web.rpki, web.rpki.nameservers and mail.rpki judge it,
the longest-prefix index and the files it is read from (bounded, malformed lines reported, never fatal), and
the whole path through the runner: the rpki probe looks up the addresses the dns, nameservers and mail
probes found, and the checks name the prefix, the origin AS and the covering ROAs."""
from __future__ import annotations

import asyncio
import json

import pytest

from checks.registry import select
from checks.rpki import INVALID, NOT_FOUND, VALID, route_state
from govscan.model import Site, Status
from scanner import config
from scanner.config import ConfigError, RpkiSettings
from scanner.probes.base import Probe
from scanner.probes.rpki import PrefixIndex, RpkiProbe, load_tables, parse_prefix
from scanner.runner import Runner

ORIGIN = 64500


def vrp(prefix: str, max_length: int, asn: int = ORIGIN) -> dict:
    return {"prefix": prefix, "max_length": max_length, "asn": asn}


# --- RFC 6811 section 2 -------------------------------------------------------------------------------------

def test_covered_by_a_roa_with_its_origin_and_a_long_enough_max_length_is_valid():
    assert route_state("203.0.113.0/24", ORIGIN, [vrp("203.0.113.0/24", 24)]) == VALID
    assert route_state("203.0.113.128/25", ORIGIN, [vrp("203.0.113.0/24", 25)]) == VALID


def test_covered_with_another_origin_is_invalid():
    assert route_state("203.0.113.0/24", 64501, [vrp("203.0.113.0/24", 24)]) == INVALID


def test_a_prefix_longer_than_max_length_is_invalid_even_from_the_right_origin():
    assert route_state("203.0.113.128/25", ORIGIN, [vrp("203.0.113.0/24", 24)]) == INVALID


def test_not_covered_by_any_roa_is_not_found():
    assert route_state("203.0.113.0/24", ORIGIN, []) == NOT_FOUND


def test_one_matching_roa_among_several_covering_ones_makes_it_valid():
    covering = [vrp("203.0.113.0/24", 24, 64501), vrp("203.0.112.0/22", 22), vrp("203.0.112.0/22", 28)]
    assert route_state("203.0.113.0/24", ORIGIN, covering) == VALID
    assert route_state("203.0.113.0/24", 64502, covering) == INVALID


def test_ipv6_routes_are_validated_alike():
    covering = [vrp("2001:db8::/32", 48)]
    assert route_state("2001:db8:1::/48", ORIGIN, covering) == VALID
    assert route_state("2001:db8:1:2::/64", ORIGIN, covering) == INVALID
    assert route_state("2001:db8:1::/48", 64501, covering) == INVALID


def test_an_as_set_origin_matches_no_roa():
    """RFC 6811: a route whose origin is an AS_SET has origin NONE, which no VRP matches (not even AS 0's)."""
    assert route_state("203.0.113.0/24", None, [vrp("203.0.113.0/24", 24), vrp("203.0.113.0/24", 24, 0)]) == INVALID


# --- the index ----------------------------------------------------------------------------------------------

def index_of(*entries: tuple[str, int], value_bits: int = 32) -> PrefixIndex:
    index = PrefixIndex(value_bits)
    for prefix, value in entries:
        index.add(*parse_prefix(*prefix.split("/")), value)
    return index.freeze()


def test_longest_match_finds_the_most_specific_prefix_with_all_its_origins():
    index = index_of(("203.0.112.0/22", 1), ("203.0.113.0/24", 2), ("203.0.113.0/24", 3), ("203.0.113.128/25", 4))
    family, value = 4, int.from_bytes(bytes([203, 0, 113, 5]), "big")
    assert index.longest_match(family, value) == (24, 203 << 16 | 113, [2, 3])
    assert index.longest_match(4, int.from_bytes(bytes([203, 0, 112, 1]), "big"))[2] == [1]
    assert index.longest_match(4, int.from_bytes(bytes([198, 51, 100, 1]), "big")) is None


def test_covering_finds_equal_and_less_specific_prefixes_only():
    index = index_of(("2001:db8::/32", 1), ("2001:db8:1::/48", 2), ("2001:db8:1:1::/64", 3), ("2001:db9::/32", 4),
                     value_bits=40)
    found = index.covering(*parse_prefix("2001:db8:1::", 48))
    assert sorted(value for _, _, value in found) == [1, 2]


# --- the files ----------------------------------------------------------------------------------------------

ROUTES = """\
# CAIDA pfx2as: address, length, origin (_ between the origins of a multi-origin prefix)
203.0.113.0\t24\t64500
203.0.113.128\t25\t64500
198.51.100.0\t24\t64500
198.51.100.128\t25\t64500_64502
198.51.100.64\t26\t64500,64501
2001:db8:1::/48 64500
2001:db8:2::/48 AS64500
"""
VRPS = {"metadata": {"generated": 1764979200}, "roas": [
    {"asn": "AS64500", "prefix": "203.0.113.0/24", "maxLength": 24, "ta": "ripe"},   # .128/25 too long
    {"asn": 64500, "prefix": "198.51.100.0/24", "maxLength": 24, "ta": "ripe"},       # rpki-client: integer AS
    {"asn": "AS64501", "prefix": "2001:db8:1::/48", "maxLength": 48, "ta": "ripe"},   # wrong origin
]}


@pytest.fixture
def files(tmp_path):
    vrp_file, routes_file = tmp_path / "vrps.json", tmp_path / "pfx2as.txt"
    vrp_file.write_text(json.dumps(VRPS))
    routes_file.write_text(ROUTES)
    return {"vrp_file": str(vrp_file), "routes_file": str(routes_file)}


def test_lookup_gives_the_announced_route_and_the_roas_covering_it(files):
    tables = load_tables(RpkiSettings(**files))
    assert tables.lookup("203.0.113.200") == {"route": {"prefix": "203.0.113.128/25", "origins": [64500]},
                                              "vrps": [vrp("203.0.113.0/24", 24)]}
    assert tables.lookup("198.51.100.130")["route"]["origins"] == [64500, 64502]
    assert tables.lookup("198.51.100.70")["route"]["origins"] == [None]  # an AS set
    assert tables.lookup("2001:db8:2::1") == {"route": {"prefix": "2001:db8:2::/48", "origins": [64500]}, "vrps": []}
    assert tables.lookup("192.0.2.1") == {"route": None, "vrps": []}


def test_malformed_lines_and_roas_are_counted_and_named_not_fatal(tmp_path):
    routes = tmp_path / "routes.txt"
    routes.write_text("203.0.113.0 24 64500\nnonsense\n203.0.113.1 24 64500\n203.0.113.0 33 1\n10.0.0.0 8 ASX\n")
    vrps = tmp_path / "vrps.json"
    vrps.write_text(json.dumps({"roas": [{"asn": "AS64500", "prefix": "203.0.113.0/24", "maxLength": 24},
                                         {"asn": "AS64500", "prefix": "203.0.113.0/24", "maxLength": 23},
                                         {"asn": "AS64500", "prefix": "300.0.113.0/24"}, "text", {}]}))
    tables = load_tables(RpkiSettings(vrp_file=str(vrps), routes_file=str(routes)))
    assert tables.files["routes_file"]["entries"] == 1
    assert tables.files["routes_file"]["malformed"] == 4
    assert tables.files["routes_file"]["problems"][0].startswith("line 2: ")
    assert "host bits" in tables.files["routes_file"]["problems"][1]
    assert tables.files["vrp_file"]["entries"] == 1
    assert tables.files["vrp_file"]["malformed"] == 4
    assert "maxLength 23" in tables.files["vrp_file"]["problems"][0]


def test_entries_past_the_bound_are_cut_and_counted(files):
    tables = load_tables(RpkiSettings(**files, max_entries=2))
    assert tables.files["routes_file"]["entries"] == 2
    assert tables.files["routes_file"]["cut"] == 5
    assert tables.files["vrp_file"]["entries"] == 2 and tables.files["vrp_file"]["cut"] == 1


def test_a_file_over_the_size_bound_or_not_json_stops_the_run_with_the_reason(files, tmp_path):
    with pytest.raises(ConfigError, match="max_file_bytes"):
        load_tables(RpkiSettings(**files, max_file_bytes=100))
    broken = tmp_path / "broken.json"
    broken.write_text("{\"roas\": [")
    with pytest.raises(ConfigError, match="not JSON"):
        load_tables(RpkiSettings(vrp_file=str(broken), routes_file=files["routes_file"]))
    with pytest.raises(ConfigError, match="cannot read"):
        load_tables(RpkiSettings(vrp_file=str(tmp_path / "missing.json"), routes_file=files["routes_file"]))


# --- the checks, through the runner -------------------------------------------------------------------------

class Fixed(Probe):
    """A site-level probe that returns what it was given (instead of DNS lookups)."""

    def __init__(self, name: str, data: dict):
        self.name, self.data = name, data

    async def collect(self, ctx, site, address, prior):
        return self.data


def scan(monkeypatch, check_id: str, files: dict | None, *, host=("203.0.113.5", "2001:db8:2::1"),
         nameservers=("198.51.100.10",), mx=("198.51.100.20",)) -> dict:
    probes = {
        "dns": Fixed("dns", {"ipv4": [a for a in host if ":" not in a], "ipv6": [a for a in host if ":" in a]}),
        "nameservers": Fixed("nameservers", {"zone": "noordstad.nl", "nameservers": [
            {"name": "ns1.dnsprovider.nl", "ipv4": list(nameservers), "ipv6": []}]}),
        "mail": Fixed("mail", {"domain": "noordstad.nl", "null_mx": False, "mx": [{"preference": 10, "host": "mx"}],
                               "mx_hosts": [{"host": "mail.noordstad.nl", "ipv4": list(mx), "ipv6": []}]}),
        "rpki": RpkiProbe(),
    }
    monkeypatch.setattr("scanner.runner.all_probes", lambda: probes)
    settings = config.load(overrides={"rpki": files or {}})
    [result] = asyncio.run(Runner(settings, select(check_id), run_facts={"ipv6": True}).run(
        [Site("https://www.noordstad.nl/", "www.noordstad.nl")]))
    [finding] = result.findings
    return finding


def test_web_rpki_passes_when_every_address_is_valid(monkeypatch, files):
    finding = scan(monkeypatch, "web.rpki", files, host=("203.0.113.5", "198.51.100.10"))
    assert finding.status == Status.PASS
    assert finding.details["routes"]["203.0.113.5"]["route"] == {"prefix": "203.0.113.0/24", "origins": [64500]}


def test_web_rpki_fails_on_a_too_long_prefix_naming_prefix_origin_and_roa(monkeypatch, files):
    finding = scan(monkeypatch, "web.rpki", files, host=("203.0.113.5", "203.0.113.200"))
    assert finding.status == Status.FAIL
    assert finding.summary.en == ("203.0.113.200: route 203.0.113.128/25 from AS64500 is invalid: the prefix is "
                                  "longer than the ROA's maxLength (ROA 203.0.113.0/24-24 AS64500)")


def test_web_rpki_warns_when_no_roa_covers_an_address_and_an_invalid_one_outweighs_it(monkeypatch, files):
    finding = scan(monkeypatch, "web.rpki", files)  # 2001:db8:2::/48 has no ROA
    assert finding.status == Status.WARN
    assert "2001:db8:2::/48 from AS64500: no ROA covers this prefix (not found)" in finding.summary.en
    assert scan(monkeypatch, "web.rpki", files, host=("2001:db8:2::1", "2001:db8:1::1")).status == Status.FAIL


def test_the_rpki_checks_are_not_applicable_without_the_files(monkeypatch, files):
    for check_id in ("web.rpki", "web.rpki.nameservers", "mail.rpki"):
        finding = scan(monkeypatch, check_id, {"vrp_file": files["vrp_file"]})
        assert finding.status == Status.NOT_APPLICABLE
        assert finding.summary.en == "No RPKI data configured ([rpki] routes_file)."


def test_nameservers_pass_and_fail(monkeypatch, files):
    assert scan(monkeypatch, "web.rpki.nameservers", files).status == Status.PASS
    finding = scan(monkeypatch, "web.rpki.nameservers", files, nameservers=("198.51.100.10", "198.51.100.70"))
    assert finding.status == Status.FAIL
    assert finding.summary.en.startswith("ns1.dnsprovider.nl (198.51.100.70): route 198.51.100.64/26 from an AS "
                                         "set is invalid")


def test_mail_pass_and_fail(monkeypatch, files):
    assert scan(monkeypatch, "mail.rpki", files).status == Status.PASS
    finding = scan(monkeypatch, "mail.rpki", files, mx=("2001:db8:1::25",))
    assert finding.status == Status.FAIL
    assert finding.summary.en == ("mail.noordstad.nl (2001:db8:1::25): route 2001:db8:1::/48 from AS64500 is "
                                  "invalid: no ROA for this AS (ROA 2001:db8:1::/48-48 AS64501)")


# --- the lab's files ----------------------------------------------------------------------------------------

LAB_SCENARIO = """
name: rpki
nameserver_sets:
  ns1.geenroa.nl: {stack: ipv4, rpki: not_found}
sites:
  - {host: www.geldig.nl}
  - {host: www.vreemd.nl, rpki: invalid_origin, mail: starttls, mail_rpki: invalid_origin}
  - {host: www.telang.nl, rpki: too_long}
  - {host: www.onbekend.nl, rpki: not_found, nameservers: [ns1.geenroa.nl]}
"""


def test_the_lab_writes_routes_and_roas_that_give_each_address_its_declared_state(tmp_path):
    from lab import plan as lab_plan, rpki as lab_rpki
    from lab.scenario import loads
    from checks.rpki import address_verdict

    plan = lab_plan.build(loads(LAB_SCENARIO), tmp_path)
    vrp_file, routes_file = tmp_path / "vrps.json", tmp_path / "routes.txt"
    lab_rpki.write(plan, vrp_file, routes_file)
    tables = load_tables(RpkiSettings(vrp_file=str(vrp_file), routes_file=str(routes_file)))
    assert tables.files["vrp_file"]["malformed"] == tables.files["routes_file"]["malformed"] == 0
    expected = {"www.geldig.nl": Status.PASS, "www.vreemd.nl": Status.FAIL, "mail.vreemd.nl": Status.FAIL,
                "www.telang.nl": Status.FAIL, "www.onbekend.nl": Status.WARN}
    for host, status in expected.items():
        for address in plan.hosts[host].ipv4 + plan.hosts[host].ipv6:
            assert address_verdict(address, tables.lookup(address)).status == status, (host, address)
    [ns] = plan.nameservers["ns1.geenroa.nl"].ipv4
    assert address_verdict(ns, tables.lookup(ns)).status == Status.WARN


def test_the_lab_refuses_a_too_long_roa_that_would_cover_a_not_found_neighbour():
    from lab.rpki import routes_and_roas

    with pytest.raises(ValueError, match="share 203.0.113.4/31"):
        routes_and_roas({"203.0.113.4": "too_long", "203.0.113.5": "not_found"})
