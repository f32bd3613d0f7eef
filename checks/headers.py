"""The security headers of the front page, per IP address: X-Frame-Options, X-Content-Type-Options,
Referrer-Policy and Content-Security-Policy (shared/spec/checks.md). All recommended: a miss is a `warn`.

The response judged is the page a visitor lands on at this host: the last response of the redirect chain from
https://host/ that is still on the host (the front page itself when it does not redirect). Value tables come
from config/policy/web.toml.

X-Frame-Options, X-Content-Type-Options and Referrer-Policy: only the first header of a name counts, as for
browsers.

Content-Security-Policy: browsers enforce every policy sent, each Content-Security-Policy header and each
comma-separated policy within one (CSP 3); Content-Security-Policy-Report-Only enforces nothing and is not
read. Within a policy, directive names are case-insensitive and a repeated directive is ignored. A resource
must be allowed by all enforced policies, so a rule about a directive is met when any one policy meets it,
with the directive's own sources or, for a fetch directive it does not have, those of its CSP 3 fallback
(`worker-src` -> `child-src` -> `script-src` -> `default-src`, `frame-src` -> `child-src` -> `default-src`,
`script-src-elem`/`-attr` -> `script-src` -> `default-src`, likewise for `style-src`, any other `*-src` ->
`default-src`):
- `missing`: a required directive (`default-src`, `base-uri`, `frame-ancestors`, `form-action`) that no
  policy has;
- `too_wide`: a directive that every policy governing it sets too wide: `default-src` and `base-uri` with a
  source other than 'self', 'none', the host or https://host; any other source directive with
  'unsafe-inline', 'unsafe-eval', 'unsafe-hashes', http:, https:, * or an http:// source; `script-src` or
  `object-src` with data:.
`pass` without either, `warn` with either or without any Content-Security-Policy header. X-Frame-Options
also passes on `frame-ancestors` in any enforced policy.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from checks.https import all_headers, first_header, host_of, unmeasured
from checks.registry import Facts, check
from checks.web_policy import policy, version
from govscan.model import Status, Text, Verdict

NORM = "Forum Standaardisatie / NCSC ICT-beveiligingsrichtlijnen voor webapplicaties: beveiligingsheaders"


def page_response(http: dict, host: str) -> dict:
    """URL, status and headers of the last response on the site's own host in the redirect chain."""
    page = {key: http["https"][key] for key in ("url", "status", "headers")}
    for hop in http.get("redirects", {}).get("hops", [])[1:]:
        if "status" not in hop or host_of(hop["url"]) != host or urlsplit(hop["url"]).scheme != "https":
            break
        page = {key: hop[key] for key in ("url", "status", "headers")}
    return page


def _judge(facts: Facts, judge) -> Verdict:
    http = facts["http"]
    missing = unmeasured(http)
    if missing:
        return missing
    page = page_response(http, facts.site.host)
    verdict = judge(page["headers"])
    verdict.details = {"url": page["url"], "status": page["status"], **verdict.details, "policy": version()}
    return verdict


# --- Content-Security-Policy --------------------------------------------------------------------------------

def parse_csp(value: str) -> dict[str, list[str]]:
    """Directives of one policy, names lower case; a repeated directive is ignored, as browsers do."""
    directives: dict[str, list[str]] = {}
    for part in value.split(";"):
        tokens = part.split()
        if tokens and tokens[0].lower() not in directives:
            directives[tokens[0].lower()] = tokens[1:]
    return directives


def csp_policies(headers: list[list[str]]) -> list[dict[str, list[str]]]:
    """Every enforced policy of a response: each Content-Security-Policy header, and each comma-separated
    policy within one (CSP 3, "parse a response's Content Security Policies"); empty ones left out.
    Content-Security-Policy-Report-Only enforces nothing and is not read."""
    return [policy for value in all_headers(headers, "content-security-policy") for part in value.split(",")
            if (policy := parse_csp(part))]


