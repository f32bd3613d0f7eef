"""TLS per the NCSC guidelines, and the certificate's key and signatures, per IP address
(shared/spec/checks.md, "Web: TLS per NCSC" and `web.cert.public_key` / `web.cert.signature`).

Judges the facts of the `tls` probe (scanner/probes/tls.py) against the classes in
config/policy/tls-ncsc-2.1.toml: good and sufficient pass, phase_out warns, insufficient fails, and the worst
accepted item decides. Details list every accepted item with its class, so a site owner sees what to switch
off. The certificate checks read the chain from the `tls` probe's handshake (the same description of each
certificate as the `http` probe's, scanner.probes.http.describe_certificate), so all TLS-side checks of an
address judge one measurement.
"""
from __future__ import annotations

import datetime as dt

from checks.registry import Facts, check
from checks.tls_policy import ACCEPTABLE, CLASSES, INSUFFICIENT, PHASE_OUT, TlsPolicy, load, worst_class
from govscan.model import Reason, Status, Text, Verdict

NORM = "Besluit beveiligde verbinding (2023); NCSC ICT-beveiligingsrichtlijnen voor TLS v2.1"
FAMILY = "tls"
BELOW_TLS13 = ("TLSv1.2", "TLSv1.1", "TLSv1.0", "SSLv3", "SSLv2")
CLASS_NAMES = {
    "good": ("goed", "good"),
    "sufficient": ("voldoende", "sufficient"),
    "phase_out": ("uit te faseren", "phase out"),
    "insufficient": ("onvoldoende", "insufficient"),
}


def status_of(cls: str | None) -> Status:
    if cls in ACCEPTABLE:
        return Status.PASS
    return Status.WARN if cls == PHASE_OUT else Status.FAIL


def _listed(items: list[dict], cls: str) -> str:
    return ", ".join(item["name"] for item in items if item["class"] == cls)


def by_class(policy: TlsPolicy, items: list[dict], what: tuple[str, str], details: dict) -> Verdict:
    """The verdict for a list of accepted items that each carry a class: the worst class decides, and the
    summary names the items of that class."""
    details = {"policy": policy.version, **details}
    worst = worst_class(item["class"] for item in items)
    status = status_of(worst)
    if status == Status.PASS:
        names = ", ".join(item["name"] for item in items)
        return Verdict(status, Text(f"Alle {what[0]} zijn goed of voldoende: {names}.",
                                    f"All {what[1]} are good or sufficient: {names}."), details)
    nl, en = CLASS_NAMES[worst]
    names = _listed(items, worst)
    return Verdict(status, Text(f"{what[0].capitalize()} met klasse '{nl}' geaccepteerd: {names}.",
                                f"{what[1].capitalize()} of class '{en}' accepted: {names}."), details)


def _below_tls13(tls: dict) -> list[str]:
    """The accepted versions that have cipher order, compression and renegotiation (TLS 1.3 has none)."""
    return [v for v in BELOW_TLS13 if tls["protocols"].get(v)]


def _incomplete(tls: dict) -> dict:
    """The lists the probe cut short at its handshake budget, when there are any (the worst item seen
    still decides: a longer list can only be worse)."""
    return {"incomplete": tls["incomplete"]} if tls.get("incomplete") else {}


def _not_measured(what: tuple[str, str]) -> Verdict:
    return Verdict(Status.ERROR, Text(f"{what[0]} kon niet worden gemeten: de server deelde geen suite met de "
                                      "testclient voor TLS 1.2 en ouder.",
                                      f"{what[1]} could not be measured: the server shared no suite with the "
                                      "test client for TLS 1.2 and older."), reason=Reason.TLS)


# --- web.tls.version ----------------------------------------------------------------------------------------

@check("web.tls.version", level="required", family=FAMILY, requires=("tls",), per_address=True,
       norm=NORM + ": alleen TLS 1.3 (goed) en TLS 1.2 (voldoende)",
       title=("TLS-versies", "TLS versions"),
       advice=("Schakel SSL 2, SSL 3, TLS 1.0 en TLS 1.1 uit; bied TLS 1.3 en eventueel TLS 1.2 aan.",
               "Disable SSL 2, SSL 3, TLS 1.0 and TLS 1.1; offer TLS 1.3 and, if needed, TLS 1.2."))
