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
The first problem found names the zone cut and what is wrong. Each step records the algorithms it saw (of
the DNSKEYs, of the RRSIGs over them, the DS records as text) for the checks to judge against RFC 8624. The walk also guards the verdict: when the
resolver's state and the walk disagree (the resolver does not validate, or uses another anchor) the probe
reports a `dns` error instead of a state it cannot stand behind.

Cost: the resolver caches per run, so the root and the TLDs are fetched once per run; a site costs its
own SOA, DS and DNSKEY lookups plus the A/AAAA that the `dns` probe already asked. The artifact carries
the count (`queries`).

Bounds (issue 15; KeyTrap, CVE-2023-50387). The zone decides how much signature work its answers ask for:
tried naively, every RRSIG against every DNSKEY that shares its key tag, 80 colliding RSA keys with huge
exponents and 150 RRSIGs cost minutes of CPU. So the work is the scanner's to bound, per probe of one site
(`Validator`, the `[dns]` settings): a response with more than `max_answer_records` records is not looked
at; at most `max_signatures_per_rrset` RRSIGs are tried per RRset and `max_keys_per_key_tag` DNSKEYs per
RRSIG or DS record; at most `max_verifications` signature verifications in all; an RSA key whose public
exponent is longer than `max_rsa_exponent_bits` or whose modulus is longer than `max_rsa_modulus_bits` is
never used, so one verification costs well under a millisecond. A bound that is hit ends the check of that
RRset with the problem `validation_limit`, naming the setting, its value and what the zone had; a refused
key is the problem `key_refused`. Validating resolvers refuse such zones too (bogus), so a limit agrees
with a bogus state; with a secure or insecure one the probe reports a `dns` error instead of a verdict.
Validation runs in a worker thread, off the event loop, and stops with a `timeout` error at the probe's
deadline (checked before every verification), so the runner's timeout also ends the work.
"""
from __future__ import annotations

import asyncio
import threading
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
from scanner.config import DnsSettings
from scanner.resolver import QueryTally

SECURE, INSECURE, BOGUS = "secure", "insecure", "bogus"
ANSWERED = (dns.rcode.NOERROR, dns.rcode.NXDOMAIN)
SIGNED_AUTHORITY_TYPES = (dns.rdatatype.SOA, dns.rdatatype.NSEC, dns.rdatatype.NSEC3)
RSA_ALGORITHMS = (dns.dnssec.Algorithm.RSAMD5, dns.dnssec.Algorithm.RSASHA1, dns.dnssec.Algorithm.RSASHA1NSEC3SHA1,
                  dns.dnssec.Algorithm.RSASHA256, dns.dnssec.Algorithm.RSASHA512)


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


def rsa_key_bits(key) -> tuple[int, int]:
    """(exponent bits, modulus bits) of an RSA DNSKEY, from its RFC 3110 encoding: a one-byte exponent
    length, or a zero byte and a two-byte length, then the exponent, then the modulus."""
    data = key.key
    length, start = (int.from_bytes(data[1:3], "big"), 3) if data[:1] == b"\0" else (data[0] if data else 0, 1)
    exponent = int.from_bytes(data[start:start + length], "big")
    return exponent.bit_length(), int.from_bytes(data[start + length:], "big").bit_length()


def _limit(setting: str, limit: int, found: int, **more) -> dict:
    return {"setting": f"dns.{setting}", "limit": limit, "found": found, **more}


class Validator:
    """The signature work of one probe for one site, within the `[dns]` bounds and before `deadline`
    (time.monotonic()). Its methods block: call them off the event loop. Probes that validate several
    names side by side (mail) share one Validator, hence the lock around the count."""

    def __init__(self, settings: DnsSettings, deadline: float):
        self.settings = settings
        self.deadline = deadline
        self.verifications = 0
        self._lock = threading.Lock()
        self._tags: dict[int, tuple] = {}  # id(DNSKEY set) -> (the set, its keys by (algorithm, key tag))

    def too_large(self, response: dns.message.Message | None) -> dict | None:
        """The limit a response exceeds, if it has more records than validation may look at."""
        if response is None:
            return None
        found = sum(len(rrset) for rrset in response.answer + response.authority)
        limit = self.settings.max_answer_records
        return _limit("max_answer_records", limit, found, response=f"{show(response.question[0].name)} "
                      f"{dns.rdatatype.to_text(response.question[0].rdtype)}") if found > limit else None

    def refusal(self, key) -> str | None:
        """Why this DNSKEY is never used (a verification with it could cost seconds), or None."""
        if key.algorithm not in RSA_ALGORITHMS:
            return None
        exponent, modulus = rsa_key_bits(key)
        for bits, part, setting in ((exponent, "exponent", "max_rsa_exponent_bits"),
                                    (modulus, "modulus", "max_rsa_modulus_bits")):
            limit = getattr(self.settings, setting)
            if bits > limit:
                return f"RSA {part} of {bits} bits (dns.{setting} = {limit})"
        return None

    def keys_with_tag(self, keyset, algorithm: int, key_tag: int, limits: list[dict]) -> list:
        """The zone keys of `keyset` with this algorithm and key tag, at most `max_keys_per_key_tag` of them
        (a limit hit is added to `limits`). Key tags are computed once per DNSKEY set."""
        known = self._tags.get(id(keyset))
        if known is None or known[0] is not keyset:
            by_tag: dict[tuple[int, int], list] = {}
            for key in keyset:
                if key.flags & dns.dnssec.Flag.ZONE and key.protocol == 3:  # RFC 4034 2.1.1, 2.1.2
                    by_tag.setdefault((int(key.algorithm), dns.dnssec.key_id(key)), []).append(key)
            known = self._tags[id(keyset)] = (keyset, by_tag)
        keys = known[1].get((int(algorithm), key_tag), [])
        cap = self.settings.max_keys_per_key_tag
        if len(keys) > cap:
            limits.append(_limit("max_keys_per_key_tag", cap, len(keys), key_tag=key_tag))
        return keys[:cap]

    def spend(self) -> bool:
        """Count one signature verification; False when the budget is spent. Past the deadline the work
        stops with a timeout error."""
        if time.monotonic() > self.deadline:
            raise ProbeError(Reason.TIMEOUT, f"DNSSEC validation stopped at the probe's deadline after "
                                             f"{self.verifications} signature verifications")
        with self._lock:
            if self.verifications >= self.settings.max_verifications:
                return False
            self.verifications += 1
            return True

    def verify(self, rrset, rrsig, keys: dict, now: float, limits: list[dict]) -> str | None:
        """Why `rrsig` does not validate `rrset` with `keys` (name -> DNSKEY RRset), or None when it does.
        The validity period is checked first, so an expired signature costs no verification."""
        keyset = keys.get(rrsig.signer)
        if keyset is None:
            return "unknown key"
        if rrsig.expiration < now:
            return "expired"
        if rrsig.inception > now:
            return "not yet valid"
        failure = "verify failure"
        for key in self.keys_with_tag(keyset, rrsig.algorithm, rrsig.key_tag, limits):
            refused = self.refusal(key)
            if refused:
                failure = f"refused: {refused}"
                continue
            if not self.spend():
                limits.append(_limit("max_verifications", self.settings.max_verifications, self.verifications))
                return "limit"
            try:
                dns.dnssec.validate_rrsig(rrset, rrsig, {rrsig.signer: dns.rrset.from_rdata_list(
                    rrsig.signer, keyset.ttl, [key])}, now=now)
                return None
            except dns.dnssec.ValidationFailure as exc:
                failure = str(exc)
            except dns.dnssec.UnsupportedAlgorithm as exc:
                failure = f"unsupported algorithm: {exc}"
        return failure

    def signature_problem(self, rrset, rrsigs, keys: dict, now: float) -> dict | None:
        """Why no RRSIG of `rrset` validates with `keys` (name -> DNSKEY RRset), or None when one does."""
        label = f"{show(rrset.name)} {dns.rdatatype.to_text(rrset.rdtype)}"
        if not rrsigs:
            return {"code": "rrsig_missing", "rrset": label}
        limits: list[dict] = []
        cap = self.settings.max_signatures_per_rrset
        if len(rrsigs) > cap:
            limits.append(_limit("max_signatures_per_rrset", cap, len(rrsigs)))
        failures = []
        for rrsig in list(rrsigs)[:cap]:
            failure = self.verify(rrset, rrsig, keys, now, limits)
            if failure is None:
                return None
            failures.append((rrsig, failure))
            if failure == "limit":
                break
        if limits:  # a signature left untried might have held: say which bound stopped the check
            return {"code": "validation_limit", "rrset": label, "limits": _unique(limits)}
        # Report the most telling failure: a period problem or a bad signature beats an unknown key tag.
        for code, message in (("signature_expired", "expired"), ("signature_not_yet_valid", "not yet valid"),
                              ("signature_invalid", "verify failure"), ("key_refused", "refused")):
            for rrsig, failure in failures:
                if failure.startswith(message):
                    found = {"code": code, "rrset": label, "key_tag": rrsig.key_tag, "signer": show(rrsig.signer),
                             "inception": _utc(rrsig.inception), "expiration": _utc(rrsig.expiration)}
                    return found | ({"detail": failure.removeprefix("refused: ")} if code == "key_refused" else {})
        rrsig, failure = failures[0]
        return {"code": "unknown_key" if failure == "unknown key" else "signature_invalid", "rrset": label,
                "key_tag": rrsig.key_tag, "signer": show(rrsig.signer), "detail": failure}

    def keys_matching_ds(self, zone: dns.name.Name, ds_rrset, dnskeys, limits: list[dict]) -> list:
        """The DNSKEYs of `zone` that one of the DS records points at (same algorithm, key tag and digest)."""
        matched = []
        for ds in ds_rrset:
            for key in self.keys_with_tag(dnskeys, ds.algorithm, ds.key_tag, limits):
                try:
                    if key not in matched and dns.dnssec.make_ds(zone, key, ds.digest_type,
                                                                 policy=dns.dnssec.allow_all_policy) == ds:
                        matched.append(key)
                except (dns.dnssec.UnsupportedAlgorithm, dns.dnssec.DeniedByPolicy, ValueError):
                    continue
        return matched


def _unique(limits: list[dict]) -> list[dict]:
    """Each limit once (the same collision can be met by every signature tried)."""
    return [dict(t) for t in dict.fromkeys(tuple(limit.items()) for limit in limits)]


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


async def walk_chain(ctx: ProbeContext, cuts: list[dns.name.Name], tally: QueryTally, now: float,
                     validator: Validator) -> tuple[list[dict], dict | None, dict]:
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
            step["trust_anchor"] = str(ctx.settings.dns.trust_anchor_path)
        problem = await asyncio.to_thread(check_cut, validator, step, zone, parent, anchor, keys_response,
                                          ds_response, trusted, now)
        if problem:
            return steps, problem, trusted
    return steps, None, trusted


def check_cut(validator: Validator, step: dict, zone: dns.name.Name, parent, anchor, keys_response,
              ds_response, trusted: dict, now: float) -> dict | None:
    """One zone cut: the DS set (the anchor at the root) signed by the parent, a DNSKEY it points at, the
    DNSKEY set signed by that key. Fills in `step`, adds the zone's keys to `trusted`; the problem or None."""
    oversized = [limit for limit in map(validator.too_large, (keys_response, ds_response)) if limit]
    if oversized:
        return _problem(step, "validation_limit", zone, parent, limits=oversized)
    if parent is None:
        ds_rrset = anchor
    else:
        ds_rrset = _find(ds_response.answer, zone, dns.rdatatype.DS)
        if ds_rrset is None:
            step["ds"] = []
            return _problem(step, "no_ds", zone, parent)
        problem = validator.signature_problem(ds_rrset, _find(ds_response.answer, zone, dns.rdatatype.RRSIG,
                                                              dns.rdatatype.DS), trusted, now)
        if problem:
            return _problem(step, problem.pop("code"), zone, parent, **problem)
    step["ds"] = [ds.to_text() for ds in ds_rrset] if ds_rrset.rdtype == dns.rdatatype.DS else []
    dnskeys = _find(keys_response.answer, zone, dns.rdatatype.DNSKEY)
    if dnskeys is None:
        return _problem(step, "dnskey_missing", zone, parent)
    step["dnskeys"] = _key_summary(dnskeys)
    key_rrsigs = _find(keys_response.answer, zone, dns.rdatatype.RRSIG, dns.rdatatype.DNSKEY)
    step["rrsig_algorithms"] = sorted({int(rrsig.algorithm) for rrsig in key_rrsigs or []})
    limits: list[dict] = []
    if ds_rrset.rdtype == dns.rdatatype.DNSKEY:
        anchored = [k for k in dnskeys if k in ds_rrset]
    else:
        anchored = validator.keys_matching_ds(zone, ds_rrset, dnskeys, limits)
    if not anchored:
        if limits:
            return _problem(step, "validation_limit", zone, parent, rrset=f"{show(zone)} DS", limits=_unique(limits))
        code = "anchor_mismatch" if parent is None else "ds_matches_no_dnskey"
        return _problem(step, code, zone, parent, ds_snippet=ds_snippet(zone, dnskeys))
    anchored_set = dns.rrset.from_rdata_list(zone, dnskeys.ttl, anchored)
    problem = validator.signature_problem(dnskeys, key_rrsigs, {zone: anchored_set}, now)
    if problem:
        return _problem(step, problem.pop("code"), zone, parent, **problem)
    trusted[zone] = dnskeys
    return None


