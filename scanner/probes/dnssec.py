"""DNSSEC facts of a host's zone: secure, insecure or bogus, and for anything but secure, why and where.

Design (issue 4). The state comes from the configured validating resolver, the way internet.nl does it:
an answer with the AD bit is secure, an answer without it is insecure, and SERVFAIL that turns into an
answer when checking is disabled (CD) is bogus; the resolver's extended DNS errors (EDE) are kept. A
validating resolver already handles what is hard to get right in a few hundred lines (NSEC/NSEC3 proofs
of insecure delegations, opt-out, wildcards, CNAME chains, algorithm support, key rollovers), and it is
the reference the tests cross-check against (`delv`).

The resolver alone cannot say *why* a zone is bogus or insecure, nor prove that it validates from the
trust anchor govscan is configured with. So every site also gets a chain walk of its own: for each zone
cut from the root down, DS (from the configured anchor at the root) and DNSKEY are fetched with CD and
checked with dnspython (a DS matches a DNSKEY, the DNSKEY set is signed by that key, the DS set is signed
by the parent, the host's records are signed by the zone), each signature's validity period included.
The first problem found names the zone cut and what is wrong. The walk also guards the verdict: when the
resolver's state and the walk disagree (the resolver does not validate, or uses another anchor) the probe
reports a `dns` error instead of a state it cannot stand behind.

Cost: the resolver caches per run, so the root and the TLDs are fetched once per run; a site costs its
own SOA, DS and DNSKEY lookups plus the A/AAAA that the `dns` probe already asked. The artifact carries
the count (`queries`).
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import dns.dnssec
import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.zonefile

from govscan.model import Reason, Site
from scanner.probes.base import Probe, ProbeContext, ProbeError
from scanner.resolver import QueryTally

SECURE, INSECURE, BOGUS = "secure", "insecure", "bogus"
ANSWERED = (dns.rcode.NOERROR, dns.rcode.NXDOMAIN)
SIGNED_AUTHORITY_TYPES = (dns.rdatatype.SOA, dns.rdatatype.NSEC, dns.rdatatype.NSEC3)


@dataclass
class Lookup:
    """One RRset as the resolver judged it: its DNSSEC state, the response (the CD one when bogus), EDEs."""

    state: str
    response: dns.message.Message
    ede: list[dict] = field(default_factory=list)


def show(name: dns.name.Name) -> str:
    """A name as the rest of govscan writes host names: without the final dot (the root stays ".")."""
    return name.to_text(omit_final_dot=True)


def extended_errors(response: dns.message.Message) -> list[dict]:
    found = []
    for option in response.extended_errors():
        try:
            name = dns.edns.EDECode(option.code).name
        except ValueError:
            name = str(option.code)
        found.append({"code": int(option.code), "name": name, "text": option.text or ""})
    return found


async def lookup(ctx: ProbeContext, name, rdtype, tally: QueryTally) -> Lookup:
    """Ask the validating resolver for one RRset and classify it. A resolver that cannot answer even with
    checking disabled (timeout, SERVFAIL with CD) raises ProbeError: that is not a DNSSEC state."""
    response = await ctx.resolver.query(name, rdtype, dnssec=True, tally=tally)
    ede = extended_errors(response)
    if response.rcode() in ANSWERED:
        return Lookup(SECURE if response.flags & dns.flags.AD else INSECURE, response, ede)
    if response.rcode() == dns.rcode.SERVFAIL:
        unchecked = await ctx.resolver.query(name, rdtype, dnssec=True, cd=True, tally=tally)
        if unchecked.rcode() in ANSWERED:
            return Lookup(BOGUS, unchecked, ede)
        reason = "; ".join(f"{e['name']} {e['text']}".strip() for e in ede) or "no extended error"
        raise ProbeError(Reason.DNS, f"{name} {dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype))}: "
                                     f"SERVFAIL, also with checking disabled ({reason})")
    raise ProbeError(Reason.DNS, f"{name}: resolver answered {dns.rcode.to_text(response.rcode())}")


async def zone_of(ctx: ProbeContext, name: dns.name.Name, tally: QueryTally) -> dns.name.Name:
    """The apex of the zone that holds `name`: the owner of the SOA in the answer or the authority section
    (looked up with CD, so broken zones are found too). A CNAME cannot be an apex: ask its parent."""
    response = await ctx.resolver.query(name, "SOA", dnssec=True, cd=True, tally=tally)
    if response.rcode() not in ANSWERED:
        raise ProbeError(Reason.DNS, f"{name} SOA: resolver answered {dns.rcode.to_text(response.rcode())}")
    if not any(r.rdtype == dns.rdatatype.CNAME and r.name == name for r in response.answer):
        for rrset in response.answer + response.authority:
            if rrset.rdtype == dns.rdatatype.SOA and name.is_subdomain(rrset.name):
                return rrset.name
    if name == dns.name.root:
        raise ProbeError(Reason.DNS, "the root has no SOA")
    return await zone_of(ctx, name.parent(), tally)


async def zone_cuts(ctx: ProbeContext, zone: dns.name.Name, tally: QueryTally) -> list[dns.name.Name]:
    """Every zone apex from the root down to `zone`."""
    cuts = [zone]
    while cuts[0] != dns.name.root:
        cuts.insert(0, await zone_of(ctx, cuts[0].parent(), tally))
    return cuts


def read_trust_anchor(path) -> dns.rrset.RRset:
    """The root's DS records (or DNSKEYs) from a zone-file snippet such as config/root-anchors.txt."""
    try:
        text = open(path).read()
        rrsets = dns.zonefile.read_rrsets(text, rdclass=None, default_ttl=0, origin=dns.name.root,
                                          relativize=False)
    except (OSError, dns.exception.DNSException) as exc:
        raise ProbeError(Reason.DNS, f"trust anchor {path}: {exc}") from None
    for rrset in rrsets:
        if rrset.name == dns.name.root and rrset.rdtype in (dns.rdatatype.DS, dns.rdatatype.DNSKEY):
            return rrset
    raise ProbeError(Reason.DNS, f"trust anchor {path}: no DS or DNSKEY record for the root")


