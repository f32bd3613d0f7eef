"""checks/spf.py, rule by rule: the grammar's permerrors with their reasons, the lookup and void-lookup limits
over the whole tree (include diamonds included), macro expansion of the domain, include and redirect, and
what is left unevaluated. The openspf suite (test_spf_rfc7208.py) covers the same ground case by case; these
tests pin the reasons and the costs."""
from __future__ import annotations

import pytest

from checks import spf

DOMAIN = "noordstad.nl"


class Dns:
    """Answers from a dict of (type, name) -> records; a name without any data is NXDOMAIN. `asked` records
    every query, `errors` names answer with an error."""

    def __init__(self, records: dict[tuple[str, str], list[str]], errors: tuple[str, ...] = ()):
        self.records = records
        self.errors = errors
        self.names = {name for _, name in records}
        self.asked: list[str] = []

    def get(self, key: str, default=None) -> dict:
        self.asked.append(key)
        rtype, name = key.split(" ", 1)
        if name in self.errors:
            return {"error": "timeout: resolver did not answer"}
        if name not in self.names:
            return {"rcode": "NXDOMAIN", "records": []}
        return {"rcode": "NOERROR", "records": self.records.get((rtype, name), [])}


def evaluate(record: str, extra: dict | None = None) -> tuple[spf.Outcome, Dns]:
    dns = Dns({("TXT", DOMAIN): [record], ("MX", DOMAIN): ["mail.noordstad.nl"], ("A", DOMAIN): ["192.0.2.1"],
               ("AAAA", DOMAIN): ["2001:db8::1"], **(extra or {})})
    return spf.evaluate(DOMAIN, dns), dns


# --- the grammar ---

@pytest.mark.parametrize("record, reason", [
    ("v=spf1 ip4:999.1.1.1 mx -all", "'999.1.1.1' in 'ip4:999.1.1.1' is not an IPv4 address"),
    ("v=spf1 ip4:192.0.2.01 -all", "'192.0.2.01' in 'ip4:192.0.2.01' is not an IPv4 address"),
    ("v=spf1 ip4:192.0.2.0/33 -all", "'ip4:192.0.2.0/33': prefix length /33 is over 32"),
    ("v=spf1 ip4:192.0.2.0/024 -all", "prefix length /024 has a leading zero"),
    ("v=spf1 ip6:2001:db8::/129 -all", "'ip6:2001:db8::/129': prefix length /129 is over 128"),
    ("v=spf1 ip6:2001:db8::g -all", "'2001:db8::g' in 'ip6:2001:db8::g' is not an IPv6 address"),
    ("v=spf1 a/33 -all", "'a/33': prefix length /33 is over 32"),
    ("v=spf1 mx/24/64 -all", "'mx/24/64': the form is mx[:<domain>][/<prefix>][//<prefix>]"),
    ("v=spf1 include:foo-bar -all", "'include:foo-bar': 'foo-bar' does not end in a top-level label"),
    ("v=spf1 a:192.0.2.1 -all", "'a:192.0.2.1': '192.0.2.1' does not end in a top-level label"),
    ("v=spf1 include:_spf.example.-nl -all", "does not end in a top-level label"),
    ("v=spf1 include: -all", "'include:' names no domain"),
    ("v=spf1 include -all", "'include': the form is include:<domain>"),
    ("v=spf1 exists -all", "'exists': the form is exists:<domain>"),
    ("v=spf1 ptr/24 -all", "'ptr/24': the form is ptr[:<domain>]"),
    ("v=spf1 ip4 -all", "'ip4': the form is ip4:<IPv4 address>[/<prefix>]"),
    ("v=spf1 redirect=a.example.nl redirect=b.example.nl", "the record has redirect= more than once"),
    ("v=spf1 -all exp=a.example.nl exp=b.example.nl", "the record has exp= more than once"),
    ("v=spf1 redirect= -all", "'redirect=' names no domain"),
    ("v=spf1 -all:foo", "'-all:foo': all takes no argument"),
    ("v=spf1 -all.", "'-all.': all takes no argument"),
    ("v=spf1 mxx -all", "unknown mechanism 'mxx'"),
    ("v=spf1 redirect:_spf.example.nl", "unknown mechanism 'redirect' in 'redirect:_spf.example.nl' (redirect is a "
                                        "modifier: redirect=...)"),
    ("v=spf1 1up=foo -all", "'1up=foo' is neither a mechanism nor a modifier"),
    ("v=spf1 include:%{x}.example.nl -all", "%{x} is not a macro letter here"),
    ("v=spf1 exp=%{r}.example.nl -all", "%{r} is not a macro letter here (s, l, o, d, i, p, h, v; c, r and t only "
                                        "in exp text)"),
    ("v=spf1 exists:%{d0}.example.nl -all", "the number of parts in %{d0} must not be 0"),
    ("v=spf1 exists:foo%.example.nl -all", "'%.exam' is not a macro"),
    ("v=spf1 foo=%(d) -all", "'%(d)' is not a macro"),
    ("v=spf1 ip4:192.0.2.1\t-all", "contains the character U+0009"),
    ("v=spf1 a:mail.noordstad.nl\x00 -all", "'a:mail.noordstad.nl\\x00' contains the character U+0000"),
    ("v=spf1 a:mail.noordst\u00e4d.nl -all", "contains the character U+00E4"),
])
def test_a_record_against_the_grammar_is_a_permerror_with_its_reason(record, reason):
    outcome, dns = evaluate(record)
    assert outcome.result == "permerror"
    assert reason in outcome.reason.en and outcome.reason.nl
    assert outcome.reason.en.startswith(f"in the SPF record of {DOMAIN}: ")
    assert dns.asked == [f"TXT {DOMAIN}"]  # parsed whole before anything is looked up


