"""The mail probe against a hand-built signed DNS tree (tests/unit/fakedns.py) and the lab's own SMTP
server (lab/smtp.py) on 127.0.0.1 and ::1: what it collects for the mail checks, judged by them."""
from __future__ import annotations

import asyncio

import pytest

from checks.registry import all_checks, evaluate
from govscan.model import Artifact, Reason, Site, Status
from scanner.probes.mail import MailProbe, spf_term
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
    return evaluate(all_checks()[check_id], SITE, {"mail": Artifact("mail", 1, SITE.host, data)}, {},
                    run or {"ipv6": True})


def test_a_well_configured_domain_is_collected_and_passes(smtp_servers, tmp_path):
    facts = collect(smtp_servers, tmp_path)
    assert facts["domain"] == "noordstad.nl" and facts["mx"] == [{"preference": 10, "host": MX}]
    assert facts["spf"]["lookups"] == 5  # mx, include, and in the includes: include, a, mx
    assert set(facts["spf"]["included"]) == {"_spf.mailhost.nl", "_spf2.mailhost.nl"}
    assert facts["dmarc"]["policy"] == "quarantine" and facts["dkim"]["rcode"] == "NOERROR"
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


def test_an_spf_include_without_a_record_is_an_error_in_the_record(smtp_servers, tmp_path):
    facts = collect(smtp_servers, tmp_path, spf="v=spf1 include:nergens.mailhost.nl -all")
    assert facts["spf"]["errors"] == ["'include:nergens.mailhost.nl': nergens.mailhost.nl has 0 SPF records, not one"]
    assert judge("mail.spf", facts).status == Status.FAIL


def test_without_ipv6_the_ipv6_address_is_not_contacted(smtp_servers, tmp_path):
    facts = collect(smtp_servers, tmp_path, run_facts={"ipv6": False})
    assert facts["mx_hosts"][0]["addresses"]["::1"]["error"] == Reason.NO_IPV6
    assert judge("mail.ipv6", facts, {"ipv6": False}).status == Status.ERROR
    assert judge("mail.starttls", facts, {"ipv6": False}).status == Status.ERROR


@pytest.mark.parametrize("term, parsed", [
    ("-all", ("-", "all", "", False)), ("include:_spf.x.nl", ("+", "include", "_spf.x.nl", False)),
    ("~ip4:192.0.2.0/24", ("~", "ip4", "192.0.2.0/24", False)), ("a/24", ("+", "a", "", False)),
    ("redirect=_spf.x.nl", ("+", "redirect", "_spf.x.nl", True)), ("MX", ("+", "mx", "", False)),
])
def test_spf_terms(term, parsed):
    assert spf_term(term) == parsed


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
