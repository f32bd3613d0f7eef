"""The browser peers of `make bench ARGS=--peers`: pa11y-ci (axe runner) and Lighthouse beside govscan's
browser families, on the same lab sites, with the same process accounting (tests/bench/measure.py: the whole
process tree, node and every Chromium process included).

- govscan runs three times over the sample: the accessibility family alone (`a11y.*`), the privacy family alone
  (`privacy.*`), and both browser families together.
- pa11y-ci tests the pages govscan's axe-core tested (front page and sampled subpages of each site), read from
  the artifacts the `a11y.*` run stored, so both judge the same URLs; Lighthouse loads the front pages (the
  sites' URLs), its accessibility and best-practices categories, one Lighthouse process per page as its command
  line is used.
- Same browser, same conditions: the machine's Chromium with govscan's own flags
  (scanner/probes/browser.CHROMIUM_FLAGS: headless, no sandbox, Chromium's own services kept off the network),
  the lab's CA trusted through an NSS database in the peers' $HOME (`import_ca_bundle`, as govscan's browser
  does), names resolved in the lab's client namespace by the resolver `peers.namespace_resolver` names
  (govscan's browser asks the same resolver through its SOCKS proxy). Nothing downloads a browser
  (PUPPETEER_SKIP_DOWNLOAD, PUPPETEER_EXECUTABLE_PATH, CHROME_PATH; `npm ci --ignore-scripts`).
- Lighthouse's "Uses third-party cookies" audit lists only the cookies Chromium raises a third-party-cookie
  *phase-out* issue for; Chromium 156 raises none by default (the doubleclick cookie a lab page sets is not
  listed), so Lighthouse's Chromium gets `--test-third-party-cookie-phaseout`, with which it lists them.
- axe-core is overridden to govscan's pinned version in both peers (tests/bench/peers/npm/package.json), so a
  difference in violations is one of pages, frames, rule selection or timing, not of rule versions. Each
  difference is listed with the reason `explain_*` can tell from the data; "unexplained" ones need a look.

The peers are installed by the benchmark into .bench-peers-npm/ (gitignored) from the pinned package.json and
package-lock.json in tests/bench/peers/npm/, never into the project's node_modules.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from scanner.domains import registrable_domain
from scanner.probes.browser import AXE_TAGS, CHROMIUM_FLAGS, import_ca_bundle
from tests.bench import measure
from tests.bench.results import load_results

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
NPM_DIR = REPO / ".bench-peers-npm"
PINS = HERE / "npm"
CHROMIUM = "/usr/bin/chromium"
PACKAGES = ("pa11y-ci", "pa11y", "lighthouse", "axe-core", "puppeteer")
# Lighthouse's third-party-cookies audit sees cookies only through Chromium's phase-out issues (docstring).
LIGHTHOUSE_FLAGS = [*CHROMIUM_FLAGS, "--test-third-party-cookie-phaseout"]
PAGE_TIMEOUT_MS = 45000  # govscan's [browser] visit_timeout


def ensure_npm(echo) -> dict[str, str]:
    """.bench-peers-npm with the pinned peers (npm ci from the lock file, no install scripts: puppeteer's
    would download a browser); returns the installed versions."""
    pins = [PINS / "package.json", PINS / "package-lock.json"]
    wanted = hashlib.sha256(b"".join(p.read_bytes() for p in pins)).hexdigest()
    marker = NPM_DIR / ".installed"
    if not (marker.exists() and marker.read_text() == wanted):
        if not shutil.which("npm"):
            raise RuntimeError("npm is needed for the browser peers (apt-get install nodejs npm)")
        echo(f"installing the browser peers into {NPM_DIR}")
        NPM_DIR.mkdir(exist_ok=True)
        for pin in pins:
            shutil.copy(pin, NPM_DIR / pin.name)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--silent"], cwd=NPM_DIR,
                       env=node_env(None), check=True)
        marker.write_text(wanted)
    return {name: json.loads((NPM_DIR / "node_modules" / name / "package.json").read_text())["version"]
            for name in PACKAGES}


def node_env(home: Path | None) -> dict[str, str]:
    env = dict(os.environ, PUPPETEER_SKIP_DOWNLOAD="1", PUPPETEER_EXECUTABLE_PATH=CHROMIUM, CHROME_PATH=CHROMIUM)
    if home is not None:
        env["HOME"] = str(home)
    return env


def axe_rule_tags() -> dict[str, list[str]]:
    """Every axe-core rule's tags, from the peers' axe-core (the same version govscan injects)."""
    script = "const a=require('axe-core');console.log(JSON.stringify(Object.fromEntries(a.getRules().map(r=>[r.ruleId,r.tags]))))"
    out = subprocess.run(["node", "-e", script], cwd=NPM_DIR, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


# --- what each tool found -------------------------------------------------------------------------------

def govscan_axe_pages(db: Path) -> dict[str, dict]:
    """Per page govscan's axe-core tested: the violated rules in any frame, those in the top document, the
    rules it lists as needing review, and the site's host."""
    pages = {}
    for result in load_results(db):
        browser = result.site_artifacts.get("browser")
        if browser is None or not browser.ok:
            continue
        for page in browser.data.get("axe", {}).get("pages", []):
            frames = [f for f in page.get("frames", []) if "error" not in f]
            if not frames:
                continue
            pages[page["url"]] = {
                "site": result.site.host,
                "violations": sorted({v["id"] for f in frames for v in f.get("violations", [])}),
                "top_document": sorted({v["id"] for f in frames if f["url"] == page["url"]
                                        for v in f.get("violations", [])}),
                "needs_review": sorted({v["id"] for f in frames for v in f.get("incomplete", [])}),
            }
    return pages


