"""DNSSEC, DANE and CAA (shared/spec/checks.md, "Web: DNS and IPv6" and `web.dane`).

Judges the facts of the `dnssec`, `tlsa` and `caa` probes (scanner/probes/dnssec.py, dns_records.py) and,
for DANE, the chain each address served (`http` probe). DANE matching follows RFC 6698/7671: usage 3
(DANE-EE) matches the leaf and nothing else is checked; usage 2 (DANE-TA) matches a certificate the server
sent above the leaf, the chain up to it must be signed in order and valid in time, and the leaf must carry
the host name; usages 0 and 1 (PKIX-TA, PKIX-EE) also need the chain to validate to a trusted root. A trust
anchor that the server does not send cannot be matched (the record would name a key govscan never saw).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from checks.https import name_matches, unmeasured
from checks.registry import Facts, check, not_measured
from govscan.model import Reason, Status, Text, Verdict
from govscan.paths import package_data

DNSSEC_NORM = "Forum Standaardisatie, pas toe of leg uit: DNSSEC (streefbeeld eind 2017)"
DANE_NORM = "Forum Standaardisatie, pas toe of leg uit: DANE (RFC 6698/7671)"
CAA_NORM = "RFC 8659: CAA (aanbevolen)"
DNSSEC_POLICY = package_data("policy", "dnssec.toml")


@lru_cache(maxsize=1)
def dnssec_policy() -> dict[str, Any]:
    """RFC 8624's requirement tables (config/policy/dnssec.toml)."""
    with open(DNSSEC_POLICY, "rb") as fh:
        return tomllib.load(fh)


# --- DNSSEC problems in words -------------------------------------------------------------------------------

def describe_problem(problem: dict | None, ede: list[dict] | None = None) -> Text:
    """What is wrong, at which zone cut, in both languages (shared by dns.dnssec and web.dane)."""
    if not problem:
        said = "; ".join(f"{e['name']}{': ' + e['text'] if e.get('text') else ''}" for e in ede or []) or "SERVFAIL"
        return Text(f"de resolver keurt de gegevens af ({said})", f"the resolver rejects the data ({said})")
    zone, parent, rrset = problem.get("zone"), problem.get("parent"), problem.get("rrset", "")
    if "parent" not in problem:  # the zone's own records
        cut = Text(f"in de zone {zone}", f"in the zone {zone}")
    else:
        cut = zone_cut(zone, parent)
    code = problem["code"]
    words = {
        "no_ds": (f"geen DS-record voor {zone} in {parent}: de zone is niet (veilig) gedelegeerd",
                  f"no DS record for {zone} in {parent}: the delegation is not secured"),
        "ds_matches_no_dnskey": (f"het DS-record in {parent} past bij geen enkele DNSKEY van {zone}",
                                 f"the DS record in {parent} matches no DNSKEY of {zone}"),
        "anchor_mismatch": ("de DNSKEY van de root past niet bij het ingestelde vertrouwensanker",
                            "the root's DNSKEY does not match the configured trust anchor"),
        "dnskey_missing": (f"{zone} publiceert geen DNSKEY", f"{zone} publishes no DNSKEY"),
        "rrsig_missing": (f"de handtekening (RRSIG) ontbreekt bij {rrset}",
                          f"the signature (RRSIG) of {rrset} is missing"),
        "signature_expired": (f"de handtekening van {rrset} is verlopen op {problem.get('expiration')}",
                              f"the signature of {rrset} expired at {problem.get('expiration')}"),
        "signature_not_yet_valid": (f"de handtekening van {rrset} is pas geldig vanaf {problem.get('inception')}",
                                    f"the signature of {rrset} is not valid before {problem.get('inception')}"),
        "signature_invalid": (f"de handtekening van {rrset} klopt niet", f"the signature of {rrset} does not verify"),
        "unknown_key": (f"{rrset} is ondertekend met sleutel {problem.get('key_tag')}, die niet in de DNSKEY-set staat",
                        f"{rrset} is signed with key {problem.get('key_tag')}, which is not in the DNSKEY set"),
        "key_refused": (f"{rrset} is ondertekend met sleutel {problem.get('key_tag')}, die de scanner weigert: "
                        f"{problem.get('detail')}",
                        f"{rrset} is signed with key {problem.get('key_tag')}, which the scanner refuses: "
                        f"{problem.get('detail')}"),
        "validation_limit": (f"de controle van {rrset or 'het antwoord'} is gestopt bij de grenzen van de scanner "
                             f"({_limits(problem)}), zoals ook validerende resolvers zulke zones afkeuren",
                             f"checking {rrset or 'the answer'} stopped at the scanner's limits ({_limits(problem)}), "
                             "as validating resolvers also reject such zones"),
    }
    nl, en = words.get(code, (code, code))
    return Text(f"{cut.nl}: {nl}", f"{cut.en}: {en}")


