"""The mail checks, per mail domain (shared/spec/checks.md, "Mail"): SPF, DMARC and DKIM records, STARTTLS
judged with the NCSC TLS tables, DANE for SMTP, DNSSEC and IPv6 of the MX hosts.

They judge the `mail` probe's facts (scanner/probes/mail.py). A domain without MX (or with a null MX,
RFC 7505) receives no mail: the MX checks do not apply to it. A domain whose only SPF record is
`v=spf1 -all` sends no mail: it needs DMARC `p=reject` and no DKIM. STARTTLS is judged with the web TLS
checks' own functions on the evaluation made over STARTTLS, so both use one rule book.

SPF is evaluated from the stored DNS answers by checks/spf.py (RFC 7208: grammar, limits, macros) for a
sender the record does not list; DMARC's record is found and parsed by checks/dmarc.py (RFC 7489). Both
modules' docstrings state the rules exactly; docs/mail.md sums them up.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

from cryptography import x509

from checks import dmarc as dmarc_rules
from checks import spf as spf_rules
from checks.dns import describe_problem, match_record, record_text, zone_verdict
from checks.registry import Facts, check
from checks.tls import tls_ciphers, tls_key_exchange, tls_version
from govscan.model import Artifact, Reason, Status, Text, Verdict, worst

FAMILY = "mail"
NORM = "Forum Standaardisatie, pas toe of leg uit"
ENFORCING_POLICIES = ("quarantine", "reject")
PROTECTING_RESULTS = ("fail", "softfail")  # what -all and ~all give a sender the record does not list
# Characters of a record shown in a finding (RFC 7208 3.4 asks SPF records to fit in 450); the artifact
# keeps every record whole.
RECORD_CHARACTERS = 512
DANE_USAGES = (2, 3)  # RFC 7672: SMTP ignores the PKIX usages 0 and 1


def sends_no_mail(mail: dict) -> bool:
    found = mail["spf"]
    # Mail probe version 1 kept the domain's SPF records themselves, version 2 the DNS answers.
    records = found["records"] if "records" in found else spf_rules.records_at(mail["domain"], found["answers"])
    return [record.lower().split()[1:] for record in records] == [["-all"]]


def collected_before_answers(facts: Facts, what: str) -> Verdict | None:
    """An error for the facts of mail probe version 1, which kept no DNS answers for SPF and DMARC (so old
    scans judged again say why they cannot be), else None."""
    if facts.artifacts["mail"].version >= 2:
        return None
    return Verdict(Status.ERROR, Text(f"Verzameld door een oudere govscan (mail-probe versie 1), zonder de "
                                      f"DNS-antwoorden die de huidige {what}-regels lezen: scan opnieuw.",
                                      f"Collected by an older govscan (mail probe version 1), without the DNS "
                                      f"answers the current {what} rules read: scan again."), reason=Reason.BUG)


def excerpt(record: str) -> str:
    return record if len(record) <= RECORD_CHARACTERS else record[:RECORD_CHARACTERS] + "..."


def receives_no_mail(mail: dict) -> Verdict | None:
    """`not_applicable` for the MX checks when the domain has no MX or a null MX, else None."""
    domain = mail["domain"]
    if mail["null_mx"]:
        return Verdict(Status.NOT_APPLICABLE, Text(f"{domain} ontvangt geen mail (null MX).",
                                                   f"{domain} receives no mail (null MX)."), {"domain": domain})
    if not mail["mx"]:
        return Verdict(Status.NOT_APPLICABLE, Text(f"{domain} heeft geen MX-record.",
                                                   f"{domain} has no MX record."), {"domain": domain})
    return None


def combine(items: list[tuple[str, Verdict]], what: tuple[str, str], details: dict) -> Verdict:
    """One verdict from per-MX (or per-address) verdicts: the worst decides and its items are named; an
    unmeasured item makes the check an error unless another one already fails."""
    details = {**details, "items": [{"item": label, "status": v.status.value, "summary": v.summary.en,
                                      **({"reason": v.reason} if v.reason else {})} for label, v in items]}
    status = worst(v.status for _, v in items)
    if status == Status.PASS:
        return Verdict(status, Text(f"Alle {what[0]} voldoen.", f"All {what[1]} comply."), details)
    named = [(label, v) for label, v in items if v.status == status]
    nl = "; ".join(f"{label}: {v.summary.nl}" for label, v in named)
    en = "; ".join(f"{label}: {v.summary.en}" for label, v in named)
    reason = next((v.reason for _, v in named if v.reason), None)
    return Verdict(status, Text(nl, en), details, reason=reason if status == Status.ERROR else None)


def unmeasured(session: dict) -> Verdict:
    return Verdict(Status.ERROR, Text(f"niet gemeten ({session['detail']})", f"not measured ({session['detail']})"),
                   reason=session["error"])


def per_mx_address(mail: dict, judge: Callable[[dict, str, dict], Verdict]) -> list[tuple[str, Verdict]]:
    """`judge(mx, address, session)` for every address of every MX host, and a fail for an MX host without
    any address (mail for the domain cannot be delivered there)."""
    items = [(mx["host"], Verdict(Status.FAIL, Text("de MX-host heeft geen IP-adres", "the MX host has no IP address")))
             for mx in mail["mx_hosts"] if not mx["addresses"]]
    items += [(f"{mx['host']} ({address})", judge(mx, address, session))
              for mx in mail["mx_hosts"] for address, session in mx["addresses"].items()]
    return items


# --- SPF, DMARC, DKIM ---------------------------------------------------------------------------------------

@check("mail.spf", level="required", family=FAMILY, requires=("mail",), version=2,
       norm=NORM + ": SPF (RFC 7208), eindigend op -all of ~all",
       title=("SPF", "SPF"),
       advice=("Publiceer precies één SPF-record (TXT 'v=spf1 ...') dat de verzendende servers noemt en eindigt op "
               "'-all' (of '~all'), volgens de grammatica van RFC 7208, met hooguit 10 DNS-opvragingen (include, a, "
               "mx, ptr, exists, redirect) en hooguit 2 die niets opleveren. Een domein dat niet mailt: 'v=spf1 -all'.",
               "Publish exactly one SPF record (TXT 'v=spf1 ...') that names the sending servers and ends in "
               "'-all' (or '~all'), following RFC 7208's grammar, with at most 10 DNS lookups (include, a, mx, ptr, "
               "exists, redirect) and at most 2 that find nothing. A domain that sends no mail: 'v=spf1 -all'."))
def spf(facts: Facts) -> Verdict:
    """The result RFC 7208 check_host() gives a sender the domain's SPF records do not list (checks/spf.py: the full
    grammar, the limits of 10 lookups and 2 void lookups over the whole tree, macros in targets).
    Pass: `fail` or `softfail` (the record, or the redirect it follows, ends in -all or ~all).
    Fail: `none` (no SPF record), `permerror` (more than one record, a grammar fault, a limit exceeded, an include or
    redirect without a record, a loop), or `neutral` or `pass` (?all, +all, a matching exists, or no all).
    Info: `unknown`: a redirect to a target that depends on the sender (%{i}, %{l} ...) decides, and is not followed.
    Error: `temperror`, a DNS error or timeout on the way (dns); facts from mail probe version 1, which kept no DNS
    answers (scan again).
    """
    outdated = collected_before_answers(facts, "SPF")
    if outdated:
        return outdated
    mail = facts["mail"]
    domain = mail["domain"]
    outcome = spf_rules.evaluate(domain, mail["spf"]["answers"])
    records = spf_rules.records_at(domain, mail["spf"]["answers"])
    details = {"domain": domain, "records": [excerpt(r) for r in records], "result": outcome.result,
               "decided_by": outcome.term, "decided_in": outcome.where, "lookups": outcome.lookups,
               "void_lookups": outcome.void_lookups, "notes": outcome.notes,
               "included": {where: excerpt(r) for where, r in outcome.records.items() if where != domain}}
    result, term = outcome.result, spf_rules.shown(outcome.term or "")
    in_record = (f" in het record van {outcome.where}", f" in the record of {outcome.where}") \
        if outcome.where != domain else ("", "")
    if outcome.reason is not None:
        details["reason"] = outcome.reason.en
    if result == "none":
        return Verdict(Status.FAIL, Text(f"{domain} heeft geen SPF-record.", f"{domain} has no SPF record."), details)
    if result == "temperror":
        return Verdict(Status.ERROR, Text(f"SPF kon niet worden geëvalueerd (temperror): {outcome.reason.nl}.",
                                          f"SPF could not be evaluated (temperror): {outcome.reason.en}."),
                       details, reason=Reason.DNS)
    if result == "permerror":
        return Verdict(Status.FAIL, Text(f"Het SPF-record is ongeldig (permerror): {outcome.reason.nl}.",
                                         f"The SPF record is invalid (permerror): {outcome.reason.en}."), details)
    if result == "unknown":
        return Verdict(Status.INFO, Text(f"Wat een afzender die het SPF-record niet noemt krijgt, hangt af van de "
                                         f"afzender: '{term}'{in_record[0]} is niet geëvalueerd.",
                                         f"What a sender the SPF record does not list gets depends on the sender: "
                                         f"'{term}'{in_record[1]} was not evaluated."), details)
    if result in PROTECTING_RESULTS:
        return Verdict(Status.PASS, Text(f"Eén geldig SPF-record; een afzender die het niet noemt krijgt {result} "
                                         f"('{term}'{in_record[0]}): {excerpt(records[0])}",
                                         f"One valid SPF record; a sender it does not list gets {result} "
                                         f"('{term}'{in_record[1]}): {excerpt(records[0])}"), details)
    how = (f" door '{term}'{in_record[0]}", f" from '{term}'{in_record[1]}") if outcome.term else \
        (" (geen mechanisme past, en er is geen all of redirect)", " (no mechanism matches, and there is no all or "
                                                                   "redirect)")
    return Verdict(Status.FAIL, Text(f"Een afzender die het SPF-record niet noemt krijgt '{result}'{how[0]}: dat "
                                     "beschermt het domein niet; het record moet eindigen op -all of ~all.",
                                     f"A sender the SPF record does not list gets '{result}'{how[1]}: that does not "
                                     "protect the domain; the record must end in -all or ~all."), details)


@check("mail.dmarc", level="required", family=FAMILY, requires=("mail",), version=2,
       norm=NORM + ": DMARC (RFC 7489) met beleid quarantine of reject",
       title=("DMARC", "DMARC"),
       advice=("Publiceer op _dmarc.<domein> één record 'v=DMARC1; p=reject' (of p=quarantine) met een rua-adres "
               "voor rapporten, elke tag één keer en p direct na v. Een domein dat niet mailt: p=reject.",
               "Publish one record 'v=DMARC1; p=reject' (or p=quarantine) at _dmarc.<domain>, with a rua address "
               "for reports, every tag once and p right after v. A domain that sends no mail: p=reject."))
def dmarc(facts: Facts) -> Verdict:
    """The DMARC record that applies to the mail domain (checks/dmarc.py, RFC 7489 6.6.3): the one at
    _dmarc.<domain>, else, when there is none, the one at _dmarc.<organisational domain> (public suffix list,
    private section included). Its policy is p, or sp when it was found at the organisational domain and has one.
    Pass: exactly one valid record, with policy quarantine or reject; reject when the domain sends no mail (its
    only SPF record is `v=spf1 -all`). t=y and other tags are reported, not judged.
    Fail: no DMARC record at either name; more than one at the name that applies; an invalid record (a tag outside
    the tag-list grammar, a tag twice, p missing, not right after v, or not none/quarantine/reject, an invalid sp);
    policy none; a domain that sends no mail without reject.
    Error: a DNS error or timeout while looking for it (dns); facts from mail probe version 1 (scan again).
    """
    outdated = collected_before_answers(facts, "DMARC")
    if outdated:
        return outdated
    mail = facts["mail"]
    domain, found = mail["domain"], mail["dmarc"]
    organisational = found["organisational_domain"]
    details: dict = {"domain": domain, "organisational_domain": organisational}
    try:
        discovery = dmarc_rules.discover(domain, organisational, found["answers"])
    except dmarc_rules.DnsError as error:
        return Verdict(Status.ERROR, Text(f"DMARC kon niet worden opgezocht: {error}.",
                                          f"DMARC could not be looked up: {error}."), details, reason=Reason.DNS)
    name, records = discovery.name, discovery.records
    details.update(name=name, records=[excerpt(r) for r in records],
                   found_at_organisational_domain=discovery.at_organisational_domain)
    if not records:
        asked = list(dict.fromkeys((f"_dmarc.{domain}", f"_dmarc.{organisational}")))
        discarded = spf_rules.shown(discovery.discarded[0]) if discovery.discarded else None
        return Verdict(Status.FAIL, Text(f"Geen DMARC-record op {' of '.join(asked)}" + (
            f" (een TXT-record daar begint niet met 'v=DMARC1': '{discarded}')." if discarded else "."),
            f"No DMARC record at {' or '.join(asked)}" + (
            f" (a TXT record there does not begin with 'v=DMARC1': '{discarded}')." if discarded else ".")), details)
    if len(records) > 1:
        return Verdict(Status.FAIL, Text(f"{len(records)} DMARC-records op {name}; er mag er één zijn.",
                                         f"{len(records)} DMARC records at {name}; there must be one."), details)
    try:
        policy = dmarc_rules.parse(records[0])
    except dmarc_rules.Invalid as error:
        return Verdict(Status.FAIL, Text(f"Het DMARC-record op {name} is ongeldig: {error.text.nl}.",
                                         f"The DMARC record at {name} is invalid: {error.text.en}."), details)
    p, sp, test = policy.value("p"), policy.value("sp"), policy.value("t")
    applies, tag = (sp, "sp") if discovery.at_organisational_domain and sp else (p, "p")
    details.update(policy=applies, p=p, sp=sp, t=test, notes=policy.notes)
    if sends_no_mail(mail) and applies != "reject":
        return Verdict(Status.FAIL, Text(f"Het domein mailt niet, maar het DMARC-beleid is {tag}={applies}, niet "
                                         "reject.", f"The domain sends no mail, but its DMARC policy is "
                                         f"{tag}={applies}, not reject."), details)
    if applies not in ENFORCING_POLICIES:
        return Verdict(Status.FAIL, Text(f"Het DMARC-beleid is {tag}={applies}: het moet quarantine of reject zijn.",
                                         f"The DMARC policy is {tag}={applies}: it must be quarantine or reject."),
                       details)
    testing = (" (t=y: testmodus)", " (t=y: test mode)") if test == "y" else ("", "")
    return Verdict(Status.PASS, Text(f"DMARC op {name} met {tag}={applies}{testing[0]}.",
                                     f"DMARC at {name} with {tag}={applies}{testing[1]}."), details)


@check("mail.dkim", level="required", family=FAMILY, requires=("mail",),
       norm=NORM + ": DKIM (RFC 6376)",
       title=("DKIM", "DKIM"),
       advice=("Onderteken uitgaande mail met DKIM en publiceer de publieke sleutel op "
               "<selector>._domainkey.<domein>.",
               "Sign outgoing mail with DKIM and publish the public key at <selector>._domainkey.<domain>."))
def dkim(facts: Facts) -> Verdict:
    """Pass: _domainkey.<mail domain> exists: its TXT query answers NOERROR (DKIM keys live below it).
    Fail: any other answer (NXDOMAIN).
    Not applicable: the domain sends no mail (its only SPF record is `v=spf1 -all`).
    """
    mail = facts["mail"]
    found = mail["dkim"]
    details = {"domain": mail["domain"], **found}
    if sends_no_mail(mail):
        return Verdict(Status.NOT_APPLICABLE, Text("Het domein mailt niet (SPF 'v=spf1 -all').",
                                                   "The domain sends no mail (SPF 'v=spf1 -all')."), details)
    if found["rcode"] == "NOERROR":
        return Verdict(Status.PASS, Text(f"{found['name']} bestaat: er zijn DKIM-sleutels.",
                                         f"{found['name']} exists: there are DKIM keys."), details)
    return Verdict(Status.FAIL, Text(f"{found['name']} bestaat niet ({found['rcode']}): geen DKIM-sleutels.",
                                     f"{found['name']} does not exist ({found['rcode']}): no DKIM keys."), details)


# --- STARTTLS and DANE --------------------------------------------------------------------------------------

TLS_RULES: tuple[Callable[[Facts], Verdict], ...] = (tls_version, tls_ciphers, tls_key_exchange)


def starttls_verdict(facts: Facts, address: str, session: dict) -> Verdict:
    """One MX address: STARTTLS offered, and its TLS judged with the web TLS rules (worst decides)."""
    if "error" in session:
        return unmeasured(session)
    if not session["starttls"]:
        return Verdict(Status.FAIL, Text("biedt geen STARTTLS aan", "offers no STARTTLS"))
    if "tls" not in session:
        return Verdict(Status.ERROR, Text("STARTTLS mislukte", "STARTTLS failed"), reason=Reason.TLS)
    tls_facts = Facts(site=facts.site, artifacts={"tls": Artifact("tls", 1, address, session["tls"])},
                      address=address)
    verdicts = [rule(tls_facts) for rule in TLS_RULES]
    status = worst(v.status for v in verdicts if v.status != Status.NOT_APPLICABLE)
    if status == Status.PASS:
        return Verdict(status, Text("STARTTLS met goede of voldoende TLS", "STARTTLS with good or sufficient TLS"))
    return Verdict(status, Text(" ".join(v.summary.nl for v in verdicts if v.status == status),
                                " ".join(v.summary.en for v in verdicts if v.status == status)))


@check("mail.starttls", level="required", family=FAMILY, requires=("mail",), version=2,
       norm=NORM + ": STARTTLS (RFC 3207) met TLS volgens de NCSC-richtlijnen",
       title=("STARTTLS", "STARTTLS"),
       advice=("Laat elke mailserver (MX) STARTTLS aanbieden met alleen TLS 1.2 of 1.3, goede of voldoende "
               "cipher suites en goede groepen voor de sleuteluitwisseling (zie de TLS-checks van de website).",
               "Have every mail server (MX) offer STARTTLS with only TLS 1.2 or 1.3, good or sufficient cipher "
               "suites and good key-exchange groups (see the website's TLS checks)."))
def starttls(facts: Facts) -> Verdict:
    """Every address of every MX host, each judged apart with the rules of web.tls.version, web.tls.ciphers and
    web.tls.key_exchange on the TLS evaluation made over STARTTLS (the worst of the three; one that does not apply
    is left out); the worst address decides (fail before error before warn).
    Pass: every address offers STARTTLS and passes all three rules.
    Warn: an address gets a warn (a phase-out item) and none fails.
    Fail: an MX host without any address; an address that does not offer STARTTLS, or fails one of the rules.
    Not applicable: the mail domain has no MX, or a null MX (RFC 7505).
    Error: an address that could not be measured (its SMTP session's reason), or where STARTTLS failed (tls), while
    no other address fails.
    """
    mail = facts["mail"]
    skip = receives_no_mail(mail)
    if skip:
        return skip
    items = per_mx_address(mail, lambda mx, address, session: starttls_verdict(facts, address, session))
    return combine(items, ("mailservers", "mail servers"), {"domain": mail["domain"]})


def dane_verdict(mx: dict, address: str, session: dict) -> Verdict:
    """One MX address: a usable, DNSSEC-secure TLSA record matches the chain served after STARTTLS."""
    tlsa = mx["tlsa"]
    usable = [r for r in tlsa["records"] if r["usage"] in DANE_USAGES]
    if not usable:
        only_pkix = " (alleen PKIX-gebruik 0/1, dat SMTP negeert)" if tlsa["records"] else ""
        only_pkix_en = " (only PKIX usages 0/1, which SMTP ignores)" if tlsa["records"] else ""
        return Verdict(Status.FAIL, Text(f"geen TLSA-record op {tlsa['name']}{only_pkix}",
                                         f"no TLSA record at {tlsa['name']}{only_pkix_en}"))
    if tlsa["state"] != "secure":
        why = describe_problem(tlsa.get("problem"), tlsa.get("ede"))
        return Verdict(Status.FAIL, Text(f"het TLSA-record is niet DNSSEC-veilig ({tlsa['state']}: {why.nl})",
                                         f"the TLSA record is not DNSSEC-secure ({tlsa['state']}: {why.en})"))
    if "error" in session:
        return unmeasured(session)
    if not session.get("certificates"):
        return Verdict(Status.FAIL, Text("geen certificaat om te vergelijken: geen STARTTLS",
                                         "no certificate to compare: no STARTTLS"))
    chain = [x509.load_pem_x509_certificate(c["pem"].encode()) for c in session["certificates"]]
    when = dt.datetime.fromisoformat(session["measured_at"])
    results = [(record, *match_record(record, chain, mx["host"], False, when)) for record in usable]
    matched = [record for record, ok, _ in results if ok]
    if matched:
        return Verdict(Status.PASS, Text(f"TLSA {record_text(matched[0])[:16]}... past",
                                         f"TLSA {record_text(matched[0])[:16]}... matches"))
    return Verdict(Status.FAIL, Text(f"geen TLSA-record past bij de keten ({results[0][2]})",
                                     f"no TLSA record matches the chain ({results[0][2]})"))


def has_rollover_scheme(records: list[dict]) -> bool:
    """Two DANE-EE records, or DANE-EE with DANE-TA: a key can be replaced without a gap."""
    usages = [r["usage"] for r in records]
    return usages.count(3) >= 2 or (3 in usages and 2 in usages)


@check("mail.dane", level="required", family=FAMILY, requires=("mail",),
       norm=NORM + ": DANE voor SMTP (RFC 7672)",
       title=("DANE voor mail", "DANE for mail"),
       advice=("Publiceer voor elke MX-host een TLSA-record op _25._tcp.<mx> in een met DNSSEC ondertekende zone "
               "(bij voorkeur '3 1 1' van de huidige sleutel plus een tweede voor de volgende, of '2 1 1' van de "
               "uitgevende CA), en werk het bij vóór elke sleutelwissel.",
               "Publish a TLSA record at _25._tcp.<mx> for every MX host in a DNSSEC-signed zone (preferably "
               "'3 1 1' of the current key plus one for the next, or '2 1 1' of the issuing CA), and update it "
               "before every key change."))
def dane(facts: Facts) -> Verdict:
    """Every address of every MX host, against the TLSA records at _25._tcp.<mx> of usage 2 or 3 (RFC 7672: SMTP
    ignores 0 and 1); the worst decides. The rollover scheme (two usage-3 records, or usage 3 and 2) is reported
    per MX host, not judged.
    Pass: at every address a TLSA record matches the chain served after STARTTLS (selector and matching type, at
    the time it was measured), and the TLSA records are DNSSEC-secure.
    Fail: an MX host without usable TLSA records (none, or only usages 0/1), with TLSA records that are not secure,
    or without any address; an address that served no certificate (no STARTTLS) or a chain no record matches.
    Not applicable: the mail domain has no MX, or a null MX.
    Error: an address that could not be measured, while no other address fails.
    """
    mail = facts["mail"]
    skip = receives_no_mail(mail)
    if skip:
        return skip
    items = per_mx_address(mail, dane_verdict)
    details = {"domain": mail["domain"],
               "tlsa": {mx["tlsa"]["name"]: [record_text(r) for r in mx["tlsa"]["records"]] for mx in mail["mx_hosts"]},
               "rollover_scheme": {mx["host"]: has_rollover_scheme(mx["tlsa"]["records"]) for mx in mail["mx_hosts"]}}
    return combine(items, ("mailservers", "mail servers"), details)


# --- DNSSEC and IPv6 ----------------------------------------------------------------------------------------

@check("mail.dnssec", level="required", family=FAMILY, requires=("mail",), version=2,
       norm=NORM + ": DNSSEC voor het maildomein en de MX-hosts",
       title=("DNSSEC voor mail", "DNSSEC for mail"),
       advice=("Onderteken de zone van het maildomein en die van elke MX-host met DNSSEC.",
               "Sign the mail domain's zone and every MX host's zone with DNSSEC."))
def mail_dnssec(facts: Facts) -> Verdict:
    """The mail domain's MX records and each MX host's A/AAAA records, as the validating resolver sees them (a domain
    without MX hosts is judged on its own zone alone); the algorithms of each chain as dns.dnssec judges them
    (RFC 8624, config/policy/dnssec.toml). The worst zone decides.
    Pass: all secure, without algorithms or DS digests that RFC 8624 says MUST NOT or NOT RECOMMENDED.
    Warn: all secure, but a chain uses a NOT RECOMMENDED signing algorithm, a SHA-1 DS digest, or a forbidden
    algorithm next to an acceptable one (named with its zone cut).
    Fail: any insecure (no DS chain) or bogus, with the problem found walking the chain from the trust anchor;
    any chain with a zone cut signed only with algorithms (or DS digests) RFC 8624 forbids and validators need
    not accept, named as such.
    """
    mail = facts["mail"]
    zones = [(f"{mail['domain']} (MX)", mail["dnssec"])] + [(mx["host"], mx["dnssec"]) for mx in mail["mx_hosts"]]
    items, algorithms = [], {}
    for label, found in zones:
        status, why, details = zone_verdict(found)
        if details:
            algorithms[label] = details["algorithms"]
        if found["state"] != "secure":
            why = Text(f"{found['state']}: {why.nl}", f"{found['state']}: {why.en}")
        elif status == Status.PASS:
            why = Text("veilig", "secure")
        items.append((label, Verdict(status, why)))
    return combine(items, ("zones", "zones"), {"domain": mail["domain"]} | ({"algorithms": algorithms} if algorithms
                                                                              else {}))


def ipv6_verdict(mx: dict) -> Verdict:
    """One MX host: an AAAA, and an SMTP banner on it; an unreachable IPv6 address fails only where the
    same host answered over IPv4 (else the server is down, not its IPv6)."""
    if not mx["ipv6"]:
        return Verdict(Status.FAIL, Text("geen AAAA-record", "no AAAA record"))
    results = {address: mx["addresses"][address] for address in mx["ipv6"]}
    if any(s.get("error") == Reason.NO_IPV6 for s in results.values()):
        return Verdict(Status.ERROR, Text("deze scanner heeft geen IPv6", "this scanner has no IPv6"),
                       reason=Reason.NO_IPV6)
    silent = [a for a, s in results.items() if "error" in s or not s["banner"].startswith("220")]
    if not silent:
        return Verdict(Status.PASS, Text("bereikbaar over IPv6", "reachable over IPv6"))
    errors = [results[a] for a in silent if "error" in results[a]]
    server_down = mx["ipv4"] and all("error" in mx["addresses"][a] for a in mx["ipv4"])
    if server_down and errors:
        return unmeasured(errors[0])
    return Verdict(Status.FAIL, Text(f"geen SMTP op {', '.join(silent)}", f"no SMTP on {', '.join(silent)}"))


@check("mail.ipv6", level="required", family=FAMILY, requires=("mail",),
       norm=NORM + ": IPv6 voor de mailservers",
       title=("IPv6 voor mail", "IPv6 for mail"),
       advice=("Geef elke MX-host een AAAA-record en laat de mailserver op dat IPv6-adres SMTP aannemen.",
               "Give every MX host an AAAA record and have the mail server accept SMTP on that IPv6 address."))
def mail_ipv6(facts: Facts) -> Verdict:
    """Every MX host.
    Pass: every MX host has an AAAA record and every one of its IPv6 addresses greets with a 220 SMTP banner.
    Fail: an MX host without AAAA; an IPv6 address that does not greet with 220, unless the host's IPv4 addresses
    do not answer either (then the server is down: error).
    Not applicable: the mail domain has no MX, or a null MX.
    Error: the scanner has no IPv6 (no_ipv6); an unmeasured IPv6 address of a host whose IPv4 addresses failed too;
    in both cases only while no other MX host fails.
    """
    mail = facts["mail"]
    skip = receives_no_mail(mail)
    if skip:
        return skip
    items = [(mx["host"], ipv6_verdict(mx)) for mx in mail["mx_hosts"]]
    return combine(items, ("MX-hosts", "MX hosts"), {"domain": mail["domain"],
                                                     "mx": {mx["host"]: mx["ipv6"] for mx in mail["mx_hosts"]}})