def test_every_form_the_grammar_allows_parses():
    record = ("v=spf1 +ip4:192.0.2.0/24 -ip4:198.51.100.7 ~ip6:2001:db8::/32 ?ip6:::ffff:192.0.2.1 a a/24 a//64 "
              "a:mail.example.nl/24//64 mx mx:example.nl//48 include:_spf.%{d} include:%{o}._spf.example.nl. "
              "exists:%{i}._spf.%{d2} ptr ptr:example.nl a:foo:bar/baz.example.nl a:x.example.xn--zckzah "
              "a:%{d}%% a:%{h}%_%- moo.cow-far_out=man:dog/cat default=%{c} exp=explain.%{d} "
              "redirect=%{d}._spf.example.nl.  ALL")
    parsed = spf.parse(record)
    assert [m.name for m in parsed.mechanisms][-1] == "all" and parsed.redirect_text == "redirect=%{d}._spf.example.nl."
    assert len(parsed.mechanisms) == 20


@pytest.mark.parametrize("texts, found", [
    (["v=spf1 -all", "google-site-verification=x"], ["v=spf1 -all"]),
    (["V=SPF1 -all"], ["V=SPF1 -all"]),
    (["v=spf1"], ["v=spf1"]),
    (["v=spf10 -all", " v=spf1 -all", "v=spf1-all"], []),
])
def test_records_are_selected_by_their_version(texts, found):
    assert spf.spf_records(texts) == found


def test_two_records_are_a_permerror_and_none_is_none():
    two = spf.evaluate(DOMAIN, Dns({("TXT", DOMAIN): ["v=spf1 -all", "v=spf1 mx -all"]}))
    assert two.result == "permerror" and "noordstad.nl has 2 SPF records" in two.reason.en
    assert spf.evaluate(DOMAIN, Dns({("TXT", DOMAIN): ["not spf"]})).result == "none"
    assert spf.evaluate(DOMAIN, Dns({})).result == "none"


# --- results for a sender the record does not list ---

