"""The mail probe: the facts of a site's mail domain for the mail checks (shared/spec/checks.md, "Mail").

The mail domain is the zone that holds the site's host (`www.noordstad.nl` -> `noordstad.nl`): where its
MX, SPF, DMARC and DKIM records live. Collected here, in one site-level probe because the targets (the MX
hosts and their addresses) are not the site's own addresses:

- SPF: every DNS answer the domain's SPF evaluation needs (checks/spf.py drives the queries: the records,
  includes and redirects followed, the a, mx and exists lookups), bounded by RFC 7208's own limits and
  `scan.spf_timeout`; mail.spf evaluates them again;
- DMARC: the TXT records at `_dmarc.<domain>` and at `_dmarc.<organisational domain>` (the public suffix
  list's registrable domain: `x.gov.nl` for `www.x.gov.nl`); mail.dmarc decides which applies;
- DKIM: whether `_domainkey.<domain>` exists (NOERROR) or not (NXDOMAIN);
- DNSSEC of the domain's MX records and of every MX host's addresses (one `Validator` for the whole probe:
  its `[dns]` bounds on signature work hold for the site, scanner/probes/dnssec.py);
- per MX host: its addresses, the TLSA records at `_25._tcp.<mx>`, and per address the SMTP greeting
  (banner, EHLO, STARTTLS offered, the chain served after STARTTLS) and the full TLS evaluation over
  STARTTLS (scanner/probes/tls.py); an MX address the address policy refuses (scanner/addresses.py) is
  not connected to and has the error `refused_address` instead.

Bounds (issue 15): every SMTP reply must be complete within SMTP_TIMEOUT_FACTOR x `connect_timeout` and
before the probe's deadline, with at most `[scan] smtp_max_reply_lines` lines of `smtp_max_line_bytes`
bytes, and every read waits only for the time left (scanner/probes/tls.py, "Deadlines"): a server that
drips an endless greeting is an error naming what it broke, and the thread is free by the deadline.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

import dns.exception
import dns.name
import dns.rcode

from checks.spf import evaluation as spf_evaluation
from govscan.model import Reason, Site
from scanner.probes.base import Probe, ProbeContext, ProbeError
from scanner.domains import registrable_domain
from scanner.probes.dns_records import addresses_in, answer_records, resolved, tlsa_facts
from scanner.probes.dnssec import Validator, examine, show, zone_of
from scanner.probes.tls import Endpoint, Evaluation, SmtpLimits, smtp_greeting
from scanner.resolver import QueryTally

SMTP_PORT = 25
# Seconds per SMTP reply: more than for HTTP, as anti-spam front ends (Postfix postscreen) hold back their
# banner for about 6 s from a client they have not seen before. Every reply also ends by the probe's
# deadline and is capped in lines and bytes (scanner/probes/tls.py, "Deadlines").
SMTP_TIMEOUT_FACTOR = 2


def txt_texts(response) -> list[str]:
    """Each TXT record of an answer as one text: its character strings joined (RFC 7208 3.3)."""
    return [b"".join(rdata.strings).decode("utf-8", "replace")
            for rrset in answer_records(response, "TXT") for rdata in rrset]


async def txt_strings(ctx: ProbeContext, name: str, tally: QueryTally) -> tuple[str, list[str]]:
    """The rcode and the TXT records at `name`."""
    response = await resolved(ctx, dns.name.from_text(name), "TXT", tally)
    return dns.rcode.to_text(response.rcode()), txt_texts(response)


async def dns_answer(ctx: ProbeContext, rdtype: str, name: str, tally: QueryTally) -> dict:
    """One answer as the SPF and DMARC rules read it (checks/spf.py, `Query`): the rcode and the records (TXT
    texts, MX host names, addresses), or the error that kept it away."""
    try:
        qname = dns.name.Name([label.encode() for label in name.split(".")] + [b""])
    except dns.exception.DNSException as exc:  # longer than a name may be (`_dmarc.` + a 250-character zone)
        return {"error": f"{Reason.DNS}: {name} cannot be asked: {exc}"}
    try:
        response = await resolved(ctx, qname, rdtype, tally)
    except ProbeError as exc:
        return {"error": f"{exc.reason}: {exc.detail}"}
    if rdtype == "TXT":
        records = txt_texts(response)
    elif rdtype == "MX":
        records = [show(r.exchange) for rrset in answer_records(response, "MX") for r in rrset]
    else:
        records = addresses_in(response, rdtype)
    return {"rcode": dns.rcode.to_text(response.rcode()), "records": records}


async def spf_facts(ctx: ProbeContext, domain: str, tally: QueryTally) -> dict[str, Any]:
    """The answers to every query of the domain's SPF evaluation, each asked once. The evaluation stops at
    RFC 7208's limits (10 lookups, 2 void lookups, loops), so a hostile tree of includes costs at most 21
    queries, and all of them must be answered within `scan.spf_timeout` seconds (a `temperror` after)."""
    answers: dict[str, dict] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ctx.settings.scan.spf_timeout
    steps = spf_evaluation(domain)
    query = next(steps)
    while True:
        if query.key not in answers:
            try:
                answers[query.key] = await asyncio.wait_for(dns_answer(ctx, query.type, query.name, tally),
                                                            deadline - loop.time())
            except asyncio.TimeoutError:
                answers[query.key] = {"error": "timeout: the SPF evaluation took longer than scan.spf_timeout "
                                               f"({ctx.settings.scan.spf_timeout:g} s)"}
        try:
            query = steps.send(answers[query.key])
        except StopIteration:
            return {"answers": answers}


async def dmarc_facts(ctx: ProbeContext, domain: str, tally: QueryTally) -> dict[str, Any]:
    """The TXT records at `_dmarc.<domain>` and, when that is another name, at `_dmarc.<organisational
    domain>` (RFC 7489 3.2, from the public suffix list)."""
    organisational = registrable_domain(domain)
    names = list(dict.fromkeys(f"_dmarc.{where}" for where in (domain, organisational)))
    answers = await asyncio.gather(*(dns_answer(ctx, "TXT", name, tally) for name in names))
    return {"organisational_domain": organisational, "answers": dict(zip(names, answers))}


def dnssec_summary(examined: dict) -> dict:
    """What the mail checks need of `examine`'s facts: the state, the zone, the first problem, and the chain
    (its algorithms are judged against RFC 8624)."""
    return {key: examined[key] for key in ("state", "zone", "problem", "chain")}


class MailProbe(Probe):
    name = "mail"
    version = 4  # 2: SPF and DMARC as the DNS answers their rules read; 3: the MX's TLS facts as tls probe 2's;
    # 4: the DNSSEC chain of the mail domain and of each MX host

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
