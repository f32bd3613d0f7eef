"""A small world for the SSRF test (tests/integration/test_ssrf.py), run in a network namespace of its own:

    unshare --net --mount python -m tests.integration.ssrf_world OUT.json [--allow-internal]

so it can bind the addresses and ports a scan would reach (127.0.0.1, ::1, 10.0.0.1, 169.254.169.254 ...:
25, 53, 80, 443) without touching the machine's (it refuses to run in the machine's own namespaces). In it:

- the addresses on `lo`: SITE (192.0.2.10, where the allowed sites' HTTPS server listens), OWN (192.0.2.20,
  standing for the service's own address) and the refused ones, each with a listener on the ports of a scan
  that counts every TCP connection accepted and UDP datagram received;
- a small authoritative DNS server (dnspython, on DNS_SERVER, port 53), the scanner's only resolver and the
  system's too (/etc/resolv.conf, bind-mounted), so a library or Chromium resolving a name behind the
  scanner's back would show in its log; it serves the root zone and `ssrf.test` (see ZONES). `rebind.ssrf.test` answers SITE to its first A query and
  10.0.0.1 to every later one, with TTL 0: a DNS rebinding attack;
- the allowed HTTPS server (tests/integration/local_https.py) with a redirect to a private name, a page
  whose scripts, frames and images fetch private addresses, and the browser's third-party cookie canary.

What someone might type (TYPED) goes through scanner.targets.parse_request. Then every site of SITES is
scanned as `govscan check` does it: the Runner with every check (the browser's included), with settings
that allow only SITE's network and refuse OWN as the service's own address. OUT.json gets the refusals, the
DNS queries (those the server got and those govscan's resolver sent), the listeners' counts, what the browser's proxy refused and each site's artifacts and findings.
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone

from checks.registry import all_checks
from govscan.model import Site
from scanner.config import load
from scanner.resolver import Resolver
from scanner.runner import Runner
from scanner.socks import ResolvingSocksProxy
from scanner.targets import RefusedTarget, parse_request
from tests.integration.local_https import LocalWeb

SITE = "192.0.2.10"        # the allowed sites (the settings allow 192.0.2.0/24 only)
OWN = "192.0.2.20"         # the service's own address: inside the allowed network, refused all the same
DNS_SERVER = "127.0.0.53"  # the scanner's resolver (resolvers are not subject to the address policy)
REFUSED = ("127.0.0.1", "::1", "10.0.0.1", "169.254.169.254", "fd00::1", OWN)
PORTS = (25, 53, 80, 443)
ALLOWED_NETWORKS = ["192.0.2.0/24"]
# With `--allow-internal` the internal networks are allowed too, so the same scan must reach the listeners
# (but the metadata service's, which is refused whatever the settings say): the counts do tell.
INTERNAL_NETWORKS = ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "fd00::/8", "169.254.0.0/16"]

TYPED = ["127.0.0.1", "localhost", "[::1]", "169.254.169.254", "10.0.0.1", "http://10.0.0.1/",
         "https://[::ffff:127.0.0.1]/", "2130706433", "user:pass@www.ssrf.test", "ftp://www.ssrf.test/",
         "www.ssrf.test:8080"]
SITES = ["localhost", "private.ssrf.test", "metadata.ssrf.test", "own.ssrf.test", "rebind.ssrf.test",
         "redirect.ssrf.test", "script.ssrf.test"]

# What the script page reaches for, besides literal addresses: names no other page uses, so what the browser's
# proxy refused for them is this page's doing.
SCRIPT_NAMES = {"intern.ssrf.test": "10.0.0.1", "imds.ssrf.test": "169.254.169.254", "lo.ssrf.test": "::1"}

SOA = "@ 3600 IN SOA ns1.ssrf.test. hostmaster.ssrf.test. 1 3600 600 86400 60"
ZONES = {
    ".": [SOA, "@ 3600 IN NS ns1.ssrf.test.",
          "localhost 3600 IN A 127.0.0.1", "localhost 3600 IN AAAA ::1",  # as a system resolver answers
          f"canary.test. 3600 IN A {SITE}", f"pixel.test. 3600 IN A {SITE}"],
    "ssrf.test.": [SOA, "@ 3600 IN NS ns1", "@ 3600 IN MX 10 mx", "@ 3600 IN TXT \"v=spf1 -all\"",
                   "ns1 3600 IN A 127.0.0.1", "ns1 3600 IN AAAA ::1",
                   "mx 3600 IN A 10.0.0.1", "mx 3600 IN A 169.254.169.254", "mx 3600 IN AAAA fd00::1",
                   "private 3600 IN A 10.0.0.1", "private 3600 IN AAAA fd00::1",
                   "metadata 3600 IN A 169.254.169.254",
                   f"own 3600 IN A {OWN}",
                   *(f"{name.split('.')[0]} 3600 IN {'AAAA' if ':' in address else 'A'} {address}"
                     for name, address in SCRIPT_NAMES.items()),
                   f"redirect 3600 IN A {SITE}", f"script 3600 IN A {SITE}"],
}
REBIND = dns.name.from_text("rebind.ssrf.test.")
REBIND_ANSWERS = (SITE, "10.0.0.1")  # the first A query, then every later one

HTML = {"Content-Type": "text/html; charset=utf-8"}
PAGE = "<!doctype html><html lang='nl'><head><title>{title}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>"
SCRIPT_PAGE = PAGE.format(title="Gemeente", body="""
<iframe title="metadata" src="https://169.254.169.254/latest/meta-data/"></iframe>
<iframe title="intern" src="https://intern.ssrf.test/"></iframe>
<img src="https://10.0.0.1/a.png" alt=""><img src="https://[fd00::1]/b.png" alt="">
<script>
fetch("https://imds.ssrf.test/latest/meta-data/iam/security-credentials/").catch(() => {});
fetch("https://lo.ssrf.test/admin").catch(() => {});
fetch("https://[::1]/").catch(() => {});
navigator.sendBeacon("https://127.0.0.1/beacon", "x");
</script>""")
PAGES = {
    ("canary.test", "/"): (200, HTML, "<img src='https://pixel.test/canary' alt=''>"),
    ("pixel.test", "/canary"): (200, {"Content-Type": "image/gif",
                                      "Set-Cookie": "IDE=canary; Max-Age=600; SameSite=None; Secure"}, "GIF89a"),
    ("redirect.ssrf.test", "/"): (302, {"Location": "https://private.ssrf.test/"}, ""),
    ("redirect.ssrf.test", "/.well-known/security.txt"): (
        302, {"Location": "https://metadata.ssrf.test/latest/meta-data/"}, ""),
    ("script.ssrf.test", "/"): (200, HTML, SCRIPT_PAGE),
    ("rebind.ssrf.test", "/"): (200, HTML, PAGE.format(title="Rebind", body="""
