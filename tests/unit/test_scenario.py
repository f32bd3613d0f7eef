"""Scenario validation (errors name file, line and field), defaults, the lab plan's addresses, and the
generator. No network, no lab."""
from __future__ import annotations

import ipaddress
import textwrap

import pytest

from lab import plan as lab_plan
from lab.generate import generate
from lab.scenario import CATALOGUE_CHECKS, DEFAULT_SCENARIO, ScenarioError, load, loads


def errors(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        loads(textwrap.dedent(text), "s.yaml")
    return caught.value.errors


def test_a_typo_in_a_key_names_file_line_field_and_suggests():
    found = errors("""\
        name: t
        sites:
          - host: www.a.nl
            dnsec: secure
        """)
    assert found == ["s.yaml:4: sites[0].dnsec: unknown key (did you mean 'dnssec'?)"]


def test_a_wrong_value_names_its_line_and_the_choices():
    found = errors("""\
        name: t
        sites:
          - host: www.a.nl
          - host: www.b.nl
            tls: legacyy
        """)
    assert len(found) == 1
    assert found[0].startswith("s.yaml:5: sites[1].tls: 'legacyy' is not one of modern")
    assert "(did you mean 'legacy'?)" in found[0]


def test_every_error_is_reported_at_once():
    found = errors("""\
        name: t
        sites:
          - host: www.a.nl
            stack: duall
            caa: maybe
            expect: {dns.dnssek: pass, web.caa: passs}
        """)
    assert [e.split(":")[1] for e in found] == ["4", "5", "6", "6"]
    assert "sites[0].expect.dns.dnssek: not a check id of the catalogue (did you mean 'dns.dnssec'?)" in found[2]
    assert "sites[0].expect.web.caa: 'passs' is not one of pass" in found[3]


def test_an_error_may_be_expected_with_its_reason():
    scenario = loads(textwrap.dedent("""\
        name: t
        sites:
          - host: www.a.nl
            hostile: internal_redirect
            expect: {a11y.wcag: error (refused_address), web.caa: error}
        """), "s.yaml")
    assert scenario.site("www.a.nl")["expect"] == {"a11y.wcag": "error (refused_address)", "web.caa": "error"}
    found = errors("""\
        name: t
        sites:
          - host: www.a.nl
            expect: {a11y.wcag: error (refused), web.caa: pass (timeout)}
        """)
    assert "sites[0].expect.a11y.wcag: 'error (refused)' is not one of" in found[0]
    assert "(did you mean 'error (refused_address)'?)" in found[0]
    assert "sites[0].expect.web.caa: 'pass (timeout)' is not one of" in found[1]


def test_missing_required_keys_and_unknown_top_level_keys():
    found = errors("""\
        description: no name
        site:
          - host: www.a.nl
        """)
    assert "s.yaml:2: site: unknown key (did you mean 'sites'?)" in found
    assert any(e.startswith("s.yaml:1: name: required key is missing") for e in found)
    assert any(e.startswith("s.yaml:1: sites: required key is missing") for e in found)


def test_yaml_syntax_errors_have_a_line():
    found = errors("name: t\nsites:\n  - host: [www.a.nl\n")
    assert found[0].startswith("s.yaml:4: (yaml):")


def test_references_and_combinations_are_checked():
    found = errors("""\
        name: t
        organisations:
          - {code: GM9901, name: Gemeente A, type: gemeente}
        sites:
          - host: www.a.nl
            organisation: GM9999
          - host: www.b.nl
            stack: ipv4
            ipv6_unreachable: dropped
          - host: www.a.nl
          - host: www.c.nl
            zone: other.nl
          - host: www.d.nl
            mail_tlsa: match
          - host: ad.doubleclick.net
          - host: www.e.nl
            tls: compression
            ocsp_stapling: good
            mail: starttls
        """)
    text = "\n".join(found)
    assert "s.yaml:6: sites[0].organisation: 'GM9999' is not a code in organisations" in text
    assert "s.yaml:9: sites[1].ipv6_unreachable: needs an IPv6 address" in text
    assert "s.yaml:10: sites[2].host: www.a.nl is already declared by sites[0]" in text
    assert "s.yaml:12: sites[3].zone: www.c.nl is not inside the zone other.nl" in text
    assert "s.yaml:14: sites[4].mail_tlsa: needs mail" in text
    assert "sites[5].host: ad.doubleclick.net is a third-party host" in text
    assert "s.yaml:18: sites[6].ocsp_stapling: needs a TLS profile served by nginx" in text
    assert "s.yaml:17: sites[6].tls: the compression profile exists only for HTTPS" in text


def test_sites_sharing_a_zone_must_agree_on_zone_keys():
    found = errors("""\
        name: t
        sites:
          - host: www.a.nl
          - host: loket.a.nl
            dnssec: insecure
        """)
    assert len(found) == 1
    assert found[0].startswith("s.yaml:5: sites[1].dnssec: zone a.nl is shared with www.a.nl")


def test_records_must_be_zone_file_lines():
    found = errors("""\
        name: t
        sites:
          - host: www.a.nl
            records:
              - "@ MX 10 mail.a.nl."
              - "@ MX ten mail.a.nl."
        """)
    assert len(found) == 1 and found[0].startswith("s.yaml:6: sites[0].records[1]: not a valid zone-file record")


def test_page_params_are_checked():
    found = errors("""\
        name: t
        sites:
          - host: www.a.nl
            pages:
              template: municipality
              params: {trackers: [pixel, beacon], statement: {status: E}, colour: red}
        """)
    text = "\n".join(found)
    assert "sites[0].pages.params.trackers[1]: 'beacon' is not one of" in text
    assert "sites[0].pages.params.statement.status: 'E' is not one of A, B, C, D" in text
    assert "sites[0].pages.params.colour: unknown key" in text


def test_session_cookie_is_a_boolean_or_django():
    found = "\n".join(errors("""\
        name: t
        sites:
          - host: www.a.nl
            session_cookie: php
          - host: www.b.nl
            session_cookie: [django]
        """))
    assert "sites[0].session_cookie: expected true, false or django, got 'php'" in found
    assert "sites[1].session_cookie: expected a single value" in found
    scenario = loads(textwrap.dedent("""\
        name: t
        sites:
          - host: www.a.nl
            session_cookie: django
          - host: www.b.nl
            session_cookie: true
        """))
    assert [s["session_cookie"] for s in scenario.sites] == ["django", True]


def test_defaults_fill_every_site_key_and_the_scenario_defaults_apply():
    scenario = loads(textwrap.dedent("""\
        name: t
        organisations:
          - {code: GM9901, name: Gemeente A, type: gemeente}
        defaults:
          dnssec: insecure
        sites:
          - host: www.a.gov.nl
            organisation: GM9901
          - host: www.b.nl
            dnssec: secure
            pages: {template: municipality, params: {statement: {status: C, date: -400d, where: register_link, register_id: 7}}}
        """), "s.yaml")
    a, b = scenario.sites
    assert a["zone"] == "a.gov.nl" and a["dnssec"] == "insecure" and a["stack"] == "dual"
    assert a["pages"]["params"]["name"] == "Gemeente A"
    assert a["pages"]["params"]["statement"]["status"] == "A"
    assert b["zone"] == "b.nl" and b["dnssec"] == "secure" and b["line"] == 9
    statement = b["pages"]["params"]["statement"]
    assert statement["status"] == "C" and statement["register_id"] == 7 and len(statement["date"]) == 10


def test_the_default_scenario_is_valid_and_big_enough():
    scenario = load(DEFAULT_SCENARIO)
    assert len(scenario.sites) >= 40
    types = {org["type"] for org in scenario.organisations.values()}
    assert {"gemeente", "provincie", "waterschap", "ministerie", "uitvoeringsorganisatie"} <= types


# Informational checks judge nothing: "not met" is the other status they report.
INFORMATIONAL_OTHER = {"privacy.consent_banner": ("info", "warn"), "web.tls.ocsp_stapling": ("info", "fail"),
                       "domain.gov_nl": ("info", "info")}


def test_the_default_scenario_expects_a_passing_and_a_failing_case_of_every_check():
    expected: dict[str, set[str]] = {}
    for site in load(DEFAULT_SCENARIO).sites:
        for check_id, status in site["expect"].items():
            expected.setdefault(check_id, set()).add(status)
    missing = []
    for check_id in CATALOGUE_CHECKS:
        met, not_met = INFORMATIONAL_OTHER.get(check_id, ("pass", None))
        found = expected.get(check_id, set())
        if met not in found or not (found & {"warn", "fail"} if not_met is None else not_met in found):
            missing.append(f"{check_id}: {sorted(found)}")
    assert not missing, "\n".join(missing)


def test_the_plan_is_deterministic_and_stays_in_the_lab_ranges(tmp_path):
    scenario = load(DEFAULT_SCENARIO)
    first = lab_plan.build(scenario, tmp_path)
    second = lab_plan.build(load(DEFAULT_SCENARIO), tmp_path)
    assert {h: (p.ipv4, p.ipv6) for h, p in first.hosts.items()} == \
           {h: (p.ipv4, p.ipv6) for h, p in second.hosts.items()}
    ranges = [ipaddress.ip_network(r) for r in lab_plan.LAB_RANGES]
    addresses = [a for p in first.hosts.values() for a in p.ipv4 + p.ipv6]
    addresses += [a for n in first.nameservers.values() for a in n.ipv4 + n.ipv6]
    assert all(any(ipaddress.ip_address(a) in r for r in ranges) for a in addresses)
    assert not any(ipaddress.ip_address(a) in ipaddress.ip_network("192.0.2.0/24") for a in addresses)
    assert len(set(addresses)) == len(addresses)  # the default scenario is small enough for own addresses


def test_a_thousand_sites_share_addresses_only_between_alike_hosts(tmp_path):
    scenario = loads(generate(1000), "gen.yaml")
    plan = lab_plan.build(scenario, tmp_path)
    by_address: dict[str, list] = {}
    for host in plan.hosts.values():
        for address in host.ipv4:
            by_address.setdefault(address, []).append(host)
    assert len(by_address) <= len(lab_plan.HOST_IPV4)
    for address, hosts in by_address.items():
        if len(hosts) > 1:
            assert len({(h.site["tls"], h.site["stack"]) for h in hosts}) == 1, address
            assert all(h.role == "site" and h.site["hostile"] == "none" for h in hosts), address
    ipv6 = [a for h in plan.hosts.values() for a in h.ipv6]
    assert len(ipv6) == len(set(ipv6))
    assert len(plan.nameservers) < 20  # one NSD per name server: bounded however many sites


@pytest.mark.parametrize("count", [500, 3000])
def test_generated_organisations_have_codes_the_site_list_accepts(count):
    from scanner.targets import AREA_CODES

    organisations = loads(generate(count), "gen.yaml").organisations.values()
    assert {o["type"] for o in organisations} >= {"gemeente", "provincie", "waterschap"}
    for org in organisations:
        pattern = AREA_CODES.get(org["type"])
        assert pattern is None or pattern.fullmatch(org["code"]), org
    assert len({o["code"] for o in organisations}) == len(organisations)


def test_the_generator_is_deterministic_and_valid():
    assert generate(50, seed=3) == generate(50, seed=3)
    assert generate(50, seed=3) != generate(50, seed=4)
    scenario = loads(generate(200), "gen.yaml")
    assert len(scenario.sites) == 200
    assert len({s["dnssec"] for s in scenario.sites}) >= 3


def test_own_security_txt_contents_and_repeated_headers_are_checked():
    found = errors("""\
        name: t
        sites:
          - host: www.a.nl
            security_txt: {path: elsewhere, charset: utf-8}
          - host: www.b.nl
            headers: [[Content-Security-Policy]]
        """)
    assert found == [
        "s.yaml:4: sites[0].security_txt.charset: unknown key",
        "s.yaml:4: sites[0].security_txt.path: 'elsewhere' is not one of well_known, legacy",
        "s.yaml:4: sites[0].security_txt.text: the file's text is required",
        "s.yaml:6: sites[1].headers[0]: expected [name, value]"]
    site = loads(textwrap.dedent("""\
        name: t
        sites:
          - host: www.a.nl
            security_txt: {text: "Contact: x\\n"}
            headers: [[Content-Security-Policy, "a"], [Content-Security-Policy, "b"]]
        """)).sites[0]
    assert site["security_txt"] == {"text": "Contact: x\n", "path": "well_known",
                                    "content_type": "text/plain; charset=utf-8"}
    assert site["headers"] == [["Content-Security-Policy", "a"], ["Content-Security-Policy", "b"]]
