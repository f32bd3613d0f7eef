"""The mail probe: the facts of a site's mail domain for the mail checks (shared/spec/checks.md, "Mail").

The mail domain is the zone that holds the site's host (`www.noordstad.nl` -> `noordstad.nl`): where its
MX, SPF, DMARC and DKIM records live. Collected here, in one site-level probe because the targets (the MX
hosts and their addresses) are not the site's own addresses:

- SPF: the `v=spf1` TXT records, and for a single one its terms, the DNS lookups it costs (includes and
  redirects followed, RFC 7208 section 4.6.4) and the `all` it ends with;
- DMARC: the `v=DMARC1` records at `_dmarc.<domain>`, else at the registrable domain (the last two
  labels, as an approximation of the organisational domain without a public-suffix list), and `p`;
- DKIM: whether `_domainkey.<domain>` exists (NOERROR) or not (NXDOMAIN);
- DNSSEC of the domain's MX records and of every MX host's addresses;
- per MX host: its addresses, the TLSA records at `_25._tcp.<mx>`, and per address the SMTP greeting
  (banner, EHLO, STARTTLS offered, the chain served after STARTTLS) and the full TLS evaluation over
  STARTTLS (scanner/probes/tls.py); an MX address the address policy refuses (scanner/addresses.py) is
  not connected to and has the error `refused_address` instead.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

import dns.name
import dns.rcode

from govscan.model import Reason, Site
from scanner.probes.base import Probe, ProbeContext, ProbeError
from scanner.probes.dns_records import addresses_in, answer_records, resolved, tlsa_facts
from scanner.probes.dnssec import Validator, examine, show, zone_of
from scanner.probes.tls import Endpoint, Evaluation, SmtpLimits, smtp_greeting
from scanner.resolver import QueryTally

SMTP_PORT = 25
# Seconds per SMTP reply: more than for HTTP, as anti-spam front ends (Postfix postscreen) hold back their
# banner for about 6 s from a client they have not seen before. Every reply also ends by the probe's
# deadline and is capped in lines and bytes (scanner/probes/tls.py, "Deadlines").
SMTP_TIMEOUT_FACTOR = 2
# RFC 7208 section 4.6.4: the terms that cost a DNS lookup, at most 10 per evaluation.
SPF_LOOKUP_TERMS = ("include", "a", "mx", "ptr", "exists", "redirect")
SPF_MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
SPF_MAX_DEPTH = 10  # includes within includes; deeper is a loop or abuse


async def txt_strings(ctx: ProbeContext, name: str, tally: QueryTally) -> tuple[str, list[str]]:
    """The rcode and the TXT strings at `name` (each record's character strings joined)."""
    response = await resolved(ctx, dns.name.from_text(name), "TXT", tally)
    texts = [b"".join(rdata.strings).decode("utf-8", "replace")
             for rrset in answer_records(response, "TXT") for rdata in rrset]
    return dns.rcode.to_text(response.rcode()), texts


def spf_records(texts: list[str]) -> list[str]:
    return [t for t in texts if t.lower() == "v=spf1" or t.lower().startswith("v=spf1 ")]


def spf_term(term: str) -> tuple[str, str, str, bool]:
    """(qualifier, name, value, is modifier) of one SPF term: `-all`, `include:x`, `ip4:1.2.3.0/24`, `a/24`,
    `redirect=x` (RFC 7208 section 12)."""
    qualifier, body = (term[0], term[1:]) if term[0] in "+-~?" else ("+", term)
    end = min((i for i in (body.find(":"), body.find("/"), body.find("=")) if i >= 0), default=len(body))
    separator = body[end:end + 1]
    return qualifier, body[:end].lower(), body[end + 1:] if separator in (":", "=") else "", separator == "="


async def spf_evaluation(ctx: ProbeContext, record: str, tally: QueryTally, depth: int = 0,
                         seen: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Lookups (counting those of included and redirected records), errors and the final `all`."""
    facts: dict[str, Any] = {"lookups": 0, "errors": [], "all": None, "included": {}}
    redirect = None
    for term in record.split()[1:]:
        qualifier, name, value, modifier = spf_term(term)
        if modifier:  # redirect=, exp= or an unknown modifier (allowed)
            if name == "redirect":
                facts["lookups"] += 1
                redirect = value
        elif name not in SPF_MECHANISMS:
            facts["errors"].append(f"unknown mechanism '{term}'")
        else:
            facts["lookups"] += name in SPF_LOOKUP_TERMS
            if name == "all":
                facts["all"] = qualifier + "all"
            elif name == "include":
                await _follow(ctx, value, facts, tally, depth, seen, term)
    if redirect and facts["all"] is None:  # RFC 7208 section 6.1: redirect applies only without an `all`
        target = await _follow(ctx, redirect, facts, tally, depth, seen, f"redirect={redirect}")
        if target is not None:
            facts["all"] = target["all"]
    return facts


async def _follow(ctx, domain: str, facts: dict, tally: QueryTally, depth: int, seen: frozenset[str],
                  term: str) -> dict | None:
    """Evaluate the SPF record of an include or redirect target into `facts`; the target's facts, or None."""
    domain = domain.lower().rstrip(".")
    if not domain:
        facts["errors"].append(f"'{term}' names no domain")
        return None
    if domain in seen or depth >= SPF_MAX_DEPTH:
        facts["errors"].append(f"'{term}' loops or nests too deep")
        return None
    _, texts = await txt_strings(ctx, domain, tally)
    records = spf_records(texts)
    if len(records) != 1:
        facts["errors"].append(f"'{term}': {domain} has {len(records)} SPF records, not one")
        return None
    target = await spf_evaluation(ctx, records[0], tally, depth + 1, seen | {domain})
    facts["lookups"] += target["lookups"]
    facts["errors"] += target["errors"]
    facts["included"][domain] = records[0]
    facts["included"].update(target["included"])
    return target


async def spf_facts(ctx: ProbeContext, domain: str, tally: QueryTally) -> dict[str, Any]:
    _, texts = await txt_strings(ctx, domain, tally)
    records = spf_records(texts)
    facts: dict[str, Any] = {"records": records}
    if len(records) == 1:
        facts.update(await spf_evaluation(ctx, records[0], tally, seen=frozenset({domain})))
    return facts


def registrable_domain(domain: str) -> str:
    labels = domain.split(".")
    return ".".join(labels[-2:])


async def dmarc_facts(ctx: ProbeContext, domain: str, tally: QueryTally) -> dict[str, Any]:
    """The DMARC records at the domain, or else at its registrable domain, with the policy `p`."""
    for where in dict.fromkeys((domain, registrable_domain(domain))):
        name = f"_dmarc.{where}"
        _, texts = await txt_strings(ctx, name, tally)
        records = [t for t in texts if t.replace(" ", "").lower().startswith("v=dmarc1")]
        if records:
            break
    tags = {}
    if len(records) == 1:
        for tag in records[0].split(";")[1:]:
            key, _, value = tag.partition("=")
            tags.setdefault(key.strip().lower(), value.strip().lower())
    return {"name": name, "records": records, "policy": tags.get("p")}


def dnssec_summary(examined: dict) -> dict:
    """What the mail checks need of `examine`'s facts: the state, the zone, the first problem."""
    return {key: examined[key] for key in ("state", "zone", "problem")}


class MailProbe(Probe):
    name = "mail"
    version = 1

    def __init__(self, port: int = SMTP_PORT):
        self.port = port  # another port only in tests, where the servers are not privileged
        self.sessions: dict[tuple[str, str], asyncio.Task] = {}

    async def setup(self, ctx: ProbeContext) -> None:
        # One evaluation per MX address and run: sites of one domain, and domains of one mail provider,
        # share their MX hosts, and a mail server should not see dozens of handshakes per site.
        self.sessions = {}

    def timeout(self, settings) -> float:
        # TLS evaluations of the MX addresses run side by side, each dozens of handshakes.
        return 3 * settings.scan.probe_timeout

    async def collect(self, ctx: ProbeContext, site: Site, address, prior) -> dict:
        tally = QueryTally()
        validator = Validator(ctx.settings.dns, time.monotonic() + self.timeout(ctx.settings))
        domain = show(await zone_of(ctx, dns.name.from_text(site.host), tally))
        mx = await resolved(ctx, dns.name.from_text(domain), "MX", tally)
        exchanges = sorted({(r.preference, show(r.exchange)) for rrset in answer_records(mx, "MX") for r in rrset})
        null_mx = [host for _, host in exchanges] == ["."]
        dkim_rcode, _ = await txt_strings(ctx, f"_domainkey.{domain}", tally)
        spf, dmarc, dnssec = await asyncio.gather(spf_facts(ctx, domain, tally), dmarc_facts(ctx, domain, tally),
                                                  examine(ctx, domain, ("MX",), tally, validator))
        hosts = [] if null_mx else list(dict.fromkeys(host for _, host in exchanges))
        deadline = time.monotonic() + self.timeout(ctx.settings) - ctx.settings.scan.connect_timeout
        mx_facts = await asyncio.gather(*(self.mx_host(ctx, host, tally, validator, deadline) for host in hosts))
        return {"domain": domain, "mx": [{"preference": p, "host": h} for p, h in exchanges],
                "null_mx": null_mx,
                "spf": spf, "dmarc": dmarc, "dkim": {"name": f"_domainkey.{domain}", "rcode": dkim_rcode},
                "dnssec": dnssec_summary(dnssec), "mx_hosts": mx_facts, "queries": tally.to_dict()}

    async def mx_host(self, ctx: ProbeContext, host: str, tally: QueryTally, validator: Validator,
                      deadline: float) -> dict:
        name = dns.name.from_text(host)
        a, aaaa = await asyncio.gather(resolved(ctx, name, "A", tally), resolved(ctx, name, "AAAA", tally))
        ipv4, ipv6 = addresses_in(a, "A"), addresses_in(aaaa, "AAAA")
        dnssec, tlsa = await asyncio.gather(examine(ctx, host, ("A", "AAAA"), tally, validator),
                                            tlsa_facts(ctx, f"_25._tcp.{host}", tally, validator))
        addresses = ipv4 + ipv6
        sessions = await asyncio.gather(*(self.mx_address(ctx, host, addr, deadline) for addr in addresses))
        return {"host": host, "ipv4": ipv4, "ipv6": ipv6,
                "dnssec": dnssec_summary(dnssec), "tlsa": tlsa, "addresses": dict(zip(addresses, sessions))}

    async def mx_address(self, ctx: ProbeContext, host: str, address: str, deadline: float) -> dict:
        """The facts of one MX address, measured once per run (shielded: a site whose probe times out does
        not cancel the measurement another site waits for)."""
        key = (host, address)
        if key not in self.sessions:
            self.sessions[key] = asyncio.ensure_future(self.measure(ctx, host, address, deadline))
        return await asyncio.shield(self.sessions[key])

    async def measure(self, ctx: ProbeContext, host: str, address: str, deadline: float) -> dict:
        """The SMTP session and the TLS evaluation over STARTTLS of one MX address, or why not."""
        if ":" in address and not ctx.run_facts.get("ipv6", True):
            return {"error": Reason.NO_IPV6, "detail": "this scanner has no IPv6 connectivity"}
        settings = ctx.settings
        timeout = SMTP_TIMEOUT_FACTOR * settings.scan.connect_timeout
        async with ctx.limit(address):
            try:
                ctx.address_policy.check(address)
                limits = SmtpLimits.of(settings.scan)
                session = await ctx.in_thread(smtp_greeting, address, self.port, timeout, deadline, limits, host)
                if session["starttls"]:
                    endpoint = Endpoint(host, address, timeout, deadline, self.port, smtp=limits)
                    evaluation = Evaluation(endpoint, settings.trust.ca_bundle_path, settings.scan.user_agent)
                    session["tls"] = await ctx.in_thread(evaluation.run)
                    ctx.counters.add("tls_handshakes", session["tls"]["handshakes"])
            except ProbeError as exc:
                return {"error": exc.reason, "detail": exc.detail}
        return session