async def _none():
    return None


def _problem(step: dict, code: str, zone, parent, **details) -> dict:
    problem = {"code": code, "zone": show(zone), "parent": show(parent) if parent else None, **details}
    step["problem"] = code
    return problem


def records_problem(validator: Validator, responses: list[dns.message.Message], zone: dns.name.Name,
                    trusted: dict, now: float) -> dict | None:
    """The first RRset of the zone in these answers (answer section, and the SOA/NSEC/NSEC3 that prove a
    negative answer) whose signatures do not hold with the zone's validated keys."""
    for response in responses:
        oversized = validator.too_large(response)
        if oversized:
            return {"zone": show(zone), "code": "validation_limit", "limits": [oversized]}
        for section in (response.answer, response.authority):
            for rrset in section:
                if rrset.rdtype == dns.rdatatype.RRSIG or not rrset.name.is_subdomain(zone):
                    continue
                if section is response.authority and rrset.rdtype not in SIGNED_AUTHORITY_TYPES:
                    continue
                sigs = _find(section, rrset.name, dns.rdatatype.RRSIG, rrset.rdtype)
                if sigs is not None and all(s.signer != zone for s in sigs):
                    continue  # signed by a zone below (a CNAME target further down): not this zone's records
                problem = validator.signature_problem(rrset, sigs, trusted, now)
                if problem:
                    return {"zone": show(zone), **problem}
    return None


