"""IPv6 for the web: name servers, address records, reachability and the same site on both families
(shared/spec/checks.md, "Web: DNS and IPv6").

Reachability and same content compare the addresses of a site with each other, so they are site-level
checks reading every address's `http` artifact through `Facts.by_address`: the `http` probe already
connects to each address on 443 and 80 and fetches the front page, and a second probe doing the same
would double the traffic for the same facts. A scanner without IPv6 (`run["ipv6"]` False, found once per
run) cannot tell anything about IPv6 connectivity: those checks say `error` with reason `no_ipv6`.
"""
from __future__ import annotations

import difflib
import re
import tomllib
from functools import lru_cache

from checks.registry import Facts, check
from govscan.paths import package_data
from govscan.model import Artifact, Reason, Status, Text, Verdict

IPV6_POLICY = package_data("policy", "ipv6.toml")
NORM = "Forum Standaardisatie, pas toe of leg uit: IPv6 (streefbeeld eind 2021)"
# Probe failures that mean the address did not answer at all (as opposed to a measurement that broke).
UNREACHABLE = (Reason.CONNECT, Reason.TIMEOUT)


@lru_cache(maxsize=1)
def policy() -> dict:
    with open(IPV6_POLICY, "rb") as fh:
        return tomllib.load(fh)


def no_ipv6(facts: Facts) -> Verdict | None:
    """The error verdict for a scanner without IPv6, else None."""
    if facts.run.get("ipv6", True):
        return None
    return Verdict(Status.ERROR, Text("Niet gemeten: de scanner heeft zelf geen IPv6-verbinding.",
                                      "Not measured: the scanner itself has no IPv6 connectivity."),
                   reason=Reason.NO_IPV6)


def is_ipv6(address: str) -> bool:
    return ":" in address


# --- name servers -------------------------------------------------------------------------------------------

@check("web.ipv6.nameservers", level="required", family="ipv6", requires=("nameservers",), version=2,
       norm=NORM + ": naamservers bereikbaar via IPv6",
       title=("Naamservers via IPv6", "Name servers over IPv6"),
       advice=("Zorg dat minstens twee naamservers van het domein een IPv6-adres (AAAA) hebben en via IPv6 "
               "antwoorden; vraag dit zo nodig aan de DNS-leverancier.",
               "Make sure at least two name servers of the domain have an IPv6 address (AAAA) and answer over "
               "IPv6; ask the DNS provider if needed."))
def nameservers(facts: Facts) -> Verdict:
    """The name servers (NS) of the host's zone, each asked directly over IPv6 for the zone's SOA.
    Pass: at least two of them answer authoritatively (NOERROR with AA, over UDP or TCP) on an IPv6 address.
    Warn: exactly one does.
    Fail: none of them has an AAAA record, or none answers over IPv6.
    Error: the scanner has no IPv6 (no_ipv6); or fewer than two answer and an IPv6 address was not asked because
    the address policy refuses it (refused_address).
    """
    found = facts["nameservers"]
    servers = found["nameservers"]
    details = {"zone": found["zone"], "nameservers": servers}
    if found.get("limits"):  # name servers or addresses the scanner's bounds left out
        details["limits"] = found["limits"]
    with_aaaa = [s for s in servers if s["ipv6"]]
    if not with_aaaa:
        return Verdict(Status.FAIL, Text(f"Geen van de {len(servers)} naamservers van {found['zone']} heeft een "
                                         "IPv6-adres.",
                                         f"None of the {len(servers)} name servers of {found['zone']} has an IPv6 "
                                         "address."), details)
    unmeasured = no_ipv6(facts)
    if unmeasured or not found.get("ipv6_tested"):
        return unmeasured or Verdict(Status.ERROR, Text("Niet gemeten via IPv6.", "Not measured over IPv6."),
                                     details, reason=Reason.NO_IPV6)
    answering = [s["name"] for s in with_aaaa if any(a["answered"] for a in s.get("ipv6_answers", {}).values())]
    silent = [s["name"] for s in servers if s["name"] not in answering]
    details.update(answering=answering, not_answering=silent)
    if len(answering) >= 2:
        return Verdict(Status.PASS, Text(f"{len(answering)} naamservers antwoorden via IPv6.",
                                         f"{len(answering)} name servers answer over IPv6."), details)
    refused = {address: answer["detail"] for s in with_aaaa for address, answer in s.get("ipv6_answers", {}).items()
               if answer.get("error") == Reason.REFUSED_ADDRESS}
    if refused:  # not asked (scanner/addresses.py), so whether they answer is not known
        details["refused"] = refused
        return Verdict(Status.ERROR, Text(f"Niet gemeten: {', '.join(refused)} wordt niet benaderd (geen publiek "
                                          "adres).",
                                          f"Not measured: {', '.join(refused)} is not contacted (not a public "
                                          "address)."), details, reason=Reason.REFUSED_ADDRESS)
    if len(answering) == 1:
        return Verdict(Status.WARN, Text(f"Alleen {answering[0]} antwoordt via IPv6; niet: {', '.join(silent)}.",
                                         f"Only {answering[0]} answers over IPv6; not: {', '.join(silent)}."), details)
    return Verdict(Status.FAIL, Text(f"Geen naamserver antwoordt via IPv6 ({', '.join(silent)}).",
                                     f"No name server answers over IPv6 ({', '.join(silent)})."), details)


