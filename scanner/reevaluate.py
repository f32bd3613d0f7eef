"""`govscan reevaluate`: judge stored facts again under the current rules, without scanning.

The sites of a run (by default the latest finished scan), or every site scanned since a moment, are judged by
today's checks on the artifacts storage kept for them, through the registry's `evaluate` (the gating the
runner uses) and with the run facts their scan had (`runner.run_facts`, stored with each run; for runs stored
before that, read off the artifacts). The findings are stored as a run of kind `reevaluation` that names what
it judged again. Artifacts are left as they are: nothing was observed again. Nothing here opens a socket.

What a site gets is its current state under the current rules, so:

- a site whose facts from that run were since replaced by a newer scan is skipped (judge the newer run);
  storing a judgement of older facts would turn its state back in time;
- a site without stored facts (pruned) is skipped;
- only checks that judged the site before are judged again (for `--run`, those the run asked for); a check
  whose facts were never collected (a probe added after the scan), or whose current rule cannot judge the
  stored facts (an `error` with reason `bug`: collected by an older probe without what the rule reads, or a
  crash), is left as it was.

Each skip is listed with its reason. The sites are claimed as a scan claims them (storage.work), so a
re-evaluation and a scan never write one site at the same time: a site a scan holds is skipped, as that scan
judges it by the current rules anyway.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from checks.registry import Check, evaluate, select
from govscan.model import Artifact, Finding, Reason, Site, SiteResult, Status, Text, matches
from reports.reevaluation import (FACTS_ASSUMED, FACTS_DERIVED, FACTS_STORED, Reevaluation, SiteOutcome, Skipped,
                                  Stored)
from scanner.config import Settings
from scanner.probes import all_probes
from scanner.scheduler import WorkSettings


class NothingToReevaluate(Exception):
    """No run or no site to judge again (a usage error)."""

    def __init__(self, text: Text):
        super().__init__(text.en)
        self.text = text


@dataclass
class Basis:
    """What is judged again: per site, the moment its facts are read at (None: now) and the check patterns
    its run asked for; and the sites of the run that were never scanned, with why."""

    sites: list[tuple[Site, datetime | None, str]] = field(default_factory=list)
    not_scanned: list[tuple[Site, Text]] = field(default_factory=list)
    run_id: int | None = None
    since: datetime | None = None

    def source(self) -> str:
        if self.run_id is not None:
            return f"reevaluate run {self.run_id}"
        return f"reevaluate since {self.since:%Y-%m-%d %H:%M:%S}"


def basis_of(store, run_id: int | None, since: datetime | None) -> Basis:
    if since is not None:
        sites = store.sites_scanned_since(since)
        if not sites:
            raise NothingToReevaluate(Text(f"geen site gescand sinds {since:%Y-%m-%d %H:%M}",
                                           f"no site was scanned since {since:%Y-%m-%d %H:%M}"))
        return Basis([(site, None, "") for site in sites], since=since)
    run = store.run(run_id) if run_id is not None else store.last_finished_scan()
    if run is None:
        raise NothingToReevaluate(Text(f"run {run_id} bestaat niet", f"no run {run_id}") if run_id is not None
                                  else Text("er is nog geen afgeronde run", "there is no finished run yet"))
    basis = Basis(run_id=run.id)
    for item in store.work_items(run.id):
        site = item.site.to_model()
        if item.state == "done":
            basis.sites.append((site, item.finished, run.checks))
        else:
            why = f" ({item.error})" if item.error else ""
            basis.not_scanned.append((site, Text(f"niet gescand in run {run.id}: {item.state}{why}",
                                                 f"not scanned in run {run.id}: {item.state}{why}")))
    if not basis.sites and not basis.not_scanned:
        raise NothingToReevaluate(Text(f"run {run.id} heeft geen sites", f"run {run.id} has no sites"))
    return basis


def reevaluate(store, settings: Settings, patterns: str | None = None, *, run_id: int | None = None,
               since: datetime | None = None) -> Reevaluation:
    """Judge the checks `patterns` select again and store the findings as a new run; returns what changed."""
    from storage import work
    from storage.store import settings_hash

    checks = select(patterns)
    basis = basis_of(store, run_id, since)
    sites = [site for site, _, _ in basis.sites] + [site for site, _ in basis.not_scanned]
    new_run = store.start_run("reevaluation", sites, checks=patterns or "", source=basis.source(),
                              config_hash=settings_hash(settings), reevaluates_run_id=basis.run_id,
                              reevaluates_since=basis.since)
    outcomes: list[SiteOutcome] = []
    skipped: list[Skipped] = []

    def skip(site: Site, reason: Text) -> None:
        store.skip_site(new_run, site.host, reason.en)
        skipped.append(Skipped(site.host, reason))

    try:
        claimed = {site.host for site in work.claim(store, new_run, len(sites),
                                                    timedelta(minutes=WorkSettings().deadline_minutes))}
        for site, reason in basis.not_scanned:
            skip(site, reason)
        judge = Judge(store)
        for site, moment, run_checks in basis.sites:
            if site.host not in claimed:
                skip(site, Text("wordt op dit moment door een andere run gescand",
                                "being scanned by another run right now"))
                continue
            outcome = judge.site(site, moment, [c for c in checks if matches(c.id, run_checks)])
            if isinstance(outcome, Skipped):
                skip(site, outcome.reason)
                continue
            store.record_site(new_run, SiteResult(site, {}, {}, outcome.after, 0.0))  # findings only
            outcomes.append(outcome)
        store.finish_run(new_run)
    except BaseException:
        store.mark_interrupted(new_run)
        raise
    return Reevaluation(store.run(new_run), outcomes, skipped)


class Judge:
    """Judges one site at a time on its stored facts; remembers the run facts of the runs it read."""

    def __init__(self, store):
        self.store = store
        self.probes = {name: probe.per_address for name, probe in all_probes().items()}
        self.facts_of_run: dict[int, dict | None] = {}

    def site(self, site: Site, moment: datetime | None, checks: list[Check]) -> SiteOutcome | Skipped:
        try:
            rows = self.store.artifact_versions(site.host, moment)
            artifacts = [row.to_model() for row in rows]
        except (zlib.error, ValueError) as exc:
            return Skipped(site.host, Text(f"opgeslagen gegevens onleesbaar: {exc}", f"stored facts unreadable: {exc}"))
        if not rows:
            return Skipped(site.host, Text("geen opgeslagen gegevens (opgeruimd of nooit bewaard)",
                                           "no stored facts (pruned, or never kept)"))
        replaced = min((row.valid_until for row in rows if row.valid_until is not None), default=None)
        if replaced is not None:
            return Skipped(site.host, Text(
                f"opnieuw gescand op {replaced:%Y-%m-%d %H:%M} UTC met andere gegevens: herbeoordeel die run",
                f"scanned again on {replaced:%Y-%m-%d %H:%M} UTC with other facts: re-evaluate that run"))
        before = {row.check_id: Stored(row.status, row.check_version) for row in self.store.current_findings(site.host)}
        site_artifacts, address_artifacts = self.grouped(site.host, artifacts)
        facts_run = max(row.last_run_id for row in rows)
        facts, source = self.run_facts(facts_run, artifacts)
        outcome = SiteOutcome(site.host, before, [], facts, source, facts_run)
        for check in checks:
            if check.id not in before:
                continue  # it never judged this site: that takes a scan
            judged = self.judged(check, site, before[check.id], site_artifacts, address_artifacts, facts)
            if isinstance(judged, Text):
                outcome.not_rejudged[check.id] = judged
            else:
                outcome.after.append(judged)
        if outcome.after:
            return outcome
        if outcome.not_rejudged:
            reasons = "; ".join(f"{check}: {why.nl}" for check, why in outcome.not_rejudged.items())
            reasons_en = "; ".join(f"{check}: {why.en}" for check, why in outcome.not_rejudged.items())
            return Skipped(site.host, Text(f"geen controle opnieuw te beoordelen ({reasons})",
                                           f"no check could be judged again ({reasons_en})"))
        return Skipped(site.host, Text("geen van de gekozen controles beoordeelde deze site",
                                       "none of the checks chosen judged this site"))

    def judged(self, check: Check, site: Site, stored: Stored, site_artifacts: dict[str, Artifact],
               address_artifacts: dict[str, dict[str, Artifact]], facts: dict) -> Finding | Text:
        """The finding the current rule gives on the stored facts, or why there is none."""
        missing = self.missing(check, site_artifacts, address_artifacts)
        if missing:
            return Text(f"geen opgeslagen gegevens van {missing}", f"no stored facts of {missing}")
        finding = evaluate(check, site, site_artifacts, address_artifacts, facts)
        if finding.status == Status.ERROR and finding.reason == Reason.BUG and stored.status != Status.ERROR:
            # The rule cannot judge these facts (collected by an older probe without what it reads, or a bug):
            # an error would only erase a verdict the facts did support.
            return Text(f"de huidige regel kan de opgeslagen gegevens niet beoordelen: {finding.summary.nl}",
                        f"the current rule cannot judge the stored facts: {finding.summary.en}")
        return finding

    def grouped(self, host: str, artifacts: list[Artifact]) -> tuple[dict[str, Artifact],
                                                                     dict[str, dict[str, Artifact]]]:
        """The artifacts as the runner hands them to `evaluate`: site-level ones by probe, and per address by
        probe, the addresses in the order its `dns` probe found them (the order decides a summary's address)."""
        site_artifacts: dict[str, Artifact] = {}
        address_artifacts: dict[str, dict[str, Artifact]] = {}
        for artifact in artifacts:
            if self.probes.get(artifact.probe, artifact.subject != host):
                address_artifacts.setdefault(artifact.subject, {})[artifact.probe] = artifact
            else:
                site_artifacts[artifact.probe] = artifact
        order = {address: i for i, address in enumerate(addresses_of(site_artifacts.get("dns")))}
        return site_artifacts, dict(sorted(address_artifacts.items(), key=lambda item: order.get(item[0], len(order))))

    def missing(self, check: Check, site_artifacts: dict[str, Artifact],
                address_artifacts: dict[str, dict[str, Artifact]]) -> str | None:
        """The first fact the scan would have handed the check that is not stored, else None: a
        site-level probe's artifact, or a per-address probe's for an address the stored `dns` found."""
        dns = site_artifacts.get("dns")
        addresses = addresses_of(dns)
        for probe in (*check.requires, *check.optional):
            stored_per_address = any(probe in found for found in address_artifacts.values())
            if not self.probes.get(probe, stored_per_address):  # a probe no longer registered: as it was stored
                if probe not in site_artifacts:
                    return f"'{probe}'"
            elif dns is None:
                return "'dns'"
            else:
                lacking = next((a for a in addresses if probe not in address_artifacts.get(a, {})), None)
                if lacking:
                    return f"'{probe}' ({lacking})"
        return None

    def run_facts(self, run_id: int, artifacts: list[Artifact]) -> tuple[dict, str]:
        """The run facts of the run that observed the facts; for a run stored without them, what its
        artifacts tell."""
        if run_id not in self.facts_of_run:
            run = self.store.run(run_id)
            self.facts_of_run[run_id] = run.run_facts if run is not None else None
        stored = self.facts_of_run[run_id]
        if stored is not None:
            return stored, FACTS_STORED
        ipv6 = derived_ipv6(artifacts, self.probes)
        if ipv6 is None:
            return {"ipv6": True}, FACTS_ASSUMED  # what the checks assume when not told
        return {"ipv6": ipv6}, FACTS_DERIVED


def addresses_of(dns: Artifact | None) -> list[str]:
    """The addresses a stored `dns` artifact found, in the order the runner probes and judges them."""
    return (dns.data.get("ipv4", []) + dns.data.get("ipv6", [])) if dns is not None and dns.ok else []


def derived_ipv6(artifacts: list[Artifact], per_address: dict[str, bool]) -> bool | None:
    """Whether the scanner had IPv6, from what it left: the runner records an IPv6 address it could not
    try as a `no_ipv6` artifact and tries it otherwise; the name-server probe records `ipv6_tested`. None
    when the artifacts do not tell (no IPv6 address, no name-server probe)."""
    if any(a.error == Reason.NO_IPV6 for a in artifacts):
        return False
    for artifact in artifacts:
        if artifact.probe == "nameservers" and artifact.ok and "ipv6_tested" in artifact.data:
            return bool(artifact.data["ipv6_tested"])
    if any(per_address.get(a.probe) and ":" in a.subject for a in artifacts):
        return True
    return None
