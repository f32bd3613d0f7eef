"""Registrable domains ('eTLD+1') from the public suffix list, private section included (`gov.nl` is a public
suffix, so `x.gov.nl` is its own registrable domain). Shared by the probes that need one: the browser (first-
or third-party cookies), mail (the DMARC organisational domain) and the RIO register."""
from __future__ import annotations

import ipaddress
from functools import lru_cache

from publicsuffixlist import PublicSuffixList


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


def registrable_domain(host: str) -> str:
    """The registrable domain of a host; an IP address or a bare suffix stands for itself."""
    host = host.strip(".").lower()
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host
    except ValueError:
        return _psl().privatesuffix(host) or host