def govscan_front_cookies(db: Path) -> dict[str, dict]:
    """Per site (its URL, as scanned): the third-party cookies (name, registrable domain) in the jar after the
    front page without interaction, and those after any page of that state (the sampled subpages)."""
    found = {}
    for result in load_results(db):
        browser = result.site_artifacts.get("browser")
        if browser is None or not browser.ok:
            continue
        records = [v for v in browser.data.get("visits", []) if v["state"] == "none"]

        def third_party(record: dict) -> list[list[str]]:
            return sorted({(c["name"], registrable_domain(c["domain"])) for c in record["cookies"] if c["third_party"]})

        found[result.site.url] = {"front_page": [list(c) for c in third_party(records[0])] if records else [],
                                  "any_page": sorted({tuple(c) for r in records for c in third_party(r)})}
    return found


def parse_pa11y(report: dict) -> dict[str, dict]:
    """pa11y-ci's JSON report as violations per page: the axe rules with a violation (pa11y's "error",
    "warning" and "notice" are axe's impacts; `needsFurtherReview` marks axe's incomplete results), or the
    error that kept pa11y from testing the page."""
    pages = {}
    for url, issues in report.get("results", {}).items():
        page = {"violations": set(), "needs_review": set(), "error": None}
        for issue in issues:
            if "code" not in issue:  # pa11y-ci reports a page it could not test as an issue with a message only
                page["error"] = str(issue.get("message", "failed"))[:300]
                continue
            review = (issue.get("runnerExtras") or {}).get("needsFurtherReview", False)
            page["needs_review" if review else "violations"].add(issue["code"])
        pages[url] = {key: sorted(value) if isinstance(value, set) else value for key, value in page.items()}
    return pages


def parse_lighthouse(report: dict) -> dict:
    """One Lighthouse JSON report: the failed audits of the accessibility category (each named after its axe
    rule), the category's audit ids, and the third-party cookies (name, registrable domain of the URL that set
    it) of the "Uses third-party cookies" audit."""
    audits = report.get("audits", {})
    category = report.get("categories", {}).get("accessibility", {})
    in_category = [ref["id"] for ref in category.get("auditRefs", [])]
    cookies = (audits.get("third-party-cookies", {}).get("details") or {}).get("items", [])
    error = report.get("runtimeError", {}).get("code") if report.get("runtimeError") else None
    return {
        "url": report.get("requestedUrl"),
        "final_url": report.get("finalDisplayedUrl") or report.get("finalUrl"),
        "error": error,
        "axe_version": (report.get("environment", {}).get("credits") or {}).get("axe-core"),
        "violations": sorted(a for a in in_category if (audits.get(a) or {}).get("score") == 0
                             and audits[a].get("scoreDisplayMode") == "binary"),
        "audits_in_category": in_category,
        "third_party_cookies": sorted([c["name"], registrable_domain(urlsplit(c["url"]).hostname or "")]
                                      for c in cookies if c.get("name")),
    }