# --- address ------------------------------------------------------------------------------------------------

@check("web.ipv6.address", level="required", family="ipv6", requires=("dns",),
       norm=NORM + ": de website heeft een IPv6-adres",
       title=("IPv6-adres", "IPv6 address"),
       advice=("Publiceer een AAAA-record voor de website en laat de webserver ook op dat IPv6-adres luisteren.",
               "Publish an AAAA record for the website and have the web server listen on that IPv6 address too."))
def address(facts: Facts) -> Verdict:
    """Pass: the host has at least one AAAA record.
    Fail: it has none.
    """
    found = facts["dns"]
    details = {"ipv4": found.get("ipv4", []), "ipv6": found.get("ipv6", [])}
    if found.get("limits"):  # addresses the scanner's bounds left out
        details["limits"] = found["limits"]
    if found.get("ipv6"):
        return Verdict(Status.PASS, Text(f"IPv6-adres: {', '.join(found['ipv6'])}.",
                                         f"IPv6 address: {', '.join(found['ipv6'])}."), details)
    return Verdict(Status.FAIL, Text("De host heeft geen AAAA-record.", "The host has no AAAA record."), details)


# --- reachable ----------------------------------------------------------------------------------------------

def open_ports(artifact: Artifact) -> set[int]:
    """The web ports that accepted TCP on one address (an address that answered nothing has none)."""
    if not artifact.ok:
        return set()
    ports = artifact.data.get("ports", {"https": 443, "http": 80})
    return {ports[scheme] for scheme, part in (("https", "tcp443"), ("http", "tcp80"))
            if artifact.data.get(part, {}).get("open")}


def _http_artifacts(facts: Facts) -> dict[str, Artifact]:
    return {address: found["http"] for address, found in facts.by_address.items() if "http" in found}


def _broken(artifacts: dict[str, Artifact]) -> Verdict | None:
    """An error verdict when an address's probe failed for a reason other than not answering."""
    for address, artifact in artifacts.items():
        if not artifact.ok and artifact.error not in UNREACHABLE:
            return Verdict(Status.ERROR, Text(f"{address} niet gemeten ({artifact.error}): {artifact.error_detail}",
                                              f"{address} not measured ({artifact.error}): {artifact.error_detail}"),
                           {"address": address}, reason=artifact.error)
    return None


def _comparable_http(facts: Facts):
    """Every address's http artifact, or the verdict that says why IPv4 and IPv6 cannot be compared here
    (no IPv6 on the scanning host, a failed probe)."""
    unmeasured = no_ipv6(facts)
    if unmeasured:
        return unmeasured, {}
    artifacts = _http_artifacts(facts)
    return _broken(artifacts), artifacts


