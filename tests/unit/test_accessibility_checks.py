"""a11y.statement and a11y.wcag on hand-built browser facts: every rule passing and failing."""
import datetime as dt

from checks.accessibility import statement, wcag, wcag_criteria
from govscan.model import Status
from tests.unit.browser_facts import FRONT, browser, facts

VISITED = dt.date(2026, 11, 23)
OWN = "https://www.gemeente.nl/toegankelijkheid"
REGISTER = "https://www.toegankelijkheidsverklaring.nl/register/7002"


def page(url: str, text: str, via: str = "footer_link", links=(), status: int = 200) -> dict:
    return {"url": url, "via": via, "text": text, "status": status, "final_url": url, "links": list(links)}


def model(status: str, days_old: int) -> str:
    day = VISITED - dt.timedelta(days=days_old)
    return (f"Toegankelijkheidsverklaring. Nalevingsstatus. De status van deze website is: {status}. "
            f"Deze verklaring is opgesteld op {day.strftime('%d-%m-%Y')}.")


def judge(*fetched):
    return statement(facts(browser(statement={"candidates": [], "fetched": list(fetched)})))


def test_status_a_recent_passes_with_evidence():
    verdict = judge(page(OWN, model("A", 30)))
    assert verdict.status == Status.PASS
    evidence = verdict.details["statement"]
    assert (evidence["status"], evidence["found_via"], evidence["url"]) == ("A", "footer_link", OWN)
    assert "status van deze website" in evidence["status_text"].lower()


def test_status_b_passes():
    assert judge(page(OWN, model("B", 100))).status == Status.PASS


def test_a_or_b_older_than_a_year_warns():
    assert judge(page(OWN, model("A", 500))).status == Status.WARN


def test_c_within_six_months_warns_and_older_fails():
    assert judge(page(OWN, model("C", 60))).status == Status.WARN
    assert judge(page(OWN, model("C", 300))).status == Status.FAIL


def test_d_fails():
    assert judge(page(OWN, model("D", 30))).status == Status.FAIL


def test_no_statement_fails_as_status_e():
    verdict = judge(page("https://www.gemeente.nl/toegankelijkheidsverklaring", "Niet gevonden", "common_path",
                         status=404))
    assert verdict.status == Status.FAIL and "E" in verdict.summary.nl


def test_page_about_accessibility_is_not_taken_for_a_statement():
    verdict = judge(page(OWN, "Toegankelijkheid. Wij vinden het belangrijk dat iedereen de site kan gebruiken."))
    assert verdict.status == Status.FAIL


def test_register_entry_reached_through_the_label_image():
    text = "Toegankelijkheidsverklaring van Gemeente X. Nalevingsstatus. Status B. Voldoet gedeeltelijk. " \
           f"Datum verklaring {(VISITED - dt.timedelta(days=120)).strftime('%d-%m-%Y')}"
    verdict = judge(page(REGISTER, text, "register_label"))
    assert verdict.status == Status.PASS
    assert verdict.details["statement"]["register_id"] == "7002"
    assert verdict.details["statement"]["found_via"] == "register_label"


def test_register_status_used_when_the_site_page_states_none():
    own = page(OWN, "Toegankelijkheidsverklaring van de gemeente, gezien en akkoord bevonden.",
               links=[{"href": REGISTER, "text": "register"}])
    register = page(REGISTER, "Toegankelijkheidsverklaring van X. Status D. Voldoet niet. Datum verklaring 01-10-2026",
                    "register_link_on_page")
    verdict = judge(own, register)
    assert verdict.status == Status.FAIL and verdict.details["statement"]["url"] == REGISTER


def test_statement_without_recognisable_status_warns():
    assert judge(page(OWN, "Toegankelijkheidsverklaring van de gemeente, gezien en akkoord.")).status == Status.WARN


def frame(url: str, violations=(), incomplete=()) -> dict:
    return {"url": url, "violations": list(violations), "incomplete": list(incomplete)}


def rule(rule_id: str, impact: str, nodes: int = 1, tags=("wcag2a", "wcag111")) -> dict:
    return {"id": rule_id, "impact": impact, "help": "", "help_url": "", "tags": list(tags), "nodes": nodes,
            "selectors": ["img"]}


def judge_axe(*frames, url=FRONT):
    return wcag(facts(browser(axe_pages=[{"url": url, "version": "4.14.1", "frames": list(frames)}])))


def test_wcag_pass_is_not_called_conformance():
    verdict = judge_axe(frame(FRONT))
    assert verdict.status == Status.PASS
    assert "geen conformiteitsverklaring" in verdict.summary.nl
    assert verdict.details["axe_version"] == "4.14.1"


def test_wcag_serious_violation_inside_an_iframe_fails():
    verdict = judge_axe(frame(FRONT), frame("https://www.youtube.com/embed/x", [rule("image-alt", "critical", 2)]))
    assert verdict.status == Status.FAIL
    found = verdict.details["violations"][0]
    assert found["frames"] == ["https://www.youtube.com/embed/x"] and found["criteria"] == ["1.1.1"]
    assert found["nodes"] == 2


def test_wcag_moderate_only_warns_and_incomplete_is_kept_for_review():
    verdict = judge_axe(frame(FRONT, [rule("heading-order", "moderate")], [rule("color-contrast", "serious")]))
    assert verdict.status == Status.WARN
    assert [r["rule"] for r in verdict.details["needs_review"]] == ["color-contrast"]


def test_wcag_error_when_axe_ran_nowhere():
    verdict = judge_axe({"url": FRONT, "error": "axe is not defined"})
    assert verdict.status == Status.ERROR and verdict.reason == "browser"


def test_wcag_criteria_from_tags():
    assert wcag_criteria(["wcag2aa", "wcag143", "wcag1410", "cat.color"]) == ["1.4.3", "1.4.10"]