def tls_version(facts: Facts) -> Verdict:
    policy = load()
    tls = facts["tls"]
    items = [{"name": name, "class": policy.protocol(name)} for name, on in tls["protocols"].items() if on]
    return by_class(policy, items, ("protocolversies", "protocol versions"), {"protocols": items})


# --- web.tls.ciphers ----------------------------------------------------------------------------------------

@check("web.tls.ciphers", level="required", family=FAMILY, requires=("tls",), per_address=True,
       norm=NORM + ": alleen goede en voldoende cipher suites",
       title=("Cipher suites", "Cipher suites"),
       advice=("Schakel elke suite met klasse 'onvoldoende' uit (RSA-sleuteluitwisseling, CBC met SHA-1, 3DES, "
               "RC4, NULL, EXPORT, anoniem, CCM_8) en faseer de 'uit te faseren' suites uit (DHE, CBC met "
               "SHA-2, CAMELLIA, ARIA). Houd ECDHE met AES-GCM of CHACHA20-POLY1305 over.",
               "Disable every 'insufficient' suite (RSA key exchange, SHA-1 CBC, 3DES, RC4, NULL, EXPORT, "
               "anonymous, CCM_8) and phase out the 'phase out' ones (DHE, SHA-2 CBC, CAMELLIA, ARIA). Keep "
               "ECDHE with AES-GCM or CHACHA20-POLY1305."))
def tls_ciphers(facts: Facts) -> Verdict:
    policy = load()
    tls = facts["tls"]
    versions_of: dict[str, list[str]] = {}
    for version, names in tls["suites"].items():
        for name in names:
            versions_of.setdefault(name, []).append(version)
    items = [{"name": name, "class": policy.suite(name), "versions": versions}
             for name, versions in versions_of.items()]
    items.sort(key=lambda item: (-CLASSES.index(item["class"]), item["name"]))
    return by_class(policy, items, ("cipher suites", "cipher suites"), {"suites": items, **_incomplete(tls)})


# --- web.tls.cipher_order -----------------------------------------------------------------------------------

@check("web.tls.cipher_order", level="required", family=FAMILY, requires=("tls",), per_address=True,
       norm=NORM + ": de server bepaalt de volgorde en verkiest goede en voldoende suites",
       title=("Volgorde van cipher suites", "Cipher suite order"),
       advice=("Laat de server zijn eigen volgorde afdwingen (nginx: ssl_prefer_server_ciphers on; Apache: "
               "SSLHonorCipherOrder on) en zet goede en voldoende suites vóór uit te faseren suites.",
               "Make the server enforce its own order (nginx: ssl_prefer_server_ciphers on; Apache: "
               "SSLHonorCipherOrder on) and list good and sufficient suites before phase-out ones."))
def tls_cipher_order(facts: Facts) -> Verdict:
    policy = load()
    tls = facts["tls"]
    versions = _below_tls13(tls)
    if not versions:
        return Verdict(Status.NOT_APPLICABLE, Text("Alleen TLS 1.3: de volgorde doet er niet toe.",
                                                   "TLS 1.3 only: the order does not matter."),
                       {"policy": policy.version})
    per_version = []
    client_order, wrong_preference = [], []
    for version in versions:
        enforced = tls["server_order"].get(version)
        suites = [{"name": n, "class": policy.suite(n)} for n in tls["suites"].get(version, [])]
        entry = {"version": version, "server_order": enforced, "suites": suites}
        if enforced is False:
            client_order.append(version)
        elif enforced:
            # The elimination order is the server's preference: no acceptable suite may come after the
            # first weaker one.
            weaker = next((i for i, s in enumerate(suites) if s["class"] not in ACCEPTABLE), len(suites))
            if any(s["class"] in ACCEPTABLE for s in suites[weaker:]):
                entry["preferred_over_acceptable"] = suites[weaker]["name"]
                wrong_preference.append(f"{version}: {suites[weaker]['name']}")
        per_version.append(entry)
    details = {"policy": policy.version, "versions": per_version}
    if client_order:
        listed = ", ".join(client_order)
        return Verdict(Status.FAIL, Text(f"De server volgt de volgorde van de client ({listed}).",
                                         f"The server follows the client's order ({listed})."), details)
    if wrong_preference:
        listed = "; ".join(wrong_preference)
        return Verdict(Status.FAIL, Text(f"De server verkiest een zwakkere suite boven een goede of voldoende "
                                         f"({listed}).",
                                         f"The server prefers a weaker suite over a good or sufficient one "
                                         f"({listed})."), details)
    return Verdict(Status.PASS, Text("De server dwingt zijn eigen volgorde af en verkiest goede en voldoende "
                                     "suites.",
                                     "The server enforces its own order and prefers good and sufficient suites."),
                   details)


