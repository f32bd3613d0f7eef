"""Which autoconsent rules a frame gets: those for its place (main frame or not) whose urlPattern matches."""
import json

from scanner.probes.consent import AUTOCONSENT_RULES, rules_for


def names(url: str, main_frame: bool) -> set[str]:
    return {rule["name"] for rule in json.loads(rules_for(url, main_frame))["autoconsent"]}


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

