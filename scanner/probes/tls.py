"""TLS facts for one address of a site, for the NCSC checks (checks/tls.py).

Built on sslyze 6.3.1's connection layer (`SslConnection`: IPv4/IPv6 by address, SNI by host name, the modern
and the legacy OpenSSL of nassl) rather than on its scan commands, because those try every suite and every
curve one handshake at a time (about 500 handshakes per address). Here a full evaluation costs 15 to 30
handshakes for the lab's profiles (at most about 80 for a server that accepts everything), made one at a
time over a single connection slot of the address:

1. one handshake per protocol version, offering every suite the client knows for it (TLS 1.2 twice: the
   modern client's suites, then the suites only the legacy client has);
2. per accepted version, suite enumeration by elimination: offer what is left, record the suite the server
   picks, remove it, repeat until the server refuses (#accepted + 1 handshakes per client);
3. cipher order: one handshake offering the accepted suites in reverse; a server that still picks its first
   suite enforces its own order, and then the enumeration order is its preference order;
4. key-exchange groups by elimination too: on TLS 1.3 for the curves it allows, then the RFC 7919 groups
   with hand-made TLS 1.3 ClientHellos that stop at the server's HelloRetryRequest (nassl's OpenSSL 1.1.1
   cannot offer them), then on TLS 1.2 for the other curves; finite-field DH parameters of TLS 1.2 come
   from the DHE suites of step 2; then the hash of the server's signature on its key exchange: on TLS 1.2,
   one handshake per hash offering only the signature schemes with that hash (as internet.nl tests it);
5. one legacy-client connection for compression, secure renegotiation and a client-initiated renegotiation;
6. 0-RTT: a TLS 1.3 session, and only when its ticket allows early data, a resumption that sends some;
7. the certificate chain and OCSP staple come from the first handshake of the highest version.

Mail servers get the same evaluation after SMTP STARTTLS (`Endpoint(..., smtp=SmtpLimits(...))`, port 25):
`smtp_starttls` (banner, EHLO, STARTTLS) before each handshake. Step 6 is left out there (0-RTT is about
replayed HTTP requests). `smtp_greeting` tells whether a mail server offers STARTTLS at all.

Suite and group enumerations stop at ENUMERATION_BUDGET handshakes (a very permissive old server could
otherwise need more than a hundred); the artifact's `incomplete` names any list cut short.

The artifact records `handshakes` and `cpu_seconds` (CPU time of the evaluation's thread) for the benchmark,
and the run's counters add them up (`tls_handshakes`, `tls_cpu_ms`). Nothing here judges: the classes live
in config/policy and checks/.

Deadlines (issue 15). The probe's deadline holds inside every handshake, not only between them: every
connection is opened by `Endpoint.open` (sslyze's `SslConnection` gets it through `BoundedConnection`, nassl
reads and writes through it), and each read and write on it waits at most `connect_timeout` and never past
the deadline (`DeadlineSocket`). A server that drips a byte now and then therefore holds the evaluation's
thread until the deadline at most, then the evaluation ends as a `timeout` error. SMTP is read the same
way and bounded in size too: each reply must be complete within its step's timeout (and the deadline), with
at most `[scan] smtp_max_reply_lines` lines of at most `smtp_max_line_bytes` bytes; a longer one is an error
naming the setting. This replaces sslyze's own SMTP exchange (smtplib), which reads without a line cap.
"""
from __future__ import annotations

import base64
import contextlib
import os
import re
import socket
import ssl
import struct
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from nassl import _nassl
from nassl.ephemeral_key_info import DhEphemeralKeyInfo, EcDhEphemeralKeyInfo, OpenSslEcNidEnum, OpenSslEvpPkeyEnum
from nassl.legacy_ssl_client import LegacySslClient
from nassl.ssl_client import (OpenSslDigestNidEnum, OpenSslEarlyDataStatusEnum, OpenSslVerifyEnum, OpenSslVersionEnum,
                              SslClient)
from sslyze import ServerNetworkConfiguration, ServerNetworkLocation
from sslyze.connection_helpers.tls_connection import NoCiphersAvailableBugInSSlyze, SslConnection
from sslyze.errors import (
    ConnectionToServerFailed,
    ConnectionToServerTimedOut,
    ServerRejectedTlsHandshake,
    ServerTlsConfigurationNotSupported,
    TlsHandshakeTimedOut,
)
from sslyze.plugins.openssl_cipher_suites import cipher_suites as sslyze_suites
from sslyze.server_connectivity import TlsVersionEnum

from govscan.model import Reason, Site
from scanner.probes.base import Probe, ProbeContext, ProbeError
from scanner.probes.http import describe_certificate, lenient_tls_context, served_chain

PORT = 443
V = TlsVersionEnum
VERSION_NAMES = {V.TLS_1_3: "TLSv1.3", V.TLS_1_2: "TLSv1.2", V.TLS_1_1: "TLSv1.1", V.TLS_1_0: "TLSv1.0",
                 V.SSL_3_0: "SSLv3", V.SSL_2_0: "SSLv2"}
TLS13_SUITES = ("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256",
                "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256")
# Curves TLS 1.3 allows (RFC 8446 4.2.7) among those nassl's OpenSSL 1.1.1 can offer.
TLS13_CURVES = (OpenSslEcNidEnum.X25519, OpenSslEcNidEnum.SECP256R1, OpenSslEcNidEnum.SECP384R1,
                OpenSslEcNidEnum.SECP521R1, OpenSslEcNidEnum.X448)
# RFC 7919 groups as TLS 1.3 names them (RFC 8446 4.2.7); nassl's OpenSSL 1.1.1 cannot offer these.
FFDHE_CODEPOINTS = {"ffdhe2048": 0x0100, "ffdhe3072": 0x0101, "ffdhe4096": 0x0102, "ffdhe6144": 0x0103,
                    "ffdhe8192": 0x0104}