@pytest.mark.parametrize("record, result, term", [
    ("v=spf1 mx -all", "fail", "-all"),
    ("v=spf1 ip4:192.0.2.0/24 ~all", "softfail", "~all"),
    ("v=spf1 mx ?all", "neutral", "?all"),
    ("v=spf1 a mx", "neutral", None),
    ("v=spf1 +all", "pass", "+all"),
    ("v=spf1 all -all", "pass", "all"),
    ("v=spf1 exists:listed.example.nl -all", "pass", "exists:listed.example.nl"),
    ("v=spf1 -all include:nowhere.example.nl", "fail", "-all"),
])
def test_the_result_for_an_unlisted_sender(record, result, term):
    outcome, dns = evaluate(record, {("A", "listed.example.nl"): ["127.0.0.2"]})
    assert (outcome.result, outcome.term) == (result, term)
    assert "TXT nowhere.example.nl" not in dns.asked  # nothing after `all` is evaluated


def test_an_include_matches_when_its_result_is_pass():
    outcome, _ = evaluate("v=spf1 include:open.example.nl -all", {("TXT", "open.example.nl"): ["v=spf1 +all"]})
    assert (outcome.result, outcome.term) == ("pass", "include:open.example.nl")
    outcome, _ = evaluate("v=spf1 include:closed.example.nl ~all", {("TXT", "closed.example.nl"): ["v=spf1 -all"]})
    assert (outcome.result, outcome.term) == ("softfail", "~all")


@pytest.mark.parametrize("target, reason", [
    ({}, "'include:other.example.nl' in the record of noordstad.nl: other.example.nl has no SPF record"),
    ({("TXT", "other.example.nl"): ["v=spf1 ip4:1.2.3 -all"]},
     "in the SPF record of other.example.nl: '1.2.3' in 'ip4:1.2.3' is not an IPv4 address"),
])
def test_an_include_without_a_valid_record_is_a_permerror(target, reason):
    outcome, _ = evaluate("v=spf1 include:other.example.nl -all", target)
    assert outcome.result == "permerror" and reason in outcome.reason.en


def test_a_dns_error_anywhere_is_a_temperror():
    dns = Dns({("TXT", DOMAIN): ["v=spf1 include:slow.example.nl -all"]}, errors=("slow.example.nl",))
    outcome = spf.evaluate(DOMAIN, dns)
    assert outcome.result == "temperror" and "TXT slow.example.nl failed: timeout" in outcome.reason.en
    missing = spf.evaluate(DOMAIN, {f"TXT {DOMAIN}": {"rcode": "NOERROR", "records": ["v=spf1 mx -all"]}})
    assert missing.result == "temperror" and "MX noordstad.nl failed: not collected" in missing.reason.en


# --- redirect ---

def test_redirect_is_followed_without_all_and_ignored_with_it():
    target = {("TXT", "_spf.example.nl"): ["v=spf1 ip4:192.0.2.0/24 -all"]}
    followed, _ = evaluate("v=spf1 mx redirect=_spf.example.nl", target)
    assert (followed.result, followed.term, followed.where) == ("fail", "-all", "_spf.example.nl")
    assert followed.lookups == 2
    ignored, dns = evaluate("v=spf1 mx redirect=_spf.example.nl ~all", target)
    assert (ignored.result, ignored.lookups) == ("softfail", 1)
    assert "TXT _spf.example.nl" not in dns.asked
    nowhere, _ = evaluate("v=spf1 redirect=nowhere.example.nl")
    assert nowhere.result == "permerror" and "nowhere.example.nl has no SPF record" in nowhere.reason.en


def test_a_loop_is_a_permerror():
    outcome = spf.evaluate(DOMAIN, Dns({("TXT", DOMAIN): ["v=spf1 include:a.example.nl -all"],
                                        ("TXT", "a.example.nl"): ["v=spf1 redirect=noordstad.nl"]}))
    assert outcome.result == "permerror"
    assert "'redirect=noordstad.nl' in the record of a.example.nl leads back to noordstad.nl" in outcome.reason.en


# --- the limits of 4.6.4 ---

