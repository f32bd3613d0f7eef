"""web.security_txt against the test cases of the `sectxt` validator (EUPL-1.2, tests/data/sectxt/): every
file sectxt's tests judge, with the errors and warnings govscan must find in it, by line and code."""
import datetime as dt
from pathlib import Path

import pytest
import yaml

from checks.security_txt import Problems, parse
from tests.unit.http_facts import FETCHED_AT

DATA = Path(__file__).resolve().parents[1] / "data" / "sectxt"
SUITE = yaml.safe_load((DATA / "cases.yaml").read_text(encoding="utf-8"))
NOW = dt.datetime.fromisoformat(FETCHED_AT)


def content(case: dict) -> str:
    text = case["content"] if "content" in case else SUITE[case["base"]]
    for old, new in case.get("replace", []):
        text = text.replace(old, new)
    text = case.get("prefix", "") + text + case.get("suffix", "")
    soon = (NOW + dt.timedelta(days=10)).date().isoformat()
    return text.replace("{soon}", soon).replace("{in_3_years}", str(NOW.year + 3))


def test_the_suite_and_its_licence_are_there():
    assert (DATA / "LICENCE").read_text(encoding="utf-8").lstrip().startswith("EUROPEAN UNION PUBLIC LICENCE v. 1.2")
    assert len(SUITE["cases"]) >= 30


@pytest.mark.parametrize("case", SUITE["cases"], ids=[c["name"] for c in SUITE["cases"]])
def test_sectxt_case(case):
    problems = Problems()
    parse(content(case), NOW, [case.get("url", "https://example.com/.well-known/security.txt")], problems)
    assert sorted((e["line"], e["code"]) for e in problems.errors) == sorted(map(tuple, case["errors"]))
    assert sorted((w["line"], w["code"]) for w in problems.warnings) == sorted(map(tuple, case["warnings"]))
