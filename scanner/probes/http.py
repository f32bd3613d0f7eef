"""HTTP(S) facts for one IP address of a site: ports 443 and 80, the TLS handshake and served chain, the
front page with its headers and redirect chain, and security.txt.

A small HTTP/1.1 client over asyncio streams, because every connection must go to the given address while
SNI and the Host header carry the site's name, and because hostile servers must not cost more than the
configured limits: every connect, handshake and response has a deadline (a drip-feeding server cannot
stretch one), no body is read or decompressed beyond `max_body_bytes`, and redirects stop after
MAX_REDIRECTS hops or on a loop. No connection goes to an address the address policy refuses
(scanner/addresses.py): a refused site address is a `refused_address` error, a refused redirect target a hop
with that error. One connection is open at a time per probe (under the per-address limit),
reused while the server keeps it alive, so a site costs a handful of requests per address.

Judges nothing: whether the chain validates and which names it carries are recorded as facts; checks/https.py
decides what that means.

The artifact (keys present only as far as the probe got; a failed part has `error` (a Reason) and `detail`):

    host, address, fetched_at (ISO UTC: the "now" of every date judgement), ports {https, http},
    tcp443 {open}, tls {ok, version, cipher, alpn},
    certificates [leaf first: pem, subject, issuer, serial, sans, san_ips, not_before, not_after, key_type
                  (rsa, ec, dsa, ed25519, ed448), key_size, curve, signature_algorithm, signature_hash,
                  sha256, self_issued],
    cert_verification {validated, error, chain}   (to the configured CA bundle, at fetched_at, no host name),
    https {url, status, reason, http_version, headers [[name, value], ...] in order, location, body,
           body_bytes, wire_bytes, body_truncated, body_sha256, content_encoding}   (GET https://host/),
    security_txt {"/.well-known/security.txt": {url (after redirects), redirected_from, status, content_type,
                  media_type, charset, location, bytes, too_large, body_base64},
                  "/security.txt": ... (only when the first is not 200)},
    redirects {hops [{url, address, status, location, headers}], stopped (None, loop, too_many, error,
               unsupported), final_url, final_host, final (the last response, with body, after a redirect)},
    tcp80 {open}, http {url, status, headers, location, body, ...}   (the first response to http://host/),
    requests, seconds.
"""
from __future__ import annotations

import asyncio
import base64
import datetime as dt
import functools
import hashlib
import ipaddress
import ssl
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509 import verification

from govscan.model import Reason, Site
from scanner.probes.base import Probe, ProbeContext, ProbeError

# Redirects followed from the front page: real chains take two or three (apex -> www -> a start page); an
# endless one must not cost more. With security.txt's and port 80's, a site costs at most 12 requests per
# address, 24 for a dual-stack one (the benchmark's politeness target is 25).
MAX_REDIRECTS = 6
SECURITY_TXT_REDIRECTS = 3
SECURITY_TXT_PATHS = ("/.well-known/security.txt", "/security.txt")
SECURITY_TXT_READ_LIMIT = 100 * 1024  # RFC 9116's ceiling; one byte more is read to see that a file is longer
HEADER_LIMIT = 64 * 1024
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
DEADLINE_MARGIN = 1.0  # seconds kept back from the probe timeout, so the facts gathered so far are returned


class Failed(Exception):
    """One part (connect, handshake, request) could not be done: `reason` is a govscan.model.Reason."""

    def __init__(self, reason: str, detail: str, stage: str = ""):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.stage = stage  # "tcp" or "tls" for a failed connect

    def fact(self) -> dict[str, str]:
        return {"error": self.reason, "detail": self.detail}


