"""TLS per the NCSC guidelines, and the keys and signatures of the certificates, per IP address
(shared/spec/checks.md, "Web: TLS per NCSC" and `web.cert.public_key` / `web.cert.signature`).

Judges the facts of the `tls` probe (scanner/probes/tls.py) against the classes in
config/policy/tls-ncsc-2.1.toml: good and sufficient pass, phase_out warns, insufficient fails, and the worst
accepted item decides. Details list every accepted item with its class, so a site owner sees what to switch
off. The certificate checks read the chain from the `tls` probe's handshake (the same description of each
certificate as the `http` probe's, scanner.probes.http.describe_certificate), so all TLS-side checks of an
address judge one measurement. They judge every certificate below the root, as internet.nl does: the leaf,
and every served certificate that is not self-issued; details name each by its position in the served chain.

The hash of the server's signature on its key exchange has no check of its own in the catalogue:
web.tls.key_exchange judges it with the groups.
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
    """Every protocol version this address accepts, classed by [protocols] of config/policy/tls-ncsc-2.1.toml (TLS 1.3
    good, TLS 1.2 sufficient; TLS 1.1, TLS 1.0, SSL 3 and SSL 2 insufficient; anything unlisted insufficient); the
    worst accepted version decides.
    Pass: only good or sufficient versions.
    Warn: a phase-out version (the table lists none now).
    Fail: an insufficient version.
    """
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
    """Every cipher suite this address accepts in any version, classed by its IANA name in [cipher_suites] of
    config/policy/tls-ncsc-2.1.toml (good: TLS 1.3 AES-256-GCM and CHACHA20-POLY1305; sufficient: TLS 1.3
    AES-128-GCM/CCM, ECDHE with AES-GCM, AES-CCM or CHACHA20-POLY1305; phase out: ECDHE with AES-CBC-SHA256/384,
    CAMELLIA or ARIA, DHE-RSA with SHA-2 suites; anything else insufficient); the worst accepted suite decides.
    Details list each suite with its class and versions, and say when the probe's handshake budget cut a list short.
    Pass: only good or sufficient suites.
    Warn: a phase-out suite, and no insufficient one.
    Fail: an insufficient suite.
    """
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
    """For each accepted version below TLS 1.3: whether the server enforces its own suite order (its accepted suites
    offered reversed, it still picks its first), and that order (suites classed as for web.tls.ciphers). A version
    where the order could not be measured (no client pass with two suites) counts as neither.
    Pass: the server enforces its order, and in no version does a good or sufficient suite come after a phase-out
    or insufficient one.
    Fail: the server follows the client's order in some version; or it prefers a weaker suite over a good or
    sufficient one.
    Not applicable: TLS 1.3 only.
    """
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


def hash_label(name: str) -> str:
    """SHA-256 for sha256; other names as they are."""
    return f"SHA-{name[3:]}" if name.startswith("sha") and name[3:].isdigit() else name


def collected_without(what: tuple[str, str]) -> Verdict:
    """An error for TLS facts of an older govscan (tls probe 1, mail probe 2) that lack what the current rule
    reads, so an old scan judged again says why it cannot be."""
    return Verdict(Status.ERROR, Text(f"Verzameld door een oudere govscan, zonder {what[0]}: scan opnieuw.",
                                      f"Collected by an older govscan, without {what[1]}: scan again."),
                   reason=Reason.BUG)


@check("web.tls.key_exchange", level="required", family=FAMILY, requires=("tls",), per_address=True, version=2,
       norm=NORM + ": sleuteluitwisseling met goede groepen (ECDHE-curves, ffdhe), en met een handtekening met "
                   "SHA-256 of sterker (SHA-224 uit te faseren, SHA-1 onvoldoende; de checkcatalogus heeft voor "
                   "deze hash geen eigen check, dus telt hij hier mee)",
       title=("Sleuteluitwisseling", "Key exchange"),
       advice=("Gebruik voor ECDHE alleen X25519, X448, secp256r1, secp384r1, secp521r1 of brainpool; gebruik "
               "voor DHE alleen ffdhe3072 of groter uit RFC 7919, of schakel DHE uit. Sta voor de handtekening op "
               "de sleuteluitwisseling alleen SHA-256, SHA-384 en SHA-512 toe (OpenSSL: SignatureAlgorithms, in "
               "nginx via ssl_conf_command).",
               "Use only X25519, X448, secp256r1, secp384r1, secp521r1 or brainpool curves for ECDHE; use "
               "only RFC 7919 ffdhe3072 or larger for DHE, or disable DHE. Allow only SHA-256, SHA-384 and "
               "SHA-512 for the signature on the key exchange (OpenSSL: SignatureAlgorithms, in nginx through "
               "ssl_conf_command)."))
def tls_key_exchange(facts: Facts) -> Verdict:
    """The (EC)DHE groups this address accepts, its DH parameters, and the hashes it signs its TLS 1.2 key exchange
    with (one handshake per hash, offering only the signature schemes with that hash, as internet.nl measures; TLS
    1.3 allows SHA-256 and stronger only, TLS 1.0 and 1.1 sign with SHA-1, which web.tls.version fails), classed by
    [groups] and [key_exchange_hashes] of config/policy/tls-ncsc-2.1.toml; the worst decides. Groups:
    secp256r1/384r1/521r1, brainpool 256/384/512, X25519 and X448 good; secp224r1 and ffdhe3072-8192 phase out;
    ffdhe2048, custom DH parameters (whatever their size), DH the client refuses as too small and any other group
    insufficient. Hashes: SHA-256/384/512 good, SHA-224 phase out, SHA-1, MD5 and any other insufficient.
    Pass: only good or sufficient groups and hashes.
    Warn: a phase-out group or hash, and nothing insufficient.
    Fail: an insufficient group, DH parameter or hash.
    Not applicable: no (EC)DHE key exchange offered.
    Error: facts of tls probe version 1 (mail probe 2), which did not measure the hashes (scan again).
    """
    policy = load()
    kex = facts["tls"]["key_exchange"]
    if "signature_hashes" not in kex:
        return collected_without(("de hashes van de handtekening op de sleuteluitwisseling",
                                  "the hashes of the key-exchange signature"))
    items = [{"name": g, "class": policy.group(g)} for g in kex["groups"]]
    seen = set()
    for dh in kex["dh"]:
        item = _dh_item(policy, dh)
        if item["name"] not in seen:
            seen.add(item["name"])
            items.append(item)
    signatures = kex["signature_hashes"]
    hashes = [{"name": hash_label(name), "class": policy.key_exchange_hash(name)} for name in signatures["accepted"]]
    details = {"groups_measured_on": kex.get("groups_measured_on"), "groups_complete": kex.get("groups_complete"),
               "items": items,
               "signature_hashes": {"measured_on": signatures["measured_on"], "accepted": hashes},
               **_incomplete(facts["tls"])}
    if not items:
        return Verdict(Status.NOT_APPLICABLE, Text("Geen (EC)DHE-sleuteluitwisseling aangeboden.",
                                                   "No (EC)DHE key exchange offered."),
                       {"policy": policy.version, **details})
    return by_class(policy, items + hashes, ("groepen en handtekening-hashes van de sleuteluitwisseling",
                                             "key-exchange groups and signature hashes"), details)


# --- web.tls.compression, renegotiation, zero_rtt -----------------------------------------------------------

@check("web.tls.compression", level="required", family=FAMILY, requires=("tls",), per_address=True,
       norm=NORM + ": geen TLS-compressie",
       title=("TLS-compressie", "TLS compression"),
       advice=("Schakel TLS-compressie uit (CRIME-aanval).", "Disable TLS compression (CRIME attack)."))
def tls_compression(facts: Facts) -> Verdict:
    """TLS compression on one connection of a legacy client at the highest version below TLS 1.3 the address accepts.
    Pass: compression off; or TLS 1.3 only (it has none).
    Fail: compression on.
    Error: that connection could not be made (the legacy client shared no suite with the server).
    """
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
    """Renegotiation on one connection of a legacy client at the highest version below TLS 1.3 the address accepts:
    whether the server supports secure renegotiation (RFC 5746) and completes a renegotiation the client starts.
    Pass: secure renegotiation, and client-initiated renegotiation refused; or TLS 1.3 only (it has none).
    Warn: secure renegotiation, but client-initiated renegotiation allowed.
    Fail: no secure renegotiation.
    Error: that connection could not be made (the legacy client shared no suite with the server).
    """
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
    """Whether the address accepts TLS 1.3 early data: a first handshake gets a session ticket; when the ticket allows
    early data, a resumed handshake sends a request as early data.
    Pass: no ticket allows early data, the server rejects it, or the address does not speak TLS 1.3.
    Fail: the server accepts the early data.
    """
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
    """Informational. The OCSP response stapled to the handshake, judged at the time of the measurement.
    Pass: a valid response: parsed, status SUCCESSFUL, certificate status GOOD, about the served certificate, its
    signature verifies, this_update not in the future and next_update (when given) not passed.
    Info: no OCSP response stapled.
    Fail: a stapled response that is not valid (the problems are listed).
    """
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

SCHEME_LABELS = {"rsa_pkcs1v15": "RSA", "rsa_pss": "RSA-PSS", "ecdsa": "ECDSA", "eddsa": "EdDSA", "dsa": "DSA"}


def _no_chain() -> Verdict:
    return Verdict(Status.ERROR, Text("De server stuurde geen certificaat.", "The server sent no certificate."),
                   reason=Reason.TLS)


def below_root(chain: list[dict]) -> list[tuple[int, dict]]:
    """(position in the served chain, 1 for the leaf; certificate) of every certificate below the root: the leaf
    always, then every served certificate that is not self-issued (a root sent along is not judged)."""
    return [(1, chain[0])] + [(position, cert) for position, cert in enumerate(chain[1:], start=2)
                              if not cert["self_issued"]]


def certificate_item(position: int, cert: dict, name: str, cls: str) -> dict:
    return {"position": position, "role": "leaf" if position == 1 else "intermediate", "subject": cert["subject"],
            "name": name, "class": cls}


def by_certificate(policy: TlsPolicy, items: list[dict], what: tuple[str, str]) -> Verdict:
    """The worst class among the certificates decides; the summary names each certificate of that class by its
    position in the served chain, its role and its subject."""
    details = {"policy": policy.version, "certificates": items}
    worst = worst_class(item["class"] for item in items)
    status = status_of(worst)
    if status == Status.PASS:
        names = ", ".join(item["name"] for item in items)
        return Verdict(status, Text(f"{what[0].capitalize()} van de certificaten onder de root zijn goed of "
                                    f"voldoende: {names}.",
                                    f"{what[1].capitalize()} of the certificates below the root are good or "
                                    f"sufficient: {names}."), details)
    nl, en = CLASS_NAMES[worst]
    roles = {"leaf": ("eindcertificaat", "leaf"), "intermediate": ("tussencertificaat", "intermediate")}
    worst_items = [item for item in items if item["class"] == worst]
    listed_nl = "; ".join(f"{item['name']} in certificaat {item['position']} ({roles[item['role']][0]}, "
                          f"{item['subject']})" for item in worst_items)
    listed_en = "; ".join(f"{item['name']} in certificate {item['position']} ({roles[item['role']][1]}, "
                          f"{item['subject']})" for item in worst_items)
    return Verdict(status, Text(f"{what[0].capitalize()} met klasse '{nl}': {listed_nl}.",
                                f"{what[1].capitalize()} of class '{en}': {listed_en}."), details)


def key_name(cert: dict) -> str:
    size = cert["key_size"]
    names = {"rsa": f"RSA-{size}", "dsa": f"DSA-{size}", "ec": f"EC {cert['curve']}", "ed25519": "Ed25519",
             "ed448": "Ed448"}
    return names.get(cert["key_type"], cert["key_type"])


@check("web.cert.public_key", level="required", family="https", requires=("tls",), per_address=True, version=2,
       norm=NORM + ": sleutels van elk certificaat onder de root, het certificaat zelf en de tussencertificaten "
                   "(RSA >= 3072, of ECDSA/EdDSA met goede curve)",
       title=("Sleutels van de certificaten", "Certificate keys"),
       advice=("Vraag een certificaat aan met een RSA-sleutel van minstens 3072 bits of een ECDSA-sleutel op "
               "P-256 of P-384, bij een uitgever wiens tussencertificaten dat ook hebben, en stuur die "
               "tussencertificaten mee.",
               "Get a certificate with an RSA key of at least 3072 bits or an ECDSA key on P-256 or P-384, from an "
               "authority whose intermediates have such keys too, and serve those intermediates."))
def cert_public_key(facts: Facts) -> Verdict:
    """The key of every certificate below the root: the leaf and every served certificate that is not self-issued
    (a root sent along is not judged), as internet.nl judges them, classed by [certificate_keys] of
    config/policy/tls-ncsc-2.1.toml; the worst decides, each certificate named by its place in the chain. RSA of
    3072 bits or more, EC on secp256r1/384r1/521r1 or brainpool 256/384/512, Ed25519 and Ed448 good; RSA of
    2048-3071 bits and EC on secp224r1 phase out; smaller RSA, other curves, DSA and anything else insufficient.
    Pass: only good or sufficient keys.
    Warn: a phase-out key, and no insufficient one.
    Fail: an insufficient key.
    Error: the handshake gave no certificate (tls).
    """
    policy = load()
    chain = facts["tls"].get("certificates") or []
    if not chain:
        return _no_chain()
    items = [certificate_item(position, cert, key_name(cert),
                              policy.certificate_key(cert["key_type"], cert["key_size"] or 0, cert["curve"]))
             for position, cert in below_root(chain)]
    return by_certificate(policy, items, ("sleutels", "keys"))


def signature_name(cert: dict) -> str:
    """The hash that decides: EdDSA signatures have none of their own and go by their algorithm."""
    return (cert.get("signature_hash") or cert.get("signature_algorithm") or "").lower()


def signature_item(policy: TlsPolicy, position: int, cert: dict) -> dict:
    """A certificate's signature: its scheme (by the algorithm's OID) and its hash, the worse class decides."""
    scheme, scheme_class = policy.signature_scheme(cert["signature_oid"])
    hash_name = signature_name(cert)
    hash_class = policy.signature_hash(hash_name)
    item = certificate_item(position, cert, f"{SCHEME_LABELS.get(scheme, scheme)} {hash_label(hash_name)}",
                            worst_class((scheme_class, hash_class)))
    return item | {"scheme": scheme, "scheme_class": scheme_class, "hash": hash_name, "hash_class": hash_class}


@check("web.cert.signature", level="required", family="https", requires=("tls",), per_address=True, version=2,
       norm=NORM + ": elk certificaat onder de root is ondertekend met RSA (PKCS#1 v1.5 of PSS), ECDSA of EdDSA, "
                   "met SHA-256 of sterker",
       title=("Handtekening van de certificaten", "Certificate signatures"),
       advice=("Vervang certificaten die met DSA, SHA-1 of MD5 zijn ondertekend door certificaten met een "
               "RSA-, ECDSA- of EdDSA-handtekening met SHA-256 of sterker (ook de tussenliggende certificaten).",
               "Replace certificates signed with DSA, SHA-1 or MD5 by ones with an RSA, ECDSA or EdDSA signature "
               "with SHA-256 or stronger (intermediates included)."))
def cert_signature(facts: Facts) -> Verdict:
    """The signature of every certificate below the root: the leaf and every served certificate that is not
    self-issued (a root sent along is not judged), judged twice by config/policy/tls-ncsc-2.1.toml, the worse class
    counting: its scheme, by the algorithm's OID ([signature_algorithms]; RSA PKCS#1 v1.5, RSA-PSS, ECDSA and EdDSA
    good; DSA and any unlisted OID insufficient), and its hash ([signature_hashes]; SHA-256/384/512 and EdDSA's own
    good, SHA-224 phase out, SHA-1, MD5 and anything else insufficient). The worst certificate decides.
    Pass: only good or sufficient signatures.
    Warn: a phase-out signature (SHA-224), and no insufficient one.
    Fail: an insufficient signature.
    Error: the handshake gave no certificate (tls); facts of tls probe version 1 (mail probe 2), which lack the
    signature OIDs (scan again).
    """
    policy = load()
    chain = facts["tls"].get("certificates") or []
    if not chain:
        return _no_chain()
    if any("signature_oid" not in cert for cert in chain):
        return collected_without(("het algoritme van de handtekeningen", "the signatures' algorithms"))
    items = [signature_item(policy, position, cert) for position, cert in below_root(chain)]
    return by_certificate(policy, items, ("handtekeningen", "signatures"))
