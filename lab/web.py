"""The web side of the lab: nginx for every site and third party, a Python server for the hostile hosts and
one for SMTP. `services(plan)` writes every config file and docroot under `plan.workdir / "web"` and returns
the processes the lab starts inside its namespace (see lab/plan.py for the contract).

nginx serves each host on its own addresses (a server block per host, `server_name` selects the site where
generated scenarios share an IPv4 address). What a site key means here:

- `tls`: protocols, suites and order from lab/tls_profiles.py; `cert`: the chain the lab PKI made
  (SHA-1 signed certificates and 1024-bit keys need `@SECLEVEL=0` to be served by OpenSSL 3);
  `ocsp_stapling`: the response the PKI wrote, stapled from a file. Profiles with a `frontend` are served
  on port 443 by lab/tls_frontend.py, which relays to this host's server blocks on a loopback port
  (one per address family) where nginx speaks plain HTTP with the same headers and pages.
- `port80`: redirect (301 to https on the same host), redirect_other_host (301 to https on the alias, which
  then redirects back), content (the pages over plain http), closed (nothing listens on port 80);
  `port443: closed`: nothing listens on port 443 (a site only on http).
- `hsts`, `headers`, `security_txt`, `session_cookie`: response headers and files, see the tables below.
"""
from __future__ import annotations

import datetime
import json
import os
import sys
from pathlib import Path

from lab import pages
from lab.plan import HostPlan, LabPlan, Service
from lab.scenario import SECURITY_TXT_TYPE, THIRD_PARTIES
from lab.tls_profiles import GROUPS, PROFILES, WEAK_CERTIFICATES

# Third-party hosts the lab serves (their DNS and certificates come from the plan; docs/scenario.md).
THIRD_PARTY_HOSTS = THIRD_PARTIES

HSTS = {"one_year": "max-age=31536000; includeSubDomains", "short": "max-age=86400",
        # Not parsable as RFC 6797: the directive is misspelt, so there is no max-age at all.
        "malformed": "max_age=31536000; includeSubDomains", "missing": None}

# Sources the municipal pages load (docs/scenario.md, "Third parties in the lab"): a strict policy that still
# lets the template's trackers, banner and register label work, as a real site's policy would.
GOOD_CSP = ("default-src 'self'; script-src 'self' https://www.googletagmanager.com https://consent.cookiebot.com "
            "https://secure.quantserve.com https://cdn.cookielaw.org https://sdk.privacy-center.org "
            "https://app.usercentrics.eu https://consent.govscan-lab.com; img-src 'self' https://ad.doubleclick.net https://www.google-analytics.com "
            "https://www.toegankelijkheidsverklaring.nl; connect-src 'self' https://www.google-analytics.com; "
            "frame-src 'self' https://www.youtube.com https://www.instagram.com https://afvalkalender.govscan-lab.com "
            "https://consent.govscan-lab.com; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'")
BAD_CSP = "default-src * 'unsafe-inline' 'unsafe-eval' data:; frame-ancestors 'self'"
GOOD_HEADERS = {"X-Frame-Options": "SAMEORIGIN", "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin", "Content-Security-Policy": GOOD_CSP}
HEADERS = {"good": GOOD_HEADERS, "none": {}, "bad_csp": {**GOOD_HEADERS, "Content-Security-Policy": BAD_CSP}}

WELL_KNOWN_SECURITY_TXT, LEGACY_SECURITY_TXT = "/.well-known/security.txt", "/security.txt"

# `session_cookie`: true is PHP's session (ends with the browser), django Django's (two weeks, its default).
SESSION_COOKIES = {True: "PHPSESSID=$request_id; Path=/; Secure; HttpOnly; SameSite=Lax",
                   "django": "sessionid=$request_id; Max-Age=1209600; Path=/; Secure; HttpOnly; SameSite=Lax"}

# Hostile behaviours served by lab/hostile.py; js_loop and js_dialogs are pages served by nginx.
PYTHON_HOSTILE = ("hang", "drip", "redirect_loop", "huge_body", "gzip_bomb", "tls_stall", "internal_redirect")

