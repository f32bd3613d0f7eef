"""The DNS probes against a hand-built signed tree (tests/unit/fakedns.py): the DNSSEC state and the zone cut
and fault of each kind of bogus zone, the guard against a resolver that does not validate, the per-run cache
(the chain from the root is fetched once), CAA climbing, TLSA state, and name servers asked over IPv6."""
from __future__ import annotations

import asyncio
import socket
import struct

import dns.flags
import dns.message
import dns.name
import dns.rrset
import pytest

from govscan.model import Site
from scanner.probes.base import ProbeError
from scanner.probes.dns_records import CaaProbe, NameserversProbe, TlsaProbe, ask_directly
from scanner.probes.dnssec import DnssecProbe
from tests.unit.fakedns import (BOGUS_DS, BOGUS_EXPIRED, BOGUS_MISSING_RRSIG, INSECURE, SECURE, Tree, ZoneSpec,
                                context, default_tree)

SITE = Site("https://www.noordstad.nl/", "www.noordstad.nl")


def collect(probe, ctx, site=SITE):
    return asyncio.run(probe.collect(ctx, site, None, {}))


def test_secure_zone(tmp_path):
    facts = collect(DnssecProbe(), context(default_tree(SECURE), tmp_path))
    assert (facts["state"], facts["zone"], facts["problem"]) == ("secure", "noordstad.nl", None)
    assert [step["zone"] for step in facts["chain"]] == [".", "nl", "noordstad.nl"]
    assert facts["ds_snippet"][0].startswith("noordstad.nl. 3600 IN DS ")


@pytest.mark.parametrize("mode, state, code, rrset", [
    (INSECURE, "insecure", "no_ds", None),
    (BOGUS_DS, "bogus", "ds_matches_no_dnskey", None),
    (BOGUS_EXPIRED, "bogus", "signature_expired", "noordstad.nl DNSKEY"),
    (BOGUS_MISSING_RRSIG, "bogus", "rrsig_missing", "www.noordstad.nl A"),
])
def test_not_secure_zones_say_what_is_wrong_and_where(tmp_path, mode, state, code, rrset):
    facts = collect(DnssecProbe(), context(default_tree(mode), tmp_path))
    assert facts["state"] == state
    assert facts["problem"]["code"] == code and facts["problem"]["zone"] == "noordstad.nl"
    assert facts["problem"].get("rrset") == rrset
    if state == "bogus":
        assert facts["ede"], "the resolver's extended error is kept"


def test_a_resolver_that_times_out_is_an_error_not_insecure(tmp_path):
    tree = default_tree(SECURE)
    tree.unreachable.add((dns.name.from_text("www.noordstad.nl."), "A"))
    with pytest.raises(ProbeError) as raised:
        collect(DnssecProbe(), context(tree, tmp_path))
    assert raised.value.reason == "timeout"


def test_a_resolver_that_does_not_validate_is_not_believed(tmp_path, monkeypatch):
    tree = default_tree(SECURE)
    monkeypatch.setattr(tree, "state", lambda zone: INSECURE)  # no AD anywhere, although the chain holds
    with pytest.raises(ProbeError) as raised:
        collect(DnssecProbe(), context(tree, tmp_path))
    assert raised.value.reason == "dns" and "does not validate" in raised.value.detail


def test_another_trust_anchor_is_not_believed(tmp_path):
    ctx = context(default_tree(SECURE), tmp_path)
    (tmp_path / "anchor.ds").write_text(default_tree(SECURE).anchor_text())  # a root key of another tree
    with pytest.raises(ProbeError) as raised:
        collect(DnssecProbe(), ctx)
    assert "anchor_mismatch" in raised.value.detail


def test_the_chain_from_the_root_is_fetched_once_per_run(tmp_path):
    extra = [ZoneSpec("zuid.nl.", ["www 3600 IN A 198.51.100.20"])]
    ctx = context(default_tree(SECURE, extra=extra), tmp_path)
    first = collect(DnssecProbe(), ctx)
    second = collect(DnssecProbe(), ctx, Site("https://www.zuid.nl/", "www.zuid.nl"))
    assert second["state"] == "secure"
    assert second["queries"]["sent"] < first["queries"]["sent"]
    # root and nl. (SOA, DNSKEY, DS) came from the cache: the second site paid only for its own zone
    assert second["queries"]["sent"] <= 6
    assert ctx.resolver.queries == first["queries"]["sent"] + second["queries"]["sent"]


def test_caa_is_found_at_the_apex_for_a_host_below_it(tmp_path):
    facts = collect(CaaProbe(), context(default_tree(SECURE), tmp_path))
    assert facts["found_at"] == "noordstad.nl" and facts["records"] == ['0 issue "labca.example"']
    assert facts["searched"] == ["www.noordstad.nl", "noordstad.nl"]


