"""A hand-built, signed DNS tree for unit tests of the DNS probes.

Zones are written in zone-file syntax and signed with dnspython; a `Resolver` whose network side is
replaced answers from them the way a validating resolver would (AD on secure data, SERVFAIL plus an
extended DNS error on bogus data unless CD is set). Caching and query counting stay the real ones.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import dns.dnssec
import dns.dnssecalgs
import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rdata
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone
from cryptography.hazmat.primitives.asymmetric import ec

from lab.dns import keytrap
from scanner import config
from scanner.probes.base import ProbeContext, ProbeError
from scanner.resolver import Resolver

SECURE, INSECURE = "secure", "insecure"
BOGUS_DS, BOGUS_EXPIRED, BOGUS_MISSING_RRSIG = "bogus_ds", "bogus_expired", "bogus_missing_rrsig"
BOGUS_KEYTRAP = "bogus_keytrap"  # lab/dns.py keytrap(): colliding RSA keys, the hosts' records signed only by them
EDE_FOR = {BOGUS_DS: dns.edns.EDECode.DNSSEC_BOGUS, BOGUS_EXPIRED: dns.edns.EDECode.SIGNATURE_EXPIRED,
           BOGUS_MISSING_RRSIG: dns.edns.EDECode.RRSIGS_MISSING, BOGUS_KEYTRAP: dns.edns.EDECode.DNSSEC_BOGUS}


@dataclass
class ZoneSpec:
    name: str
    records: list[str]
    mode: str = SECURE  # secure | insecure | bogus_ds | bogus_expired | bogus_missing_rrsig | bogus_keytrap
    strip_rrsig_of: list[str] = field(default_factory=list)  # owner names whose RRSIGs bogus_missing_rrsig drops
    algorithms: tuple[int, ...] = (dns.dnssec.Algorithm.ECDSAP256SHA256,)  # a KSK and a ZSK of each
    ds_digest: int = dns.dnssec.DSDigest.SHA256  # of the DS record the parent publishes


def _key(ksk: bool, algorithm: int = dns.dnssec.Algorithm.ECDSAP256SHA256):
    flags = 257 if ksk else 256
    if algorithm == dns.dnssec.Algorithm.ECDSAP256SHA256:
        private = ec.generate_private_key(ec.SECP256R1())
        return private, dns.dnssec.make_dnskey(private.public_key(), algorithm, flags=flags)
    private = dns.dnssecalgs.get_algorithm_cls(algorithm).generate(1024)  # RSA and DSA: small, they are tests
    return private, private.public_key().to_dnskey(flags=flags)


class Tree:
    """Zones by name, built children first so each parent carries its children's DS records."""

    def __init__(self, specs: list[ZoneSpec]):
        self.specs = {dns.name.from_text(s.name): s for s in specs}
        self.zones: dict[dns.name.Name, dns.zone.Zone] = {}
        self.keys: dict[dns.name.Name, list] = {}
        for name in sorted(self.specs, key=len, reverse=True):
            self._build(name)
        self.unreachable: set[tuple[dns.name.Name, str]] = set()  # (qname, type) the resolver times out on

    def _children(self, name):
        return [c for c in self.specs if c != dns.name.root and c.parent() == name]

    def _build(self, name: dns.name.Name) -> None:
        spec = self.specs[name]
        ns, mail = (dns.name.Name((label,)).concatenate(name).to_text() for label in ("ns1", "hostmaster"))
        text = "\n".join([f"@ 3600 IN SOA {ns} {mail} 1 7200 3600 1209600 3600", f"@ 3600 IN NS {ns}",
                          *spec.records])
        zone = dns.zone.from_text(text, origin=name, relativize=False, check_origin=False)
        for child in self._children(name):
            child_spec = self.specs[child]
            with zone.writer() as txn:
                txn.add(child, 3600, dns.rdata.from_text("IN", "NS", f"ns1.{child}", origin=dns.name.root))
                if child_spec.mode == INSECURE:
                    continue
                ksk = self.keys[child][0][1]
                if child_spec.mode == BOGUS_DS:
                    ksk = _key(True)[1]  # a DS for a key the child does not have
                txn.add(child, 3600, dns.dnssec.make_ds(child, ksk, child_spec.ds_digest,
                                                        policy=dns.dnssec.allow_all_policy))
        if spec.mode != INSECURE:
            keys = [_key(ksk, algorithm) for algorithm in spec.algorithms for ksk in (True, False)]
            self.keys[name] = keys
            now = time.time()
            window = (now - 86400 * 10, now - 86400) if spec.mode == BOGUS_EXPIRED else (now - 3600, now + 86400 * 30)
            dns.dnssec.sign_zone(zone, keys=keys, inception=window[0], expiration=window[1],
                                 policy=dns.dnssec.allow_all_policy)  # RFC 8624's forbidden ones too
            if spec.mode == BOGUS_KEYTRAP:
                hosts = [owner for owner, node in zone.nodes.items()
                         if node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.A) is not None]
                keytrap(zone, keys[0], hosts, *window)
            if spec.mode == BOGUS_MISSING_RRSIG:
                with zone.writer() as txn:
                    for owner in spec.strip_rrsig_of:
                        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                            txn.delete(dns.name.from_text(owner), dns.rdatatype.RRSIG, rdtype)
        self.zones[name] = zone

    def anchor_text(self) -> str:
        ksk = self.keys[dns.name.root][0][1]
        return f". IN DS {dns.dnssec.make_ds(dns.name.root, ksk, 'SHA256').to_text()}\n"

    def state(self, zone: dns.name.Name) -> str:
        """What a validating resolver concludes for data of this zone."""
        chain = [zone]
        while chain[0] != dns.name.root:
            chain.insert(0, chain[0].parent())
        for name in chain:
            mode = self.specs[name].mode if name in self.specs else SECURE
            if mode != SECURE:
                return mode
        return SECURE

    def zone_for(self, qname: dns.name.Name, rdtype) -> dns.name.Name:
        parent_side = rdtype == dns.rdatatype.DS  # a DS record lives in the parent zone
        candidates = [z for z in self.zones if qname.is_subdomain(z) and not (parent_side and qname == z)]
        return max(candidates, key=len)

    def answer(self, qname: dns.name.Name, rdtype, cd: bool) -> dns.message.Message:
        request = dns.message.make_query(qname, rdtype, want_dnssec=True)
        response = dns.message.make_response(request)
        response.flags |= dns.flags.RA
        zone_name = self.zone_for(qname, rdtype)
        zone = self.zones[zone_name]
        state = self.state(zone_name)
        if state.startswith("bogus") and not cd:
            response.set_rcode(dns.rcode.SERVFAIL)
            response.use_edns(0, 0, 1232, options=[dns.edns.EDEOption(EDE_FOR[state], "hand-built")])
            return response
        node = zone.get_node(qname)
        rdataset = node.get_rdataset(dns.rdataclass.IN, rdtype) if node else None
        if rdataset is not None:
            response.answer.append(dns.rrset.from_rdata_list(qname, rdataset.ttl, list(rdataset)))
            sigs = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, rdtype)
            if sigs is not None:
                response.answer.append(dns.rrset.from_rdata_list(qname, sigs.ttl, list(sigs)))
        else:
            exists = any(name.is_subdomain(qname) for name in zone.nodes)
            if not exists:
                response.set_rcode(dns.rcode.NXDOMAIN)
            soa = zone.get_rdataset(zone_name, dns.rdatatype.SOA)
            response.authority.append(dns.rrset.from_rdata_list(zone_name, soa.ttl, list(soa)))
            sigs = zone.get_rdataset(zone_name, dns.rdatatype.RRSIG, dns.rdatatype.SOA)
            if sigs is not None:
                response.authority.append(dns.rrset.from_rdata_list(zone_name, sigs.ttl, list(sigs)))
        if state == SECURE:
            response.flags |= dns.flags.AD
        return response


