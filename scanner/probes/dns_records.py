"""DNS facts of a site beyond its addresses: the zone's name servers and whether they answer over IPv6, the
CAA record that applies to the host, and the TLSA record for DANE with its DNSSEC state.

Each is its own probe, so a name server that does not answer costs the IPv6 name-server check only, not
DANE or CAA. All lookups go through the run's resolver (cached per run) and are counted in the artifact
(`queries`); the name servers' own answers over IPv6 are asked of them directly, by address.

Bounds (issue 15): the zone's owner chooses how many name servers and addresses there are, and every
address asked directly is a query this scanner sends wherever the zone points (a reflector, with 2,000
AAAA records on one name). So at most `[dns] max_nameservers` NS names are examined (in name order), at
most `max_addresses_per_name` A and AAAA records of each are used (the first as sorted), and at most
`nameserver_queries_in_flight` direct queries are under way at once. What was cut is listed in the
artifact's `limits` (setting, limit, what the zone had), which web.ipv6.nameservers shows in its details.
"""
from __future__ import annotations

import asyncio
import time

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

from govscan.model import Reason, Site
from scanner.addresses import RefusedAddress
from scanner.probes.base import Probe, ProbeContext, ProbeError
from scanner.probes.dnssec import ANSWERED, BOGUS, Validator, examine, lookup, show, zone_of
from scanner.resolver import QueryTally


def answer_records(response: dns.message.Message, rdtype: str) -> list[dns.rrset.RRset]:
    """The RRsets of this type in an answer (after any CNAME the resolver followed)."""
    wanted = dns.rdatatype.from_text(rdtype)
    return [rrset for rrset in response.answer if rrset.rdtype == wanted]


async def resolved(ctx: ProbeContext, name, rdtype: str, tally: QueryTally) -> dns.message.Message:
    """An answer whatever the zone's DNSSEC: validated when it can be, unchecked (CD) when it is bogus."""
    response = await ctx.resolver.query(name, rdtype, dnssec=True, tally=tally)
    if response.rcode() == dns.rcode.SERVFAIL:
        response = await ctx.resolver.query(name, rdtype, dnssec=True, cd=True, tally=tally)
    if response.rcode() not in ANSWERED:
        raise ProbeError(Reason.DNS, f"{name} {rdtype}: resolver answered {dns.rcode.to_text(response.rcode())}")
    return response


def addresses_in(response: dns.message.Message, rdtype: str) -> list[str]:
    return sorted({rdata.address for rrset in answer_records(response, rdtype) for rdata in rrset})


def capped(items: list, setting: str, limit: int, limits: list[dict], **about) -> list:
    """The first `limit` items; when there were more, the bound hit is added to `limits` (for the artifact
    and the finding's details): the setting, its value, how many there were, and `about` what."""
    if len(items) > limit:
        limits.append({"setting": f"dns.{setting}", "limit": limit, "found": len(items), **about})
    return items[:limit]


async def ask_directly(ctx: ProbeContext, address: str, zone: dns.name.Name, port: int = 53) -> dict:
    """Ask one name server, at one address, for its zone's SOA: over UDP, then over TCP when UDP gets no
    answer (a truncated or lost UDP answer). `answered` means an authoritative NOERROR came back. An address
    the address policy refuses (scanner/addresses.py) is not asked: `error` is then `refused_address`."""
    try:
        ctx.address_policy.check(address)
    except RefusedAddress as refused:
        return {"answered": False, "transport": None, "rcode": None, "attempts": [],
                "error": refused.reason, "detail": refused.detail}
    request = dns.message.make_query(zone, "SOA", use_edns=0, payload=1232)
    request.flags &= ~dns.flags.RD
    timeout = ctx.settings.dns.timeout
    attempts = []
    for transport, send in (("udp", dns.asyncquery.udp), ("tcp", dns.asyncquery.tcp)):
        try:
            response = await send(request, address, timeout=timeout, port=port)
        except (dns.exception.Timeout, asyncio.TimeoutError):
            attempts.append(f"{transport}: no answer within {timeout:g}s")
            continue
        except (OSError, dns.exception.DNSException) as exc:
            attempts.append(f"{transport}: {exc}")
            continue
        if transport == "udp" and response.flags & dns.flags.TC:
            attempts.append("udp: truncated")
            continue
        rcode = dns.rcode.to_text(response.rcode())
        answered = response.rcode() == dns.rcode.NOERROR and bool(response.flags & dns.flags.AA)
        return {"answered": answered, "transport": transport, "rcode": rcode,
                "authoritative": bool(response.flags & dns.flags.AA), "attempts": attempts}
    return {"answered": False, "transport": None, "rcode": None, "attempts": attempts}


