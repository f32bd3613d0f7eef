"""web.security_txt (RFC 9116): a passing and a failing case for every rule of the catalogue, with the line
numbers of the errors, judged through the registry on hand-built `http` artifacts."""
import pytest

from govscan.model import Reason, Status
from tests.unit.http_facts import GOOD_SECURITY_TXT, good, judge, security_txt_file

WELL_KNOWN, LEGACY = "/.well-known/security.txt", "/security.txt"
NOT_FOUND = security_txt_file("", status=404, content_type="text/html")


def served(*files):
    """An address serving these files: (path, file) pairs."""
    data = good()
    data["security_txt"] = dict(files)
    return data


def judge_text(text, **kwargs):
    return judge("web.security_txt", served((WELL_KNOWN, security_txt_file(text, **kwargs))))


def problems(finding, kind="errors"):
    return finding.addresses[0].details[kind]


def test_a_valid_file_passes():
    finding = judge_text(GOOD_SECURITY_TXT)
    assert finding.status == Status.PASS
    assert finding.addresses[0].details["fields"]["contact"] == ["mailto:security@test.nl", "https://test.nl/meld"]


def test_no_file_fails():
    assert judge("web.security_txt", served((WELL_KNOWN, NOT_FOUND), (LEGACY, NOT_FOUND))).status == Status.FAIL


def test_the_legacy_path_only_is_a_warn():
    data = served((WELL_KNOWN, NOT_FOUND), (LEGACY, security_txt_file(GOOD_SECURITY_TXT, path=LEGACY)))
    finding = judge("web.security_txt", data)
    assert finding.status == Status.WARN and finding.addresses[0].details["path"] == LEGACY


def test_a_timeout_on_the_file_is_an_error():
    data = served((WELL_KNOWN, {"url": "x", "error": Reason.TIMEOUT, "detail": "no response"}),
                  (LEGACY, NOT_FOUND))
    finding = judge("web.security_txt", data)
    assert finding.status == Status.ERROR and finding.reason == Reason.TIMEOUT


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "application/octet-stream"])
def test_a_type_other_than_text_plain_fails(content_type):
    assert judge_text(GOOD_SECURITY_TXT, content_type=content_type).status == Status.FAIL


def test_a_charset_other_than_utf8_fails():
    assert judge_text(GOOD_SECURITY_TXT, content_type="text/plain; charset=iso-8859-1").status == Status.FAIL


def test_text_plain_without_charset_passes_when_the_bytes_are_utf8():
    assert judge_text(GOOD_SECURITY_TXT, content_type="text/plain").status == Status.PASS


def test_invalid_utf8_fails_with_its_line():
    finding = judge_text(GOOD_SECURITY_TXT.encode() + b"# caf\xe9\n")
    assert finding.status == Status.FAIL and problems(finding)[0]["line"] == 6


def test_a_file_over_100_kb_fails():
    data = served((WELL_KNOWN, {**security_txt_file(GOOD_SECURITY_TXT), "too_large": True}))
    assert judge("web.security_txt", data).status == Status.FAIL


def test_no_contact_fails():
    finding = judge_text("Expires: 2027-06-01T00:00:00Z\nPreferred-Languages: nl\n")
    assert finding.status == Status.FAIL and "Contact" in problems(finding)[0]["en"]


def test_a_contact_that_is_not_a_uri_fails_with_its_line():
    finding = judge_text(GOOD_SECURITY_TXT + "Contact: security@test.nl\n")
    assert finding.status == Status.FAIL and problems(finding)[0]["line"] == 6


def test_no_expires_fails():
    assert judge_text("Contact: mailto:a@test.nl\nPreferred-Languages: nl\n").status == Status.FAIL


def test_two_expires_fail_with_the_line_of_the_second():
    finding = judge_text(GOOD_SECURITY_TXT + "Expires: 2027-07-01T00:00:00Z\n")
    assert finding.status == Status.FAIL and problems(finding)[0]["line"] == 6


def test_an_expired_file_fails():
    finding = judge_text(GOOD_SECURITY_TXT.replace("2027-06-01", "2026-11-01"))
    assert finding.status == Status.FAIL and problems(finding)[0]["line"] == 4


@pytest.mark.parametrize("value", ["2027-06-01", "next year", "2027-06-01T00:00:00"])
def test_an_expires_that_is_not_rfc3339_fails(value):
    finding = judge_text(GOOD_SECURITY_TXT.replace("2027-06-01T00:00:00Z", value))
    assert finding.status == Status.FAIL and problems(finding)[0]["line"] == 4


def test_an_invalid_line_fails_with_its_number():
    finding = judge_text(GOOD_SECURITY_TXT + "this is not a field\n")
    assert finding.status == Status.FAIL and problems(finding)[0]["line"] == 6


def test_two_preferred_languages_fail():
    assert judge_text(GOOD_SECURITY_TXT + "Preferred-Languages: en\n").status == Status.FAIL


def test_expires_more_than_a_year_ahead_warns():
    finding = judge_text(GOOD_SECURITY_TXT.replace("2027-06-01", "2028-06-01"))
    assert finding.status == Status.WARN and problems(finding, "warnings")[0]["line"] == 4


def test_missing_preferred_languages_warns():
    finding = judge_text(GOOD_SECURITY_TXT.replace("Preferred-Languages: nl, en\n", ""))
    assert finding.status == Status.WARN


SIGNED = """-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA256

Contact: mailto:security@test.nl
Expires: 2027-06-01T00:00:00Z
Preferred-Languages: nl
{canonical}- # a dash-escaped comment
-----BEGIN PGP SIGNATURE-----

iQEzBAEBCAAdFiEE
-----END PGP SIGNATURE-----
"""


def test_a_signed_file_with_canonical_passes():
    finding = judge_text(SIGNED.format(canonical="Canonical: https://www.test.nl/.well-known/security.txt\n"))
    assert finding.status == Status.PASS and finding.addresses[0].details["signed"] is True


def test_a_signed_file_without_canonical_warns():
    finding = judge_text(SIGNED.format(canonical=""))
    assert finding.status == Status.WARN and "Canonical" in problems(finding, "warnings")[0]["en"]
