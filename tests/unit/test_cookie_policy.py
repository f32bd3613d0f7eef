"""The cookie classification (Open Cookie Database with govscan's rows on top), the tracker hosts (a filter
list with govscan's list on top), the shipped copies and their importers."""
import hashlib
import re

import pytest

from checks.cookie_policy import (COOKIES, DATABASE, GOVSCAN, TRACKERS, CookieClassification,
                                  PolicyFileError, TrackerLists, cookie_classification, import_filter_list,
                                  import_open_cookie_database, parse_cookie_rules, parse_filter_list,
                                  parse_tracker_overrides, tracker_lists)
from govscan import paths

HEADER = ("ID,Platform,Category,Cookie / Data Key name,Domain,Description,Retention period,Data Controller,"
          "User Privacy & GDPR Rights Portals,Wildcard match\n")

# Rows in the Open Cookie Database's own format (hand-written, not copied from the database).
DATABASE_ROWS = HEADER + """1,Example Social,Marketing,sid,social.example (3rd party),Login,1 year,Example Social,,0
2,Example Ads,Marketing,exad_,,Ad id,1 year,Example,,1
3,Example Ads,Marketing,EXT_*_uid,.ads.example,Partner id,1 year,Example,,0
4,Example Stats,Analytics,exstat,,Stats,1 year,Example Stats Inc,,0
5,Example Stats,Analytics,exstat_long,,Stats,1 year,Example Stats Inc,,1
6,Example Pixel,Marketing,px,pixel.example (3rd party) or ,Pixel id,1 year,Example,,0
7,Example Shop,Functional,cart[items],,Cart,session,Example,,0
8,Example Grid,Marketing,grid,.a.example (3rd party) or .b.example (3rd party),Id,1 year,Example,,0
"""
OVERRIDE_ROWS = "# version: 2099.1\n" + HEADER + """,Example Framework,Functional,sid,,Session,,Website operator,,0
,Example Stats,Analytics,exstat,,Self-hosted,,Website operator,,1
"""


def classification(database: str = DATABASE_ROWS, overrides: str = OVERRIDE_ROWS) -> CookieClassification:
    rules = parse_cookie_rules(overrides, GOVSCAN) + parse_cookie_rules(database, DATABASE)
    return CookieClassification(tuple(rules), {})


def test_the_shipped_database_and_filter_list_are_the_copies_their_source_notes_name():
    for name in (COOKIES, TRACKERS):
        shipped = paths.package_data(name)
        note = (shipped.parent / "SOURCE.md").read_text()
        assert hashlib.sha256(shipped.read_bytes()).hexdigest() in re.sub(r"\s+", "", note)
        assert (shipped.parent / "LICENSE").is_file()
    assert "Apache License" in paths.package_data("open-cookie-database", "LICENSE").read_text()
    assert "GNU GENERAL PUBLIC LICENSE" in paths.package_data("tracker-filters", "LICENSE").read_text()


def test_shipped_classification_is_versioned_and_knows_the_marketing_cookies_of_the_database():
    shipped = cookie_classification()
    assert shipped.versions == {"cookie_overrides": "2026.2", "cookie_database": "2026-01-21 (commit 0ee5a17fe1cb)"}
    for name, platform in (("__qca", "Quantcast"), ("_scid", "Snapchat"), ("_rdt_uuid", "Reddit"),
                           ("_lfa", "Leadfeeder")):
        rule = shipped.rule_for(name, "www.gemeente.nl")
        assert (rule.platform, rule.category, rule.source) == (platform, "marketing", DATABASE)


def test_shipped_classification_tells_instagrams_sessionid_from_a_first_party_one():
    shipped = cookie_classification()
    instagram = shipped.rule_for("sessionid", ".instagram.com")
    own = shipped.rule_for("sessionid", "www.gemeente.nl")
    assert (instagram.platform, instagram.category, instagram.domains) == ("Instagram", "marketing", ("instagram.com",))
    assert (own.platform, own.category, own.source) == ("Django", "functional", GOVSCAN)


def test_shipped_overrides_keep_govscans_verdicts():
    shipped = cookie_classification()
    matomo = shipped.rule_for("_pk_id.1.ab12", "www.gemeente.nl")  # the database's Piwik row `_pk_id.` is longer
    assert (matomo.platform, matomo.controller, matomo.source) == ("Matomo", "Website operator", GOVSCAN)
    assert shipped.rule_for("IDE", ".doubleclick.net").platform == "DoubleClick"
    assert shipped.rule_for("IDE", "www.gemeente.nl") is None  # IDE is DoubleClick's only on doubleclick.net
    assert shipped.rule_for("no_such_cookie", "www.gemeente.nl") is None


def test_exact_prefix_and_wildcard_names():
    rules = classification()
    assert rules.rule_for("exad_123", "www.gemeente.nl").platform == "Example Ads"
    assert rules.rule_for("exad", "www.gemeente.nl") is None
    assert rules.rule_for("EXT_42_uid", "x.ads.example").name == "EXT_*_uid"
    assert rules.rule_for("EXT_42_uidx", "x.ads.example") is None
    assert rules.rule_for("cart[items]", "www.gemeente.nl").platform == "Example Shop"  # brackets are literal
    assert rules.rule_for("carti", "www.gemeente.nl") is None