# --- differences, and why ------------------------------------------------------------------------------

def in_govscan_scope(rule: str, tags: dict[str, list[str]]) -> bool:
    return bool(set(tags.get(rule, [])) & set(AXE_TAGS))


def explain_axe(page: str, ours: dict, theirs: dict, tags: dict[str, list[str]],
                peer_rules: list[str] | None = None) -> list[dict]:
    """Every rule one side found violated on `page` and the other not, with the reason the data shows.
    `peer_rules`: the rules the peer runs at all (Lighthouse's accessibility category), None for all of axe."""
    differences = []
    for rule in sorted(set(theirs["violations"]) - set(ours["violations"])):
        if not in_govscan_scope(rule, tags):
            why = "deliberate: axe best-practice rule, not WCAG 2.0/2.1 A/AA (govscan runs only those tags)"
        elif rule in ours["needs_review"]:
            why = "govscan's axe listed it as needs review (incomplete) on its visit"
        else:
            why = "unexplained"
        differences.append({"page": page, "rule": rule, "found_by": "peer", "why": why})
    for rule in sorted(set(ours["violations"]) - set(theirs["violations"])):
        if peer_rules is not None and rule not in peer_rules:
            why = "deliberate: the rule is not in Lighthouse's accessibility category"
        elif rule not in ours["top_document"]:
            why = "deliberate: only in a frame; govscan runs axe in every frame, the peer in the top document"
        elif rule in theirs.get("needs_review", []):
            why = "the peer's axe listed it as needs review (incomplete)"
        else:
            why = "unexplained"
        differences.append({"page": page, "rule": rule, "found_by": "govscan", "why": why})
    return differences


def compare_axe(ours: dict[str, dict], theirs: dict[str, dict], tags: dict[str, list[str]],
                peer_rules: dict[str, list[str]] | None = None) -> dict:
    """govscan's and a peer's violations on the pages both tested; pages the peer could not test apart."""
    both = sorted(url for url in ours if url in theirs and not theirs[url].get("error"))
    differences = [d for url in both
                   for d in explain_axe(url, ours[url], theirs[url], tags, (peer_rules or {}).get(url))]
    return {
        "pages_compared": len(both),
        "pages_the_peer_could_not_test": {url: theirs[url]["error"] for url in ours
                                          if url in theirs and theirs[url].get("error")},
        "pages_missing_from_peer": sorted(url for url in ours if url not in theirs),
        "violations_per_page": {"govscan": _mean(len(ours[u]["violations"]) for u in both),
                                "peer": _mean(len(theirs[u]["violations"]) for u in both)},
        "violations_per_page_in_govscan_scope": {
            "govscan": _mean(len(ours[u]["violations"]) for u in both),
            "peer": _mean(sum(in_govscan_scope(r, tags) for r in theirs[u]["violations"]) for u in both)},
        "differences": differences,
    }


def compare_cookies(ours: dict[str, dict], theirs: dict[str, dict]) -> dict:
    """Third-party cookies on the front page: govscan's privacy run against Lighthouse's audit, per site."""
    both = sorted(url for url in ours if url in theirs and not theirs[url].get("error"))
    differences = []
    for url in both:
        mine = {tuple(c) for c in ours[url]["front_page"]}
        peer = {tuple(c) for c in theirs[url]["third_party_cookies"]}
        for cookie in sorted(peer - mine):
            differences.append({"site": url, "cookie": list(cookie), "found_by": "peer", "why": "unexplained"})
        for cookie in sorted(mine - peer):
            differences.append({"site": url, "cookie": list(cookie), "found_by": "govscan", "why": "unexplained"})
    return {"sites_compared": len(both),
            "third_party_cookies_per_site": {"govscan": _mean(len(ours[u]["front_page"]) for u in both),
                                             "lighthouse": _mean(len(theirs[u]["third_party_cookies"]) for u in both)},
            "differences": differences}


