"""Probes collect raw facts; each is registered here by name (the name checks list in `requires`)."""
from __future__ import annotations

from scanner.probes.base import Probe


def all_probes() -> dict[str, Probe]:
    from scanner.probes.browser import BrowserProbe
    from scanner.probes.dns import AddressProbe
    from scanner.probes.dns_records import CaaProbe, NameserversProbe, TlsaProbe
    from scanner.probes.dnssec import DnssecProbe
    from scanner.probes.http import HttpProbe
    from scanner.probes.mail import MailProbe
    from scanner.probes.register import RioProbe
    from scanner.probes.rpki import RpkiProbe
    from scanner.probes.tls import TlsProbe

    probes: list[Probe] = [AddressProbe(), HttpProbe(), TlsProbe(), DnssecProbe(), NameserversProbe(), CaaProbe(),
                           TlsaProbe(), BrowserProbe(), RioProbe(), MailProbe(), RpkiProbe()]
    return {probe.name: probe for probe in probes}