def _own_source(source: str, host: str) -> bool:
    """'self', 'none', or the site itself (host or https://host, with an optional path)."""
    source = source.lower()
    if source in ("'self'", "'none'"):
        return True
    if "://" in source:
        scheme, _, source = source.partition("://")
        if scheme != "https":
            return False
    return source.split("/", 1)[0].split(":", 1)[0] == host


def _source_directive(name: str) -> bool:
    return name.endswith("-src") or name in ("base-uri", "form-action", "frame-ancestors", "navigate-to")


def _too_wide(name: str, sources: list[str], host: str) -> list[str]:
    """The sources of one directive of one policy that break the catalogue's rule for it."""
    rules = policy()["headers"]["csp"]
    if name in rules["self_only"]:
        return [s for s in sources if not _own_source(s, host)]
    forbidden = {s.lower() for s in rules["forbidden"]}
    bad = [s for s in sources if _source_directive(name) and (s.lower() in forbidden or s.lower().startswith("http://"))]
    if name in rules["no_data_in"]:
        bad += [s for s in sources if s.lower() == "data:"]
    return bad


# CSP 3 (6.8.3) "directive fallback list": the directive a fetch directive's sources come from when a policy
# does not have it; the other fetch directives (`*-src`) fall back to default-src alone.
FALLBACKS = {
    "script-src-elem": ("script-src", "default-src"), "script-src-attr": ("script-src", "default-src"),
    "style-src-elem": ("style-src", "default-src"), "style-src-attr": ("style-src", "default-src"),
    "worker-src": ("child-src", "script-src", "default-src"), "frame-src": ("child-src", "default-src"),
}


def _effective(policy_: dict[str, list[str]], name: str) -> list[str] | None:
    """The sources that govern `name` in one policy: its own, or those of its fallback; None if none."""
    fallbacks = FALLBACKS.get(name, ("default-src",)) if name.endswith("-src") and name != "default-src" else ()
    return next((policy_[n] for n in (name, *fallbacks) if n in policy_), None)


def csp_problems(policies: list[dict[str, list[str]]], host: str) -> dict[str, list[str]]:
    """What keeps the enforced policies together from the catalogue's rule. A resource must be allowed by every
    enforced policy, so a directive is satisfied when any policy satisfies it (with its own sources or, for a
    fetch directive, those of its fallback): the required directives that no policy has are `missing`; a
    directive that every policy governing it sets too wide is `too_wide` (as "directive source ...", with the
    offending sources of all of them)."""
    required = policy()["headers"]["csp"]["required"]
    names = list(dict.fromkeys([*required, *(name for p in policies for name in p)]))
    missing, too_wide = [], []
    for name in names:
        faults = [_too_wide(name, sources, host) for p in policies if (sources := _effective(p, name)) is not None]
        if not faults:
            if name in required:
                missing.append(name)
        elif all(faults):
            too_wide.append(" ".join([name, *dict.fromkeys(s for fault in faults for s in fault)]))
    return {"missing": missing, "too_wide": too_wide}


@check("web.headers.csp", level="recommended", family="headers", requires=("http",), per_address=True, version=2,
       norm=NORM + ": Content-Security-Policy",
       title=("Content-Security-Policy", "Content-Security-Policy"),
       advice=("Stuur een Content-Security-Policy met ten minste \"default-src 'self'; base-uri 'self'; "
               "frame-ancestors 'self'; form-action 'self'\" en zonder 'unsafe-inline', 'unsafe-eval', "
               "'unsafe-hashes', http:, https: of *; sta geen data: toe in script-src en object-src.",
               "Send a Content-Security-Policy with at least \"default-src 'self'; base-uri 'self'; "
               "frame-ancestors 'self'; form-action 'self'\" and without 'unsafe-inline', 'unsafe-eval', "
               "'unsafe-hashes', http:, https: or *; allow no data: in script-src and object-src."))