def _mean(values) -> float | None:
    values = list(values)
    return round(sum(values) / len(values), 2) if values else None


# --- the runs -----------------------------------------------------------------------------------------

def peer_home(workdir: Path, ca_bundle: str) -> Path:
    """The peers' $HOME: an NSS database trusting the lab's CA, as govscan's browser has in its own."""
    home = workdir / "peer-home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    import_ca_bundle(home, Path(ca_bundle))
    return home


def pa11y_config(urls: list[str], report: Path) -> dict:
    """pa11y-ci with the axe runner at WCAG2AA, every impact kept (pa11y drops warnings and notices by
    default), one page at a time (pa11y-ci's default; with 2, puppeteer 24.43 on Chromium 156 lost every second
    page with "Protocol error (Target.closeTarget)"), govscan's page timeout and Chromium flags."""
    return {"defaults": {"runners": ["axe"], "standard": "WCAG2AA", "includeWarnings": True,
                         "includeNotices": True, "timeout": PAGE_TIMEOUT_MS, "concurrency": 1,
                         "chromeLaunchConfig": {"executablePath": CHROMIUM,
                                                "args": [f for f in CHROMIUM_FLAGS if f != "--headless"]},
                         "reporters": ["cli", ["json", {"fileName": str(report)}]]},
            "urls": urls}


def lighthouse_argv(netns: str, urls: list[str], outdir: Path) -> list[str]:
    """One measured command: Lighthouse's command line once per front page, one after the other (each starts
    and stops its own Chromium, as Lighthouse is run), desktop form factor (govscan visits as a desktop
    browser), accessibility and best-practices categories."""
    lighthouse = NPM_DIR / "node_modules" / ".bin" / "lighthouse"
    loop = ('n=0; for url in "$@"; do n=$((n+1)); "$LIGHTHOUSE" "$url" --quiet --preset=desktop '
            '--only-categories=accessibility,best-practices --output=json --output-path="$OUT/lighthouse-$n.json" '
            f'--max-wait-for-load={PAGE_TIMEOUT_MS} --chrome-flags="$FLAGS" || echo "lighthouse failed: $url"; done')
    return ["ip", "netns", "exec", netns, "env", f"LIGHTHOUSE={lighthouse}", f"OUT={outdir}",
            f"FLAGS={' '.join(LIGHTHOUSE_FLAGS)}", "sh", "-c", loop, "sh", *urls]


