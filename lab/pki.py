"""The lab's PKI: a root CA and an intermediate, and a certificate per host as its `cert` profile says.

The CA bundle given to the scanner (`LabPlan.ca_file`) holds the lab root only. RSA keys are slow to make,
so hosts share one key per RSA size; EC keys are made per host. Hosts with `ocsp_stapling` get an OCSP
response from the intermediate (the leaf's issuer), which nginx staples as it is: `good` (valid for a
day), `revoked`, or `expired` (its nextUpdate two days past).

`cert: dsa_intermediate` hosts are issued by a second intermediate of the root instead, with a DSA-2048 key
(made on first use): the leaf's signature is DSA with SHA-256 and the intermediate's key is DSA, both
insufficient per NCSC.
"""
from __future__ import annotations

import datetime
import hashlib
import subprocess
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lab.plan import HostPlan, LabPlan

DAY = datetime.timedelta(days=1)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "govscan lab"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _ca(subject: str, key, issuer_name: x509.Name | None, issuer_key, path_length: int,
        now: datetime.datetime) -> x509.Certificate:
    builder = (x509.CertificateBuilder()
               .subject_name(_name(subject))
               .issuer_name(issuer_name or _name(subject))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - 30 * DAY)
               .not_valid_after(now + 3650 * DAY)
               .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, key_cert_sign=True, crl_sign=True,
                                            encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    return builder.sign(issuer_key, hashes.SHA256())


def spki_sha256(cert_pem: bytes) -> str:
    """The TLSA 3 1 1 association data of a certificate: SHA-256 of its SubjectPublicKeyInfo."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


class Pki:
    def __init__(self, directory: Path):
        self.directory = directory
        self.now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = _ca("govscan lab root CA", self.root_key, None, self.root_key, 1, self.now)
        self.intermediate_key = ec.generate_private_key(ec.SECP256R1())
        self.intermediate = _ca("govscan lab intermediate CA", self.intermediate_key, self.root.subject,
                                self.root_key, 0, self.now)
        self._rsa: dict[int, rsa.RSAPrivateKey] = {}
        self._dsa_intermediate: tuple[x509.Certificate, dsa.DSAPrivateKey] | None = None

    def dsa_intermediate(self) -> tuple[x509.Certificate, dsa.DSAPrivateKey]:
        """An intermediate of the root with a DSA-2048 key (the root signs it with ECDSA and SHA-256)."""
        if self._dsa_intermediate is None:
            key = dsa.generate_private_key(key_size=2048)
            self._dsa_intermediate = (_ca("govscan lab DSA intermediate CA", key, self.root.subject, self.root_key,
                                          0, self.now), key)
        return self._dsa_intermediate

    def _key(self, key_type: str):
        if key_type == "ec256":
            return ec.generate_private_key(ec.SECP256R1())
        size = {"rsa3072": 3072, "rsa2048": 2048, "rsa1024": 1024}[key_type]
        if size not in self._rsa:
            self._rsa[size] = rsa.generate_private_key(public_exponent=65537, key_size=size)
        return self._rsa[size]

    def _sign_sha1(self, cert: x509.Certificate, key) -> x509.Certificate:
        """The same certificate signed by the intermediate with SHA-1. `cryptography` refuses SHA-1
        signatures, so the openssl command signs a request that carries the certificate's extensions."""
        request = (x509.CertificateSigningRequestBuilder().subject_name(cert.subject)
                   .add_extension(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value,
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                   .sign(key, hashes.SHA256()))
        with tempfile.TemporaryDirectory(dir=self.directory) as tmp:
            tmp = Path(tmp)
            (tmp / "req.pem").write_bytes(request.public_bytes(serialization.Encoding.PEM))
            (tmp / "ca.pem").write_bytes(_pem(self.intermediate))
            (tmp / "ca.key").write_bytes(_pem_key(self.intermediate_key))
            subprocess.run(["openssl", "x509", "-req", "-in", tmp / "req.pem", "-CA", tmp / "ca.pem",
                            "-CAkey", tmp / "ca.key", "-set_serial", str(cert.serial_number), "-days", "90",
                            "-sha1", "-copy_extensions", "copyall", "-out", tmp / "leaf.pem"],
                           check=True, capture_output=True)
            return x509.load_pem_x509_certificate((tmp / "leaf.pem").read_bytes())

    def leaf(self, plan: HostPlan) -> None:
        """Write the host's key, leaf certificate and chain as its `cert` profile says."""
        profile = plan.site["cert"]
        key = self._key(plan.key_type)
        names = [plan.host, *plan.aliases]
        if profile == "wrong_host":
            names = [f"www.andere-organisatie.{plan.zone.rsplit('.', 1)[-1]}"]
        subject = _name(names[0])
        issuer, issuer_key = self.intermediate, self.intermediate_key
        if profile == "dsa_intermediate":
            issuer, issuer_key = self.dsa_intermediate()
        issuer_name = issuer.subject
        if profile == "self_signed":
            issuer_name, issuer_key = subject, key
        not_before, not_after = self.now - 30 * DAY, self.now + 90 * DAY
        if profile == "expired":
            not_before, not_after = self.now - 120 * DAY, self.now - 30 * DAY
        builder = (x509.CertificateBuilder()
                   .subject_name(subject)
                   .issuer_name(issuer_name)
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(not_before)
                   .not_valid_after(not_after)
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
        if profile != "self_signed":
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False)
        cert = builder.sign(issuer_key, hashes.SHA256())
        if profile == "sha1":
            cert = self._sign_sha1(cert, key)
        chain = _pem(cert) if profile == "self_signed" else _pem(cert) + _pem(issuer)
        plan.key_file.write_bytes(_pem_key(key))
        plan.key_file.chmod(0o600)
        plan.cert_file.write_bytes(_pem(cert))
        plan.chain_file.write_bytes(chain)
        if plan.site["ocsp_stapling"] != "none":
            plan.ocsp_file.write_bytes(self.ocsp_response(cert, plan.site["ocsp_stapling"]))

    def ocsp_response(self, cert: x509.Certificate, variant: str) -> bytes:
        """A DER OCSP response about `cert` signed by the intermediate: good, revoked or expired."""
        this_update = self.now - (3 * DAY if variant == "expired" else datetime.timedelta(hours=1))
        revoked = variant == "revoked"
        response = (ocsp.OCSPResponseBuilder()
                    .add_response(cert=cert, issuer=self.intermediate, algorithm=hashes.SHA256(),
                                  cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
                                  this_update=this_update, next_update=this_update + DAY,
                                  revocation_time=self.now - 2 * DAY if revoked else None,
                                  revocation_reason=None)
                    .responder_id(ocsp.OCSPResponderEncoding.HASH, self.intermediate)
                    .sign(self.intermediate_key, hashes.SHA256()))
        return response.public_bytes(serialization.Encoding.DER)


def build(plan: LabPlan) -> None:
    """The lab CA (bundle: root only) and every host's certificate."""
    directory = plan.ca_file.parent
    directory.mkdir(parents=True, exist_ok=True)
    pki = Pki(directory)
    plan.ca_file.write_bytes(_pem(pki.root))
    (directory / "intermediate.pem").write_bytes(_pem(pki.intermediate))
    for host in plan.hosts.values():
        pki.leaf(host)