# --- web.tls.key_exchange -----------------------------------------------------------------------------------

def _dh_item(policy: TlsPolicy, dh: dict) -> dict:
    if dh.get("too_small"):
        return {"name": "DH (refused by the client as too small)", "class": INSUFFICIENT, "suite": dh.get("suite")}
    if dh.get("group"):
        return {"name": dh["group"], "class": policy.group(dh["group"]), "suite": dh.get("suite")}
    # Parameters that are not an RFC 7919 group are insufficient whatever their size.
    return {"name": f"DH-{dh.get('bits')} (custom)", "class": INSUFFICIENT, "suite": dh.get("suite")}


@check("web.tls.key_exchange", level="required", family=FAMILY, requires=("tls",), per_address=True,
       norm=NORM + ": sleuteluitwisseling met goede groepen (ECDHE-curves, ffdhe)",
       title=("Sleuteluitwisseling", "Key exchange"),
       advice=("Gebruik voor ECDHE alleen X25519, X448, secp256r1, secp384r1, secp521r1 of brainpool; gebruik "
               "voor DHE alleen ffdhe3072 of groter uit RFC 7919, of schakel DHE uit.",
               "Use only X25519, X448, secp256r1, secp384r1, secp521r1 or brainpool curves for ECDHE; use "
               "only RFC 7919 ffdhe3072 or larger for DHE, or disable DHE."))
def tls_key_exchange(facts: Facts) -> Verdict:
    policy = load()
    kex = facts["tls"]["key_exchange"]
    items = [{"name": g, "class": policy.group(g)} for g in kex["groups"]]
    seen = set()
    for dh in kex["dh"]:
        item = _dh_item(policy, dh)
        if item["name"] not in seen:
            seen.add(item["name"])
            items.append(item)
    details = {"groups_measured_on": kex.get("groups_measured_on"), "groups_complete": kex.get("groups_complete"),
               "items": items,
               **_incomplete(facts["tls"])}
    if not items:
        return Verdict(Status.NOT_APPLICABLE, Text("Geen (EC)DHE-sleuteluitwisseling aangeboden.",
                                                   "No (EC)DHE key exchange offered."),
                       {"policy": policy.version, **details})
    return by_class(policy, items, ("groepen voor sleuteluitwisseling", "key-exchange groups"), details)


# --- web.tls.compression, renegotiation, zero_rtt -----------------------------------------------------------

@check("web.tls.compression", level="required", family=FAMILY, requires=("tls",), per_address=True,
       norm=NORM + ": geen TLS-compressie",
       title=("TLS-compressie", "TLS compression"),
       advice=("Schakel TLS-compressie uit (CRIME-aanval).", "Disable TLS compression (CRIME attack)."))
def tls_compression(facts: Facts) -> Verdict:
    tls = facts["tls"]
    if not _below_tls13(tls):
        return Verdict(Status.PASS, Text("Alleen TLS 1.3, dat geen compressie kent.",
                                         "TLS 1.3 only, which has no compression."))
    legacy = tls.get("legacy_connection")
    if legacy is None:
        return _not_measured(("TLS-compressie", "TLS compression"))
    if legacy["compression"]:
        return Verdict(Status.FAIL, Text(f"TLS-compressie staat aan ({legacy['compression']}).",
                                         f"TLS compression is on ({legacy['compression']})."), legacy)
    return Verdict(Status.PASS, Text("TLS-compressie staat uit.", "TLS compression is off."), legacy)