@dataclass
class Response:
    status: int
    reason: str
    version: str
    headers: list[list[str]]
    body: bytes
    wire_bytes: int
    truncated: bool
    keep_alive: bool
    decode_error: str = ""

    def header(self, name: str) -> str | None:
        """The first header of that name (the one a browser acts on)."""
        name = name.lower()
        return next((v for n, v in self.headers if n.lower() == name), None)

    def content_type(self) -> tuple[str, str | None]:
        """Media type (lower case) and charset parameter."""
        value = self.header("content-type") or ""
        media, _, params = value.partition(";")
        charset = None
        for param in params.split(";"):
            key, _, val = param.strip().partition("=")
            if key.lower() == "charset":
                charset = val.strip().strip('"').lower()
        return media.strip().lower(), charset

    def text(self) -> str:
        """The body as text in its declared charset (UTF-8 when none or an unknown one is declared)."""
        try:
            return self.body.decode(self.content_type()[1] or "utf-8", errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")

    def fact(self, with_body: bool = True) -> dict[str, Any]:
        fact = {"status": self.status, "reason": self.reason, "http_version": self.version,
                "headers": self.headers, "location": self.header("location"),
                "body_bytes": len(self.body), "wire_bytes": self.wire_bytes, "body_truncated": self.truncated,
                "content_encoding": self.header("content-encoding")}
        if self.decode_error:
            fact["decode_error"] = self.decode_error
        if with_body:
            fact["body"] = self.text()
            fact["body_sha256"] = hashlib.sha256(self.body).hexdigest()
        return fact


@dataclass
class Connection:
    key: tuple
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    limit: asyncio.Semaphore
    reusable: bool = True

    def close(self) -> None:
        # abort, not a polite close: a hostile server must not make us wait for its close_notify
        self.writer.transport.abort()
        self.limit.release()


def lenient_tls_context(alpn: list[str] | None = None) -> ssl.SSLContext:
    """Unverified, and lenient about old protocols and small keys: a probe records what is served (the
    chain is verified separately, and the TLS checks judge protocols), so it must not refuse to look."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    if alpn:
        context.set_alpn_protocols(alpn)
    return context


class Session:
    """The connections and requests of one probe of one address, with the probe's overall deadline."""

    def __init__(self, ctx: ProbeContext, deadline: float):
        self.ctx = ctx
        self.settings = ctx.settings.scan
        self.deadline = deadline
        self.connection: Connection | None = None
        self.requests = 0
        self.tls_context = lenient_tls_context(["http/1.1"])

    def timeout(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Failed(Reason.TIMEOUT, "the probe's time ran out")
        return min(self.settings.connect_timeout, left)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    async def connect(self, address: str, port: int, server_name: str | None) -> tuple[Connection, dict]:
        """A TCP connection to `address`, with TLS (SNI `server_name`) when a name is given.

        Returns the connection and the handshake facts (empty for plain HTTP). One connection at a time:
        any open one is closed first, so a probe never waits on a second slot of the per-address limit.
        An address the policy refuses raises RefusedAddress (scanner/addresses.py) and is never connected to.
        """
        self.ctx.address_policy.check(address)
        self.close()
        limit = self.ctx.limit(address)
        await limit.acquire()
        try:
            timeout = self.timeout()
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(address, port, limit=HEADER_LIMIT), timeout)
            except asyncio.TimeoutError:
                raise Failed(Reason.TIMEOUT, f"no TCP connection to {address} port {port} within {timeout:g}s", "tcp")
            except OSError as exc:
                raise Failed(Reason.CONNECT, f"{address} port {port}: {exc.strerror or exc}", "tcp")
            connection = Connection((address, port, server_name), reader, writer, limit)
        except BaseException:
            limit.release()
            raise
        if server_name is None:
            self.connection = connection
            return connection, {}
        try:
            timeout = self.timeout()
            try:
                # asyncio's own handshake timeout aborts with a ConnectionAbortedError; ours comes first
                await asyncio.wait_for(writer.start_tls(self.tls_context, server_hostname=server_name,
                                                        ssl_handshake_timeout=timeout + 1), timeout)
            except asyncio.TimeoutError:
                raise Failed(Reason.TIMEOUT, f"no TLS handshake with {address} port {port} within {timeout:g}s", "tls")
            except (ssl.SSLError, OSError, ConnectionError) as exc:
                raise Failed(Reason.TLS, f"TLS handshake with {address} port {port} failed: {exc}", "tls")
        except BaseException:
            connection.close()
            raise
        self.connection = connection
        return connection, _handshake_facts(writer)

    async def get(self, url: str, address: str, *, body_limit: int | None = None) -> Response:
        """GET `url` from `address`, reusing the open connection when it goes to the same place."""
        parts = urlsplit(url)
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)
        host = (parts.hostname or "").lower()
        key = (address, port, host if tls else None)
        fresh = self.connection is None or self.connection.key != key or not self.connection.reusable
        if fresh:
            await self.connect(address, port, host if tls else None)
        try:
            return await self._exchange(parts, host, body_limit)
        except Failed as failure:
            if fresh or failure.reason == Reason.TIMEOUT:
                raise
        # a kept-alive connection the server had closed meanwhile: one more try on a new one
        await self.connect(address, port, host if tls else None)
        return await self._exchange(parts, host, body_limit)

    async def _exchange(self, parts, host: str, body_limit: int | None) -> Response:
        connection = self.connection
        limit = self.settings.max_body_bytes if body_limit is None else body_limit
        target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~") + (f"?{parts.query}" if parts.query else "")
        host_header = host if parts.port is None else f"{host}:{parts.port}"
        request = (f"GET {target} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {self.settings.user_agent}\r\n"
                   "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
                   "Accept-Language: nl,en;q=0.8\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n")
        self.requests += 1
        self.ctx.counters.add("http_requests")
        timeout = self.timeout()
        try:
            connection.writer.write(request.encode("ascii", errors="replace"))
            response = await asyncio.wait_for(_read_response(connection.reader, limit), timeout)
        except asyncio.TimeoutError:
            connection.reusable = False
            raise Failed(Reason.TIMEOUT, f"no complete response to GET {target} within {timeout:g}s")
        except (OSError, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError,
                ssl.SSLError) as exc:
            connection.reusable = False
            raise Failed(Reason.HTTP, f"GET {target}: {type(exc).__name__}: {exc}")
        connection.reusable = response.keep_alive
        return response