DISCOURAGED = ("MUST NOT", "NOT RECOMMENDED")  # RFC 8624's words for what a zone should not use


def zone_cut(zone: str, parent: str | None) -> Text:
    """A step of the chain in words: the root is checked against the trust anchor."""
    if parent is None:
        return Text(f"vertrouwensanker -> {zone}", f"trust anchor -> {zone}")
    return Text(f"zonegrens {parent} -> {zone}", f"zone cut {parent} -> {zone}")


def _algorithm_uses(chain: list[dict]):
    """Per zone cut of the walked chain, what RFC 8624 rules on: (zone, parent, table, numbers). The signing
    algorithms are those of the zone's DNSKEYs and of the RRSIGs over them; the DS digest types come from the
    parent's DS records (RFC 4034 5.3: key tag, algorithm, digest type, digest), not from the trust anchor."""
    for position, step in enumerate(chain):
        parent = chain[position - 1]["zone"] if position else None
        algorithms = {key["algorithm"] for key in step.get("dnskeys", [])} | set(step.get("rrsig_algorithms", []))
        yield step["zone"], parent, "algorithms", sorted(algorithms)
        if parent is not None:
            yield step["zone"], parent, "ds_digests", sorted({int(ds.split()[2]) for ds in step.get("ds", [])})


def _use_words(zone: str, parent: str | None, table: str, name: str, also: bool) -> Text:
    if table == "algorithms":
        return Text(f"{zone} is {'ook ' if also else ''}ondertekend met {name}",
                    f"{zone} is {'also ' if also else ''}signed with {name}")
    return Text(f"de DS-records van {zone} in {parent} gebruiken {'ook ' if also else ''}{name}",
                f"the DS records of {zone} in {parent} {'also ' if also else ''}use {name}")


def algorithm_judgement(chain: list[dict]) -> tuple[Text | None, list[Text], list[dict]]:
    """The algorithms of every zone cut against RFC 8624 (config/policy/dnssec.toml): why the chain fails
    (a cut whose every signing algorithm, or every DS digest, RFC 8624 forbids to use and validators need
    not accept: the zone counts as unsigned), the warnings (any other use of a MUST NOT or NOT RECOMMENDED
    entry), and the remarks for the details (each such entry with its zone cut and both columns)."""
    policy = dnssec_policy()
    failure, warnings, remarks = None, [], []
    for zone, parent, table, numbers in _algorithm_uses(chain):
        entries = {n: policy[table].get(str(n)) for n in numbers}
        unusable = bool(numbers) and all(e and e["use"] == "MUST NOT" and e["validate"] != "MUST"
                                         for e in entries.values())
        acceptable = any(e and e["use"] not in DISCOURAGED for e in entries.values())
        said_here = []
        for number, entry in entries.items():
            if entry is None or entry["use"] not in DISCOURAGED:
                continue
            column = "ondertekenen" if table == "algorithms" else "delegatie"
            rule = Text(f"RFC 8624: {column} {entry['use']}, validatie {entry['validate']}",
                        f"RFC 8624: {'signing' if table == 'algorithms' else 'delegation'} {entry['use']}, "
                        f"validation {entry['validate']}")
            verb = ("dat RFC 8624 verbiedt", "which RFC 8624 forbids") if entry["use"] == "MUST NOT" else \
                ("dat RFC 8624 afraadt", "which RFC 8624 advises against")
            uses = _use_words(zone, parent, table, entry["name"], also=acceptable)
            cut = zone_cut(zone, parent)
            said_here.append(Text(f"{cut.nl}: {uses.nl}, {verb[0]} ({rule.nl})",
                                  f"{cut.en}: {uses.en}, {verb[1]} ({rule.en})"))
            remarks.append({"zone": zone, "parent": parent, "table": table, "number": number, "name": entry["name"],
                            "use": entry["use"], "validate": entry["validate"]})
        if not unusable:
            warnings += said_here
        elif failure is None:
            failure = _joined(said_here)
    return failure, warnings, remarks


def _joined(texts: list[Text]) -> Text:
    return Text("; ".join(t.nl for t in texts), "; ".join(t.en for t in texts))


