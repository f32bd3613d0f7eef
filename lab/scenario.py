"""Read and validate a lab scenario file (docs/scenario.md is the schema, this module enforces it).

Validation walks the YAML node tree (not the loaded dicts) so every error names the file, the line and the
field: `default.yaml:42: sites[3].dnssec: 'secur' is not one of secure, insecure, ...`. All errors are
collected and raised together in one `ScenarioError`; nothing is built from a file that has any.
"""
from __future__ import annotations

import copy
import datetime
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from govscan.model import ORGANISATION_TYPES, Reason
from lab.tls_profiles import PROFILES as TLS_PROFILES

DEFAULT_SCENARIO = Path(__file__).resolve().parent / "scenarios" / "default.yaml"

# Every check id of the catalogue (shared/spec/checks.md): an expectation for any other id is a typo.
CATALOGUE_CHECKS = (
    "dns.dnssec", "web.ipv6.nameservers", "web.ipv6.address", "web.ipv6.reachable", "web.ipv6.same_content",
    "web.caa", "web.https.available", "web.https.redirect", "web.https.hsts", "web.cert.trust",
    "web.cert.hostname", "web.cert.public_key", "web.cert.signature", "web.dane",
    "web.headers.x_frame_options", "web.headers.x_content_type_options", "web.headers.referrer_policy",
    "web.headers.csp", "web.security_txt", "web.tls.version", "web.tls.ciphers", "web.tls.cipher_order",
    "web.tls.key_exchange", "web.tls.compression", "web.tls.renegotiation", "web.tls.zero_rtt",
    "web.tls.ocsp_stapling", "mail.spf", "mail.dmarc", "mail.dkim", "mail.starttls", "mail.dane",
    "mail.dnssec", "mail.ipv6", "privacy.tracking_cookies", "privacy.trackers", "privacy.consent_banner",
    "privacy.tracking_after_reject", "privacy.tracking_with_consent", "a11y.statement", "a11y.wcag",
    "domain.gov_nl", "domain.rio", "web.rpki", "web.rpki.nameservers", "mail.rpki",
)
STATUSES = ("pass", "warn", "fail", "info", "not_applicable", "error")
# An expectation is a status, or an error with its reason: `error (refused_address)` compares both.
EXPECTATIONS = STATUSES + tuple(f"error ({reason})" for reason in Reason)

# Zones the lab always creates above site zones; a site's default zone is one label below the deepest one.
PARENT_ZONES = ("gov.nl",)

DEFAULT_NAMESERVERS = ["ns1.dnsprovider.nl", "ns2.dnsprovider.nl"]

# Third-party hosts the lab always serves (docs/scenario.md, "Third parties in the lab").
THIRD_PARTIES = (
    "www.googletagmanager.com", "www.google-analytics.com", "ad.doubleclick.net", "www.youtube.com",
    "consent.cookiebot.com", "toegankelijkheidsverklaring.nl", "canary.govscan-lab.com",
    "secure.quantserve.com", "www.instagram.com", "afvalkalender.govscan-lab.com",
    # consent platforms (lab/templates/thirdparty/cmp.js): OneTrust, Didomi, Usercentrics, a banner frame
    "cdn.cookielaw.org", "sdk.privacy-center.org", "app.usercentrics.eu", "consent.govscan-lab.com",
)