def compare(workdir: Path, sites_file: Path, status: dict, bench, attempt) -> dict:
    """govscan's browser families and the browser peers over the sites of `sites_file`, inside the namespace
    whose resolver `peers.compare` has set; `attempt(name, command)` runs one measured command again when the
    lab was replaced meanwhile."""
    from tests.bench.run import check_patterns

    versions = ensure_npm(bench.echo)
    netns = status["nov6_netns"]
    home = peer_home(workdir, status["ca_bundle"])
    env = node_env(home)
    fronts = [line.split(",")[-1].strip() for line in sites_file.read_text().splitlines()[1:]]
    runs = {
        "govscan_a11y": lambda: bench.scan("peer-govscan-a11y", sites_file, "a11y.*", netns)[0],
        "govscan_privacy": lambda: bench.scan("peer-govscan-privacy", sites_file, "privacy.*", netns)[0],
        "govscan_browser": lambda: bench.scan("peer-govscan-browser", sites_file, check_patterns({"browser"}),
                                              netns)[0],
    }
    measured = {name: attempt(name, command) for name, command in runs.items()}
    ours = govscan_axe_pages(workdir / "peer-govscan-a11y.db")
    config = workdir / "pa11y-ci.json"
    report = workdir / "pa11y-ci-report.json"
    config.write_text(json.dumps(pa11y_config(sorted(ours), report), indent=1))
    pa11y_ci = NPM_DIR / "node_modules" / ".bin" / "pa11y-ci"

    def run_pa11y() -> measure.Measurement:
        report.unlink(missing_ok=True)
        return measure.run(["ip", "netns", "exec", netns, str(pa11y_ci), "--config", str(config)],
                           log=workdir / "pa11y-ci.log", env=env)

    outdir = workdir / "lighthouse"

    def run_lighthouse() -> measure.Measurement:
        shutil.rmtree(outdir, ignore_errors=True)
        outdir.mkdir()
        return measure.run(lighthouse_argv(netns, fronts, outdir), log=workdir / "lighthouse.log", env=env)

    measured["pa11y_ci"] = attempt("pa11y_ci", run_pa11y)
    measured["lighthouse"] = attempt("lighthouse", run_lighthouse)

    pa11y = parse_pa11y(json.loads(report.read_text())) if report.exists() else {}
    lighthouse = {}
    for path in sorted(outdir.glob("lighthouse-*.json")):
        parsed = parse_lighthouse(json.loads(path.read_text()))
        lighthouse[parsed["url"]] = parsed
    lighthouse.update({url: {"error": "no report", "violations": [], "third_party_cookies": []}
                       for url in fronts if url not in lighthouse})
    tags = axe_rule_tags()
    front_pages = {}  # govscan's front page per site URL: the first axe page of the site
    for url, page in ours.items():
        site_url = next((f for f in fronts if urlsplit(f).hostname == page["site"]), None)
        if site_url and site_url not in front_pages:
            front_pages[site_url] = page
    cookies = govscan_front_cookies(workdir / "peer-govscan-privacy.db")
    sites = len(fronts)

    def figures(m: measure.Measurement) -> dict:
        return {"sites_per_minute": round(60 * sites / m.seconds, 2), "cpu_seconds_per_site": round(m.cpu_total / sites, 2),
                "peak_memory_mb": round(m.peak_total_pss_mb), **m.to_json()}

    def ratio(peer: str, ours_: str, key: str) -> float:
        mine, theirs = getattr(measured[ours_], key), getattr(measured[peer], key)
        return round(theirs / max(mine, 0.001), 2)

    return {
        "sites": sites,
        "pages_tested_by_govscan_axe": len(ours),
        "runs": {name: figures(m) for name, m in measured.items()},
        "pa11y_ci": compare_axe(ours, pa11y, tags),
        "lighthouse_accessibility": compare_axe(
            front_pages, {u: lighthouse[u] for u in front_pages if u in lighthouse}, tags,
            {u: lighthouse[u].get("audits_in_category", []) for u in front_pages if u in lighthouse}),
        "lighthouse_third_party_cookies": compare_cookies(cookies, lighthouse),
        "lighthouse_axe_version": next((p.get("axe_version") for p in lighthouse.values() if p.get("axe_version")), None),
        "ratios": {  # govscan / peer for throughput (the peer's time over govscan's), peer / govscan for CPU
            "throughput_a11y_vs_pa11y_ci": ratio("pa11y_ci", "govscan_a11y", "seconds"),
            "cpu_pa11y_ci_vs_a11y": ratio("pa11y_ci", "govscan_a11y", "cpu_total"),
            "throughput_privacy_vs_lighthouse": ratio("lighthouse", "govscan_privacy", "seconds"),
            "cpu_lighthouse_vs_privacy": ratio("lighthouse", "govscan_privacy", "cpu_total"),
            "throughput_browser_vs_lighthouse": ratio("lighthouse", "govscan_browser", "seconds"),
            "cpu_lighthouse_vs_browser": ratio("lighthouse", "govscan_browser", "cpu_total"),
        },
        "versions": versions,
        "settings": {"pa11y_ci": {k: v for k, v in pa11y_config([], report)["defaults"].items() if k != "reporters"},
                     "lighthouse_chrome_flags": LIGHTHOUSE_FLAGS},
    }