def _limits(problem: dict) -> str:
    """The bounds a zone made the DNSSEC check hit (scanner/probes/dnssec.py), e.g. `150 > dns.max_...`."""
    return ", ".join(f"{limit['found']} > {limit['setting']} = {limit['limit']}" for limit in problem.get("limits", []))


def _dnssec_details(facts: dict) -> dict:
    """The evidence, without the query counts: those vary per run and stay in the artifact, so an unchanged
    zone does not write a new finding every night."""
    return {key: facts.get(key) for key in ("state", "zone", "problem", "chain", "ede", "ds_snippet")
            if facts.get(key) is not None}


def zone_verdict(found: dict) -> tuple[Status, Text, dict]:
    """One zone's DNSSEC facts (`examine` in scanner/probes/dnssec.py) judged: the status, why (without the
    zone's name) and the algorithm details. Shared by dns.dnssec and mail.dnssec."""
    failure, warnings, remarks = algorithm_judgement(found.get("chain") or [])
    details = {"algorithms": remarks, "algorithm_policy": dnssec_policy()["policy"]["version"]} if remarks else {}
    state = found["state"]
    if state == "secure":
        if failure:
            return Status.FAIL, Text(f"valideert, maar {failure.nl}", f"validates, but {failure.en}"), details
        if warnings:
            why = _joined(warnings)
            return Status.WARN, Text(f"valideert, maar {why.nl}", f"validates, but {why.en}"), details
        return Status.PASS, Text("valideert", "validates"), details
    why = failure or describe_problem(found.get("problem"), found.get("ede"))
    return Status.FAIL, why, details


@check("dns.dnssec", level="required", family="dns", requires=("dnssec",), version=2,
       norm=DNSSEC_NORM + ": de zone van de host valideert vanaf het vertrouwensanker",
       title=("DNSSEC", "DNSSEC"),
       advice=("Onderteken de zone met DNSSEC en laat de registrar het DS-record (zie details) in de bovenliggende "
               "zone zetten. Bij een ongeldige handtekening: laat de ondertekening automatisch vernieuwen en "
               "controleer na een sleutelwissel dat het DS-record bij een actieve DNSKEY hoort.",
               "Sign the zone with DNSSEC and have the registrar publish the DS record (see details) in the "
               "parent zone. For an invalid signature: have signatures refreshed automatically, and after a key "
               "rollover check that the DS record matches an active DNSKEY."))
def dnssec(facts: Facts) -> Verdict:
    """The host's A and AAAA records as the validating resolver judges them, checked against a walk of the chain from
    the configured trust anchor (the zone cut where it breaks is in the details). At every zone cut of the chain
    the signing algorithms (of the DNSKEYs and the RRSIGs over them) and the digest types of the parent's DS
    records are looked up in RFC 8624's tables, sections 3.1 and 3.3 (config/policy/dnssec.toml).
    Pass: secure, and no zone cut uses an algorithm or DS digest that RFC 8624 says MUST NOT or NOT RECOMMENDED.
    Warn: secure, but a zone cut uses a NOT RECOMMENDED signing algorithm (RSASHA1, RSASHA1-NSEC3-SHA1,
    RSASHA512), a SHA-1 DS digest (MUST NOT for delegations, but validators must accept it), or a forbidden
    algorithm or digest next to an acceptable one; each named with its zone cut and RFC 8624's words.
    Fail: a zone cut signed only with algorithms RFC 8624 forbids and validators need not accept (RSAMD5, DSA,
    DSA-NSEC3-SHA1, ECC-GOST), or whose DS records use only such digests (GOST R 34.11-94, NULL): named as
    such, whatever the resolver says. Otherwise insecure (unsigned, or no DS chain to the zone) or bogus (a
    signature expired, not yet valid, invalid or missing, a DS that matches no DNSKEY, a record signed with an
    unknown or refused key, or the scanner's validation limits hit), with what is wrong at which zone cut.
    """
    found = facts["dnssec"]
    status, why, algorithms = zone_verdict(found)
    details = _dnssec_details(found) | algorithms
    zone = found["zone"]
    if found["state"] == "secure":
        return Verdict(status, Text(f"De zone {zone} is met DNSSEC ondertekend en {why.nl}.",
                                    f"The zone {zone} is signed with DNSSEC and {why.en}."), details)
    if found["state"] == "insecure":
        return Verdict(Status.FAIL, Text(f"De zone {zone} is niet beveiligd met DNSSEC: {why.nl}.",
                                         f"The zone {zone} is not secured with DNSSEC: {why.en}."), details)
    return Verdict(Status.FAIL, Text(f"DNSSEC van {zone} is ongeldig (bogus): {why.nl}.",
                                     f"DNSSEC of {zone} is invalid (bogus): {why.en}."), details)


