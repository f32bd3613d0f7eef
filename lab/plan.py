"""The lab's plan: every host, address, zone and name server a scenario needs, decided before anything
starts. Pure and deterministic: the same scenario always gives the same addresses.

The web side of the lab (`lab/web.py`) reads a `LabPlan` and returns `Service`s:

    def services(plan: LabPlan) -> list[Service]

`lab/commands.py` runs each service inside the lab namespace (`plan.netns`), waits until every
(address, port) in `Service.ports` accepts TCP connections, and stops it on `lab down`. For each host:

- `HostPlan.site` is the complete site dict of docs/scenario.md (every key present, defaults applied;
  `pages` for templates always has `template` and complete `params`). Third parties have
  `pages: {third_party: <host>}`; mail hosts (`role == "mail"`) carry the site dict of their zone's site.
- Listen on `ipv4` always and on `ipv6` only when `ipv6_listening` (False for `ipv6_unreachable`).
- `aliases` are other names served by the same server and covered by the certificate (the zone apex or
  `www.` name used by `port80: redirect_other_host`): redirect `http://host/` to `https://aliases[0]/`,
  and serve `aliases` by redirecting to `https://host/`.
- Several hosts may share an address (large generated scenarios): select the site by server name.
  Hosts that share an address always have the same `site["tls"]` and `stack`; hostile hosts, hosts with
  `ipv6_unreachable` or `different_content_on_ipv6`, mail hosts and third parties never share.
- `cert_file` holds the leaf only, `chain_file` leaf + intermediate (serve this), `key_file` the key
  (`key_type`: ec256, rsa3072, rsa2048 or rsa1024; RSA-3072 for the TLS profiles with RSA-only suites),
  `ocsp_file` the OCSP response to staple when `site["ocsp_stapling"]` is not none.
- Hosts whose TLS profile has a `frontend` never share an address: a Python front end owns their port 443.
"""
from __future__ import annotations

import functools
import ipaddress
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.resolver

from lab.scenario import PARENT_ZONES, THIRD_PARTIES, Scenario, third_party_site
from lab.tls_profiles import PROFILES as TLS_PROFILES

NETNS = "gslab"
NOV6_NETNS = "gslab-nov6"

# The lab's ranges. 192.0.2.0/24 is this machine's own network and is never used.
LAB_RANGES = ("198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")

# Links: root namespace <-> lab namespace (both families), no-IPv6 client namespace <-> lab (IPv4 only).
ROOT_LINK = {"root": "198.51.100.1", "lab": "198.51.100.2", "prefix": 30,
             "root6": "2001:db8:ffff::1", "lab6": "2001:db8:ffff::2", "prefix6": 64}
NOV6_LINK = {"lab": "198.51.100.5", "client": "198.51.100.6", "prefix": 30}

RESOLVER_IPV4 = "198.51.100.53"
RESOLVER_IPV6 = "2001:db8:53::53"
# A resolver that does not validate: for clients that validate themselves (delv in the lab's own tests).
PLAIN_RESOLVER_IPV4 = "198.51.100.9"
PLAIN_RESOLVER_IPV6 = "2001:db8:53::54"

# Name servers: 198.51.100.10-.52 and .54-.63; 2001:db8:53::100 onwards.
NAMESERVER_IPV4 = [f"198.51.100.{n}" for n in [*range(10, 53), *range(54, 64)]]
NAMESERVER_IPV6_BASE = ipaddress.IPv6Address("2001:db8:53::100")



# Names this machine needs to reach while the lab is up: the package registries (seen here at 203.0.113.80,
# inside a lab range).
MACHINE_NAMES = ("deb.debian.org", "security.debian.org", "pypi.org", "files.pythonhosted.org",
                 "registry.npmjs.org")