def worst_state(states) -> str:
    states = set(states)
    return BOGUS if BOGUS in states else INSECURE if INSECURE in states else SECURE


async def examine(ctx: ProbeContext, name: str, rdtypes: tuple[str, ...], tally: QueryTally,
                  validator: Validator) -> dict:
    """The DNSSEC facts of `name`'s records of these types: the resolver's state, the zone, the chain walk
    and the first problem found. Shared by the site's zone check, TLSA (DANE) and mail."""
    qname = dns.name.from_text(name)
    lookups = await asyncio.gather(*(lookup(ctx, qname, t, tally) for t in rdtypes))
    state = worst_state(item.state for item in lookups)
    zone = await zone_of(ctx, qname, tally)
    cuts = await zone_cuts(ctx, zone, tally)
    now = time.time()
    steps, problem, trusted = await walk_chain(ctx, cuts, tally, now, validator)
    if problem is None:
        problem = await asyncio.to_thread(records_problem, validator, [item.response for item in lookups], zone,
                                          trusted, now)
    ede = [e for item in lookups for e in item.ede]
    facts = {"name": name, "types": list(rdtypes), "state": state, "zone": show(zone),
             "chain": steps, "problem": problem, "ede": ede}
    _guard(facts)
    return facts


def _guard(facts: dict) -> None:
    """Refuse a state the walk from the configured anchor contradicts: the resolver would be misconfigured.
    A walk stopped by the scanner's bounds explains a bogus state only: with any other it proves nothing."""
    problem = facts["problem"]
    state = facts["state"]
    if problem is not None and problem["code"] == "validation_limit" and state != BOGUS:
        limits = ", ".join(f"{limit['found']} > {limit['setting']} = {limit['limit']}" for limit in problem["limits"])
        raise ProbeError(Reason.DNS, f"the resolver calls {facts['name']} {state}, but checking it from the "
                                     f"configured trust anchor stopped at the scanner's limits ({limits}) at "
                                     f"{problem['zone']}")
    if state == SECURE and problem is not None:
        raise ProbeError(Reason.DNS, f"the resolver calls {facts['name']} secure, but from the configured trust "
                                     f"anchor: {problem['code']} at {problem['zone']}")
    if state == INSECURE and problem is None:
        raise ProbeError(Reason.DNS, f"{facts['name']} validates from the configured trust anchor, but the "
                                     "resolver does not set AD: it does not validate DNSSEC")


class DnssecProbe(Probe):
    """The host's zone: DNSSEC state of its address records, with the chain walk."""

    name = "dnssec"
    version = 2  # 2: each chain step names the algorithms of the signatures over its DNSKEY set

    async def collect(self, ctx: ProbeContext, site: Site, address, prior) -> dict:
        tally = QueryTally()
        validator = Validator(ctx.settings.dns, time.monotonic() + self.timeout(ctx.settings))
        facts = await examine(ctx, site.host, ("A", "AAAA"), tally, validator)
        zone = dns.name.from_text(facts["zone"])  # "." or a name without its final dot: both absolute
        dnskeys = await ctx.resolver.query(zone, "DNSKEY", dnssec=True, cd=True, tally=tally)
        facts["ds_snippet"] = ds_snippet(zone, _find(dnskeys.answer, zone, dns.rdatatype.DNSKEY))
        facts["queries"] = tally.to_dict()
        facts["verifications"] = validator.verifications
        return facts
