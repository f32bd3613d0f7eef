"""Hostile web servers a real scan meets, all hosts in one asyncio process:

    python -m lab.hostile CONFIG.json

CONFIG is a list of {host, behaviour, addresses, chain, key} (written by lab/web.py). Behaviours:
hang (accepts TCP on 80 and 443, never answers), drip (answers one byte per second), redirect_loop
(endless redirects over HTTPS with a valid certificate), huge_body (a 1 GB body, streamed), gzip_bomb (a
small gzip body that inflates to 4 GB), tls_stall (accepts TCP on 443, never finishes the handshake),
internal_redirect (redirects over HTTPS to `internal_name(host)`, which the lab's DNS resolves to 127.0.0.1
and ::1: a metadata service on the scanner's own host). Port 80 of redirect_loop, huge_body, gzip_bomb,
tls_stall and internal_redirect redirects to https on the same host, like the real servers these stand for;
the HTTPS responses carry a one-year HSTS header."""
from __future__ import annotations

import asyncio
import struct
import zlib

from lab import serving
from lab.tls_profiles import PROFILES, server_context

HSTS = b"Strict-Transport-Security: max-age=31536000\r\n"
HUGE_BODY = 1 << 30
BOMB_BLOCK = 1 << 20          # bytes of zeros per deflate block
BOMB_BLOCKS = 4096            # 4 GiB inflated
KEEP_OPEN = 3600              # seconds a hanging connection is held
INTERNAL_ADDRESSES = ("127.0.0.1", "::1")


def internal_name(host: str) -> str:
    """Where `internal_redirect` sends its visitors: a name lab/dns.py publishes with INTERNAL_ADDRESSES."""
    return f"metadata.{host}"


async def read_request(reader: asyncio.StreamReader) -> str:
    """The request line (the rest of the head is read and ignored)."""
    head = await reader.readuntil(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0].decode("latin-1")


def _zeros_crc_map(length: int) -> tuple[int, list[int]]:
    """crc32(bytes(length), c) as an affine map of c over GF(2): (image of 0, image of each bit minus it)."""
    zeros = bytes(length)
    base = zlib.crc32(zeros, 0)
    return base, [zlib.crc32(zeros, 1 << bit) ^ base for bit in range(32)]


def _apply(crc_map: tuple[int, list[int]], value: int) -> int:
    result, columns = crc_map
    for bit in range(32):
        if value >> bit & 1:
            result ^= columns[bit]
    return result


def _twice(crc_map: tuple[int, list[int]]) -> tuple[int, list[int]]:
    """The map for twice the length: the map applied after itself."""
    base = _apply(crc_map, crc_map[0])
    return base, [_apply(crc_map, crc_map[0] ^ column) ^ base for column in crc_map[1]]


def gzip_bomb() -> tuple[bytes, bytes, bytes]:
    """(head, block, tail) of a gzip stream of BOMB_BLOCKS x 1 MiB zeros: head + block * (n - 1) + tail.

    With a full flush after each MiB the deflate state resets, so every block after the first compresses
    to the same bytes; the tail is an empty final block plus the CRC-32 and size of the whole input. The
    CRC of gigabytes of zeros comes from squaring the CRC map of one block (BOMB_BLOCKS is a power of
    two), so nothing near the inflated size is ever processed."""
    zeros = bytes(BOMB_BLOCK)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc_map = _zeros_crc_map(BOMB_BLOCK)
    for _ in range(BOMB_BLOCKS.bit_length() - 1):
        crc_map = _twice(crc_map)
    tail = b"\x03\x00" + struct.pack("<II", _apply(crc_map, 0), (BOMB_BLOCK * BOMB_BLOCKS) & 0xFFFFFFFF)
    return head, block, tail


class Hostile:
    def __init__(self, entry: dict):
        self.host = entry["host"]
        self.behaviour = entry["behaviour"]
        self.tls = server_context(PROFILES["modern"], entry["chain"], entry["key"])
        self.bomb = gzip_bomb() if self.behaviour == "gzip_bomb" else None

    async def http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Port 80."""
        if self.behaviour in ("hang", "drip"):
            await self.https(reader, writer)
            return
        await read_request(reader)
        writer.write(f"HTTP/1.1 301 Moved Permanently\r\nLocation: https://{self.host}/\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()

    async def https(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Port 443 (already TLS unless the behaviour stalls before the handshake)."""
        if self.behaviour in ("hang", "tls_stall"):
            await asyncio.sleep(KEEP_OPEN)
            return
        line = await read_request(reader)
        if self.behaviour == "drip":
            body = b"<!DOCTYPE html><html lang=\"nl\"><title>Traag</title><p>Even geduld.</p></html>"
            response = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + HSTS + \
                b"Content-Length: %d\r\n\r\n" % len(body) + body
            for i in range(len(response)):
                writer.write(response[i:i + 1])
                await writer.drain()
                await asyncio.sleep(1)
        elif self.behaviour == "redirect_loop":
            path = line.split(" ")[1] if " " in line else "/"
            step = int(path.rsplit("/", 1)[-1]) + 1 if path.startswith("/lus/") else 1
            writer.write(f"HTTP/1.1 302 Found\r\nLocation: https://{self.host}/lus/{step}\r\n".encode() + HSTS +
                         b"Content-Length: 0\r\nConnection: close\r\n\r\n")
        elif self.behaviour == "internal_redirect":
            writer.write(f"HTTP/1.1 302 Found\r\nLocation: https://{internal_name(self.host)}/latest/meta-data/"
                         "\r\n".encode() + HSTS + b"Content-Length: 0\r\nConnection: close\r\n\r\n")
        elif self.behaviour == "huge_body":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + HSTS +
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n" % HUGE_BODY)
            chunk = b"<p>" + b"x" * 65529 + b"</p>\n"
            for _ in range(HUGE_BODY // len(chunk)):
                writer.write(chunk)
                await writer.drain()
            writer.write(b"x" * (HUGE_BODY % len(chunk)))
        elif self.behaviour == "gzip_bomb":
            head, block, tail = self.bomb
            length = len(head) + len(block) * (BOMB_BLOCKS - 1) + len(tail)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n" + HSTS +
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n" % length + head)
            for _ in range(BOMB_BLOCKS - 1):
                writer.write(block)
                await writer.drain()
            writer.write(tail)
        await writer.drain()

    def handler(self, port: int):
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await (self.http if port == 80 else self.https)(reader, writer)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.CancelledError):
                pass
            finally:
                writer.close()
        return handle

    async def start(self, addresses: list[str]) -> list[asyncio.Server]:
        servers = []
        tls = None if self.behaviour in ("hang", "tls_stall") else self.tls
        for address in addresses:
            servers.append(await asyncio.start_server(self.handler(80), address, 80))
            options = {"ssl": tls, "ssl_handshake_timeout": 30} if tls else {}
            servers.append(await asyncio.start_server(self.handler(443), address, 443, **options))
        return servers


async def start(entry: dict) -> list[asyncio.Server]:
    return await Hostile(entry).start(entry["addresses"])


if __name__ == "__main__":
    serving.main(start)
