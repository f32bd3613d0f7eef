"""checks/dmarc.py: which record applies (RFC 7489 6.6.3) and what makes it invalid (6.3, 6.4), rule by rule,
with a passing and a failing case each."""
from __future__ import annotations

import pytest

from checks import dmarc


@pytest.mark.parametrize("text, is_record", [
    ("v=DMARC1; p=reject", True),
    ("v = DMARC1 ; p=reject", True),
    ("V=DMARC1;p=none", True),
    ("v=DMARC1", True),
    (" v=DMARC1; p=reject", False),  # leading whitespace: discarded, not repaired
    ("v=dmarc1; p=reject", False),  # DMARC1 is %x44 %x4d %x41 %x52 %x43 %x31: upper case
    ("v=DMARC10; p=reject", False),
    ("v=DMARC1 p=reject", False),
    ("p=reject; v=DMARC1", False),
])
def test_a_dmarc_record_begins_with_its_version(text, is_record):
    assert dmarc.is_dmarc_record(text) is is_record


def test_a_record_with_every_registered_tag_parses_without_notes():
    record = ("v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@noordstad.nl, mailto:x@rapport.example!10m; "
              "ruf=mailto:forensic@noordstad.nl; adkim=s; aspf=r; fo=0:1:d:s; pct=100; rf=afrf; ri=86400; "
              "np=reject; t=n;")
    policy = dmarc.parse(record)
    assert policy.notes == [] and policy.value("p") == "reject" and policy.value("sp") == "quarantine"
    assert dmarc.parse("v=DMARC1;P=Reject").value("p") == "reject"


@pytest.mark.parametrize("record, reason", [
    ("v=DMARC1; p=reject; p=none", "the tag p appears more than once"),
    ("v=DMARC1; p=reject; rua=mailto:a@b.nl; RUA=mailto:c@d.nl", "the tag rua appears more than once"),
    ("v=DMARC1; rua=mailto:dmarc@noordstad.nl", "the tag p (the policy) is missing"),
    ("v=DMARC1", "the tag p (the policy) is missing"),
    ("v=DMARC1; rua=mailto:dmarc@noordstad.nl; p=reject", "p must directly follow v=DMARC1"),
    ("v=DMARC1; p=rejected", "p=rejected is not none, quarantine or reject"),
    ("v=DMARC1; p=", "p= is not none, quarantine or reject"),
    ("v=DMARC1; p=reject; sp=all", "sp=all is not none, quarantine or reject"),
    ("v=DMARC1; p reject", "'p reject' is not a tag"),
    ("v=DMARC1; p=reject;; rua=mailto:a@b.nl", "an empty tag between two ';'"),
    ("v=DMARC1; p=reject; 1x=y", "'1x=y' is not a tag"),
    ("v=DMARC1; p=reject; rua=mailto:a@b.nl\x00", "is not a tag (name=value, in visible characters)"),
])
def test_what_makes_a_record_invalid(record, reason):
    with pytest.raises(dmarc.Invalid) as raised:
        dmarc.parse(record)
    assert reason in raised.value.text.en and raised.value.text.nl


@pytest.mark.parametrize("tag", ["adkim=x", "aspf=relaxed", "fo=2", "pct=150", "pct=abc", "rf=", "ri=daily",
                                 "rua=dmarc@noordstad.nl", "ruf=mailto:a@b.nl!10x", "np=all", "t=yes"])
def test_an_optional_tag_outside_its_grammar_is_a_note_not_a_fault(tag):
    policy = dmarc.parse(f"v=DMARC1; p=reject; {tag}")
    name = tag.split("=")[0]
    assert policy.notes == [f"{tag} is not valid: receivers ignore it and use the default (RFC 7489 6.3)"], name


def test_unknown_tags_are_noted():
    assert dmarc.parse("v=DMARC1; p=reject; foo=bar; x_y=1").notes == [
        "unknown tags are ignored (RFC 7489 6.3): foo, x_y"]


def answer(*records: str) -> dict:
    return {"rcode": "NOERROR" if records else "NXDOMAIN", "records": list(records)}


def test_the_domains_own_record_applies_before_the_organisational_domains():
    found = dmarc.discover("post.noordstad.nl", "noordstad.nl", {
        "_dmarc.post.noordstad.nl": answer("v=DMARC1; p=quarantine"),
        "_dmarc.noordstad.nl": answer("v=DMARC1; p=reject")})
    assert (found.name, found.records, found.at_organisational_domain) == (
        "_dmarc.post.noordstad.nl", ["v=DMARC1; p=quarantine"], False)


@pytest.mark.parametrize("own", [answer(), answer("some other text", " v=DMARC1; p=none")])
def test_without_a_record_of_its_own_the_organisational_domains_applies(own):
    found = dmarc.discover("post.noordstad.nl", "noordstad.nl", {
        "_dmarc.post.noordstad.nl": own, "_dmarc.noordstad.nl": answer("v=DMARC1; p=reject")})
    assert (found.name, found.at_organisational_domain) == ("_dmarc.noordstad.nl", True)
    assert found.discarded == own["records"]


def test_two_records_of_its_own_stop_discovery():
    found = dmarc.discover("post.noordstad.nl", "noordstad.nl", {
        "_dmarc.post.noordstad.nl": answer("v=DMARC1; p=reject", "v=DMARC1; p=none"),
        "_dmarc.noordstad.nl": answer("v=DMARC1; p=reject")})
    assert found.name == "_dmarc.post.noordstad.nl" and len(found.records) == 2


def test_a_dns_error_stops_discovery_without_a_fallback():
    with pytest.raises(dmarc.DnsError, match="_dmarc.post.noordstad.nl: timeout"):
        dmarc.discover("post.noordstad.nl", "noordstad.nl", {
            "_dmarc.post.noordstad.nl": {"error": "timeout"}, "_dmarc.noordstad.nl": answer("v=DMARC1; p=reject")})


def test_no_record_anywhere():
    found = dmarc.discover("noordstad.nl", "noordstad.nl", {"_dmarc.noordstad.nl": answer()})
    assert (found.name, found.records) == ("_dmarc.noordstad.nl", [])