def test_no_caa_anywhere(tmp_path):
    tree = Tree([ZoneSpec(".", []), ZoneSpec("nl.", []), ZoneSpec("kaal.nl.", ["www 3600 IN A 198.51.100.30"])])
    facts = collect(CaaProbe(), context(tree, tmp_path), Site("https://www.kaal.nl/", "www.kaal.nl"))
    assert facts["found_at"] is None and facts["searched"] == ["www.kaal.nl", "kaal.nl", "nl"]


TLSA_RECORD = "_443._tcp.www 3600 IN TLSA 3 1 1 " + "ab" * 32


def tlsa_tree(mode):
    return Tree([ZoneSpec(".", []), ZoneSpec("nl.", []),
                 ZoneSpec("noordstad.nl", ["www 3600 IN A 198.51.100.10", TLSA_RECORD], mode=mode,
                          strip_rrsig_of=["www.noordstad.nl."])])


def test_tlsa_with_its_state(tmp_path):
    facts = collect(TlsaProbe(), context(tlsa_tree(SECURE), tmp_path))
    assert facts["records"] == [{"usage": 3, "selector": 1, "mtype": 1, "data": "ab" * 32}]
    assert facts["state"] == "secure"


def test_a_bogus_tlsa_is_reported_as_bogus_not_absent(tmp_path):
    facts = collect(TlsaProbe(), context(tlsa_tree(BOGUS_EXPIRED), tmp_path))
    assert facts["records"] and facts["state"] == "bogus"
    assert facts["problem"]["code"] == "signature_expired"


def test_no_tlsa(tmp_path):
    facts = collect(TlsaProbe(), context(default_tree(SECURE), tmp_path))
    assert facts["records"] == [] and facts["state"] == "secure"


# --- name servers -------------------------------------------------------------------------------------------

def ns_tree():
    return Tree([ZoneSpec(".", []), ZoneSpec("nl.", []),
                 ZoneSpec("noordstad.nl", ["www 3600 IN A 198.51.100.10", "@ 3600 IN NS ns2.noordstad.nl.",
                                            "ns1 3600 IN A 198.51.100.53", "ns1 3600 IN AAAA ::1",
                                            "ns2 3600 IN A 198.51.100.54"])])


class SilentUdpAnsweringTcp:
    """An authoritative server on ::1 that drops UDP (as a broken firewall does) and answers over TCP."""

    def __init__(self):
        self.udp = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        self.udp.bind(("::1", 0))
        self.port = self.udp.getsockname()[1]

    async def __aenter__(self):
        async def answer(reader, writer):
            length = struct.unpack("!H", await reader.readexactly(2))[0]
            query = dns.message.from_wire(await reader.readexactly(length))
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            response.answer.append(dns.rrset.from_text(query.question[0].name, 3600, "IN", "SOA",
                                                       "ns1.noordstad.nl. h.noordstad.nl. 1 2 3 4 5"))
            wire = response.to_wire()
            writer.write(struct.pack("!H", len(wire)) + wire)
            await writer.drain()
            writer.close()

        self.tcp = await asyncio.start_server(answer, "::1", self.port)
        return self

    async def __aexit__(self, *exc):
        self.tcp.close()
        self.udp.close()


def test_name_server_answering_over_tcp_when_udp_is_lost(tmp_path):
    ctx = context(ns_tree(), tmp_path)
    ctx.settings.dns.timeout = 0.3

    async def run():
        async with SilentUdpAnsweringTcp() as server:
            return await ask_directly(ctx, "::1", dns.name.from_text("noordstad.nl"), server.port)

    answer = asyncio.run(run())
    assert answer["answered"] and answer["transport"] == "tcp" and answer["attempts"][0].startswith("udp: no answer")


def test_name_servers_with_their_ipv6_answers(tmp_path):
    ctx = context(ns_tree(), tmp_path)
    ctx.settings.dns.timeout = 0.3

    async def run():
        async with SilentUdpAnsweringTcp() as server:
            return await NameserversProbe(port=server.port).collect(ctx, SITE, None, {})

    facts = asyncio.run(run())
    by_name = {s["name"]: s for s in facts["nameservers"]}
    assert set(by_name) == {"ns1.noordstad.nl", "ns2.noordstad.nl"}
    assert by_name["ns1.noordstad.nl"]["ipv6_answers"]["::1"]["answered"]
    assert by_name["ns2.noordstad.nl"]["ipv6"] == [] and facts["direct_queries"] == 1


def test_name_servers_without_scanner_ipv6_are_not_asked(tmp_path):
    facts = collect(NameserversProbe(port=9), context(ns_tree(), tmp_path, run_facts={"ipv6": False}))
    assert facts["ipv6_tested"] is False and facts["direct_queries"] == 0
    assert all("ipv6_answers" not in s for s in facts["nameservers"])
