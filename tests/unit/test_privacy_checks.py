"""privacy.* checks on hand-built browser facts: every rule of the catalogue passing and failing."""
import pytest

from checks.privacy import (consent_banner, tracking_after_reject, tracking_cookies, tracking_with_consent,
                            trackers_without_interaction)
from govscan.model import Status
from tests.unit.browser_facts import banner, browser, consent, cookie, facts, request, visit

SUBPAGE = "https://www.gemeente.nl/afval"


def test_no_cookies_passes():
    assert tracking_cookies(facts(browser([visit(cookies=[cookie("PHPSESSID", session=True)])]))).status == Status.PASS


def test_first_party_ga_cookie_set_from_javascript_fails_with_platform_and_page():
    data = browser([visit(), visit(page=SUBPAGE, cookies=[cookie("_ga"), cookie("_ga_ABC123")])])
    verdict = tracking_cookies(facts(data))
    assert verdict.status == Status.FAIL
    ga = {c["name"]: c for c in verdict.details["tracking"]}
    assert ga["_ga"]["platform"] == "Google Analytics" and ga["_ga"]["pages"] == [SUBPAGE]
    assert ga["_ga_ABC123"]["rule"] == "_ga_"


def test_third_party_pixel_and_embed_cookies_fail():
    data = browser([visit(cookies=[cookie("IDE", ".doubleclick.net", third_party=True),
                                   cookie("VISITOR_INFO1_LIVE", ".youtube.com", third_party=True)])])
    verdict = tracking_cookies(facts(data))
    assert verdict.status == Status.FAIL
    assert {c["platform"] for c in verdict.details["tracking"]} == {"DoubleClick", "YouTube"}


def test_functional_and_self_hosted_analytics_cookies_do_not_count():
    data = browser([visit(cookies=[cookie("_pk_id.1.abcd"), cookie("CookieConsent"), cookie("nmstat"),
                                   cookie("ASP.NET_SessionId", session=True)])])
    assert tracking_cookies(facts(data)).status == Status.PASS


def test_unknown_third_party_persistent_cookie_warns_and_is_listed():
    data = browser([visit(cookies=[cookie("xyz_id", "cdn.example.com", third_party=True)])])
    verdict = tracking_cookies(facts(data))
    assert verdict.status == Status.WARN
    assert [c["name"] for c in verdict.details["unknown_third_party"]] == ["xyz_id"]


def test_unknown_first_party_or_session_cookies_are_not_listed():
    data = browser([visit(cookies=[cookie("voorkeur"), cookie("tp_session", "cdn.example.com", third_party=True,
                                                                session=True)])])
    assert tracking_cookies(facts(data)).status == Status.PASS


@pytest.mark.parametrize("name, platform", [("__qca", "Quantcast"), ("_scid", "Snapchat"), ("_rdt_uuid", "Reddit"),
                                            ("_lfa", "Leadfeeder")])
def test_any_marketing_cookie_of_the_open_cookie_database_fails_with_its_platform_named(name, platform):
    verdict = tracking_cookies(facts(browser([visit(cookies=[cookie(name, value="a1b2c3d4e5f6")])])))
    assert verdict.status == Status.FAIL
    assert f"{name} ({platform})" in verdict.summary.en and f"{name} ({platform})" in verdict.summary.nl
    assert verdict.details["tracking"][0]["listed_by"] == "open-cookie-database"


def test_instagrams_third_party_sessionid_fails_and_a_first_party_sessionid_passes():
    instagram = browser([visit(cookies=[cookie("sessionid", ".instagram.com", third_party=True)])])
    own = browser([visit(cookies=[cookie("sessionid", session=True)])])
    verdict = tracking_cookies(facts(instagram))
    assert verdict.status == Status.FAIL and "sessionid (Instagram)" in verdict.summary.en
    assert tracking_cookies(facts(own)).status == Status.PASS


def test_self_hosted_matomo_passes_and_third_party_analytics_fails():
    matomo = browser([visit(cookies=[cookie("_pk_id.1.ab12", value="4f3a2b1c.1764979200"),
                                     cookie("_pk_ses.1.ab12", session=True)])])
    assert tracking_cookies(facts(matomo)).status == Status.PASS
    hotjar = browser([visit(cookies=[cookie("_hjSessionUser_3925006", value="eyJpZCI6IjEyMyJ9")])])
    verdict = tracking_cookies(facts(hotjar))
    assert verdict.status == Status.FAIL and verdict.details["tracking"][0]["controller"] == "Hotjar"


