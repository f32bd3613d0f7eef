"""A TLS 1.2 server that compresses its records with DEFLATE (RFC 3749): the lab's failing case for the
scanner's web.tls.compression check.

Nothing on the lab's Debian can compress TLS records any more: its OpenSSL 3 is built without zlib, and
nginx and Python's ssl module both sit on that OpenSSL. So this module speaks the little TLS 1.2 the case
needs itself, with the `cryptography` package for AES-GCM, ECDHE and signatures, and relays the decrypted
bytes to a plain TCP backend (lab/tls_frontend.py puts it in front of nginx):

- full handshakes only (RFC 5246): no resumption, session tickets, client certificates or extended master
  secret;
- ECDHE on x25519 or secp256r1 with AES-128-GCM (RFC 5288, RFC 8422), in the one suite the key allows:
  ECDHE-RSA (rsa_pkcs1_sha256 signatures) or ECDHE-ECDSA on P-256 (ecdsa_secp256r1_sha256). These are the
  suites the lab's `compression` profile names (lab/tls_profiles.py), so no AES-256;
- DEFLATE whenever the client offers it, done as OpenSSL 1.0.2 did it, because that is the library of the
  legacy client (nassl) with which sslyze and the scanner detect compression: one zlib stream per
  direction, starting with the Finished messages, each record's payload flushed with Z_SYNC_FLUSH;
- secure renegotiation announced (RFC 5746), a client-initiated renegotiation refused with a
  no_renegotiation warning.

Anything else gets a fatal alert and the connection is closed.
"""
from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import os
import struct
import zlib
from dataclasses import dataclass
from enum import IntEnum

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT = 30.0        # seconds from accepting the connection to the server's Finished
BACKEND_CONNECT_TIMEOUT = 10.0  # seconds
CLOSE_TIMEOUT = 5.0             # seconds to flush what is left for a peer before dropping the connection

TLS_1_2 = 0x0303
MAX_FRAGMENT = 1 << 14                        # plaintext bytes per record
MAX_PROTECTED_FRAGMENT = MAX_FRAGMENT + 2048  # RFC 5246 section 6.2.3
MAX_HANDSHAKE_MESSAGE = 1 << 16               # far more than any ClientHello a browser or scanner sends

# Content types and handshake message types (RFC 5246 sections 6.2.1 and 7.4).
CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA = 20, 21, 22, 23
CONTENT_TYPES = (CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA)
CLIENT_HELLO, SERVER_HELLO, CERTIFICATE, SERVER_KEY_EXCHANGE = 1, 2, 11, 12
SERVER_HELLO_DONE, CLIENT_KEY_EXCHANGE, FINISHED = 14, 16, 20
# An SSLv2-format ClientHello: a 2-byte length with its top bit set, then this message type.
SSL2_CLIENT_HELLO = 1

# Extensions, and the values this server understands in them.
SUPPORTED_GROUPS, EC_POINT_FORMATS, SIGNATURE_ALGORITHMS, ALPN = 10, 11, 13, 16
SUPPORTED_VERSIONS, RENEGOTIATION_INFO = 43, 0xFF01
EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF
SECP256R1, X25519 = 23, 29
NAMED_CURVE, UNCOMPRESSED_POINT = 3, 0
RSA_PKCS1_SHA256, ECDSA_SECP256R1_SHA256 = 0x0401, 0x0403
ECDHE_RSA_AES_128_GCM_SHA256, ECDHE_ECDSA_AES_128_GCM_SHA256 = 0xC02F, 0xC02B
NULL_COMPRESSION, DEFLATE = 0, 1
HTTP_1_1 = b"http/1.1"

# AES-128-GCM key block (RFC 5288 section 3): a key and a 4-byte implicit nonce ("salt") per direction.
KEY_LENGTH, SALT_LENGTH, EXPLICIT_NONCE_LENGTH, TAG_LENGTH = 16, 4, 8, 16


class AlertLevel(IntEnum):
    WARNING = 1
    FATAL = 2


