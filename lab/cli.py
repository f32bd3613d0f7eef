"""The `govscan lab ...` commands (up, status, verify, generate, down). `scanner/cli.py` hands them the rest
of the command line (`main`) and imports this module only then: the lab is part of the checkout, not of the
installed package. They manage the lab itself, so they neither need nor use the scanner's store."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from govscan.model import say

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _up(ctx, args) -> int:
    from lab import commands

    commands.up(args.scenario, echo=lambda line: ctx.err.print(line, markup=False, highlight=False))
    return EXIT_OK


def _down(ctx, args) -> int:
    from lab import commands

    commands.down(echo=lambda line: ctx.err.print(line, markup=False, highlight=False))
    return EXIT_OK


def _status(ctx, args) -> int:
    from lab import commands

    status = commands.status()
    if args.json:
        print(json.dumps(status, indent=2))
    elif not status["running"]:
        ctx.out.print("lab: not running" + (f" (state in {status['state_dir']})" if "scenario" in status else ""))
    else:
        ctx.out.print(f"lab: running scenario {status['scenario_name']} ({status['scenario']})\n"
                      f"sites: {len(status['sites'])} (list: {status['sites_file']})\n"
                      f"resolver: {status['resolver']['ipv4']}, {status['resolver']['ipv6']}\n"
                      f"trust anchor: {status['trust_anchor']}\nCA bundle: {status['ca_bundle']}\n"
                      f"scanner config: {status['scanner_config']} (use: govscan --lab ...)\n"
                      f"without IPv6: {' '.join(status['nov6_exec'])} COMMAND", markup=False, highlight=False)
    return EXIT_OK if status["running"] else EXIT_FAIL


def _verify(ctx, args) -> int:
    from lab import verify

    def progress(p) -> None:
        label = " (no IPv6)" if args.without_ipv6 else ""
        ctx.err.print(f"verify{label}: {p.done}/{p.total} sites scanned", markup=False, highlight=False)

    outcome = verify.run(args.scenario, args.checks, without_ipv6=args.without_ipv6, lang=ctx.lang,
                         on_progress=progress)
    if args.json:
        print(json.dumps(outcome.to_json(), indent=2, ensure_ascii=False))
    else:
        verify.render(outcome, ctx.out)
    return EXIT_FAIL if outcome.mismatches else EXIT_OK


def _generate(ctx, args) -> int:
    from lab.generate import generate

    text = generate(args.count, args.seed)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        ctx.err.print(f"wrote {args.count} sites to {args.out}", markup=False, highlight=False)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _run(handler):
    """Lab and scenario errors are the user's to fix: a message and exit status 2, no traceback."""

    def run(ctx, args) -> int:
        from lab.commands import LabError
        from lab.net import NetError
        from lab.scenario import ScenarioError

        try:
            return handler(ctx, args)
        except ScenarioError as exc:
            ctx.err.print(str(exc), markup=False, highlight=False)
            ctx.err.print(f"{len(exc.errors)} error(s) in the scenario; nothing was started.", markup=False)
            return EXIT_USAGE
        except (LabError, NetError) as exc:
            ctx.err.print(f"govscan lab: {exc}", markup=False, highlight=False)
            return EXIT_USAGE

    return run


def main(ctx, argv: list[str]) -> int:
    """Run `govscan lab ARGV` with the command line's context (consoles, language)."""
    args = build_parser(ctx.lang).parse_args(argv)
    return args.func(ctx, args)


def build_parser(lang: str) -> argparse.ArgumentParser:
    """The `govscan lab` parser, with its help in `lang`."""
    lab = argparse.ArgumentParser(prog="govscan lab",
                                  description=say(lang, "het lab: een afgesloten internet van testsites",
                                                        "the lab: a closed internet of test sites"))
    sub = lab.add_subparsers(dest="lab_command", metavar="COMMAND", required=True)
    scenario_help = say(lang, "scenariobestand (standaard lab/scenarios/default.yaml)",
                              "scenario file (default lab/scenarios/default.yaml)")

    up = sub.add_parser("up", help=say(lang, "bouw en start het lab", "build and start the lab"))
    up.add_argument("--scenario", metavar="FILE", help=scenario_help)
    up.set_defaults(func=_run(_up))

    status = sub.add_parser("status", help=say(lang, "wat een client van het lab nodig heeft", "what a client needs"))
    status.add_argument("--json", action="store_true", help=say(lang, "als JSON", "as JSON"))
    status.set_defaults(func=_run(_status))

    verify = sub.add_parser("verify", help=say(lang, "scan de sites van het lab en vergelijk met het scenario",
                                                     "scan the lab's sites and compare with the scenario"))
    verify.add_argument("--scenario", metavar="FILE",
                        help=say(lang, "scenario (standaard dat van het draaiende lab)",
                                       "scenario (default the running lab's)"))
    verify.add_argument("--checks", metavar="PATTERNS",
                        help=say(lang, "alleen deze controles, bijv. 'web.tls.*,dns.dnssec'",
                                       "only these checks, e.g. 'web.tls.*,dns.dnssec'"))
    verify.add_argument("--json", action="store_true",
                        help=say(lang, "de vergelijking als JSON", "the comparison as JSON"))
    verify.add_argument("--without-ipv6", action="store_true",
                        help=say(lang, "vergelijk expect_without_ipv6 (voor gebruik in de naamruimte zonder IPv6)",
                                       "compare expect_without_ipv6 (run inside the namespace without IPv6)"))
    verify.set_defaults(func=_run(_verify))

    generate = sub.add_parser("generate", help=say(lang, "schrijf een scenario van N sites",
                                                         "write a scenario of N sites"))
    generate.add_argument("count", type=int, metavar="N")
    generate.add_argument("--out", metavar="FILE",
                          help=say(lang, "bestand (standaard stdout)", "file (default stdout)"))
    generate.add_argument("--seed", type=int, default=1,
                          help=say(lang, "startwaarde (standaard 1)", "seed (default 1)"))
    generate.set_defaults(func=_run(_generate))

    down = sub.add_parser("down", help=say(lang, "stop het lab en ruim alles op",
                                                 "stop the lab and remove everything"))
    down.set_defaults(func=_run(_down))
    return lab
