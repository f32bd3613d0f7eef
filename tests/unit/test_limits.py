"""The connection limits shared by workers (scanner/limits.py), against the machine's real Redis: processes
with event loops of their own never hold more than N slots of one key together, and a worker killed while it
holds slots frees them after its lease. Every test uses a key prefix of its own and deletes its keys."""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import uuid

import pytest
import redis

from scanner import config
from scanner.limits import SharedLimit, SharedLimiter
from scanner.probes.base import ProbeContext, ProbeError

URL = "redis://127.0.0.1:6379/0"
SLOTS = 3


@pytest.fixture
def prefix():
    prefix = f"govscan-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def crowd(prefix: str, rounds: int) -> None:
    """One worker: 8 probes on one event loop, each taking a slot of one address `rounds` times and, while it
    holds it, counting the holders of all processes in Redis (the highest count seen is kept there too)."""
    limiter = SharedLimiter(URL, SLOTS, lease_seconds=10, prefix=prefix)
    counter = redis.Redis.from_url(URL)

    async def probe():
        limit = limiter.limit("192.0.2.1")
        for _ in range(rounds):
            async with limit:
                holders = counter.incr(f"{prefix}holders")
                counter.eval("if tonumber(ARGV[1]) > tonumber(redis.call('GET', KEYS[1]) or 0) then "
                             "redis.call('SET', KEYS[1], ARGV[1]) end", 1, f"{prefix}most", holders)
                await asyncio.sleep(0.002)
                counter.decr(f"{prefix}holders")

    async def main():
        await asyncio.gather(*(probe() for _ in range(8)))

    asyncio.run(main())


def test_processes_together_never_hold_more_than_the_limit(prefix):
    workers = [multiprocessing.get_context("spawn").Process(target=crowd, args=(prefix, 15)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    client = redis.Redis.from_url(URL)
    assert int(client.get(f"{prefix}most")) == SLOTS  # 32 probes wanted a slot at once; 3 got one
    assert client.zcard(f"{prefix}192.0.2.1") == 0  # every slot given back


def hold_forever(prefix: str, ready) -> None:
    """A worker that takes every slot of one address and keeps them (renewing its leases) until killed."""
    limiter = SharedLimiter(URL, SLOTS, lease_seconds=2, prefix=prefix)

    async def main():
        limit = limiter.limit("192.0.2.2")
        for _ in range(SLOTS):
            await limit.acquire()
        ready.set()
        await asyncio.sleep(3600)

    asyncio.run(main())


def test_a_killed_holder_frees_its_slots_after_the_lease(prefix):
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Event()
    holder = spawn.Process(target=hold_forever, args=(prefix, ready))
    holder.start()
    try:
        assert ready.wait(60)
        limiter = SharedLimiter(URL, SLOTS, lease_seconds=2, prefix=prefix)

        async def try_once():
            # while the holder lives (renewing), every slot stays taken, whatever its lease of two seconds
            await asyncio.sleep(5)
            return await asyncio.wait_for(limiter.limit("192.0.2.2").acquire(), 0.2)

        with pytest.raises(asyncio.TimeoutError):
            asyncio.run(try_once())
        os.kill(holder.pid, signal.SIGKILL)
        holder.join()

        async def take_all():
            limit = limiter.limit("192.0.2.2")
            for _ in range(SLOTS):
                await limit.acquire()
            for _ in range(SLOTS):
                limit.release()

        asyncio.run(asyncio.wait_for(take_all(), 30))  # the dead worker's leases ran out
    finally:
        if holder.is_alive():
            os.kill(holder.pid, signal.SIGKILL)
            holder.join()


def test_probes_get_the_shared_limit_only_when_one_is_configured():
    alone = ProbeContext(settings=config.load(), resolver=None)
    assert isinstance(alone.limit("192.0.2.3"), asyncio.Semaphore)
    shared = ProbeContext(settings=config.load(overrides={"workers": {"limiter_url": URL}}), resolver=None)
    assert isinstance(shared.limit("192.0.2.3"), SharedLimit)
    assert shared.limit("192.0.2.3") is shared.limit("192.0.2.3")


def test_an_unreachable_limiter_is_an_error_with_a_reason():
    limiter = SharedLimiter("redis://127.0.0.1:1/0", SLOTS, lease_seconds=10)
    with pytest.raises(ProbeError) as raised:
        asyncio.run(limiter.limit("192.0.2.4").acquire())
    assert raised.value.reason == "connect"
    assert "limiter" in raised.value.detail
