"""Servers that drip, on loopback: deadlines that are deadlines (issue 15).

A server that sends a byte now and then never trips a per-read timeout. Before, such an SMTP server (an
endless multi-line 220- greeting) and such a TLS server (a ServerHello that never ends) held a worker thread
36-51 s past the probe's timeout. Here each goes through the real probe, as the runner calls it, on a pool of
one thread: the thread must be free again within 1 s after the probe's deadline, and the result must be an
error that says why. The SMTP reply caps (lines, line length) are tested against servers that talk fast."""
from __future__ import annotations

import asyncio
import itertools
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from checks.registry import all_checks, evaluate
from govscan.model import Reason, Site, Status
from scanner import config, runner
from scanner.probes.base import ProbeError
from scanner.probes.mail import MailProbe
from scanner.probes.tls import SmtpLimits, TlsProbe, open_connection, smtp_greeting, smtp_reply
from tests.unit.fakedns import SECURE, Tree, ZoneSpec, context, default_tree

SITE = Site("https://www.noordstad.nl/", "www.noordstad.nl")
DRIP_INTERVAL = 0.2  # seconds between two bytes: far below every per-read timeout here
TLS_RECORD_HEAD = b"\x16\x03\x03\x40\x00\x02"  # a handshake record of 16 kB that starts a ServerHello


class DripServer:
    """Accepts TCP on loopback; per connection, reads what the client sends first when `listen_first`, then
    sends `payload` (an endless byte string, cycled) one byte every DRIP_INTERVAL until the client goes."""

    def __init__(self, payload: bytes, listen_first: bool = False, interval: float = DRIP_INTERVAL):
        self.payload, self.listen_first, self.interval = payload, listen_first, interval
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)
            threading.Thread(target=self.drip, args=(conn,), daemon=True).start()

    def drip(self, conn: socket.socket) -> None:
        try:
            if self.listen_first:
                conn.recv(4096)
            for byte in itertools.cycle(self.payload):
                if self.stopped.wait(self.interval):
                    return
                conn.sendall(bytes([byte]))
        except OSError:
            return  # the client hung up: what a bounded client does

    def close(self) -> None:
        self.stopped.set()
        self.sock.close()
        for conn in self.connections:
            conn.close()


@pytest.fixture
def drip():
    servers = []

    def start(payload: bytes, **options) -> DripServer:
        servers.append(DripServer(payload, **options))
        return servers[-1]
    yield start
    for server in servers:
        server.close()


def run_as_the_runner_does(ctx, probe, address=None):
    """The probe through Runner.collect (its timeout, its error handling) on a pool of one thread; then when
    that thread is free again, against the probe's deadline."""
    async def go():
        ctx.executor = ThreadPoolExecutor(max_workers=1)
        deadline = time.monotonic() + probe.timeout(ctx.settings)
        artifact = await runner.Runner(ctx.settings, []).collect(ctx, probe, SITE, address, {})
        freed = await asyncio.get_running_loop().run_in_executor(ctx.executor, time.monotonic)
        ctx.executor.shutdown()
        return artifact, freed - deadline
    return asyncio.run(go())


def timeouts(ctx, probe_timeout: float, connect_timeout: float):
    ctx.settings.scan.probe_timeout = probe_timeout
    ctx.settings.scan.connect_timeout = connect_timeout
    return ctx


def test_a_dripping_smtp_greeting_frees_the_thread_by_the_probes_deadline(drip, tmp_path):
    """An endless 220- greeting, a byte every 0.2 s. The SMTP step may take 4 s (2 x connect_timeout), the
    probe's deadline for it is 1 s away: the deadline wins."""
    server = drip(b"220-mx.noordstad.nl still greeting\r\n")
    tree = Tree([ZoneSpec(".", []), ZoneSpec("nl.", []),
                 ZoneSpec("noordstad.nl.", ["www 3600 IN A 198.51.100.10", "@ 3600 IN MX 10 mail",
                                            "mail 3600 IN A 127.0.0.1"], mode=SECURE)])
    ctx = timeouts(context(tree, tmp_path), probe_timeout=1.0, connect_timeout=2.0)
    artifact, freed_after_deadline = run_as_the_runner_does(ctx, MailProbe(port=server.port))
    assert freed_after_deadline < 1.0
    session = artifact.data["mx_hosts"][0]["addresses"]["127.0.0.1"]
    assert session["error"] == Reason.TIMEOUT and "no complete reply" in session["detail"]
    finding = evaluate(all_checks()["mail.starttls"], SITE, {"mail": artifact}, {}, {"ipv6": True})
    assert finding.status == Status.ERROR and finding.reason == Reason.TIMEOUT


def test_a_dripping_tls_handshake_frees_the_thread_by_the_probes_deadline(drip, tmp_path):
    """A ServerHello record of 16 kB sent a byte every 0.2 s: every read gets its byte well within the
    connect timeout (2 s), only the deadline inside the handshake stops it."""
    server = drip(TLS_RECORD_HEAD + b"\0", listen_first=True)
    ctx = timeouts(context(default_tree(), tmp_path), probe_timeout=1.0, connect_timeout=2.0)
    probe = TlsProbe()
    probe.port = server.port
    artifact, freed_after_deadline = run_as_the_runner_does(ctx, probe, "127.0.0.1")
    assert freed_after_deadline < 1.0
    assert artifact.error == Reason.TIMEOUT, artifact


# --- SMTP replies: how much is read -------------------------------------------------------------------------

LIMITS = SmtpLimits.of(config.load().scan)


def greet(port: int) -> dict:
    return smtp_greeting("127.0.0.1", port, 5.0, time.monotonic() + 10, LIMITS)


@pytest.mark.parametrize("payload, words", [
    (b"220-mx.noordstad.nl still greeting\r\n", "more than 100 lines (scan.smtp_max_reply_lines)"),
    (b"220 mx.noordstad.nl " + b"x" * 1000, "longer than 8192 bytes (scan.smtp_max_line_bytes)"),
])
def test_an_endless_reply_is_cut_off_at_the_configured_size(drip, payload, words):
    server = drip(payload, interval=0)
    with pytest.raises(ProbeError) as caught:
        greet(server.port)
    assert caught.value.reason == Reason.CONNECT and words in caught.value.detail


def test_a_reply_within_the_limits_is_read_whole(drip):
    lines = [b"220-mx.noordstad.nl line %d\r\n" % i for i in range(LIMITS.lines - 1)] + [b"220 ready\r\n"]
    server = drip(b"".join(lines), interval=0)
    with open_connection("127.0.0.1", server.port, 5.0, time.monotonic() + 10) as sock:
        code, reply = smtp_reply(sock, LIMITS)
    assert code == 220 and len(reply) == LIMITS.lines and reply[-1] == "220 ready"
