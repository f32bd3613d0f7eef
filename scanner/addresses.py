"""Which IP addresses govscan may connect to: one policy for every connection the scanner makes for a site.

govscan scans servers it does not control, for whoever hands it a site list. A hostile site can point the
scanner at the network it runs in: a name that resolves to 127.0.0.1, a redirect to `http://10.0.0.5/`, an
`<iframe>` on `http://169.254.169.254/` (a cloud's metadata service, which hands out credentials), an MX or
NS record naming an internal host. So the scanner connects only to **globally reachable unicast
addresses**, as the IANA special-purpose address registries define them (their "Globally Reachable" column,
the most specific block deciding; RFC 6890):

- refused in IPv4: 0.0.0.0/8 (this network), 10/8, 172.16/12 and 192.168/16 (private use), 100.64/10
  (shared address space, CGNAT), 127/8 (loopback), 169.254/16 (link local), 192.0.0.0/24 (IETF protocol
  assignments, but for its two anycast addresses), the documentation ranges 192.0.2.0/24, 198.51.100.0/24 and
  203.0.113.0/24, 198.18/15 (benchmarking), 192.88.99.0/24 (deprecated 6to4 relays), 224/4 (multicast),
  240/4 (reserved) and 255.255.255.255 (broadcast);
- refused in IPv6: everything outside 2000::/3 (global unicast), so ::1, ::, fc00::/7 (unique local),
  fe80::/10 (link local), fec0::/10, ff00::/8 (multicast) and the reserved blocks; and inside it 2001::/23
  (IETF protocol assignments, but for its anycast and AMT, AS112, ORCHIDv2 and drone ID blocks),
  2001:db8::/32 and 3fff::/20 (documentation), 2001:2::/48 (benchmarking), 5f00::/16 (SRv6 SIDs);
- IPv6 forms that lead to an IPv4 address are judged by that address: IPv4-mapped (::ffff:0:0/96, the
  IPv4 address itself on the wire), NAT64 (64:ff9b::/96; 64:ff9b:1::/48 is local use and refused), 6to4
  (2002::/16) and Teredo (2001::/32, its server and its client);
- cloud metadata services are refused whatever the configuration says: 169.254.169.254, 169.254.170.2,
  fd00:ec2::254, 100.100.100.200 and Azure's 168.63.129.16, which is a public address.

The web service (`govscan serve`) also refuses its own addresses (`own_addresses`, applied with
`AddressPolicy.refusing`), even inside an allowed network: a check must not turn the service on itself.

Besides these, the networks listed in `[scan] allowed_networks` are allowed: the lab's scanner configuration
allows the lab's documentation ranges, and tests allow loopback for their local servers. The configured DNS
resolvers are not subject to the policy: they are the operator's own choice (the system's is often
127.0.0.53) and are only sent queries.

It is applied where a connection is made, after any name was resolved: the http probe's connections (every
redirect hop and security.txt redirect included), the tls probe, the mail probe's MX addresses, the name
servers the nameservers probe asks directly, and the browser's SOCKS proxy (scanner/socks.py, for names it
resolves and literal addresses alike, so no page can make Chromium reach an internal address). The dns
probe records which of a site's addresses are refused. A refused address is never connected to: it becomes
an `error` with reason `refused_address` and the address in the detail.
"""
from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Iterable