@functools.cache
def machine_addresses() -> frozenset[str]:
    """Addresses in the lab's ranges that this machine itself uses: what the system resolver gives for the
    package registries, and the system's name servers. The lab never takes them and keeps their route."""
    ranges = [ipaddress.ip_network(r) for r in LAB_RANGES]
    try:
        found = set(dns.resolver.Resolver().nameservers)
    except dns.resolver.NoResolverConfiguration:
        found = set()
    for name in MACHINE_NAMES:
        try:
            found.update(info[4][0] for info in socket.getaddrinfo(name, 443, proto=socket.IPPROTO_TCP))
        except OSError:
            continue
    return frozenset(a for a in found
                     if any(ipaddress.ip_address(a) in r for r in ranges
                            if r.version == ipaddress.ip_address(a).version))


# Hosts: 203.0.113.1-254 then 198.51.100.64-254 (less the machine's own addresses, see machine_addresses);
# IPv6 from 2001:db8:1::1 (never shared).
HOST_IPV4 = [f"203.0.113.{n}" for n in range(1, 255)] + [f"198.51.100.{n}" for n in range(64, 255)]
HOST_IPV6_BASE = ipaddress.IPv6Address("2001:db8:1::1")

# TLS profiles with suites that need an RSA certificate (RSA key exchange, DHE-RSA).
RSA_ONLY_PROFILES = ("rsa_kex", "dhe", "dhe2048")


@dataclass
class Service:
    """A long-running server process of the lab, started in the lab namespace.

    `argv` is run as given (inside `ip netns exec <netns>`); it must stay in the foreground and exit on
    SIGTERM. `ports` lists every (address, port) it listens on; the lab waits until each accepts TCP.
    """

    name: str
    argv: list[str]
    ports: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class HostPlan:
    host: str
    site: dict[str, Any]
    ipv4: list[str]
    ipv6: list[str]
    ipv6_listening: bool
    cert_file: Path
    key_file: Path
    chain_file: Path
    role: str = "site"                 # site | third_party | mail
    zone: str = ""
    aliases: list[str] = field(default_factory=list)
    key_type: str = "ec256"            # ec256 | rsa3072 | rsa2048 | rsa1024

    @property
    def ocsp_file(self) -> Path:
        """The DER OCSP response nginx staples (`ocsp_stapling` other than none)."""
        return self.cert_file.with_suffix(".ocsp.der")

    @property
    def assigned(self) -> list[str]:
        """Addresses configured in the lab namespace (an IPv6 address whose packets are dropped is not)."""
        dropped = self.site.get("ipv6_unreachable") == "dropped"
        return self.ipv4 + ([] if dropped else self.ipv6)


@dataclass
class NameServerPlan:
    name: str
    ipv4: list[str]
    ipv6: list[str]
    responsive: bool
    zones: list[str] = field(default_factory=list)
    rpki: str = "valid"                # what the lab's RPKI files say of its addresses (lab/rpki.py)


@dataclass
class ZonePlan:
    name: str                           # without trailing dot; "" is the root
    parent: str | None
    nameservers: list[str]
    dnssec: str = "secure"
    sites: list[str] = field(default_factory=list)   # hosts whose records this zone holds
    extra: list[str] = field(default_factory=list)   # the scenario's `records` (zone-file lines)
    caa: bool = False
    mail: str = "none"
    mail_tlsa: str = "none"

    @property
    def origin(self) -> str:
        return self.name + "." if self.name else "."


@dataclass
class LabPlan:
    workdir: Path
    scenario: Scenario
    hosts: dict[str, HostPlan]
    ca_file: Path
    resolver_ipv4: str
    resolver_ipv6: str
    netns: str
    nameservers: dict[str, NameServerPlan] = field(default_factory=dict)
    zones: dict[str, ZonePlan] = field(default_factory=dict)
    nov6_netns: str = NOV6_NETNS

    @property
    def trust_anchor_file(self) -> Path:
        return self.workdir / "dns" / "root.ds"

    def name_addresses(self) -> dict[str, tuple[list[str], list[str]]]:
        """Every name that gets address records: hosts, their aliases and name servers."""
        names = {}
        for plan in self.hosts.values():
            for name in [plan.host, *plan.aliases]:
                names[name] = (plan.ipv4, plan.ipv6)
        for ns in self.nameservers.values():
            names[ns.name] = (ns.ipv4, ns.ipv6)
        return names


def key_type(site: dict[str, Any]) -> str:
    if site["cert"] in ("rsa2048", "rsa1024"):
        return site["cert"]
    return "rsa3072" if site["tls"] in RSA_ONLY_PROFILES else "ec256"