async def _read_response(reader: asyncio.StreamReader, limit: int) -> Response:
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/") or not code.isdigit():
            raise ValueError(f"not an HTTP response: {lines[0][:80]!r}")
        status = int(code)
        if not 100 <= status < 200:
            break
    headers: list[list[str]] = []
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" and headers:  # obsolete line folding
            headers[-1][1] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if sep:
            headers.append([name.strip(), value.strip()])

    def first(name: str) -> str:
        return next((v for n, v in headers if n.lower() == name), "")

    keep_alive = version == "HTTP/1.1" and "close" not in first("connection").lower()
    raw, complete = b"", True
    if status in (204, 304):
        pass
    elif "chunked" in first("transfer-encoding").lower():
        raw, complete = await _read_chunked(reader, limit)
    elif first("content-length").strip().isdigit():
        length = int(first("content-length"))
        raw = await reader.readexactly(min(length, limit))
        complete = length <= limit
    else:
        while len(raw) <= limit:
            more = await reader.read(limit + 1 - len(raw))
            if not more:
                break
            raw += more
        complete = len(raw) <= limit
        raw = raw[:limit]
        keep_alive = False
    body, truncated, decode_error = _decode_body(raw, first("content-encoding").lower().strip(), limit)
    return Response(status, reason.strip(), version, headers, body, len(raw), truncated or not complete,
                    keep_alive and complete, decode_error)


async def _read_chunked(reader: asyncio.StreamReader, limit: int) -> tuple[bytes, bool]:
    raw = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return bytes(raw), True
        if len(raw) + size > limit:
            raw += await reader.readexactly(limit - len(raw))
            return bytes(raw), False
        raw += await reader.readexactly(size)
        await reader.readexactly(2)


def _decode_body(raw: bytes, encoding: str, limit: int) -> tuple[bytes, bool, str]:
    """Undo gzip/deflate without ever producing more than `limit` bytes (a gzip bomb stops there)."""
    if encoding not in ("gzip", "x-gzip", "deflate") or not raw:
        return raw, False, ""
    error = ""
    for wbits in ((zlib.MAX_WBITS | 16,) if "gzip" in encoding else (zlib.MAX_WBITS, -zlib.MAX_WBITS)):
        decoder = zlib.decompressobj(wbits)
        try:
            body = decoder.decompress(raw, limit)
        except zlib.error as exc:
            error = f"{encoding}: {exc}"
            continue
        return body, bool(decoder.unconsumed_tail), ""
    return raw, False, error


def _handshake_facts(writer: asyncio.StreamWriter) -> dict[str, Any]:
    ssl_object = writer.get_extra_info("ssl_object")
    cipher = ssl_object.cipher()
    return {"version": ssl_object.version(), "cipher": cipher[0] if cipher else None,
            "alpn": ssl_object.selected_alpn_protocol(), "chain_der": served_chain(ssl_object)}


