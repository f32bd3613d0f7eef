"""The cookie classification, the tracker list and their importers (Open Cookie Database CSV, EasyPrivacy)."""
import pytest

from checks.cookie_policy import (PolicyFileError, classify, cookie_rules, import_filter_list,
                                  import_open_cookie_database, parse_cookie_rules, parse_trackers, tracker_for,
                                  trackers)

CURRENT = """# version: 2026.1
name,match,platform,category,tracks,note
_ga,exact,Google Analytics,analytics,yes,client id
_pk_id,prefix,Matomo,analytics,no,self-hosted
"""

# Rows in the Open Cookie Database's own format (hand-written, not copied from the database).
OCD = """ID,Platform,Category,Cookie / Data Key name,Domain,Description,Retention period,Data Controller,User Privacy & GDPR Rights Portals,Wildcard match
1,Google Analytics,Analytics,_ga,,"ID used to identify users, differently worded",2 years,Google,https://example.org,0
2,Matomo,Analytics,_pk_id,,Visitor id,13 months,Matomo,https://example.org,1
3,Example Ads,Marketing,exad_,,Ad id,1 year,Example,https://example.org,1
4,Example CMS,Functional,excms_session,,Session,session,Example,https://example.org,0
5,Example Stats,Analytics,exstat,,Stats,1 year,Example,https://example.org,0
"""


def test_shipped_classification_is_valid_and_versioned():
    rules, version = cookie_rules()
    assert version and len(rules) > 50
    assert classify("_ga").tracks and classify("_ga_XYZ").platform == "Google Analytics"
    assert not classify("PHPSESSID").tracks and not classify("CookieConsent").tracks
    assert classify("_pk_ses.1.ab12").platform == "Matomo" and not classify("_pk_ses.1.ab12").tracks
    assert classify("YSC").category == "marketing"
    assert classify("no_such_cookie") is None


def test_exact_name_wins_over_prefix_and_longest_prefix_wins():
    rules = parse_cookie_rules("name,match,platform,category,tracks,note\n"
                               "_g,prefix,P1,marketing,yes,\n_ga,prefix,P2,analytics,yes,\n_gax,exact,P3,functional,no,\n")
    assert classify("_gax", rules).platform == "P3"
    assert classify("_gaz", rules).platform == "P2"
    assert classify("_gz", rules).platform == "P1"


def test_bad_row_is_reported():
    with pytest.raises(PolicyFileError, match="row 2"):
        parse_cookie_rules("name,match,platform,category,tracks,note\nx,sometimes,P,marketing,yes,\n")


def test_open_cookie_database_import_adds_new_rows_and_keeps_hand_written_ones():
    text, added = import_open_cookie_database(OCD, CURRENT)
    assert added == 3
    assert text.startswith("# version: 2026.1\n")
    rules = parse_cookie_rules(text)
    assert classify("_pk_id.1.x", rules).note == "self-hosted"  # hand-written verdict kept
    assert classify("exad_123", rules).tracks and classify("exad_123", rules).category == "marketing"
    assert not classify("excms_session", rules).tracks
    assert classify("exstat", rules).tracks


def test_open_cookie_database_import_rejects_other_csv():
    with pytest.raises(PolicyFileError, match="Open Cookie Database"):
        import_open_cookie_database("a,b\n1,2\n", CURRENT)


def test_tracker_list_matches_hosts_and_parent_domains():
    hosts, version = trackers()
    assert version
    assert tracker_for("www.google-analytics.com") == "google-analytics.com"
    assert tracker_for("stats.g.doubleclick.net") == "doubleclick.net"
    assert tracker_for("www.gemeente.nl") is None
    assert tracker_for("notgoogle-analytics.com", hosts) is None


def test_filter_list_import_takes_whole_host_rules_only():
    source = "\n".join(["! EasyPrivacy", "||stats.example.com^", "||pixel.example.net^$third-party",
                        "||example.org/track.js", "@@||allowed.example^", "||site.example^$domain=a.com",
                        "##.ad-banner", "||google-analytics.com^"])
    text, added = import_filter_list(source, "# trackers\ngoogle-analytics.com\n")
    assert added == 2
    assert parse_trackers(text) == ["google-analytics.com", "stats.example.com", "pixel.example.net"]


def test_cli_import_commands_write_the_given_file(tmp_path, capsys):
    from scanner.cli import main

    cookies, trackers_file = tmp_path / "cookies.csv", tmp_path / "trackers.txt"
    cookies.write_text(CURRENT)
    trackers_file.write_text("google-analytics.com\n")
    (tmp_path / "ocd.csv").write_text(OCD)
    (tmp_path / "easyprivacy.txt").write_text("||stats.example.com^\n")
    assert main(["import", "cookies", str(tmp_path / "ocd.csv"), "--out", str(cookies)]) == 0
    assert main(["import", "trackers", str(tmp_path / "easyprivacy.txt"), "--out", str(trackers_file)]) == 0
    assert "exad_" in cookies.read_text()
    assert parse_trackers(trackers_file.read_text()) == ["google-analytics.com", "stats.example.com"]
    assert main(["import", "cookies", str(tmp_path / "easyprivacy.txt"), "--out", str(cookies)]) == 2