def _find(section, name, rdtype, covers=dns.rdatatype.NONE):
    for rrset in section:
        if rrset.name == name and rrset.rdtype == rdtype and rrset.covers == covers:
            return rrset
    return None


def _utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def signature_problem(rrset, rrsigs, keys: dict, now: float) -> dict | None:
    """Why no RRSIG of `rrset` validates with `keys` (name -> DNSKEY RRset), or None when one does."""
    label = f"{show(rrset.name)} {dns.rdatatype.to_text(rrset.rdtype)}"
    if not rrsigs:
        return {"code": "rrsig_missing", "rrset": label}
    failures = []
    for rrsig in rrsigs:
        try:
            dns.dnssec.validate_rrsig(rrset, rrsig, keys, now=now)
            return None
        except (dns.dnssec.ValidationFailure, dns.dnssec.UnsupportedAlgorithm) as exc:
            failures.append((rrsig, str(exc)))
    # Report the most telling failure: a period problem or a bad signature beats an unknown key tag.
    for code, message in (("signature_expired", "expired"), ("signature_not_yet_valid", "not yet valid"),
                          ("signature_invalid", "verify failure")):
        for rrsig, failure in failures:
            if failure == message:
                return {"code": code, "rrset": label, "key_tag": rrsig.key_tag, "signer": show(rrsig.signer),
                        "inception": _utc(rrsig.inception), "expiration": _utc(rrsig.expiration)}
    rrsig, failure = failures[0]
    return {"code": "unknown_key" if failure == "unknown key" else "signature_invalid", "rrset": label,
            "key_tag": rrsig.key_tag, "signer": show(rrsig.signer), "detail": failure}


