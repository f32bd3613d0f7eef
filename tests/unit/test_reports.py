"""Reports show what the caller's catalogue says about each check (title, level, family, advice), and a check
missing from it by its id: they never look the checks up themselves."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

from rich.console import Console

from govscan.model import CheckInfo, Finding, Status, Text, say
from reports import console, json_report, run_report
from reports.site_report import SiteReport
from storage.models import FindingRow, RunRow, SiteRow

HSTS = CheckInfo("web.https.hsts", 1, "required", "https", "Testnorm HSTS", Text("Nep-HSTS", "Fake HSTS"),
                 Text("Zet HSTS aan.", "Turn HSTS on."))
CATALOGUE = {HSTS.id: HSTS}
STARTED = datetime(2026, 3, 1, 2, 0)


def finding(check: str = HSTS.id, summary: Text = Text("HSTS te kort.", "HSTS too short.")) -> Finding:
    return Finding("www.example.nl", check, Status.FAIL, summary, {"header": "max-age=60"}, "Testnorm HSTS", 1)


def stored(check: str = HSTS.id) -> FindingRow:
    return FindingRow(site=SiteRow(host="www.example.nl", url="https://www.example.nl/"), check_id=check,
                      status="fail", reason=None, summary_nl="HSTS te kort.", summary_en="HSTS too short.",
                      details={"header": "max-age=60"}, addresses=[], norm="Testnorm HSTS", check_version=1,
                      first_seen=STARTED, last_seen=STARTED)


def run() -> RunRow:
    return RunRow(id=7, kind="batch", state="finished", started=STARTED, finished=STARTED, tool_version="0.1",
                  config_hash="abc", checks="", source="sites.csv", sites_total=1, sites_done=1, sites_failing=1,
                  sites_error=0)


def test_site_report_json_takes_title_level_and_advice_from_the_catalogue():
    report = SiteReport("https://www.example.nl/", "www.example.nl", [finding(), finding("web.gone.check")])
    hsts, gone = json_report.site(report, CATALOGUE)["findings"]
    assert (hsts["family"], hsts["level"]) == ("https", "required")
    assert hsts["title"] == {"nl": "Nep-HSTS", "en": "Fake HSTS"}
    assert hsts["advice"] == {"nl": "Zet HSTS aan.", "en": "Turn HSTS on."}
    assert (gone["family"], gone["level"], gone["title"], gone["advice"]) == ("gone", None, None, None)


def test_run_report_shows_levels_and_families_from_the_catalogue():
    html = run_report.render_html(run(), [stored()], CATALOGUE, "en")
    assert "<td>required</td>" in html and "HSTS too short." in html
    out = io.StringIO()
    run_report.write_csv(out, run(), [stored()], CATALOGUE)
    row = list(csv.DictReader(io.StringIO(out.getvalue())))[0]
    assert (row["check"], row["family"], row["level"]) == ("web.https.hsts", "https", "required")
    assert row["first_seen"] == row["last_seen"] == "2026-03-01T02:00:00Z"  # stored naive UTC, exported with its zone


def test_one_way_to_choose_a_language_dutch_unless_english():
    text = Text("hallo", "hello")
    assert [text.get("en"), text.get("nl"), text.get("de"), text.get(None)] == ["hello", "hallo", "hallo", "hallo"]
    assert say("en", "hallo", "hello") == "hello" and say("fr", "hallo", "hello") == "hallo"
    assert stored().summary.get("en") == "HSTS too short."  # stored rows give their summary as a Text


HOSTILE = "[bold red]pwned[/] \x1b[2J\x1b]0;title\x07 :warning: \x9b31m"


def printed(render) -> str:
    out = io.StringIO()
    render(Console(file=out, force_terminal=True, width=300, highlight=False, emoji=False))
    return out.getvalue()


def test_console_site_report_shows_titles_and_advice_from_the_catalogue():
    report = SiteReport("https://www.example.nl/", "www.example.nl", [finding()], {"ipv4": ["192.0.2.1"]})
    text = unstyled(printed(lambda out: console.site_report(out, report, CATALOGUE, "en")))
    assert "Fake HSTS  web.https.hsts [required]" in text
    assert "Norm: Testnorm HSTS" in text and "How to fix: Turn HSTS on." in text


def test_console_prints_a_hostile_summary_as_itself_without_control_characters():
    report = SiteReport("https://www.example.nl/", "www.example.nl", [finding(summary=Text(HOSTILE, HOSTILE))])
    hostile_row = stored()
    hostile_row.summary_nl = hostile_row.summary_en = HOSTILE
    hostile_run = run()
    hostile_run.source = HOSTILE
    for render in (lambda out: console.site_report(out, report, CATALOGUE, "nl"),
                   lambda out: console.history(out, "www.example.nl", [hostile_row], "nl"),
                   lambda out: console.runs(out, [hostile_run], "nl"),
                   lambda out: console.settings(out, [("scan.user_agent", HOSTILE, "default")], "nl")):
        text = unstyled(printed(render))
        assert "[bold red]pwned[/]" in text and ":warning:" in text, text  # neither markup nor emoji codes
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", text), text  # only rich's own styles are escapes
        assert "\\x1b[2J" in text or "\\u001b[2J" in text  # shown, not obeyed


def unstyled(rendered: str) -> str:
    """The printed text without the styles rich itself adds (SGR sequences: ESC [ ... m)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", rendered)


def test_json_output_escapes_every_control_character_and_still_parses(capsys):
    console.print_json({"summary": HOSTILE})
    out = capsys.readouterr().out
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", out)
    assert json.loads(out) == {"summary": HOSTILE}


def test_csv_cells_that_a_spreadsheet_would_run_as_a_formula_are_quoted():
    hostile = stored()
    hostile.site = SiteRow(host="www.example.nl", url="https://www.example.nl/")
    hostile.summary_en = "=HYPERLINK(\"http://evil.example/\",\"mx\")"
    hostile.summary_nl = "@SUM(1+1)"
    hostile.details = {"mx": "-cmd"}
    out = io.StringIO()
    run_report.write_csv(out, run(), [hostile], CATALOGUE)
    row = list(csv.DictReader(io.StringIO(out.getvalue())))[0]
    assert row["summary_en"] == "'=HYPERLINK(\"http://evil.example/\",\"mx\")"
    assert row["summary_nl"] == "'@SUM(1+1)"
    assert row["run"] == "7" and row["details"] == '{"mx": "-cmd"}'  # a JSON cell starts with {: left alone


def test_every_start_a_spreadsheet_reads_as_a_formula_is_neutralised():
    from reports.export import spreadsheet_safe

    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert spreadsheet_safe(f"{start}1+1") == f"'{start}1+1"
    assert spreadsheet_safe("www.example.nl") == "www.example.nl" and spreadsheet_safe(-3) == -3


def test_organisations_whose_codes_share_a_slug_get_pages_of_their_own():
    from reports.publish import page_names

    names = page_names(["AB.1", "ab-1", "GM9901"])
    assert names["GM9901"] == "gm9901"
    assert len({names["AB.1"], names["ab-1"]}) == 2 and all(n.startswith("ab-1-") for n in (names["AB.1"], names["ab-1"]))
