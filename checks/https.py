"""HTTPS, redirect, HSTS and the certificate's trust and name, per IP address (shared/spec/checks.md,
"Web: HTTPS, certificates, headers"). Judges the facts of the `http` probe (scanner/probes/http.py);
thresholds come from config/policy/web.toml.

HSTS (web.https.hsts): the first Strict-Transport-Security header of the host's own HTTPS response (RFC 6797
8.1), parsed by the grammar of RFC 6797 6.1: `[ directive ] *( ";" [ directive ] )`, each directive a token
with an optional `=` and a token or quoted-string value (RFC 2616), optional spaces and tabs around `;` and
`=`, a `;` inside a quoted string no separator; names case-insensitive and each at most once; `max-age`
required, its value digits (optionally quoted); `includeSubDomains` without a value; other directives
ignored. A header outside that grammar is ignored by browsers (Chromium's parser rejects it whole), so it
`fail`s as if there were none; so does a missing header, or a max-age below `min_max_age`.

Also the small helpers the header and security.txt checks share: the first header of a name, and the error
verdict for an address whose HTTPS response could not be measured.
"""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urljoin, urlsplit

from checks.registry import Facts, check
from checks.web_policy import policy, version
from govscan.model import Reason, Status, Text, Verdict

NORM = "Besluit beveiligde verbinding met overheidswebsites en -webapplicaties (2023)"


# --- shared helpers -----------------------------------------------------------------------------------------

def first_header(headers: list[list[str]], name: str) -> str | None:
    """The value of the first header of that name: the one browsers act on."""
    name = name.lower()
    return next((value for n, value in headers if n.lower() == name), None)


def all_headers(headers: list[list[str]], name: str) -> list[str]:
    name = name.lower()
    return [value for n, value in headers if n.lower() == name]


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def unmeasured(http: dict) -> Verdict | None:
    """An error verdict when this address gave no HTTPS response to judge, else None.

    Whether that itself breaks the norm is web.https.available's verdict; the checks that need a response
    cannot say anything and report why.
    """
    if not http.get("tcp443", {}).get("open"):
        part = http.get("tcp443", {})
        reason = part.get("error") or Reason.CONNECT
        return Verdict(Status.ERROR, Text(f"Geen verbinding op poort 443: {part.get('detail', '')}",
                                          f"No connection on port 443: {part.get('detail', '')}"),
                       {"port443": part}, reason=reason)
    tls = http.get("tls", {})
    if not tls.get("ok"):
        return Verdict(Status.ERROR, Text(f"Geen TLS-verbinding: {tls.get('detail', '')}",
                                          f"No TLS connection: {tls.get('detail', '')}"),
                       {"tls": tls}, reason=tls.get("error") or Reason.TLS)
    part = http.get("https", {})
    if "status" in part:
        return None
    return Verdict(Status.ERROR, Text(f"Geen HTTP-antwoord op poort 443: {part.get('detail', '')}",
                                      f"No HTTP response on port 443: {part.get('detail', '')}"),
                   {"https": part}, reason=part.get("error") or Reason.HTTP)


