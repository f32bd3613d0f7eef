"""web.https.hsts's parser against Chromium's HSTS parser test cases (BSD-style licence,
tests/data/chromium-hsts/): every header Chromium ignores is invalid for govscan, every header Chromium accepts
gives the same max-age and includeSubDomains."""
from pathlib import Path

import pytest
import yaml

from checks.https import MAX_AGE_CAP, max_age_seconds, parse_hsts

DATA = Path(__file__).resolve().parents[1] / "data" / "chromium-hsts"
SUITE = yaml.safe_load((DATA / "cases.yaml").read_text(encoding="utf-8"))


def test_the_suite_and_its_licence_are_there():
    assert "The Chromium Authors" in (DATA / "LICENSE").read_text(encoding="utf-8")
    assert len(SUITE["invalid"]) > 70 and len(SUITE["valid"]) > 30


@pytest.mark.parametrize("value", SUITE["invalid"])
def test_a_header_chromium_ignores_is_invalid(value):
    with pytest.raises(ValueError):
        parse_hsts(value)


@pytest.mark.parametrize("value, max_age, include_subdomains", SUITE["valid"])
def test_a_header_chromium_accepts_is_read_the_same(value, max_age, include_subdomains):
    directives = parse_hsts(value)
    assert max_age_seconds(directives["max-age"]) == min(int(max_age), MAX_AGE_CAP)
    assert ("includesubdomains" in directives) is include_subdomains
