"""Name-server fan-out bounded by the scanner (issue 15): a zone whose one NS name has 2,000 AAAA records
made the nameservers probe query all 2,000 addresses at once (2,009 open file descriptors), a reflector
chosen by the zone's owner.

The addresses must really be queried and counted where they arrive, so each test runs the real probe in a
child process with a network namespace of its own (only `lo`, never the machine's network): a local route
makes a whole documentation prefix answer on loopback (AnyIP), and one counting name server answers for
every address of it, from the address asked."""
from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import socket
import subprocess
from pathlib import Path

import dns.flags
import dns.message
import dns.name
import dns.rrset

from checks.registry import all_checks, evaluate
from govscan.model import Artifact, Site, Status
from scanner.probes.dns import AddressProbe
from scanner.probes.dns_records import NameserversProbe
from tests.unit.fakedns import Tree, ZoneSpec, context

SITE = Site("https://www.noordstad.nl/", "www.noordstad.nl")
PREFIX = "2001:db8:7::/116"  # 4,096 addresses, local to the test's own namespace only
CLONE_NEWNET = 0x40000000
IPV6_FREEBIND = 78  # linux/in6.h: answer from an address that is local by route, not configured
ANSWER_DELAY = 0.05  # seconds each answer is held, so queries under way at once can be counted


def address(i: int) -> str:
    return f"2001:db8:7::{i:x}"


class CountingNameServer:
    """UDP on [::] in the namespace: answers every SOA query authoritatively, from the address it was sent
    to, after ANSWER_DELAY; counts the queries and the most under way at once."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        self.sock.setsockopt(socket.IPPROTO_IPV6, IPV6_FREEBIND, 1)
        self.sock.bind(("::", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.queries = self.under_way = self.most_under_way = 0
        self.addresses: set[str] = set()
        loop.add_reader(self.sock, self.receive)

    def receive(self) -> None:
        data, ancillary, _, peer = self.sock.recvmsg(4096, socket.CMSG_SPACE(20))
        destination = next(info[:16] for level, kind, info in ancillary if kind == socket.IPV6_PKTINFO)
        self.queries += 1
        self.addresses.add(socket.inet_ntop(socket.AF_INET6, destination))
        self.under_way += 1
        self.most_under_way = max(self.most_under_way, self.under_way)
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        soa = "ns1.noordstad.nl. hostmaster.noordstad.nl. 1 7200 3600 1209600 300"
        response.answer.append(dns.rrset.from_text(query.question[0].name, 300, "IN", "SOA", soa))
        self.loop.call_later(ANSWER_DELAY, self.answer, response.to_wire(), destination, peer)

    def answer(self, wire: bytes, destination: bytes, peer) -> None:
        self.under_way -= 1
        self.sock.sendmsg([wire], [(socket.IPPROTO_IPV6, socket.IPV6_PKTINFO, destination + bytes(4))], 0, peer)


def zone(records: list[str]) -> Tree:
    return Tree([ZoneSpec(".", []), ZoneSpec("nl.", []),
                 ZoneSpec("noordstad.nl.", ["www 3600 IN A 198.51.100.10", *records])])


def in_own_network_namespace(tmp: str, records: list[str]) -> dict:
    """Runs in a spawned child: a fresh network namespace, the prefix routed to `lo`, the counting server,
    then the probe on a zone with `records`. Returns the probe's facts and what the server counted."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
    for command in (["ip", "link", "set", "lo", "up"], ["ip", "-6", "route", "add", "local", PREFIX, "dev", "lo"]):
        subprocess.run(command, check=True, capture_output=True)
    ctx = context(zone(records), Path(tmp), allowed_networks=[PREFIX])

    async def run():
        server = CountingNameServer(asyncio.get_running_loop())
        facts = await NameserversProbe(port=server.port).collect(ctx, SITE, None, {})
        return {"facts": facts, "queries": server.queries, "addresses": len(server.addresses),
                "most_under_way": server.most_under_way}
    return asyncio.run(run())


def collect(tmp_path, records: list[str]) -> dict:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(in_own_network_namespace, (str(tmp_path), records))


def test_one_name_server_with_2000_addresses_gets_the_configured_number_of_queries(tmp_path):
    result = collect(tmp_path, [f"ns1 3600 IN AAAA {address(i)}" for i in range(1, 2001)])
    facts = result["facts"]
    assert result["queries"] == result["addresses"] == 8  # dns.max_addresses_per_name, each asked once
    assert result["most_under_way"] <= 4  # dns.nameserver_queries_in_flight
    [server] = facts["nameservers"]
    assert server["ipv6"] == sorted(address(i) for i in range(1, 2001))[:8]  # the probe's order: as text
    assert all(answer["answered"] for answer in server["ipv6_answers"].values())
    assert facts["limits"] == [{"setting": "dns.max_addresses_per_name", "limit": 8, "found": 2000,
                                "name": "ns1.noordstad.nl", "type": "AAAA"}]
    finding = evaluate(all_checks()["web.ipv6.nameservers"], SITE,
                       {"nameservers": Artifact("nameservers", 1, SITE.host, facts)}, {}, {"ipv6": True})
    assert finding.details["limits"] == facts["limits"]


def test_a_zone_with_many_name_servers_has_the_first_ones_examined(tmp_path):
    records = [line for i in range(2, 31) for line in (f"@ 3600 IN NS ns{i:02d}.noordstad.nl.",
                                                       f"ns{i:02d} 3600 IN AAAA {address(i)}")]
    result = collect(tmp_path, [f"ns1 3600 IN AAAA {address(1)}", *records])
    facts = result["facts"]
    assert [server["name"] for server in facts["nameservers"]] == [f"ns{i:02d}.noordstad.nl" for i in range(2, 10)]
    assert result["queries"] == 8 and result["most_under_way"] <= 4
    assert facts["limits"] == [{"setting": "dns.max_nameservers", "limit": 8, "found": 30, "zone": "noordstad.nl"}]
    finding = evaluate(all_checks()["web.ipv6.nameservers"], SITE,
                       {"nameservers": Artifact("nameservers", 1, SITE.host, facts)}, {}, {"ipv6": True})
    assert finding.status == Status.PASS and finding.details["limits"] == facts["limits"]


def test_a_site_host_with_2000_addresses_gets_the_configured_number_probed(tmp_path):
    """The site's own host: every address it keeps costs the per-address probes, so it keeps eight."""
    ctx = context(zone([f"www 3600 IN AAAA {address(i)}" for i in range(1, 2001)]), tmp_path)
    facts = asyncio.run(AddressProbe().collect(ctx, SITE, None, {}))
    assert facts["ipv6"] == [address(i) for i in range(1, 9)] and facts["ipv4"] == ["198.51.100.10"]
    assert facts["limits"] == [{"setting": "dns.max_addresses_per_name", "limit": 8, "found": 2000,
                                "name": "www.noordstad.nl", "type": "AAAA"}]
    finding = evaluate(all_checks()["web.ipv6.address"], SITE, {"dns": Artifact("dns", 1, SITE.host, facts)}, {})
    assert finding.status == Status.PASS and finding.details["limits"] == facts["limits"]
