"""The http probe against small servers started here on 127.0.0.1 and ::1, with a throwaway CA: what it
records, and that hostile servers (hanging, drip-feeding, huge bodies, gzip bombs, redirect loops) cost no
more than the configured limits."""
import asyncio
import gzip
import json
import socket
import ssl
import time

import pytest
from scanner import config
from govscan.model import Reason, Site
from scanner.probes.base import ProbeContext
from scanner.probes.http import MAX_REDIRECTS, HttpProbe
from scanner.resolver import Resolver
from scanner.runner import Runner
from tests.integration.local_https import make_ca
from tests.unit.fakedns import LOOPBACK

HOST = "www.test.nl"
SITE = Site(url=f"https://{HOST}/", host=HOST)
LIMIT = 10_000
CONNECT_TIMEOUT = 0.5


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA with a certificate for www.test.nl, and the CA of another world (a bundle that does not trust it)."""
    folder = tmp_path_factory.mktemp("pki")
    ca, cert, key = make_ca(folder, [HOST, "test.nl"])
    (folder / "other").mkdir()
    other_ca = make_ca(folder / "other", [HOST])[0]
    return {"ca": ca, "cert": cert, "key": key, "other_ca": other_ca}


def response(status, headers=(), body=b"", *, chunked=False):
    lines = [f"HTTP/1.1 {status} X"] + [f"{n}: {v}" for n, v in headers]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        size = 4096
        body = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
                        for i in range(0, len(body), size)) + b"0\r\n\r\n"
    else:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


HANG, DRIP = "hang", "drip"
NOT_FOUND = response(404, [("Content-Type", "text/plain")], b"not found")


class Server:
    """An HTTP/1.1 server with keep-alive serving canned responses by path; HANG never answers, DRIP sends
    one byte every 0.1 s. `tls=None` serves plain HTTP; `raw_hang` never even speaks TLS."""

    def __init__(self, routes, tls=None, host="127.0.0.1", raw_hang=False):
        self.routes, self.tls, self.host, self.raw_hang = routes, tls, host, raw_hang
        self.requests = []

    async def __aenter__(self):
        self.server = await asyncio.start_server(self.handle, self.host, 0, ssl=self.tls)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc):
        self.server.close()

    async def handle(self, reader, writer):
        try:
            if self.raw_hang:
                await asyncio.sleep(3600)
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ")[1].decode()
                self.requests.append((path, head.decode()))
                route = self.routes.get(path, NOT_FOUND)
                if route == HANG:
                    await asyncio.sleep(3600)
                if route == DRIP:
                    for byte in response(200, body=b"x" * 100):
                        writer.write(bytes([byte]))
                        await writer.drain()
                        await asyncio.sleep(0.1)
                writer.write(route)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


def tls_context(pki):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki["cert"], pki["key"])
    return context


def settings(pki, bundle="ca"):
    return config.load(overrides={
        "scan": {"connect_timeout": CONNECT_TIMEOUT, "probe_timeout": 5.0, "max_body_bytes": LIMIT,
                 "user_agent": "govscan-test", "allowed_networks": LOOPBACK},
        "trust": {"ca_bundle": str(pki[bundle])}, "dns": {"resolvers": ["127.0.0.1"]}})


def closed_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


async def probe(pki, https_port, http_port, address="127.0.0.1", bundle="ca"):
    """The probe's artifact, collected through the runner (so its timeout and error handling apply)."""
    current = settings(pki, bundle)
    ctx = ProbeContext(settings=current, resolver=Resolver(current.dns))
    return await Runner(current, []).collect(ctx, HttpProbe(https_port, http_port), SITE, address, {})


def run(coro):
    return asyncio.run(coro)


GOOD_SECURITY_TXT = b"Contact: mailto:security@test.nl\nExpires: 2030-01-01T00:00:00Z\n"


