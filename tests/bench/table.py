"""The benchmark's one table, from its JSON report, so an old report can be shown again
(`python -m tests.bench.table out/bench/<timestamp>.json`, or `--markdown` for the README)."""
from __future__ import annotations

import json
import re
import sys

from rich.console import Console
from rich.table import Table


def _verdict(value, target, at_least: bool) -> str:
    if value is None or target is None:
        return ""
    met = value >= target if at_least else value <= target
    return "[green]met[/green]" if met else f"[red]missed ({value / target:.2f}× target)[/red]"


def _visit_row(r: dict, split: dict) -> tuple[str, str, str, str]:
    """Page loads per minute and CPU per page load: the browser figures per site over its page loads per site
    (contexts: a fresh browser context per consent state)."""
    costs = r["browser_costs"]
    loads = (costs.get("browser_page_loads_per_site") or costs["browser_visits_per_site"])["mean"] or 0
    if not loads:
        return ("browser page loads/min, CPU s/page load", "no visits", "", "")
    return (f"browser page loads/min, CPU s/page load ({loads} page loads and "
            f"{costs['browser_visits_per_site']['mean']} contexts per site)",
            f"{r['all_families']['sites_per_minute'] * loads:.1f}, {split['browser'] / loads:.2f}", "", "")


def _compared_row(r: dict) -> list[tuple[str, str, str, str]]:
    compared = r.get("browser_verdicts_compared")
    if not compared:
        return []
    return [(f"browser families' verdicts otherwise than {compared['before']} ({compared['sites_compared']} sites, "
             f"{compared['checks_compared']} verdicts)", f"{len(compared['differences'])}", "0",
             "[green]met[/green]" if not compared["differences"] else "[red]missed[/red]")]


def _full_rows(r: dict) -> list[tuple[str, str, str, str]]:
    t, net, everything = r["targets"], r["network"], r["all_families"]
    split, costs, store, reports = r["cpu_seconds_per_site_by_probe"], r["costs"], r["storage"], r["reports"]
    detail = r["cpu_split_detail"]
    n, s = r["sites"], r["samples"]
    peak = max(everything["peak_total_pss_mb"], net["peak_total_pss_mb"])
    hs, req, dns = costs["tls_handshakes_per_address"], costs["http_requests_per_site"], costs["dns_queries_sent_per_site"]
    return [
        (f"sites/min, network families ({n} sites)", f"{net['sites_per_minute']}", "≥ 150",
         _verdict(net["sites_per_minute"], t["network_sites_per_minute"], True)),
        (f"sites/min, all families (sample {s['browser']}; {n} sites ≈ "
         f"{everything['extrapolated_minutes_for_all_sites']} min, extrapolated)",
         f"{everything['sites_per_minute']}", "≥ 20", _verdict(everything["sites_per_minute"], t["all_sites_per_minute"], True)),
        ("CPU s/site, network families (scanner process tree)", f"{net['cpu_seconds_per_site']}", "≤ 0.8",
         _verdict(net["cpu_seconds_per_site"], t["network_cpu_seconds_per_site"], False)),
        ("CPU s/site, all families (scanner + Chromium + node)", f"{everything['cpu_seconds_per_site']}", "", ""),
        (f"CPU s/site per probe: dns / http / tls (each alone, sample {s['split']}, less "
         f"{detail['startup_cpu_seconds']} s start-up)",
         f"{split['dns']} / {split['http']} / {split['tls']}", "", ""),
        ("CPU s/site: browser (Chromium+node processes + scanner side by difference)",
         f"{split['browser']} ({detail['browser_processes_cpu_per_site']} + {detail['browser_scanner_side_cpu_per_site']})",
         "≤ 3", _verdict(split["browser"], t.get("browser_cpu_seconds_per_site"), False)),
        _visit_row(r, split),
        *_compared_row(r),
        ("CPU s/address, tls probe's own thread counter", f"{detail['tls_probe_own_counter_cpu_per_address']}", "", ""),
        ("peak memory MB: scanner RSS / browser RSS sum / browser PSS sum",
         f"{everything['peak_rss_mb']:.0f} / {everything['peak_descendants_rss_mb']:.0f} / "
         f"{everything['peak_descendants_pss_mb']:.0f}", "", ""),
        ("peak memory MB, scanner + browser (PSS, same moment)", f"{peak:.0f}", "< 2048",
         _verdict(peak, t["peak_memory_mb"], False)),
        ("TLS handshakes per address (tls probe + http probe), mean / max", f"{hs['mean']} / {hs['max']}", "≤ 60",
         _verdict(hs["max"], t["tls_handshakes_per_address"], False)),
        ("HTTP requests per site outside the browser, mean / max", f"{req['mean']} / {req['max']}", "≤ 25",
         _verdict(req["max"], t["http_requests_per_site"], False)),
        ("DNS queries sent per site, mean / max", f"{dns['mean']} / {dns['max']}", "", ""),
        (f"DB KB/site after 1 run / after 31 nightly runs (sample {store['sites']}, all families)",
         f"{store['kb_per_site_after_first_run']} / {store['kb_per_site_after_last_run']}", "", ""),
        ("DB KB/site after the network run (all sites, real scan)", f"{net['db_kb_per_site']}", "", ""),
        ("trend report, 342 municipalities, 365 nights, weekly points (s)", f"{reports['trend_report_weekly_seconds']}",
         "", ""),
        (f"municipality + province maps, {reports['standards'] + 1} standards (s)", f"{reports['maps_seconds']}", "", ""),
    ]