CHOICES = {
    "stack": ("dual", "ipv4", "ipv6"),
    "ipv6_unreachable": ("none", "no_listener", "dropped"),
    "dnssec": ("secure", "insecure", "bogus_ds", "bogus_expired", "bogus_missing_rrsig", "bogus_keytrap",
               "rsasha1", "sha1_ds"),
    "tlsa": ("none", "match", "mismatch"),
    "cert": ("valid", "expired", "wrong_host", "self_signed", "rsa2048", "rsa1024", "sha1", "dsa_intermediate"),
    "ocsp_stapling": ("none", "good", "revoked", "expired"),
    "port80": ("redirect", "redirect_other_host", "content", "closed"),
    "port443": ("open", "closed"),
    "hsts": ("one_year", "short", "missing", "malformed"),
    "headers": ("good", "none", "bad_csp"),
    "security_txt": ("valid", "expired", "no_contact", "wrong_type", "legacy_path", "missing"),
    "security_txt_path": ("well_known", "legacy"),
    "hostile": ("none", "hang", "drip", "redirect_loop", "huge_body", "gzip_bomb", "tls_stall", "js_loop",
                "js_dialogs", "internal_redirect"),
    "mail": ("none", "starttls", "plain", "drip"),
    "mail_tlsa": ("none", "match", "mismatch"),
    "trackers": ("analytics", "pixel", "video", "delayed_cookie", "quantcast", "widget", "matomo", "instagram",
                 "late_cookie", "scroll_analytics", "subpage_pixel"),
    "banner": ("none", "first_layer", "first_layer_delayed", "second_layer", "honours_reject", "tracks_after_reject",
               "tracks_before_click", "onetrust", "onetrust_tracks_after_reject", "didomi_tcf",
               "didomi_tcf_tracks_after_reject", "usercentrics", "usercentrics_tracks_after_reject", "frame",
               "frame_tracks_after_reject"),
    "wcag": ("clean", "violations", "iframe_violation"),
    "session_cookie": ("django",),  # besides true (PHP's session) and false
    "statement_status": ("A", "B", "C", "D"),
    "statement_where": ("page", "register_link", "register_label"),
    "nameserver_stack": ("dual", "ipv4"),
    "rpki": ("valid", "invalid_origin", "too_long", "not_found"),
}

# Site keys that describe the zone rather than the host: sites sharing a zone must agree on them.
ZONE_KEYS = ("dnssec", "nameservers", "caa", "records", "mail", "mail_tlsa", "mail_rpki", "in_rio")

SITE_DEFAULTS: dict[str, Any] = {
    "organisation": "",
    "zone": "",
    "stack": "dual",
    "ipv6_unreachable": "none",
    "different_content_on_ipv6": False,
    "dnssec": "secure",
    "nameservers": DEFAULT_NAMESERVERS,
    "caa": True,
    "tlsa": "none",
    "records": [],
    "cert": "valid",
    "tls": "modern",
    "ocsp_stapling": "none",
    "port80": "redirect",
    "port443": "open",
    "hsts": "one_year",
    "headers": "good",
    "security_txt": "valid",
    "session_cookie": False,
    "pages": {"template": "municipality", "params": {}},
    "hostile": "none",
    "mail": "none",
    "mail_tlsa": "none",
    "in_rio": True,
    "rpki": "valid",
    "mail_rpki": "valid",
    "expect": {},
    "expect_without_ipv6": {},
}

SECURITY_TXT_TYPE = "text/plain; charset=utf-8"

HOST_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
RELATIVE_DATE_RE = re.compile(r"^-(\d+)d$")


