"""The lab's TLS 1.2 server with DEFLATE (lab/deflate_tls.py) against the clients that matter: nassl's
legacy OpenSSL 1.0.2 (what sslyze and the scanner detect compression with), sslyze's own scan commands,
Python's ssl (OpenSSL 3, which offers no compression) and `openssl s_client`; then refusals, hand-made
ClientHellos, garbage, and a hand-made client for broken records after the handshake. Everything runs on
127.0.0.1: the relay and a small HTTP backend in an event loop on a thread of their own, the clients in the
test. After each test every connection the relay took must have ended without raising."""
from __future__ import annotations

import asyncio
import datetime
import hashlib
import random
import socket
import ssl
import struct
import subprocess
import time
import zlib
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID
from nassl._nassl import OpenSSLError, WantReadError
from nassl.legacy_ssl_client import LegacySslClient
from nassl.ssl_client import OpenSslVerifyEnum, OpenSslVersionEnum
from sslyze import (ScanCommand, ScanCommandAttemptStatusEnum, Scanner, ServerNetworkLocation,
                    ServerScanRequest, ServerScanStatusEnum)

from govscan.model import Status
from scanner.probes.tls import Endpoint, Evaluation
from lab import deflate_tls
from tests.unit.test_tls_probe import judge
from tests.unit.tls_servers import background_loop

HOST = "deflate.lab.test"
BODY = b"<html><body>Gemeente Proefstad</body></html>\n" * 40
# sslyze's cipher list for its connections (sslyze/connection_helpers/tls_connection.py).
SSLYZE_CIPHERS = "HIGH:MEDIUM:-aNULL:-eNULL:-3DES:-SRP:-PSK:-CAMELLIA"
HANDLER_GRACE = 5.0  # seconds the server's connection handlers get to finish after a test


# --- certificates -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pki:
    root_pem: bytes
    chains: dict[str, tuple[bytes, bytes]]  # key type -> (leaf + intermediate PEM, PKCS8 key PEM)


