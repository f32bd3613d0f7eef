"""The `govscan` command line: check one site, scan a list, judge stored facts again, list runs, write run
reports, explain failures (comply or explain).

Every command stores what it scans (SQLite by default, `--db URL` for another database) and can be pointed
at the lab with `--lab`. Texts for people are Dutch unless `--lang en` is given. Exit status: 0 when the
command ran (whatever the verdicts), 2 on a usage or configuration error, 1 on an internal error.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import traceback
from functools import cached_property
from pathlib import Path

from rich.console import Console

import govscan
from checks.registry import Check, all_checks, select
from govscan import paths
from govscan.model import Site, SiteResult, say
from reports import console, json_report
from reports.console import safe
from reports.site_report import ScanSummary, SiteReport
from scanner import config as config_module
from scanner import targets
from scanner.probes.browser import BrowserSetupError

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """A mistake of the user (bad target, no such run, no matching check): exit status 2, no traceback."""


def _early_lang(argv: list[str]) -> str:
    """The language asked for, looked up before parsing so the help text is in it too."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return "nl"


class Context:
    """What every command needs, created on first use: settings, the store, consoles, the language."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.out = console.console()
        self.err = console.console(stderr=True)

    @cached_property
    def settings(self) -> config_module.Settings:
        overrides = {"storage": {"database_url": self.args.db}} if self.args.db else None
        return config_module.load(self.args.config, lab=self.args.lab, overrides=overrides)

    @cached_property
    def lang(self) -> str:
        return self.args.lang or self.settings.scan.lang

    @cached_property
    def store(self):
        """The store, opened as it is: commands that only read it (runs, history, report, publish) never
        change it."""
        from storage.store import DatabaseError, Store

        try:
            return Store.open(self.settings)
        except DatabaseError as exc:
            raise UsageError(say(self.lang, f"kan de database niet openen: {exc}",
                                            f"cannot open the database: {exc}")) from None

    def recover_interrupted(self) -> None:
        """Mark the runs whose process is gone (killed, crashed) interrupted, so their sites can be scanned
        again: an explicit step of the commands that start a run (check, scan, schedule)."""
        interrupted = self.store.mark_interrupted()
        if interrupted:
            self.err.print(say(self.lang, f"Onderbroken run(s) gemarkeerd: {', '.join(map(str, interrupted))}",
                                          f"Marked interrupted run(s): {', '.join(map(str, interrupted))}"))

    def checks(self, patterns: str | None) -> list[Check]:
        chosen = select(patterns)
        if not chosen:
            raise UsageError(say(self.lang, f"geen controle past bij {patterns!r}", f"no check matches {patterns!r}"))
        return chosen

    def scan(self, kind: str, sites: list[Site], patterns: str | None, source: str,
             on_progress=None, distributed: bool = False) -> tuple[int, list[SiteResult] | None]:
        """Run the checks matching `patterns` over the sites, storing each site as it finishes; `distributed`:
        by the workers (scanner/workers.py), the results read back from the store for a JSON report only (the
        text summary counts the stored statuses). Returns the run id and the results (None then)."""
        from storage.store import settings_hash

        self.checks(patterns)  # no matching check is a usage error, before a run is started

        from scanner.scheduler import WorkSettings, execute

        self.recover_interrupted()
        store = self.store
        run_id = store.start_run(kind, sites, checks=patterns or "", source=source,
                                 config_hash=settings_hash(self.settings))
        try:
            if distributed:
                from scanner import workers

                workers.coordinate(store, self.settings, run_id, on_progress=on_progress)
                if self.args.format != "json":  # the text summary counts the stored statuses (cmd_scan)
                    return run_id, None
                return run_id, workers.results(store, run_id, with_addresses=True)
            # All sites in one batch (one progress bar); a site another run is scanning is waited for.
            results = execute(store, self.settings, run_id, WorkSettings(batch=len(sites)),
                              on_progress=on_progress)
        except BaseException:
            store.mark_interrupted(run_id)
            raise
        return run_id, results


# --- commands ---

def cmd_check(ctx: Context, args) -> int:
    try:
        site = targets.parse_target(args.target)
    except targets.RefusedTarget as exc:
        raise UsageError(f"{args.target}: {exc.text.get(ctx.lang)}") from None
    run_id, results = ctx.scan("on-demand", [site], args.checks, source=f"check {site.host}")
    report = SiteReport.of(results[0], run_id)
    if args.format == "json":
        console.print_json(json_report.check(ctx.store.run(run_id), report, all_checks()))
    else:
        console.site_report(ctx.out, report, all_checks(), ctx.lang)
    send_notices(ctx, run_id)
    return EXIT_OK


def load_sites(ctx: Context, spec: str) -> tuple[list[Site], str]:
    """The sites of `--sites`: a file, or `lab` for the running lab's list. Bad rows are reported and skipped."""
    if spec == "lab":
        lab = ctx.settings.extra.get("lab", {})
        if not lab.get("sites_file"):
            raise UsageError(say(ctx.lang, "de lab-configuratie noemt geen [lab] sites_file",
                                           "the lab configuration has no [lab] sites_file"))
        spec = lab["sites_file"]
    try:
        sites, problems = targets.load(spec)
    except targets.TargetsError as exc:
        raise UsageError(str(exc)) from None
    for problem in problems:
        ctx.err.print(f"[yellow]{safe(problem)}[/yellow]")
    if problems:
        ctx.err.print(say(ctx.lang, f"{len(problems)} regel(s) overgeslagen; {len(sites)} site(s) worden gescand.",
                                    f"{len(problems)} row(s) skipped; {len(sites)} site(s) will be scanned."))
    if not sites:
        raise UsageError(say(ctx.lang, f"{spec}: geen sites om te scannen", f"{spec}: no sites to scan"))
    return sites, spec