@check("web.tls.renegotiation", level="required", family=FAMILY, requires=("tls",), per_address=True,
       norm=NORM + ": veilige renegotiation; geen renegotiation op initiatief van de client",
       title=("Renegotiation", "Renegotiation"),
       advice=("Ondersteun veilige renegotiation (RFC 5746) en weiger renegotiation die de client start.",
               "Support secure renegotiation (RFC 5746) and refuse client-initiated renegotiation."))
def tls_renegotiation(facts: Facts) -> Verdict:
    tls = facts["tls"]
    if not _below_tls13(tls):
        return Verdict(Status.PASS, Text("Alleen TLS 1.3, dat geen renegotiation kent.",
                                         "TLS 1.3 only, which has no renegotiation."))
    legacy = tls.get("legacy_connection")
    if legacy is None:
        return _not_measured(("Renegotiation", "Renegotiation"))
    if not legacy["secure_renegotiation"]:
        return Verdict(Status.FAIL, Text("Veilige renegotiation (RFC 5746) wordt niet ondersteund.",
                                         "Secure renegotiation (RFC 5746) is not supported."), legacy)
    if legacy["client_renegotiation"]:
        return Verdict(Status.WARN, Text("De server staat renegotiation op initiatief van de client toe.",
                                         "The server allows client-initiated renegotiation."), legacy)
    return Verdict(Status.PASS, Text("Veilige renegotiation; renegotiation door de client wordt geweigerd.",
                                     "Secure renegotiation; client-initiated renegotiation is refused."), legacy)


@check("web.tls.zero_rtt", level="required", family=FAMILY, requires=("tls",), per_address=True,
       norm=NORM + ": geen 0-RTT (early data)",
       title=("0-RTT", "0-RTT"),
       advice=("Schakel 0-RTT (TLS 1.3 early data) uit (nginx: ssl_early_data off).",
               "Disable 0-RTT (TLS 1.3 early data) (nginx: ssl_early_data off)."))
def tls_zero_rtt(facts: Facts) -> Verdict:
    early = facts["tls"].get("early_data")
    if early is None:
        return Verdict(Status.PASS, Text("Geen TLS 1.3, dus geen 0-RTT.", "No TLS 1.3, so no 0-RTT."))
    if early["accepted"]:
        return Verdict(Status.FAIL, Text("De server accepteert 0-RTT (early data).",
                                         "The server accepts 0-RTT (early data)."), early)
    return Verdict(Status.PASS, Text("De server accepteert geen 0-RTT.", "The server does not accept 0-RTT."),
                   early)


# --- web.tls.ocsp_stapling ----------------------------------------------------------------------------------

def ocsp_problems(ocsp: dict, measured_at: dt.datetime) -> list[str]:
    """Why a stapled OCSP response is not valid (empty when it is)."""
    if not ocsp.get("parsed"):
        return ["unparsable"]
    if ocsp.get("response_status") != "SUCCESSFUL":
        return [f"response status {ocsp.get('response_status')}"]
    problems = []
    if ocsp.get("cert_status") != "GOOD":
        problems.append(f"certificate status {ocsp.get('cert_status')}")
    if not ocsp.get("serial_matches"):
        problems.append("about another certificate")
    if not ocsp.get("signature_valid"):
        problems.append("signature does not verify")
    if dt.datetime.fromisoformat(ocsp["this_update"]) > measured_at:
        problems.append("this_update in the future")
    if ocsp.get("next_update") and dt.datetime.fromisoformat(ocsp["next_update"]) < measured_at:
        problems.append("expired (next_update passed)")
    return problems


@check("web.tls.ocsp_stapling", level="informational", family=FAMILY, requires=("tls",), per_address=True,
       norm="NCSC ICT-beveiligingsrichtlijnen voor TLS v2.1: OCSP stapling",
       title=("OCSP stapling", "OCSP stapling"),
       advice=("Zet OCSP stapling aan (nginx: ssl_stapling on; ssl_stapling_verify on) en zorg dat de server "
               "een geldig, actueel antwoord meestuurt.",
               "Enable OCSP stapling (nginx: ssl_stapling on; ssl_stapling_verify on) and make sure the server "
               "staples a valid, current response."))