class ScenarioError(Exception):
    """Every problem found in a scenario file, one `FILE:LINE: field: message` per line."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass
class Scenario:
    path: Path
    name: str
    description: str
    organisations: dict[str, dict[str, str]]        # code -> {code, name, type}
    nameserver_sets: dict[str, dict[str, Any]]       # name server host -> {stack, responsive}
    sites: list[dict[str, Any]]                      # complete site dicts (defaults applied, `line` added)
    source: str = field(default="", repr=False)

    def site(self, host: str) -> dict[str, Any]:
        return next(s for s in self.sites if s["host"] == host)


def default_zone(host: str) -> str:
    """The registrable domain: one label below the deepest parent zone (a TLD or gov.nl)."""
    labels = host.split(".")
    for parent in PARENT_ZONES:
        if host.endswith("." + parent) and len(labels) > parent.count(".") + 2:
            return ".".join(labels[-(parent.count(".") + 2):])
    return ".".join(labels[-2:])


def resolve_date(value: Any, today: datetime.date | None = None) -> str:
    """An ISO date from a date, an ISO string or `-<days>d` (that many days before today)."""
    today = today or datetime.date.today()
    if isinstance(value, datetime.date):
        return value.isoformat()
    match = RELATIVE_DATE_RE.match(str(value))
    if match:
        return (today - datetime.timedelta(days=int(match.group(1)))).isoformat()
    return datetime.date.fromisoformat(str(value)).isoformat()


class _Reader:
    """Turns YAML nodes into checked Python values, recording errors with their line."""

    def __init__(self, path: Path, loader: yaml.SafeLoader):
        self.path = path
        self.loader = loader
        self.errors: list[str] = []

    def error(self, node: yaml.Node, where: str, message: str) -> None:
        self.errors.append(f"{self.path}:{node.start_mark.line + 1}: {where}: {message}")

    def scalar(self, node: yaml.Node, where: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            self.error(node, where, "expected a single value, not a list or mapping")
            return None
        return self.loader.construct_object(node, deep=True)

    def string(self, node: yaml.Node, where: str) -> str | None:
        value = self.scalar(node, where)
        if value is None and isinstance(node, yaml.ScalarNode):
            self.error(node, where, "a value is required")
        elif value is not None and not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.error(node, where, f"expected text, got {value!r}")
            return None
        return None if value is None else str(value)

    def boolean(self, node: yaml.Node, where: str) -> bool | None:
        value = self.scalar(node, where)
        if not isinstance(value, bool):
            if isinstance(node, yaml.ScalarNode):
                self.error(node, where, f"expected true or false, got {value!r}")
            return None
        return value

    def choice(self, node: yaml.Node, where: str, choices: tuple[str, ...]) -> str | None:
        value = self.string(node, where)
        if value is not None and value not in choices:
            hint = difflib.get_close_matches(value, choices, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            self.error(node, where, f"{value!r} is not one of {', '.join(choices)}{suggestion}")
            return None
        return value

    def host(self, node: yaml.Node, where: str) -> str | None:
        value = self.string(node, where)
        if value is not None:
            value = value.lower().rstrip(".")
            if not HOST_RE.match(value):
                self.error(node, where, f"{value!r} is not a valid host name")
                return None
        return value

    def mapping(self, node: yaml.Node, where: str) -> list[tuple[str, yaml.Node, yaml.Node]] | None:
        """The (key, key node, value node) pairs of a mapping; errors on duplicates."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, where, "expected a mapping (key: value)")
            return None
        pairs, seen = [], set()
        for key_node, value_node in node.value:
            key = self.scalar(key_node, where)
            key = str(key) if key is not None else ""
            if key in seen:
                self.error(key_node, f"{where}.{key}" if where else key, "given twice")
                continue
            seen.add(key)
            pairs.append((key, key_node, value_node))
        return pairs

    def sequence(self, node: yaml.Node, where: str) -> list[yaml.Node] | None:
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, where, "expected a list")
            return None
        return list(node.value)

    def keys(self, pairs, where: str, allowed) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """The pairs whose key is allowed; an error (with a suggestion) for every other key."""
        known = []
        for key, key_node, value_node in pairs:
            if key not in allowed:
                hint = difflib.get_close_matches(key, list(allowed), n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                self.error(key_node, f"{where}.{key}" if where else key, f"unknown key{suggestion}")
            else:
                known.append((key, key_node, value_node))
        return known

    def string_list(self, node: yaml.Node, where: str, item: Callable | None = None) -> list | None:
        items = self.sequence(node, where)
        if items is None:
            return None
        item = item or self.string
        values = [item(n, f"{where}[{i}]") for i, n in enumerate(items)]
        return None if any(v is None for v in values) else values


def _site_field_readers(r: _Reader) -> dict[str, Callable[[yaml.Node, str], Any]]:
    """One reader per site key (docs/scenario.md, "A site")."""

    def choice(name):
        return lambda node, where: r.choice(node, where, CHOICES[name])

    def headers(node, where):
        if isinstance(node, yaml.MappingNode):
            pairs = r.mapping(node, where) or []
            values = [[key, r.string(value_node, f"{where}.{key}")] for key, _, value_node in pairs]
            return None if any(v is None for _, v in values) else values
        if isinstance(node, yaml.SequenceNode):  # [[name, value], ...]: a header may be sent more than once
            values = [r.string_list(item, f"{where}[{i}]") for i, item in enumerate(node.value)]
            for i, (item, value) in enumerate(zip(node.value, values)):
                if value is not None and len(value) != 2:
                    r.error(item, f"{where}[{i}]", "expected [name, value]")
                    values[i] = None
            return None if any(v is None for v in values) else values
        return r.choice(node, where, CHOICES["headers"])

    def security_txt(node, where):
        if not isinstance(node, yaml.MappingNode):
            return r.choice(node, where, CHOICES["security_txt"])
        given = {"path": "well_known", "content_type": SECURITY_TXT_TYPE}
        pairs = r.keys(r.mapping(node, where) or [], where, ("text", *given))
        for key, _, value_node in pairs:
            sub = f"{where}.{key}"
            given[key] = (r.choice(value_node, sub, CHOICES["security_txt_path"]) if key == "path"
                          else r.scalar(value_node, sub) if key == "text" else r.string(value_node, sub))
        if not isinstance(given.get("text"), str):
            r.error(node, f"{where}.text", "the file's text is required")
            return None
        return None if None in given.values() else given

    def session_cookie(node, where):
        value = r.scalar(node, where)
        if isinstance(value, bool) or value in CHOICES["session_cookie"]:
            return value
        if isinstance(node, yaml.ScalarNode):
            r.error(node, where, f"expected true, false or {', '.join(CHOICES['session_cookie'])}, got {value!r}")
        return None

    def expectations(node, where):
        pairs = r.mapping(node, where)
        if pairs is None:
            return None
        found = {}
        for check_id, key_node, value_node in pairs:
            if check_id not in CATALOGUE_CHECKS:
                hint = difflib.get_close_matches(check_id, CATALOGUE_CHECKS, n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                r.error(key_node, f"{where}.{check_id}", f"not a check id of the catalogue{suggestion}")
                continue
            status = r.choice(value_node, f"{where}.{check_id}", EXPECTATIONS)
            if status is not None:
                found[check_id] = status
        return found

    return {
        "organisation": r.string,
        "zone": r.host,
        "stack": choice("stack"),
        "ipv6_unreachable": choice("ipv6_unreachable"),
        "different_content_on_ipv6": r.boolean,
        "dnssec": choice("dnssec"),
        "nameservers": lambda node, where: r.string_list(node, where, r.host),
        "caa": r.boolean,
        "tlsa": choice("tlsa"),
        "records": lambda node, where: r.string_list(node, where),
        "cert": choice("cert"),
        "tls": lambda node, where: r.choice(node, where, tuple(TLS_PROFILES)),
        "ocsp_stapling": choice("ocsp_stapling"),
        "port80": choice("port80"),
        "port443": choice("port443"),
        "hsts": r.string,  # a name in CHOICES["hsts"] or a literal header value
        "headers": headers,
        "security_txt": security_txt,
        "session_cookie": session_cookie,
        "pages": lambda node, where: _read_pages(r, node, where),
        "hostile": choice("hostile"),
        "mail": choice("mail"),
        "mail_tlsa": choice("mail_tlsa"),
        "in_rio": r.boolean,
        "rpki": choice("rpki"),
        "mail_rpki": choice("rpki"),
        "expect": expectations,
        "expect_without_ipv6": expectations,
    }


def _read_statement(r: _Reader, node: yaml.Node, where: str) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return r.choice(node, where, ("none", "about_page"))
    pairs = r.mapping(node, where)
    if pairs is None:
        return None
    statement = {"status": "A", "date": "-60d", "where": "page", "register_id": None}
    for key, key_node, value_node in r.keys(pairs, where, statement):
        sub = f"{where}.{key}"
        if key == "status":
            statement[key] = r.choice(value_node, sub, CHOICES["statement_status"])
        elif key == "where":
            statement[key] = r.choice(value_node, sub, CHOICES["statement_where"])
        elif key == "register_id":
            value = r.scalar(value_node, sub)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                r.error(value_node, sub, f"expected a positive whole number, got {value!r}")
            statement[key] = value
        elif key == "date":
            value = r.scalar(value_node, sub)
            try:
                statement[key] = resolve_date(value)
            except (TypeError, ValueError):
                r.error(value_node, sub, f"expected a date (2026-05-01) or days ago (-400d), got {value!r}")
    if not isinstance(statement["date"], str) or RELATIVE_DATE_RE.match(statement["date"]):
        statement["date"] = resolve_date(statement["date"])
    if statement["where"] != "page" and statement["register_id"] is None:
        r.error(node, f"{where}.register_id", f"required when where is {statement['where']}")
    return statement


def _read_pages(r: _Reader, node: yaml.Node, where: str) -> dict | None:
    pairs = r.mapping(node, where)
    if pairs is None:
        return None
    given = {key for key, _, _ in pairs}
    kinds = given & {"template", "folder", "inline"}
    if len(kinds) != 1:
        r.error(node, where, "give exactly one of template (with params), folder or inline")
        return None
    kind = kinds.pop()
    allowed = {"template", "params"} if kind == "template" else {kind}
    pairs = r.keys(pairs, where, allowed)
    values = {key: value_node for key, _, value_node in pairs}
    if kind == "folder":
        folder = r.string(values["folder"], f"{where}.folder")
        if folder is None:
            return None
        path = (r.path.parent / folder).resolve()
        if not path.is_dir():
            r.error(values["folder"], f"{where}.folder", f"{path} is not a folder")
            return None
        return {"folder": str(path)}
    if kind == "inline":
        inline_pairs = r.mapping(values["inline"], f"{where}.inline") or []
        pages = {}
        for page, key_node, value_node in inline_pairs:
            if not page.startswith("/"):
                r.error(key_node, f"{where}.inline.{page}", "a page path must start with /")
            pages[page] = r.string(value_node, f"{where}.inline.{page}")
        return {"inline": pages}
    template = r.choice(values["template"], f"{where}.template", tuple(TEMPLATE_PARAMS))
    if template is None:
        return None
    params = dict(TEMPLATE_PARAMS[template])
    if "params" in values:
        param_pairs = r.mapping(values["params"], f"{where}.params") or []
        for key, key_node, value_node in r.keys(param_pairs, f"{where}.params", params):
            sub = f"{where}.params.{key}"
            if key == "trackers":
                params[key] = r.string_list(value_node, sub,
                                            lambda n, w: r.choice(n, w, CHOICES["trackers"])) or []
            elif key == "statement":
                params[key] = _read_statement(r, value_node, sub)
            elif key in ("banner", "wcag"):
                params[key] = r.choice(value_node, sub, CHOICES[key])
            else:
                params[key] = r.string(value_node, sub)
    return {"template": template, "params": params}


# Template name -> its params with their defaults ("" name: filled in from the organisation or host).
TEMPLATE_PARAMS: dict[str, dict[str, Any]] = {
    "municipality": {"name": "", "trackers": [], "banner": "none", "statement": "default", "wcag": "clean"},
    "plain": {"title": "", "body": ""},
}


def _check_records(r: _Reader, node: yaml.Node, where: str, zone: str, records: list[str]) -> None:
    """Each extra record must parse as a zone-file line relative to the zone."""
    import dns.exception
    import dns.zone

    for i, record in enumerate(records):
        text = f"$ORIGIN {zone}.\n$TTL 3600\n@ SOA ns. h. 1 2 3 4 5\n@ NS ns.\n{record}\n"
        try:
            dns.zone.from_text(text, origin=zone + ".", relativize=False, check_origin=False)
        except (dns.exception.DNSException, ValueError) as exc:
            item = node.value[i] if isinstance(node, yaml.SequenceNode) and i < len(node.value) else node
            r.error(item, f"{where}[{i}]", f"not a valid zone-file record: {exc}")


def load(path: str | Path) -> Scenario:
    """Read, validate and complete a scenario; raises ScenarioError listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot read: {exc.strerror}"]) from None
    return loads(text, path)


def loads(text: str, path: Path | str = "<scenario>") -> Scenario:
    path = Path(path)
    loader = yaml.CSafeLoader(text)  # libyaml: ten times faster on generated scenarios, same node marks
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{mark.line + 1}" if mark else "1"
        raise ScenarioError([f"{path}:{line}: (yaml): {getattr(exc, 'problem', None) or exc}"]) from None
    finally:
        loader.dispose()
    r = _Reader(path, loader)
    if root is None:
        raise ScenarioError([f"{path}:1: (file): the file is empty"])
    pairs = r.mapping(root, "")
    if pairs is None:
        raise ScenarioError(r.errors)
    top = {key: (key_node, value_node) for key, key_node, value_node in
           r.keys(pairs, "", ("name", "description", "organisations", "defaults", "nameserver_sets", "sites"))}
    for required in ("name", "sites"):
        if required not in top:
            r.error(root, required, "required key is missing")

    name = r.string(top["name"][1], "name") if "name" in top else ""
    description = r.string(top["description"][1], "description") if "description" in top else ""

    organisations = _read_organisations(r, top.get("organisations"))
    nameserver_sets = _read_nameserver_sets(r, top.get("nameserver_sets"))
    readers = _site_field_readers(r)

    defaults = dict(SITE_DEFAULTS)
    default_lines: dict[str, yaml.Node] = {}
    if "defaults" in top:
        allowed = [k for k in readers if k != "zone"]
        for key, key_node, value_node in r.keys(r.mapping(top["defaults"][1], "defaults") or [], "defaults",
                                                 allowed):
            value = readers[key](value_node, f"defaults.{key}")
            if value is not None:
                defaults[key] = value
                default_lines[key] = value_node

    sites = []
    if "sites" in top:
        for index, node in enumerate(r.sequence(top["sites"][1], "sites") or []):
            site = _read_site(r, node, f"sites[{index}]", readers, defaults)
            if site is not None:
                sites.append(site)
        if not sites and not r.errors:
            r.error(top["sites"][1], "sites", "at least one site is required")
    _check_consistency(r, sites, organisations, nameserver_sets)
    if r.errors:
        raise ScenarioError(r.errors)
    for site in sites:
        _complete_site(site, organisations)
    return Scenario(path=path.resolve() if path.name != "<scenario>" else path, name=name or "",
                    description=description or "", organisations=organisations,
                    nameserver_sets=nameserver_sets, sites=sites, source=text)


def _read_organisations(r: _Reader, entry) -> dict[str, dict[str, str]]:
    organisations: dict[str, dict[str, str]] = {}
    if entry is None:
        return organisations
    for i, node in enumerate(r.sequence(entry[1], "organisations") or []):
        where = f"organisations[{i}]"
        pairs = r.mapping(node, where)
        if pairs is None:
            continue
        values = {k: v for k, _, v in r.keys(pairs, where, ("code", "name", "type"))}
        for required in ("code", "name"):
            if required not in values:
                r.error(node, f"{where}.{required}", "required key is missing")
        if "code" not in values or "name" not in values:
            continue
        code = r.string(values["code"], f"{where}.code")
        org = {"code": code, "name": r.string(values["name"], f"{where}.name"),
               "type": r.choice(values["type"], f"{where}.type", ORGANISATION_TYPES) if "type" in values
               else "other"}
        if code in organisations:
            r.error(values["code"], f"{where}.code", f"organisation {code} is declared twice")
        organisations[code] = org
    return organisations


def _read_nameserver_sets(r: _Reader, entry) -> dict[str, dict[str, Any]]:
    servers: dict[str, dict[str, Any]] = {}
    if entry is None:
        return servers
    for name, key_node, node in r.mapping(entry[1], "nameserver_sets") or []:
        where = f"nameserver_sets.{name}"
        host = r.host(key_node, where)
        pairs = r.mapping(node, where)
        if host is None or pairs is None:
            continue
        server = {"stack": "dual", "responsive": True, "rpki": "valid"}
        for key, _, value_node in r.keys(pairs, where, server):
            if key == "stack":
                server[key] = r.choice(value_node, f"{where}.stack", CHOICES["nameserver_stack"])
            elif key == "rpki":
                server[key] = r.choice(value_node, f"{where}.rpki", CHOICES["rpki"])
            else:
                server[key] = r.boolean(value_node, f"{where}.responsive")
        servers[host] = server
    return servers


def _read_site(r: _Reader, node, where, readers, defaults) -> dict | None:
    pairs = r.mapping(node, where)
    if pairs is None:
        return None
    pairs = r.keys(pairs, where, ["host", *readers])
    values = {key: value_node for key, _, value_node in pairs}
    if "host" not in values:
        r.error(node, f"{where}.host", "required key is missing")
        return None
    host = r.host(values.pop("host"), f"{where}.host")
    if host is None:
        return None
    site = {"host": host, "line": node.start_mark.line + 1, "nodes": {}}
    for key, default in defaults.items():
        if key in values:
            value = readers[key](values[key], f"{where}.{key}")
            site[key] = value
            site["nodes"][key] = values[key]
        else:
            site[key] = copy.deepcopy(default)  # sites never share a mutable default
    site["node"] = node
    site["where"] = where
    return site


def _check_consistency(r: _Reader, sites, organisations, nameserver_sets) -> None:
    """Cross-field rules: unique hosts, known references, zones that agree, combinations that make sense."""
    hosts: dict[str, str] = {}
    zones: dict[str, dict] = {}
    for site in sites:
        where, node, nodes = site["where"], site["node"], site["nodes"]
        host = site["host"]
        if host in hosts:
            r.error(node, f"{where}.host", f"{host} is already declared by {hosts[host]}")
        elif host in THIRD_PARTIES:
            r.error(node, f"{where}.host", f"{host} is a third-party host the lab always serves")
        hosts[host] = where
        zone = site["zone"] or default_zone(host)
        if host != zone and not host.endswith("." + zone):
            r.error(nodes.get("zone", node), f"{where}.zone", f"{host} is not inside the zone {zone}")
            continue
        if zone.count(".") == 0 or zone in PARENT_ZONES:
            r.error(nodes.get("zone", node), f"{where}.zone", f"{zone} is a zone the lab already runs")
            continue
        site["zone"] = zone
        org = site["organisation"]
        if org and org not in organisations:
            r.error(nodes.get("organisation", node), f"{where}.organisation",
                    f"{org!r} is not a code in organisations")
        if site["ipv6_unreachable"] != "none" and site["stack"] == "ipv4":
            r.error(nodes.get("ipv6_unreachable", node), f"{where}.ipv6_unreachable",
                    "needs an IPv6 address (stack dual or ipv6)")
        if site["different_content_on_ipv6"] and site["stack"] != "dual":
            r.error(nodes.get("different_content_on_ipv6", node), f"{where}.different_content_on_ipv6",
                    "needs stack: dual")
        frontend = TLS_PROFILES[site["tls"]].frontend if site["tls"] in TLS_PROFILES else ""
        if frontend and site["ocsp_stapling"] != "none":
            r.error(nodes.get("ocsp_stapling", node), f"{where}.ocsp_stapling",
                    f"needs a TLS profile served by nginx, not tls: {site['tls']}")
        if frontend == "deflate" and site["mail"] == "starttls":
            r.error(nodes.get("tls", node), f"{where}.tls",
                    "the compression profile exists only for HTTPS, not for mail: starttls")
        if site["mail_tlsa"] != "none" and site["mail"] == "none":
            r.error(nodes.get("mail_tlsa", node), f"{where}.mail_tlsa", "needs mail: starttls or plain")
        if site["mail_rpki"] != "valid" and site["mail"] == "none":
            r.error(nodes.get("mail_rpki", node), f"{where}.mail_rpki", "needs a mail server (mail other than none)")
        if not site["nameservers"]:
            r.error(nodes.get("nameservers", node), f"{where}.nameservers", "at least one name server is needed")
        for ns in site["nameservers"] or []:
            if ns.count(".") < 1 or ns in PARENT_ZONES:
                r.error(nodes.get("nameservers", node), f"{where}.nameservers", f"{ns} cannot be a name server name")
        if site["records"]:
            _check_records(r, nodes.get("records", node), f"{where}.records", zone, site["records"])
        first = zones.get(zone)
        if first is None:
            zones[zone] = site
            continue
        for key in ZONE_KEYS:
            if site[key] != first[key]:
                r.error(nodes.get(key, node), f"{where}.{key}",
                        f"zone {zone} is shared with {first['host']} ({first['where']}), which has "
                        f"{key}: {first[key]!r}; sites of one zone must agree on {', '.join(ZONE_KEYS)}")
    for name in nameserver_sets:
        if name in hosts:
            r.error(sites[0]["node"], "nameserver_sets", f"{name} is both a site and a name server")


def _complete_site(site: dict, organisations: dict) -> None:
    """Fill what depends on other fields (page names), and drop the validation bookkeeping."""
    for key in ("node", "nodes", "where"):
        site.pop(key, None)
    pages = site["pages"]
    if "template" in pages:
        params = dict(TEMPLATE_PARAMS[pages["template"]])
        params.update(pages.get("params") or {})
        if params.get("statement") == "default":
            params["statement"] = {"status": "A", "date": resolve_date("-60d"), "where": "page",
                                   "register_id": None}
        org = organisations.get(site["organisation"])
        if pages["template"] == "municipality" and not params["name"]:
            params["name"] = org["name"] if org else site["host"]
        if pages["template"] == "plain" and not params["title"]:
            params["title"] = org["name"] if org else site["host"]
        site["pages"] = {"template": pages["template"], "params": params}


def third_party_site(host: str) -> dict[str, Any]:
    """The site dict of a third-party host: the defaults (a well-configured server), no expectations."""
    site = {key: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
            for key, v in SITE_DEFAULTS.items()}
    site.update(host=host, line=0, zone=default_zone(host), pages={"third_party": host})
    return site
