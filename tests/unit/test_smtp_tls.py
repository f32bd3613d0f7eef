"""The tls probe over SMTP STARTTLS (port 25 in real life), against the lab's own SMTP server
(lab/smtp.py) serving the lab's TLS profiles, and `smtp_greeting` against it and against scripted
servers that answer oddly. The servers run in an event loop on a thread of their own, on 127.0.0.1 or ::1;
the evaluation, blocking, in the test."""
from __future__ import annotations

import asyncio
import time

import pytest

from govscan.model import Reason, Status
from scanner.probes.base import ProbeError
from scanner import config
from scanner.probes.tls import Endpoint, Evaluation, SmtpLimits, smtp_greeting
from lab.smtp import Smtp
from tests.unit.test_tls_probe import HANDSHAKE_BUDGET, TLS13, SilentServer, judge, profile_suites
from tests.unit.tls_servers import HOST, background_loop, free_port, self_signed

SECP256R1 = 0x0017  # the group the lab's SMTP server allows (tls_profiles.server_context), as TLS names it
LIMITS = SmtpLimits.of(config.load().scan)


@pytest.fixture(scope="module")
def loop():
    """An event loop running on its own thread, for the servers; the clients under test block."""
    with background_loop() as event_loop:
        yield event_loop


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed(tmp_path_factory.mktemp("smtp-certs"), "rsa2048")


@pytest.fixture
def serve(loop):
    """serve(handler, address) -> port: an asyncio server for this test, closed after it."""
    servers = []

    def start(handler, address: str = "127.0.0.1") -> int:
        server = asyncio.run_coroutine_threadsafe(asyncio.start_server(handler, address, 0), loop).result(10)
        servers.append(server)
        return server.sockets[0].getsockname()[1]

    yield start
    for server in servers:
        loop.call_soon_threadsafe(server.close)


@pytest.fixture
def lab_smtp(serve, certificate):
    """lab_smtp(mode, profile, address) -> port of the lab's SMTP server."""
    def start(mode: str, profile: str = "modern", address: str = "127.0.0.1") -> int:
        entry = {"host": "mx.noordstad.nl", "mode": mode, "tls": profile, "weak_certificate": False,
                 "chain": str(certificate[0]), "key": str(certificate[1])}
        return serve(Smtp(entry).handle, address)
    return start


def smtp_endpoint(address: str, port: int, timeout: float = 3.0) -> Endpoint:
    return Endpoint(HOST, address, timeout, time.monotonic() + 60, port, smtp=LIMITS)


def greet(address: str, port: int, timeout: float = 3.0, host: str | None = None) -> dict:
    return smtp_greeting(address, port, timeout, time.monotonic() + 60, LIMITS, host)


def evaluate_smtp(address: str, port: int, timeout: float = 3.0) -> dict:
    return Evaluation(smtp_endpoint(address, port, timeout), None).run()


# --- the lab's SMTP server --------------------------------------------------------------------------------

@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_modern_profile_over_starttls(lab_smtp, address):
    port = lab_smtp("starttls", "modern", address)
    greeting = greet(address, port, 3, host=HOST)
    assert greeting["starttls"] is True and greeting["banner"].startswith("220 ")
    assert "STARTTLS" in greeting["extensions"]
    assert greeting["certificates"][0]["sans"] == [HOST]  # the chain a sending server gets, for DANE
    data = evaluate_smtp(address, port)
    assert {v for v, on in data["protocols"].items() if on} == {"TLSv1.2", "TLSv1.3"}
    assert set(data["suites"]["TLSv1.2"]) == profile_suites("modern")
    assert set(data["suites"]["TLSv1.3"]) == TLS13
    assert data["certificates"][0]["key_type"] == "rsa"
    assert data["early_data"] is None
    assert data["port"] == port
    assert data["handshakes"] < HANDSHAKE_BUDGET
    assert judge("web.tls.version", data).status == Status.PASS
    assert judge("web.tls.ciphers", data).status == Status.PASS
    # Python's ssl module cannot limit the signature schemes; the lab sets them on its context all the same.
    assert data["key_exchange"]["signature_hashes"]["accepted"] == ["sha256", "sha384", "sha512"]
    assert judge("web.tls.key_exchange", data).status == Status.PASS


def test_legacy_profile_over_starttls_fails_the_version_check(lab_smtp):
    port = lab_smtp("starttls", "legacy")
    data = evaluate_smtp("127.0.0.1", port)
    assert data["protocols"]["TLSv1.0"] and data["protocols"]["TLSv1.1"]
    assert set(data["suites"]["TLSv1.2"]) == profile_suites("legacy")
    assert data["handshakes"] < HANDSHAKE_BUDGET
    assert judge("web.tls.version", data).status == Status.FAIL
    assert "sha1" in data["key_exchange"]["signature_hashes"]["accepted"]
    assert judge("web.tls.key_exchange", data).status == Status.FAIL


