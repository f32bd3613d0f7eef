"""The lab's mail servers: SMTP on port 25 for every MX host, one asyncio process:

    python -m lab.smtp CONFIG.json

CONFIG is a list of {host, mode, tls, weak_certificate, addresses, chain, key} (written by
lab/web.py). mode `starttls` offers STARTTLS with the site's TLS profile (the same protocols, suites
and order as its web server); `plain` offers no STARTTLS. Enough SMTP for a scanner: EHLO/HELO, STARTTLS,
NOOP, RSET, QUIT; a message is refused politely (MAIL gets 550), nothing is ever delivered. `drip` is hostile:
an endless multi-line greeting (`220-` lines), one byte per second, until the client leaves."""
from __future__ import annotations

import asyncio
import itertools

from lab import serving
from lab.tls_profiles import PROFILES, server_context

IDLE = 60  # seconds without a command before the server hangs up
DRIP_LINE = b"220-mail server warming up, please wait\r\n"
DRIP_INTERVAL = 1.0  # seconds between two bytes of the dripping greeting
DRIP_BYTES = 3600  # how much of it a client that never leaves gets (an hour)


class Smtp:
    def __init__(self, entry: dict):
        self.host = entry["host"]
        self.mode = entry["mode"]
        self.tls = None
        if entry["mode"] == "starttls":
            self.tls = server_context(PROFILES[entry["tls"]], entry["chain"], entry["key"],
                                      weak_certificate=entry.get("weak_certificate", False))

    def extensions(self, secure: bool) -> list[str]:
        offered = ["SIZE 10240000", "8BITMIME", "PIPELINING"]
        if self.tls is not None and not secure:
            offered.append("STARTTLS")
        return offered

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        secure = False

        def reply(text: str) -> None:
            writer.write(text.encode() + b"\r\n")

        try:
            if self.mode == "drip":
                await drip(writer)
                return
            reply(f"220 {self.host} ESMTP lab")
            await writer.drain()
            while True:
                line = await asyncio.wait_for(reader.readline(), IDLE)
                if not line:
                    return
                verb = line.decode("latin-1").strip().split(" ", 1)[0].upper()
                if verb == "EHLO":
                    lines = [self.host, *self.extensions(secure)]
                    for i, text in enumerate(lines):
                        reply(f"250{'-' if i < len(lines) - 1 else ' '}{text}")
                elif verb == "HELO":
                    reply(f"250 {self.host}")
                elif verb == "STARTTLS" and self.tls is not None and not secure:
                    reply("220 2.0.0 Ready to start TLS")
                    await writer.drain()
                    await writer.start_tls(self.tls)
                    secure = True
                    continue
                elif verb in ("NOOP", "RSET"):
                    reply("250 2.0.0 OK")
                elif verb == "QUIT":
                    reply(f"221 2.0.0 {self.host} closing connection")
                    await writer.drain()
                    return
                elif verb == "MAIL":
                    reply("550 5.7.1 This lab server accepts no mail")
                else:
                    reply("502 5.5.2 Command not recognised")
                await writer.drain()
        except (OSError, asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()


async def drip(writer: asyncio.StreamWriter) -> None:
    """The greeting that never ends: DRIP_LINE over and over, a byte a second."""
    for byte in itertools.islice(itertools.cycle(DRIP_LINE), DRIP_BYTES):
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(DRIP_INTERVAL)


async def start(entry: dict) -> list[asyncio.Server]:
    server = Smtp(entry)
    return [await asyncio.start_server(server.handle, address, 25) for address in entry["addresses"]]


if __name__ == "__main__":
    serving.main(start)
