"""DNS through the configured resolver (the system's by default, the lab's in tests), with a per-run cache.

Every probe resolves through one `Resolver` per run, so results are reproducible, the chain from the root
is fetched once per run, and the number of queries can be counted.
"""
from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.resolver

from scanner.config import DnsSettings
from govscan.model import Reason
from scanner.probes.base import ProbeError


def system_resolvers() -> list[str]:
    return list(dns.resolver.Resolver().nameservers)


@dataclass
class QueryTally:
    """Queries made on behalf of one probe of one site: `asked` lookups, of which `sent` went to a resolver
    (the others were answered from the run's cache)."""

    asked: int = 0
    sent: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"asked": self.asked, "sent": self.sent}


class Resolver:
    def __init__(self, settings: DnsSettings):
        self.settings = settings
        servers = settings.resolvers
        self.servers: list[str] = system_resolvers() if servers in ("system", "", None) else list(servers)
        self.queries = 0
        self._cache: dict[tuple, asyncio.Future] = {}

    async def query(self, name: str | dns.name.Name, rdtype: str | int, *, dnssec: bool = True,
                    cd: bool = False, tally: QueryTally | None = None) -> dns.message.Message:
        """One recursive query (RD, AD requested; DO when `dnssec`; CD to see data that fails validation).

        Returns the response whatever its rcode (SERVFAIL can mean bogus: the caller judges). Raises
        ProbeError(timeout) when no configured resolver answers. `tally` counts the lookup and, when it is
        not answered from the cache, the queries sent for it.
        """
        qname = dns.name.from_text(name) if isinstance(name, str) else name
        qtype = dns.rdatatype.from_text(rdtype) if isinstance(rdtype, str) else dns.rdatatype.RdataType(rdtype)
        key = (qname, qtype, dnssec, cd)
        if tally is not None:
            tally.asked += 1
        future = self._cache.get(key)
        if future is None:
            future = asyncio.ensure_future(self._ask(qname, qtype, dnssec, cd, tally))
            future.add_done_callback(lambda done: self._forget_failure(key, done))
            self._cache[key] = future
        return await asyncio.shield(future)

    def _forget_failure(self, key: tuple, future: asyncio.Future) -> None:
        """A failed lookup is not remembered, so the next site asks again. Reading the exception here also
        keeps asyncio quiet when every waiter gave up (timed out) before the lookup ended."""
        if future.cancelled() or future.exception() is not None:
            if self._cache.get(key) is future:
                del self._cache[key]

    async def _ask(self, qname, qtype, dnssec, cd, tally: QueryTally | None) -> dns.message.Message:
        request = dns.message.make_query(qname, qtype, want_dnssec=dnssec, use_edns=0, payload=1232)
        request.flags |= dns.flags.AD
        if cd:
            request.flags |= dns.flags.CD
        last_error = "no resolver configured"
        for server in self.servers:
            self.queries += 1
            if tally is not None:
                tally.sent += 1
            try:
                response, _ = await dns.asyncquery.udp_with_fallback(
                    request, server, timeout=self.settings.timeout, port=self.settings.port
                )
                return response
            except (dns.exception.Timeout, asyncio.TimeoutError):
                last_error = f"resolver {server} did not answer within {self.settings.timeout:g}s"
            except (OSError, dns.exception.DNSException) as exc:
                last_error = f"resolver {server}: {exc}"
        raise ProbeError(Reason.TIMEOUT if "did not answer" in last_error else Reason.DNS, last_error)

    async def addresses(self, host: str) -> dict:
        """A and AAAA of a host, following CNAMEs as the resolver does."""
        return await self._addresses(host, cd=False)

    async def addresses_unvalidated(self, host: str) -> dict:
        """A and AAAA with checking disabled (CD): the data of a zone whose DNSSEC is broken."""
        return await self._addresses(host, cd=True)

    async def _addresses(self, host: str, cd: bool) -> dict:
        v4, v6 = await asyncio.gather(self.query(host, "A", cd=cd), self.query(host, "AAAA", cd=cd))
        result = {"ipv4": _addresses(v4, dns.rdatatype.A), "ipv6": _addresses(v6, dns.rdatatype.AAAA),
                  "rcode": {"A": dns.rcode.to_text(v4.rcode()), "AAAA": dns.rcode.to_text(v6.rcode())}}
        return result


def _addresses(message: dns.message.Message, rdtype) -> list[str]:
    found = []
    for rrset in message.answer:
        if rrset.rdtype == rdtype:
            found.extend(rdata.address for rdata in rrset)
    return sorted(set(found), key=lambda a: socket.inet_pton(socket.AF_INET6 if ":" in a else socket.AF_INET, a))