def lookups_record(n: int) -> str:
    return "v=spf1 " + " ".join(["a", "mx"] * (n // 2) + ["a"] * (n % 2)) + " -all"


def test_ten_lookups_pass_and_the_eleventh_is_a_permerror_before_its_query():
    ten, _ = evaluate(lookups_record(10))
    assert (ten.result, ten.lookups) == ("fail", 10)
    eleven, dns = evaluate(lookups_record(10).replace(" -all", " exists:x.example.nl -all"))
    assert eleven.result == "permerror" and eleven.lookups == 10
    assert "more than 10 DNS lookups (include, a, mx, ptr, exists, redirect): number 11 is 'exists:x.example.nl' " \
           "in the record of noordstad.nl" in eleven.reason.en
    assert "A x.example.nl" not in dns.asked


def test_lookups_count_over_the_whole_tree_and_a_shared_include_counts_each_time():
    dns = Dns({("TXT", DOMAIN): ["v=spf1 include:a.example.nl include:b.example.nl -all"],
               ("TXT", "a.example.nl"): ["v=spf1 include:common.example.nl ~all"],
               ("TXT", "b.example.nl"): ["v=spf1 include:common.example.nl ~all"],
               ("TXT", "common.example.nl"): ["v=spf1 a ~all"],
               ("A", "common.example.nl"): ["192.0.2.7"], ("AAAA", "common.example.nl"): ["2001:db8::7"]})
    outcome = spf.evaluate(DOMAIN, dns)
    assert (outcome.result, outcome.lookups) == ("fail", 6)
    assert set(outcome.records) == {DOMAIN, "a.example.nl", "b.example.nl", "common.example.nl"}


def diamond(size: int = 38) -> Dns:
    """Issue 15's hostile tree: record i includes records i+1 and i+2, so following every path costs
    exponentially many lookups."""
    names = [DOMAIN] + [f"r{i}.evil.example" for i in range(1, size)]
    records = {("TXT", name): [f"v=spf1 include:{names[i + 1]} include:{names[i + 2]} -all" if i + 2 < size
                               else "v=spf1 -all"] for i, name in enumerate(names)}
    return Dns(records)


def test_an_include_diamond_stops_at_ten_lookups():
    dns = diamond()
    outcome = spf.evaluate(DOMAIN, dns)
    assert outcome.result == "permerror" and outcome.lookups == 10
    assert "more than 10 DNS lookups" in outcome.reason.en
    assert len(dns.asked) == 11  # the domain's record and the ten includes it was allowed


@pytest.mark.parametrize("voids, result", [(2, "neutral"), (3, "permerror")])
def test_void_lookups(voids, result):
    record = "v=spf1 " + " ".join(f"a:gone{i}.example.nl" for i in range(voids)) + " ?all"
    outcome, _ = evaluate(record)
    assert outcome.result == result and outcome.void_lookups["IPv4"] == voids
    if result == "permerror":
        assert "more than 2 void lookups (NXDOMAIN or no records) for senders over IPv4: " \
               "a:gone0.example.nl (NXDOMAIN), a:gone1.example.nl (NXDOMAIN), a:gone2.example.nl (NXDOMAIN)" \
               in outcome.reason.en


def test_a_name_without_aaaa_is_void_for_ipv6_senders_only():
    v4only = {("A", f"h{i}.example.nl"): ["192.0.2.1"] for i in range(3)}
    outcome, _ = evaluate("v=spf1 a:h0.example.nl a:h1.example.nl a:h2.example.nl -all", v4only)
    assert outcome.result == "permerror"
    assert "for senders over IPv6: a:h0.example.nl (no AAAA)" in outcome.reason.en
    two, _ = evaluate("v=spf1 a:h0.example.nl a:h1.example.nl -all", v4only)
    assert (two.result, two.void_lookups) == ("fail", {"IPv4": 0, "IPv6": 2})


def test_void_mx_and_exists_count_for_both_families():
    outcome, _ = evaluate("v=spf1 mx:nomx.example.nl exists:gone.example.nl mx:gone.example.nl -all",
                          {("A", "nomx.example.nl"): ["192.0.2.1"]})
    assert outcome.result == "permerror" and "mx:nomx.example.nl (no MX)" in outcome.reason.en


def test_more_than_ten_mx_records_is_a_permerror():
    mx = [f"mx{i}.example.nl" for i in range(11)]
    outcome, _ = evaluate("v=spf1 mx:many.example.nl -all", {("MX", "many.example.nl"): mx})
    assert outcome.result == "permerror" and "many.example.nl has 11 MX records, more than 10" in outcome.reason.en
    ten, _ = evaluate("v=spf1 mx:many.example.nl -all", {("MX", "many.example.nl"): mx[:10]})
    assert ten.result == "fail"


# --- macros ---

def test_include_and_redirect_targets_expand_d_o_and_h():
    dns = Dns({("TXT", DOMAIN): ["v=spf1 include:_spf.provider.example -all"],
               ("TXT", "_spf.provider.example"): ["v=spf1 include:%{d}.a.example include:%{o}.b.example "
                                                  "include:%{h}.c.example redirect=%{d2}.d.example"],
               ("TXT", "_spf.provider.example.a.example"): ["v=spf1 ?all"],
               ("TXT", "noordstad.nl.b.example"): ["v=spf1 ?all"],
               ("TXT", "noordstad.nl.c.example"): ["v=spf1 ?all"],
               ("TXT", "provider.example.d.example"): ["v=spf1 ?all"]})
    outcome = spf.evaluate(DOMAIN, dns)
    assert outcome.result == "fail" and outcome.lookups == 5
    assert dns.asked[-4:] == ["TXT _spf.provider.example.a.example", "TXT noordstad.nl.b.example",
                              "TXT noordstad.nl.c.example", "TXT provider.example.d.example"]


@pytest.mark.parametrize("spec, expanded", [
    ("%{d}", "mail.gemeente.example.nl"),
    ("%{d2}", "example.nl"),
    ("%{dr}", "nl.example.gemeente.mail"),
    ("%{d2r}", "gemeente.mail"),
    ("%{o-}", "own.domain.nl"),
    ("%{o1r-}", "own"),
    ("_spf.%{h}.", "_spf.own-domain.nl."),
    ("%%%_%-", "% %20"),
    ("%{D}", "mail.gemeente.example.nl"),
])
def test_macro_expansion(spec, expanded):
    parts = spf.macro_parts(spec, spf.DOMAIN_MACRO_LETTERS, spec)
    assert spf.expand(parts, "mail.gemeente.example.nl", "own-domain.nl") == expanded


def test_upper_case_macros_are_url_escaped_and_long_names_lose_labels_on_the_left():
    parts = spf.macro_parts("%{O}.x.example", spf.DOMAIN_MACRO_LETTERS, "a:%{O}.x.example")
    assert spf.expand(parts, "d.nl", "a b=c.nl") == "a%20b%3Dc.nl.x.example"
    long = ".".join(["label"] * 60) + ".example"
    name = spf.target_name(long + ".", "a:...")
    assert len(name) <= 253 and name.endswith(".label.example") and not name.startswith(".")
    with pytest.raises(spf.PermError, match="is not a domain name"):
        spf.target_name("mail.example..nl", "a:mail.example..nl")


def test_targets_that_need_the_sender_are_counted_and_noted_not_guessed():
    outcome, dns = evaluate("v=spf1 include:%{i}._ip.%{d}._spf.example exists:%{l}.%{d}.example ptr -all")
    assert (outcome.result, outcome.lookups) == ("fail", 3)
    assert dns.asked == [f"TXT {DOMAIN}"]
    assert outcome.notes == [
        "'include:%{i}._ip.%{d}._spf.example' in the record of noordstad.nl depends on the sender (%{i}): "
        "not evaluated",
        "'exists:%{l}.%{d}.example' in the record of noordstad.nl depends on the sender (%{l}): not evaluated",
        "'ptr' in the record of noordstad.nl depends on the sender's address: not evaluated (RFC 7208 5.5: ptr "
        "should not be used)"]
    redirected, _ = evaluate("v=spf1 redirect=%{l}._spf.example.nl")
    assert (redirected.result, redirected.term) == ("unknown", "redirect=%{l}._spf.example.nl")
