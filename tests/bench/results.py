"""What a benchmark scan left in its database, read back: the scan's results per site (for the storage
growth simulation) and the costs the probes recorded in their artifacts (handshakes, requests, queries,
browser contexts and page loads)."""
from __future__ import annotations

from statistics import mean

from sqlalchemy import select

from scanner.probes import all_probes
from govscan.model import SiteResult
from storage.models import ArtifactRow, FindingRow, SiteRow
from storage.store import Store


def load_results(db_path) -> list[SiteResult]:
    """Every site of the database with its current findings and artifacts, as the runner handed them out."""
    per_address = {name for name, probe in all_probes().items() if probe.per_address}
    store = Store(str(db_path))
    try:
        with store.session() as session:
            sites = {row.id: row.to_model() for row in session.scalars(select(SiteRow))}
            results = {site_id: SiteResult(site, {}, {}, [], 0.0) for site_id, site in sites.items()}
            for row in session.scalars(select(ArtifactRow).where(ArtifactRow.valid_until.is_(None))):
                result = results[row.site_id]
                if row.probe in per_address:
                    result.address_artifacts.setdefault(row.subject, {})[row.probe] = row.to_model()
                else:
                    result.site_artifacts[row.probe] = row.to_model()
            for row in session.scalars(select(FindingRow).where(FindingRow.valid_until.is_(None))):
                results[row.site_id].findings.append(row.to_model())
    finally:
        store.close()
    return sorted(results.values(), key=lambda r: r.site.host)


def _stats(values: list[float]) -> dict:
    return {"mean": round(mean(values), 2), "max": max(values), "n": len(values)} if values else \
        {"mean": None, "max": None, "n": 0}


def costs(results: list[SiteResult]) -> dict:
    """Per address and per site, from the artifacts: TLS handshakes of the tls probe (plus the http probe's
    own handshake on 443), HTTP requests of the http probe, DNS queries of the DNS probes, browser visits."""
    handshakes, tls_cpu, requests, queries, asked, visits, browser_requests = [], [], [], [], [], [], []
    page_loads = []
    for result in results:
        site_requests = 0
        for artifacts in result.address_artifacts.values():
            tls, http = artifacts.get("tls"), artifacts.get("http")
            if tls is not None and tls.ok:
                handshakes.append(tls.data["handshakes"] + (1 if http and http.ok and "tls" in http.data else 0))
                tls_cpu.append(tls.data.get("cpu_seconds", 0.0))
            if http is not None and http.ok:
                site_requests += http.data.get("requests", 0)
        if any("http" in a for a in result.address_artifacts.values()):
            requests.append(site_requests)
        sent = lookups = 0
        for name, artifact in result.site_artifacts.items():
            if not artifact.ok:
                continue
            if name == "dns":  # A and AAAA, asked again without validation when the zone is bogus
                sent += 2 if artifact.data.get("validated", True) else 4
                lookups += 2 if artifact.data.get("validated", True) else 4
            tally = artifact.data.get("queries")
            if isinstance(tally, dict):
                sent += tally.get("sent", 0) + artifact.data.get("direct_queries", 0)
                lookups += tally.get("asked", 0) + artifact.data.get("direct_queries", 0)
        if "dns" in result.site_artifacts:
            queries.append(sent)
            asked.append(lookups)
        browser = result.site_artifacts.get("browser")
        if browser is not None and browser.ok:
            visits.append(browser.data.get("browser_visits", 0))
            page_loads.append(browser.data.get("page_loads", browser.data.get("browser_visits", 0)))
            browser_requests.append(sum(len(v.get("requests", [])) for v in browser.data.get("visits", [])))
    return {
        "tls_handshakes_per_address": _stats(handshakes),
        "tls_probe_cpu_seconds_per_address": _stats(tls_cpu),
        "http_requests_per_site": _stats(requests),
        "dns_queries_sent_per_site": _stats(queries),
        "dns_lookups_per_site": _stats(asked),
        "browser_visits_per_site": _stats(visits),
        "browser_page_loads_per_site": _stats(page_loads),
        "browser_requests_per_site": _stats(browser_requests),
    }