def test_redirect_chain_headers_in_order_chain_and_security_txt(pki):
    async def scenario():
        routes_tls = {
            "/": response(301, [("Location", "/home"), ("Strict-Transport-Security", "max-age=31536000"),
                                ("strict-transport-security", "max-age=0")]),
            "/home": response(200, [("Content-Type", "text/html; charset=utf-8")], b"<html>thuis</html>"),
            "/.well-known/security.txt": response(200, [("Content-Type", "text/plain; charset=utf-8")],
                                                  GOOD_SECURITY_TXT),
        }
        async with Server(routes_tls, tls_context(pki)) as https:
            routes_http = {"/": response(301, [("Location", f"https://{HOST}:{https.port}/")])}
            async with Server(routes_http) as http:
                artifact = await probe(pki, https.port, http.port)
                return artifact, https.requests

    artifact, requests = run(scenario())
    assert artifact.ok, artifact.error_detail
    data = artifact.data
    assert data["tcp443"] == {"open": True} and data["tls"]["ok"] and data["tls"]["version"].startswith("TLSv1.")
    assert data["https"]["status"] == 301
    assert data["https"]["headers"][1:3] == [["Strict-Transport-Security", "max-age=31536000"],
                                            ["strict-transport-security", "max-age=0"]]
    assert [hop["url"].split(":", 2)[2].split("/", 1)[1] for hop in data["redirects"]["hops"]] == ["", "home"]
    assert data["redirects"]["final"]["body"] == "<html>thuis</html>"
    assert data["redirects"]["final_host"] == HOST and data["redirects"]["stopped"] is None
    assert data["http"]["status"] == 301 and data["http"]["location"].startswith(f"https://{HOST}:")
    well_known = data["security_txt"]["/.well-known/security.txt"]
    assert well_known["status"] == 200 and well_known["media_type"] == "text/plain"
    assert "/security.txt" not in data["security_txt"]  # the legacy path only when the RFC one has no file
    assert data["cert_verification"]["validated"] is True
    leaf = data["certificates"][0]
    assert leaf["sans"] == [HOST, "test.nl"] and leaf["key_type"] == "ec" and leaf["signature_hash"] == "sha256"
    assert leaf["pem"].startswith("-----BEGIN CERTIFICATE-----")
    # SNI and Host carry the name while the connection goes to the address; one TLS connection kept alive
    assert all(f"Host: {HOST}:" in head for _, head in requests)
    assert [path for path, _ in requests] == ["/", "/.well-known/security.txt", "/home"]
    assert data["requests"] == 4
    assert json.loads(json.dumps(data)) == data  # plain JSON, as storage keeps it


def test_over_ipv6_loopback(pki):
    async def scenario():
        async with Server({"/": response(200, body=b"ok")}, tls_context(pki), host="::1") as https:
            return await probe(pki, https.port, closed_port("::1"), address="::1")

    artifact = run(scenario())
    assert artifact.ok, artifact.error_detail
    assert artifact.data["https"]["status"] == 200 and artifact.data["address"] == "::1"
    assert artifact.data["tcp80"]["open"] is False and artifact.data["tcp80"]["error"] == Reason.CONNECT


def test_untrusted_chain_is_still_recorded(pki):
    async def scenario():
        async with Server({"/": response(200)}, tls_context(pki)) as https:
            return await probe(pki, https.port, closed_port(), bundle="other_ca")

    data = run(scenario()).data
    assert data["cert_verification"]["validated"] is False and data["cert_verification"]["error"]
    assert data["certificates"][0]["subject"] == f"CN={HOST}"


def test_closed_443_next_to_an_answering_80_is_a_fact(pki):
    async def scenario():
        async with Server({"/": response(200, body=b"plain")}) as http:
            return await probe(pki, closed_port(), http.port)

    artifact = run(scenario())
    assert artifact.ok
    assert artifact.data["tcp443"]["open"] is False and artifact.data["tcp443"]["error"] == Reason.CONNECT
    assert artifact.data["http"]["status"] == 200 and "https" not in artifact.data


def test_a_hanging_server_gives_a_timeout_error_within_the_configured_time(pki):
    async def scenario():
        async with Server({}, raw_hang=True) as https, Server({"/": HANG}) as http:
            started = time.monotonic()
            artifact = await probe(pki, https.port, http.port)
            return artifact, time.monotonic() - started

    artifact, seconds = run(scenario())
    assert artifact.error == Reason.TIMEOUT
    assert "TLS handshake" in artifact.error_detail
    assert seconds < 3 * CONNECT_TIMEOUT + 0.5


def test_a_drip_feeding_server_meets_one_deadline_per_response(pki):
    async def scenario():
        async with Server({"/": DRIP}, tls_context(pki)) as https:
            started = time.monotonic()
            artifact = await probe(pki, https.port, closed_port())
            return artifact, time.monotonic() - started

    artifact, seconds = run(scenario())
    assert artifact.ok  # the handshake worked: the certificate facts are there
    assert artifact.data["https"]["error"] == Reason.TIMEOUT and artifact.data["certificates"]
    assert seconds < 3 * CONNECT_TIMEOUT + 0.5


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_larger_than_the_limit_is_cut_there(pki, chunked):
    async def scenario():
        big = response(200, [("Content-Type", "text/html")], b"a" * (5 * LIMIT), chunked=chunked)
        async with Server({"/": big}, tls_context(pki)) as https:
            return await probe(pki, https.port, closed_port())

    page = run(scenario()).data["https"]
    assert page["body_bytes"] == LIMIT and page["body_truncated"] is True


