"""The mail probe against a hand-built signed DNS tree (tests/unit/fakedns.py) and the lab's own SMTP
server (lab/smtp.py) on 127.0.0.1 and ::1: what it collects for the mail checks, judged by them."""
from __future__ import annotations

import asyncio

import dns.name
import pytest

from checks import spf
from checks.registry import all_checks, evaluate
from govscan.model import Artifact, Reason, Site, Status
from scanner.probes.mail import MailProbe, dmarc_facts, spf_facts
from scanner.resolver import QueryTally
from lab.pki import spki_sha256
from lab.smtp import Smtp
from tests.unit.fakedns import INSECURE, SECURE, Tree, ZoneSpec, context
from tests.unit.tls_servers import background_loop, free_port, self_signed

SITE = Site("https://www.noordstad.nl/", "www.noordstad.nl")
MX = "mail.noordstad.nl"


@pytest.fixture(scope="module")
def smtp_servers(tmp_path_factory):
    """The lab's SMTP server in STARTTLS mode (modern profile) on one port of 127.0.0.1 and ::1."""
    cert, key = self_signed(tmp_path_factory.mktemp("smtp"), "ec256")
    server = Smtp({"host": MX, "mode": "starttls", "tls": "modern", "chain": str(cert), "key": str(key)})
    port = free_port("127.0.0.1")

    async def start():
        return [await asyncio.start_server(server.handle, address, port) for address in ("127.0.0.1", "::1")]
    with background_loop() as loop:
        servers = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
        yield port, spki_sha256(cert.read_bytes())
        for one in servers:
            loop.call_soon_threadsafe(one.close)


def tree(spki: str, mode: str = SECURE, spf: str = "v=spf1 mx include:_spf.mailhost.nl -all") -> Tree:
    return Tree([
        ZoneSpec(".", []), ZoneSpec("nl.", []),
        ZoneSpec("noordstad.nl.", [
            "www 3600 IN A 198.51.100.10", "@ 3600 IN MX 10 mail", f'@ 3600 IN TXT "{spf}"',
            '_dmarc 3600 IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@noordstad.nl"',
            'sel1._domainkey 3600 IN TXT "v=DKIM1; k=ed25519; p=YW4ubs+K0hwrSkUc6D6ItfFP2o1Vr9C84F+L96XtFpg="',
            "mail 3600 IN A 127.0.0.1", "mail 3600 IN AAAA ::1", f"_25._tcp.mail 3600 IN TLSA 3 1 1 {spki}"],
            mode=mode),
        ZoneSpec("mailhost.nl.", ['_spf 3600 IN TXT "v=spf1 ip4:192.0.2.0/24 include:_spf2.mailhost.nl ~all"',
                                  '_spf2 3600 IN TXT "v=spf1 a mx ~all"']),
    ])


def collect(smtp_servers, tmp_path, run_facts=None, **tree_options) -> dict:
    port, spki = smtp_servers
    ctx = context(tree(spki, **tree_options), tmp_path, run_facts)
    return asyncio.run(MailProbe(port=port).collect(ctx, SITE, None, {}))


def judge(check_id: str, data: dict, run=None):
    return evaluate(all_checks()[check_id], SITE, {"mail": Artifact("mail", 2, SITE.host, data)}, {},
                    run or {"ipv6": True})


def test_a_well_configured_domain_is_collected_and_passes(smtp_servers, tmp_path):
    facts = collect(smtp_servers, tmp_path)
    assert facts["domain"] == "noordstad.nl" and facts["mx"] == [{"preference": 10, "host": MX}]
    outcome = spf.evaluate("noordstad.nl", facts["spf"]["answers"])
    assert outcome.lookups == 5  # mx, include, and in the includes: include, a, mx
    assert set(outcome.records) == {"noordstad.nl", "_spf.mailhost.nl", "_spf2.mailhost.nl"}
    assert facts["dmarc"] == {"organisational_domain": "noordstad.nl", "answers": {"_dmarc.noordstad.nl": {
        "rcode": "NOERROR", "records": ["v=DMARC1; p=quarantine; rua=mailto:dmarc@noordstad.nl"]}}}
    assert facts["dkim"]["rcode"] == "NOERROR"
    [host] = facts["mx_hosts"]
    assert set(host["addresses"]) == {"127.0.0.1", "::1"}
    session = host["addresses"]["::1"]
    assert session["starttls"] and session["certificates"] and session["tls"]["protocols"]["TLSv1.3"]
    for check_id in ("mail.spf", "mail.dmarc", "mail.dkim", "mail.starttls", "mail.dane", "mail.dnssec",
                     "mail.ipv6"):
        assert judge(check_id, facts).status == Status.PASS, (check_id, judge(check_id, facts).summary.en)


def test_an_unsigned_domain_fails_dnssec_and_dane(smtp_servers, tmp_path):
    facts = collect(smtp_servers, tmp_path, mode=INSECURE)
    assert judge("mail.dnssec", facts).status == Status.FAIL
    assert "not DNSSEC-secure" in judge("mail.dane", facts).summary.en


def test_an_spf_include_without_a_record_is_a_permerror(smtp_servers, tmp_path):
    facts = collect(smtp_servers, tmp_path, spf="v=spf1 include:nergens.mailhost.nl -all")
    assert facts["spf"]["answers"]["TXT nergens.mailhost.nl"] == {"rcode": "NXDOMAIN", "records": []}
    finding = judge("mail.spf", facts)
    assert finding.status == Status.FAIL and "nergens.mailhost.nl has no SPF record" in finding.summary.en