def _deepest_zone(name: str, zones) -> str:
    labels = name.split(".")
    for i in range(len(labels)):
        candidate = ".".join(labels[i:])
        if candidate in zones:
            return candidate
    return ""


def _parent_zone(zone: str, zones) -> str:
    return _deepest_zone(zone.split(".", 1)[1], zones) if "." in zone else ""


def build(scenario: Scenario, workdir: Path) -> LabPlan:
    """The complete plan of a scenario (no side effects)."""
    workdir = Path(workdir)
    pki = workdir / "pki"
    hosts: dict[str, HostPlan] = {}

    def add_host(host: str, site: dict, role: str, zone: str) -> HostPlan:
        plan = HostPlan(host=host, site=site, ipv4=[], ipv6=[], ipv6_listening=False,
                        cert_file=pki / f"{host}.crt", key_file=pki / f"{host}.key",
                        chain_file=pki / f"{host}.chain.pem", role=role, zone=zone, key_type=key_type(site))
        hosts[host] = plan
        return plan

    for host in THIRD_PARTIES:
        site = third_party_site(host)
        add_host(host, site, "third_party", site["zone"])
    zone_first_site: dict[str, dict] = {}
    for site in scenario.sites:
        add_host(site["host"], site, "site", site["zone"])
        zone_first_site.setdefault(site["zone"], site)
    for zone, site in zone_first_site.items():
        if site["mail"] != "none" and f"mail.{zone}" not in hosts:
            add_host(f"mail.{zone}", site, "mail", zone)
    taken = set(hosts)
    for plan in hosts.values():
        if plan.role == "mail":
            continue
        other = plan.zone if plan.host != plan.zone else f"www.{plan.zone}"
        if other not in taken:
            plan.aliases.append(other)
            taken.add(other)

    _allocate_addresses(list(hosts.values()))

    zones = _plan_zones(scenario, hosts)
    nameservers = _plan_nameservers(scenario, zones)
    return LabPlan(workdir=workdir, scenario=scenario, hosts=hosts, ca_file=pki / "ca.pem",
                   resolver_ipv4=RESOLVER_IPV4, resolver_ipv6=RESOLVER_IPV6, netns=NETNS,
                   nameservers=nameservers, zones=zones)


def _must_be_alone(plan: HostPlan) -> bool:
    site = plan.site
    return (plan.role != "site" or site["hostile"] != "none" or site["ipv6_unreachable"] != "none"
            or site["different_content_on_ipv6"] or bool(TLS_PROFILES[site["tls"]].frontend))