def cmd_scan(ctx: Context, args) -> int:
    from storage.store import masked

    if args.distributed:
        need_workers_extra(ctx)
    sites, source = load_sites(ctx, args.sites)
    ctx.checks(args.checks)  # a usage error before the progress bar starts
    started = time.monotonic()
    with console.scan_progress(ctx.err, len(sites), ctx.lang) as on_progress:
        run_id, results = ctx.scan("batch", sites, args.checks, source=str(source), on_progress=on_progress,
                                   distributed=args.distributed)
    if results is None:  # a distributed run shown as text: no finding read back whole
        summary = ScanSummary.counted(run_id, ctx.store.statuses_for_run(run_id).values(), time.monotonic() - started)
    else:
        summary = ScanSummary.of(run_id, results, time.monotonic() - started)
    if args.format == "json":
        reports = [SiteReport.of(result) for result in sorted(results, key=lambda r: r.site.host)]
        console.print_json(json_report.scan(ctx.store.run(run_id), summary, reports, all_checks()))
    else:
        console.scan_summary(ctx.out, summary, masked(ctx.store.url), ctx.lang)
    if args.out:  # the note where it went stays out of the JSON
        write_run_report(ctx, run_id, Path(args.out), ctx.err if args.format == "json" else ctx.out)
    send_notices(ctx, run_id)
    return EXIT_OK


def send_notices(ctx: Context, run_id: int) -> None:
    """After a run is stored and shown: the subscribers' digests (scanner/notify.py), which never change the
    command's result; a failed delivery is said on stderr and kept for the next run."""
    from scanner import notify

    counts = notify.after_run(ctx.store, ctx.settings, run_id)
    if counts["sent"] or counts["failed"]:
        ctx.err.print(say(ctx.lang, f"Meldingen: {counts['sent']} verstuurd, {counts['failed']} mislukt "
                                    "(volgende run opnieuw)" if counts["failed"] else
                                    f"Meldingen: {counts['sent']} verstuurd",
                                    f"Notices: {counts['sent']} sent, {counts['failed']} failed (tried again "
                                    "next run)" if counts["failed"] else f"Notices: {counts['sent']} sent"))


def need_workers_extra(ctx: Context) -> None:
    """Distributed runs need Celery: a usage error, not a traceback, when the extra is not installed."""
    import importlib.util

    if importlib.util.find_spec("celery") is None:
        raise UsageError(say(ctx.lang, "verdeelde scans hebben Celery nodig: pip install 'govscan[workers]'",
                                       "distributed scans need Celery: pip install 'govscan[workers]'"))


def cmd_worker(ctx: Context, args) -> int:
    """`govscan worker`: scan the sites of distributed runs from the broker's queues (docs/workers.md)."""
    need_workers_extra(ctx)
    from scanner import workers

    ctx.store  # a database that cannot be opened is a usage error before the worker starts
    return workers.serve(ctx.settings, args.families, args.concurrency or ctx.settings.scan.sites_in_flight)


def import_rio(ctx: Context, args) -> int:
    """Keep a copy of a RIO export in the data directory for domain.rio, after reading it as the check will."""
    import shutil

    from scanner.probes.register import load_rio_export

    domains = load_rio_export(Path(args.file))  # ConfigError (exit 2) when unreadable or without a domain column
    if not domains:
        raise UsageError(say(ctx.lang, f"{args.file}: geen domeinen", f"{args.file}: no domains"))
    target = Path(args.out) if args.out else paths.user_data(config_module.RIO_EXPORT)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.file, target)
    ctx.out.print(say(ctx.lang, f"{len(domains)} domeinen uit de RIO-export in {safe(target)}",
                                f"{len(domains)} domains of the RIO export in {safe(target)}"))
    return EXIT_OK