def served_chain(ssl_object) -> list[bytes]:
    """The certificates as the server sent them, leaf first (Python 3.11 has this only privately)."""
    inner = getattr(ssl_object, "_sslobj", None)
    if inner is not None and hasattr(inner, "get_unverified_chain"):
        import _ssl

        return [cert.public_bytes(_ssl.ENCODING_DER) for cert in inner.get_unverified_chain() or []]
    leaf = ssl_object.getpeercert(binary_form=True)
    return [leaf] if leaf else []


# --- certificates -------------------------------------------------------------------------------------------

def describe_certificate(der: bytes) -> dict[str, Any]:
    """The fields checks need from one certificate, with its PEM. `key_type`: rsa, ec, dsa, ed25519, ed448."""
    cert = x509.load_der_x509_certificate(der)
    key = cert.public_key()
    key_type, key_size, curve = type(key).__name__.lower(), None, None
    if isinstance(key, rsa.RSAPublicKey):
        key_type, key_size = "rsa", key.key_size
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key_type, key_size, curve = "ec", key.curve.key_size, key.curve.name
    elif isinstance(key, dsa.DSAPublicKey):
        key_type, key_size = "dsa", key.key_size
    elif isinstance(key, ed25519.Ed25519PublicKey):
        key_type, key_size = "ed25519", 256
    elif isinstance(key, ed448.Ed448PublicKey):
        key_type, key_size = "ed448", 456
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = san.get_values_for_type(x509.DNSName)
        ip_names = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        dns_names, ip_names = [], []
    except ValueError:  # a malformed extension
        dns_names, ip_names = [], []
    try:
        signature_hash = cert.signature_hash_algorithm.name if cert.signature_hash_algorithm else None
    except Exception:  # an algorithm cryptography does not know (MD2, GOST ...)
        signature_hash = "unknown"
    return {
        "pem": cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "sans": dns_names,
        "san_ips": ip_names,
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "key_type": key_type,
        "key_size": key_size,
        "curve": curve,
        "signature_algorithm": getattr(cert.signature_algorithm_oid, "_name", cert.signature_algorithm_oid.dotted_string),
        "signature_oid": cert.signature_algorithm_oid.dotted_string,
        "signature_hash": signature_hash,
        "sha256": hashlib.sha256(der).hexdigest(),
        "self_issued": cert.subject == cert.issuer,
    }


@functools.lru_cache(maxsize=4)
def trust_store(path: str) -> verification.Store:
    """The configured CA bundle as a verification store (read once per file); unparsable entries skipped."""
    roots = []
    for block in Path(path).read_bytes().split(b"-----END CERTIFICATE-----"):
        if b"-----BEGIN CERTIFICATE-----" in block:
            try:
                roots.append(x509.load_pem_x509_certificate(block + b"-----END CERTIFICATE-----\n"))
            except ValueError:
                continue
    if not roots:
        raise ValueError(f"{path}: no certificates in the CA bundle")
    return verification.Store(roots)


def _lenient_ca_policy() -> verification.ExtensionPolicy:
    """Web PKI rules for CAs, minus the extensions older roots and private CAs often lack."""
    policy = verification.ExtensionPolicy.webpki_defaults_ca()
    for extension in (x509.KeyUsage, x509.AuthorityKeyIdentifier, x509.SubjectKeyIdentifier):
        policy = policy.may_be_present(extension, verification.Criticality.AGNOSTIC, None)
    return policy


def verify_chain(chain_der: list[bytes], ca_bundle: Path, when: dt.datetime) -> dict[str, Any]:
    """Whether the served chain builds to a root of the bundle and every certificate is valid at `when`.

    The host name is deliberately not part of this (web.cert.hostname judges the SANs on its own), so the
    leaf is verified with a name-free verifier; which names it carries is in the certificate facts.
    """
    if not chain_der:
        return {"validated": False, "error": "the server sent no certificate", "chain": []}
    try:
        certs = [x509.load_der_x509_certificate(der) for der in chain_der]
        store = trust_store(str(ca_bundle))
        verifier = (verification.PolicyBuilder().store(store).time(when)
                    .extension_policies(ca_policy=_lenient_ca_policy(),
                                        ee_policy=verification.ExtensionPolicy.permit_all())
                    .build_client_verifier())
        verified = verifier.verify(certs[0], certs[1:])
    except (verification.VerificationError, ValueError) as exc:
        return {"validated": False, "error": str(exc), "chain": []}
    return {"validated": True, "error": None, "chain": [cert.subject.rfc4514_string() for cert in verified.chain]}


