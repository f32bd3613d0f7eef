"""RPKI: is the route to each address of the web server, its name servers and its mail servers covered by a
valid route origin authorisation (shared/spec/checks.md; Forum Standaardisatie, "pas toe of leg uit").

The `rpki` probe (scanner/probes/rpki.py) found, per address, the announced route (the most specific
prefix holding it and its origin AS) and the validated ROA payloads (VRPs) covering that prefix. Here they
are judged by RFC 6811 section 2: a route is `not_found` when no VRP covers its prefix, `valid` when a
covering VRP has the route's origin AS and a maxLength of at least the route's prefix length, and `invalid`
when VRPs cover it but none matches (the wrong AS, or a prefix longer than maxLength allows; an AS set has
no origin AS and matches none). An address held by several routes' origins (a multi-origin prefix) is as
bad as its worst route. An invalid route is worse than none: networks that validate drop it, so the server
is unreachable from them, hence `fail`; no ROA leaves the route open to hijacking, hence `warn`.
"""
from __future__ import annotations

from checks.mail import combine, receives_no_mail
from checks.registry import Facts, check
from govscan.model import Reason, Status, Text, Verdict

FAMILY = "rpki"
NORM = "Forum Standaardisatie, pas toe of leg uit: RPKI (RFC 6480, route origin validation RFC 6811)"
VALID, INVALID, NOT_FOUND = "valid", "invalid", "not_found"
STATUS = {VALID: Status.PASS, NOT_FOUND: Status.WARN, INVALID: Status.FAIL}


def route_state(prefix: str, origin: int | None, vrps: list[dict]) -> str:
    """RFC 6811's validation state of one route (prefix, origin AS) against the VRPs covering its prefix."""
    if not vrps:
        return NOT_FOUND
    length = int(prefix.rsplit("/", 1)[1])
    if origin is not None and any(v["asn"] == origin and length <= v["max_length"] for v in vrps):
        return VALID
    return INVALID


def why_invalid(origin: int | None, vrps: list[dict]) -> Text:
    if origin is not None and any(v["asn"] == origin for v in vrps):
        return Text("de prefix is langer dan de maxLength van de ROA", "the prefix is longer than the ROA's maxLength")
    return Text("geen ROA voor dit AS", "no ROA for this AS")


def show_vrps(vrps: list[dict]) -> str:
    return ", ".join(f"{v['prefix']}-{v['max_length']} AS{v['asn']}" for v in vrps)


def address_verdict(address: str, lookup: dict | None) -> Verdict:
    """One address: its route's state, naming the prefix, the origin AS and the covering ROAs."""
    if lookup is None:
        return Verdict(Status.ERROR, Text("niet opgezocht", "not looked up"), reason=Reason.BUG)
    route = lookup["route"]
    if route is None:
        return Verdict(Status.WARN, Text(f"geen aangekondigde route bevat {address}",
                                         f"no announced route holds {address}"), {"route": None})
    prefix, vrps = route["prefix"], lookup["vrps"]
    roas = show_vrps(vrps)
    states = {origin: route_state(prefix, origin, vrps) for origin in route["origins"]}
    state = INVALID if INVALID in states.values() else NOT_FOUND if NOT_FOUND in states.values() else VALID
    origin = next(o for o, s in states.items() if s == state)
    source = f"AS{origin}" if origin is not None else "een AS-set"
    source_en = f"AS{origin}" if origin is not None else "an AS set"
    details = {"route": route, "vrps": vrps, "states": {str(o): s for o, s in states.items()}, "state": state}
    if state == VALID:
        text = Text(f"route {prefix} van {source} is geldig (ROA {roas})",
                    f"route {prefix} from {source_en} is valid (ROA {roas})")
    elif state == NOT_FOUND:
        text = Text(f"route {prefix} van {source}: geen ROA dekt deze prefix (niet gevonden)",
                    f"route {prefix} from {source_en}: no ROA covers this prefix (not found)")
    else:
        why = why_invalid(origin, vrps)
        text = Text(f"route {prefix} van {source} is ongeldig: {why.nl} (ROA {roas})",
                    f"route {prefix} from {source_en} is invalid: {why.en} (ROA {roas})")
    return Verdict(STATUS[state], text, details)


def judge(rpki: dict, labelled: list[tuple[str, str]], what: tuple[str, str], details: dict) -> Verdict:
    """One verdict for (label, address) pairs: the worst address decides (checks.mail.combine)."""
    verdicts = {address: address_verdict(address, rpki["lookups"].get(address)) for _, address in labelled}
    details = {**details, "files": rpki["files"], "routes": {a: v.details for a, v in verdicts.items()}}
    return combine([(label, verdicts[address]) for label, address in labelled], what, details)


def not_configured(rpki: dict) -> Verdict | None:
    """`not_applicable` while `[rpki] vrp_file` or `routes_file` is not set, else None."""
    if rpki["configured"]:
        return None
    missing = ", ".join(f"[rpki] {name}" for name in rpki["missing"])
    return Verdict(Status.NOT_APPLICABLE, Text(f"Geen RPKI-gegevens ingesteld ({missing}).",
                                               f"No RPKI data configured ({missing})."), rpki)