@check("web.ipv6.reachable", level="required", family="ipv6", requires=("dns", "http"),
       norm=NORM + ": elk IPv6-adres is bereikbaar op de poorten die via IPv4 open zijn",
       title=("Bereikbaar via IPv6", "Reachable over IPv6"),
       advice=("Laat de webserver op elk gepubliceerd IPv6-adres luisteren op dezelfde poorten als via IPv4 "
               "(80 en 443), en controleer firewall en routering voor IPv6; of verwijder AAAA-records van "
               "adressen die niet werken.",
               "Have the web server listen on every published IPv6 address on the same ports as over IPv4 "
               "(80 and 443), and check the firewall and routing for IPv6; or remove AAAA records of addresses "
               "that do not work."))
def reachable(facts: Facts) -> Verdict:
    """Each IPv6 address of the host must accept TCP on every web port (443, 80) that any IPv4 address accepts;
    for a host without IPv4, on every port any IPv6 address accepts (443 when none does).
    Pass: every IPv6 address does.
    Fail: some do not; the unreachable [address]:port are listed.
    Not applicable: the host has no AAAA record.
    Error: the scanner has no IPv6 (no_ipv6); an address's http probe failed for a reason other than connect or
    timeout; or no IPv4 address accepts either port (connect).
    """
    found = facts["dns"]
    if not found.get("ipv6"):
        return Verdict(Status.NOT_APPLICABLE, Text("Geen AAAA-record: niets te bereiken via IPv6.",
                                                   "No AAAA record: nothing to reach over IPv6."))
    stop, artifacts = _comparable_http(facts)
    if stop:
        return stop
    v4 = {a: open_ports(art) for a, art in artifacts.items() if not is_ipv6(a)}
    v6 = {a: open_ports(art) for a, art in artifacts.items() if is_ipv6(a)}
    if v4:
        expected = set().union(*v4.values())
        if not expected:
            return Verdict(Status.ERROR, Text("Ook via IPv4 antwoordt geen enkele poort: niets om mee te vergelijken.",
                                              "No port answers over IPv4 either: nothing to compare with."),
                           {"ipv4": {a: sorted(p) for a, p in v4.items()}}, reason=Reason.CONNECT)
    else:
        expected = set().union(*v6.values()) or {443}  # IPv6-only: every address serves what any of them does
    missing = [f"[{a}]:{port}" for a, ports in v6.items() for port in sorted(expected - ports)]
    details = {"expected_ports": sorted(expected), "ipv4": {a: sorted(p) for a, p in v4.items()},
               "ipv6": {a: sorted(p) for a, p in v6.items()}, "unreachable": missing,
               "errors": {a: art.error_detail for a, art in artifacts.items() if is_ipv6(a) and not art.ok}}
    if missing:
        return Verdict(Status.FAIL, Text(f"Niet bereikbaar via IPv6: {', '.join(missing)}.",
                                         f"Not reachable over IPv6: {', '.join(missing)}."), details)
    return Verdict(Status.PASS, Text("Elk IPv6-adres is bereikbaar op dezelfde poorten als via IPv4.",
                                     "Every IPv6 address is reachable on the same ports as over IPv4."), details)


# --- same content -------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _strip_patterns() -> list[re.Pattern]:
    return [re.compile(p, re.IGNORECASE) for p in policy()["same_content"]["strip"]]


def normalise(body: str) -> list[str]:
    """The body cut to the policy's length, without what changes on every request, as tags and text runs."""
    body = body[:policy()["same_content"]["max_body_bytes"]]
    for pattern in _strip_patterns():
        body = pattern.sub("", body)
    return [token.strip() for token in re.findall(r"<[^>]*>|[^<]+", body) if token.strip()]


def similarity(a: str, b: str) -> float:
    """0..1; cheap upper bounds first, so very different large pages cost no quadratic comparison."""
    left, right = normalise(a), normalise(b)
    if left == right:
        return 1.0
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    threshold = policy()["same_content"]["min_similarity"]
    for estimate in (matcher.real_quick_ratio, matcher.quick_ratio):
        bound = estimate()
        if bound < threshold:
            return round(bound, 3)
    return round(matcher.ratio(), 3)


