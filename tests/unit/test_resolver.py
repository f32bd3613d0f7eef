"""A resolver that does not answer is an error with reason timeout, and is asked again next time."""
import asyncio
import socket

import pytest

from scanner.config import DnsSettings
from scanner.probes.base import ProbeError
from scanner.resolver import Resolver


def test_silent_resolver_times_out_and_the_failure_is_not_cached():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        resolver = Resolver(DnsSettings(resolvers=["127.0.0.1"], port=silent.getsockname()[1], timeout=0.2))

        async def twice():
            for _ in range(2):
                with pytest.raises(ProbeError) as raised:
                    await resolver.query("www.example.nl", "A")
                assert raised.value.reason == "timeout"

        asyncio.run(twice())
    assert resolver.queries == 2  # the second lookup went out again