class Alert(IntEnum):
    CLOSE_NOTIFY = 0
    UNEXPECTED_MESSAGE = 10
    BAD_RECORD_MAC = 20
    RECORD_OVERFLOW = 22
    DECOMPRESSION_FAILURE = 30
    HANDSHAKE_FAILURE = 40
    ILLEGAL_PARAMETER = 47
    DECODE_ERROR = 50
    DECRYPT_ERROR = 51
    PROTOCOL_VERSION = 70
    INTERNAL_ERROR = 80
    NO_RENEGOTIATION = 100


class ProtocolError(Exception):
    """Something this server does not accept or support: the client gets `alert` and the connection ends."""

    def __init__(self, alert: Alert, reason: str):
        super().__init__(f"{alert.name}: {reason}")
        self.alert = alert


class CloseQuietly(Exception):
    """The client sent an alert or an SSLv2-format hello: end the connection without answering."""


# --- encoding ---------------------------------------------------------------------------------------------

class Parser:
    """Reads a TLS structure: big-endian integers and length-prefixed vectors. Running short of bytes, or
    leaving some over, is a decode_error."""

    def __init__(self, data: bytes):
        self._data = data
        self._offset = 0

    def take(self, size: int) -> bytes:
        if self._offset + size > len(self._data):
            raise ProtocolError(Alert.DECODE_ERROR, "message too short")
        chunk = self._data[self._offset:self._offset + size]
        self._offset += size
        return chunk

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def vector(self, length_size: int) -> bytes:
        return self.take(self.uint(length_size))

    def at_end(self) -> bool:
        return self._offset == len(self._data)

    def finish(self) -> None:
        if not self.at_end():
            raise ProtocolError(Alert.DECODE_ERROR, "trailing bytes")


def parse_uint_list(data: bytes, length_size: int, item_size: int) -> list[int]:
    """A whole extension body that is one vector of integers (groups, versions, signature schemes)."""
    parser = Parser(data)
    items = Parser(parser.vector(length_size))
    parser.finish()
    values = []
    while not items.at_end():
        values.append(items.uint(item_size))
    return values


def prefixed(data: bytes, length_size: int) -> bytes:
    """data as a TLS vector: its length in length_size bytes, then the data."""
    return len(data).to_bytes(length_size, "big") + data


def extension(extension_type: int, body: bytes) -> bytes:
    return struct.pack("!H", extension_type) + prefixed(body, 2)


def handshake_message(message_type: int, body: bytes) -> bytes:
    return bytes([message_type]) + prefixed(body, 3)


def take_message(pending: bytearray) -> bytes | None:
    """Remove the first whole handshake message (with its 4-byte header) from pending and return it; None
    while it has not fully arrived."""
    if len(pending) < 4:
        return None
    length = int.from_bytes(pending[1:4], "big")
    if length > MAX_HANDSHAKE_MESSAGE:
        raise ProtocolError(Alert.ILLEGAL_PARAMETER, f"handshake message of {length} bytes")
    if len(pending) < 4 + length:
        return None
    message = bytes(pending[:4 + length])
    del pending[:4 + length]
    return message


# --- cryptography ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Identity:
    """The certificate chain (DER, leaf first) and private key, with the suite and signature scheme the key
    allows."""
    chain: tuple[bytes, ...]
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    cipher_suite: int
    signature_scheme: int

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))


@functools.lru_cache(maxsize=64)
def load_identity(chain_pem: bytes, key_pem: bytes) -> Identity:
    """The Identity for a PEM chain and PKCS8 key, parsed once: loading an RSA key checks it, which takes
    tens of milliseconds, and a scan makes dozens of handshakes."""
    chain = tuple(cert.public_bytes(serialization.Encoding.DER)
                  for cert in x509.load_pem_x509_certificates(chain_pem))
    key = serialization.load_pem_private_key(key_pem, password=None)
    if isinstance(key, rsa.RSAPrivateKey):
        return Identity(chain, key, ECDHE_RSA_AES_128_GCM_SHA256, RSA_PKCS1_SHA256)
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return Identity(chain, key, ECDHE_ECDSA_AES_128_GCM_SHA256, ECDSA_SECP256R1_SHA256)
    raise ValueError(f"need an RSA or EC P-256 key, not {type(key).__name__}")