def no_addresses(whose: tuple[str, str]) -> Verdict:
    return Verdict(Status.ERROR, Text(f"Geen IP-adressen van {whose[0]} gevonden.",
                                      f"No IP addresses of {whose[1]} found."), reason=Reason.DNS)


@check("web.rpki", level="required", family=FAMILY, requires=("dns", "rpki"),
       norm=NORM + ": webserver",
       title=("RPKI voor de webserver", "RPKI for the web server"),
       advice=("Laat de netwerkbeheerder (hostingpartij) voor elk IP-prefix van de webserver een ROA publiceren "
               "bij de RIR (zoals RIPE NCC), met het AS dat de prefix aankondigt en een maxLength die de "
               "aangekondigde prefixlengte toelaat.",
               "Have the network operator (hosting provider) publish a ROA at the RIR (such as the RIPE NCC) for "
               "every IP prefix of the web server, with the AS that announces the prefix and a maxLength that "
               "allows the announced prefix length."))
def web_rpki(facts: Facts) -> Verdict:
    """Every IPv4 and IPv6 address of the host: the most specific announced route holding it (from `[rpki]
    routes_file`) validated against the VRPs covering its prefix (from `[rpki] vrp_file`) by RFC 6811.
    Pass: every address's route is valid (a covering ROA has its origin AS and a maxLength of at least its
    prefix length).
    Fail: some address's route is invalid (covered by ROAs, none of which has its origin AS with a long enough
    maxLength; an AS-set origin matches none).
    Warn: no address is invalid, but some route is not found (no ROA covers its prefix), or no announced route
    holds an address.
    Not applicable: `[rpki] vrp_file` or `routes_file` is not set.
    """
    rpki = facts["rpki"]
    skip = not_configured(rpki)
    if skip:
        return skip
    dns = facts["dns"]
    addresses = dns.get("ipv4", []) + dns.get("ipv6", [])
    return judge(rpki, [(address, address) for address in addresses], ("adressen", "addresses"),
                 {"host": facts.site.host})


@check("web.rpki.nameservers", level="required", family=FAMILY, requires=("nameservers", "rpki"),
       norm=NORM + ": naamservers",
       title=("RPKI voor de naamservers", "RPKI for the name servers"),
       advice=("Vraag de DNS-leverancier om voor de IP-prefixen van zijn naamservers ROA's te publiceren, met "
               "het AS dat ze aankondigt en een passende maxLength.",
               "Ask the DNS provider to publish ROAs for the IP prefixes of its name servers, with the AS that "
               "announces them and a fitting maxLength."))
def nameservers_rpki(facts: Facts) -> Verdict:
    """Every IPv4 and IPv6 address of every name server (NS) of the host's zone, judged as in web.rpki.
    Pass: every address's route is valid.
    Fail: some address's route is invalid.
    Warn: no address is invalid, but some route is not found, or no announced route holds an address.
    Not applicable: `[rpki] vrp_file` or `routes_file` is not set.
    Error: the name servers have no address (dns).
    """
    rpki = facts["rpki"]
    skip = not_configured(rpki)
    if skip:
        return skip
    found = facts["nameservers"]
    labelled = [(f"{server['name']} ({address})", address) for server in found["nameservers"]
                for address in server["ipv4"] + server["ipv6"]]
    if not labelled:
        return no_addresses(("de naamservers", "the name servers"))
    return judge(rpki, labelled, ("adressen van de naamservers", "name server addresses"), {"zone": found["zone"]})


@check("mail.rpki", level="required", family=FAMILY, requires=("mail", "rpki"),
       norm=NORM + ": mailservers",
       title=("RPKI voor de mailservers", "RPKI for the mail servers"),
       advice=("Laat de beheerder van de mailservers (MX) voor hun IP-prefixen ROA's publiceren, met het AS dat "
               "ze aankondigt en een passende maxLength.",
               "Have the operator of the mail servers (MX) publish ROAs for their IP prefixes, with the AS that "
               "announces them and a fitting maxLength."))
def mail_rpki(facts: Facts) -> Verdict:
    """Every IPv4 and IPv6 address of every MX host of the mail domain, judged as in web.rpki.
    Pass: every address's route is valid.
    Fail: some address's route is invalid.
    Warn: no address is invalid, but some route is not found, or no announced route holds an address.
    Not applicable: the mail domain has no MX, or a null MX; or `[rpki] vrp_file` or `routes_file` is not set.
    Error: no MX host has an address (dns).
    """
    rpki = facts["rpki"]
    mail = facts["mail"]
    skip = not_configured(rpki) or receives_no_mail(mail)
    if skip:
        return skip
    labelled = [(f"{mx['host']} ({address})", address) for mx in mail["mx_hosts"]
                for address in mx["ipv4"] + mx["ipv6"]]
    if not labelled:
        return no_addresses(("de MX-hosts", "the MX hosts"))
    return judge(rpki, labelled, ("adressen van de MX-hosts", "MX host addresses"), {"domain": mail["domain"]})