def cmd_import(ctx: Context, args) -> int:
    """Refresh policy data: the cookie database (an Open Cookie Database CSV) or the tracker filter list
    (EasyPrivacy or another list in its syntax), checked and put in the data directory in place of the shipped
    copy, govscan's own rows staying on top (docs/browser.md); the RIO export."""
    if args.kind == "rio":
        return import_rio(ctx, args)
    from checks import cookie_policy

    importer, name = {"cookies": (cookie_policy.import_open_cookie_database, cookie_policy.COOKIES),
                      "trackers": (cookie_policy.import_filter_list, cookie_policy.TRACKERS)}[args.kind]
    target = Path(args.out) if args.out else paths.user_data(name)
    try:
        source = Path(args.file).read_text(encoding="utf-8")
        base = target if target.exists() else paths.data_file(name)  # to count what is new
        text, added = importer(source, base.read_text(encoding="utf-8"))
    except (OSError, cookie_policy.PolicyFileError) as exc:
        raise UsageError(f"{args.file}: {exc}") from None
    cookie_policy.write_imported(target, text)
    ctx.out.print(say(ctx.lang, f"{safe(target)} geschreven, {added} nieuwe regel(s)",
                                f"{safe(target)} written, {added} new row(s)"))
    return EXIT_OK


def workers_answering(settings) -> list[str]:
    """The workers that answer a ping through the broker within a second (Celery's own heartbeat): the
    workers alive, busy or idle. Empty when the broker cannot be reached."""
    from scanner import workers

    try:
        return [name for reply in workers.configure(settings).control.ping(timeout=1.0) for name in reply]
    except Exception:  # the broker is away (kombu's errors vary by transport): no worker can be reached
        return []


def cmd_runs(ctx: Context, args) -> int:
    runs = ctx.store.runs(args.limit)
    if args.format == "json":
        console.print_json(json_report.runs(runs))
        return EXIT_OK
    from storage import work

    distributed = [run.id for run in runs if run.state == "running" and work.is_split(ctx.store, run.id)]
    answering = None
    if distributed and importlib.util.find_spec("celery"):
        answering = workers_answering(ctx.settings)
    console.runs(ctx.out, runs, ctx.lang, ctx.store.now(), work.workers_at_work(ctx.store, distributed), answering)
    return EXIT_OK


def parse_since(text: str, lang: str):
    """`--since`: a date (from its start) or a date and time, in UTC unless it names its zone."""
    from datetime import datetime

    from storage.store import as_utc

    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        raise UsageError(say(lang, f"--since {text}: geen datum (JJJJ-MM-DD of ISO 8601)",
                                   f"--since {text}: not a date (YYYY-MM-DD or ISO 8601)")) from None


def cmd_reevaluate(ctx: Context, args) -> int:
    """Judge the stored facts of a run's sites (or of every site scanned since a date) by the current rules,
    without scanning; stored as a run of kind `reevaluation`."""
    from scanner.reevaluate import NothingToReevaluate, reevaluate

    ctx.checks(args.checks)
    since = parse_since(args.since, ctx.lang) if args.since else None
    ctx.recover_interrupted()
    try:
        result = reevaluate(ctx.store, ctx.settings, args.checks, run_id=args.run, since=since)
    except NothingToReevaluate as exc:
        raise UsageError(exc.text.get(ctx.lang)) from None
    if args.format == "json":
        console.print_json(json_report.reevaluation(result))
    else:
        console.reevaluation(ctx.out, result, ctx.lang)
    return EXIT_OK


def write_run_report(ctx: Context, run_id: int, out: Path, note: Console) -> None:
    from reports.run_report import write
    from storage.explanations import holding_for

    run = ctx.store.run(run_id)
    findings = ctx.store.findings_for_run(run_id)
    explanations = holding_for(ctx.store, [f.id for f in findings], ctx.store.now())
    html_path, csv_path = write(run, findings, out, all_checks(), ctx.lang, explanations)
    note.print(say(ctx.lang, f"Rapport van run {run_id}: {safe(html_path)} en {safe(csv_path)}",
                             f"Report of run {run_id}: {safe(html_path)} and {safe(csv_path)}"))


def cmd_report_run(ctx: Context, args) -> int:
    run = ctx.store.run(args.run)
    if run is None:
        raise UsageError(say(ctx.lang, f"run {args.run} bestaat niet", f"no run {args.run}") if args.run
                         else say(ctx.lang, "er zijn nog geen runs", "there are no runs yet"))
    write_run_report(ctx, run.id, Path(args.out or f"govscan-run-{run.id}"), ctx.out)
    return EXIT_OK