# TLS 1.2 signature schemes (RFC 5246 7.4.1.4.1, RFC 8446 4.2.3) nassl's client can offer, by hash: ECDSA, RSA
# PKCS#1 v1.5 and DSA with each; RSA-PSS is defined with SHA-256 and stronger only. (No scheme has MD5.)
_SIGNING_KEYS = (OpenSslEvpPkeyEnum.EC, OpenSslEvpPkeyEnum.RSA, OpenSslEvpPkeyEnum.DSA)
_SHA2 = (OpenSslDigestNidEnum.SHA256, OpenSslDigestNidEnum.SHA384, OpenSslDigestNidEnum.SHA512)
KEY_EXCHANGE_SIGNATURES = {
    digest.name.lower(): [(digest, key) for key in _SIGNING_KEYS] + ([(digest, OpenSslEvpPkeyEnum.RSA_PSS)]
                                                                     if digest in _SHA2 else [])
    for digest in (OpenSslDigestNidEnum.SHA1, OpenSslDigestNidEnum.SHA224, *_SHA2)}
# TLS 1.2 suites whose key exchange the server signs (ephemeral, authenticated by the certificate's key).
SIGNED_KEY_EXCHANGE = re.compile(r"TLS_(ECDHE|DHE)_(ECDSA|RSA|DSS)_WITH_")
# Handshakes the enumerations (suites, groups) may use per address; the fixed steps add about ten.
ENUMERATION_BUDGET = 70
# RFC 7919 named finite-field groups: p = 2^b - 2^(b-64) + ([2^(b-130) e] + X) * 2^64 - 1.
FFDHE_X = {2048: 560316, 3072: 2625351, 4096: 5736041, 6144: 15705020, 8192: 10965728}
# Our name in EHLO. RFC 5321 4.1.1.1 asks for the client's fully qualified domain name, and MTAs refuse bare
# words and malformed names (Postfix's reject_non_fqdn_helo_hostname, reject_invalid_helo_hostname); sslyze's
# default, "sslyze.scan", is under no top-level domain at all. This is the domain of the scan-info page the
# user agent names (config/settings.toml), so a postmaster who finds it in a log knows who connected.
SMTP_EHLO_NAME = "govscan.example"
# One line of an SMTP reply: a three-digit code, then "-" (more lines follow), " " or nothing (the last).
SMTP_REPLY_LINE = re.compile(rb"([2-5][0-9][0-9])([ -]|\r?\n|$)")


class Refused(Exception):
    """The server refused (or never finished) one handshake; `timed_out` tells which."""

    def __init__(self, detail: str, timed_out: bool = False):
        super().__init__(detail)
        self.timed_out = timed_out


# --- what the two OpenSSLs of nassl can offer -------------------------------------------------------------

def _iana(version: TlsVersionEnum, openssl_name: str) -> str:
    """IANA name of a suite from the name OpenSSL gives it (sslyze's tables; TLS 1.3 names are IANA)."""
    if version == V.SSL_2_0:
        return sslyze_suites._SSLV2_OPENSSL_TO_RFC_NAMES_MAPPING.get(openssl_name, openssl_name)
    return sslyze_suites._TLS_OPENSSL_TO_RFC_NAMES_MAPPING.get(openssl_name, openssl_name)


@lru_cache(maxsize=None)
def client_suites(version: TlsVersionEnum, legacy: bool) -> dict[str, str]:
    """IANA name -> OpenSSL name of every suite one client offers for one version, in OpenSSL's order."""
    if version == V.TLS_1_3:
        return {} if legacy else {name: name for name in TLS13_SUITES}
    cls = LegacySslClient if legacy else SslClient
    client = cls(ssl_version=OpenSslVersionEnum(version.value), ssl_verify=OpenSslVerifyEnum.NONE)
    client.set_cipher_list("SSLv2" if version == V.SSL_2_0 else "ALL:COMPLEMENTOFALL")
    return {_iana(version, name): name for name in client.get_cipher_list() if name not in TLS13_SUITES}


def passes(version: TlsVersionEnum) -> list[tuple[bool, dict[str, str]]]:
    """(legacy, suites) per client used for a version: TLS 1.3 modern only; TLS 1.2 modern, then the suites
    only the legacy client knows; older versions legacy only (the modern OpenSSL lacks them)."""
    if version == V.TLS_1_3:
        return [(False, client_suites(version, False))]
    if version == V.TLS_1_2:
        modern = client_suites(version, False)
        legacy_only = {k: v for k, v in client_suites(version, True).items() if k not in modern}
        return [(False, modern), (True, legacy_only)]
    return [(True, client_suites(version, True))]


def ffdhe_prime(bits: int) -> int:
    """The RFC 7919 prime of that size, from its definition (e to enough bits by the series 1/n!)."""
    guard = 64
    scaled_e, term, n = 0, 1 << (bits - 130 + guard), 0
    while term:
        scaled_e += term
        n += 1
        term //= n
    return 2**bits - 2**(bits - 64) + ((scaled_e >> guard) + FFDHE_X[bits]) * 2**64 - 1


@lru_cache(maxsize=1)
def ffdhe_names() -> dict[int, str]:
    return {ffdhe_prime(bits): f"ffdhe{bits}" for bits in FFDHE_X}


def ephemeral_facts(key) -> dict[str, Any] | None:
    if isinstance(key, EcDhEphemeralKeyInfo):
        return {"type": "ECDH", "group": key.curve_name, "bits": key.size}
    if isinstance(key, DhEphemeralKeyInfo):
        prime = int.from_bytes(bytes(key.prime), "big")
        return {"type": "DH", "group": ffdhe_names().get(prime), "bits": key.size}
    return None