def keys_matching_ds(zone: dns.name.Name, ds_rrset, dnskeys) -> list:
    """The DNSKEYs of `zone` that one of the DS records points at."""
    matched = []
    for key in dnskeys:
        for ds in ds_rrset:
            try:
                if dns.dnssec.make_ds(zone, key, ds.digest_type, policy=dns.dnssec.allow_all_policy) == ds:
                    matched.append(key)
                    break
            except (dns.dnssec.UnsupportedAlgorithm, dns.dnssec.DeniedByPolicy, ValueError):
                continue
    return matched


def ds_snippet(zone: dns.name.Name, dnskeys) -> list[str]:
    """DS records (SHA-256) for the zone's key-signing keys, in zone-file syntax: what goes to the parent."""
    lines = []
    for key in dnskeys or []:
        if key.flags & dns.dnssec.Flag.SEP:
            ds = dns.dnssec.make_ds(zone, key, "SHA256")
            lines.append(f"{zone.to_text()} 3600 IN DS {ds.to_text()}")
    return lines


def _key_summary(dnskeys) -> list[dict]:
    return [{"key_tag": dns.dnssec.key_id(k), "flags": k.flags, "algorithm": int(k.algorithm)} for k in dnskeys]


async def walk_chain(ctx: ProbeContext, cuts: list[dns.name.Name], tally: QueryTally,
                     now: float) -> tuple[list[dict], dict | None, dict]:
    """Check each zone cut from the trust anchor down. Returns the steps (for people), the first problem
    (None when the chain holds) and the validated DNSKEY sets by zone (for the records below)."""
    anchor = read_trust_anchor(ctx.settings.dns.trust_anchor_path)
    steps: list[dict] = []
    trusted: dict = {}
    for position, zone in enumerate(cuts):
        step: dict = {"zone": show(zone)}
        steps.append(step)
        parent = cuts[position - 1] if position else None
        keys_response, ds_response = await asyncio.gather(
            ctx.resolver.query(zone, "DNSKEY", dnssec=True, cd=True, tally=tally),
            ctx.resolver.query(zone, "DS", dnssec=True, cd=True, tally=tally) if parent else _none())
        for response in (keys_response, ds_response):
            if response is not None and response.rcode() not in ANSWERED:
                raise ProbeError(Reason.DNS, f"{zone}: resolver answered {dns.rcode.to_text(response.rcode())} "
                                             "with checking disabled")
        if parent is None:
            ds_rrset = anchor
            step["trust_anchor"] = str(ctx.settings.dns.trust_anchor_path)
        else:
            ds_rrset = _find(ds_response.answer, zone, dns.rdatatype.DS)
            if ds_rrset is None:
                step["ds"] = []
                return steps, _problem(step, "no_ds", zone, parent), trusted
            problem = signature_problem(ds_rrset, _find(ds_response.answer, zone, dns.rdatatype.RRSIG,
                                                        dns.rdatatype.DS), trusted, now)
            if problem:
                return steps, _problem(step, problem.pop("code"), zone, parent, **problem), trusted
        step["ds"] = [ds.to_text() for ds in ds_rrset] if ds_rrset.rdtype == dns.rdatatype.DS else []
        dnskeys = _find(keys_response.answer, zone, dns.rdatatype.DNSKEY)
        if dnskeys is None:
            return steps, _problem(step, "dnskey_missing", zone, parent), trusted
        step["dnskeys"] = _key_summary(dnskeys)
        if ds_rrset.rdtype == dns.rdatatype.DNSKEY:
            anchored = [k for k in dnskeys if k in ds_rrset]
        else:
            anchored = keys_matching_ds(zone, ds_rrset, dnskeys)
        if not anchored:
            code = "anchor_mismatch" if parent is None else "ds_matches_no_dnskey"
            return steps, _problem(step, code, zone, parent, ds_snippet=ds_snippet(zone, dnskeys)), trusted
        anchored_set = dns.rrset.from_rdata_list(zone, dnskeys.ttl, anchored)
        problem = signature_problem(dnskeys, _find(keys_response.answer, zone, dns.rdatatype.RRSIG,
                                                   dns.rdatatype.DNSKEY), {zone: anchored_set}, now)
        if problem:
            return steps, _problem(step, problem.pop("code"), zone, parent, **problem), trusted
        trusted[zone] = dnskeys
    return steps, None, trusted