from govscan.model import Reason
from scanner.probes.base import ProbeError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Blocks of the IANA IPv4 and IPv6 special-purpose address registries (and the IPv6 address space
# registry's global unicast block), with their "Globally Reachable" column; the longest match decides.
# Addresses outside every block are globally reachable in IPv4; in IPv6 `::/0` makes them not. The forms
# that lead to an IPv4 address (NAT64, 6to4, Teredo) are reachable when that address is (`_embedded`).
REGISTRY: tuple[tuple[str, str, bool], ...] = (
    ("0.0.0.0/8", "'this network'", False),
    ("0.0.0.0/32", "the unspecified address", False),
    ("10.0.0.0/8", "private use", False),
    ("100.64.0.0/10", "shared address space (CGNAT)", False),
    ("127.0.0.0/8", "loopback", False),
    ("169.254.0.0/16", "link local", False),
    ("172.16.0.0/12", "private use", False),
    ("192.0.0.0/24", "an IETF protocol assignment", False),
    ("192.0.0.9/32", "port control protocol anycast", True),
    ("192.0.0.10/32", "TURN anycast", True),
    ("192.0.2.0/24", "documentation (TEST-NET-1)", False),
    ("192.88.99.0/24", "deprecated 6to4 relay anycast", False),
    ("192.168.0.0/16", "private use", False),
    ("198.18.0.0/15", "benchmarking", False),
    ("198.51.100.0/24", "documentation (TEST-NET-2)", False),
    ("203.0.113.0/24", "documentation (TEST-NET-3)", False),
    ("224.0.0.0/4", "multicast", False),
    ("240.0.0.0/4", "reserved", False),
    ("255.255.255.255/32", "limited broadcast", False),
    ("::/0", "outside IPv6 global unicast (2000::/3)", False),
    ("::/128", "the unspecified address", False),
    ("::1/128", "loopback", False),
    ("64:ff9b::/96", "IPv4/IPv6 translation (NAT64)", True),
    ("64:ff9b:1::/48", "local-use IPv4/IPv6 translation", False),
    ("100::/64", "discard-only", False),
    ("100:0:0:1::/64", "a dummy prefix", False),
    ("2000::/3", "global unicast", True),
    ("2001::/23", "an IETF protocol assignment", False),
    ("2001::/32", "Teredo", True),
    ("2001:1::1/128", "port control protocol anycast", True),
    ("2001:1::2/128", "TURN anycast", True),
    ("2001:1::3/128", "DNS-SD service registration anycast", True),
    ("2001:2::/48", "benchmarking", False),
    ("2001:3::/32", "AMT", True),
    ("2001:4:112::/48", "AS112", True),
    ("2001:20::/28", "ORCHIDv2", True),
    ("2001:30::/28", "drone remote ID", True),
    ("2001:db8::/32", "documentation", False),
    ("3fff::/20", "documentation", False),
    ("5f00::/16", "SRv6 segment identifiers", False),
    ("fc00::/7", "unique local (ULA)", False),
    ("fe80::/10", "link local", False),
    ("fec0::/10", "deprecated site local", False),
    ("ff00::/8", "multicast", False),
)
# Cloud metadata services (AWS, Azure, Google, OpenStack, Oracle; AWS ECS and IPv6; Alibaba; Azure's wire
# server): refused even inside an allowed network.
METADATA = ("169.254.169.254/32", "169.254.170.2/32", "fd00:ec2::254/128", "100.100.100.200/32", "168.63.129.16/32")

_REGISTRY = sorted(((ipaddress.ip_network(block), name, reachable) for block, name, reachable in REGISTRY),
                   key=lambda entry: entry[0].prefixlen, reverse=True)
_METADATA = tuple(ipaddress.ip_network(block) for block in METADATA)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RefusedAddress(ProbeError):
    """An address the policy refuses: never connected to, reported as `refused_address`. `allowable` says
    whether `[scan] allowed_networks` could allow it (not a metadata or the scanner's own address)."""

    def __init__(self, address: str, why: str, allowable: bool = True):
        hint = "[scan] allowed_networks can allow a network" if allowable else "whatever the settings say"
        super().__init__(Reason.REFUSED_ADDRESS, f"{address} is {why}: not connected (scanner/addresses.py; {hint})")
        self.address = address
        self.why = why


class AddressPolicy:
    """Globally reachable unicast addresses, plus `allowed_networks` (CIDR strings; ValueError saying which
    one is not a network)."""

    def __init__(self, allowed_networks: Iterable[str] = ()):
        self.allowed: tuple[IPNetwork, ...] = tuple(_network(text) for text in allowed_networks)
        self.refused: tuple[tuple[IPNetwork, str], ...] = ()

    def refusing(self, networks: Iterable[str], why: str = "one of the scanner's own addresses") -> AddressPolicy:
        """A copy that also refuses `networks` (addresses or CIDR strings), even inside an allowed network, as
        `why` (what they are, for the refusal's detail)."""
        policy = AddressPolicy()
        policy.allowed = self.allowed
        policy.refused = self.refused + tuple((_network(text), why) for text in networks)
        return policy

    def refusal(self, address: str | IPAddress) -> str | None:
        """Why `address` may not be connected to (what it is), or None when it may."""
        return self._judge(address)[0]

    def error(self, address: str) -> RefusedAddress | None:
        """The RefusedAddress error for `address`, or None when it may be connected to."""
        why, final = self._judge(address)
        return None if why is None else RefusedAddress(str(address), why, allowable=not final)

    def check(self, address: str) -> None:
        """Raise RefusedAddress unless `address` may be connected to."""
        refused = self.error(address)
        if refused is not None:
            raise refused

    def _judge(self, address: str | IPAddress) -> tuple[str | None, bool]:
        """Why `address` is refused (None when it is not), and whether that is final: no allowed network
        changes it."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return "not an IP address", True
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # the IPv4 address itself, as an IPv6 socket sends it
        if any(ip in network for network in _METADATA):
            return "a cloud metadata address", True
        for network, why in self.refused:
            if ip in network:
                return why, True
        if any(ip in network for network in self.allowed):
            return None, False
        for form, embedded in _embedded(ip):
            why, final = self._judge(embedded)
            if why is not None:
                return f"the {form} form of {embedded}, {why}", final
        for network, name, reachable in _REGISTRY:
            if ip in network:
                return (None if reachable else f"{name} ({network})"), False
        return None, False  # IPv4 outside every special-purpose block


def _network(text) -> IPNetwork:
    try:
        return ipaddress.ip_network(str(text).strip())
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a network such as \"10.0.0.0/8\" or \"::1/128\" ({exc})") from None


def _embedded(ip: IPAddress) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 address leads to (NAT64, 6to4, Teredo), with the form's name."""
    if ip.version == 4:
        return []
    if ip in _NAT64:
        return [("NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))]
    if ip.sixtofour is not None:
        return [("6to4", ip.sixtofour)]
    if ip.teredo is not None:
        server, client = ip.teredo
        return [("Teredo server", server), ("Teredo", client)]
    return []


# --- the scanner's own addresses ----------------------------------------------------------------------------

UNSPECIFIED = ("", "*", "0.0.0.0", "::")


def own_addresses(listen_host: str) -> list[str]:
    """The addresses of this machine that a check must not reach: where the service listens (`listen_host`, an
    address or a name the system resolves) and every address of the machine's interfaces, also when it
    listens on one address only (behind a reverse proxy, the machine's public address leads to the service
    too).

    The interfaces' addresses are read from Linux's /proc/net/fib_trie (IPv4: the local host routes, so
    secondary addresses too) and /proc/net/if_inet6 (IPv6), plus what the system resolves the host name to
    (which is all there is elsewhere). Limits: read once, so an address added later is not known; a public
    address that is not on an interface (NAT, a load balancer) is not known either, and reaching it reaches
    the service the way any visitor does."""
    found: list[str] = []
    if listen_host.strip("[]") not in UNSPECIFIED:
        found += _resolved(listen_host.strip("[]"))
    found += _proc_ipv4() + _proc_ipv6() + _resolved(socket.gethostname())
    return sorted(set(found), key=lambda a: (":" in a, ipaddress.ip_address(a)))


def _resolved(host: str) -> list[str]:
    try:
        return [str(ipaddress.ip_address(info[4][0].split("%")[0]))
                for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]
    except (OSError, ValueError):
        return []


def _proc_ipv4(path: str = "/proc/net/fib_trie") -> list[str]:
    """The machine's IPv4 addresses: each `/32 host LOCAL` entry of the routing tables, on the line after
    its address."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return []
    return [previous.split()[-1] for previous, line in zip(lines, lines[1:])
            if line.strip() == "/32 host LOCAL"]


def _proc_ipv6(path: str = "/proc/net/if_inet6") -> list[str]:
    """The machine's IPv6 addresses: the first field of each line, 32 hexadecimal digits."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return []
    return [str(ipaddress.IPv6Address(bytes.fromhex(line.split()[0]))) for line in lines if line.strip()]
