"""The lab's certificates and zone files, built into a temporary directory and checked offline: certificate
profiles with `cryptography`, zones with `nsd-checkzone` and DNSSEC signatures with dnspython."""
from __future__ import annotations

import datetime
import subprocess
import textwrap

import dns.dnssec
import dns.name
import dns.rdatatype
import dns.zone
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from cryptography.x509.oid import SignatureAlgorithmOID

from lab import dns as lab_dns
from lab import hostile as lab_hostile
from lab import pki
from lab import plan as lab_plan
from lab.scenario import loads

SCENARIO = textwrap.dedent("""\
    name: build
    nameserver_sets:
      ns1.oldhost.nl: {stack: ipv4}
      ns.silent.nl: {stack: dual, responsive: false}
    sites:
      - {host: www.secure.nl, tlsa: match, mail: starttls, mail_tlsa: mismatch}
      - {host: www.unsigned.nl, dnssec: insecure, stack: ipv4, nameservers: [ns1.oldhost.nl]}
      - {host: www.badds.nl, dnssec: bogus_ds}
      - {host: www.old.nl, dnssec: bogus_expired, cert: expired}
      - {host: www.norrsig.nl, dnssec: bogus_missing_rrsig, nameservers: [ns1.dnsprovider.nl, ns.silent.nl]}
      - {host: www.wrong.gov.nl, cert: wrong_host}
      - {host: www.self.nl, cert: self_signed}
      - {host: www.weak.nl, cert: rsa2048}
      - {host: www.sha1.nl, cert: sha1}
      - {host: www.dsa.nl, cert: dsa_intermediate}
      - {host: www.kex.nl, tls: rsa_kex, records: ["@ TXT \\"v=spf1 -all\\""]}
      - {host: www.trap.nl, dnssec: bogus_keytrap, mail: drip}
      - {host: www.achterdeur.nl, hostile: internal_redirect}
    """)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("lab")
    plan = lab_plan.build(loads(SCENARIO, "build.yaml"), workdir)
    pki.build(plan)
    servers = lab_dns.build(plan)
    return plan, servers


def cert(plan, host) -> x509.Certificate:
    return x509.load_pem_x509_certificate(plan.hosts[host].cert_file.read_bytes())


def zone(plan, name) -> dns.zone.Zone:
    path = plan.workdir / "dns" / "zones" / f"{name or 'root'}.zone"
    return dns.zone.from_file(str(path), origin=name + "." if name else ".", relativize=False)


def test_certificate_profiles(built):
    plan, _ = built
    now = datetime.datetime.now(datetime.timezone.utc)
    intermediate = x509.load_pem_x509_certificate((plan.ca_file.parent / "intermediate.pem").read_bytes())
    good = cert(plan, "www.secure.nl")
    assert good.issuer == intermediate.subject and isinstance(good.public_key(), ec.EllipticCurvePublicKey)
    good.verify_directly_issued_by(intermediate)
    assert good.not_valid_after_utc > now
    san = good.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert san == ["www.secure.nl", "secure.nl"]
    assert cert(plan, "www.old.nl").not_valid_after_utc < now
    wrong = cert(plan, "www.wrong.gov.nl").extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert "www.wrong.gov.nl" not in wrong.value.get_values_for_type(x509.DNSName)
    self_signed = cert(plan, "www.self.nl")
    assert self_signed.issuer == self_signed.subject
    assert cert(plan, "www.weak.nl").public_key().key_size == 2048
    assert isinstance(cert(plan, "www.kex.nl").public_key(), rsa.RSAPublicKey)
    assert cert(plan, "www.kex.nl").public_key().key_size == 3072
    assert cert(plan, "www.sha1.nl").signature_hash_algorithm.name == "sha1"
    assert plan.ca_file.read_text().count("BEGIN CERTIFICATE") == 1
    assert plan.hosts["www.secure.nl"].chain_file.read_text().count("BEGIN CERTIFICATE") == 2


def test_a_dsa_intermediate_issues_with_dsa(built):
    """`cert: dsa_intermediate`: the leaf (EC P-256) is signed with DSA and SHA-256 by an intermediate with a
    DSA-2048 key, which the lab root signs; the chain served is the leaf and that intermediate."""
    plan, _ = built
    leaf, intermediate = x509.load_pem_x509_certificates(plan.hosts["www.dsa.nl"].chain_file.read_bytes())
    root = x509.load_pem_x509_certificate(plan.ca_file.read_bytes())
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
    assert leaf.signature_algorithm_oid == SignatureAlgorithmOID.DSA_WITH_SHA256
    assert isinstance(intermediate.public_key(), dsa.DSAPublicKey) and intermediate.public_key().key_size == 2048
    leaf.verify_directly_issued_by(intermediate)
    intermediate.verify_directly_issued_by(root)
    assert leaf.issuer != cert(plan, "www.secure.nl").issuer