def test_a_gzip_bomb_is_not_decompressed_beyond_the_limit(pki):
    async def scenario():
        bomb = gzip.compress(b"\0" * 5_000_000, compresslevel=9)
        assert len(bomb) < LIMIT
        async with Server({"/": response(200, [("Content-Encoding", "gzip")], bomb)}, tls_context(pki)) as https:
            return await probe(pki, https.port, closed_port())

    page = run(scenario()).data["https"]
    assert page["body_bytes"] == LIMIT and page["body_truncated"] is True and page["content_encoding"] == "gzip"


def test_redirect_loops_and_long_chains_stop(pki):
    loop = {"/": response(302, [("Location", "/a")]), "/a": response(302, [("Location", "/")])}
    endless = {"/": response(302, [("Location", "/1")])}
    endless.update({f"/{i}": response(302, [("Location", f"/{i + 1}")]) for i in range(1, 30)})

    async def scenario(routes):
        async with Server(routes, tls_context(pki)) as https:
            return await probe(pki, https.port, closed_port())

    looped = run(scenario(loop)).data["redirects"]
    assert looped["stopped"] == "loop" and len(looped["hops"]) == 2
    long = run(scenario(endless)).data["redirects"]
    assert long["stopped"] == "too_many" and len(long["hops"]) == MAX_REDIRECTS + 1


def test_a_site_that_redirects_everything_endlessly_costs_a_bounded_number_of_requests(pki):
    """Front page and security.txt both redirect without end: at most 11 requests on port 443 (12 with
    port 80), and the legacy security.txt path is not asked of a server that loops."""
    routes = {"/": response(302, [("Location", "/1")]),
              "/.well-known/security.txt": response(302, [("Location", "/s1")])}
    routes.update({f"/{i}": response(302, [("Location", f"/{i + 1}")]) for i in range(1, 30)})
    routes.update({f"/s{i}": response(302, [("Location", f"/s{i + 1}")]) for i in range(1, 30)})

    async def scenario():
        async with Server(routes, tls_context(pki)) as https:
            return await probe(pki, https.port, closed_port())

    data = run(scenario()).data
    assert data["requests"] <= 11
    assert "/security.txt" not in data["security_txt"]


def test_the_legacy_security_txt_path_is_tried_when_the_rfc_one_is_missing(pki):
    big = b"# " + b"x" * (110 * 1024)
    routes = {"/": response(200), "/security.txt": response(200, [("Content-Type", "text/plain")], big)}

    async def scenario():
        async with Server(routes, tls_context(pki)) as https:
            return await probe(pki, https.port, closed_port())

    found = run(scenario()).data["security_txt"]
    assert found["/.well-known/security.txt"]["status"] == 404
    legacy = found["/security.txt"]
    assert legacy["status"] == 200 and legacy["too_large"] is True and legacy["bytes"] == 100 * 1024



def test_security_txt_redirects_to_https_are_followed_and_to_http_not(pki):
    routes = {"/": response(200),
              "/.well-known/security.txt": response(301, [("Location", "/beveiliging/security.txt")]),
              "/beveiliging/security.txt": response(200, [("Content-Type", "text/plain")], GOOD_SECURITY_TXT),
              "/security.txt": response(301, [("Location", f"http://{HOST}/security.txt")])}

    async def scenario(routes):
        async with Server(routes, tls_context(pki)) as https:
            return await probe(pki, https.port, closed_port())

    found = run(scenario(routes)).data["security_txt"]["/.well-known/security.txt"]
    assert found["status"] == 200 and found["url"].endswith("/beveiliging/security.txt")
    assert found["redirected_from"][0].endswith("/.well-known/security.txt")
    routes["/.well-known/security.txt"] = NOT_FOUND
    legacy = run(scenario(routes)).data["security_txt"]["/security.txt"]
    assert legacy["status"] == 301 and legacy["redirected_from"] == []


def test_no_tls_on_443_and_no_http_on_80_are_facts_with_their_reasons(pki):
    def plain_http(reader, writer):  # answers any bytes, a TLS client hello too, like a plain web server
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        writer.close()

    async def scenario():
        plain_on_443 = await asyncio.start_server(plain_http, "127.0.0.1", 0)
        async with plain_on_443, Server({"/": b"SSH-2.0-OpenSSH\r\n\r\n"}) as odd_80:
            return await probe(pki, plain_on_443.sockets[0].getsockname()[1], odd_80.port)

    artifact = run(scenario())
    assert artifact.ok
    assert artifact.data["tcp443"] == {"open": True}
    assert artifact.data["tls"]["ok"] is False and artifact.data["tls"]["error"] == Reason.TLS
    assert artifact.data["http"]["error"] == Reason.HTTP and "not an HTTP response" in artifact.data["http"]["detail"]