class TreeResolver(Resolver):
    """The real resolver (cache, counting) answering from a Tree instead of the network."""

    def __init__(self, tree: Tree, settings):
        super().__init__(settings)
        self.tree = tree

    async def _ask(self, qname, qtype, dnssec, cd, tally):
        self.queries += 1
        if tally is not None:
            tally.sent += 1
        await asyncio.sleep(0)
        if (qname, dns.rdatatype.to_text(qtype)) in self.tree.unreachable:
            raise ProbeError("timeout", f"resolver did not answer for {qname}")
        return self.tree.answer(qname, qtype, cd)


# Where the tests' own servers listen: the address policy refuses it unless a test's settings allow it.
LOOPBACK = ["127.0.0.0/8", "::1/128"]


def context(tree: Tree, tmp_path, run_facts=None, allowed_networks=LOOPBACK) -> ProbeContext:
    anchor = tmp_path / "anchor.ds"
    anchor.write_text(tree.anchor_text())
    settings = config.load(overrides={"dns": {"resolvers": ["127.0.0.1"], "trust_anchor": str(anchor)},
                                      "scan": {"allowed_networks": list(allowed_networks)}})
    return ProbeContext(settings=settings, resolver=TreeResolver(tree, settings.dns),
                        run_facts=run_facts if run_facts is not None else {"ipv6": True})


def default_tree(mode: str = SECURE, *, extra: list[ZoneSpec] = ()) -> Tree:
    """root, nl and noordstad.nl (www with A, AAAA; CAA at the apex) in the given mode."""
    return Tree([
        ZoneSpec(".", []),
        ZoneSpec("nl.", []),
        ZoneSpec("noordstad.nl.", ["www 3600 IN A 198.51.100.10", "www 3600 IN AAAA 2001:db8::10",
                                   '@ 3600 IN CAA 0 issue "labca.example"'],
                 mode=mode, strip_rrsig_of=["www.noordstad.nl."]),
        *extra,
    ])
