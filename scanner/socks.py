"""A small SOCKS5 proxy on 127.0.0.1 that resolves host names with the scanner's own resolver.

Chromium sends host names to a `socks5://` proxy instead of resolving them, so pointing the browser here
makes it see exactly the addresses the other probes test (the lab's resolver in the lab, the configured
resolver in production), without host-resolver rules that would have to know every third-party host in
advance. Only CONNECT without authentication is offered, which is all Chromium uses.

It is also where the address policy (scanner/addresses.py) holds for the browser: every address, resolved
here or sent as a literal, is judged before anything is connected, so no page, redirect, frame or image can
make Chromium reach loopback, the local network or a metadata service. A host with only refused addresses
is answered "connection not allowed by ruleset" (RFC 1928).
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
import struct
from typing import Awaitable, Callable

from govscan.model import Reason
from scanner.addresses import AddressPolicy

Resolve = Callable[[str], Awaitable[list[str]]]

# SOCKS5 reply codes (RFC 1928, section 6)
SUCCEEDED, GENERAL_FAILURE, NOT_ALLOWED, NETWORK_UNREACHABLE, HOST_UNREACHABLE = 0, 1, 2, 3, 4
COMMAND_NOT_SUPPORTED, ADDRESS_TYPE_NOT_SUPPORTED = 7, 8


class ResolvingSocksProxy:
    """SOCKS5 CONNECT proxy. `failures` remembers why a host could not be reached (a Reason: dns, connect
    or refused_address, and a detail), so the browser probe can report a site's error with the right
    reason."""

    def __init__(self, resolve: Resolve, connect_timeout: float, policy: AddressPolicy):
        self.resolve = resolve
        self.connect_timeout = connect_timeout
        self.policy = policy
        self.failures: dict[str, tuple[str, str]] = {}
        self.connections = 0
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        upstream: asyncio.StreamWriter | None = None
        try:
            upstream_reader, upstream = await self._handshake(reader, writer)
            if upstream is None:
                return
            await asyncio.gather(_pipe(reader, upstream), _pipe(upstream_reader, writer))
        except (OSError, asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # a closed connection, or the proxy closing at the end of the run
        finally:
            self._tasks.discard(task)
            for w in (writer, upstream):
                if w is not None:
                    w.close()

    async def _handshake(self, reader, writer):
        version, methods = await reader.readexactly(2)
        await reader.readexactly(methods)
        if version != 5:
            return None, None
        writer.write(b"\x05\x00")  # no authentication
        version, command, _, address_type = await reader.readexactly(4)
        if address_type == 1:
            host = socket.inet_ntop(socket.AF_INET, await reader.readexactly(4))
        elif address_type == 4:
            host = socket.inet_ntop(socket.AF_INET6, await reader.readexactly(16))
        elif address_type == 3:
            host = (await reader.readexactly((await reader.readexactly(1))[0])).decode("idna").lower()
        else:
            await _reply(writer, ADDRESS_TYPE_NOT_SUPPORTED)
            return None, None
        port = struct.unpack("!H", await reader.readexactly(2))[0]
        if command != 1:
            await _reply(writer, COMMAND_NOT_SUPPORTED)
            return None, None
        connected = await self._connect(host, port)
        if connected is None:
            refused = self.failures[host][0] == Reason.REFUSED_ADDRESS
            await _reply(writer, NOT_ALLOWED if refused else HOST_UNREACHABLE)
            return None, None
        self.connections += 1
        await _reply(writer, SUCCEEDED)
        return connected

    async def _connect(self, host: str, port: int):
        """A connection to the first address of `host` that the policy allows and that answers, else None
        with the reason in `failures`."""
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = await self.resolve(host)
            except Exception:
                addresses = []
            if not addresses:
                self.failures[host] = (Reason.DNS, f"{host} could not be resolved")
                return None
        allowed = [address for address in addresses if self.policy.refusal(address) is None]
        if not allowed:
            refused = self.policy.error(addresses[0])
            named = "" if host == addresses[0] else f"{host}: "
            self.failures[host] = (refused.reason, named + refused.detail)
            return None
        for address in allowed:
            try:
                return await asyncio.wait_for(asyncio.open_connection(address, port), self.connect_timeout)
            except (OSError, asyncio.TimeoutError):
                continue
        self.failures[host] = (Reason.CONNECT, f"{host} port {port}: no connection")
        return None


async def _reply(writer: asyncio.StreamWriter, code: int) -> None:
    writer.write(bytes([5, code, 0, 1, 0, 0, 0, 0, 0, 0]))
    await writer.drain()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        if writer.can_write_eof():
            try:
                writer.write_eof()
            except OSError:
                pass