def test_every_zone_file_loads_in_nsd(built):
    plan, _ = built
    for z in plan.zones.values():
        path = plan.workdir / "dns" / "zones" / f"{z.name or 'root'}.zone"
        done = subprocess.run(["nsd-checkzone", z.origin, str(path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def _validate(plan, name: str, owner: str, rdtype) -> None:
    """Validate one RRset of a zone with the zone's own DNSKEY (raises ValidationFailure)."""
    built = zone(plan, name)
    origin = dns.name.from_text(name + ".")
    keys = {origin: built.find_rrset(origin, dns.rdatatype.DNSKEY)}
    rrset = built.find_rrset(owner + ".", rdtype)
    sigs = built.find_rrset(owner + ".", dns.rdatatype.RRSIG, rdtype)
    dns.dnssec.validate(rrset, sigs, keys)


def _ds_matches(plan, name: str) -> bool:
    parent = zone(plan, plan.zones[name].parent)
    child = zone(plan, name)
    ds = parent.find_rrset(name + ".", dns.rdatatype.DS)[0]
    keys = child.find_rrset(name + ".", dns.rdatatype.DNSKEY)
    return any(dns.dnssec.make_ds(name + ".", key, "SHA256") == ds for key in keys)


def test_dnssec_variants(built):
    plan, _ = built
    _validate(plan, "secure.nl", "www.secure.nl", dns.rdatatype.A)
    assert _ds_matches(plan, "secure.nl") and _ds_matches(plan, "nl") and _ds_matches(plan, "gov.nl")
    assert not _ds_matches(plan, "badds.nl")
    with pytest.raises(dns.dnssec.ValidationFailure):
        _validate(plan, "old.nl", "www.old.nl", dns.rdatatype.A)
    with pytest.raises(KeyError):
        _validate(plan, "norrsig.nl", "www.norrsig.nl", dns.rdatatype.AAAA)
    _validate(plan, "norrsig.nl", "norrsig.nl", dns.rdatatype.SOA)  # only the host's A/AAAA lose their RRSIG
    unsigned = zone(plan, "unsigned.nl")
    assert unsigned.get_rdataset("unsigned.nl.", dns.rdatatype.DNSKEY) is None
    assert zone(plan, "nl").get_rdataset("unsigned.nl.", dns.rdatatype.DS) is None


def test_a_keytrap_zone(built):
    """KeyTrap: the DNSKEY set, with 80 colliding RSA keys, still validates with the key the DS points at;
    the host's addresses carry 150 RRSIGs with the colliding tag and no other."""
    plan, _ = built
    _validate(plan, "trap.nl", "trap.nl", dns.rdatatype.DNSKEY)
    assert _ds_matches(plan, "trap.nl")
    trap = zone(plan, "trap.nl")
    keys = trap.find_rrset("trap.nl.", dns.rdatatype.DNSKEY)
    colliding = [key for key in keys if dns.dnssec.key_id(key) == lab_dns.KEYTRAP_TAG]
    assert len(keys) == 81 and len(colliding) == lab_dns.KEYTRAP_KEYS
    assert all(key.algorithm == dns.dnssec.Algorithm.RSASHA256 and len(key.key) > 2 * lab_dns.KEYTRAP_BITS // 8
               for key in colliding)  # exponent and modulus of 2048 bits each
    for covered in (dns.rdatatype.A, dns.rdatatype.AAAA):
        signatures = trap.find_rdataset("www.trap.nl.", dns.rdatatype.RRSIG, covered)
        assert len(signatures) == lab_dns.KEYTRAP_SIGNATURES
        assert {rrsig.key_tag for rrsig in signatures} == {lab_dns.KEYTRAP_TAG}


def test_the_internal_redirect_target_resolves_to_loopback_in_a_signed_zone(built):
    plan, _ = built
    name = lab_hostile.internal_name("www.achterdeur.nl") + "."
    assert name == "metadata.www.achterdeur.nl."
    found = zone(plan, "achterdeur.nl")
    assert [r.address for r in found.find_rdataset(name, dns.rdatatype.A)] == ["127.0.0.1"]
    assert [r.address for r in found.find_rdataset(name, dns.rdatatype.AAAA)] == ["::1"]
    _validate(plan, "achterdeur.nl", name[:-1], dns.rdatatype.A)


def test_records_glue_tlsa_and_name_servers(built):
    plan, servers = built
    secure = zone(plan, "secure.nl")
    tlsa = secure.find_rdataset("_443._tcp.www.secure.nl.", dns.rdatatype.TLSA)[0]
    assert tlsa.usage == 3 and tlsa.selector == 1 and tlsa.mtype == 1
    assert tlsa.cert.hex() == pki.spki_sha256(plan.hosts["www.secure.nl"].cert_file.read_bytes())
    mail_tlsa = secure.find_rdataset("_25._tcp.mail.secure.nl.", dns.rdatatype.TLSA)[0]
    assert mail_tlsa.cert.hex() != pki.spki_sha256(plan.hosts["mail.secure.nl"].cert_file.read_bytes())
    assert secure.find_rdataset("secure.nl.", dns.rdatatype.MX)[0].exchange.to_text() == "mail.secure.nl."
    assert secure.find_rdataset("secure.nl.", dns.rdatatype.CAA)
    nl = zone(plan, "nl")
    assert nl.get_rdataset("ns1.oldhost.nl.", dns.rdatatype.AAAA) is None
    assert nl.find_rdataset("ns1.oldhost.nl.", dns.rdatatype.A)
    assert zone(plan, "").find_rdataset("ns1.nic.nl.", dns.rdatatype.A)  # glue in the root
    assert zone(plan, "kex.nl").find_rdataset("kex.nl.", dns.rdatatype.TXT)
    names = [name for name, _, _ in servers]
    assert "nsd ns.silent.nl" not in names and "nsd ns1.oldhost.nl" in names and "unbound" in names
    oldhost = next(ports for name, _, ports in servers if name == "nsd ns1.oldhost.nl")
    assert all(":" not in address for address, _ in oldhost)


def test_addresses_this_machine_uses_are_never_given_to_lab_hosts(tmp_path, monkeypatch):
    """Here the package registries answer at 203.0.113.80, inside a lab range: the lab must leave it alone."""
    taken = lab_plan.HOST_IPV4[0]
    monkeypatch.setattr(lab_plan, "machine_addresses", lambda: frozenset({taken}))
    plan = lab_plan.build(loads(SCENARIO, "build.yaml"), tmp_path)
    assert all(taken not in host.ipv4 for host in plan.hosts.values())
