"""The site's addresses: A and AAAA through the configured resolver. Every per-address probe starts here.

`refused` lists the addresses the address policy refuses (scanner/addresses.py), with why: the per-address
probes report them as `refused_address` errors without connecting.

At most `[dns] max_addresses_per_name` addresses of each family are used (in address order): every one
costs the per-address probes (dozens of TLS handshakes, HTTP requests), and a zone could list thousands
(issue 15). A cut is listed in `limits` and shown by web.ipv6.address."""
from __future__ import annotations

from govscan.model import Reason, Site
from scanner.probes.base import Probe, ProbeContext, ProbeError
from scanner.probes.dns_records import capped


class AddressProbe(Probe):
    name = "dns"
    version = 1

    async def collect(self, ctx: ProbeContext, site: Site, address, prior) -> dict:
        found = await ctx.resolver.addresses(site.host)
        validated = True
        if "SERVFAIL" in found["rcode"].values():
            # A zone that fails DNSSEC validation still has servers worth testing: look past validation.
            validated = False
            found = await ctx.resolver.addresses_unvalidated(site.host)
        if not found["ipv4"] and not found["ipv6"]:
            rcodes = ", ".join(f"{t} {r}" for t, r in found["rcode"].items())
            raise ProbeError(Reason.DNS, f"{site.host} has no A or AAAA record ({rcodes})")
        limits: list[dict] = []
        cap = ctx.settings.dns.max_addresses_per_name
        ipv4, ipv6 = (capped(found[family], "max_addresses_per_name", cap, limits, name=site.host, type=rdtype)
                      for family, rdtype in (("ipv4", "A"), ("ipv6", "AAAA")))
        refused = {ip: why for ip in ipv4 + ipv6 if (why := ctx.address_policy.refusal(ip)) is not None}
        return {"host": site.host, "ipv4": ipv4, "ipv6": ipv6, "rcode": found["rcode"],
                "validated": validated, "refused": refused, "limits": limits}