def _certificate(subject: str, key, issuer: str, issuer_key, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki() -> Pki:
    """A root, an intermediate, and a leaf for HOST with an RSA-2048 and one with an EC P-256 key."""
    pem = serialization.Encoding.PEM
    root_key, intermediate_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = _certificate("Test Root", root_key, "Test Root", root_key, ca=True)
    intermediate = _certificate("Test Intermediate", intermediate_key, "Test Root", root_key, ca=True)
    chains = {}
    for key_type, key in (("rsa", rsa.generate_private_key(65537, 2048)),
                          ("ec", ec.generate_private_key(ec.SECP256R1()))):
        leaf = _certificate(HOST, key, "Test Intermediate", intermediate_key, ca=False)
        chains[key_type] = (leaf.public_bytes(pem) + intermediate.public_bytes(pem),
                            key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    return Pki(root.public_bytes(pem), chains)


# --- the server side --------------------------------------------------------------------------------------

async def http_backend(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers one request with BODY, or with the request's own body if it has one, then closes."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    body = await reader.readexactly(length) if length else BODY
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    await writer.drain()
    writer.close()


class RelayServer:
    """deflate_tls.relay on a loopback port, in front of http_backend, keeping every connection handler's
    task so a test can check that each one ended without raising."""

    def __init__(self, loop: asyncio.AbstractEventLoop, chain_pem: bytes, key_pem: bytes):
        self._loop = loop
        self._chain_pem, self._key_pem = chain_pem, key_pem
        self._handlers: list[asyncio.Task] = []
        self._servers: list[asyncio.Server] = []
        self.port = self._run(self._start())

    def _run(self, coroutine, timeout: float = 10.0):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _start(self) -> int:
        backend = await asyncio.start_server(http_backend, "127.0.0.1", 0)
        backend_address = backend.sockets[0].getsockname()[:2]

        async def handle(reader, writer):
            self._handlers.append(asyncio.current_task())
            await deflate_tls.relay(reader, writer, self._chain_pem, self._key_pem, backend_address)

        relay = await asyncio.start_server(handle, "127.0.0.1", 0)
        self._servers = [relay, backend]
        return relay.sockets[0].getsockname()[1]

    def handler_failures(self) -> list[str]:
        """Waits for the handlers so far to end; what went wrong with any of them (never ended, raised)."""
        return self._run(self._handler_failures(), timeout=HANDLER_GRACE + 5)

    async def _handler_failures(self) -> list[str]:
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=HANDLER_GRACE)
        return [f"{task.get_name()} still running" if not task.done() else repr(task.exception())
                for task in self._handlers if not task.done() or task.exception() is not None]

    def stop(self) -> None:
        async def stop():
            for server in self._servers:
                server.close()
                await server.wait_closed()
        self._run(stop())


@pytest.fixture(scope="module")
def loop():
    """An event loop running on its own thread, so the tests can use blocking clients."""
    with background_loop() as event_loop:
        yield event_loop


@pytest.fixture
def key_type() -> str:
    return "rsa"


@pytest.fixture
def server(loop, pki, key_type):
    """The relay for this test; afterwards every connection it took must have ended, none with an error."""
    relay_server = RelayServer(loop, *pki.chains[key_type])
    yield relay_server
    failures = relay_server.handler_failures()
    relay_server.stop()
    assert not failures


# --- clients ----------------------------------------------------------------------------------------------

def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def legacy_client(port: int, version: OpenSslVersionEnum = OpenSslVersionEnum.TLSV1_2) -> LegacySslClient:
    """nassl's legacy client (OpenSSL 1.0.2 with zlib) set up as sslyze sets it up."""
    client = LegacySslClient(underlying_socket=connect(port), ssl_version=version,
                             ssl_verify=OpenSslVerifyEnum.NONE)
    client.set_cipher_list(SSLYZE_CIPHERS)
    client.set_tlsext_host_name(HOST)
    return client


def write_all(client: LegacySslClient, data: bytes) -> None:
    """nassl's write() fails (WantWriteError) with more than its 17 KiB network buffer holds; one record's
    worth at a time fits."""
    for start in range(0, len(data), deflate_tls.MAX_FRAGMENT):
        client.write(data[start:start + deflate_tls.MAX_FRAGMENT])


def read_until_closed(client: LegacySslClient) -> bytes:
    """Everything the server sends until it closes. nassl's read() waits for the socket before it asks the
    TLS engine, so records that arrived together would be stranded; this empties the engine first, and
    like nassl feeds it at most 4 KiB at a time (its network buffer takes 17 KiB)."""
    received = b""
    while True:
        try:
            received += client._ssl.read(65536)
            continue
        except WantReadError:
            pass
        except OpenSSLError as error:  # the server's close_notify
            assert "shut down by peer" in str(error)
            return received
        data = client.get_underlying_socket().recv(4096)
        if not data:
            return received
        client._network_bio.write(data)


def http_body(response: bytes) -> bytes:
    head, body = response.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK")
    return body


def python_ssl_exchange(port: int, context: ssl.SSLContext, request: bytes) -> tuple[dict, bytes]:
    """One request over Python's ssl: (facts about the connection, the whole response)."""
    with connect(port) as sock, context.wrap_socket(sock, server_hostname=HOST) as tls:
        facts = {"version": tls.version(), "cipher": tls.cipher()[0], "compression": tls.compression(),
                 "alpn": tls.selected_alpn_protocol()}
        tls.sendall(request)
        response = b""
        while data := tls.recv(65536):
            response += data
    return facts, response


def prefixed(data: bytes, length_size: int) -> bytes:
    return len(data).to_bytes(length_size, "big") + data


def client_hello(version: int = 0x0303, suites: tuple[int, ...] = (0xC02F, 0xC02B, 0x00FF),
                 compression: bytes = b"\x01\x00", extensions: bytes = b"") -> bytes:
    """A ClientHello handshake message (header included)."""
    body = (struct.pack("!H", version) + bytes(range(32)) + prefixed(b"", 1)
            + prefixed(b"".join(struct.pack("!H", suite) for suite in suites), 2)
            + prefixed(compression, 1) + prefixed(extensions, 2))
    return bytes([1]) + prefixed(body, 3)


def record(content_type: int, fragment: bytes, version: int = 0x0301) -> bytes:
    return struct.pack("!BHH", content_type, version, len(fragment)) + fragment


def exchange(port: int, *writes: bytes) -> bytes:
    """Sends each write separately, then returns all the server sends until it closes."""
    with connect(port) as sock:
        for data in writes:
            sock.sendall(data)
            time.sleep(0.05)  # let each write arrive as a segment of its own
        received = b""
        while data := sock.recv(65536):
            received += data
    return received


def fatal_alert(description: int, version: int = 0x0303) -> bytes:
    return record(21, bytes([2, description]), version)


# --- nassl's legacy client --------------------------------------------------------------------------------

@pytest.mark.parametrize(("key_type", "suite"), [("rsa", "ECDHE-RSA-AES128-GCM-SHA256"),
                                                 ("ec", "ECDHE-ECDSA-AES128-GCM-SHA256")])
def test_legacy_client_gets_deflate_and_the_backend_body(server, suite):
    client = legacy_client(server.port)
    try:
        client.do_handshake()
        assert client.get_current_compression_method() == "zlib compression"
        assert client.get_current_cipher_name() == suite
        assert client.get_secure_renegotiation_support()
        client.write(b"GET / HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n")
        assert http_body(read_until_closed(client)) == BODY
    finally:
        client.shutdown()


def test_legacy_client_round_trips_data_larger_than_a_record(server):
    """Incompressible bytes in both directions: many records on each zlib stream, and records whose
    compressed payload is a little larger than 2^14 bytes."""
    payload = random.Random(3749).randbytes(5 * deflate_tls.MAX_FRAGMENT + 1234)
    client = legacy_client(server.port)
    try:
        client.do_handshake()
        write_all(client, b"POST /echo HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload)
        assert http_body(read_until_closed(client)) == payload
    finally:
        client.shutdown()


def test_legacy_client_renegotiation_is_refused(server):
    client = legacy_client(server.port)
    try:
        client.do_handshake()
        with pytest.raises(OpenSSLError, match="no renegotiation"):
            client.do_renegotiate()
    finally:
        client.shutdown()


# --- sslyze -----------------------------------------------------------------------------------------------

def test_sslyze_finds_compression_and_secure_renegotiation_only(server):
    scanner = Scanner()
    scanner.queue_scans([ServerScanRequest(
        server_location=ServerNetworkLocation(hostname=HOST, ip_address="127.0.0.1", port=server.port),
        scan_commands={ScanCommand.TLS_COMPRESSION, ScanCommand.SESSION_RENEGOTIATION})])
    (result,) = scanner.get_results()

    assert result.scan_status == ServerScanStatusEnum.COMPLETED, result.connectivity_error_trace
    assert result.connectivity_result.highest_tls_version_supported.name == "TLS_1_2"
    compression = result.scan_result.tls_compression
    assert compression.status == ScanCommandAttemptStatusEnum.COMPLETED, compression.error_trace
    assert compression.result.supports_compression is True
    renegotiation = result.scan_result.session_renegotiation
    assert renegotiation.status == ScanCommandAttemptStatusEnum.COMPLETED, renegotiation.error_trace
    assert renegotiation.result.supports_secure_renegotiation is True
    assert renegotiation.result.is_vulnerable_to_client_renegotiation_dos is False


# --- govscan's own tls probe and checks --------------------------------------------------------------------

def test_govscan_sees_compression_and_fails_the_check(server):
    data = Evaluation(Endpoint(HOST, "127.0.0.1", 3.0, time.monotonic() + 60, server.port), None).run()
    assert data["legacy_connection"]["compression"] == "zlib compression"
    assert judge("web.tls.compression", data).status == Status.FAIL
    assert judge("web.tls.renegotiation", data).status == Status.PASS


# --- Python's ssl (OpenSSL 3) -----------------------------------------------------------------------------

@pytest.mark.parametrize(("key_type", "suite"), [("rsa", "ECDHE-RSA-AES128-GCM-SHA256"),
                                                 ("ec", "ECDHE-ECDSA-AES128-GCM-SHA256")])
def test_python_ssl_client_offering_tls_1_3_and_1_2_gets_tls_1_2_without_compression(server, pki, suite):
    context = ssl.create_default_context(cadata=pki.root_pem.decode())
    context.set_alpn_protocols(["h2", "http/1.1"])
    facts, response = python_ssl_exchange(server.port, context, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert facts == {"version": "TLSv1.2", "cipher": suite, "compression": None, "alpn": "http/1.1"}
    assert http_body(response) == BODY


def test_python_ssl_client_without_alpn_gets_none(server, pki):
    context = ssl.create_default_context(cadata=pki.root_pem.decode())
    facts, response = python_ssl_exchange(server.port, context, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert facts["alpn"] is None
    assert http_body(response) == BODY


# --- refusals ---------------------------------------------------------------------------------------------

def test_openssl_s_client_with_only_tls_1_3_is_refused(server):
    result = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-servername", HOST,
                             "-tls1_3"], stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    assert result.returncode != 0
    assert b"alert protocol version" in result.stdout + result.stderr


@pytest.mark.parametrize("version", [OpenSslVersionEnum.TLSV1, OpenSslVersionEnum.TLSV1_1])
def test_legacy_client_with_only_tls_1_0_or_1_1_is_refused(server, version):
    client = legacy_client(server.port, version)
    try:
        with pytest.raises(OpenSSLError, match="alert protocol version"):
            client.do_handshake()
    finally:
        client.shutdown()


SUPPORTED_VERSIONS_1_3_ONLY = struct.pack("!HH", 43, 3) + prefixed(struct.pack("!H", 0x0304), 1)
SUPPORTED_VERSIONS_1_3_AND_1_2 = struct.pack("!HH", 43, 5) + prefixed(struct.pack("!HH", 0x0304, 0x0303), 1)
SECP384R1_ONLY = struct.pack("!HH", 10, 4) + prefixed(struct.pack("!H", 24), 2)


@pytest.mark.parametrize(("hello", "alert"), [
    (client_hello(version=0x0301), fatal_alert(70, 0x0301)),                 # TLS 1.0 at most
    (client_hello(version=0x0300), fatal_alert(70, 0x0300)),                 # SSL 3.0
    (client_hello(extensions=SUPPORTED_VERSIONS_1_3_ONLY), fatal_alert(70)),  # only TLS 1.3
    (client_hello(suites=(0xC02B, 0x009C, 0xC030)), fatal_alert(40)),        # no ECDHE-RSA-AES128-GCM
    (client_hello(extensions=SECP384R1_ONLY), fatal_alert(40)),              # no group in common
    (client_hello(compression=b"\x02"), fatal_alert(40)),                    # neither null nor DEFLATE
    (bytes([1]) + prefixed(client_hello()[4:-3], 3), fatal_alert(50)),      # body cut short
], ids=["tls1.0", "ssl3", "tls1.3-only", "no-suite", "no-group", "no-compression", "truncated"])
def test_unacceptable_client_hello_gets_a_fatal_alert(server, hello, alert):
    """A protocol_version alert comes in the client's own record version, as OpenSSL sends it."""
    assert exchange(server.port, record(22, hello)) == alert


def test_sslv2_hello_is_closed_without_an_answer(server):
    challenge = bytes(16)
    body = b"\x01\x00\x02" + struct.pack("!HHH", 3, 0, len(challenge)) + b"\x01\x00\x80" + challenge
    assert exchange(server.port, struct.pack("!H", 0x8000 | len(body)) + body) == b""


@pytest.mark.parametrize("garbage", [
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    random.Random(1).randbytes(4096),
    b"\x16\x03\x01\xff\xff" + bytes(100),   # a record longer than 2^14
    b"\x16\x03\x03\x00\x04\x01\xff\xff\xff",  # a handshake message longer than the limit
    b"\x17\x03\x03\x00\x05hello",           # application data before the handshake
], ids=["http", "random", "record-overflow", "huge-message", "early-data"])
def test_garbage_ends_the_connection(server, garbage):
    received = exchange(server.port, garbage)
    assert received == b"" or (received[:3] == b"\x15\x03\x03" and len(received) == 7)
    assert not server.handler_failures()


def test_silent_client_is_dropped_after_the_handshake_timeout(server, monkeypatch):
    monkeypatch.setattr(deflate_tls, "HANDSHAKE_TIMEOUT", 0.3)
    started = time.monotonic()
    assert exchange(server.port, record(22, client_hello())[:20]) == b""
    assert time.monotonic() - started < 3


# --- record and message framing ---------------------------------------------------------------------------

def server_hello_of(response: bytes) -> bytes:
    """The ServerHello body from the start of the server's first flight."""
    flight = b""
    while response[:1] == b"\x16":
        length = int.from_bytes(response[3:5], "big")
        flight, response = flight + response[5:5 + length], response[5 + length:]
    assert flight[0] == 2
    return flight[4:4 + int.from_bytes(flight[1:4], "big")]


def test_client_hello_split_over_records_and_segments(server):
    """A ClientHello in three records, the first of them also split across two TCP segments, gets the
    ServerHello: TLS 1.2 (not 1.3, though offered), ECDHE-RSA-AES128-GCM, DEFLATE, renegotiation_info."""
    hello = client_hello(extensions=SUPPORTED_VERSIONS_1_3_AND_1_2)
    records = record(22, hello[:3]) + record(22, hello[3:50]) + record(22, hello[50:])
    with connect(server.port) as sock:
        sock.sendall(records[:6])
        time.sleep(0.05)
        sock.sendall(records[6:])
        response = b""
        while len(response) < 5 or len(response) < 5 + int.from_bytes(response[3:5], "big"):
            response += sock.recv(65536)
    server_hello = server_hello_of(response)
    assert server_hello[:2] == b"\x03\x03"
    session_id_length = server_hello[34]
    suite, compression = struct.unpack("!HB", server_hello[35 + session_id_length:38 + session_id_length])
    assert (session_id_length, suite, compression) == (0, 0xC02F, 1)
    assert server_hello.endswith(struct.pack("!HHB", 0xFF01, 1, 0))  # the only extension


def test_take_message_with_several_messages_in_one_record_and_one_across_records():
    pending = bytearray(b"\x10\x00\x00\x02ab" + b"\x14\x00\x00\x01c" + b"\x01\x00\x00\x05de")
    assert deflate_tls.take_message(pending) == b"\x10\x00\x00\x02ab"
    assert deflate_tls.take_message(pending) == b"\x14\x00\x00\x01c"
    assert deflate_tls.take_message(pending) is None
    pending += b"fgh"
    assert deflate_tls.take_message(pending) == b"\x01\x00\x00\x05defgh"
    assert pending == b""


# --- after the handshake: what no real client sends ------------------------------------------------------

class HandMadeClient:
    """A TLS 1.2 client with DEFLATE, built from deflate_tls's PRF and record opener (which the tests above
    show to agree with OpenSSL), that can send what no real client would."""

    X25519_ONLY = struct.pack("!HH", 10, 4) + prefixed(struct.pack("!H", 29), 2)

    def __init__(self, port: int):
        self.sock = connect(port)
        self._compressor = zlib.compressobj()
        self._sequence = 0
        hello = client_hello(extensions=self.X25519_ONLY)
        self.sock.sendall(record(22, hello))
        pending, messages = bytearray(), []
        while not messages or messages[-1][0] != 14:  # up to ServerHelloDone
            pending += self.receive_record()[1]
            while (message := deflate_tls.take_message(pending)) is not None:
                messages.append(message)
        client_random, server_random = hello[6:38], messages[0][6:38]
        key_exchange = messages[2][4:]  # after ServerHello and Certificate
        ephemeral = x25519.X25519PrivateKey.generate()
        server_public = key_exchange[4:4 + key_exchange[3]]
        premaster = ephemeral.exchange(x25519.X25519PublicKey.from_public_bytes(server_public))
        master = deflate_tls.prf(premaster, b"master secret", client_random + server_random, 48)
        keys = deflate_tls.KeyBlock.derive(master, client_random, server_random)
        self._aead, self._salt = AESGCM(keys.client_key), keys.client_salt
        self._opener = deflate_tls.RecordOpener(keys.server_key, keys.server_salt, deflate=True)

        public = ephemeral.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        client_key_exchange = deflate_tls.handshake_message(16, prefixed(public, 1))
        transcript = hello + b"".join(messages) + client_key_exchange
        finished = deflate_tls.handshake_message(
            20, deflate_tls.prf(master, b"client finished", hashlib.sha256(transcript).digest(), 12))
        self.sock.sendall(record(22, client_key_exchange, 0x0303) + record(20, b"\x01", 0x0303))
        self.send(22, finished)
        assert self.receive_record() == (20, b"\x01")
        server_finished = deflate_tls.prf(master, b"server finished",
                                          hashlib.sha256(transcript + finished).digest(), 12)
        assert self.receive() == (22, deflate_tls.handshake_message(20, server_finished))

    def send(self, content_type: int, data: bytes, compress: bool = True, corrupt: bool = False) -> None:
        """One record: data, DEFLATEd on the client's stream unless compress is false, then AES-GCM sealed
        (with one bit of the tag flipped if corrupt)."""
        if compress:
            data = self._compressor.compress(data) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        explicit_nonce = self._sequence.to_bytes(8, "big")
        aad = struct.pack("!QBHH", self._sequence, content_type, 0x0303, len(data))
        sealed = bytearray(explicit_nonce + self._aead.encrypt(self._salt + explicit_nonce, data, aad))
        if corrupt:
            sealed[-1] ^= 1
        self._sequence += 1
        self.sock.sendall(record(content_type, bytes(sealed), 0x0303))

    def receive_record(self) -> tuple[int, bytes] | None:
        """The next record as sent, None once the server has closed."""
        header = self._receive_exactly(5)
        if header is None:
            return None
        return header[0], self._receive_exactly(int.from_bytes(header[3:5], "big"))

    def receive(self) -> tuple[int, bytes] | None:
        """The next record, decrypted and inflated; None once the server has closed."""
        sealed = self.receive_record()
        if sealed is None:
            return None
        return sealed[0], self._opener.open(sealed[0], 0x0303, sealed[1])

    def _receive_exactly(self, size: int) -> bytes | None:
        received = b""
        while len(received) < size:
            data = self.sock.recv(size - len(received))
            if not data:
                return None
            received += data
        return received


@pytest.mark.parametrize(("data", "compress", "corrupt", "alert"), [
    (b"\xff\xff not zlib", False, False, 30),     # decompression_failure
    (bytes(1 << 20), True, False, 30),            # a megabyte of zeros in a 1 KB record: decompression_failure
    (b"GET / HTTP/1.1\r\n\r\n", True, True, 20),  # bad_record_mac
], ids=["broken-zlib", "deflate-bomb", "bad-mac"])
def test_bad_record_after_the_handshake_gets_a_fatal_alert(server, data, compress, corrupt, alert):
    client = HandMadeClient(server.port)
    with client.sock:
        client.send(23, data, compress, corrupt)
        assert client.receive() == (21, bytes([2, alert]))
        assert client.receive_record() is None


def test_renegotiation_split_over_records_is_refused_once_and_the_connection_goes_on(server):
    client = HandMadeClient(server.port)
    with client.sock:
        hello = client_hello()
        client.send(22, hello[:10])
        client.send(22, hello[10:])
        assert client.receive() == (21, bytes([1, 100]))  # no_renegotiation warning
        client.send(23, b"GET / HTTP/1.1\r\n\r\n")
        response = b""
        while (received := client.receive()) and received[0] == 23:
            response += received[1]
        assert http_body(response) == BODY
        assert received == (21, bytes([1, 0]))  # close_notify when the backend has closed