def test_first_party_analytics_on_another_sites_domain_is_processed_by_a_third_party():
    data = browser([visit(cookies=[cookie("_pk_id.1.ab12", "stats.example-analytics.com", third_party=True)])])
    verdict = tracking_cookies(facts(data))
    assert verdict.status == Status.FAIL and "Matomo" in verdict.summary.en


def test_analytics_the_database_says_the_site_operator_controls_passes():
    assert tracking_cookies(facts(browser([visit(cookies=[cookie("umami.disabled")])]))).status == Status.PASS


def test_unknown_first_party_cookie_with_an_identifier_is_listed_as_unclassified():
    data = browser([visit(cookies=[cookie("bezoeker", value="7f9c2ba4e88f827d616045507605853e")])])
    verdict = tracking_cookies(facts(data))
    assert verdict.status == Status.PASS
    assert [c["name"] for c in verdict.details["unclassified"]] == ["bezoeker"]
    assert "bezoeker" in verdict.summary.en and "value" not in verdict.details["unclassified"][0]


def test_a_value_that_differs_between_fresh_visits_is_an_identifier_and_a_constant_one_is_not():
    differs = browser([visit(cookies=[cookie("vid", value="a1b2c3d4")]),
                       visit(page=SUBPAGE, cookies=[cookie("vid", value="e5f6a7b8")])])
    constant = browser([visit(cookies=[cookie("build", value="v2-20251101")]),
                        visit(page=SUBPAGE, cookies=[cookie("build", value="v2-20251101")])])
    assert [c["name"] for c in tracking_cookies(facts(differs)).details["unclassified"]] == ["vid"]
    assert tracking_cookies(facts(constant)).details["unclassified"] == []


def test_short_or_word_values_and_session_cookies_are_not_identifiers():
    data = browser([visit(cookies=[cookie("taal", value="nl"), cookie("thema", value="donkerblauw"),
                                   cookie("tab", value="a1b2c3d4e5", session=True)])])
    verdict = tracking_cookies(facts(data))
    assert verdict.status == Status.PASS and verdict.details["unclassified"] == []


def test_cookies_after_a_click_do_not_count_for_the_no_interaction_check():
    data = browser([visit(), visit("accept", cookies=[cookie("_ga")])])
    assert tracking_cookies(facts(data)).status == Status.PASS


def test_trackers_pass_without_tracker_requests():
    data = browser([visit(requests=[request("https://www.gemeente.nl/style.css", False),
                                    request("https://cdn.example.com/font.woff")])])
    assert trackers_without_interaction(facts(data)).status == Status.PASS


def test_trackers_fail_lists_hosts_and_pages():
    data = browser([visit(page=SUBPAGE, requests=[request("https://www.google-analytics.com/g/collect?v=2"),
                                                  request("https://www.googletagmanager.com/gtag/js?id=G-1")])])
    verdict = trackers_without_interaction(facts(data))
    assert verdict.status == Status.FAIL
    assert {t["host"]: t["tracker"] for t in verdict.details["trackers"]} == {
        "www.google-analytics.com": "google-analytics.com", "www.googletagmanager.com": "googletagmanager.com"}
    assert verdict.details["trackers"][0]["pages"] == [SUBPAGE]


def test_trackers_from_the_filter_list_fail_and_processor_analytics_passes():
    snap = browser([visit(requests=[request("https://tr.snapchat.com/p")])])
    verdict = trackers_without_interaction(facts(snap))
    assert verdict.status == Status.FAIL
    assert verdict.details["trackers"][0] == {**verdict.details["trackers"][0], "tracker": "tr.snapchat.com",
                                              "list": "filter-list"}
    siteimprove = browser([visit(requests=[request("https://siteimproveanalytics.com/js/siteanalyze_1.js")])])
    assert trackers_without_interaction(facts(siteimprove)).status == Status.PASS


def test_findings_record_the_versions_of_the_lists():
    details = trackers_without_interaction(facts(browser())).details
    assert {"cookie_database", "cookie_overrides", "tracker_filters", "tracker_overrides"} <= set(details)