def csp(facts: Facts) -> Verdict:
    """Every enforced policy of the page response (the last HTTPS response on the host itself in the redirect
    chain from https://host/): each Content-Security-Policy header and each comma-separated policy in one;
    Content-Security-Policy-Report-Only is not read. A directive counts with its own sources or, for a fetch
    directive a policy lacks, those of its CSP 3 fallback; a rule is met when any one policy meets it.
    Pass: default-src, base-uri, frame-ancestors and form-action are each in some policy, and no directive is set
    too wide by every policy that governs it.
    Warn: no Content-Security-Policy header; one of those four directives in no policy; or a directive set too
    wide: default-src or base-uri with a source other than 'self', 'none', the host or https://host[:port][/path];
    any other source directive with 'unsafe-inline', 'unsafe-eval', 'unsafe-hashes', http:, https:, * or an
    http:// source; script-src or object-src with data:.
    Error: no HTTPS response on this address.
    """
    def judge(headers):
        values = all_headers(headers, "content-security-policy")
        if not values:
            return Verdict(Status.WARN, Text("Geen Content-Security-Policy-header.",
                                             "No Content-Security-Policy header."), {"headers": []})
        policies = csp_policies(headers)
        problems = csp_problems(policies, facts.site.host)
        details = {"headers": values, "policies": len(policies), **problems}
        if problems["missing"] or problems["too_wide"]:
            nl, en = [], []
            if problems["missing"]:
                nl.append(f"ontbrekend: {', '.join(problems['missing'])}")
                en.append(f"missing: {', '.join(problems['missing'])}")
            if problems["too_wide"]:
                nl.append(f"te ruim: {', '.join(problems['too_wide'])}")
                en.append(f"too permissive: {', '.join(problems['too_wide'])}")
            return Verdict(Status.WARN, Text(f"De Content-Security-Policy schiet tekort ({'; '.join(nl)}).",
                                             f"The Content-Security-Policy falls short ({'; '.join(en)})."), details)
        return Verdict(Status.PASS, Text("De Content-Security-Policy is streng genoeg.",
                                         "The Content-Security-Policy is strict enough."), details)

    return _judge(facts, judge)


# --- the single-value headers -------------------------------------------------------------------------------

@check("web.headers.x_frame_options", level="recommended", family="headers", requires=("http",), per_address=True,
       version=2, norm=NORM + ": X-Frame-Options",
       title=("X-Frame-Options", "X-Frame-Options"),
       advice=("Stuur 'X-Frame-Options: DENY' (of SAMEORIGIN), of een Content-Security-Policy met "
               "frame-ancestors, zodat andere sites uw pagina's niet in een frame kunnen laden (clickjacking).",
               "Send 'X-Frame-Options: DENY' (or SAMEORIGIN), or a Content-Security-Policy with frame-ancestors, "
               "so other sites cannot load your pages in a frame (clickjacking)."))
def x_frame_options(facts: Facts) -> Verdict:
    """The page response (the last HTTPS response on the host itself in the redirect chain from https://host/).
    Pass: the first X-Frame-Options header is DENY or SAMEORIGIN (any case, spaces around it ignored), or an
    enforced Content-Security-Policy has frame-ancestors (whatever its sources).
    Warn: otherwise (no header, or another value such as ALLOW-FROM).
    Error: no HTTPS response on this address.
    """
    def judge(headers):
        value = first_header(headers, "x-frame-options")
        frame_ancestors = [p["frame-ancestors"] for p in csp_policies(headers) if "frame-ancestors" in p]
        details = {"header": value, "csp_frame_ancestors": None}
        if value is not None and value.strip().lower() in policy()["headers"]["x_frame_options_pass"]:
            return Verdict(Status.PASS, Text(f"X-Frame-Options is {value}.", f"X-Frame-Options is {value}."), details)
        if frame_ancestors:
            details["csp_frame_ancestors"] = " ".join(frame_ancestors[0])
            return Verdict(Status.PASS, Text("Content-Security-Policy frame-ancestors is gezet.",
                                             "Content-Security-Policy frame-ancestors is set."), details)
        if value is None:
            return Verdict(Status.WARN, Text("Geen X-Frame-Options en geen CSP frame-ancestors.",
                                             "No X-Frame-Options and no CSP frame-ancestors."), details)
        return Verdict(Status.WARN, Text(f"X-Frame-Options heeft een ongeldige waarde: {value!r}.",
                                         f"X-Frame-Options has an invalid value: {value!r}."), details)

    return _judge(facts, judge)