def _peer_rows(r: dict) -> list[tuple[str, str, str, str]]:
    runs, ratios, t = r["runs"], r["ratios"], r["targets"]
    rows = [("sites compared (every k-th of the lab's list), client namespace, resolver",
             f"{r['sites']}, {r['namespace']}, {r['resolver']}", "", "")]
    rows += [(f"{name}: sites/min, CPU s/site, TCP connections/site, UDP datagrams/site",
             f"{m['sites_per_minute']}, {m['cpu_seconds_per_site']}, {m['tcp_connections_per_site']}, "
             f"{m['udp_datagrams_per_site']}", "", "") for name, m in runs.items()]
    rows += [
        ("pshtt results: domains / live / valid HTTPS / HSTS",
         " / ".join(str(v) for v in r["pshtt_results"].values()), "", ""),
        ("sslyze results: servers / completed", " / ".join(str(v) for v in r["sslyze_results"].values()), "", ""),
        ("throughput ratio HTTPS: govscan / pshtt", f"{ratios['https_vs_pshtt']}", "", ""),
        ("throughput ratio TLS: govscan / sslyze", f"{ratios['tls_vs_sslyze']}", "", ""),
        ("throughput ratio both: govscan / (pshtt + sslyze)", f"{ratios['both_vs_pshtt_plus_sslyze']}", "≥ 3",
         _verdict(ratios["both_vs_pshtt_plus_sslyze"], t["peer_ratio"], True)),
        ("CPU ratio both: (pshtt + sslyze) / govscan", f"{ratios['cpu_both_vs_pshtt_plus_sslyze']}", "", ""),
    ]
    return rows + _browser_peer_rows(r["browser"]) if "browser" in r else rows


def _browser_peer_rows(b: dict) -> list[tuple[str, str, str, str]]:
    """govscan's browser families beside pa11y-ci and Lighthouse (tests/bench/peers/browser.py)."""
    pa11y, axe_lh, cookies, ratios = b["pa11y_ci"], b["lighthouse_accessibility"], \
        b["lighthouse_third_party_cookies"], b["ratios"]
    versions = ", ".join(f"{k} {v}" for k, v in b["versions"].items())
    rows = [(f"browser peers: sites (every k-th of the lab's list), pages govscan's axe tested; {versions}",
             f"{b['sites']}, {b['pages_tested_by_govscan_axe']}", "", "")]
    rows += [(f"{name}: sites/min, CPU s/site (process tree, Chromium included), peak memory MB (PSS)",
              f"{m['sites_per_minute']}, {m['cpu_seconds_per_site']}, {m['peak_memory_mb']}", "", "")
             for name, m in b["runs"].items()]

    def found(label: str, compared: dict, unit: str, per: str, ours: str, theirs: str) -> tuple:
        unexplained = sum(d["why"] == "unexplained" for d in compared["differences"])
        return (f"{label}: {unit} ({compared[per]} compared), govscan / peer; differences (unexplained)",
                f"{compared[unit.replace(' ', '_')][ours]} / {compared[unit.replace(' ', '_')][theirs]}; "
                f"{len(compared['differences'])} ({unexplained})", "", "")

    rows += [
        found("pa11y-ci vs govscan a11y", pa11y, "violations per page", "pages_compared", "govscan", "peer"),
        ("pa11y-ci: violations per page in govscan's scope (WCAG 2.0/2.1 A/AA), govscan / peer",
         f"{pa11y['violations_per_page_in_govscan_scope']['govscan']} / "
         f"{pa11y['violations_per_page_in_govscan_scope']['peer']}", "", ""),
        found("Lighthouse accessibility vs govscan a11y, front pages", axe_lh, "violations per page", "pages_compared",
              "govscan", "peer"),
        found("Lighthouse third-party-cookies vs govscan privacy, front pages", cookies,
              "third party cookies per site", "sites_compared", "govscan", "lighthouse"),
        ("pages a peer could not test: pa11y-ci / Lighthouse",
         f"{len(pa11y['pages_the_peer_could_not_test'])} / {len(axe_lh['pages_the_peer_could_not_test'])}", "", ""),
        ("throughput ratio: govscan a11y / pa11y-ci; CPU ratio pa11y-ci / govscan a11y",
         f"{ratios['throughput_a11y_vs_pa11y_ci']}; {ratios['cpu_pa11y_ci_vs_a11y']}", "", ""),
        ("throughput ratio: govscan privacy / Lighthouse; CPU ratio Lighthouse / govscan privacy",
         f"{ratios['throughput_privacy_vs_lighthouse']}; {ratios['cpu_lighthouse_vs_privacy']}", "", ""),
        ("throughput ratio: govscan browser families / Lighthouse; CPU ratio Lighthouse / govscan",
         f"{ratios['throughput_browser_vs_lighthouse']}; {ratios['cpu_lighthouse_vs_browser']}", "", ""),
    ]
    return rows


