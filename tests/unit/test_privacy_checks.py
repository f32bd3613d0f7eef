"""privacy.* checks on hand-built browser facts: every rule of the catalogue passing and failing."""
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
    assert verdict.status == Status.FAIL and "IDE" in verdict.summary.nl