# Loopback ports in the lab namespace where nginx serves the hosts behind a TLS front end: two per host.
BACKEND_PORT_BASE = 20000


def services(plan: LabPlan) -> list[Service]:
    """Write configs and docroots, and return nginx, the hostile server and the SMTP server (when needed)."""
    web = plan.workdir / "web"
    for sub in ("logs", "tmp", "www"):
        (web / sub).mkdir(parents=True, exist_ok=True)
    register = pages.register_entries(plan.scenario.sites, plan.scenario.organisations)
    today = datetime.date.today()
    blocks, ports, served, fronted = [], [], [], []
    for host in plan.hosts.values():
        if host.role == "mail" or host.site["hostile"] in PYTHON_HOSTILE:
            continue
        served.append(host)
        root = web / "www" / host.host
        if host.role == "third_party":
            pages.render_third_party(host.host, root, register)
        else:
            pages.render_site(host.site, root)
            write_security_txt(host, root, today)
        ipv6_root = None
        if host.site["different_content_on_ipv6"]:
            ipv6_root = web / "www" / f"{host.host}.ipv6"
            pages.render_ipv6_variant(host.site, ipv6_root)
        backend = None
        if frontend(host):
            backend = BACKEND_PORT_BASE + 2 * len(fronted)
            fronted.append((host, families(host, root, ipv6_root), backend))
        blocks.append(server_blocks(host, root, ipv6_root, backend))
        ports += [(address, port) for address in listen_addresses(host) for port in host_ports(host)
                  if not (backend and port == 443)]
    blocks += shared_address_defaults(served)
    conf = web / "nginx.conf"
    conf.write_text(nginx_conf(web, blocks), encoding="utf-8")
    result = [Service("nginx", ["nginx", "-p", f"{web}/", "-c", str(conf), "-g", "daemon off;"],
                      sorted(set(ports)))]

    hostile = [h for h in plan.hosts.values() if h.role != "mail" and h.site["hostile"] in PYTHON_HOSTILE]
    if hostile:
        config = web / "hostile.json"
        config.write_text(json.dumps([{"host": h.host, "behaviour": h.site["hostile"],
                                       "addresses": listen_addresses(h), "chain": str(h.chain_file),
                                       "key": str(h.key_file)} for h in hostile], indent=1))
        result.append(Service("hostile", [sys.executable, "-m", "lab.hostile", str(config)],
                              [(a, p) for h in hostile for a in listen_addresses(h) for p in (80, 443)]))

    if fronted:
        config = web / "tls_frontend.json"
        config.write_text(json.dumps([
            {"host": h.host, "tls": h.site["tls"], "weak_certificate": h.site["cert"] in WEAK_CERTIFICATES,
             "chain": str(h.chain_file), "key": str(h.key_file),
             "routes": [{"addresses": addresses, "backend": ["127.0.0.1", backend + i]}
                        for i, (addresses, _) in enumerate(fams)]}
            for h, fams, backend in fronted], indent=1))
        result.append(Service("tls_frontend", [sys.executable, "-m", "lab.tls_frontend", str(config)],
                              [(a, 443) for h, fams, _ in fronted for addresses, _ in fams for a in addresses]))

    mail = [h for h in plan.hosts.values() if h.role == "mail" and h.site["mail"] != "none"]
    if mail:
        config = web / "smtp.json"
        config.write_text(json.dumps([{"host": h.host, "mode": h.site["mail"], "tls": h.site["tls"],
                                       "weak_certificate": h.site["cert"] in WEAK_CERTIFICATES,
                                       "addresses": listen_addresses(h), "chain": str(h.chain_file),
                                       "key": str(h.key_file)} for h in mail], indent=1))
        result.append(Service("smtp", [sys.executable, "-m", "lab.smtp", str(config)],
                              [(a, 25) for h in mail for a in listen_addresses(h)]))
    return result


