"""What the lab's Python servers (hostile, smtp, tls_frontend) share: read the JSON config web.py wrote,
start a server per entry, run until `lab down` sends SIGTERM, then close them."""
from __future__ import annotations

import asyncio
import json
import signal
import sys
from typing import Awaitable, Callable

Start = Callable[[dict], Awaitable[list[asyncio.Server]]]


async def serve_until_stopped(path: str, start: Start) -> None:
    with open(path, encoding="utf-8") as fh:
        entries = json.load(fh)
    servers = []
    for entry in entries:
        servers += await start(entry)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


def main(start: Start) -> None:
    """The entry point of `python -m lab.<server> CONFIG.json`."""
    asyncio.run(serve_until_stopped(sys.argv[1], start))
