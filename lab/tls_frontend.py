"""TLS front ends for the profiles nginx cannot serve, all hosts in one asyncio process:

    python -m lab.tls_frontend CONFIG.json

CONFIG is a list of {host, tls, weak_certificate, chain, key, routes: [{addresses, backend}]} (written by
lab/web.py). Each front end listens on port 443 of a route's addresses, does the TLS handshake the
profile asks for and relays the decrypted bytes to `backend` (host, port), where nginx serves the site in
plain HTTP with its usual headers and pages:

- `renegotiation` profiles: Python's ssl module (OpenSSL 3) with client-initiated renegotiation allowed;
- `deflate` profiles: the lab's own TLS 1.2 with DEFLATE compression (lab/deflate_tls.py).
"""
from __future__ import annotations

import asyncio
from pathlib import Path

from lab import deflate_tls, serving
from lab.tls_profiles import PROFILES, server_context

HANDSHAKE_TIMEOUT = 30


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until end of file, then half-close the other side where it can be (plain TCP)."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (OSError, ConnectionError):
        pass


async def relay_plain(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter,
                      backend: tuple[str, int]) -> None:
    """Relay an already decrypted client connection to the backend. A client's end of file is passed on
    and the backend may still answer; when the backend closes, so does the client connection (TLS has no
    half-close), as it would with nginx itself."""
    try:
        backend_reader, backend_writer = await asyncio.open_connection(*backend)
    except OSError:
        client_writer.close()
        return
    upstream = asyncio.ensure_future(pipe(client_reader, backend_writer))
    try:
        await pipe(backend_reader, client_writer)
    finally:
        upstream.cancel()
        backend_writer.close()
        client_writer.close()


async def serve(entry: dict) -> list[asyncio.Server]:
    profile = PROFILES[entry["tls"]]
    servers = []
    for route in entry["routes"]:
        backend = tuple(route["backend"])
        if profile.frontend == "deflate":
            chain, key = Path(entry["chain"]).read_bytes(), Path(entry["key"]).read_bytes()

            def handler(reader, writer, backend=backend):
                return deflate_tls.relay(reader, writer, chain, key, backend)
            options = {}
        else:
            def handler(reader, writer, backend=backend):
                return relay_plain(reader, writer, backend)
            options = {"ssl": server_context(profile, entry["chain"], entry["key"], entry["weak_certificate"]),
                       "ssl_handshake_timeout": HANDSHAKE_TIMEOUT}
        for address in route["addresses"]:
            servers.append(await asyncio.start_server(handler, address, 443, **options))
    return servers


if __name__ == "__main__":
    serving.main(serve)