def cmd_schedule(ctx: Context, args) -> int:
    """Nightly and other scheduled runs: in the foreground until stopped, or `--once` for what is due now."""
    import signal
    import threading

    from scanner import scheduler

    schedules = scheduler.load_schedules(args.schedules)
    ctx.recover_interrupted()
    if args.once:
        done = scheduler.run_due(ctx.store, ctx.settings, schedules, only=args.only)
        ctx.out.print(say(ctx.lang, f"Run(s) uitgevoerd: {', '.join(map(str, done))}" if done else "Niets te doen.",
                                    f"Run(s) done: {', '.join(map(str, done))}" if done else "Nothing due."))
        return EXIT_OK
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    options = {"config": ctx.args.config, "lab": ctx.args.lab, "db": ctx.args.db, "schedules": args.schedules}
    ctx.err.print(say(ctx.lang, "Planner draait; stop met Ctrl-C.", "Scheduler running; stop with Ctrl-C."))
    scheduler.serve(ctx.store, ctx.settings, schedules, options, stop)
    return EXIT_OK


def cmd_history(ctx: Context, args) -> int:
    """When each check of a site changed status (or evidence), oldest first, and its explanations: when each
    was recorded and until when it held, or since when and why it no longer does."""
    try:
        host = targets.parse_target(args.site).host
    except targets.RefusedTarget as exc:
        raise UsageError(f"{args.site}: {exc.text.get(ctx.lang)}") from None
    versions = ctx.store.history(host, args.check)
    if not versions:
        raise UsageError(say(ctx.lang, f"geen resultaten voor {host}", f"no results for {host}")
                         + (f" ({args.check})" if args.check else ""))
    from storage.explanations import site_history

    explained, now = site_history(ctx.store, host, args.check), ctx.store.now()
    if args.format == "json":
        console.print_json(json_report.history(host, versions, explained, now))
    else:
        console.history(ctx.out, host, versions, ctx.lang)
        if explained:
            console.explanations(ctx.out, explained, ctx.lang, now, say(ctx.lang, f"Uitleg bij {host}",
                                                                                 f"Explanations of {host}"))
    return EXIT_OK


