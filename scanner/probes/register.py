"""The RIO probe: whether the site's domain is in the configured export of the Register Internetdomeinen
Overheid (RIO), the register of government domain names (`[register] rio_export`).

The export is `[register] rio_export`, else the copy `govscan import rio FILE` keeps in the user's data
directory (`rio-export.csv`, govscan/paths.py); with neither, domain.rio is not applicable.

The export is read once per run. Accepted forms: a CSV file whose header has a `domein`, `domeinnaam` or
`domain` column, or a plain list with one domain per line (`#` starts a comment). A domain listed there
covers the names below it, so `noordstad.nl` covers `www.noordstad.nl`; the probe reports which of the
host's own names (the host and its parents up to its registrable domain, by the public suffix list with its
private section) is listed. `gov.nl` is a public suffix: a `gov.nl` row never covers `x.gov.nl`.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from govscan.model import Site
from scanner.config import ConfigError
from scanner.probes.base import Probe, ProbeContext
from scanner.domains import registrable_domain

DOMAIN_COLUMNS = ("domein", "domeinnaam", "domain")


def load_rio_export(path: Path) -> frozenset[str]:
    """The domains of an export file, lower case without a trailing dot; ConfigError when unreadable."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"[register] rio_export: cannot read {path}: {exc.strerror}") from None
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        return frozenset()
    header = [cell.strip().lower() for cell in next(csv.reader([lines[0]]))]
    column = next((header.index(name) for name in DOMAIN_COLUMNS if name in header), None)
    if column is None:
        if len(header) > 1:
            raise ConfigError(f"[register] rio_export: {path} is a CSV file without a column named "
                              f"{', '.join(DOMAIN_COLUMNS)}")
        values = lines
    else:
        values = [row[column] for row in csv.reader(io.StringIO("\n".join(lines[1:]))) if len(row) > column]
    return frozenset(v.strip().lower().rstrip(".") for v in values if v.strip())


def own_names(host: str) -> list[str]:
    """The host and its parent domains up to its registrable domain, most specific first."""
    labels = host.lower().rstrip(".").split(".")
    registrable = registrable_domain(host)
    names = []
    for i in range(len(labels)):
        names.append(".".join(labels[i:]))
        if names[-1] == registrable:
            break
    return names


class RioProbe(Probe):
    name = "rio"
    version = 2  # 2: the host's names up to its registrable domain, not up to the top-level domain

    def __init__(self):
        self.domains: frozenset[str] | None = None
        self.export = ""

    async def setup(self, ctx: ProbeContext) -> None:
        export = ctx.settings.register.rio_export_path
        self.export = str(export or "")
        self.domains = load_rio_export(export) if export else None

    async def collect(self, ctx: ProbeContext, site: Site, address, prior) -> dict[str, Any]:
        if self.domains is None:
            return {"export": None}
        names = own_names(site.host)
        listed = next((name for name in names if name in self.domains), None)
        return {"export": self.export, "export_domains": len(self.domains), "searched": names, "listed": listed}