# --- DANE ---------------------------------------------------------------------------------------------------

USAGES = {0: "PKIX-TA", 1: "PKIX-EE", 2: "DANE-TA", 3: "DANE-EE"}
MATCHING = {0: lambda data: data, 1: lambda data: hashlib.sha256(data).digest(),
            2: lambda data: hashlib.sha512(data).digest()}


def selected(cert: x509.Certificate, selector: int) -> bytes:
    """The part of a certificate a TLSA selector names: 0 the whole certificate, 1 its public key."""
    if selector == 0:
        return cert.public_bytes(serialization.Encoding.DER)
    return cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def association_matches(record: dict, cert: x509.Certificate) -> bool:
    if record["selector"] not in (0, 1) or record["mtype"] not in MATCHING:
        return False
    return MATCHING[record["mtype"]](selected(cert, record["selector"])) == bytes.fromhex(record["data"])


def _chain_signed_up_to(chain: list[x509.Certificate], top: int) -> bool:
    """Each certificate from the leaf up to position `top` is issued and signed by the next one."""
    for child, issuer in zip(chain[:top], chain[1:top + 1]):
        try:
            child.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            return False
    return True


def _valid_at(chain: list[x509.Certificate], when: dt.datetime) -> bool:
    return all(c.not_valid_before_utc <= when <= c.not_valid_after_utc for c in chain)


def record_text(record: dict) -> str:
    return f"{record['usage']} {record['selector']} {record['mtype']} {record['data']}"


def match_record(record: dict, chain: list[x509.Certificate], host: str, pkix_valid: bool,
                 when: dt.datetime) -> tuple[bool, str]:
    """Whether one TLSA record authenticates the served chain for `host`, and why not."""
    usage = record["usage"]
    if usage not in USAGES:
        return False, f"unknown usage {usage}"
    leaf = chain[0]
    if usage in (1, 3):
        if not association_matches(record, leaf):
            return False, "does not match the leaf certificate"
    else:
        positions = [i for i, cert in enumerate(chain) if i > 0 and association_matches(record, cert)]
        if not positions:
            return False, "matches no certificate the server sent above the leaf"
        if usage == 2:
            top = positions[0]
            if not _chain_signed_up_to(chain, top):
                return False, "the chain from the leaf to the matched trust anchor is not signed in order"
            if not _valid_at(chain[:top], when):
                return False, "a certificate below the matched trust anchor is outside its validity period"
    if usage in (0, 1, 2):
        if not any(name_matches(name, host) for name in _dns_names(leaf)):
            return False, f"the leaf certificate does not carry {host}"
    if usage in (0, 1) and not pkix_valid:
        return False, "PKIX usage, but the chain does not validate to a trusted root"
    return True, "matches"


def _dns_names(cert: x509.Certificate) -> list[str]:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName)
    except (x509.ExtensionNotFound, ValueError):
        return []


@check("web.dane", level="recommended", family="dns", requires=("tlsa",), optional=("http",), per_address=True,
       norm=DANE_NORM + ": een DNSSEC-beveiligd TLSA-record dat past bij het geserveerde certificaat",
       title=("DANE", "DANE"),
       advice=("Publiceer een TLSA-record (bij voorkeur '3 1 1', de SHA-256 van de publieke sleutel van het "
               "certificaat) op _443._tcp.<host> in een met DNSSEC ondertekende zone, en werk het bij vóór elke "
               "certificaat- of sleutelwissel.",
               "Publish a TLSA record (preferably '3 1 1', the SHA-256 of the certificate's public key) at "
               "_443._tcp.<host> in a DNSSEC-signed zone, and update it before every certificate or key change."))