def peer_signature_hash(client) -> str | None:
    """The hash of the server's signature on the key exchange as OpenSSL reports it (None when there is none,
    or nassl does not name it)."""
    try:
        return client.get_peer_signature_nid().name.lower()
    except (ValueError, _nassl.OpenSSLError):
        return None


# --- certificates and OCSP --------------------------------------------------------------------------------

def certificate_facts(cert: x509.Certificate) -> dict[str, Any]:
    """The http probe's description of a certificate (same fields for both chains), without the PEM."""
    facts = describe_certificate(cert.public_bytes(serialization.Encoding.DER))
    del facts["pem"]
    return facts


def _verify(public_key, signature: bytes, data: bytes, hash_alg) -> bool:
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hash_alg)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hash_alg))
        elif isinstance(public_key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            public_key.verify(signature, data)
        else:
            return False
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


@lru_cache(maxsize=4)
def _bundle_certificates(path: Path) -> tuple[x509.Certificate, ...]:
    try:
        return tuple(x509.load_pem_x509_certificates(path.read_bytes()))
    except (OSError, ValueError):
        return ()


def _issuer_of(cert: x509.Certificate, chain: list[x509.Certificate], ca_bundle: Path | None):
    """The certificate that signed `cert`: from the served chain, else from the configured CA bundle."""
    candidates = list(chain) + list(_bundle_certificates(ca_bundle) if ca_bundle else ())
    for candidate in candidates:
        if candidate.subject == cert.issuer:
            try:
                cert.verify_directly_issued_by(candidate)
                return candidate
            except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
                continue
    return None


def ocsp_facts(der: bytes, chain: list[x509.Certificate], ca_bundle: Path | None) -> dict[str, Any]:
    """The stapled response as found: its status, whether it is about the leaf, its times, its signature."""
    facts: dict[str, Any] = {"stapled": True, "der_base64": base64.b64encode(der).decode()}
    try:
        response = ocsp.load_der_ocsp_response(der)
    except ValueError as exc:
        return facts | {"parsed": False, "error": str(exc)}
    facts["parsed"] = True
    facts["response_status"] = response.response_status.name
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return facts
    leaf = chain[0]
    facts.update(
        cert_status=response.certificate_status.name,
        serial_matches=response.serial_number == leaf.serial_number,
        this_update=response.this_update_utc.isoformat(),
        next_update=response.next_update_utc.isoformat() if response.next_update_utc else None,
    )
    issuer = _issuer_of(leaf, chain[1:], ca_bundle)
    signer = issuer
    for responder in response.certificates:  # a delegated responder, itself issued by the leaf's issuer
        if issuer is not None and _verify(issuer.public_key(), responder.signature,
                                          responder.tbs_certificate_bytes, responder.signature_hash_algorithm):
            signer = responder
    facts["signature_valid"] = signer is not None and _verify(
        signer.public_key(), response.signature, response.tbs_response_bytes, response.signature_hash_algorithm)
    return facts


# --- sockets with a deadline -----------------------------------------------------------------------------

class DeadlineSocket:
    """A connected socket whose every read and write waits at most `timeout` seconds and never past
    `deadline` (time.monotonic()): however slowly a server drips its bytes, the thread is free by then.
    Everything else is the socket's own."""

    def __init__(self, sock: socket.socket, timeout: float, deadline: float):
        self.sock = sock
        self.timeout = timeout
        self.deadline = deadline

    def armed(self) -> socket.socket:
        """The socket, with its timeout set to what is left (at most `timeout`)."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("the deadline has passed")
        self.sock.settimeout(min(self.timeout, left))
        return self.sock

    def recv(self, size: int) -> bytes:
        return self.armed().recv(size)

    def send(self, data: bytes) -> int:
        return self.armed().send(data)

    def sendall(self, data: bytes) -> None:
        self.armed().sendall(data)

    @contextlib.contextmanager
    def within(self, seconds: float):
        """A nearer deadline for one exchange (an SMTP reply), `seconds` from now."""
        outer = self.deadline
        self.deadline = min(outer, time.monotonic() + seconds)
        try:
            yield
        finally:
            self.deadline = outer

    def close(self) -> None:
        self.sock.close()

    def __getattr__(self, name: str):
        return getattr(self.sock, name)

    def __enter__(self) -> "DeadlineSocket":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_connection(address: str, port: int, timeout: float, deadline: float) -> DeadlineSocket:
    """A TCP connection made within `timeout` and before `deadline`, as a DeadlineSocket."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise socket.timeout("the deadline has passed")
    return DeadlineSocket(socket.create_connection((address, port), timeout=min(timeout, left)), timeout, deadline)


# --- SMTP -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SmtpLimits:
    """How much of one SMTP reply the scanner reads (`[scan] smtp_max_reply_lines`, `smtp_max_line_bytes`)."""

    lines: int
    line_bytes: int

    @classmethod
    def of(cls, scan) -> "SmtpLimits":
        return cls(scan.smtp_max_reply_lines, scan.smtp_max_line_bytes)


def read_line(sock: DeadlineSocket, limit: int) -> bytes:
    """One line, up to and with its LF (or what came before the connection closed), read a byte at a time:
    nothing after it is consumed, so a TLS handshake can follow on the socket."""
    line = bytearray()
    while not line.endswith(b"\n"):
        if len(line) >= limit:
            raise ProbeError(Reason.CONNECT, f"SMTP reply line longer than {limit} bytes (scan.smtp_max_line_bytes)")
        byte = sock.recv(1)
        if not byte:
            break
        line += byte
    return bytes(line)


def smtp_reply(sock: DeadlineSocket, limits: SmtpLimits) -> tuple[int, list[str]]:
    """One SMTP reply with all its lines (RFC 5321 4.2.1): (code, lines), complete within the socket's
    timeout (socket.timeout otherwise). A closed connection is a ConnectionError; a line that is no SMTP
    reply, or a reply longer than `limits`, a ProbeError (the port speaks something else)."""
    code, lines = None, []
    with sock.within(sock.timeout):
        while True:
            if len(lines) >= limits.lines:
                raise ProbeError(Reason.CONNECT, f"SMTP reply of more than {limits.lines} lines "
                                                 "(scan.smtp_max_reply_lines)")
            raw = read_line(sock, limits.line_bytes)
            if not raw:
                raise ConnectionError("the server closed the connection")
            match = SMTP_REPLY_LINE.match(raw)
            if match is None or code not in (None, int(match[1])):
                raise ProbeError(Reason.CONNECT, f"not SMTP: the server said {raw[:80]!r}")
            code = int(match[1])
            lines.append(raw.decode("latin-1").rstrip("\r\n"))
            if match[2] != b"-":
                return code, lines


def smtp_command(sock: DeadlineSocket, limits: SmtpLimits, command: str) -> tuple[int, list[str]]:
    sock.sendall(command.encode("ascii") + b"\r\n")
    return smtp_reply(sock, limits)


def smtp_hello(sock: DeadlineSocket, limits: SmtpLimits, ehlo_name: str) -> tuple[list[str], list[str] | None]:
    """Banner, then EHLO after a 220: (banner lines, EHLO extensions; None after another banner or a refused
    EHLO)."""
    code, banner = smtp_reply(sock, limits)
    if code != 220:
        return banner, None
    code, lines = smtp_command(sock, limits, f"EHLO {ehlo_name}")
    return banner, [line[4:] for line in lines[1:]] if code == 250 else None


def offers_starttls(extensions: list[str] | None) -> bool:
    return any(extension.split(" ")[0].upper() == "STARTTLS" for extension in extensions or ())


def starttls_refused(port: int, why: str) -> ProbeError:
    return ProbeError(Reason.TLS, f"STARTTLS not offered or refused on port {port}: {why}")


def smtp_starttls(sock: DeadlineSocket, limits: SmtpLimits) -> None:
    """Banner, EHLO and STARTTLS on a connected plain socket, which is then ready for a ClientHello."""
    port = sock.getpeername()[1]
    banner, extensions = smtp_hello(sock, limits, SMTP_EHLO_NAME)
    if not offers_starttls(extensions):
        raise starttls_refused(port, f"not in the EHLO reply (banner {banner[-1]!r})")
    code, lines = smtp_command(sock, limits, "STARTTLS")
    if code != 220:
        raise starttls_refused(port, " ".join(lines))


def smtp_greeting(address: str, port: int, timeout: float, deadline: float, limits: SmtpLimits,
                  host: str | None = None, ehlo_name: str = SMTP_EHLO_NAME) -> dict:
    """The banner and the EHLO extensions of a mail server: whether it offers STARTTLS, and what a server
    that refuses us says. With `host`, where STARTTLS is offered, one STARTTLS by a lenient client (SNI
    `host`): the chain any sending server gets, which DANE is judged on. A port that does not answer, answers
    no SMTP or hangs up before its EHLO reply is a ProbeError (an error, not a missing STARTTLS). Each reply
    must come within `timeout` seconds, and all of it before `deadline` (time.monotonic())."""
    facts: dict[str, Any] = {"measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    try:
        with open_connection(address, port, timeout, deadline) as sock:
            banner, extensions = smtp_hello(sock, limits, ehlo_name)
            facts.update(banner="\n".join(banner), extensions=extensions or [],
                         starttls=offers_starttls(extensions))
            if host and facts["starttls"]:
                facts.update(served_after_starttls(sock, limits, host))
            else:
                try:
                    smtp_command(sock, limits, "QUIT")
                except (OSError, ProbeError):
                    pass  # what the server says to QUIT, if anything, changes nothing
    except socket.timeout:
        raise ProbeError(Reason.TIMEOUT, f"SMTP on port {port}: no complete reply within {timeout:g} s or before "
                                         "the probe's deadline") from None
    except OSError as exc:
        raise ProbeError(Reason.CONNECT, f"SMTP on port {port}: {exc}") from None
    return facts


def served_after_starttls(sock: DeadlineSocket, limits: SmtpLimits, host: str) -> dict:
    """STARTTLS on a greeted connection: the chain and version served, or what went wrong. The handshake
    (Python's ssl, whose timeout bounds the whole handshake) ends within the socket's timeout and deadline."""
    code, lines = smtp_command(sock, limits, "STARTTLS")
    if code != 220:
        return {"starttls_error": " ".join(lines)}
    try:
        with lenient_tls_context().wrap_socket(sock.armed(), server_hostname=host) as tls:
            return {"certificates": [describe_certificate(der) for der in served_chain(tls)],
                    "tls_version": tls.version()}
    except ssl.SSLError as exc:
        return {"starttls_error": f"TLS handshake: {exc}"}


# --- one address ------------------------------------------------------------------------------------------

def close(conn: SslConnection) -> None:
    """Close with a close_notify. nassl's shutdown() closes the socket with the alert still unsent, and
    OpenSSL 3 servers drop a session that ends in a bare EOF: without this a 0-RTT ticket is never usable."""
    client = conn.ssl_client
    sock = client.get_underlying_socket()
    if not client.is_handshake_completed() or sock is None:
        conn.close()
        return
    try:
        client._ssl.shutdown()
        client._flush_ssl_engine()
    except (OSError, _nassl.OpenSSLError, _nassl.WantReadError):
        pass
    sock.close()


def tls13_hello(host: str, groups: list[int]) -> bytes:
    """A TLS 1.3 ClientHello offering `groups` with an empty key share, so that a server that accepts one
    must name it in a HelloRetryRequest (RFC 8446 4.1.4): no key is computed on either side."""
    def vector(body: bytes) -> bytes:
        return struct.pack("!H", len(body)) + body

    def extension(kind: int, body: bytes) -> bytes:
        return struct.pack("!H", kind) + vector(body)

    signature_schemes = (0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0807, 0x0808, 0x0401, 0x0501, 0x0601)
    extensions = (extension(0, vector(b"\0" + vector(host.encode("ascii"))))  # server_name
                  + extension(43, b"\x02\x03\x04")  # supported_versions: TLS 1.3
                  + extension(10, vector(b"".join(struct.pack("!H", g) for g in groups)))  # supported_groups
                  + extension(51, vector(b""))  # key_share: none
                  + extension(13, vector(b"".join(struct.pack("!H", a) for a in signature_schemes))))
    body = (b"\x03\x03" + os.urandom(32) + b"\x20" + os.urandom(32) + vector(b"\x13\x01\x13\x02\x13\x03")
            + b"\x01\x00" + vector(extensions))
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + vector(handshake)


def hello_retry_group(record: bytes) -> int | None:
    """The group a HelloRetryRequest selects (its key_share extension), or None for anything else."""
    if len(record) < 5 or record[0] != 22 or record[5:6] != b"\x02":
        return None
    body = record[9:]
    at = 2 + 32
    at += 1 + body[at]  # session id
    at += 3  # cipher suite, compression
    end = at + 2 + int.from_bytes(body[at:at + 2], "big")
    at += 2
    while at + 4 <= min(end, len(body)):
        kind, size = struct.unpack("!HH", body[at:at + 4])
        if kind == 51 and size == 2:
            return int.from_bytes(body[at + 4:at + 6], "big")
        at += 4 + size
    return None


class Endpoint:
    """Handshakes with one address under the site's host name (SNI), counted, one at a time (the whole
    evaluation runs in one thread); with `smtp` (the reply limits), each after SMTP's STARTTLS. Every read
    and write waits at most `timeout` seconds and ends by `deadline` (time.monotonic())."""

    def __init__(self, host: str, address: str, timeout: float, deadline: float, port: int = PORT,
                 smtp: SmtpLimits | None = None):
        self.host = host
        self.smtp = smtp
        self.starttls = smtp is not None
        self.location = ServerNetworkLocation(hostname=host, port=port, ip_address=address)
        # sslyze's own timeout is not used: BoundedConnection connects through `open`, with ours.
        self.network = ServerNetworkConfiguration(tls_server_name_indication=host, network_max_retries=1)
        self.timeout = timeout
        self.deadline = deadline
        self.handshakes = 0

    def connection(self, version: TlsVersionEnum, legacy: bool) -> SslConnection:
        return BoundedConnection(self, version, legacy)

    def open(self) -> DeadlineSocket:
        """A connection ready for a ClientHello: TCP, then STARTTLS for a mail server. A failed or timed-out
        TCP connect raises OSError as sslyze expects; a failed STARTTLS, a ProbeError."""
        port = self.location.port
        sock = open_connection(self.location.ip_address, port, self.timeout, self.deadline)
        if self.smtp is None:
            return sock
        try:
            smtp_starttls(sock, self.smtp)
            return sock
        except socket.timeout:
            sock.close()
            raise ProbeError(Reason.TIMEOUT, f"SMTP on port {port}: no reply before STARTTLS") from None
        except OSError as exc:
            sock.close()
            raise starttls_refused(port, str(exc) or type(exc).__name__) from None
        except BaseException:
            sock.close()
            raise

    def count(self) -> None:
        """One more handshake (counted before it is tried), unless the probe's time is up."""
        if time.monotonic() > self.deadline:
            raise ProbeError(Reason.TIMEOUT, f"TLS evaluation took too long after {self.handshakes} handshakes")
        self.handshakes += 1

    def connect(self, conn: SslConnection) -> None:
        """Complete one handshake or raise Refused; a closed or unreachable port is a ProbeError."""
        self.count()
        port = self.location.port
        try:
            conn.connect(should_retry_connection=False)
        except ServerTlsConfigurationNotSupported:
            raise  # the handshake went far enough: the server accepted; handshake() says so
        except TlsHandshakeTimedOut as exc:
            raise Refused(exc.error_message, timed_out=True) from None
        except ServerRejectedTlsHandshake as exc:
            raise Refused(exc.error_message) from None
        except ConnectionToServerTimedOut as exc:
            raise ProbeError(Reason.TIMEOUT, f"TCP connect to port {port}: {exc.error_message}") from None
        except ConnectionToServerFailed as exc:
            raise ProbeError(Reason.CONNECT, f"TCP connect to port {port}: {exc.error_message}") from None
        except socket.timeout:
            raise Refused("timed out", timed_out=True) from None
        except (OSError, _nassl.OpenSSLError) as exc:
            raise Refused(f"{type(exc).__name__}: {exc}") from None

    def tls13_group_choice(self, groups: list[int]) -> int | None:
        """The group the server picks from `groups` in TLS 1.3 (first flight only), None when it refuses."""
        self.count()
        try:
            with self.open() as sock:
                sock.sendall(tls13_hello(self.host, groups))
                record = b""
                while len(record) < 5 or len(record) < 5 + int.from_bytes(record[3:5], "big"):
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    record += chunk
        except OSError:
            return None
        return hello_retry_group(record)

    def handshake(self, version: TlsVersionEnum, legacy: bool, suites: list[str] | None = None,
                  groups: list[OpenSslEcNidEnum] | None = None, inspect: Callable | None = None,
                  request_ocsp: bool = False, sigalgs: list | None = None):
        """One handshake offering `suites` (OpenSSL names), `groups` and the signature schemes `sigalgs`
        ((hash, key type) pairs); returns (suite picked, nassl's
        ephemeral key, what `inspect(client)` returned). All None when our own client refused the server's
        too-small DH key (the server did accept a DHE suite)."""
        conn = self.connection(version, legacy)
        client = conn.ssl_client
        if suites is not None:
            if version == V.TLS_1_3:
                client.set_ciphersuites(":".join(suites))
            else:
                client.set_cipher_list(":".join(suites))
        if groups is not None:
            client.set_groups(list(groups))
        if sigalgs is not None:
            client.set_signature_algorithms(sigalgs)
        if request_ocsp:
            client.set_tlsext_status_ocsp()
        try:
            try:
                self.connect(conn)
            except ServerTlsConfigurationNotSupported:
                return None, None, None
            except NoCiphersAvailableBugInSSlyze:
                raise Refused("none of the offered suites is available in the client") from None
            picked = _iana(version, client.get_current_cipher_name())
            return picked, client.get_ephemeral_key(), inspect(client) if inspect else None
        finally:
            close(conn)


class BoundedConnection(SslConnection):
    """sslyze's connection on a socket the Endpoint opened: nassl then reads and writes through the
    DeadlineSocket, so the deadline holds inside the handshake, and SMTP is the scanner's bounded exchange."""

    def __init__(self, endpoint: Endpoint, version: TlsVersionEnum, legacy: bool):
        super().__init__(endpoint.location, endpoint.network, version, should_ignore_client_auth=True,
                         should_use_legacy_openssl=legacy)
        self.endpoint = endpoint

    def _do_pre_handshake(self) -> None:
        self.ssl_client.set_underlying_socket(self.endpoint.open())


def _chain_and_ocsp(ca_bundle: Path | None):
    def inspect(client) -> dict[str, Any]:
        chain = [x509.load_pem_x509_certificate(pem.encode()) for pem in client.get_received_chain()]
        staple = client.get_tlsext_status_ocsp_resp()
        return {
            "certificates": [certificate_facts(cert) for cert in chain],
            "ocsp": ocsp_facts(staple.as_der_bytes(), chain, ca_bundle) if staple and chain else {"stapled": False},
        }

    return inspect


class Evaluation:
    """The whole TLS evaluation of one endpoint (blocking; run in the probe's thread)."""

    def __init__(self, endpoint: Endpoint, ca_bundle: Path | None, user_agent: str = ""):
        self.ep = endpoint
        self.ca_bundle = ca_bundle
        self.user_agent = user_agent
        self.refusals: list[str] = []
        self.timeouts = 0
        self.ephemeral: dict[str, dict] = {}  # suite -> ephemeral key facts
        self.incomplete: list[str] = []  # enumerations cut short by the budget

    def run(self) -> dict[str, Any]:
        cpu_started = time.thread_time()
        first = self.version_probes()
        if not first:
            detail = "; ".join(self.refusals[:3])
            if self.timeouts:
                raise ProbeError(Reason.TIMEOUT, f"no TLS handshake completed ({detail})")
            raise ProbeError(Reason.TLS, f"no TLS or SSL version accepted ({detail})")
        suites: dict[str, list[str]] = {}
        server_order: dict[str, bool | None] = {}

        def enumerate_version(version):
            by_pass = first[version]
            found = [self.enumerate(version, legacy, offered, picked) for legacy, offered, picked, _ in by_pass]
            suites[VERSION_NAMES[version]] = [s for names in found for s in names]
            if version != V.TLS_1_3:
                server_order[VERSION_NAMES[version]] = self.order(version, by_pass, found)

        # Newest versions first, then the groups, then the versions that fail on their own: if the budget
        # is ever spent, only the least useful lists are cut short (and `incomplete` says which).
        modern = [v for v in first if v in (V.TLS_1_3, V.TLS_1_2)]
        for version in modern:
            enumerate_version(version)
        chain_ocsp = next((p[3] for version in first for p in first[version] if p[3] is not None),
                          {"certificates": [], "ocsp": {"stapled": False}})
        leaf = chain_ocsp["certificates"][0] if chain_ocsp["certificates"] else None
        key_exchange = self.key_exchange(first, suites, server_order, leaf)
        for version in first:
            if version not in modern:
                enumerate_version(version)
        return {
            "host": self.ep.host,
            "address": self.ep.location.ip_address,
            "port": self.ep.location.port,
            "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "protocols": {VERSION_NAMES[v]: v in first for v in VERSION_NAMES},
            "suites": suites,
            "server_order": server_order,
            "key_exchange": key_exchange,
            "legacy_connection": self.legacy_connection(first),
            "early_data": self.early_data() if V.TLS_1_3 in first and not self.ep.starttls else None,
            "certificates": chain_ocsp["certificates"],
            "ocsp": chain_ocsp["ocsp"],
            "incomplete": self.incomplete,
            "handshakes": self.ep.handshakes,
            "cpu_seconds": round(time.thread_time() - cpu_started, 4),
        }

    def within_budget(self, what: str) -> bool:
        """Whether another enumeration handshake fits in ENUMERATION_BUDGET; notes `what` when not."""
        if self.ep.handshakes < ENUMERATION_BUDGET:
            return True
        if what not in self.incomplete:
            self.incomplete.append(what)
        return False

    def note_key(self, suite: str | None, key) -> None:
        """Keep the ephemeral key facts of each suite; None as suite means a DH key our client refused."""
        if suite is None:
            self.ephemeral["DHE"] = {"type": "DH", "group": None, "bits": None, "too_small": True}
        elif ephemeral_facts(key) is not None:
            self.ephemeral[suite] = ephemeral_facts(key)

    def try_handshake(self, *args, **kwargs):
        try:
            return self.ep.handshake(*args, **kwargs)
        except Refused as exc:
            self.refusals.append(str(exc))
            self.timeouts += exc.timed_out
            return None

    def version_probes(self) -> dict[TlsVersionEnum, list[tuple[bool, dict[str, str], str | None, dict]]]:
        """Per accepted version, per client pass that got a handshake: (legacy, suites offered, suite picked,
        chain and OCSP). A server that lets two handshakes time out before any succeeds is stalling."""
        accepted: dict = {}
        for version in sorted(VERSION_NAMES, key=lambda v: -v.value):
            for legacy, offered in passes(version):
                if not offered:
                    continue
                result = self.try_handshake(version, legacy, list(offered.values()),
                                            inspect=_chain_and_ocsp(self.ca_bundle), request_ocsp=True)
                if result is None:
                    if not accepted and self.timeouts >= 2:
                        return {}
                    continue
                picked, key, chain_ocsp = result
                self.note_key(picked, key)
                accepted.setdefault(version, []).append((legacy, offered, picked, chain_ocsp))
        return accepted

    def enumerate(self, version, legacy: bool, offered: dict[str, str], first: str | None) -> list[str]:
        """Accepted suites of one client pass, in the order the server picked them."""
        found = [first] if first else []
        left = {k: v for k, v in offered.items() if k != first}
        if first is None:  # our client refused a too-small DH key: drop the DHE suites and go on
            left = {k: v for k, v in left.items() if "_DHE_" not in k}
        while left and self.within_budget(f"{VERSION_NAMES[version]} suites"):
            result = self.try_handshake(version, legacy, list(left.values()))
            if result is None:
                break
            picked, key, _ = result
            self.note_key(picked, key)
            if picked is None:
                left = {k: v for k, v in left.items() if "_DHE_" not in k}
                continue
            if picked not in left:
                break
            found.append(picked)
            del left[picked]
        return found

    def order(self, version, by_pass, found: list[list[str]]) -> bool | None:
        """Whether the server enforces its own order: offer the accepted suites reversed (one handshake, on
        the first client pass with two or more); None when no pass has two suites to compare."""
        for (legacy, offered, _, _), names in zip(by_pass, found):
            if len(names) >= 2:
                result = self.try_handshake(version, legacy, [offered[n] for n in reversed(names)])
                if result is None:
                    return None
                return result[0] == names[0]
        return None

    def key_exchange(self, first, suites: dict[str, list[str]], server_order: dict[str, bool | None],
                     leaf: dict | None) -> dict[str, Any]:
        """Groups the server accepts, by elimination, and the DH parameters seen on DHE suites.

        TLS 1.3 first, for the groups it allows: there the certificate does not limit them. Then TLS 1.2, with
        the accepted ECDHE suites, for the other curves. A TLS 1.2 server whose ECDHE suites are all ECDSA
        can only answer when its certificate's curve is offered, so that curve is always offered, last; once
        the server picks it, the curves left are untested, unless the server follows the client's order (it
        would have picked one of them first). `groups_complete` says whether every curve got an answer."""
        groups: list[str] = []
        measured_on: list[str] = []
        complete = True
        if V.TLS_1_3 in first:
            measured_on.append("TLSv1.3")
            complete &= self.eliminate_groups(V.TLS_1_3, None, list(TLS13_CURVES), None, False, groups)
            complete &= self.eliminate_ffdhe(groups)
        modern_12 = client_suites(V.TLS_1_2, False)
        ecdhe_12 = [s for s in suites.get("TLSv1.2", []) if s.startswith("TLS_ECDHE_") and s in modern_12]
        if ecdhe_12:
            measured_on.append("TLSv1.2")
            left = [n for n in OpenSslEcNidEnum if V.TLS_1_3 not in first or n not in TLS13_CURVES]
            pin = None
            if all("_ECDSA_" in s for s in ecdhe_12) and leaf and leaf.get("curve"):
                pin = next((n for n in OpenSslEcNidEnum if n.name.lower() == leaf["curve"].lower()), None)
            complete &= self.eliminate_groups(V.TLS_1_2, [modern_12[s] for s in ecdhe_12], left, pin,
                                              server_order.get("TLSv1.2") is False, groups)
        dh = [dict(key, suite=suite) for suite, key in self.ephemeral.items() if key.get("type") == "DH"]
        return {"groups": groups, "groups_measured_on": measured_on, "groups_complete": complete, "dh": dh,
                "signature_hashes": self.signature_hashes(suites)}

    def signature_hashes(self, suites: dict[str, list[str]]) -> dict[str, Any]:
        """The hashes the server signs its key exchange with: on TLS 1.2, with the accepted suites whose key
        exchange is signed, one handshake per hash offering only the schemes with that hash. A hash counts when
        the server signed with it, not merely when it completed the handshake (some ignore the client's list).
        TLS 1.2 only: TLS 1.3 allows SHA-256 and stronger alone (RFC 8446 4.4.3), and TLS 1.0 and 1.1 always
        sign with SHA-1 (RFC 4346 7.4.3), which web.tls.version fails."""
        modern_12 = client_suites(V.TLS_1_2, False)
        signed = [modern_12[s] for s in suites.get("TLSv1.2", []) if SIGNED_KEY_EXCHANGE.match(s) and s in modern_12]
        if not signed:
            return {"measured_on": None, "accepted": []}
        accepted = []
        for name, schemes in KEY_EXCHANGE_SIGNATURES.items():
            result = self.try_handshake(V.TLS_1_2, False, signed, sigalgs=schemes, inspect=peer_signature_hash)
            if result is not None and result[2] == name:
                accepted.append(name)
        return {"measured_on": "TLSv1.2", "accepted": accepted}

    def eliminate_ffdhe(self, groups: list[str]) -> bool:
        """The RFC 7919 groups the server accepts in TLS 1.3, by elimination with hand-made ClientHellos."""
        left = dict(FFDHE_CODEPOINTS)
        while left and self.within_budget("groups"):
            picked = self.ep.tls13_group_choice(list(left.values()))
            name = next((n for n, code in left.items() if code == picked), None)
            if name is None:
                return True
            groups.append(name)
            del left[name]
        return not left

    def eliminate_groups(self, version, suites: list[str] | None, left: list[OpenSslEcNidEnum],
                         pin: OpenSslEcNidEnum | None, client_order: bool, groups: list[str]) -> bool:
        """Offer `left` (and `pin`, last), record the group picked, drop it, repeat until refused. Returns
        whether every curve of `left` got an answer."""
        while left and self.within_budget("groups"):
            offer = [n for n in left if n != pin] + ([pin] if pin is not None else [])
            result = self.try_handshake(version, False, suites, groups=offer)
            key = result[1] if result else None
            if not isinstance(key, EcDhEphemeralKeyInfo) or key.curve not in offer:
                return True  # refused: the server accepts none of those left
            if key.curve_name not in groups:
                groups.append(key.curve_name)
            if key.curve == pin:
                return client_order or not [n for n in left if n != pin]
            left.remove(key.curve)
        return not left

    def legacy_connection(self, first) -> dict[str, Any] | None:
        """Compression, secure renegotiation and a client-initiated renegotiation on one legacy-client
        connection at the highest version below TLS 1.3 (which has none of these). None when no such
        version is accepted or the legacy client shares no suite with the server."""
        version = next((v for v in (V.TLS_1_2, V.TLS_1_1, V.TLS_1_0, V.SSL_3_0) if v in first), None)
        if version is None:
            return None
        conn = self.ep.connection(version, True)
        conn.ssl_client.set_cipher_list(":".join(client_suites(version, True).values()))
        try:
            self.ep.connect(conn)
            return {
                "version": VERSION_NAMES[version],
                "compression": conn.ssl_client.get_current_compression_method(),
                "secure_renegotiation": conn.ssl_client.get_secure_renegotiation_support(),
                "client_renegotiation": self._renegotiate(conn),
            }
        except Refused as exc:
            self.refusals.append(str(exc))
            return None
        except ServerTlsConfigurationNotSupported:  # our client refused the server's tiny DH key
            return None
        finally:
            close(conn)

    def _renegotiate(self, conn: SslConnection) -> bool:
        self.ep.count()
        try:
            conn.ssl_client.do_renegotiate()
            return True
        except (socket.timeout, ConnectionError):
            return False
        except (OSError, _nassl.OpenSSLError) as exc:
            self.refusals.append(f"renegotiation: {exc}")
            return False

    def early_data(self) -> dict[str, Any]:
        """Whether a TLS 1.3 session ticket allows early data, and whether the server accepts it."""
        agent = f"User-Agent: {self.user_agent}\r\n" if self.user_agent else ""
        request = f"GET / HTTP/1.1\r\nHost: {self.ep.host}\r\n{agent}Connection: close\r\n\r\n".encode()
        conn = self.ep.connection(V.TLS_1_3, False)
        session = None
        try:
            self.ep.connect(conn)
            conn.ssl_client.write(request)
            try:
                conn.ssl_client.read(2048)
            except (socket.timeout, OSError, _nassl.OpenSSLError):
                pass  # the ticket usually arrives with or before the response; judge by what we have
            session = conn.ssl_client.get_session()
        except Refused as exc:
            self.refusals.append(str(exc))
        finally:
            close(conn)
        max_early = session.get_max_early_data() if session is not None else 0
        facts = {"offered": max_early > 0, "max_early_data": max_early, "accepted": False}
        if not max_early:
            return facts
        conn = self.ep.connection(V.TLS_1_3, False)
        conn.ssl_client.set_session(session)
        self.ep.count()
        try:
            conn._do_pre_handshake()
            conn.ssl_client.write_early_data(request)
            conn.ssl_client.do_handshake()
            facts["accepted"] = conn.ssl_client.get_early_data_status() == OpenSslEarlyDataStatusEnum.ACCEPTED
        except (OSError, _nassl.OpenSSLError) as exc:
            self.refusals.append(f"early data: {exc}")
        finally:
            close(conn)
        return facts


class TlsProbe(Probe):
    name = "tls"
    version = 2  # 2: the key exchange's signature hashes; the chain's signature algorithm OIDs
    per_address = True
    port = PORT

    def timeout(self, settings) -> float:
        # Dozens of handshakes one after the other; a few refused by timeout must still fit.
        return 3 * settings.scan.probe_timeout

    async def collect(self, ctx: ProbeContext, site: Site, address, prior) -> dict:
        ctx.address_policy.check(address)
        settings = ctx.settings
        deadline = time.monotonic() + self.timeout(settings) - settings.scan.connect_timeout
        endpoint = Endpoint(site.host, address, settings.scan.connect_timeout, deadline, self.port)
        evaluation = Evaluation(endpoint, settings.trust.ca_bundle_path, settings.scan.user_agent)
        async with ctx.limit(address):
            data = await ctx.in_thread(evaluation.run)
        ctx.counters.add("tls_handshakes", data["handshakes"])
        ctx.counters.add("tls_cpu_ms", round(1000 * data["cpu_seconds"]))
        return data
