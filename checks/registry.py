"""The check registry: every check's id, level and required artifacts, and the one place that turns
artifacts into findings.

A check is a pure function from `Facts` to a `Verdict`. It never opens a socket. The registry gates it on
its required artifacts (a missing or failed artifact gives `error` with the artifact's reason, without
calling the check), turns an exception into `error`/`bug`, and for per-address checks calls it once per
address and makes the site status the worst address.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from govscan.model import (AddressResult, Artifact, CheckInfo, Finding, Reason, Site, Status, Text, Verdict,
                           matches, worst)

LEVELS = ("required", "recommended", "informational")


@dataclass
class Facts:
    """What a check may look at: the artifacts of its site (and of one address for per-address checks).

    `by_address` holds every address's per-address artifacts, for site-level checks that compare
    addresses (IPv4 against IPv6). Such a check lists the per-address probe in `requires` like any other;
    the registry gates it only on the site-level ones, and the check judges failed addresses itself.
    """

    site: Site
    artifacts: dict[str, Artifact]
    address: str | None = None
    run: dict[str, Any] = field(default_factory=dict)
    by_address: dict[str, dict[str, Artifact]] = field(default_factory=dict)

    def __getitem__(self, probe: str) -> dict[str, Any]:
        return self.artifacts[probe].data

    def get(self, probe: str) -> dict[str, Any] | None:
        artifact = self.artifacts.get(probe)
        return artifact.data if artifact is not None and artifact.ok else None


@dataclass
class Check(CheckInfo):
    """A check's description for people (CheckInfo) with what the registry needs to run it."""

    requires: tuple[str, ...]
    per_address: bool
    evaluate: Callable[[Facts], Verdict]
    # Probes collected for the check and handed to it without gating: it judges their failure itself (DANE
    # is not applicable without a TLSA record, whether or not an address answered).
    optional: tuple[str, ...] = ()

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"{self.id}: unknown level {self.level!r}")


REGISTRY: dict[str, Check] = {}


def check(
    id: str,
    *,
    level: str,
    family: str,
    requires: Iterable[str],
    norm: str,
    title: tuple[str, str],
    advice: tuple[str, str],
    per_address: bool = False,
    version: int = 1,
    optional: Iterable[str] = (),
):
    """Register a check function. `title` and `advice` are (Dutch, English)."""

    def register(fn: Callable[[Facts], Verdict]) -> Callable[[Facts], Verdict]:
        if id in REGISTRY:
            raise ValueError(f"check {id} registered twice")
        REGISTRY[id] = Check(
            id=id,
            version=version,
            level=level,
            family=family,
            requires=tuple(requires),
            per_address=per_address,
            norm=norm,
            title=Text(*title),
            advice=Text(*advice),
            evaluate=fn,
            optional=tuple(optional),
        )
        return fn

    return register


def all_checks() -> dict[str, Check]:
    """Every registered check, importing the family modules on first use."""
    import checks.families  # noqa: F401  (registers the checks)

    return REGISTRY


def select(patterns: str | Iterable[str] | None) -> list[Check]:
    """Checks matching comma-separated ids with `*` wildcards (`web.tls.*,dns.dnssec`); all when empty."""
    return [c for c in all_checks().values() if matches(c.id, patterns)]


def _error(reason: str, nl: str, en: str, details: dict | None = None) -> Verdict:
    return Verdict(Status.ERROR, Text(nl, en), details or {}, reason=reason)


def _gate(check_: Check, artifacts: dict[str, Artifact],
          by_address: dict[str, dict[str, Artifact]] | None = None) -> Verdict | None:
    """An error verdict when a required artifact is missing or failed, else None. A per-address artifact
    that a site-level check requires is left to the check (see `Facts.by_address`)."""
    for probe in check_.requires:
        artifact = artifacts.get(probe)
        if artifact is None and by_address and any(probe in found for found in by_address.values()):
            continue
        unmeasured = not_measured(probe, artifact)
        if unmeasured is not None:
            return unmeasured
    return None


def not_measured(probe: str, artifact: Artifact | None) -> Verdict | None:
    """The error verdict for a missing or failed artifact, else None (also for checks that read an
    `optional` probe)."""
    if artifact is None:
        return _error(Reason.BUG, f"Gegevens van '{probe}' ontbreken.", f"No '{probe}' data was collected.")
    if not artifact.ok:
        detail = artifact.error_detail or artifact.error
        return _error(
            artifact.error,
            f"Niet gemeten ({artifact.error}): {detail}",
            f"Not measured ({artifact.error}): {detail}",
            {"probe": probe},
        )
    return None


def _run(check_: Check, facts: Facts) -> Verdict:
    gated = _gate(check_, facts.artifacts, facts.by_address)
    if gated is not None:
        return gated
    try:
        verdict = check_.evaluate(facts)
    except Exception as exc:  # a bug in one check must not stop the others
        return _error(
            Reason.BUG,
            f"Interne fout in de controle: {exc!r}",
            f"Internal error in the check: {exc!r}",
            {"traceback": traceback.format_exc(limit=5)},
        )
    if verdict.status == Status.ERROR and not verdict.reason:
        verdict.reason = Reason.BUG
    return verdict


def evaluate(
    check_: Check,
    site: Site,
    site_artifacts: dict[str, Artifact],
    address_artifacts: dict[str, dict[str, Artifact]],
    run: dict[str, Any] | None = None,
) -> Finding:
    """Judge one site with one check.

    `site_artifacts` holds site-level artifacts by probe; `address_artifacts` maps each IP address to its
    per-address artifacts by probe.
    """
    run = run or {}

    def finding(verdict: Verdict, addresses: list[AddressResult] | None = None) -> Finding:
        return Finding(
            site=site.host,
            check=check_.id,
            status=verdict.status,
            summary=verdict.summary,
            details=verdict.details,
            norm=check_.norm,
            check_version=check_.version,
            reason=verdict.reason,
            addresses=addresses or [],
        )

    if not check_.per_address:
        return finding(_run(check_, Facts(site, dict(site_artifacts), None, run, address_artifacts)))

    if not address_artifacts:
        dns = site_artifacts.get("dns")
        if dns is not None and not dns.ok:
            return finding(_gate(check_, {p: dns for p in check_.requires}))
        return finding(_error(Reason.DNS, "Geen IP-adressen gevonden voor deze host.", "No IP addresses found for this host."))

    results = []
    for address, artifacts in address_artifacts.items():
        merged = dict(site_artifacts)
        merged.update(artifacts)
        verdict = _run(check_, Facts(site, merged, address, run))
        results.append(AddressResult(address, verdict.status, verdict.summary, verdict.details, verdict.reason))
    status = worst(r.status for r in results)
    deciding = next(r for r in results if r.status == status)
    summary = deciding.summary
    if len(results) > 1:
        summary = Text(f"{deciding.address}: {summary.nl}", f"{deciding.address}: {summary.en}")
    return finding(
        Verdict(status, summary, {"addresses": [r.address for r in results]}, deciding.reason),
        results,
    )