class NameserversProbe(Probe):
    """The NS of the host's zone, their addresses, and per IPv6 address whether it answers DNS."""

    name = "nameservers"
    version = 1

    def __init__(self, port: int = 53):
        self.port = port  # another port only in tests, where the servers are not privileged

    async def collect(self, ctx: ProbeContext, site: Site, address, prior) -> dict:
        tally = QueryTally()
        zone = await zone_of(ctx, dns.name.from_text(site.host), tally)
        ns = await resolved(ctx, zone, "NS", tally)
        names = sorted({rdata.target for rrset in answer_records(ns, "NS") for rdata in rrset})
        if not names:
            raise ProbeError(Reason.DNS, f"{zone} has no NS records")
        ipv6 = ctx.run_facts.get("ipv6", True)
        bounds = ctx.settings.dns
        limits: list[dict] = []
        names = capped(names, "max_nameservers", bounds.max_nameservers, limits, zone=show(zone))
        in_flight = asyncio.Semaphore(bounds.nameserver_queries_in_flight)

        async def ask(addr: str) -> dict:
            async with in_flight:
                return await ask_directly(ctx, addr, zone, self.port)

        async def one(name: dns.name.Name) -> dict:
            a, aaaa = await asyncio.gather(resolved(ctx, name, "A", tally), resolved(ctx, name, "AAAA", tally))
            server = {"name": show(name)}
            for family, response, rdtype in (("ipv4", a, "A"), ("ipv6", aaaa, "AAAA")):
                server[family] = capped(addresses_in(response, rdtype), "max_addresses_per_name",
                                        bounds.max_addresses_per_name, limits, name=show(name), type=rdtype)
            if ipv6:
                answers = await asyncio.gather(*(ask(addr) for addr in server["ipv6"]))
                server["ipv6_answers"] = dict(zip(server["ipv6"], answers))
            return server

        servers = await asyncio.gather(*(one(name) for name in names))
        direct = sum(len(s.get("ipv6_answers", {})) for s in servers)
        return {"zone": show(zone), "nameservers": list(servers), "ipv6_tested": ipv6,
                "queries": tally.to_dict(), "direct_queries": direct, "limits": limits}


class CaaProbe(Probe):
    """The CAA record set that applies to the host: the first found climbing from the host to its TLD
    (RFC 8659 section 3)."""

    name = "caa"
    version = 1

    async def collect(self, ctx: ProbeContext, site: Site, address, prior) -> dict:
        tally = QueryTally()
        name = dns.name.from_text(site.host)
        searched = []
        while len(name) > 1:  # the root label counts: stop above the TLD's parent
            searched.append(show(name))
            response = await resolved(ctx, name, "CAA", tally)
            records = answer_records(response, "CAA")
            if records:
                return {"found_at": show(name), "records": [r.to_text() for rrset in records for r in rrset],
                        "searched": searched, "queries": tally.to_dict()}
            name = name.parent()
        return {"found_at": None, "records": [], "searched": searched, "queries": tally.to_dict()}


async def tlsa_facts(ctx: ProbeContext, name: str, tally: QueryTally, validator: Validator) -> dict:
    """The TLSA records at `name` with their DNSSEC state (and, when there are any or the answer is bogus,
    the chain walk saying why it is not secure). Shared by web DANE (port 443) and mail DANE (port 25)."""
    found = await lookup(ctx, dns.name.from_text(name), "TLSA", tally)
    records = [{"usage": r.usage, "selector": r.selector, "mtype": r.mtype, "data": r.cert.hex()}
               for rrset in answer_records(found.response, "TLSA") for r in rrset]
    facts = {"name": name, "records": records, "state": found.state, "ede": found.ede}
    if records or found.state == BOGUS:
        facts.update(await examine(ctx, name, ("TLSA",), tally, validator))
    return facts


class TlsaProbe(Probe):
    """TLSA at `_443._tcp.<host>` with its DNSSEC state."""

    name = "tlsa"
    version = 1

    async def collect(self, ctx: ProbeContext, site: Site, address, prior) -> dict:
        tally = QueryTally()
        validator = Validator(ctx.settings.dns, time.monotonic() + self.timeout(ctx.settings))
        facts = await tlsa_facts(ctx, f"_443._tcp.{site.host}", tally, validator)
        facts["queries"] = tally.to_dict()
        return facts