class EphemeralKey:
    """The server's ECDHE key pair of one handshake, on x25519 or secp256r1."""

    def __init__(self, group: int):
        self.group = group
        if group == X25519:
            self._private = x25519.X25519PrivateKey.generate()
            self.public = self._private.public_key().public_bytes(serialization.Encoding.Raw,
                                                                  serialization.PublicFormat.Raw)
        else:
            self._private = ec.generate_private_key(ec.SECP256R1())
            self.public = self._private.public_key().public_bytes(serialization.Encoding.X962,
                                                                  serialization.PublicFormat.UncompressedPoint)

    def premaster_secret(self, client_public: bytes) -> bytes:
        try:
            if self.group == X25519:
                return self._private.exchange(x25519.X25519PublicKey.from_public_bytes(client_public))
            client_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), client_public)
            return self._private.exchange(ec.ECDH(), client_key)
        except ValueError as error:  # not a point on the curve, or one of low order
            raise ProtocolError(Alert.ILLEGAL_PARAMETER, f"client's ECDHE key: {error}") from None


def prf(secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """TLS 1.2's PRF (RFC 5246 section 5) with SHA-256, the hash of both suites."""
    seed = label + seed
    output, chained = b"", seed
    while len(output) < length:
        chained = hmac.digest(secret, chained, "sha256")
        output += hmac.digest(secret, chained + seed, "sha256")
    return output[:length]


@dataclass(frozen=True)
class KeyBlock:
    """Both directions' AES-GCM key and implicit nonce, from the master secret (RFC 5246 section 6.3)."""
    client_key: bytes
    server_key: bytes
    client_salt: bytes
    server_salt: bytes

    @classmethod
    def derive(cls, master_secret: bytes, client_random: bytes, server_random: bytes) -> KeyBlock:
        block = prf(master_secret, b"key expansion", server_random + client_random,
                    2 * (KEY_LENGTH + SALT_LENGTH))
        keys, salts = block[:2 * KEY_LENGTH], block[2 * KEY_LENGTH:]
        return cls(keys[:KEY_LENGTH], keys[KEY_LENGTH:], salts[:SALT_LENGTH], salts[SALT_LENGTH:])


def additional_data(sequence: int, content_type: int, version: int, length: int) -> bytes:
    """AES-GCM's additional data for a record (RFC 5246 section 6.2.3.3); length is the compressed length."""
    return struct.pack("!QBHH", sequence, content_type, version, length)


class RecordSealer:
    """Protects the records the server sends after its ChangeCipherSpec: DEFLATE if agreed, then AES-GCM."""

    def __init__(self, key: bytes, salt: bytes, deflate: bool):
        self._aead = AESGCM(key)
        self._salt = salt
        self._sequence = 0
        self._compressor = zlib.compressobj() if deflate else None

    def seal(self, content_type: int, version: int, fragment: bytes) -> bytes:
        if self._compressor is not None:
            fragment = self._compressor.compress(fragment) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        # The sequence number never repeats on a connection, which is all GCM asks of the explicit nonce.
        explicit_nonce = self._sequence.to_bytes(EXPLICIT_NONCE_LENGTH, "big")
        aad = additional_data(self._sequence, content_type, version, len(fragment))
        self._sequence += 1
        return explicit_nonce + self._aead.encrypt(self._salt + explicit_nonce, fragment, aad)


class RecordOpener:
    """Checks and decrypts the records the client sends after its ChangeCipherSpec, then inflates them."""

    def __init__(self, key: bytes, salt: bytes, deflate: bool):
        self._aead = AESGCM(key)
        self._salt = salt
        self._sequence = 0
        self._decompressor = zlib.decompressobj() if deflate else None

    def open(self, content_type: int, version: int, fragment: bytes) -> bytes:
        if len(fragment) < EXPLICIT_NONCE_LENGTH + TAG_LENGTH:
            raise ProtocolError(Alert.BAD_RECORD_MAC, "record too short for AES-GCM")
        explicit_nonce, ciphertext = fragment[:EXPLICIT_NONCE_LENGTH], fragment[EXPLICIT_NONCE_LENGTH:]
        aad = additional_data(self._sequence, content_type, version, len(ciphertext) - TAG_LENGTH)
        try:
            plaintext = self._aead.decrypt(self._salt + explicit_nonce, ciphertext, aad)
        except InvalidTag:
            raise ProtocolError(Alert.BAD_RECORD_MAC, "record fails authentication") from None
        self._sequence += 1
        if self._decompressor is None:
            if len(plaintext) > MAX_FRAGMENT:
                raise ProtocolError(Alert.RECORD_OVERFLOW, f"record of {len(plaintext)} bytes")
            return plaintext
        return self._inflate(plaintext)

    def _inflate(self, compressed: bytes) -> bytes:
        """One record's share of the client's zlib stream; RFC 5246 section 6.2.2 makes more than 2^14 bytes
        out of one record a decompression_failure, which also bounds what a small record can inflate to."""
        try:
            plaintext = self._decompressor.decompress(compressed, MAX_FRAGMENT + 1)
        except zlib.error as error:
            raise ProtocolError(Alert.DECOMPRESSION_FAILURE, str(error)) from None
        if len(plaintext) > MAX_FRAGMENT or self._decompressor.eof:
            raise ProtocolError(Alert.DECOMPRESSION_FAILURE, "record inflates too far or ends the stream")
        return plaintext


# --- records --------------------------------------------------------------------------------------------

class RecordLayer:
    """TLS records on one connection (RFC 5246 section 6.2), protected in each direction once that side has
    sent its ChangeCipherSpec (the handshake sets `opener` and `sealer` then)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self._reader = reader
        self._writer = writer
        self._first_record = True
        self.version = TLS_1_2  # of the records sent
        self.opener: RecordOpener | None = None
        self.sealer: RecordSealer | None = None

    async def read(self) -> tuple[int, bytes]:
        """The next record's content type and plaintext. Any alert from the client ends the connection
        (CloseQuietly), so this never returns one."""
        header = await self._reader.readexactly(5)
        content_type, version, length = struct.unpack("!BHH", header)
        if self._first_record and header[0] & 0x80 and header[2] == SSL2_CLIENT_HELLO:
            raise CloseQuietly("SSLv2-format ClientHello")  # such a client could not parse a TLS alert
        self._first_record = False
        if content_type not in CONTENT_TYPES:
            raise ProtocolError(Alert.UNEXPECTED_MESSAGE, f"not a TLS record (content type {content_type})")
        if version >> 8 != 3:
            raise ProtocolError(Alert.PROTOCOL_VERSION, f"record version {version:#06x}")
        if length > MAX_PROTECTED_FRAGMENT or (self.opener is None and length > MAX_FRAGMENT):
            raise ProtocolError(Alert.RECORD_OVERFLOW, f"record of {length} bytes")
        fragment = await self._reader.readexactly(length)
        if self.opener is not None:
            fragment = self.opener.open(content_type, version, fragment)
        if content_type == ALERT:
            raise CloseQuietly(f"alert from the client: {fragment.hex()}")
        return content_type, fragment

    def write(self, content_type: int, data: bytes) -> None:
        """Queue data as records of at most 2^14 plaintext bytes each; drain() sends them."""
        for start in range(0, len(data), MAX_FRAGMENT):
            fragment = data[start:start + MAX_FRAGMENT]
            if self.sealer is not None:
                fragment = self.sealer.seal(content_type, self.version, fragment)
            self._writer.write(struct.pack("!BHH", content_type, self.version, len(fragment)) + fragment)

    def alert(self, level: AlertLevel, alert: Alert) -> None:
        self.write(ALERT, bytes([level, alert]))

    async def drain(self) -> None:
        await self._writer.drain()


# --- handshake ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClientHello:
    legacy_version: int
    random: bytes
    cipher_suites: list[int]
    compression_methods: bytes
    extensions: dict[int, bytes]

    @classmethod
    def parse(cls, body: bytes) -> ClientHello:
        parser = Parser(body)
        legacy_version = parser.uint(2)
        random = parser.take(32)
        parser.vector(1)  # session id: there is no resumption, so it is never looked up
        suites = Parser(parser.vector(2))
        cipher_suites = []
        while not suites.at_end():
            cipher_suites.append(suites.uint(2))
        compression_methods = parser.vector(1)
        extensions = {}
        if not parser.at_end():  # a hello without extensions ends after the compression methods
            block = Parser(parser.vector(2))
            while not block.at_end():
                extension_type = block.uint(2)
                extensions[extension_type] = block.vector(2)
        parser.finish()
        return cls(legacy_version, random, cipher_suites, compression_methods, extensions)

    def offers_tls_1_2(self) -> bool:
        """TLS 1.2 listed in supported_versions when the hello has that extension (RFC 8446 section
        4.2.1), else a legacy_version of at least TLS 1.2 (RFC 5246 appendix E.1)."""
        if SUPPORTED_VERSIONS in self.extensions:
            return TLS_1_2 in parse_uint_list(self.extensions[SUPPORTED_VERSIONS], 1, 2)
        return self.legacy_version >= TLS_1_2

    def offers_alpn(self, protocol: bytes) -> bool:
        if ALPN not in self.extensions:
            return False
        parser = Parser(self.extensions[ALPN])
        names = Parser(parser.vector(2))
        parser.finish()
        while not names.at_end():
            if names.vector(1) == protocol:
                return True
        return False

    def offers_secure_renegotiation(self) -> bool:
        if RENEGOTIATION_INFO in self.extensions:
            if self.extensions[RENEGOTIATION_INFO] != b"\x00":  # RFC 5746 section 3.6
                raise ProtocolError(Alert.HANDSHAKE_FAILURE, "renegotiation_info not empty")
            return True
        return EMPTY_RENEGOTIATION_INFO_SCSV in self.cipher_suites


@dataclass(frozen=True)
class Agreement:
    """What the server picks from a ClientHello."""
    group: int
    compression: int
    extensions: bytes  # the ServerHello's extension block, without its length


def negotiate(hello: ClientHello, identity: Identity) -> Agreement:
    if identity.cipher_suite not in hello.cipher_suites:
        raise ProtocolError(Alert.HANDSHAKE_FAILURE, f"client does not offer suite {identity.cipher_suite:#06x}")
    if (SIGNATURE_ALGORITHMS in hello.extensions and identity.signature_scheme
            not in parse_uint_list(hello.extensions[SIGNATURE_ALGORITHMS], 2, 2)):
        raise ProtocolError(Alert.HANDSHAKE_FAILURE, "client does not accept the key's signature scheme")
    if DEFLATE in hello.compression_methods:
        compression = DEFLATE
    elif NULL_COMPRESSION in hello.compression_methods:
        compression = NULL_COMPRESSION
    else:
        raise ProtocolError(Alert.HANDSHAKE_FAILURE, "no known compression method")

    extensions = b""
    if hello.offers_secure_renegotiation():
        extensions += extension(RENEGOTIATION_INFO, prefixed(b"", 1))
    if EC_POINT_FORMATS in hello.extensions:
        extensions += extension(EC_POINT_FORMATS, prefixed(bytes([UNCOMPRESSED_POINT]), 1))
    if hello.offers_alpn(HTTP_1_1):
        extensions += extension(ALPN, prefixed(prefixed(HTTP_1_1, 1), 2))
    return Agreement(choose_group(hello), compression, extensions)


def choose_group(hello: ClientHello) -> int:
    """The client's first choice among x25519 and secp256r1; secp256r1 if it names no groups, since then it
    supports them all (RFC 8422 section 4)."""
    if SUPPORTED_GROUPS not in hello.extensions:
        return SECP256R1
    for group in parse_uint_list(hello.extensions[SUPPORTED_GROUPS], 2, 2):
        if group in (X25519, SECP256R1):
            return group
    raise ProtocolError(Alert.HANDSHAKE_FAILURE, "client offers neither x25519 nor secp256r1")


class ServerHandshake:
    """One full TLS 1.2 handshake as the server (RFC 5246 section 7.3) over a RecordLayer."""

    def __init__(self, records: RecordLayer, identity: Identity):
        self._records = records
        self._identity = identity
        self._pending = bytearray()     # handshake bytes received that do not make a whole message yet
        self._transcript = bytearray()  # every handshake message so far, which the Finished messages hash

    async def run(self) -> None:
        hello = ClientHello.parse(await self._receive(CLIENT_HELLO))
        if not hello.offers_tls_1_2():
            # In the client's own version, as OpenSSL does it: an older client's record layer rejects any
            # other before it would read the alert.
            self._records.version = min(hello.legacy_version, TLS_1_2)
            raise ProtocolError(Alert.PROTOCOL_VERSION, "client does not offer TLS 1.2")
        agreement = negotiate(hello, self._identity)
        server_random = os.urandom(32)
        ephemeral = EphemeralKey(agreement.group)
        await self._send_server_flight(hello.random, server_random, agreement, ephemeral)

        key_exchange = Parser(await self._receive(CLIENT_KEY_EXCHANGE))
        premaster_secret = ephemeral.premaster_secret(key_exchange.vector(1))
        key_exchange.finish()
        master_secret = prf(premaster_secret, b"master secret", hello.random + server_random, 48)
        keys = KeyBlock.derive(master_secret, hello.random, server_random)
        deflate = agreement.compression == DEFLATE

        await self._receive_change_cipher_spec()
        self._records.opener = RecordOpener(keys.client_key, keys.client_salt, deflate)
        expected = self._verify_data(master_secret, b"client finished")
        if not hmac.compare_digest(await self._receive(FINISHED), expected):
            raise ProtocolError(Alert.DECRYPT_ERROR, "client's Finished does not match")

        self._records.write(CHANGE_CIPHER_SPEC, b"\x01")
        self._records.sealer = RecordSealer(keys.server_key, keys.server_salt, deflate)
        self._send(FINISHED, self._verify_data(master_secret, b"server finished"))
        await self._records.drain()

    async def _send_server_flight(self, client_random: bytes, server_random: bytes, agreement: Agreement,
                                  ephemeral: EphemeralKey) -> None:
        """ServerHello (empty session id: nothing to resume), Certificate, ServerKeyExchange and
        ServerHelloDone."""
        self._send(SERVER_HELLO, struct.pack("!H", TLS_1_2) + server_random + prefixed(b"", 1)
                   + struct.pack("!HB", self._identity.cipher_suite, agreement.compression)
                   + (prefixed(agreement.extensions, 2) if agreement.extensions else b""))
        self._send(CERTIFICATE, prefixed(b"".join(prefixed(cert, 3) for cert in self._identity.chain), 3))
        params = struct.pack("!BH", NAMED_CURVE, ephemeral.group) + prefixed(ephemeral.public, 1)
        signature = self._identity.sign(client_random + server_random + params)
        self._send(SERVER_KEY_EXCHANGE,
                   params + struct.pack("!H", self._identity.signature_scheme) + prefixed(signature, 2))
        self._send(SERVER_HELLO_DONE, b"")
        await self._records.drain()

    def _send(self, message_type: int, body: bytes) -> None:
        message = handshake_message(message_type, body)
        self._transcript += message
        self._records.write(HANDSHAKE, message)

    async def _receive(self, expected_type: int) -> bytes:
        """The body of the next handshake message, which must be of expected_type; messages may be split
        over records, and a record may hold several."""
        while (message := take_message(self._pending)) is None:
            content_type, fragment = await self._records.read()
            if content_type != HANDSHAKE:
                raise ProtocolError(Alert.UNEXPECTED_MESSAGE, f"content type {content_type} in the handshake")
            self._pending += fragment
        if message[0] != expected_type:
            raise ProtocolError(Alert.UNEXPECTED_MESSAGE,
                                f"handshake message {message[0]} where {expected_type} belongs")
        self._transcript += message
        return message[4:]

    async def _receive_change_cipher_spec(self) -> None:
        content_type, fragment = await self._records.read()
        if content_type != CHANGE_CIPHER_SPEC or fragment != b"\x01" or self._pending:
            raise ProtocolError(Alert.UNEXPECTED_MESSAGE, "expected the client's ChangeCipherSpec")

    def _verify_data(self, master_secret: bytes, label: bytes) -> bytes:
        return prf(master_secret, label, hashlib.sha256(self._transcript).digest(), 12)


# --- relay ----------------------------------------------------------------------------------------------

async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, chain_pem: bytes, key_pem: bytes,
                backend: tuple[str, int]) -> None:
    """Do a TLS 1.2 handshake as the server on (reader, writer) – choosing DEFLATE compression whenever the
    client offers it – then relay application data both ways between the TLS client and a plain TCP
    connection to `backend` (host, port) until either side closes. Never raises for protocol errors: on
    anything it does not support it sends a fatal alert (protocol_version, handshake_failure, ...) and closes."""
    records = RecordLayer(reader, writer)
    try:
        identity = load_identity(chain_pem, key_pem)
        async with asyncio.timeout(HANDSHAKE_TIMEOUT):
            await ServerHandshake(records, identity).run()
        await _relay_application_data(records, backend)
    except ProtocolError as error:
        log.info("fatal alert to %s: %s", writer.get_extra_info("peername"), error)
        records.alert(AlertLevel.FATAL, error.alert)
    except (CloseQuietly, EOFError, OSError):
        pass  # an alert or SSLv2 hello from the client, a closed or reset connection, or the handshake timeout
    finally:
        await _close(writer)


async def _relay_application_data(records: RecordLayer, backend: tuple[str, int]) -> None:
    try:
        backend_reader, backend_writer = await asyncio.wait_for(asyncio.open_connection(*backend),
                                                                BACKEND_CONNECT_TIMEOUT)
    except OSError as error:
        raise ProtocolError(Alert.INTERNAL_ERROR, f"backend {backend}: {error!r}") from None
    directions = [asyncio.create_task(_client_to_backend(records, backend_writer)),
                  asyncio.create_task(_backend_to_client(backend_reader, records))]
    try:
        done, _ = await asyncio.wait(directions, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in directions:
            task.cancel()
        await asyncio.gather(*directions, return_exceptions=True)
        await _close(backend_writer)
    for task in done:
        task.result()  # a ProtocolError from the client's side still owes the client its alert


async def _client_to_backend(records: RecordLayer, backend_writer: asyncio.StreamWriter) -> None:
    """Application data from the client to the backend until the client leaves (which raises). A new
    ClientHello, the start of a renegotiation, is refused with a no_renegotiation warning and ignored."""
    renegotiation = bytearray()
    while True:
        content_type, data = await records.read()
        if content_type == APPLICATION_DATA:
            backend_writer.write(data)
            await backend_writer.drain()
        elif content_type == HANDSHAKE:
            renegotiation += data
            while (message := take_message(renegotiation)) is not None:
                if message[0] != CLIENT_HELLO:
                    raise ProtocolError(Alert.UNEXPECTED_MESSAGE, f"handshake message {message[0]}")
                records.alert(AlertLevel.WARNING, Alert.NO_RENEGOTIATION)
            await records.drain()
        else:
            raise ProtocolError(Alert.UNEXPECTED_MESSAGE, f"content type {content_type} after the handshake")


async def _backend_to_client(backend_reader: asyncio.StreamReader, records: RecordLayer) -> None:
    """The backend's bytes to the client, then a close_notify once the backend closes."""
    while data := await backend_reader.read(MAX_FRAGMENT):
        records.write(APPLICATION_DATA, data)
        await records.drain()
    records.alert(AlertLevel.WARNING, Alert.CLOSE_NOTIFY)
    await records.drain()


async def _close(writer: asyncio.StreamWriter) -> None:
    """Close a connection, dropping what is left unsent if the peer does not read it within CLOSE_TIMEOUT."""
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), CLOSE_TIMEOUT)
    except (OSError, TimeoutError):
        writer.transport.abort()
