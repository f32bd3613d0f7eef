"""docs/checks.md is the check reference generated from the registry (checks/reference.py): it must be what the
generator writes now, and every check must state its rule in its docstring."""
from __future__ import annotations

from checks.reference import COMMAND, REFERENCE, render, rule
from checks.registry import Check, all_checks
from govscan.model import Status, Text, Verdict


def test_docs_checks_md_is_what_the_registry_generates_now():
    written = REFERENCE.read_text(encoding="utf-8") if REFERENCE.exists() else ""
    assert written == render(), (f"{REFERENCE} is out of date with the checks' rules, versions or advice: "
                                 f"run `.venv/bin/{COMMAND}` and commit docs/checks.md")


def test_the_reference_does_not_depend_on_the_order_the_check_modules_were_imported_in():
    checks = list(all_checks().values())
    assert render(list(reversed(checks))) == render(checks)


def unstated(checks: list[Check]) -> list[str]:
    """The checks whose docstring states no rule: no line beginning 'Pass:' or 'Fail:' ('Info:' will do for an
    informational check, which gives no verdict)."""
    found = []
    for check in checks:
        outcomes = {outcome for outcome, _ in rule(check)[1]}
        if not ({"Pass", "Fail"} & outcomes or check.level == "informational" and "Info" in outcomes):
            found.append(f"{check.id} ({check.evaluate.__module__}.{check.evaluate.__name__})")
    return found


def test_every_check_states_its_rule_with_its_outcomes():
    missing = unstated(list(all_checks().values()))
    assert not missing, ("these checks need a docstring with their rule as lines beginning 'Pass:', 'Fail:' "
                         "(an informational check: 'Info:'):\n" + "\n".join(missing))


def _check(evaluate, level="required") -> Check:
    return Check(id="test.check", version=3, level=level, family="test", requires=("http",), per_address=True,
                 norm="RFC 1 *2*", title=Text("Proef", "Test"), advice=Text("Doe het.", "Do it."),
                 evaluate=evaluate)


def test_a_rule_is_its_docstring_split_at_the_outcomes_and_markdown_safe():
    def evaluate(facts) -> Verdict:
        """What is judged: the first <header>
        of the response.
        Pass: a value with `code_that_stays` and a_b.
        Warn: one that runs on
        over two lines.
        Not applicable: none [yet].
        """

    assert rule(_check(evaluate)) == ("What is judged: the first <header> of the response.",
                                      [("Pass", "a value with `code_that_stays` and a_b."),
                                       ("Warn", "one that runs on over two lines."),
                                       ("Not applicable", "none [yet].")])
    text = render([_check(evaluate)])
    assert "### test.check" in text and "| test | [test.check](#testcheck) | required | 3 | Test |" in text
    assert "**Test (Proef)**: required, version 3, measured per IP address; facts: `http`." in text
    assert "Norm: RFC 1 \\*2\\*" in text and "the first \\<header\\> of the response." in text
    assert "- **Pass**: a value with `code_that_stays` and a\\_b." in text
    assert "- **Not applicable**: none \\[yet\\]." in text
    assert "Advice: Do it." in text and "Advies: Doe het." in text


def test_a_check_without_a_stated_rule_is_found():
    def says_not_how(facts) -> Verdict:
        """Judges something, but says not how."""

    def undocumented(facts) -> Verdict:
        return Verdict(Status.PASS, Text("ja", "yes"))

    def informs(facts) -> Verdict:
        """Info: what was found."""

    assert rule(_check(says_not_how)) == ("Judges something, but says not how.", [])
    assert unstated([_check(says_not_how), _check(undocumented), _check(informs)]) == [
        f"test.check ({__name__}.says_not_how)", f"test.check ({__name__}.undocumented)",
        f"test.check ({__name__}.informs)"]
    assert unstated([_check(informs, level="informational")]) == []