def _fetched_at(http: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(http["fetched_at"])


# --- web.https.available ------------------------------------------------------------------------------------

@check("web.https.available", level="required", family="https", requires=("http",), per_address=True,
       norm=NORM + ": de website is bereikbaar via HTTPS",
       title=("HTTPS beschikbaar", "HTTPS available"),
       advice=("Laat de webserver op poort 443 HTTPS aanbieden met een geldig certificaat, op elk IPv4- en "
               "IPv6-adres van de website.",
               "Serve HTTPS on port 443 with a valid certificate, on every IPv4 and IPv6 address of the site."))
def https_available(facts: Facts) -> Verdict:
    """Port 443 of this address: TCP, the TLS handshake, and an HTTP response to https://host/.
    Pass: all three (any HTTP status).
    Fail: port 443 accepts no TCP connection while port 80 answers HTTP; the TLS handshake fails other than by a
    timeout; or no valid HTTP response comes over HTTPS other than by a timeout.
    Error: port 443 accepts no TCP connection and port 80 gives no HTTP response either (the connection's reason);
    the handshake or the response timed out.
    """
    http = facts["http"]
    port80_answers = "status" in http.get("http", {})
    tcp443, tls, response = http.get("tcp443", {}), http.get("tls", {}), http.get("https", {})
    details = {"port443": tcp443, "port80_answers": port80_answers}
    if not tcp443.get("open"):
        if port80_answers:
            return Verdict(Status.FAIL, Text("Poort 443 geeft geen antwoord, poort 80 wel: geen HTTPS.",
                                             "Nothing answers on port 443 while port 80 does: no HTTPS."), details)
        return unmeasured(http)
    details["tls"] = tls
    if not tls.get("ok"):
        if tls.get("error") == Reason.TIMEOUT:
            return unmeasured(http)
        return Verdict(Status.FAIL, Text(f"De TLS-handshake op poort 443 mislukt: {tls.get('detail', '')}",
                                         f"The TLS handshake on port 443 fails: {tls.get('detail', '')}"), details)
    if "status" not in response:
        if response.get("error") == Reason.TIMEOUT:
            return unmeasured(http)
        return Verdict(Status.FAIL, Text(f"Geen geldig HTTP-antwoord over HTTPS: {response.get('detail', '')}",
                                         f"No valid HTTP response over HTTPS: {response.get('detail', '')}"),
                       {**details, "https": response})
    details["status"] = response["status"]
    return Verdict(Status.PASS, Text(f"HTTPS werkt ({tls.get('version')}, HTTP-status {response['status']}).",
                                     f"HTTPS works ({tls.get('version')}, HTTP status {response['status']})."),
                   details)


# --- web.https.redirect -------------------------------------------------------------------------------------

@check("web.https.redirect", level="required", family="https", requires=("http",), per_address=True, version=2,
       norm=NORM + ": doorverwijzing naar HTTPS op dezelfde host, vóór elke andere host",
       title=("Doorverwijzing naar HTTPS", "Redirect to HTTPS"),
       advice=("Laat http://host/ als eerste stap met een 301 (of 302/307/308) doorverwijzen naar https:// op "
               "dezelfde host; verwijs pas daarna eventueel door naar een andere host. Of sluit poort 80.",
               "Make http://host/ redirect with a 301 (or 302/307/308) to https:// on the same host as its first "
               "step; only then redirect to another host, if at all. Or close port 80."))
def https_redirect(facts: Facts) -> Verdict:
    """The response to http://host/ on port 80 of this address (its first step only).
    Pass: port 80 accepts no TCP connection; or the status is 301, 302, 307 or 308 (`[redirect] statuses` in
    config/policy/web.toml) and the Location, resolved against the URL, is https:// on the same host (any case, a
    trailing dot ignored) and its standard port 443.
    Fail: another status, or no Location; a Location that is not https://; one on another host; or one on
    another port (the site users reach at https://host/ is not where it sends them).
    Error: port 80 accepts TCP but gives no HTTP response (its reason).
    """
    http = facts["http"]
    tcp80 = http.get("tcp80", {})
    if not tcp80.get("open"):
        return Verdict(Status.PASS, Text("Poort 80 is gesloten: er is geen onversleutelde website.",
                                         "Port 80 is closed: there is no unencrypted site."), {"port80": tcp80})
    response = http.get("http", {})
    if "status" not in response:
        return Verdict(Status.ERROR, Text(f"Geen HTTP-antwoord op poort 80: {response.get('detail', '')}",
                                          f"No HTTP response on port 80: {response.get('detail', '')}"),
                       {"http": response}, reason=response.get("error") or Reason.HTTP)
    status, location = response["status"], response.get("location")
    details = {"url": response["url"], "status": status, "location": location, "policy": version()}
    if status not in policy()["redirect"]["statuses"] or not location:
        return Verdict(Status.FAIL, Text(f"http://{facts.site.host}/ verwijst niet door (status {status}).",
                                         f"http://{facts.site.host}/ does not redirect (status {status})."), details)
    target = urljoin(response["url"], location.strip())
    details["target"] = target
    if urlsplit(target).scheme != "https":
        return Verdict(Status.FAIL, Text(f"De eerste doorverwijzing gaat niet naar HTTPS maar naar {target}.",
                                         f"The first redirect does not go to HTTPS but to {target}."), details)
    if host_of(target) != facts.site.host:
        return Verdict(Status.FAIL, Text(f"De eerste doorverwijzing gaat naar een andere host: {target}.",
                                         f"The first redirect goes to another host: {target}."), details)
    try:
        port = urlsplit(target).port or 443
    except ValueError:
        port = None
    if port != 443:
        return Verdict(Status.FAIL, Text(f"De eerste doorverwijzing gaat naar een andere poort dan 443: {target}.",
                                         f"The first redirect goes to a port other than 443: {target}."), details)
    return Verdict(Status.PASS, Text(f"http:// verwijst door naar HTTPS op dezelfde host ({status}).",
                                     f"http:// redirects to HTTPS on the same host ({status})."), details)


# --- web.https.hsts -----------------------------------------------------------------------------------------

# RFC 6797 6.1 imports `token` and `quoted-string` from RFC 2616 (2.2); optional whitespace may stand around
# the ';' and '=' separators (implied LWS).
HSTS_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
HSTS_QUOTED = re.compile(r'"((?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*)"')
MAX_AGE_CAP = 2**63 - 1  # a max-age may have any number of digits; beyond this it is reported as this


def _ows(value: str, pos: int) -> int:
    while pos < len(value) and value[pos] in " \t":
        pos += 1
    return pos


def parse_hsts(value: str) -> dict[str, str | None]:
    """The directives of one Strict-Transport-Security value (RFC 6797 6.1), names in lower case, quoted
    values unquoted; raises ValueError saying what is wrong.

    `[ directive ] *( ";" [ directive ] )` with `directive = token [ "=" ( token / quoted-string ) ]`: a ';'
    inside a quoted string is no separator; every directive at most once (names compared
    case-insensitively); `max-age` required with delta-seconds (digits, optionally quoted);
    `includeSubDomains` has no value. Unknown directives are ignored when they follow the grammar.
    """
    directives: dict[str, str | None] = {}
    pos = _ows(value, 0)
    while pos < len(value):
        if value[pos] == ";":
            pos = _ows(value, pos + 1)
            continue
        name = HSTS_TOKEN.match(value, pos)
        if not name:
            raise ValueError(f"a directive name must be a token, not {value[pos:pos + 20]!r}")
        key, pos, raw = name.group().lower(), _ows(value, name.end()), None
        if pos < len(value) and value[pos] == "=":
            pos = _ows(value, pos + 1)
            quoted, token = HSTS_QUOTED.match(value, pos), HSTS_TOKEN.match(value, pos)
            if not (quoted or token):
                raise ValueError(f"the value of {key} must be a token or a quoted string")
            raw = re.sub(r"\\(.)", r"\1", quoted.group(1)) if quoted else token.group()
            pos = _ows(value, (quoted or token).end())
        if pos < len(value) and value[pos] != ";":
            raise ValueError(f"';' expected after {key}, not {value[pos:pos + 20]!r}")
        if key in directives:
            raise ValueError(f"directive {key} appears more than once")
        directives[key] = raw
    if "max-age" not in directives:
        raise ValueError("max-age is missing")
    if not re.fullmatch(r"[0-9]+", directives["max-age"] or ""):
        raise ValueError(f"max-age is not a number of seconds: {directives['max-age']!r}")
    if "includesubdomains" in directives and directives["includesubdomains"] is not None:
        raise ValueError("includeSubDomains takes no value")
    return directives


def max_age_seconds(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    return MAX_AGE_CAP if len(digits) > 19 else min(int(digits), MAX_AGE_CAP)


@check("web.https.hsts", level="required", family="https", requires=("http",), per_address=True, version=2,
       norm=NORM + "; Strict-Transport-Security met max-age van minstens een jaar",
       title=("HSTS", "HSTS"),
       advice=("Stuur op elk HTTPS-antwoord van de host (ook op doorverwijzingen) één header "
               "'Strict-Transport-Security: max-age=31536000' (of langer), bijvoorbeeld in nginx met "
               "'add_header Strict-Transport-Security \"max-age=31536000\" always;'. Schrijf includeSubDomains "
               "en preload zonder waarde en noem elke directive maar één keer: browsers negeren een ongeldige "
               "header helemaal.",
               "Send one 'Strict-Transport-Security: max-age=31536000' header (or longer) on every HTTPS response "
               "of the host (redirects included), for example in nginx with "
               "'add_header Strict-Transport-Security \"max-age=31536000\" always;'. Write includeSubDomains and "
               "preload without a value and name each directive once: browsers ignore an invalid header "
               "entirely."))
def https_hsts(facts: Facts) -> Verdict:
    """The first Strict-Transport-Security header of the response to https://host/ itself (before redirects; RFC 6797
    8.1), parsed by the grammar of RFC 6797 6.1: directives separated by `;` (none inside a quoted string), each a
    token with an optional `=` and token or quoted-string value, optional spaces around `;` and `=`. A header
    outside it is ignored by browsers as a whole (Chromium), so it counts as none.
    Pass: a valid header with max-age at least `[hsts] min_max_age` (31536000 s, one year; config/policy/web.toml).
    Fail: no header; an invalid one: a name or value that is no token or quoted string, a directive twice (any
    case), no max-age, a max-age that is not digits (quoted or not), includeSubDomains with a value; a shorter
    max-age.
    Error: no HTTPS response on this address.
    """
    http = facts["http"]
    missing = unmeasured(http)
    if missing:
        return missing
    headers = http["https"]["headers"]
    minimum = policy()["hsts"]["min_max_age"]
    values = all_headers(headers, "strict-transport-security")
    details = {"url": http["https"]["url"], "status": http["https"]["status"], "headers": values,
               "min_max_age": minimum, "policy": version()}
    if not values:
        return Verdict(Status.FAIL, Text("Geen Strict-Transport-Security-header.",
                                         "No Strict-Transport-Security header."), details)
    try:
        directives = parse_hsts(values[0])
    except ValueError as exc:
        details["invalid"] = str(exc)
        return Verdict(Status.FAIL, Text(f"De HSTS-header is ongeldig en browsers negeren hem ({exc}): {values[0]!r}",
                                         f"The HSTS header is invalid and browsers ignore it ({exc}): {values[0]!r}"),
                       details)
    max_age = max_age_seconds(directives["max-age"])
    details.update(max_age=max_age, include_subdomains="includesubdomains" in directives,
                   preload="preload" in directives)
    if max_age < minimum:
        return Verdict(Status.FAIL, Text(f"HSTS max-age is {max_age} seconden, minder dan {minimum}.",
                                         f"HSTS max-age is {max_age} seconds, less than {minimum}."), details)
    return Verdict(Status.PASS, Text(f"HSTS staat aan met max-age {max_age}.", f"HSTS is on with max-age {max_age}."),
                   details)


# --- certificates -------------------------------------------------------------------------------------------

def _certificate_unmeasured(http: dict) -> Verdict | None:
    """An error verdict when no TLS handshake gave a certificate on this address."""
    if http.get("tls", {}).get("ok") and http.get("certificates"):
        return None
    if http.get("tls", {}).get("ok"):
        return Verdict(Status.ERROR, Text("De server stuurde geen certificaat.", "The server sent no certificate."),
                       reason=Reason.TLS)
    return unmeasured(http)


def _chain_summary(certificates: list[dict]) -> list[dict]:
    return [{key: cert.get(key) for key in ("subject", "issuer", "not_before", "not_after", "sans")}
            for cert in certificates]


@check("web.cert.trust", level="required", family="https", requires=("http",), per_address=True,
       norm=NORM + ": een certificaat van een vertrouwde uitgever, binnen de geldigheidsduur",
       title=("Certificaat vertrouwd", "Certificate trusted"),
       advice=("Gebruik een certificaat van een publiek vertrouwde certificaatuitgever (bijvoorbeeld via ACME), "
               "stuur de volledige keten mee (certificaat plus tussencertificaten) en vernieuw het op tijd.",
               "Use a certificate from a publicly trusted authority (for example through ACME), serve the full "
               "chain (certificate plus intermediates) and renew it in time."))
def cert_trust(facts: Facts) -> Verdict:
    """The chain this address served over HTTPS, verified when fetched against the configured roots (`[trust]
    ca_bundle`, else the public roots of certifi) with the served certificates as intermediates; the host name is
    web.cert.hostname's business.
    Pass: the chain builds to a trusted root and every certificate in it is within its validity period.
    Fail: it does not: the leaf expired or is not yet valid, a lone self-signed certificate, or no path to a trusted
    root (the verifier's reason).
    Error: no TLS handshake on this address, or no certificate sent (tls).
    """
    http = facts["http"]
    missing = _certificate_unmeasured(http)
    if missing:
        return missing
    certificates = http["certificates"]
    verification = http.get("cert_verification", {})
    details = {"chain": _chain_summary(certificates), "verified_chain": verification.get("chain", []),
               "error": verification.get("error")}
    if verification.get("validated"):
        return Verdict(Status.PASS, Text("Het certificaat is geldig en leidt naar een vertrouwde root.",
                                         "The certificate is valid and leads to a trusted root."), details)
    now = _fetched_at(http)
    leaf = certificates[0]
    not_before, not_after = dt.datetime.fromisoformat(leaf["not_before"]), dt.datetime.fromisoformat(leaf["not_after"])
    if now > not_after:
        summary = Text(f"Het certificaat is verlopen op {not_after:%Y-%m-%d}.",
                       f"The certificate expired on {not_after:%Y-%m-%d}.")
    elif now < not_before:
        summary = Text(f"Het certificaat is pas geldig vanaf {not_before:%Y-%m-%d}.",
                       f"The certificate is not valid before {not_before:%Y-%m-%d}.")
    elif len(certificates) == 1 and leaf.get("self_issued"):
        summary = Text("Het certificaat is zelfondertekend.", "The certificate is self-signed.")
    else:
        summary = Text(f"De keten leidt niet naar een vertrouwde root: {verification.get('error')}",
                       f"The chain does not lead to a trusted root: {verification.get('error')}")
    return Verdict(Status.FAIL, summary, details)


def name_matches(pattern: str, host: str) -> bool:
    """RFC 6125 matching of one DNS SAN: exact, or a wildcard as the whole left-most label (which matches
    exactly one label), never on fewer than three labels."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if not pattern.startswith("*."):
        return pattern == host and "*" not in pattern
    suffix = pattern[2:]
    if "*" in suffix or suffix.count(".") < 1:
        return False
    label, _, rest = host.partition(".")
    return bool(label) and rest == suffix


@check("web.cert.hostname", level="required", family="https", requires=("http",), per_address=True,
       norm=NORM + ": het certificaat hoort bij de host",
       title=("Certificaat past bij de host", "Certificate matches the host"),
       advice=("Vraag een certificaat aan met de naam van de host in de Subject Alternative Names (of een "
               "passende wildcard) en laat de server dat certificaat bij deze naam (SNI) sturen.",
               "Get a certificate with the host's name in its Subject Alternative Names (or a matching wildcard) "
               "and make the server send it for this name (SNI)."))
def cert_hostname(facts: Facts) -> Verdict:
    """The DNS names in the Subject Alternative Names of the leaf this address served over HTTPS (the subject's CN is
    not read), matched to the host as RFC 6125 says: exactly (any case, a trailing dot ignored), or by a wildcard
    that is the whole left-most label and stands for exactly one label, never on fewer than three labels.
    Pass: a name matches.
    Fail: none does.
    Error: no TLS handshake on this address, or no certificate sent (tls).
    """
    http = facts["http"]
    missing = _certificate_unmeasured(http)
    if missing:
        return missing
    leaf = http["certificates"][0]
    host = facts.site.host
    matched = [name for name in leaf.get("sans", []) if name_matches(name, host)]
    details = {"host": host, "sans": leaf.get("sans", []), "subject": leaf.get("subject"), "matched": matched}
    if matched:
        return Verdict(Status.PASS, Text(f"Het certificaat geldt voor {host} ({matched[0]}).",
                                         f"The certificate is valid for {host} ({matched[0]})."), details)
    names = ", ".join(leaf.get("sans", []))
    return Verdict(Status.FAIL, Text(f"Het certificaat geldt niet voor {host}, alleen voor: {names or 'geen naam'}.",
                                     f"The certificate is not valid for {host}, only for: {names or 'no name'}."),
                   details)
