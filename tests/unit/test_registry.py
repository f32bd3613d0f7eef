"""The registry gates checks on their artifacts and never lets a check crash a run."""
from checks.registry import Check, evaluate
from govscan.model import matches
from govscan.model import Artifact, Site, Status, Text, Verdict

SITE = Site("https://www.example.nl/", "www.example.nl")


def make(fn, per_address=False):
    return Check(id="test.check", version=2, level="required", family="test", requires=("http",),
                 per_address=per_address, norm="norm", title=Text("t", "t"), advice=Text("a", "a"), evaluate=fn)


def ok(probe="http", data=None):
    return Artifact(probe, 1, "www.example.nl", data or {"x": 1})


def test_failed_artifact_gives_error_with_its_reason_without_calling_the_check():
    called = []
    check = make(lambda facts: called.append(1))
    failed = Artifact("http", 1, "www.example.nl", error="timeout", error_detail="no result within 5s")
    finding = evaluate(check, SITE, {"http": failed}, {})
    assert finding.status == Status.ERROR and finding.reason == "timeout"
    assert "5s" in finding.summary.en and not called


def test_exception_in_check_is_error_bug():
    def broken(facts):
        raise KeyError("missing")

    finding = evaluate(make(broken), SITE, {"http": ok()}, {})
    assert finding.status == Status.ERROR and finding.reason == "bug"


def test_finding_carries_norm_and_version():
    finding = evaluate(make(lambda f: Verdict(Status.PASS, Text("ja", "yes"))), SITE, {"http": ok()}, {})
    assert (finding.status, finding.norm, finding.check_version, finding.site) == (Status.PASS, "norm", 2, SITE.host)


def test_per_address_worst_wins_and_fail_beats_error():
    def by_value(facts):
        return Verdict(Status(facts["http"]["s"]), Text(facts.address, facts.address))

    per_address = {"198.51.100.1": {"http": ok(data={"s": "pass"})},
                   "198.51.100.2": {"http": ok(data={"s": "fail"})},
                   "2001:db8::1": {"http": Artifact("http", 1, "2001:db8::1", error="connect")}}
    finding = evaluate(make(by_value, per_address=True), SITE, {}, per_address)
    assert finding.status == Status.FAIL
    assert finding.summary.en.startswith("198.51.100.2")
    assert [a.status for a in finding.addresses] == [Status.PASS, Status.FAIL, Status.ERROR]


def test_patterns_with_wildcards():
    assert matches("web.tls.version", "web.tls.*,dns.dnssec")
    assert matches("dns.dnssec", "web.tls.*,dns.dnssec")
    assert not matches("web.https.hsts", "web.tls.*,dns.dnssec")
    assert matches("anything", None)


def test_optional_probes_are_collected_but_not_gated():
    from scanner.runner import probes_for

    seen = []
    check = Check(id="test.optional", version=1, level="required", family="test", requires=("dns",),
                  per_address=True, norm="norm", title=Text("t", "t"), advice=Text("a", "a"),
                  evaluate=lambda facts: seen.append(facts.artifacts["http"].error) or
                  Verdict(Status.NOT_APPLICABLE, Text("n.v.t.", "n/a")), optional=("http",))
    assert {p.name for p in probes_for([check])} == {"dns", "http"}
    failed = {"198.51.100.1": {"http": Artifact("http", 1, "198.51.100.1", error="connect")}}
    finding = evaluate(check, SITE, {"dns": ok("dns")}, failed)
    assert finding.status == Status.NOT_APPLICABLE and seen == ["connect"]