def _allocate_addresses(plans: list[HostPlan]) -> None:
    """Give every host its addresses: own ones while the IPv4 pool lasts, then shared by hosts with the same
    TLS profile and stack. IPv6 addresses are never shared. Order: third parties, then the hosts that must
    be alone, then the others by name, so the same scenario always gets the same addresses."""
    order = [p for p in plans if p.role == "third_party"]
    order += sorted((p for p in plans if p.role != "third_party" and _must_be_alone(p)), key=lambda p: p.host)
    order += sorted((p for p in plans if p.role != "third_party" and not _must_be_alone(p)), key=lambda p: p.host)
    pool = [a for a in HOST_IPV4 if a not in machine_addresses()]
    needs_v4 = [p for p in order if p.site["stack"] != "ipv6"]
    alone = [p for p in needs_v4 if p.role == "third_party" or _must_be_alone(p)]
    if len(alone) > len(pool):
        raise ValueError(f"the scenario needs {len(alone)} IPv4 addresses of its own; the lab has {len(pool)}")
    shared_from = len(pool) - len(alone) < len(needs_v4) - len(alone)
    groups: dict[tuple, list[str]] = {}
    rest = [p for p in needs_v4 if p not in alone]
    if shared_from:
        by_key: dict[tuple, list[HostPlan]] = {}
        for p in rest:
            by_key.setdefault((p.site["tls"], p.site["stack"]), []).append(p)
        free = len(pool) - len(alone)
        for key in sorted(by_key):
            groups[key] = [None] * max(1, free * len(by_key[key]) // len(rest))
    cursor = 0
    counters: dict[tuple, int] = {}
    for index, p in enumerate(order):
        if p.site["stack"] != "ipv6":
            if not shared_from or p in alone:
                p.ipv4 = [pool[cursor]]
                cursor += 1
            else:
                key = (p.site["tls"], p.site["stack"])
                slots = groups[key]
                i = counters.get(key, 0)
                counters[key] = i + 1
                slot = i % len(slots)
                if slots[slot] is None:
                    slots[slot] = pool[cursor % len(pool)]
                    cursor += 1
                p.ipv4 = [slots[slot]]
        if p.site["stack"] != "ipv4":
            p.ipv6 = [str(HOST_IPV6_BASE + index)]
            p.ipv6_listening = p.site["ipv6_unreachable"] == "none"


def _plan_zones(scenario: Scenario, hosts: dict[str, HostPlan]) -> dict[str, ZonePlan]:
    site_zones: dict[str, ZonePlan] = {}
    for plan in hosts.values():
        if plan.role == "mail":
            continue
        zone = site_zones.get(plan.zone)
        if zone is None:
            s = plan.site
            zone = site_zones[plan.zone] = ZonePlan(
                name=plan.zone, parent=None, nameservers=list(s["nameservers"]), dnssec=s["dnssec"],
                extra=list(s["records"]), caa=s["caa"], mail=s["mail"], mail_tlsa=s["mail_tlsa"])
        zone.sites.append(plan.host)
    for plan in hosts.values():
        if plan.role == "mail":
            site_zones[plan.zone].sites.append(plan.host)

    zones: dict[str, ZonePlan] = {"": ZonePlan(name="", parent=None, nameservers=[ROOT_SERVER])}
    parents = set(PARENT_ZONES)
    names = set(site_zones) | {ns for z in site_zones.values() for ns in z.nameservers}
    tlds = sorted({n.rsplit(".", 1)[-1] for n in names | parents})
    for tld in tlds:
        zones[tld] = ZonePlan(name=tld, parent="", nameservers=[f"ns1.nic.{tld}"])
    for name in sorted(parents, key=lambda z: z.count(".")):
        zones[name] = ZonePlan(name=name, parent=None, nameservers=[f"ns1.{name}"])
    zones.update(site_zones)
    for zone in zones.values():
        if zone.name:
            zone.parent = _parent_zone(zone.name, zones)
    return zones


# The root's name server; its address records live in the nl. zone (glue in the root).
ROOT_SERVER = "a.root-servers.nl"


def _plan_nameservers(scenario: Scenario, zones: dict[str, ZonePlan]) -> dict[str, NameServerPlan]:
    """One name server per name: infrastructure (root, TLDs, gov.nl) first, then the scenario's by name."""
    site_zones = scenario_zone_names(zones)
    infra = [ns for z in zones.values() if z.name not in site_zones for ns in z.nameservers]
    declared = sorted({ns for z in zones.values() for ns in z.nameservers} - set(infra)
                      | set(scenario.nameserver_sets))
    servers: dict[str, NameServerPlan] = {}
    names = list(dict.fromkeys(infra)) + declared
    if len(names) > len(NAMESERVER_IPV4):
        raise ValueError(f"the scenario has {len(names)} name servers; the lab has room for {len(NAMESERVER_IPV4)}")
    for index, name in enumerate(names):
        options = scenario.nameserver_sets.get(name, {"stack": "dual", "responsive": True})
        servers[name] = NameServerPlan(
            name=name, ipv4=[NAMESERVER_IPV4[index]],
            ipv6=[str(NAMESERVER_IPV6_BASE + index)] if options["stack"] == "dual" else [],
            responsive=options["responsive"], rpki=options.get("rpki", "valid"))
    for zone in zones.values():
        for ns in zone.nameservers:
            servers[ns].zones.append(zone.name)
    return servers


def scenario_zone_names(zones: dict[str, ZonePlan]) -> set[str]:
    """The zones that come from sites (not the root, TLDs or parent zones)."""
    return {z.name for z in zones.values() if z.sites}