@check("web.headers.x_content_type_options", level="recommended", family="headers", requires=("http",),
       per_address=True, norm=NORM + ": X-Content-Type-Options",
       title=("X-Content-Type-Options", "X-Content-Type-Options"),
       advice=("Stuur 'X-Content-Type-Options: nosniff', zodat browsers het opgegeven inhoudstype volgen.",
               "Send 'X-Content-Type-Options: nosniff' so browsers follow the declared content type."))
def x_content_type_options(facts: Facts) -> Verdict:
    """The page response (the last HTTPS response on the host itself in the redirect chain from https://host/).
    Pass: the first X-Content-Type-Options header is nosniff (any case, spaces around it ignored).
    Warn: no such header, or another value.
    Error: no HTTPS response on this address.
    """
    def judge(headers):
        value = first_header(headers, "x-content-type-options")
        details = {"header": value}
        if value is not None and value.strip().lower() in policy()["headers"]["x_content_type_options_pass"]:
            return Verdict(Status.PASS, Text("X-Content-Type-Options is nosniff.",
                                             "X-Content-Type-Options is nosniff."), details)
        if value is None:
            return Verdict(Status.WARN, Text("Geen X-Content-Type-Options-header.",
                                             "No X-Content-Type-Options header."), details)
        return Verdict(Status.WARN, Text(f"X-Content-Type-Options is {value!r}, niet nosniff.",
                                         f"X-Content-Type-Options is {value!r}, not nosniff."), details)

    return _judge(facts, judge)


@check("web.headers.referrer_policy", level="recommended", family="headers", requires=("http",), per_address=True,
       norm=NORM + ": Referrer-Policy",
       title=("Referrer-Policy", "Referrer-Policy"),
       advice=("Stuur 'Referrer-Policy: no-referrer' of 'same-origin', zodat bezoekersgegevens in URL's niet "
               "naar andere sites lekken.",
               "Send 'Referrer-Policy: no-referrer' or 'same-origin' so visitor data in URLs does not leak to "
               "other sites."))
def referrer_policy(facts: Facts) -> Verdict:
    """The first Referrer-Policy header of the page response (the last HTTPS response on the host itself in the
    redirect chain from https://host/); of a comma-separated list, the last token (any case) that
    [headers.referrer_policy] in config/policy/web.toml lists decides.
    Pass: no-referrer or same-origin.
    Info: strict-origin or strict-origin-when-cross-origin.
    Warn: origin, origin-when-cross-origin, no-referrer-when-downgrade, unsafe-url, no listed token, or no
    header.
    Error: no HTTPS response on this address.
    """
    table = policy()["headers"]["referrer_policy"]

    def judge(headers):
        value = first_header(headers, "referrer-policy")
        if value is None:
            return Verdict(Status.WARN, Text("Geen Referrer-Policy-header.", "No Referrer-Policy header."),
                           {"header": None})
        # a list is allowed: browsers use the last value they know
        known = [token for token in (t.strip().lower() for t in value.split(",")) if token in table]
        effective = known[-1] if known else None
        details = {"header": value, "effective": effective}
        status = Status(table[effective]) if effective else Status.WARN
        if status == Status.PASS:
            summary = Text(f"Referrer-Policy is {effective}.", f"Referrer-Policy is {effective}.")
        elif effective is None:
            summary = Text(f"Referrer-Policy heeft geen geldige waarde: {value!r}.",
                           f"Referrer-Policy has no valid value: {value!r}.")
        else:
            summary = Text(f"Referrer-Policy {effective} geeft meer prijs dan no-referrer of same-origin.",
                           f"Referrer-Policy {effective} reveals more than no-referrer or same-origin.")
        return Verdict(status, summary, details)

    return _judge(facts, judge)