def test_banner_absent_is_info():
    assert consent_banner(facts(browser())).status == Status.INFO


def test_banner_with_reject_on_first_layer_is_info():
    shown = {**banner("cookiebot"), "screenshot_png_b64": "iVBORw0KGgo="}
    data = browser(banner_=shown, consent_={"reject": consent("reject"), "accept": consent("accept")})
    verdict = consent_banner(facts(data))
    assert verdict.status == Status.INFO and verdict.details["reject_on_first_layer"]
    assert "screenshot_png_b64" not in verdict.details["banner"]  # kept in the artifact, not in every finding


def test_reject_on_second_layer_warns():
    data = browser(banner_=banner(roles=("accept", "settings")),
                   consent_={"reject": consent("reject", clicks=2), "accept": consent("accept")})
    verdict = consent_banner(facts(data))
    assert verdict.status == Status.WARN and "2" in verdict.summary.en


def test_banner_judged_on_its_first_layer_when_a_click_visit_failed():
    failed = {"error": "timeout: no result within 45s"}
    first = browser(banner_=banner(), consent_={"reject": failed, "accept": consent("accept")})
    second = browser(banner_=banner(roles=("accept", "settings")), consent_={"reject": consent("reject", 2),
                                                                          "accept": failed})
    assert consent_banner(facts(first)).status == Status.INFO
    assert consent_banner(facts(second)).status == Status.WARN


def test_banner_without_reject_option_warns():
    data = browser(banner_=banner(roles=("accept",)),
                   consent_={"reject": consent("reject", clicks=0, clicked=False), "accept": consent("accept")})
    assert consent_banner(facts(data)).status == Status.WARN


def test_after_reject_not_applicable_without_banner():
    assert tracking_after_reject(facts(browser())).status == Status.NOT_APPLICABLE
    assert tracking_with_consent(facts(browser())).status == Status.NOT_APPLICABLE


def test_after_reject_passes_when_refusal_is_honoured():
    data = browser([visit(), visit("reject", cookies=[cookie("CookieConsent")])], banner_=banner("cookiebot"),
                   consent_={"reject": consent("reject"), "accept": consent("accept")})
    assert tracking_after_reject(facts(data)).status == Status.PASS


def test_after_reject_fails_on_tracking_cookies_or_tracker_requests():
    cookies = browser([visit(), visit("reject", cookies=[cookie("_ga")])], banner_=banner(),
                      consent_={"reject": consent("reject")})
    requests = browser([visit(), visit("reject", requests=[request("https://ad.doubleclick.net/activity")])],
                       banner_=banner(), consent_={"reject": consent("reject")})
    assert tracking_after_reject(facts(cookies)).status == Status.FAIL
    verdict = tracking_after_reject(facts(requests))
    assert verdict.status == Status.FAIL and verdict.details["trackers"][0]["host"] == "ad.doubleclick.net"


def test_after_reject_error_when_the_consent_visit_failed():
    data = browser(banner_=banner(), consent_={"reject": {"error": "timeout: no result within 45s"}})
    verdict = tracking_after_reject(facts(data))
    assert verdict.status == Status.ERROR and verdict.reason == "timeout"


def test_after_reject_without_reject_button_warns_when_nothing_tracks():
    data = browser([visit(), visit("reject")], banner_=banner(roles=("accept",)),
                   consent_={"reject": consent("reject", clicks=0, clicked=False)})
    assert tracking_after_reject(facts(data)).status == Status.WARN


def test_with_consent_passes_without_tracking_cookies():
    data = browser([visit(), visit("accept", cookies=[cookie("CookieConsent"), cookie("_pk_id.1.ab")])],
                   banner_=banner(), consent_={"accept": consent("accept")})
    assert tracking_with_consent(facts(data)).status == Status.PASS


def test_with_consent_fails_on_tracking_cookies_even_after_accept():
    data = browser([visit(), visit("accept", cookies=[cookie("_ga"), cookie("IDE", ".doubleclick.net",
                                                                           third_party=True)])],
                   banner_=banner(), consent_={"accept": consent("accept")})
    verdict = tracking_with_consent(facts(data))
    assert verdict.status == Status.FAIL and "IDE (DoubleClick)" in verdict.summary.nl