def shared_address_defaults(hosts: list[HostPlan]) -> list[str]:
    """Where hosts share an address (large generated scenarios), port 80 of a name that has no server there
    (`port80: closed`) is closed without an answer instead of reaching another host's server."""
    owners: dict[str, int] = {}
    for host in hosts:
        for address in listen_addresses(host):
            owners[address] = owners.get(address, 0) + 1
    listening = {address for host in hosts if 80 in host_ports(host) for address in listen_addresses(host)}
    return [f"server {{\n{_listen(address, 80, False)[:-1]} default_server;\n    return 444;\n}}"
            for address in sorted(listening) if owners[address] > 1]


def listen_addresses(host: HostPlan) -> list[str]:
    """The addresses a host's servers bind: IPv4 always, IPv6 unless the scenario makes it unreachable."""
    return list(host.ipv4) + (list(host.ipv6) if host.ipv6_listening else [])


def host_ports(host: HostPlan) -> tuple[int, ...]:
    if host.role == "third_party":
        return (80, 443)
    return tuple(port for port, key in ((80, "port80"), (443, "port443")) if host.site[key] != "closed")


def _listen(address: str, port: int, ssl: bool) -> str:
    bracketed = f"[{address}]" if ":" in address else address
    return f"    listen {bracketed}:{port}{' ssl' if ssl else ''};"


def _quote(value: str) -> str:
    """An nginx string literal; `$` goes through the `$dollar` variable so values are taken literally."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "${dollar}")
    return f'"{escaped}"'


def response_headers(site: dict) -> list[tuple[str, str]]:
    """The headers every HTTPS response of a site carries (HSTS, security headers, session cookie)."""
    headers = []
    hsts = HSTS.get(site["hsts"], site["hsts"])
    if hsts:
        headers.append(("Strict-Transport-Security", hsts))
    named = site["headers"]
    headers += list(HEADERS[named].items()) if isinstance(named, str) else [tuple(pair) for pair in named]
    return headers


def _add_headers(headers: list[tuple[str, str]], session_cookie: bool | str = False) -> list[str]:
    lines = [f"    add_header {_quote(name)} {_quote(value)} always;" for name, value in headers]
    if session_cookie:
        lines.append(f'    add_header Set-Cookie "{SESSION_COOKIES[session_cookie]}" always;')
    return lines


def frontend(host: HostPlan) -> str:
    """The Python TLS front end a host's profile needs ("" when nginx terminates TLS itself)."""
    return "" if host.role == "third_party" else PROFILES[host.site["tls"]].frontend


def families(host: HostPlan, root: Path, ipv6_root: Path | None) -> list[tuple[list[str], Path]]:
    """(addresses, docroot) per content variant: one for all addresses, or IPv4 and IPv6 apart."""
    if ipv6_root is None:
        return [(listen_addresses(host), root)]
    return [(host.ipv4, root), ([a for a in host.ipv6 if host.ipv6_listening], ipv6_root)]


def tls_lines(host: HostPlan) -> list[str]:
    profile = PROFILES[host.site["tls"]]
    weak = host.site["cert"] in WEAK_CERTIFICATES
    lines = [f"    ssl_certificate {host.chain_file};",
             f"    ssl_certificate_key {host.key_file};",
             f"    ssl_protocols {' '.join(profile.protocols)};",
             f"    ssl_ciphers {profile.cipher_string(weak_certificate=weak)};",
             f"    ssl_prefer_server_ciphers {'on' if profile.server_order else 'off'};",
             f"    ssl_ecdh_curve {GROUPS};"]
    if profile.sigalgs:
        lines.append(f"    ssl_conf_command SignatureAlgorithms {profile.sigalgs};")
    if profile.dhparam:
        lines.append(f"    ssl_dhparam {profile.dhparam};")
    if profile.early_data:
        lines.append("    ssl_early_data on;")
    if host.site["ocsp_stapling"] != "none":
        lines += ["    ssl_stapling on;", f"    ssl_stapling_file {host.ocsp_file};"]
    return lines