<img src="/logo.png" alt=""><img src="https://rebind.ssrf.test/pixel.png" alt="">
<script>fetch("/api/nieuws").catch(() => {});</script><a href="/contact">Contact</a>""")),
    ("rebind.ssrf.test", "/contact"): (200, HTML, PAGE.format(title="Contact", body="<p>Bel ons.</p>")),
}


# --- the network ----------------------------------------------------------------------------------------------

def network(folder: Path) -> None:
    """The addresses on `lo`, and DNS_SERVER as the system's resolver; only in namespaces of our own (not our
    parent's: `unshare` has become this process)."""
    for namespace in ("net", "mnt"):
        if os.readlink(f"/proc/self/ns/{namespace}") == os.readlink(f"/proc/{os.getppid()}/ns/{namespace}"):
            raise SystemExit(f"run me in a {namespace} namespace of my own: unshare --net --mount ...")
    (folder / "resolv.conf").write_text(f"nameserver {DNS_SERVER}\n")
    subprocess.run(["mount", "--bind", str(folder / "resolv.conf"), "/etc/resolv.conf"], check=True)
    commands = ["link set lo up", *(f"address add {a}/32 dev lo" for a in ("10.0.0.1", "169.254.169.254", SITE, OWN)),
                "address add fd00::1/128 dev lo nodad"]
    subprocess.run(["ip", "-batch", "-"], input="\n".join(commands) + "\n", text=True, check=True)