def dane(facts: Facts) -> Verdict:
    """The TLSA records at _443._tcp.<host> against the chain this address served over HTTPS (RFC 6698/7671;
    selectors 0 and 1, matching types 0, 1 and 2).
    Pass: the records are DNSSEC-secure and one matches: usage 3 (DANE-EE) the leaf; usage 2 (DANE-TA) a
    certificate sent above the leaf, the chain up to it signed in order and valid when fetched, the leaf carrying
    the host name; usage 1 (PKIX-EE) the leaf and 0 (PKIX-TA) a certificate sent above it, each with the host name
    on the leaf and a chain that validates to a trusted root. A trust anchor the server does not send never matches.
    Fail: the TLSA records are insecure or bogus; or none matches (why the first does not is given).
    Not applicable: no TLSA record.
    Error: this address gave no TLS handshake or no certificate (the http probe's or the connection's reason).
    """
    tlsa = facts["tlsa"]
    records = tlsa.get("records", [])
    details = {"name": tlsa["name"], "records": [record_text(r) for r in records], "state": tlsa["state"]}
    if not records:
        return Verdict(Status.NOT_APPLICABLE, Text(f"Geen TLSA-record op {tlsa['name']}.",
                                                   f"No TLSA record at {tlsa['name']}."), details)
    if tlsa["state"] != "secure":
        why = describe_problem(tlsa.get("problem"), tlsa.get("ede"))
        details.update(problem=tlsa.get("problem"), ede=tlsa.get("ede"))
        if tlsa["state"] == "bogus":
            summary = Text(f"Het TLSA-record is DNSSEC-ongeldig (bogus): {why.nl}.",
                           f"The TLSA record fails DNSSEC validation (bogus): {why.en}.")
        else:
            summary = Text(f"Het TLSA-record is niet met DNSSEC beveiligd: {why.nl}.",
                           f"The TLSA record is not secured with DNSSEC: {why.en}.")
        return Verdict(Status.FAIL, summary, details)
    unreachable = not_measured("http", facts.artifacts.get("http"))
    if unreachable is not None:
        return unreachable
    http = facts["http"]
    if not (http.get("tls", {}).get("ok") and http.get("certificates")):
        return unmeasured(http) or Verdict(Status.ERROR, Text("De server stuurde geen certificaat.",
                                                              "The server sent no certificate."), details,
                                           reason=Reason.TLS)
    chain = [x509.load_pem_x509_certificate(c["pem"].encode()) for c in http["certificates"]]
    when = dt.datetime.fromisoformat(http["fetched_at"])
    pkix_valid = bool(http.get("cert_verification", {}).get("validated"))
    results = []
    for record in records:
        matched, why = match_record(record, chain, facts.site.host, pkix_valid, when)
        results.append({"record": record_text(record), "usage": USAGES.get(record["usage"], "?"),
                        "matched": matched, "why": why})
    details["results"] = results
    details["served"] = [{"subject": c["subject"], "sha256": c["sha256"],
                          "spki_sha256": hashlib.sha256(selected(cert, 1)).hexdigest()}
                         for c, cert in zip(http["certificates"], chain)]
    good = [r for r in results if r["matched"]]
    if good:
        return Verdict(Status.PASS, Text(f"Het TLSA-record {good[0]['record'][:20]}... past bij het certificaat.",
                                         f"The TLSA record {good[0]['record'][:20]}... matches the certificate."),
                       details)
    return Verdict(Status.FAIL, Text(f"Geen van de {len(records)} TLSA-records past bij de geserveerde keten "
                                     f"({results[0]['why']}).",
                                     f"None of the {len(records)} TLSA records matches the served chain "
                                     f"({results[0]['why']})."), details)


# --- CAA ----------------------------------------------------------------------------------------------------

@check("web.caa", level="recommended", family="dns", requires=("caa",),
       norm=CAA_NORM + ": een CAA-record op de host of een bovenliggend domein",
       title=("CAA", "CAA"),
       advice=("Publiceer een CAA-record (bijvoorbeeld '0 issue \"letsencrypt.org\"') op het domein, zodat alleen "
               "de gekozen certificaatuitgevers certificaten mogen uitgeven.",
               "Publish a CAA record (for example '0 issue \"letsencrypt.org\"') on the domain, so that only the "
               "chosen certificate authorities may issue certificates."))
def caa(facts: Facts) -> Verdict:
    """The CAA record set that applies to the host: the first found climbing from the host up to, and including,
    its top-level domain (RFC 8659 3).
    Pass: one is found (what it allows is not judged).
    Warn: none is.
    """
    found = facts["caa"]
    details = {"found_at": found["found_at"], "records": found["records"], "searched": found["searched"]}
    if found["found_at"]:
        return Verdict(Status.PASS, Text(f"CAA-record gevonden op {found['found_at']}: {'; '.join(found['records'])}.",
                                         f"CAA record found at {found['found_at']}: {'; '.join(found['records'])}."),
                       details)
    return Verdict(Status.WARN, Text("Er geldt geen CAA-record voor deze host.", "No CAA record applies to this host."),
                   details)