async def _none():
    return None


def _problem(step: dict, code: str, zone, parent, **details) -> dict:
    problem = {"code": code, "zone": show(zone), "parent": show(parent) if parent else None, **details}
    step["problem"] = code
    return problem


def records_problem(responses: list[dns.message.Message], zone: dns.name.Name, trusted: dict,
                    now: float) -> dict | None:
    """The first RRset of the zone in these answers (answer section, and the SOA/NSEC/NSEC3 that prove a
    negative answer) whose signatures do not hold with the zone's validated keys."""
    for response in responses:
        for section in (response.answer, response.authority):
            for rrset in section:
                if rrset.rdtype == dns.rdatatype.RRSIG or not rrset.name.is_subdomain(zone):
                    continue
                if section is response.authority and rrset.rdtype not in SIGNED_AUTHORITY_TYPES:
                    continue
                sigs = _find(section, rrset.name, dns.rdatatype.RRSIG, rrset.rdtype)
                if sigs is not None and all(s.signer != zone for s in sigs):
                    continue  # signed by a zone below (a CNAME target further down): not this zone's records
                problem = signature_problem(rrset, sigs, trusted, now)
                if problem:
                    return {"zone": show(zone), **problem}
    return None


def worst_state(states) -> str:
    states = set(states)
    return BOGUS if BOGUS in states else INSECURE if INSECURE in states else SECURE


async def examine(ctx: ProbeContext, name: str, rdtypes: tuple[str, ...], tally: QueryTally) -> dict:
    """The DNSSEC facts of `name`'s records of these types: the resolver's state, the zone, the chain walk
    and the first problem found. Shared by the site's zone check and TLSA (DANE)."""
    qname = dns.name.from_text(name)
    lookups = await asyncio.gather(*(lookup(ctx, qname, t, tally) for t in rdtypes))
    state = worst_state(item.state for item in lookups)
    zone = await zone_of(ctx, qname, tally)
    cuts = await zone_cuts(ctx, zone, tally)
    now = time.time()
    steps, problem, trusted = await walk_chain(ctx, cuts, tally, now)
    if problem is None:
        problem = records_problem([item.response for item in lookups], zone, trusted, now)
    ede = [e for item in lookups for e in item.ede]
    facts = {"name": name, "types": list(rdtypes), "state": state, "zone": show(zone),
             "chain": steps, "problem": problem, "ede": ede}
    _guard(facts)
    return facts


def _guard(facts: dict) -> None:
    """Refuse a state the walk from the configured anchor contradicts: the resolver would be misconfigured."""
    problem = facts["problem"]
    state = facts["state"]
    if state == SECURE and problem is not None:
        raise ProbeError(Reason.DNS, f"the resolver calls {facts['name']} secure, but from the configured trust "
                                     f"anchor: {problem['code']} at {problem['zone']}")
    if state == INSECURE and problem is None:
        raise ProbeError(Reason.DNS, f"{facts['name']} validates from the configured trust anchor, but the "
                                     "resolver does not set AD: it does not validate DNSSEC")


class DnssecProbe(Probe):
    """The host's zone: DNSSEC state of its address records, with the chain walk."""

    name = "dnssec"
    version = 1

    async def collect(self, ctx: ProbeContext, site: Site, address, prior) -> dict:
        tally = QueryTally()
        facts = await examine(ctx, site.host, ("A", "AAAA"), tally)
        zone = dns.name.from_text(facts["zone"])  # "." or a name without its final dot: both absolute
        dnskeys = await ctx.resolver.query(zone, "DNSKEY", dnssec=True, cd=True, tally=tally)
        facts["ds_snippet"] = ds_snippet(zone, _find(dnskeys.answer, zone, dns.rdatatype.DNSKEY))
        facts["queries"] = tally.to_dict()
        return facts
