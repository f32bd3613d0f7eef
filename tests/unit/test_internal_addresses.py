"""No probe reaches a service on the scanner's own host, whatever the site does (issue 15).

A listener on one port of 127.0.0.1 and ::1 (TCP and UDP) stands for the services a scanner's host runs
(a database, a metadata service). Sites point at it every way they can: a redirect to a name that resolves to
it, a literal redirect, a site whose own addresses are loopback, MX and NS hosts and a CAA issuer that resolve
to it, and SOCKS requests of the browser for it. The listener must count no connection and no datagram.
Each case also runs once with loopback allowed (`[scan] allowed_networks`), where it must be reached: the
count is what tells.

Names resolve through the hand-built DNS of tests/unit/fakedns.py; the site's allowed server listens on
127.0.0.2, the only address the settings allow.
"""
from __future__ import annotations

import asyncio
import socket
import struct

import pytest

from checks.registry import all_checks
from govscan.model import Reason, Site, Status
from scanner.addresses import AddressPolicy
from scanner.probes.dns import AddressProbe
from scanner.probes.dns_records import CaaProbe, NameserversProbe, TlsaProbe
from scanner.probes.dnssec import DnssecProbe
from scanner.probes.http import HttpProbe
from scanner.probes.mail import MailProbe
from scanner.probes.tls import TlsProbe
from scanner.runner import Runner
from scanner.socks import NOT_ALLOWED, SUCCEEDED, ResolvingSocksProxy
from tests.integration.local_https import make_ca
from tests.unit.fakedns import LOOPBACK, Tree, ZoneSpec, context
from tests.unit.test_http_probe import Server, closed_port, response, tls_context

HOST = "www.test.nl"
SITE = Site(f"https://{HOST}/", HOST)
SITE_ADDRESS = "127.0.0.2"  # where the site's own (allowed) server listens
ONLY_THE_SITE = [f"{SITE_ADDRESS}/32"]