def test_a_row_with_a_domain_matches_only_cookies_on_that_domain_and_wins_there():
    rules = classification()
    for domain in ("social.example", ".social.example", "www.social.example"):
        assert rules.rule_for("sid", domain).platform == "Example Social"
    assert rules.rule_for("sid", "www.gemeente.nl").platform == "Example Framework"
    assert rules.rule_for("sid", "notsocial.example").platform == "Example Framework"
    assert rules.rule_for("grid", ".b.example").platform == "Example Grid"  # one of several domains
    assert rules.rule_for("grid", "www.gemeente.nl") is None
    assert rules.rule_for("px", "www.gemeente.nl").platform == "Example Pixel"  # "x (3rd party) or ": anywhere


def test_govscans_row_wins_over_the_databases_and_an_exact_name_over_a_prefix():
    rules = classification()
    stat = rules.rule_for("exstat", "www.gemeente.nl")
    assert (stat.source, stat.controller) == (DATABASE, "Example Stats Inc")  # exact before govscan's prefix
    assert rules.rule_for("exstat_longer", "www.gemeente.nl").source == GOVSCAN  # both prefixes: govscan's
    assert rules.rule_for("exstatx", "www.gemeente.nl").source == GOVSCAN


def test_bad_rows_and_other_files_are_reported():
    with pytest.raises(PolicyFileError, match="row 2"):
        parse_cookie_rules(HEADER + "1,P,Marketing,x,,d,r,c,,2\n")
    with pytest.raises(PolicyFileError, match="row 2"):
        parse_cookie_rules(HEADER + "1,P,Marketing,,,d,r,c,,0\n")
    with pytest.raises(PolicyFileError, match="Open Cookie Database"):
        parse_cookie_rules("name,match,platform\n_ga,exact,Google\n")


def test_shipped_tracker_lists_are_versioned_and_govscans_list_decides_first():
    shipped = tracker_lists()
    assert shipped.versions["tracker_overrides"] == "2026.2"
    assert shipped.versions["tracker_filters"].startswith("EasyPrivacy")
    assert shipped.tracker_for("www.google-analytics.com") == {"tracker": "google-analytics.com", "list": GOVSCAN}
    assert shipped.tracker_for("tr.snapchat.com") == {"tracker": "tr.snapchat.com", "list": "filter-list"}
    assert shipped.tracker_for("siteimproveanalytics.com") is None  # EasyPrivacy lists it; govscan's @@ wins
    assert shipped.tracker_for("www.gemeente.nl", third_party=False) is None


def test_filter_list_whole_host_rules_third_party_only_and_exceptions():
    filters = parse_filter_list("\n".join([
        "[Adblock Plus 1.1]", "! EasyPrivacy", "||stats.example.com^", "||pixel.example.net^$third-party",
        "||example.org/track.js", "||img.example^$image", "||site.example^$domain=a.com", "##.ad-banner",
        "||cdn.example^", "@@||ok.cdn.example^", "@@||partly.example^$script"]))
    lists = TrackerLists((parse_tracker_overrides("@@stats.example.com\n"), filters), {})
    assert set(filters.blocks) == {"stats.example.com", "pixel.example.net", "cdn.example"}
    assert lists.tracker_for("a.pixel.example.net", third_party=True)["tracker"] == "pixel.example.net"
    assert lists.tracker_for("a.pixel.example.net", third_party=False) is None
    assert lists.tracker_for("x.cdn.example")["tracker"] == "cdn.example"
    assert lists.tracker_for("ok.cdn.example") is None and lists.tracker_for("x.ok.cdn.example") is None
    assert lists.tracker_for("stats.example.com") is None  # govscan's exception
    assert lists.tracker_for("example.org") is None and lists.tracker_for("img.example") is None


def test_tracker_overrides_name_a_bad_line():
    assert parse_tracker_overrides("# comment\nhotjar.com\n@@matomo.cloud\n").blocks == {"hotjar.com": False}
    with pytest.raises(PolicyFileError, match="line 2"):
        parse_tracker_overrides("hotjar.com\n||hotjar.com^\n")


def test_imports_check_the_file_and_count_what_is_new():
    text, added = import_open_cookie_database(DATABASE_ROWS, HEADER + "1,Example Ads,Marketing,exad_,,,,,,1\n")
    assert text == DATABASE_ROWS and added == 7
    with pytest.raises(PolicyFileError, match="Open Cookie Database"):
        import_open_cookie_database("a,b\n1,2\n", DATABASE_ROWS)
    source = "! list\n||stats.example.com^\n||google-analytics.com^\n"
    assert import_filter_list(source, "||google-analytics.com^\n") == (source, 1)
    with pytest.raises(PolicyFileError, match="filter list"):
        import_filter_list("a,b\n1,2\n", "")


def test_cli_import_commands_write_the_given_file(tmp_path):
    from scanner.cli import main

    database, filters = tmp_path / "db.csv", tmp_path / "filters.txt"
    (tmp_path / "ocd.csv").write_text(DATABASE_ROWS)
    (tmp_path / "easyprivacy.txt").write_text("||stats.example.com^\n")
    assert main(["import", "cookies", str(tmp_path / "ocd.csv"), "--out", str(database)]) == 0
    assert main(["import", "trackers", str(tmp_path / "easyprivacy.txt"), "--out", str(filters)]) == 0
    assert database.read_text() == DATABASE_ROWS
    assert filters.read_text() == "||stats.example.com^\n"
    assert main(["import", "cookies", str(tmp_path / "easyprivacy.txt"), "--out", str(database)]) == 2
    assert main(["import", "trackers", str(tmp_path / "ocd.csv"), "--out", str(filters)]) == 2