# --- the probe ----------------------------------------------------------------------------------------------

def _host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


async def allowed_address(ctx, host: str, family_of: str | None = None) -> str:
    """An address of `host` (or `host` itself, a literal address) that the address policy allows, of the IP
    family of `family_of` when it has one of that family. Failed when it has none, RefusedAddress when it has
    only refused ones (scanner/addresses.py)."""
    try:
        candidates = [str(ipaddress.ip_address(host))]
    except ValueError:
        found = await ctx.resolver.addresses(host)
        same, other = ("ipv6", "ipv4") if family_of and ":" in family_of else ("ipv4", "ipv6")
        candidates = found[same] + found[other]
    if not candidates:
        raise Failed(Reason.DNS, f"{host} has no address")
    allowed = [a for a in candidates if ctx.address_policy.refusal(a) is None]
    if not allowed:
        ctx.address_policy.check(candidates[0])  # raises RefusedAddress, naming the first one
    return allowed[0]


class HttpProbe(Probe):
    """Per address: port 443 (TCP, TLS, chain, front page, redirect chain, security.txt) and port 80."""

    name = "http"
    version = 1
    per_address = True

    def __init__(self, https_port: int = 443, http_port: int = 80):
        self.https_port = https_port  # other ports only in tests, where the servers are not privileged
        self.http_port = http_port

    async def collect(self, ctx: ProbeContext, site: Site, address: str | None, prior) -> dict[str, Any]:
        start = time.monotonic()
        session = Session(ctx, start + self.timeout(ctx.settings) - DEADLINE_MARGIN)
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        data: dict[str, Any] = {"host": site.host, "address": address, "fetched_at": now.isoformat(),
                                "ports": {"https": self.https_port, "http": self.http_port}}
        try:
            await self._https(ctx, session, site, address, now, data)
            await self._http(session, site, address, data)
        finally:
            session.close()
        data["requests"] = session.requests
        data["seconds"] = round(time.monotonic() - start, 3)
        _raise_when_nothing_measured(data)
        return data

    def _url(self, scheme: str, host: str, path: str = "/") -> str:
        port = self.https_port if scheme == "https" else self.http_port
        default = 443 if scheme == "https" else 80
        return f"{scheme}://{host}{'' if port == default else f':{port}'}{path}"

    async def _https(self, ctx, session: Session, site: Site, address: str, now: dt.datetime, data: dict) -> None:
        try:
            _, handshake = await session.connect(address, self.https_port, site.host)
        except Failed as failure:
            if failure.stage == "tls":
                data["tcp443"] = {"open": True}
                data["tls"] = {"ok": False, **failure.fact()}
            else:
                data["tcp443"] = {"open": False, **failure.fact()}
            return
        data["tcp443"] = {"open": True}
        chain = handshake.pop("chain_der")
        data["tls"] = {"ok": True, **handshake}
        data["certificates"] = [describe_certificate(der) for der in chain]
        data["cert_verification"] = verify_chain(chain, ctx.settings.trust.ca_bundle_path, now)

        path = urlsplit(site.url).path or "/"
        url = self._url("https", site.host, path)
        try:
            first = await session.get(url, address)
        except Failed as failure:
            data["https"] = failure.fact()
            return
        data["https"] = {"url": url, **first.fact()}
        data["security_txt"] = await self._security_txt(ctx, session, site, address)
        data["redirects"] = await self._follow(ctx, session, site, address, url, first)

    async def _security_txt(self, ctx, session: Session, site: Site, address: str) -> dict[str, Any]:
        """The RFC 9116 location, and the legacy one only when the first has no file (and does not redirect
        endlessly: that server would do the same again). Redirects to https are followed (at most
        SECURITY_TXT_REDIRECTS), as RFC 9116 allows; `url` is where the file was."""
        found: dict[str, Any] = {}
        for path in SECURITY_TXT_PATHS:
            url, redirects = self._url("https", site.host, path), []
            try:
                response = await session.get(url, address, body_limit=SECURITY_TXT_READ_LIMIT + 1)
                while response.status in REDIRECT_STATUSES and response.header("location") \
                        and len(redirects) < SECURITY_TXT_REDIRECTS:
                    target = urljoin(url, response.header("location").strip())
                    if urlsplit(target).scheme != "https" or target in redirects:
                        break
                    redirects.append(url)
                    url = target
                    response = await session.get(url, await self._address_for(ctx, url, site, address),
                                                 body_limit=SECURITY_TXT_READ_LIMIT + 1)
            except (Failed, ProbeError) as failure:
                found[path] = {"url": url, "redirected_from": redirects, "error": failure.reason,
                               "detail": failure.detail}
                continue
            media_type, charset = response.content_type()
            body = response.body[:SECURITY_TXT_READ_LIMIT]
            found[path] = {"url": url, "redirected_from": redirects, "status": response.status,
                           "content_type": response.header("content-type"), "media_type": media_type,
                           "charset": charset, "location": response.header("location"), "bytes": len(body),
                           "too_large": len(response.body) > SECURITY_TXT_READ_LIMIT or response.truncated,
                           "body_base64": base64.b64encode(body).decode("ascii") if response.status == 200 else ""}
            endless = len(redirects) == SECURITY_TXT_REDIRECTS and response.status in REDIRECT_STATUSES
            if response.status == 200 or endless:
                break
        return found

    async def _follow(self, ctx, session: Session, site: Site, address: str, url: str, first: Response) -> dict:
        """Each hop from the front page on: url, status, location (and headers), to at most MAX_REDIRECTS."""
        hops = [{"url": url, "address": address, "status": first.status, "location": first.header("location"),
                 "headers": first.headers}]
        seen = {url}
        response, stopped = first, None
        while response.status in REDIRECT_STATUSES and response.header("location"):
            if len(hops) > MAX_REDIRECTS:
                stopped = "too_many"
                break
            url = urljoin(url, response.header("location").strip())
            if url in seen:
                stopped = "loop"
                break
            seen.add(url)
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                stopped = "unsupported"
                break
            try:
                hop_address = await self._address_for(ctx, url, site, address)
                response = await session.get(url, hop_address)
            except (Failed, ProbeError) as failure:
                hops.append({"url": url, "error": failure.reason, "detail": failure.detail})
                stopped = "error"
                break
            hops.append({"url": url, "address": hop_address, "status": response.status,
                         "location": response.header("location"), "headers": response.headers})
        chain = {"hops": hops, "stopped": stopped, "final_url": hops[-1]["url"], "final_host": _host_of(hops[-1]["url"])}
        if len(hops) > 1 and "status" in hops[-1]:
            chain["final"] = response.fact()
        return chain

    @staticmethod
    async def _address_for(ctx, url: str, site: Site, address: str) -> str:
        """Where a redirect goes: the probed address on the site's own host, else an allowed address of the
        other host, of the probed address's IP family if it has one."""
        host = _host_of(url)
        if host == site.host:
            return address
        return await allowed_address(ctx, host, address)

    async def _http(self, session: Session, site: Site, address: str, data: dict) -> None:
        """Port 80: only the first response to http://host/ (what web.https.redirect judges)."""
        url = self._url("http", site.host)
        try:
            await session.connect(address, self.http_port, None)
        except Failed as failure:
            data["tcp80"] = {"open": False, **failure.fact()}
            return
        data["tcp80"] = {"open": True}
        try:
            response = await session.get(url, address)
        except Failed as failure:
            data["http"] = {"url": url, **failure.fact()}
            return
        data["http"] = {"url": url, **response.fact()}


def _raise_when_nothing_measured(data: dict) -> None:
    """An address where neither port gave any answer could not be measured at all: that is an error, not a
    fact (a closed 443 next to an answering 80 is a fact, and web.https.available fails on it)."""
    answered = data.get("tls", {}).get("ok") or data.get("tls", {}).get("error") == Reason.TLS or "status" in data.get("https", {}) \
        or "status" in data.get("http", {}) or data.get("https", {}).get("error") == Reason.HTTP \
        or data.get("http", {}).get("error") == Reason.HTTP
    if answered:
        return
    failures = [part for part in (data.get("tcp443"), data.get("tls"), data.get("https"), data.get("tcp80"),
                                  data.get("http")) if part and part.get("error")]
    reason = Reason.TIMEOUT if any(f["error"] == Reason.TIMEOUT for f in failures) else Reason.CONNECT
    raise ProbeError(reason, "; ".join(f["detail"] for f in failures) or "no answer on port 443 or 80")