def test_hand_made_hellos_go_after_starttls(lab_smtp):
    """The TLS 1.3 group probe (raw socket, own ClientHello) does the SMTP preface itself: a server that
    allows P-256 names it in its HelloRetryRequest."""
    port = lab_smtp("starttls", "modern")
    endpoint = smtp_endpoint("127.0.0.1", port)
    assert endpoint.tls13_group_choice([SECP256R1]) == SECP256R1
    assert endpoint.tls13_group_choice([0x0100]) is None  # ffdhe2048: not allowed, refused


def test_a_server_without_starttls_is_a_tls_error(lab_smtp):
    port = lab_smtp("plain")
    greeting = greet("127.0.0.1", port, 3)
    assert greeting["starttls"] is False and "STARTTLS" not in greeting["extensions"]
    endpoint = smtp_endpoint("127.0.0.1", port)
    for attempt in (Evaluation(endpoint, None).run, lambda: endpoint.tls13_group_choice([SECP256R1])):
        with pytest.raises(ProbeError) as caught:
            attempt()
        assert caught.value.reason == Reason.TLS and "STARTTLS" in caught.value.detail
    assert endpoint.handshakes == 2  # one of each: the evaluation stops at once


# --- servers that answer oddly ----------------------------------------------------------------------------

def scripted(banner: bytes, replies: dict[str, bytes] | None = None):
    """A handler that sends `banner`, then answers each command by its verb from `replies` (502 for any
    other, 221 to QUIT); None closes after the banner."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(banner)
            await writer.drain()
            while replies is not None and (line := await reader.readline()):
                verb = line.decode().split(" ")[0].strip().upper()
                writer.write(b"221 bye\r\n" if verb == "QUIT" else replies.get(verb, b"502 5.5.2 no\r\n"))
                await writer.drain()
        finally:
            writer.close()
    return handle


def test_multi_line_replies_are_read_whole(serve):
    port = serve(scripted(b"220-mx.noordstad.nl ESMTP\r\n220 ready\r\n",
                          {"EHLO": b"250-mx.noordstad.nl\r\n250-SIZE 1000\r\n250-starttls\r\n250 8BITMIME\r\n"}))
    greeting = greet("127.0.0.1", port, 3)
    del greeting["measured_at"]
    assert greeting == {
        "banner": "220-mx.noordstad.nl ESMTP\n220 ready", "extensions": ["SIZE 1000", "starttls", "8BITMIME"],
        "starttls": True}


@pytest.mark.parametrize("banner, replies", [(b"554 5.7.1 No SMTP service here\r\n", None),
                                             (b"421 4.3.2 Too busy\r\n", {}),
                                             (b"220 old.mx ESMTP\r\n", {"EHLO": b"500 5.5.1 what?\r\n"})])
def test_a_refusing_banner_or_ehlo_is_reported_without_starttls(serve, banner, replies):
    greeting = greet("127.0.0.1", serve(scripted(banner, replies)), 3)
    del greeting["measured_at"]
    assert greeting == {"banner": banner.decode().strip(), "extensions": [], "starttls": False}


def test_starttls_refused_after_being_offered_is_a_tls_error(serve):
    port = serve(scripted(b"220 mx ESMTP\r\n", {"EHLO": b"250-mx\r\n250 STARTTLS\r\n",
                                                "STARTTLS": b"454 4.7.0 TLS not available\r\n"}))
    with pytest.raises(ProbeError) as caught:
        evaluate_smtp("127.0.0.1", port)
    assert caught.value.reason == Reason.TLS and "TLS not available" in caught.value.detail


@pytest.mark.parametrize("banner, words", [(b"SSH-2.0-OpenSSH_9.6\r\n", ("not SMTP",)),
                                           (b"", ("closed",)),
                                           # EHLO reaches a closed socket: a reset or an end, as it comes
                                           (b"220 mx ESMTP\r\n", ("closed", "reset"))])
def test_no_smtp_or_an_early_close_is_a_connect_error(serve, banner, words):
    with pytest.raises(ProbeError) as caught:
        greet("127.0.0.1", serve(scripted(banner)), 3)
    assert caught.value.reason == Reason.CONNECT and any(word in caught.value.detail for word in words)


# --- what cannot be measured ------------------------------------------------------------------------------

def test_a_closed_port_is_a_connect_error():
    port = free_port("127.0.0.1")
    for attempt in (lambda: greet("127.0.0.1", port, 1), lambda: evaluate_smtp("127.0.0.1", port)):
        with pytest.raises(ProbeError) as caught:
            attempt()
        assert caught.value.reason == Reason.CONNECT


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_a_server_that_never_speaks_is_a_timeout(address):
    server = SilentServer(address)
    try:
        for attempt in (lambda: greet(address, server.port, 1),
                        lambda: evaluate_smtp(address, server.port, timeout=1)):
            started = time.monotonic()
            with pytest.raises(ProbeError) as caught:
                attempt()
            assert caught.value.reason == Reason.TIMEOUT
            assert time.monotonic() - started < 2
    finally:
        server.close()