def tls_ocsp_stapling(facts: Facts) -> Verdict:
    tls = facts["tls"]
    ocsp = tls.get("ocsp") or {"stapled": False}
    if not ocsp.get("stapled"):
        return Verdict(Status.INFO, Text("Geen OCSP-antwoord meegestuurd.", "No OCSP response stapled."))
    details = {k: v for k, v in ocsp.items() if k != "der_base64"}
    problems = ocsp_problems(ocsp, dt.datetime.fromisoformat(tls["measured_at"]))
    if problems:
        details["problems"] = problems
        listed = ", ".join(problems)
        return Verdict(Status.FAIL, Text(f"Het meegestuurde OCSP-antwoord is ongeldig: {listed}.",
                                         f"The stapled OCSP response is invalid: {listed}."), details)
    return Verdict(Status.PASS, Text("Een geldig OCSP-antwoord wordt meegestuurd.",
                                     "A valid OCSP response is stapled."), details)


# --- web.cert.public_key, web.cert.signature ----------------------------------------------------------------

def _no_chain() -> Verdict:
    return Verdict(Status.ERROR, Text("De server stuurde geen certificaat.", "The server sent no certificate."),
                   reason=Reason.TLS)


def key_name(cert: dict) -> str:
    if cert["key_type"] == "rsa":
        return f"RSA-{cert['key_size']}"
    if cert["key_type"] == "ec":
        return f"EC {cert['curve']}"
    return cert["key_type"] + (f"-{cert['key_size']}" if cert["key_type"] == "dsa" else "")


@check("web.cert.public_key", level="required", family="https", requires=("tls",), per_address=True,
       norm=NORM + ": sleutel van het certificaat (RSA >= 3072, of ECDSA/EdDSA met goede curve)",
       title=("Sleutel van het certificaat", "Certificate key"),
       advice=("Vraag een certificaat aan met een RSA-sleutel van minstens 3072 bits of een ECDSA-sleutel op "
               "P-256 of P-384.",
               "Get a certificate with an RSA key of at least 3072 bits or an ECDSA key on P-256 or P-384."))
def cert_public_key(facts: Facts) -> Verdict:
    policy = load()
    chain = facts["tls"].get("certificates") or []
    if not chain:
        return _no_chain()
    leaf = chain[0]
    name = key_name(leaf)
    cls = policy.certificate_key(leaf["key_type"], leaf["key_size"] or 0, leaf["curve"])
    details = {"policy": policy.version, "key": {"name": name, "class": cls, "subject": leaf["subject"]}}
    nl, en = CLASS_NAMES[cls]
    return Verdict(status_of(cls), Text(f"De sleutel van het certificaat ({name}) is {nl}.",
                                        f"The certificate's key ({name}) is {en}."), details)


def signature_name(cert: dict) -> str:
    """The hash that decides: EdDSA signatures have none of their own and go by their algorithm."""
    return (cert.get("signature_hash") or cert.get("signature_algorithm") or "").lower()


@check("web.cert.signature", level="required", family="https", requires=("tls",), per_address=True,
       norm=NORM + ": handtekeningen met SHA-256 of sterker",
       title=("Handtekening van de certificaten", "Certificate signatures"),
       advice=("Vervang certificaten die met SHA-1 of MD5 zijn ondertekend door certificaten met SHA-256 of "
               "sterker (ook de tussenliggende certificaten).",
               "Replace certificates signed with SHA-1 or MD5 by ones signed with SHA-256 or stronger "
               "(intermediates included)."))
def cert_signature(facts: Facts) -> Verdict:
    policy = load()
    chain = facts["tls"].get("certificates") or []
    if not chain:
        return _no_chain()
    # Every certificate below the root: the leaf always, then every served certificate that is not a root.
    below_root = [chain[0]] + [c for c in chain[1:] if not c["self_issued"]]
    items = [{"name": f"{signature_name(c)} ({c['subject']})", "hash": signature_name(c),
              "class": policy.signature_hash(signature_name(c)), "subject": c["subject"]} for c in below_root]
    return by_class(policy, items, ("handtekeningen", "signatures"), {"certificates": items})
