"""Which autoconsent rules a frame gets: those for its place (main frame or not) whose urlPattern matches, and
on a consent state only those of the CMPs the site's first visit detected."""
import json

from scanner.probes.consent import AUTOCONSENT_RULES, CODED_CMPS, Banner, rules_for


def names(url: str, main_frame: bool, cmps: tuple[str, ...] | None = None) -> set[str]:
    return {rule["name"] for rule in json.loads(rules_for(url, main_frame, cmps))["autoconsent"]}


def test_a_rule_with_a_url_pattern_goes_only_to_frames_it_matches():
    assert "coinbase" in names("https://www.coinbase.com/", True)
    assert "coinbase" in names("https://help.coinbase.com/page", False)
    assert "coinbase" not in names("https://www.gemeente.nl/", True)


def test_rules_without_a_pattern_go_to_every_frame_of_their_place():
    main_only = {rule["name"] for rule in AUTOCONSENT_RULES
                 if not rule.get("runContext", {}).get("urlPattern") and not rule.get("runContext", {}).get("frame")
                 and rule.get("runContext", {}).get("main", True)}
    assert main_only and main_only <= names("https://www.gemeente.nl/", True)
    assert not main_only & names("https://ads.example/frame", False)



def test_a_consent_state_gets_only_the_rules_of_the_cmps_the_first_visit_detected():
    assert names("https://www.gemeente.nl/", True, ("borlabs", "axeptio", "coinbase")) == {"borlabs", "axeptio"}
    assert names("https://www.gemeente.nl/", True, ()) == set()


def test_a_consent_state_disables_the_cmps_autoconsent_codes_that_the_first_visit_did_not_detect():
    assert {"Cybotcookiebot", "Onetrust", "Sourcepoint-frame"} <= set(CODED_CMPS)
    first_visit, state = Banner(page=None), Banner(page=None, cmps=("Cybotcookiebot",))
    assert first_visit.config()["disabledCmps"] == []
    disabled = state.config()["disabledCmps"]
    assert "Cybotcookiebot" not in disabled and "Onetrust" in disabled and "Sourcepoint-frame" in disabled
