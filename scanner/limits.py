"""Connection limits shared by every worker: at most `[scan] connections_per_host` connections to one host or
IP address at the same time, whichever worker on whichever machine opens them, so ten workers never open
forty connections to one municipality's server.

One process alone keeps its limits in asyncio semaphores (ProbeContext.limit, scanner/probes/base.py) and needs
none of this. With `[workers] limiter_url` set, every connection slot is a lease in Redis: per key a sorted set
of holders, each scored with the moment its lease runs out. Taking a slot is one Lua script, atomic in Redis:
drop the leases that ran out, then add ours when fewer than N remain. Giving it back removes it (the probes
release in `finally`). A thread renews this process's leases every third of `limit_lease_seconds`, so a slow
connection keeps its slot, while a worker killed with SIGKILL (or a machine gone from the network) stops
renewing and its slots are free again within one lease. Lease times are Redis's own clock (TIME inside the
scripts), so the workers' clocks need not agree.

Why Redis and not PostgreSQL advisory locks:
- a slot is taken and given back for every connection, hundreds a second in a night's run; in Redis that is
  one round trip of well under a millisecond, while PostgreSQL is the store, whose writes are what a large run
  waits for first (docs/deploy.md, the sizing model);
- advisory locks are mutexes, not counting semaphores (N slots would be N lock ids tried in turn), and a
  session lock lives as long as its database connection: every worker would hold a connection per slot, and a
  connection pooler in transaction mode silently breaks them;
- a lease frees the slots of a worker that vanished without closing its connections; a session lock waits
  for TCP keepalive to notice.

A waiting probe polls, with a pause growing from 5 ms to 100 ms (with jitter): simple, and the wait is bounded
by the probe's own timeout like the semaphore's. It is not first come, first served. redis-py's synchronous
client is used: every call is one round trip to a nearby server, and a synchronous client belongs to no event
loop, so one connection pool serves every run a worker process starts (each Celery task runs its own loop).
"""
from __future__ import annotations

import asyncio
import itertools
import os
import random
import socket
import threading
import time
from functools import lru_cache
from typing import TYPE_CHECKING

from govscan.model import Reason
from scanner.probes.base import ProbeError

if TYPE_CHECKING:
    from scanner.config import Settings

PREFIX = "govscan:limit:"
FIRST_PAUSE, LAST_PAUSE = 0.005, 0.1  # seconds between tries while every slot is taken

# KEYS[1]: the key's leases; ARGV: slots, lease in ms, token. 1 when the slot is ours.
TAKE = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""

# KEYS[1]: the key's leases; ARGV: lease in ms, token. Only a lease still held is renewed (XX): one that ran out
# may have been given to another worker since.
RENEW = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if redis.call('ZADD', KEYS[1], 'XX', 'CH', ms + tonumber(ARGV[1]), ARGV[2]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return 1
"""


class SharedLimiter:
    """This process's leases in one Redis: takes, gives back and renews them."""

    def __init__(self, url: str, slots: int, lease_seconds: float, prefix: str = PREFIX):
        import redis  # only workers that share their limits need Redis (govscan[workers])

        self.errors = redis.RedisError
        self.redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.take_script = self.redis.register_script(TAKE)
        self.renew_script = self.redis.register_script(RENEW)
        self.slots = slots
        self.lease_ms = max(1, round(lease_seconds * 1000))
        self.prefix = prefix
        self.held: dict[str, str] = {}  # token -> Redis key, for the renewing thread
        self.lock = threading.Lock()
        self.tokens = itertools.count()
        self.renewing_in: int | None = None  # the pid whose thread renews (a forked child starts its own)

    def limit(self, key: str) -> "SharedLimit":
        return SharedLimit(self, self.prefix + key)

    async def take(self, key: str) -> str:
        """Wait for a slot of `key`; returns the token that holds it."""
        token = f"{socket.gethostname()}:{os.getpid()}:{next(self.tokens)}"
        pause = FIRST_PAUSE
        while True:
            try:
                taken = self.take_script(keys=[key], args=[self.slots, self.lease_ms, token])
            except self.errors as exc:
                raise ProbeError(Reason.CONNECT, f"the shared connection limiter did not answer: {exc}") from None
            if taken:
                with self.lock:
                    self.held[token] = key
                self._keep_renewing()
                return token
            await asyncio.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(2 * pause, LAST_PAUSE)

    def give_back(self, key: str, token: str) -> None:
        with self.lock:
            self.held.pop(token, None)
        try:
            self.redis.zrem(key, token)
        except self.errors:
            pass  # the lease runs out by itself

    def renew(self) -> None:
        """Extend every lease this process holds by one lease from now."""
        with self.lock:
            held = list(self.held.items())
        if held:
            pipe = self.redis.pipeline(transaction=False)
            for token, key in held:
                self.renew_script(keys=[key], args=[self.lease_ms, token], client=pipe)
            pipe.execute()

    def _keep_renewing(self) -> None:
        if self.renewing_in == os.getpid():
            return
        self.renewing_in = os.getpid()
        threading.Thread(target=self._renewing, name="govscan-limit-renew", daemon=True).start()

    def _renewing(self) -> None:
        while True:
            time.sleep(self.lease_ms / 3000)
            try:
                self.renew()
            except self.errors:
                pass  # Redis away for a moment: try again next time; a lease lost meanwhile is someone else's


class SharedLimit:
    """One key's slots, used as probes use an asyncio.Semaphore: `acquire`, `release`, `async with`."""

    def __init__(self, limiter: SharedLimiter, key: str):
        self.limiter = limiter
        self.key = key
        self.tokens: list[str] = []  # the slots of this key this process holds; any one may be given back

    async def acquire(self) -> bool:
        self.tokens.append(await self.limiter.take(self.key))
        return True

    def release(self) -> None:
        self.limiter.give_back(self.key, self.tokens.pop())

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc) -> None:
        self.release()


def shared_limiter(settings: "Settings") -> SharedLimiter:
    """The process's limiter for these settings (one Redis connection pool, one renewing thread)."""
    return _limiter(settings.workers.limiter_url, settings.scan.connections_per_host,
                    settings.workers.limit_lease_seconds)


@lru_cache(maxsize=None)
def _limiter(url: str, slots: int, lease_seconds: float) -> SharedLimiter:
    return SharedLimiter(url, slots, lease_seconds)