def content_locations(host: HostPlan) -> list[str]:
    """Locations that serve the docroot, with the content types security.txt variants need."""
    lines = ["    location / {", "        try_files $uri $uri/index.html =404;", "    }"]
    if host.role == "third_party":
        return lines + THIRD_PARTY_LOCATIONS.get(host.host, [])
    if "matomo" in host.site["pages"].get("params", {}).get("trackers", []):
        lines += [f"    location = {pages.MATOMO_ENDPOINT} {{", "        return 204;", "    }"]
    variant = host.site["security_txt"]
    if variant == "wrong_type":
        lines += [f"    location = {WELL_KNOWN_SECURITY_TXT} {{", "        types { }", "        default_type text/html;",
                  "    }"]
    elif isinstance(variant, dict) and variant["content_type"] != SECURITY_TXT_TYPE:
        path = LEGACY_SECURITY_TXT if variant["path"] == "legacy" else WELL_KNOWN_SECURITY_TXT
        lines += [f"    location = {path} {{", "        types { }", "        charset off;  # the type exactly as given",
                  f"        default_type {_quote(variant['content_type'])};", "    }"]
    return lines


def server_blocks(host: HostPlan, root: Path, ipv6_root: Path | None = None, backend: int | None = None) -> str:
    """The nginx server blocks of one host: HTTPS, port 80 and its aliases. With a `backend` port the HTTPS
    blocks listen in plain HTTP on 127.0.0.1 (backend, backend + 1 ...), behind the host's TLS front end."""
    site = host.site
    third_party = host.role == "third_party"
    names = " ".join([host.host, *host.aliases]) if third_party else host.host
    headers = [] if third_party else response_headers(site)
    out = []
    https = third_party or site["port443"] != "closed"

    def https_listen(addresses: list[str], family: int) -> list[str]:
        if backend is not None:
            return [_listen("127.0.0.1", backend + family, False)]
        return [*[_listen(a, 443, True) for a in addresses], *tls_lines(host)]

    variants = families(host, root, ipv6_root)
    for family, (addresses, docroot) in enumerate(variants):
        if not addresses:
            continue
        if https:
            out += ["server {", *https_listen(addresses, family), f"    server_name {names};",
                    f"    root {docroot};",
                    *_add_headers(headers, session_cookie=not third_party and site["session_cookie"]),
                    *content_locations(host), "}"]
        port80 = "redirect" if third_party else site["port80"]
        if port80 == "closed":
            continue
        out += ["server {", *[_listen(a, 80, False) for a in addresses], f"    server_name {names};"]
        if port80 == "redirect":
            out.append(f"    return 301 https://{host.host}$request_uri;")
        elif port80 == "redirect_other_host":
            out.append(f"    return 301 https://{other_host(host)}$request_uri;")
        else:
            out += [f"    root {docroot};", *content_locations(host)]
        out.append("}")
    if host.aliases and not third_party:
        addresses = listen_addresses(host)
        if https:
            for family in range(len(variants) if backend is not None else 1):
                out += ["server {", *https_listen(addresses, family),
                        f"    server_name {' '.join(host.aliases)};",
                        f"    return 301 https://{host.host}$request_uri;", "}"]
        if site["port80"] != "closed":
            out += ["server {", *[_listen(a, 80, False) for a in addresses],
                    f"    server_name {' '.join(host.aliases)};",
                    f"    return 301 https://{host.host}$request_uri;", "}"]
    return "\n".join(out)


def other_host(host: HostPlan) -> str:
    """Where `port80: redirect_other_host` sends http://host/ first: the alias (apex or www. name)."""
    if host.aliases:
        return host.aliases[0]
    return host.zone if host.host != host.zone else f"www.{host.zone}"


def nginx_conf(web: Path, blocks: list[str]) -> str:
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""# Written by lab/web.py for one lab run; do not edit.
{user}worker_processes 2;
pid {web}/nginx.pid;
error_log {web}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    charset utf-8;
    server_tokens off;
    sendfile on;
    keepalive_timeout 30;
    access_log {web}/logs/access.log combined buffer=32k flush=1s;
    client_body_temp_path {web}/tmp/body;
    proxy_temp_path {web}/tmp/proxy;
    fastcgi_temp_path {web}/tmp/fastcgi;
    uwsgi_temp_path {web}/tmp/uwsgi;
    scgi_temp_path {web}/tmp/scgi;
    ssl_session_cache shared:lab:10m;
    server_names_hash_bucket_size 128;
    server_names_hash_max_size 8192;
    geo $dollar {{ default "$"; }}