def responses(data: dict) -> dict[str, dict]:
    """Per port what one address answered: status and page body. For 443 the body of the page the redirects
    lead to (the page people see); the status is that of the first response."""
    found = {}
    https, http = data.get("https", {}), data.get("http", {})
    if "status" in https:
        final = data.get("redirects", {}).get("final") or https
        found["https"] = {"status": https["status"], "body": final.get("body", "")}
    if "status" in http:
        found["http"] = {"status": http["status"], "body": http.get("body", "")}
    return found


@check("web.ipv6.same_content", level="recommended", family="ipv6", requires=("dns", "http"),
       norm=NORM + ": dezelfde website via IPv4 en IPv6",
       title=("Zelfde inhoud via IPv6", "Same content over IPv6"),
       advice=("Laat IPv4- en IPv6-adressen door dezelfde webserver (of dezelfde configuratie) bedienen, zodat "
               "bezoekers via beide dezelfde website zien.",
               "Serve the IPv4 and IPv6 addresses from the same web server (or the same configuration), so that "
               "visitors see the same website over both."))
def same_content(facts: Facts) -> Verdict:
    """Each IPv6 address's answers compared with those of the first IPv4 address that answered, per scheme both
    answered on: the first HTTPS status and the page its redirects end on, the HTTP status and its body. Bodies
    are compared after cutting them to `max_body_bytes` characters (512000) and removing the `strip` patterns
    (nonces, view-state, CSRF tokens, long random tokens), as sequences of tags and text runs
    (config/policy/ipv6.toml).
    Pass: the same status and a similarity of at least `min_similarity` (0.9) everywhere.
    Warn: a different status, or a lower similarity (a scheme only one family answers on is left to
    web.ipv6.reachable).
    Not applicable: the host lacks A or AAAA records.
    Error: the scanner has no IPv6 (no_ipv6); an address's http probe failed for a reason other than connect or
    timeout; or no IPv4 or no IPv6 address gave an HTTP response (connect).
    """
    found = facts["dns"]
    if not found.get("ipv6") or not found.get("ipv4"):
        return Verdict(Status.NOT_APPLICABLE, Text("Niet zowel IPv4 als IPv6: niets te vergelijken.",
                                                   "Not both IPv4 and IPv6: nothing to compare."))
    stop, artifacts = _comparable_http(facts)
    if stop:
        return stop
    answered = {a: responses(art.data) for a, art in artifacts.items() if art.ok and responses(art.data)}
    reference = next((a for a in answered if not is_ipv6(a)), None)
    compared = [a for a in answered if is_ipv6(a)]
    if reference is None or not compared:
        family = "IPv4" if reference is None else "IPv6"
        return Verdict(Status.ERROR, Text(f"Geen HTTP-antwoord via {family} om te vergelijken.",
                                          f"No HTTP response over {family} to compare."), reason=Reason.CONNECT)
    threshold = policy()["same_content"]["min_similarity"]
    differences, comparisons = [], []
    for address in compared:
        for port, ours in answered[address].items():
            theirs = answered[reference].get(port)
            if theirs is None:
                continue  # a port only one family serves is web.ipv6.reachable's business
            ratio = similarity(theirs["body"], ours["body"])
            comparisons.append({"address": address, "port": port, "status_ipv4": theirs["status"],
                                "status_ipv6": ours["status"], "similarity": ratio})
            if theirs["status"] != ours["status"]:
                differences.append(f"{address} {port}: status {ours['status']} <> {theirs['status']}")
            elif ratio < threshold:
                differences.append(f"{address} {port}: {ratio:.0%}")
    details = {"reference": reference, "comparisons": comparisons, "min_similarity": threshold,
               "policy_version": policy()["policy"]["version"]}
    if differences:
        return Verdict(Status.WARN, Text(f"Via IPv6 een andere website dan via IPv4 ({reference}): "
                                         f"{'; '.join(differences)}.",
                                         f"Over IPv6 another website than over IPv4 ({reference}): "
                                         f"{'; '.join(differences)}."), details)
    return Verdict(Status.PASS, Text("Via IPv4 en IPv6 dezelfde website.", "The same website over IPv4 and IPv6."),
                   details)