def test_without_ipv6_the_ipv6_address_is_not_contacted(smtp_servers, tmp_path):
    facts = collect(smtp_servers, tmp_path, run_facts={"ipv6": False})
    assert facts["mx_hosts"][0]["addresses"]["::1"]["error"] == Reason.NO_IPV6
    assert judge("mail.ipv6", facts, {"ipv6": False}).status == Status.ERROR
    assert judge("mail.starttls", facts, {"ipv6": False}).status == Status.ERROR


def spf_tree(records: list[str], **options) -> Tree:
    return Tree([ZoneSpec(".", []), ZoneSpec("nl.", []), ZoneSpec("noordstad.nl.", records, **options)])


def test_an_spf_include_diamond_costs_at_most_the_rfc_limit(tmp_path):
    """Issue 15: 38 records that each include the next two (349,524 lookups before). The probe asks each
    query once, and the evaluation stops at the 11th lookup."""
    names = ["@"] + [f"r{i}" for i in range(1, 38)]
    records = [f'{name} 3600 IN TXT "v=spf1 include:{names[i + 1]}.noordstad.nl include:{names[i + 2]}.noordstad.nl '
               f'-all"' for i, name in enumerate(names[:-2])]
    ctx = context(spf_tree(records), tmp_path)
    tally = QueryTally()
    facts = asyncio.run(spf_facts(ctx, "noordstad.nl", tally))
    assert list(facts["answers"]) == ["TXT noordstad.nl"] + [f"TXT r{i}.noordstad.nl" for i in range(1, 11)]
    assert tally.asked == 11
    outcome = spf.evaluate("noordstad.nl", facts["answers"])
    assert outcome.result == "permerror" and "more than 10 DNS lookups" in outcome.reason.en


def test_an_spf_target_that_does_not_answer_is_a_temperror(tmp_path):
    tree = spf_tree(['@ 3600 IN TXT "v=spf1 include:_spf.noordstad.nl -all"'])
    tree.unreachable.add((dns.name.from_text("_spf.noordstad.nl."), "TXT"))
    facts = asyncio.run(spf_facts(context(tree, tmp_path), "noordstad.nl", QueryTally()))
    assert facts["answers"]["TXT _spf.noordstad.nl"]["error"].startswith("timeout: ")
    assert spf.evaluate("noordstad.nl", facts["answers"]).result == "temperror"


def test_an_spf_evaluation_past_its_time_is_a_temperror(tmp_path):
    ctx = context(spf_tree(['@ 3600 IN TXT "v=spf1 mx -all"']), tmp_path)
    ctx.settings.scan.spf_timeout = 0.0
    facts = asyncio.run(spf_facts(ctx, "noordstad.nl", QueryTally()))
    assert facts["answers"] == {"TXT noordstad.nl": {
        "error": "timeout: the SPF evaluation took longer than scan.spf_timeout (0 s)"}}


def test_dmarc_is_asked_at_the_organisational_domain_from_the_public_suffix_list(tmp_path):
    """post.noordstad.nl (a zone of its own) also asks _dmarc.noordstad.nl; x.gov.nl asks only its own name,
    as gov.nl is a public suffix whose _dmarc record speaks for no one else."""
    tree = Tree([ZoneSpec(".", []), ZoneSpec("nl.", []),
                 ZoneSpec("gov.nl.", ['_dmarc 3600 IN TXT "v=DMARC1; p=reject"']),
                 ZoneSpec("digitalezaken.gov.nl.", ["www 3600 IN A 198.51.100.10"]),
                 ZoneSpec("noordstad.nl.", ['_dmarc 3600 IN TXT "v=DMARC1; p=reject"']),
                 ZoneSpec("post.noordstad.nl.", ["www 3600 IN A 198.51.100.10"])])
    ctx = context(tree, tmp_path)
    sub = asyncio.run(dmarc_facts(ctx, "post.noordstad.nl", QueryTally()))
    assert sub["organisational_domain"] == "noordstad.nl"
    assert sub["answers"]["_dmarc.noordstad.nl"]["records"] == ["v=DMARC1; p=reject"]
    gov = asyncio.run(dmarc_facts(ctx, "digitalezaken.gov.nl", QueryTally()))
    assert gov == {"organisational_domain": "digitalezaken.gov.nl",
                   "answers": {"_dmarc.digitalezaken.gov.nl": {"rcode": "NXDOMAIN", "records": []}}}


def test_an_mx_address_is_measured_once_per_run(smtp_servers, tmp_path):
    """Two sites of one mail domain in one run: the mail server sees one evaluation per address."""
    port, spki = smtp_servers
    ctx = context(tree(spki), tmp_path)
    probe = MailProbe(port=port)
    other = Site("https://loket.noordstad.nl/", "loket.noordstad.nl")

    async def run():
        await probe.setup(ctx)
        return await asyncio.gather(probe.collect(ctx, SITE, None, {}), probe.collect(ctx, other, None, {}))
    first, second = asyncio.run(run())
    assert len(probe.sessions) == 2  # 127.0.0.1 and ::1
    assert first["mx_hosts"][0]["addresses"]["::1"] is second["mx_hosts"][0]["addresses"]["::1"]


def test_a_dmarc_name_too_long_to_ask_is_an_error_not_a_crash(tmp_path):
    """A 247-character zone: `_dmarc.` makes a name over DNS's 255 octets, which is not asked."""
    domain = ".".join(["a" * 48] * 5) + ".nl"
    ctx = context(spf_tree([]), tmp_path)
    facts = asyncio.run(dmarc_facts(ctx, domain, QueryTally()))
    assert "cannot be asked" in facts["answers"][f"_dmarc.{domain}"]["error"]
    data = {"domain": domain, "spf": {"answers": {}}, "dmarc": facts}
    finding = judge("mail.dmarc", data)
    assert finding.status == Status.ERROR and finding.reason == Reason.DNS