def _workers_rows(r: dict) -> list[tuple[str, str, str, str]]:
    rows = []
    for name, m in r["modes"].items():
        label = "one process" if not m["workers"] else f"{m['workers']} worker process(es) × {m['concurrency_per_worker']}"
        overhead = "" if not m["workers"] else f"{100 * m['overhead_per_site']:+.1f}% / {100 * m['cpu_overhead_per_site']:+.1f}%"
        verdict = _verdict(m["overhead_per_site"], r["targets"]["workers_overhead_per_site"], False) if m["workers"] else ""
        rows.append((f"{label}: sites/min, CPU s/site; overhead per site, wall / CPU",
                     f"{m['sites_per_minute']}, {m['cpu_seconds_per_site']}; {overhead or '(baseline)'}",
                     "" if not m["workers"] else "< +10% wall", verdict))
    distributed = [m for m in r["modes"].values() if m["workers"]]
    rows.append((f"sites judged otherwise than by one process ({' / '.join(str(m['workers']) for m in distributed)} "
                 f"workers, of {r['sites']})",
                 " / ".join(str(m["sites_judged_otherwise_than_single"]) for m in distributed), "0", ""))
    rates = r["store_rate"]["sites_per_second"]
    rows += [(f"PostgreSQL writes, Store.record_site, {n.replace('_', ' ')}: sites/s first run / unchanged run",
              f"{v['first_run']} / {v['unchanged_run']}", "", "") for n, v in rates.items()]
    return rows


def _rows(report: dict) -> list[tuple[str, str, str, str]]:
    return {"peers": _peer_rows, "workers": _workers_rows}.get(report["mode"], _full_rows)(report)


def render(console: Console, report: dict) -> None:
    machine = report["machine"]
    title = (f"govscan benchmark {report['date']} commit {report['commit'][:10]}"
             f"{' (+%d uncommitted files)' % report['dirty_files'] if report['dirty_files'] else ''}\n"
             f"{machine['cpu_count']} × {machine['cpu_model']}, {machine['memory_gb']} GB, load average "
             f"{machine['load_average_at_start'][0]:.1f} at start; lab up {report['lab_up_seconds']} s; "
             f"bench {report['bench_seconds']} s")
    table = Table(title=title, title_justify="left")
    for heading, justify in (("measure", "left"), ("value", "right"), ("target", "right"), ("", "left")):
        table.add_column(heading, justify=justify)
    rows = _rows(report)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    if report["mode"] == "full":
        console.print("CPU per probe: each family scanned alone over the sample (the pass's process tree less "
                      "the command's start-up, so each includes the address lookup and storing); the browser's "
                      "from the run with every family: Chromium and node as sampled from /proc, plus the "
                      "scanner's extra CPU over the network-only run.")
    if report["mode"] == "peers" and "browser" in report:
        for line in differences(report["browser"]):
            console.print(line, markup=False, highlight=False)


def differences(browser: dict) -> list[str]:
    """What govscan and a browser peer found otherwise on the same page, one line per rule or cookie, with the
    reason (tests/bench/peers/browser.py), grouped so a rule found on many pages for one reason is one line."""
    grouped: dict[tuple, list[str]] = {}
    for peer, key in (("pa11y-ci", "pa11y_ci"), ("Lighthouse", "lighthouse_accessibility"),
                      ("Lighthouse", "lighthouse_third_party_cookies")):
        for d in browser[key]["differences"]:
            what = d.get("rule") or "third-party cookie " + "@".join(d["cookie"])
            found_by = "govscan" if d["found_by"] == "govscan" else peer
            grouped.setdefault((peer, what, found_by, d["why"]), []).append(d.get("page") or d["site"])
    return [f"difference with {peer}: {what} found only by {found_by} on {len(where)} page(s) "
            f"(e.g. {where[0]}): {why}" for (peer, what, found_by, why), where in sorted(grouped.items())]


def markdown(report: dict) -> str:
    """The same rows as a Markdown table, for the README."""
    rows = _rows(report)
    lines = ["| measure | value | target | |", "|---|---:|---:|---|"]
    for measure, value, target, verdict in rows:
        verdict = re.sub(r"\[/?\w+\]", "", verdict)
        lines.append(f"| {measure} | {value} | {target} | {verdict} |")
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[-1]) as fh:
        loaded = json.load(fh)
    print(markdown(loaded)) if "--markdown" in sys.argv else render(Console(), loaded)
