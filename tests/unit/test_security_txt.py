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


# --- the grammar of RFC 9116 section 4 and the grammars it imports --------------------------------------------

def codes(finding, kind="errors"):
    return [(p["line"], p["code"]) for p in problems(finding, kind)]


@pytest.mark.parametrize("value", ["2027-06-01t00:00:00z", "2027-06-01T00:00:00.5Z", "2027-06-01T02:00:00+02:00",
                                   "2027-06-30T23:59:60Z"])
def test_an_rfc3339_expires_passes_with_t_and_z_in_either_case(value):
    assert judge_text(GOOD_SECURITY_TXT.replace("2027-06-01T00:00:00Z", value)).status == Status.PASS


@pytest.mark.parametrize("value", ["2027-06-01 00:00:00Z", "2027-02-30T00:00:00Z", "2027-06-01T24:00:00Z",
                                   "2027-06-01T00:00:00+2:00", "2027-6-1T00:00:00Z", "2027-06-01T00:00Z"])
def test_an_expires_outside_the_rfc3339_grammar_fails(value):
    finding = judge_text(GOOD_SECURITY_TXT.replace("2027-06-01T00:00:00Z", value))
    assert finding.status == Status.FAIL and codes(finding) == [(4, "invalid_expires")]


def test_a_field_without_the_space_after_the_colon_fails_with_its_line():
    finding = judge_text(GOOD_SECURITY_TXT.replace("Contact: mailto:", "Contact:mailto:"))
    assert finding.status == Status.FAIL and codes(finding) == [(2, "no_space")]


@pytest.mark.parametrize("line", ["Contact : mailto:a@test.nl", "  Contact: mailto:a@test.nl", ": mailto:a@test.nl"])
def test_a_field_name_with_spaces_or_none_fails(line):
    finding = judge_text(GOOD_SECURITY_TXT + line + "\n")
    assert finding.status == Status.FAIL and codes(finding) == [(6, "invalid_name")]


def test_a_comment_not_in_the_first_column_fails():
    assert codes(judge_text(GOOD_SECURITY_TXT + "  # indented\n")) == [(6, "invalid_line")]


def test_a_missing_final_line_break_fails_with_the_last_line():
    finding = judge_text(GOOD_SECURITY_TXT.rstrip("\n"))
    assert finding.status == Status.FAIL and codes(finding) == [(5, "no_final_newline")]


def test_crlf_line_ends_and_trailing_spaces_pass():
    assert judge_text(GOOD_SECURITY_TXT.replace("\n", "  \r\n")).status == Status.PASS


@pytest.mark.parametrize("uri", ["tel:+31-70-1234567", "https://[2001:db8::1]/meld", "mailto:a%2Bb@test.nl",
                                 "urn:example:security"])
def test_any_rfc3986_uri_is_a_valid_contact(uri):
    assert judge_text(GOOD_SECURITY_TXT + f"Contact: {uri}\n").status == Status.PASS


@pytest.mark.parametrize("uri", ["https://test.nl/a b", "https://[zz::1]/", "https://test.nl/%zz", "mailto:jan@café.nl",
                                 "//test.nl/meld"])
def test_a_contact_outside_the_uri_grammar_fails(uri):
    assert codes(judge_text(GOOD_SECURITY_TXT + f"Contact: {uri}\n")) == [(6, "not_uri")]


@pytest.mark.parametrize("field", ["Contact", "Policy", "Canonical", "Encryption"])
def test_a_web_uri_without_https_fails(field):
    assert codes(judge_text(GOOD_SECURITY_TXT + f"{field}: http://test.nl/x\n")) == [(6, "not_https")]


@pytest.mark.parametrize("value", ["nl", "nl, en", "NL-nl,en-GB", "nl ,\ten", "zh-Hant-TW", "de-CH-1996", "dut",
                                   "x-klingon", "i-klingon", "sl-rozaj-biske", "en-a-bbb-x-ccc"])
def test_rfc5646_language_tags_pass(value):
    assert judge_text(GOOD_SECURITY_TXT.replace("nl, en", value)).status == Status.PASS


@pytest.mark.parametrize("value", ["English", "nl, Nederlands", "nl_NL", "nl,", "en-", "e", "nl-NL-NL", "en-x"])
def test_a_preferred_language_that_is_not_a_tag_in_use_fails(value):
    finding = judge_text(GOOD_SECURITY_TXT.replace("nl, en", value))
    assert finding.status == Status.FAIL and {code for _, code in codes(finding)} == {"invalid_language"}
    assert problems(finding)[0]["line"] == 5


def test_an_unknown_field_is_ignored():
    assert judge_text(GOOD_SECURITY_TXT + "X-Remark: {anything} goes here\n").status == Status.PASS


def test_a_control_character_in_a_value_fails():
    assert codes(judge_text(GOOD_SECURITY_TXT + "X-Remark: a\x07b\n")) == [(6, "invalid_value")]


def test_a_byte_order_mark_fails():
    assert codes(judge_text("\ufeff" + GOOD_SECURITY_TXT)) == [(1, "bom")]


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", "Utf-8", "csUTF8", '"utf-8"'])
def test_the_charset_utf8_and_its_iana_alias_pass_in_any_case(charset):
    data = served((WELL_KNOWN, security_txt_file(GOOD_SECURITY_TXT, content_type=f"text/plain; charset={charset}")))
    data["security_txt"][WELL_KNOWN]["charset"] = charset.strip('"')  # the probe unquotes the parameter
    assert judge("web.security_txt", data).status == Status.PASS


@pytest.mark.parametrize("charset", ["utf8", "us-ascii", "utf-16"])
def test_a_charset_that_is_not_a_name_of_utf8_fails(charset):
    finding = judge_text(GOOD_SECURITY_TXT, content_type=f"text/plain; charset={charset}")
    assert finding.status == Status.FAIL and codes(finding) == [(0, "charset")]


CANONICAL = "Canonical: {}\n"


def test_a_canonical_naming_the_url_fetched_passes():
    url = "https://WWW.test.nl:443/.well-known/security.txt"  # the same URL after RFC 3986 normalisation
    assert judge_text(GOOD_SECURITY_TXT + CANONICAL.format(url)).status == Status.PASS


def test_a_canonical_naming_another_url_warns_with_its_line():
    finding = judge_text(GOOD_SECURITY_TXT + CANONICAL.format("https://other.nl/.well-known/security.txt"))
    assert finding.status == Status.WARN and codes(finding, "warnings") == [(6, "canonical_mismatch")]


def test_a_canonical_naming_the_url_before_a_redirect_passes():
    file = security_txt_file(GOOD_SECURITY_TXT + CANONICAL.format("https://www.test.nl/.well-known/security.txt"))
    file.update(url="https://cdn.test.nl/security.txt", redirected_from=["https://www.test.nl/.well-known/security.txt"])
    assert judge("web.security_txt", served((WELL_KNOWN, file))).status == Status.PASS


def test_a_signed_file_with_data_after_the_signature_fails():
    text = SIGNED.format(canonical="Canonical: https://www.test.nl/.well-known/security.txt\n") + "Contact: x\n"
    assert codes(judge_text(text)) == [(13, "after_signature")]


def test_a_file_with_an_error_on_every_line_lists_a_bounded_number_with_the_count():
    finding = judge_text(GOOD_SECURITY_TXT + "nonsense\n" * 5000)
    details = finding.addresses[0].details
    assert finding.status == Status.FAIL and details["error_count"] == 5000 and len(details["errors"]) == 50
    assert finding.addresses[0].summary.en.endswith("and 4995 more")