class Listener:
    """TCP and UDP on one port of 127.0.0.1 and ::1, counting every connection accepted and datagram
    received."""

    accepted = 0
    datagrams = 0

    async def __aenter__(self) -> "Listener":
        loop = asyncio.get_running_loop()
        listener = self

        class Count(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                listener.datagrams += 1

        async def accept(reader, writer):
            self.accepted += 1
            writer.close()

        for _ in range(20):  # a free TCP port of 127.0.0.1 that is free on ::1 and for UDP too
            first = await asyncio.start_server(accept, "127.0.0.1", 0)
            self.port = first.sockets[0].getsockname()[1]
            try:
                self.servers = [first, await asyncio.start_server(accept, "::1", self.port)]
                self.udp = [(await loop.create_datagram_endpoint(Count, local_addr=(address, self.port)))[0]
                            for address in ("127.0.0.1", "::1")]
                return self
            except OSError:
                first.close()
        raise RuntimeError("no port free on both loopback addresses")

    async def __aexit__(self, *exc):
        for server in self.servers:
            server.close()
        for transport in self.udp:
            transport.close()

    @property
    def reached(self) -> int:
        return self.accepted + self.datagrams


def tree(*records: str) -> Tree:
    return Tree([ZoneSpec(".", []), ZoneSpec("nl.", []), ZoneSpec("test.nl.", [*records])])


def quick(ctx):
    """Short timeouts: a refused address costs no waiting, and the allowed cases should not wait long."""
    ctx.settings.scan.connect_timeout = 0.5
    ctx.settings.scan.probe_timeout = 5.0
    ctx.settings.dns.timeout = 0.3
    return ctx


# --- the http probe's redirects -----------------------------------------------------------------------------

REDIRECTS = {
    "a name that resolves to loopback": "https://metadata.test.nl:{port}/latest/meta-data/",
    "a literal IPv4 loopback address": "http://127.0.0.1:{port}/",
    "a literal IPv6 loopback address": "https://[::1]:{port}/",
    "an IPv4-mapped loopback address": "https://[::ffff:127.0.0.1]:{port}/",
}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    ca, cert, key = make_ca(folder, [HOST])
    return {"ca": ca, "cert": cert, "key": key}


def probe_redirecting_site(pki, tmp_path, location: str, allowed) -> tuple[dict, Listener]:
    ctx = quick(context(tree("metadata 3600 IN A 127.0.0.1", "metadata 3600 IN AAAA ::1"), tmp_path,
                        allowed_networks=allowed))
    ctx.settings.trust.ca_bundle = str(pki["ca"])

    async def scenario():
        async with Listener() as listener:
            target = location.format(port=listener.port)
            routes = {"/": response(302, [("Location", target)]),
                      "/.well-known/security.txt": response(302, [("Location", target)])}
            async with Server(routes, tls=tls_context(pki), host=SITE_ADDRESS) as site:
                artifact = await Runner(ctx.settings, []).collect(
                    ctx, HttpProbe(site.port, closed_port(SITE_ADDRESS)), SITE, SITE_ADDRESS, {})
        return artifact, listener

    return asyncio.run(scenario())


@pytest.mark.parametrize("location", REDIRECTS.values(), ids=REDIRECTS.keys())
def test_a_redirect_to_an_internal_address_is_refused_not_followed(pki, tmp_path, location):
    artifact, listener = probe_redirecting_site(pki, tmp_path, location, ONLY_THE_SITE)
    assert listener.reached == 0
    last = artifact.data["redirects"]["hops"][-1]
    assert artifact.data["redirects"]["stopped"] == "error" and last["error"] == Reason.REFUSED_ADDRESS
    assert " is loopback " in last["detail"] or " is the " in last["detail"]
    if location.startswith("https"):  # security.txt follows https redirects only
        assert artifact.data["security_txt"]["/.well-known/security.txt"]["error"] == Reason.REFUSED_ADDRESS


@pytest.mark.parametrize("location", REDIRECTS.values(), ids=REDIRECTS.keys())
def test_the_same_redirects_reach_loopback_where_the_settings_allow_it(pki, tmp_path, location):
    _, listener = probe_redirecting_site(pki, tmp_path, location, ONLY_THE_SITE + LOOPBACK)
    assert listener.accepted > 0


# --- a whole site whose names all lead to loopback ----------------------------------------------------------

LOOPBACK_SITE = ("www 3600 IN A 127.0.0.1", "www 3600 IN AAAA ::1",
                 "@ 3600 IN MX 10 mx", "mx 3600 IN A 127.0.0.1", "mx 3600 IN AAAA ::1",
                 "ns1 3600 IN A 127.0.0.1", "ns1 3600 IN AAAA ::1",
                 '@ 3600 IN CAA 0 issue "ca.test.nl"', "ca 3600 IN A 127.0.0.1")


def scan_loopback_site(tmp_path, allowed) -> tuple[dict, Listener]:
    """Every probe but the browser's, on the listener's port, through the runner."""
    ctx = quick(context(tree(*LOOPBACK_SITE), tmp_path, run_facts={"ipv6": True}, allowed_networks=allowed))

    async def scenario():
        async with Listener() as listener:
            tls = TlsProbe()
            tls.port = listener.port
            probes = [AddressProbe(), HttpProbe(listener.port, listener.port), tls, MailProbe(port=listener.port),
                      NameserversProbe(port=listener.port), CaaProbe(), TlsaProbe(), DnssecProbe()]
            names = {probe.name for probe in probes}
            checks = [c for c in all_checks().values() if set(c.requires) | set(c.optional) <= names]
            runner = Runner(ctx.settings, checks, run_facts=ctx.run_facts)
            runner.probes = probes
            result = await runner.scan_site(ctx, SITE)
        return result, listener

    return asyncio.run(scenario())


def test_a_site_whose_names_all_resolve_to_loopback_reaches_nothing(tmp_path):
    result, listener = scan_loopback_site(tmp_path, [])
    assert listener.accepted == 0 and listener.datagrams == 0
    assert result.site_artifacts["dns"].data["refused"] == {"127.0.0.1": "loopback (127.0.0.0/8)",
                                                            "::1": "loopback (::1/128)"}
    for address in ("127.0.0.1", "::1"):
        for probe in ("http", "tls"):
            artifact = result.address_artifacts[address][probe]
            assert artifact.error == Reason.REFUSED_ADDRESS and artifact.error_detail.startswith(f"{address} is")
    findings = {f.check: f for f in result.findings}
    for check_id in ("web.https.available", "web.tls.version", "mail.starttls", "web.ipv6.nameservers"):
        assert (findings[check_id].status, findings[check_id].reason) == (Status.ERROR, Reason.REFUSED_ADDRESS)
    mx = result.site_artifacts["mail"].data["mx_hosts"][0]["addresses"]
    assert {a: s["error"] for a, s in mx.items()} == {"127.0.0.1": "refused_address", "::1": "refused_address"}


def test_the_same_site_reaches_the_listener_where_loopback_is_allowed(tmp_path):
    _, listener = scan_loopback_site(tmp_path, LOOPBACK)
    assert listener.accepted > 0 and listener.datagrams > 0


# --- the browser's SOCKS proxy ------------------------------------------------------------------------------

async def socks_connect(proxy_port: int, host: str, port: int) -> int:
    """One SOCKS5 CONNECT as Chromium sends it (a name, or a literal IPv4 or IPv6 address): the reply code."""
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
    writer.write(b"\x05\x01\x00")
    await reader.readexactly(2)
    if ":" in host:
        target = b"\x04" + socket.inet_pton(socket.AF_INET6, host)
    elif host.replace(".", "").isdigit():
        target = b"\x01" + socket.inet_pton(socket.AF_INET, host)
    else:
        target = b"\x03" + bytes([len(host)]) + host.encode()
    writer.write(b"\x05\x01\x00" + target + struct.pack("!H", port))
    reply = await reader.readexactly(10)
    writer.close()
    return reply[1]


TARGETS = ["metadata.test", "127.0.0.1", "::1", "::ffff:127.0.0.1"]


def through_proxy(allowed) -> tuple[list[int], ResolvingSocksProxy, Listener]:
    async def resolve(host):
        return ["127.0.0.1", "::1"] if host == "metadata.test" else []

    async def scenario():
        async with Listener() as listener:
            proxy = ResolvingSocksProxy(resolve, 1.0, AddressPolicy(allowed))
            port = await proxy.start()
            try:
                codes = [await socks_connect(port, host, listener.port) for host in TARGETS]
            finally:
                await proxy.close()
        return codes, proxy, listener

    return asyncio.run(scenario())


def test_the_browser_proxy_refuses_internal_names_and_literals():
    codes, proxy, listener = through_proxy([])
    assert codes == [NOT_ALLOWED] * len(TARGETS) and listener.reached == 0
    assert proxy.failures["metadata.test"] == (Reason.REFUSED_ADDRESS, "metadata.test: 127.0.0.1 is loopback "
                                               "(127.0.0.0/8): not connected (scanner/addresses.py; [scan] "
                                               "allowed_networks can allow a network)")
    assert {reason for reason, _ in proxy.failures.values()} == {Reason.REFUSED_ADDRESS}


def test_the_browser_proxy_connects_where_loopback_is_allowed():
    codes, _, listener = through_proxy(LOOPBACK)
    assert codes == [SUCCEEDED] * len(TARGETS) and listener.accepted == len(TARGETS)