def parse_expiry(text: str, lang: str):
    """`--expires`: a date (the explanation holds through that day) or a date and time (UTC unless zoned)."""
    from datetime import date, datetime

    for parse in (date.fromisoformat, datetime.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            continue
    raise UsageError(say(lang, f"--expires {text}: geen datum (JJJJ-MM-DD of ISO 8601)",
                               f"--expires {text}: not a date (YYYY-MM-DD or ISO 8601)"))


def cmd_explain(ctx: Context, args) -> int:
    """`govscan explain SITE CHECK --reason TEXT --by NAME [--expires DATE]`, `explain --list [--expired]`,
    `explain --revoke ID --by NAME`: comply or explain (storage/explanations.py). Bad input is a usage error
    and nothing is stored."""
    from reports.explained import until
    from storage import explanations as stored

    lang = ctx.lang
    recording = args.site is not None or args.check is not None
    if sum((recording, args.list, args.revoke is not None)) != 1:
        raise UsageError(say(lang, "geef SITE en CHECK, of --list, of --revoke ID",
                                   "give SITE and CHECK, or --list, or --revoke ID"))
    if args.expired and not args.list:
        raise UsageError(say(lang, "--expired hoort bij --list", "--expired goes with --list"))
    try:
        if args.list:
            now = ctx.store.now()
            rows = stored.explanations(ctx.store, ended=args.expired, at=now)
            if args.format == "json":
                console.print_json(json_report.explanations(rows, now))
            else:
                console.explanations(ctx.out, rows, lang, now, say(lang, "Beëindigde uitleg", "Ended explanations")
                                     if args.expired else say(lang, "Uitleg die geldt", "Explanations in force"))
        elif args.revoke is not None:
            explanation = stored.revoke(ctx.store, args.revoke, args.by or "")
            ctx.out.print(say(lang, f"Uitleg {explanation.id} ({safe(explanation.host)}, {safe(explanation.check)}) "
                                    "is ingetrokken.",
                                    f"Explanation {explanation.id} ({safe(explanation.host)}, "
                                    f"{safe(explanation.check)}) is revoked."))
        else:
            if args.check is None:
                raise UsageError(say(lang, "geef SITE en CHECK", "give SITE and CHECK"))
            try:
                host = targets.parse_target(args.site).host
            except targets.RefusedTarget as exc:
                raise UsageError(f"{args.site}: {exc.text.get(lang)}") from None
            if args.check not in all_checks():
                raise UsageError(say(lang, f"onbekende controle {args.check!r}", f"unknown check {args.check!r}"))
            expires = parse_expiry(args.expires, lang) if args.expires else None
            explanation = stored.record(ctx.store, host, args.check, args.reason or "", args.by or "", expires)
            ctx.out.print(say(lang, f"Uitleg {explanation.id} vastgelegd voor {safe(host)}, {safe(args.check)}, "
                                    f"tot en met {until(explanation.expires)}.",
                                    f"Explanation {explanation.id} recorded for {safe(host)}, {safe(args.check)}, "
                                    f"until {until(explanation.expires)} inclusive."))
    except stored.ExplanationRefused as exc:
        raise UsageError(exc.text.get(lang)) from None
    return EXIT_OK


def cmd_publish(ctx: Context, args) -> int:
    """The static site: index, trends, maps, organisation pages, run reports, exports."""
    from reports.publish import Options, publish

    boundaries = {kind: path for kind, path in (("gemeente", args.municipalities), ("provincie", args.provinces))
                  if path}
    index = publish(ctx.store, Path(args.out), all_checks(),
                    Options(lang=ctx.lang, boundaries=boundaries or None, lab=ctx.args.lab, months=args.months))
    ctx.out.print(say(ctx.lang, f"Site geschreven: {safe(index)}", f"Site written: {safe(index)}"))
    return EXIT_OK


def cmd_config_show(ctx: Context, args) -> int:
    """The settings in force, each with where its value came from, and the places data is read from."""
    rows = config_module.in_force(ctx.settings)
    if args.format == "json":
        console.print_json([{"key": key, "value": value, "source": source} for key, value, source in rows])
    else:
        console.settings(ctx.out, rows, ctx.lang)
    return EXIT_OK


def cmd_lab(ctx: Context, args) -> int:
    """`govscan lab ...`: the lab lives in the checkout (lab/), not in the installed package; it is imported
    only here."""
    try:
        from lab.cli import main as lab_main
    except ModuleNotFoundError:
        raise UsageError(say(
        ctx.lang,
            "het lab hoort bij de broncode van govscan (lab/), niet bij het geïnstalleerde pakket: "
            "gebruik 'make demo' of 'make test' in een checkout",
            "the lab comes with govscan's source checkout (lab/), not with the installed package: "
            "use 'make demo' or 'make test' in a checkout")) from None
    return lab_main(ctx, args.lab_args)


def cmd_serve(ctx: Context, args) -> int:
    """`govscan serve`: the web service (scanner/service), imported only here."""
    from scanner.service.app import serve

    return serve(ctx, args)


def cmd_notify(ctx: Context, args) -> int:
    """`govscan notify add|list|remove`: subscriptions to notices on change (scanner/notify.py)."""
    from scanner.notify import notify_command

    return notify_command(ctx, args)


def cmd_token(ctx: Context, args) -> int:
    """`govscan token create|list|revoke`: the batch API's tokens (scanner/service/tokens.py)."""
    from scanner.service.tokens import token_command

    return token_command(ctx, args)


# --- the parser ---

def build_parser(lang: str = "nl") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="govscan",
        description=say(lang, "Controleert websites van de overheid op de verplichte en aanbevolen standaarden.",
                              "Checks government websites against the mandatory and recommended standards."))
    parser.add_argument("--config", metavar="FILE", help=say(
        lang,
        "instellingen (TOML) bovenop de standaard; anders $GOVSCAN_CONFIG of ~/.config/govscan/settings.toml",
        "settings (TOML) on top of the defaults; else $GOVSCAN_CONFIG or ~/.config/govscan/settings.toml"))
    parser.add_argument("--lab", action="store_true",
                        help=say(lang, "gebruik de configuratie van het draaiende lab",
                                       "use the running lab's configuration"))
    parser.add_argument("--lang", choices=("nl", "en"), help=say(lang, "taal van de teksten (standaard nl)",
                                                                       "language of the texts (default nl)"))
    parser.add_argument("--db", metavar="URL", help=say(lang, "database (SQLAlchemy-URL); standaard SQLite",
                                                              "database (SQLAlchemy URL); SQLite by default"))
    parser.add_argument("--version", action="version", version=f"govscan {govscan.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    checks_help = say(lang, "alleen deze controles, bijv. 'web.https.*,dns.dnssec'",
                            "only these checks, e.g. 'web.https.*,dns.dnssec'")
    format_help = say(lang, "uitvoer: text (standaard) of json (zie docs/json.md)",
                            "output: text (default) or json (see docs/json.md)")

    check = commands.add_parser("check", help=say(lang, "controleer één site nu", "check one site now"))
    check.add_argument("target", metavar="TARGET", help=say(lang, "URL of hostnaam", "URL or host name"))
    check.add_argument("--checks", metavar="PATTERNS", help=checks_help)
    check.add_argument("--format", choices=("text", "json"), default="text", help=format_help)
    check.set_defaults(func=cmd_check)

    scan = commands.add_parser("scan", help=say(lang, "scan een lijst sites", "scan a list of sites"))
    scan.add_argument("--sites", required=True, metavar="FILE|lab",
                      help=say(lang, "CSV (organisation,type,code,url) of lijst van URL's; 'lab': de sites van het lab",
                                     "CSV (organisation,type,code,url) or list of URLs; 'lab': the lab's sites"))
    scan.add_argument("--checks", metavar="PATTERNS", help=checks_help)
    scan.add_argument("--out", metavar="DIR", help=say(lang, "schrijf ook het rapport van de run hierheen",
                                                             "also write the run's report here"))
    scan.add_argument("--format", choices=("text", "json"), default="text", help=format_help)
    scan.add_argument("--distributed", action="store_true",
                      help=say(lang, "laat de workers scannen ('govscan worker', zie docs/workers.md) en wacht",
                                     "have the workers scan ('govscan worker', see docs/workers.md) and wait"))
    scan.set_defaults(func=cmd_scan)

    worker = commands.add_parser("worker", help=say(lang, "scan sites van verdeelde runs (Celery-worker)",
                                                          "scan the sites of distributed runs (Celery worker)"))
    worker.add_argument("--families", choices=("network", "browser", "all"), default="all",
                        help=say(lang, "welke controles: network (zonder browser), browser, of all (standaard)",
                                       "which checks: network (no browser), browser, or all (default)"))
    worker.add_argument("--concurrency", type=int, metavar="N",
                        help=say(lang, "sites tegelijk (standaard [scan] sites_in_flight)",
                                       "sites at the same time (default [scan] sites_in_flight)"))
    worker.set_defaults(func=cmd_worker)

    runs = commands.add_parser("runs", help=say(lang, "toon de runs", "list the runs"))
    runs.add_argument("--limit", type=int, default=50,
                      help=say(lang, "hoeveel (standaard 50)", "how many (default 50)"))
    runs.add_argument("--format", choices=("text", "json"), default="text", help=format_help)
    runs.set_defaults(func=cmd_runs)

    reevaluate = commands.add_parser("reevaluate", help=say(
        lang, "beoordeel opgeslagen gegevens opnieuw met de huidige regels, zonder te scannen",
              "judge stored facts again under the current rules, without scanning"))
    basis = reevaluate.add_mutually_exclusive_group()
    basis.add_argument("--run", type=int, metavar="N", help=say(lang, "de sites van deze run (standaard de laatste "
                                                                      "afgeronde scan)",
                                                                "the sites of this run (default the latest "
                                                                "finished scan)"))
    basis.add_argument("--since", metavar="DATE", help=say(lang, "elke site gescand vanaf deze datum (UTC)",
                                                                 "every site scanned from this date on (UTC)"))
    reevaluate.add_argument("--checks", metavar="PATTERNS", help=checks_help)
    reevaluate.add_argument("--format", choices=("text", "json"), default="text", help=format_help)
    reevaluate.set_defaults(func=cmd_reevaluate)

    report = commands.add_parser("report", help=say(lang, "schrijf rapporten", "write reports"))
    report_kinds = report.add_subparsers(dest="report", metavar="KIND", required=True)
    report_run = report_kinds.add_parser("run", help=say(lang, "HTML- en CSV-rapport van een run",
                                                               "HTML and CSV report of a run"))
    report_run.add_argument("run", nargs="?", type=int, metavar="RUN",
                            help=say(lang, "run-id (standaard de laatste)", "run id (default the latest)"))
    report_run.add_argument("--out", metavar="DIR", help=say(lang, "map (standaard govscan-run-ID)",
                                                                   "directory (default govscan-run-ID)"))
    report_run.set_defaults(func=cmd_report_run)

    schedule = commands.add_parser("schedule", help=say(lang, "geplande runs (de nachtelijke scan)",
                                                              "scheduled runs (the nightly scan)"))
    schedule.add_argument("--once", action="store_true",
                          help=say(lang, "voer uit wat nu aan de beurt is (of onderbroken was) en stop",
                                         "run what is due now (or was interrupted) and exit"))
    schedule.add_argument("--schedules", metavar="FILE", help=say(lang, "schema's (standaard config/schedules.toml)",
                                                                        "schedules (default config/schedules.toml)"))
    schedule.add_argument("--only", metavar="NAME", help=say(lang, "alleen dit schema (met --once)",
                                                                   "only this schedule (with --once)"))
    schedule.set_defaults(func=cmd_schedule)

    history = commands.add_parser("history", help=say(lang, "wanneer de uitkomsten van een site veranderden",
                                                            "when a site's results changed"))
    history.add_argument("site", metavar="SITE", help=say(lang, "URL of hostnaam", "URL or host name"))
    history.add_argument("--check", metavar="ID", help=say(lang, "alleen deze controle", "only this check"))
    history.add_argument("--format", choices=("text", "json"), default="text", help=format_help)
    history.set_defaults(func=cmd_history)

    explain = commands.add_parser("explain", help=say(
        lang, "pas toe of leg uit: leg uit waarom een controle faalt, toon of trek uitleg in",
              "comply or explain: explain why a check fails, list or revoke explanations"))
    explain.add_argument("site", nargs="?", metavar="SITE", help=say(lang, "URL of hostnaam", "URL or host name"))
    explain.add_argument("check", nargs="?", metavar="CHECK", help=say(lang, "id van de controle", "the check's id"))
    explain.add_argument("--reason", metavar="TEXT", help=say(lang, "waarom", "why"))
    explain.add_argument("--by", metavar="NAME", help=say(lang, "wie uitlegt of intrekt", "who explains or revokes"))
    explain.add_argument("--expires", metavar="DATE",
                         help=say(lang, "geldt tot en met deze datum (standaard en uiterlijk: over een jaar)",
                                        "holds through this date (default and at most: a year from now)"))
    explain.add_argument("--list", action="store_true", help=say(lang, "toon de uitleg die geldt",
                                                                       "list the explanations in force"))
    explain.add_argument("--expired", action="store_true",
                         help=say(lang, "met --list: de beëindigde uitleg (verlopen, ingetrokken, uitkomst veranderd)",
                                        "with --list: the ended ones (expired, revoked, result changed)"))
    explain.add_argument("--revoke", type=int, metavar="ID", help=say(lang, "trek deze uitleg in",
                                                                            "revoke this explanation"))
    explain.add_argument("--format", choices=("text", "json"), default="text", help=format_help)
    explain.set_defaults(func=cmd_explain)

    publish = commands.add_parser("publish", help=say(lang, "schrijf de statische site met trends, kaarten en pagina's",
                                                            "write the static site with trends, maps and pages"))
    publish.add_argument("--out", required=True, metavar="DIR",
                         help=say(lang,
                                  "map voor de site (index.html, trends, kaarten, organisaties, runs, exports)",
                                  "directory for the site (index.html, trends, maps, organisations, runs, exports)"))
    publish.add_argument("--municipalities", metavar="GEOJSON",
                         help=say(lang, "gemeentegrenzen (statcode GM....); standaard: die van het lab met --lab, "
                                        "anders die van 2025 (CBS/PDOK) uit het pakket", "municipal boundaries (statcode GM....); "
                                        "default: the lab's with --lab, else the 2025 ones (CBS/PDOK) in the package"))
    publish.add_argument("--provinces", metavar="GEOJSON", help=say(lang, "provinciegrenzen (statcode PV..)",
                                                                          "province boundaries (statcode PV..)"))
    publish.add_argument("--months", type=int, default=6,
                         help=say(lang, "prognose op basis van de laatste N maanden (standaard 6)",
                                        "projection from the last N months (default 6)"))
    publish.set_defaults(func=cmd_publish)

    imports = commands.add_parser("import", help=say(lang, "werk beleidsgegevens bij (cookies, trackers, RIO)",
                                                           "refresh policy data (cookies, trackers, RIO)"))
    imports.add_argument("kind", choices=("cookies", "trackers", "rio"),
                         help=say(lang, "cookies: CSV van de Open Cookie Database; trackers: filterlijst (EasyPrivacy); "
                                        "rio: export van het Register Internetdomeinen Overheid",
                                        "cookies: Open Cookie Database CSV; trackers: filter list (EasyPrivacy); "
                                        "rio: export of the Register Internetdomeinen Overheid"))
    imports.add_argument("file", metavar="FILE")
    imports.add_argument("--out", metavar="FILE", help=say(lang, "schrijf hierheen in plaats van naar de datamap",
                                                                 "write here instead of the data directory"))
    imports.set_defaults(func=cmd_import)

    config = commands.add_parser("config", help=say(lang, "instellingen", "settings"))
    config_kinds = config.add_subparsers(dest="config_command", metavar="COMMAND", required=True)
    config_show = config_kinds.add_parser(
        "show", help=say(lang, "de instellingen die gelden en waar elke waarde vandaan komt",
                               "the settings in force and where each value came from"))
    config_show.add_argument("--format", choices=("text", "json"), default="text", help=format_help)
    config_show.set_defaults(func=cmd_config_show)

    serve = commands.add_parser("serve", help=say(
        lang, "de webdienst: controle op aanvraag, het dashboard en de batch-API",
              "the web service: on-demand checks, the dashboard and the batch API"))
    serve.add_argument("--host", metavar="ADDRESS", help=say(lang, "luisteradres (standaard [service] host)",
                                                                   "address to listen on (default [service] host)"))
    serve.add_argument("--port", type=int, metavar="PORT", help=say(lang, "poort (standaard [service] port)",
                                                                          "port (default [service] port)"))
    serve.set_defaults(func=cmd_serve)

    token = commands.add_parser("token", help=say(lang, "tokens voor de batch-API", "tokens for the batch API"))
    token_kinds = token.add_subparsers(dest="token_command", metavar="COMMAND", required=True)
    token_create = token_kinds.add_parser("create", help=say(lang, "maak een token (één keer getoond)",
                                                                   "create a token (shown once)"))
    token_create.add_argument("--name", required=True, metavar="NAME",
                              help=say(lang, "voor wie het token is", "who the token is for"))
    token_create.add_argument("--max-domains", type=int, metavar="N",
                              help=say(lang, "hoeveel domeinen per dag (quotum)", "how many domains per day (quota)"))
    token_create.set_defaults(func=cmd_token)
    token_list = token_kinds.add_parser("list", help=say(lang, "toon de tokens", "list the tokens"))
    token_list.add_argument("--format", choices=("text", "json"), default="text", help=format_help)
    token_list.set_defaults(func=cmd_token)
    token_revoke = token_kinds.add_parser("revoke", help=say(lang, "trek een token in", "revoke a token"))
    token_revoke.add_argument("token_id", type=int, metavar="ID")
    token_revoke.set_defaults(func=cmd_token)

    notify = commands.add_parser("notify", help=say(lang, "meldingen van wijzigingen na elke run (abonnementen)",
                                                          "notices of changes after each run (subscriptions)"))
    notify_kinds = notify.add_subparsers(dest="notify_command", metavar="COMMAND", required=True)
    notify_add = notify_kinds.add_parser("add", help=say(lang, "abonneer op de wijzigingen van een organisatie, "
                                                               "site of controles",
                                                               "subscribe to the changes of an organisation, site "
                                                               "or checks"))
    notify_add.add_argument("--org", metavar="CODE", help=say(lang, "organisatiecode, bijv. GM0363",
                                                                    "organisation code, e.g. GM0363"))
    notify_add.add_argument("--site", metavar="HOST", help=say(lang, "alleen deze site", "only this site"))
    notify_add.add_argument("--check", metavar="PATTERNS", help=checks_help)
    notify_target = notify_add.add_mutually_exclusive_group(required=True)
    notify_target.add_argument("--email", metavar="ADDRESS", help=say(lang, "e-mail via [notify] smtp_host",
                                                                            "e-mail through [notify] smtp_host"))
    notify_target.add_argument("--webhook", metavar="URL", help=say(
        lang, "JSON-POST met handtekening (X-Govscan-Signature)", "signed JSON POST (X-Govscan-Signature)"))
    notify_add.add_argument("--lang", dest="digest_lang", choices=("nl", "en"),
                            help=say(lang, "taal van de meldingen (standaard die van govscan)",
                                           "language of the notices (default govscan's)"))
    notify_add.set_defaults(func=cmd_notify)
    notify_list = notify_kinds.add_parser("list", help=say(lang, "toon de abonnementen", "list the subscriptions"))
    notify_list.add_argument("--removed", action="store_true", help=say(lang, "ook de opgezegde",
                                                                              "also the removed ones"))
    notify_list.add_argument("--format", choices=("text", "json"), default="text", help=format_help)
    notify_list.set_defaults(func=cmd_notify)
    notify_remove = notify_kinds.add_parser("remove", help=say(lang, "zeg een abonnement op",
                                                                     "remove a subscription"))
    notify_remove.add_argument("subscription_id", type=int, metavar="ID")
    notify_remove.set_defaults(func=cmd_notify)

    lab = commands.add_parser("lab", add_help=False, prefix_chars="\0",
                              help=say(lang, "het lab: een afgesloten internet van testsites (alleen in een checkout)",
                                             "the lab: a closed internet of test sites (in a checkout only)"))
    lab.add_argument("lab_args", nargs=argparse.REMAINDER)
    lab.set_defaults(func=cmd_lab)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_early_lang(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    if getattr(args, "sites", None) == "lab":
        args.lab = True  # the lab's sites can only be reached through the lab's resolver
    ctx = Context(args)
    try:
        return args.func(ctx, args)
    except (UsageError, config_module.ConfigError) as exc:
        ctx.err.print(f"govscan: {safe(exc)}")
        return EXIT_USAGE
    except BrowserSetupError as exc:  # e.g. the third-party cookie canary failed: no results, no false passes
        ctx.err.print(f"govscan: browser: {safe(exc)}")
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        ctx.err.print(say(args.lang, "onderbroken", "interrupted"))
        return EXIT_INTERRUPTED
    except Exception:
        traceback.print_exc()
        ctx.err.print(say(args.lang, "govscan: interne fout (zie hierboven)", "govscan: internal error (see above)"))
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