class Counted:
    """TCP and UDP listeners on every refused address and port of a scan, counting what arrives."""

    def __init__(self):
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []

    def start(self) -> "Counted":
        for address in REFUSED:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            for port in PORTS:
                for kind, proto in ((socket.SOCK_STREAM, "tcp"), (socket.SOCK_DGRAM, "udp")):
                    sock = socket.socket(family, kind)
                    sock.bind((address, port))
                    if kind == socket.SOCK_STREAM:
                        sock.listen(64)
                    key = f"{address} {proto}/{port}"
                    self.counts[key] = 0
                    self.sockets.append(sock)
                    threading.Thread(target=self._count, args=(sock, key, proto), daemon=True).start()
        return self

    def _count(self, sock: socket.socket, key: str, proto: str) -> None:
        while True:
            try:
                if proto == "tcp":
                    sock.accept()[0].close()
                else:
                    sock.recvfrom(65535)
            except OSError:
                return
            with self.lock:
                self.counts[key] += 1


# --- DNS ----------------------------------------------------------------------------------------------------

class Dns:
    """Authoritative answers from ZONES (the most specific zone decides), and the rebinding name."""

    def __init__(self):
        self.zones = {dns.name.from_text(origin): dns.zone.from_text("\n".join(records), origin, relativize=False)
                      for origin, records in ZONES.items()}
        self.queries: list[tuple[str, str]] = []
        self.rebind_answers: list[str] = []
        self.lock = threading.Lock()

    def answer(self, wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        question = query.question[0]
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        with self.lock:
            self.queries.append((question.name.to_text(), dns.rdatatype.to_text(question.rdtype)))
            if question.name == REBIND:
                if question.rdtype == dns.rdatatype.A:
                    address = REBIND_ANSWERS[min(len(self.rebind_answers), 1)]
                    self.rebind_answers.append(address)
                    response.answer.append(dns.rrset.from_text(REBIND, 0, "IN", "A", address))
                return response.to_wire()
        origin = max((o for o in self.zones if question.name.is_subdomain(o)), key=lambda o: len(o))
        zone = self.zones[origin]
        node = zone.get_node(question.name)
        found = node.get_rdataset(dns.rdataclass.IN, question.rdtype) if node else None
        if found:
            response.answer.append(dns.rrset.from_rdata_list(question.name, found.ttl, list(found)))
        else:
            soa = zone.get_rdataset(origin, dns.rdatatype.SOA)
            response.authority.append(dns.rrset.from_rdata_list(origin, soa.ttl, list(soa)))
            if node is None and not any(n.is_subdomain(question.name) for n in zone.nodes):
                response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()

    def start(self) -> "Dns":
        server = self

        class Udp(socketserver.BaseRequestHandler):
            def handle(self):
                data, sock = self.request
                sock.sendto(server.answer(data), self.client_address)

        class Tcp(socketserver.StreamRequestHandler):
            def handle(self):
                length = int.from_bytes(self.rfile.read(2), "big")
                reply = server.answer(self.rfile.read(length))
                self.wfile.write(len(reply).to_bytes(2, "big") + reply)

        for cls, handler in ((socketserver.ThreadingUDPServer, Udp), (socketserver.ThreadingTCPServer, Tcp)):
            cls.allow_reuse_address = True
            listening = cls((DNS_SERVER, 53), handler)
            listening.daemon_threads = True
            threading.Thread(target=listening.serve_forever, daemon=True).start()
        return self


# --- the scan -----------------------------------------------------------------------------------------------

def settings(ca: Path, allowed: list[str]):
    scanner_settings = load(overrides={
        "dns": {"resolvers": [DNS_SERVER], "port": 53, "timeout": 1.0},
        "trust": {"ca_bundle": str(ca)},
        "scan": {"allowed_networks": allowed, "connect_timeout": 2.0, "probe_timeout": 15.0},
        "browser": {"canary_url": "https://canary.test/", "settle_seconds": 2.0, "subpages": 1,
                    "visit_timeout": 15.0}})
    # What `govscan serve` does with the service's own addresses (scanner/addresses.py own_addresses): here
    # OWN stands for them, as every address of this namespace is one the test needs.
    scanner_settings.scan.address_policy = scanner_settings.scan.address_policy.refusing([OWN])
    return scanner_settings


def proxy_refusals(refused: dict[str, list[str]]) -> None:
    """Keep why the browser's SOCKS proxy connected nowhere (reason and detail per host), as it happens."""
    connect = ResolvingSocksProxy._connect

    async def recording(proxy, host, port):
        connected = await connect(proxy, host, port)
        if connected is None:
            refused[host] = list(proxy.failures[host])
        return connected

    ResolvingSocksProxy._connect = recording


def resolver_queries(sent: list[tuple[str, str]]) -> None:
    """Keep every query govscan's resolver sends (scanner/resolver.py), to compare with what the server got."""
    ask = Resolver._ask

    async def counting(resolver, qname, qtype, dnssec, cd, tally):
        sent.append((qname.to_text(), dns.rdatatype.to_text(qtype)))
        return await ask(resolver, qname, qtype, dnssec, cd, tally)

    Resolver._ask = counting


def artifact(a) -> dict:
    return {"error": a.error, "detail": a.error_detail, "data": a.data}


def main(out: str, allowed: list[str]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="ssrf-world-"))
    network(folder)
    listeners = Counted().start()
    resolver = Dns().start()
    web = LocalWeb(dict(PAGES), folder, address=SITE, port=443).start()
    start = len(resolver.queries)  # http.server looked its own name up (socket.getfqdn) when it started
    typed = {}
    for text in TYPED:
        try:
            typed[text] = {"accepted": parse_request(text).url}
        except RefusedTarget as refused:
            typed[text] = {"nl": refused.text.nl, "en": refused.text.en}
    queries_before_scan = len(resolver.queries) - start
    refused_by_proxy: dict[str, list[str]] = {}
    proxy_refusals(refused_by_proxy)
    sent: list[tuple[str, str]] = []
    resolver_queries(sent)
    runner = Runner(settings(web.ca, allowed), list(all_checks().values()), run_facts={"ipv6": True})
    results = asyncio.run(runner.run([parse_request(host) if "." in host else Site(f"https://{host}/", host)
                                      for host in SITES]))
    web.stop()
    report = {
        "typed": typed,
        "queries_before_scan": queries_before_scan,
        "dns_queries": resolver.queries[start:],
        "resolver_queries": sent,
        "rebind_answers": resolver.rebind_answers,
        "listeners": listeners.counts,
        "proxy_refused": refused_by_proxy,
        "web_hits": web.hits,
        "sites": {r.site.host: {
            "site": {name: artifact(a) for name, a in r.site_artifacts.items()},
            "addresses": {address: {name: artifact(a) for name, a in probes.items()}
                          for address, probes in r.address_artifacts.items()},
            "findings": {f.check: {"status": str(f.status), "reason": f.reason, "summary": f.summary.en}
                         for f in r.findings},
        } for r in results},
    }
    Path(out).write_text(json.dumps(report, default=str))


if __name__ == "__main__":
    main(sys.argv[1], ALLOWED_NETWORKS + (INTERNAL_NETWORKS if "--allow-internal" in sys.argv else []))
