"""A throwaway HTTPS world on 127.0.0.1 for browser probe tests: a private CA, one certificate for every
test host name, a threaded server that answers by Host header, and a resolver that maps the names to
127.0.0.1 (the browser reaches them through the probe's SOCKS proxy, so no system DNS is involved)."""
from __future__ import annotations

import datetime
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from govscan.model import Reason
from scanner.probes.base import ProbeError


def make_ca(directory: Path, hosts: list[str]) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key) PEM files; the server certificate names `hosts`."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "govscan test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=7))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


# A response: (status, headers, body); `{port}` in a body is replaced by the server's port.
Response = tuple[int, dict[str, str], str]


@dataclass
class LocalWeb:
    """HTTPS server for (host, path) -> Response on `address`; `hits` lists the (host, path) pairs requested."""

    pages: dict[tuple[str, str], Response | Callable[[], Response]]
    directory: Path
    hits: list[tuple[str, str]] = field(default_factory=list)
    address: str = "127.0.0.1"
    port: int = 0  # any free port; 443 where a test has the address to itself (tests/integration/ssrf_world.py)

    def start(self) -> "LocalWeb":
        hosts = sorted({host for host, _ in self.pages})
        self.ca, cert, key = make_ca(self.directory, hosts)
        web = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                host = self.headers.get("Host", "").rsplit(":", 1)[0]
                path = self.path.split("?")[0]
                web.hits.append((host, path))
                page = web.pages.get((host, path), (404, {"Content-Type": "text/html"}, "<h1>Niet gevonden</h1>"))
                status, headers, body = page() if callable(page) else page
                data = body.replace("{port}", str(web.port)).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((self.address, self.port), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def url(self, host: str, path: str = "/") -> str:
        return f"https://{host}:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class MappedResolver:
    """Stands in for scanner.resolver.Resolver: the given names resolve to `address`, or each to its own
    when `names` is a mapping; others do not exist."""

    def __init__(self, names, address: str = "127.0.0.1"):
        self.names = dict(names) if isinstance(names, dict) else dict.fromkeys(names, address)

    async def addresses(self, host: str) -> dict:
        if host not in self.names:
            raise ProbeError(Reason.DNS, f"{host}: NXDOMAIN")
        return {"ipv4": [self.names[host]], "ipv6": [], "rcode": {"A": "NOERROR", "AAAA": "NOERROR"}}