{chr(10).join(blocks)}
}}
"""


def write_security_txt(host: HostPlan, root: Path, today: datetime.date) -> None:
    """security.txt per variant (RFC 9116): valid has Contact, Expires under a year ahead and
    Preferred-Languages; expired, no_contact and wrong_type break one rule; legacy_path is only at the root.
    A mapping gives the file's text as it is, with {host}, {zone} and {expires} (the date 180 days after lab
    up, YYYY-MM-DD) filled in."""
    variant = host.site["security_txt"]
    if variant == "missing":
        return
    expires = today + datetime.timedelta(days=-30 if variant == "expired" else 180)
    if isinstance(variant, dict):
        text = variant["text"].replace("{host}", host.host).replace("{zone}", host.zone)
        text = text.replace("{expires}", expires.isoformat())
        legacy = variant["path"] == "legacy"
    else:
        lines = [f"Contact: mailto:security@{host.zone}", f"Contact: https://{host.host}/contact",
                 f"Expires: {expires.isoformat()}T00:00:00Z", "Preferred-Languages: nl, en",
                 f"Canonical: https://{host.host}/.well-known/security.txt",
                 f"Policy: https://{host.host}/responsible-disclosure"]
        if variant == "no_contact":
            lines = [line for line in lines if not line.startswith("Contact:")]
        text, legacy = "\n".join(lines) + "\n", variant == "legacy_path"
    path = root / (LEGACY_SECURITY_TXT if legacy else WELL_KNOWN_SECURITY_TXT).lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


# Locations of the third-party products (files written by pages.render_third_party).
_NO_STORE = '        add_header Cache-Control "no-store" always;'
THIRD_PARTY_LOCATIONS = {
    "www.googletagmanager.com": [
        "    location = /gtag/js { try_files /gtag.js =404; }",
        "    location = /gtm.js { try_files /gtag.js =404; }"],
    "www.google-analytics.com": [
        "    location /g/collect {",
        '        add_header Access-Control-Allow-Origin "*" always;', _NO_STORE,
        "        return 204;", "    }"],
    "ad.doubleclick.net": [
        "    location ^~ /activity {",
        '        add_header Set-Cookie "IDE=AHWqTU$request_id; Max-Age=33696000; Domain=.doubleclick.net; '
        'Path=/; Secure; HttpOnly; SameSite=None" always;', _NO_STORE,
        "        try_files /pixel.gif =404;", "    }"],
    "www.youtube.com": [
        "    location ^~ /embed/ {",
        '        add_header Set-Cookie "YSC=$request_id; Domain=.youtube.com; Path=/; Secure; HttpOnly; '
        'SameSite=None" always;',
        '        add_header Set-Cookie "VISITOR_INFO1_LIVE=$request_id; Max-Age=15552000; Domain=.youtube.com; '
        'Path=/; Secure; HttpOnly; SameSite=None" always;', _NO_STORE,
        "        try_files /embed.html =404;", "    }"],
    # An embedded post that sets sessionid, as Instagram does for a visitor who is logged in.
    "www.instagram.com": [
        "    location ^~ /p/ {",
        '        add_header Set-Cookie "sessionid=$request_id; Max-Age=31536000; Domain=.instagram.com; Path=/; '
        'Secure; HttpOnly; SameSite=None" always;', _NO_STORE,
        "        try_files /embed.html =404;", "    }"],
    # A supplier's waste calendar whose visitor cookie no list knows.
    "afvalkalender.govscan-lab.com": [
        "    location ^~ /widget/ {",
        '        add_header Set-Cookie "akw_bezoeker=$request_id; Max-Age=31536000; Path=/; Secure; '
        'SameSite=None" always;', _NO_STORE,
        "        try_files /widget.html =404;", "    }"],
}
