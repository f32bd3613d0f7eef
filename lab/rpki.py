"""The lab's RPKI data: a routes file (CAIDA pfx2as text) and a VRP file (the JSON export of Routinator and
rpki-client) for every address the lab gives a host or a name server, as the scenario's `rpki` keys say
(docs/scenario.md, "RPKI"). `govscan lab up` writes both and points `[rpki]` at them.

Every address is announced on its own, as a /32 (IPv4) or /128 (IPv6) from the lab's AS 64500 (AS numbers
64496-64511 are for documentation, RFC 5398), and its ROA depends on the state asked for:

- valid: a ROA for that prefix from AS 64500, maxLength the prefix's own length;
- invalid_origin: a ROA for that prefix from AS 64511 only;
- too_long: a ROA for the address's /31 (/127) from AS 64500 with maxLength 31 (127), so the announced
  /32 (/128) is longer than the ROA allows;
- not_found: no ROA.

A too_long ROA also covers the other address of its /31 (/127): one that is valid or invalid keeps its
state (its own ROA matches, or still none does), but one meant to be not_found would become invalid, so
such a plan is refused, as is an address that hosts sharing it want in different states.
"""
from __future__ import annotations

import ipaddress
import json
from pathlib import Path

from lab.plan import LabPlan

LAB_AS = 64500
OTHER_AS = 64511


def address_states(plan: LabPlan) -> dict[str, str]:
    """Every lab address with the RPKI state its host or name server asks for."""
    wanted: dict[str, tuple[str, str]] = {}
    owners = [(host.host, host.site["mail_rpki"] if host.role == "mail" else host.site["rpki"],
               host.ipv4 + host.ipv6) for host in plan.hosts.values()]
    owners += [(ns.name, ns.rpki, ns.ipv4 + ns.ipv6) for ns in plan.nameservers.values()]
    for owner, state, addresses in owners:
        for address in addresses:
            other = wanted.setdefault(address, (owner, state))
            if other[1] != state:
                raise ValueError(f"{address} is shared by {other[0]} (rpki {other[1]}) and {owner} (rpki {state})")
    return {address: state for address, (_, state) in wanted.items()}


def routes_and_roas(states: dict[str, str]) -> tuple[list[tuple[str, int]], list[dict]]:
    """The announced routes (prefix, origin) and the ROAs (Routinator's JSON fields) for these states."""
    routes, roas = [], []
    for address, state in sorted(states.items()):
        own = ipaddress.ip_network(address)
        routes.append((str(own), LAB_AS))
        if state in ("valid", "invalid_origin"):
            roas.append({"asn": f"AS{LAB_AS if state == 'valid' else OTHER_AS}", "prefix": str(own),
                         "maxLength": own.prefixlen, "ta": "govscan-lab"})
        elif state == "too_long":
            pair = own.supernet()
            neighbour = next(str(a) for a in (pair.network_address, pair.broadcast_address) if str(a) != address)
            if states.get(neighbour) == "not_found":
                raise ValueError(f"{address} (rpki too_long) and {neighbour} (rpki not_found) share {pair}: its "
                                 "ROA would make the second invalid")
            roas.append({"asn": f"AS{LAB_AS}", "prefix": str(pair), "maxLength": pair.prefixlen,
                         "ta": "govscan-lab"})
    return routes, roas


def write(plan: LabPlan, vrp_file: Path, routes_file: Path) -> None:
    routes, roas = routes_and_roas(address_states(plan))
    with open(routes_file, "w") as fh:
        fh.write("# Written by `govscan lab up` (lab/rpki.py): prefix, length, origin AS (CAIDA pfx2as)\n")
        for prefix, origin in routes:
            address, length = prefix.split("/")
            fh.write(f"{address}\t{length}\t{origin}\n")
    vrp_file.write_text(json.dumps({"metadata": {"generator": "govscan lab"}, "roas": roas}, indent=1))
