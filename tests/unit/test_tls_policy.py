"""The NCSC TLS tables (config/policy/tls-ncsc-2.1.toml) say what the catalogue says, entry by entry.

The catalogue's table (shared/spec/checks.md, "Web: TLS per NCSC") is restated here as rules on IANA names,
independently of the data file, and every entry of the file is held against them.
"""
from __future__ import annotations

import pytest
from cryptography.x509.oid import SignatureAlgorithmOID
from sslyze.plugins.openssl_cipher_suites.cipher_suites import CipherSuitesRepository
from sslyze.server_connectivity import TlsVersionEnum

from checks.tls_policy import CLASSES, DEFAULT_POLICY, load, read, worst_class

POLICY = load()

# "everything else (RSA key exchange, SHA-1 CBC, 3DES, RC4, CCM_8, NULL, EXPORT, anonymous)", and the
# ciphers of the same age the catalogue's "everything else" covers (DES, RC2, IDEA, SEED, MD5).
WEAK_PARTS = ("NULL", "EXPORT", "anon", "RC4", "RC2", "3DES", "DES", "IDEA", "SEED", "CCM_8", "MD5")


def catalogue_class(name: str) -> str:
    if name in ("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"):
        return "good"
    if name in ("TLS_AES_128_GCM_SHA256", "TLS_AES_128_CCM_SHA256"):
        return "sufficient"
    if name.startswith("SSL_CK_") or any(f"_{p}_" in name or name.endswith(f"_{p}") for p in WEAK_PARTS):
        return "insufficient"
    kx, _, bulk = name.removeprefix("TLS_").partition("_WITH_")
    if bulk.endswith("_CBC_SHA"):
        return "insufficient"
    if kx in ("ECDHE_ECDSA", "ECDHE_RSA"):
        if bulk.startswith("AES") and ("GCM" in bulk or "CCM" in bulk) or bulk.startswith("CHACHA20_POLY1305"):
            return "sufficient"
        if bulk.startswith(("AES", "CAMELLIA", "ARIA")):
            return "phase_out"
    if kx == "DHE_RSA":
        return "phase_out"
    return "insufficient"


def every_sslyze_suite() -> set[str]:
    return {suite.name for version in TlsVersionEnum for suite in CipherSuitesRepository.get_all_cipher_suites(version)}


def test_every_suite_sslyze_can_report_is_in_the_table():
    assert every_sslyze_suite() <= set(POLICY.cipher_suites)


@pytest.mark.parametrize("name", sorted(POLICY.cipher_suites))
def test_suite_class_is_the_catalogues(name):
    assert POLICY.suite(name) == catalogue_class(name)


@pytest.mark.parametrize("name, expected", [
    ("TLS_AES_256_GCM_SHA384", "good"),
    ("TLS_CHACHA20_POLY1305_SHA256", "good"),
    ("TLS_AES_128_GCM_SHA256", "sufficient"),
    ("TLS_AES_128_CCM_SHA256", "sufficient"),
    ("TLS_AES_128_CCM_8_SHA256", "insufficient"),
    ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "sufficient"),
    ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "sufficient"),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_CCM", "sufficient"),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", "insufficient"),
    ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "phase_out"),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "phase_out"),
    ("TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", "phase_out"),
    ("TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384", "phase_out"),
    ("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "phase_out"),
    ("TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "phase_out"),
    ("TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "insufficient"),
    ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "insufficient"),
    ("TLS_RSA_WITH_AES_256_GCM_SHA384", "insufficient"),
    ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "insufficient"),
    ("TLS_ECDHE_RSA_WITH_RC4_128_SHA", "insufficient"),
    ("TLS_ECDHE_RSA_WITH_NULL_SHA", "insufficient"),
    ("TLS_RSA_EXPORT_WITH_RC4_40_MD5", "insufficient"),
    ("TLS_DH_anon_WITH_AES_128_GCM_SHA256", "insufficient"),
    ("TLS_ECDH_anon_WITH_AES_256_CBC_SHA", "insufficient"),
    ("SSL_CK_RC4_128_WITH_MD5", "insufficient"),
    ("TLS_SOMETHING_NEW", "insufficient"),  # not listed: "everything else"
])
def test_catalogue_examples(name, expected):
    assert POLICY.suite(name) == expected


@pytest.mark.parametrize("name, expected", [
    ("TLSv1.3", "good"), ("TLSv1.2", "sufficient"), ("TLSv1.1", "insufficient"), ("TLSv1.0", "insufficient"),
    ("SSLv3", "insufficient"), ("SSLv2", "insufficient"),
])
def test_protocols(name, expected):
    assert POLICY.protocol(name) == expected


def test_protocol_table_has_exactly_the_catalogues_rows():
    assert set(POLICY.protocols) == {"TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1.0", "SSLv3", "SSLv2"}


@pytest.mark.parametrize("name, expected", [
    *[(g, "good") for g in ("secp256r1", "secp384r1", "secp521r1", "brainpoolP256r1", "brainpoolP384r1",
                            "brainpoolP512r1", "X25519", "X448")],
    *[(g, "phase_out") for g in ("secp224r1", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192")],
    *[(g, "insufficient") for g in ("ffdhe2048", "secp192r1", "secp256k1", "sect571r1", "custom-dh")],
])
def test_groups(name, expected):
    assert POLICY.group(name) == expected


def test_group_table_has_no_other_entries():
    assert {g for g, c in POLICY.groups.items() if c != "insufficient"} == {
        "secp256r1", "secp384r1", "secp521r1", "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1",
        "X25519", "X448", "secp224r1", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"}


@pytest.mark.parametrize("key_type, bits, curve, expected", [
    ("rsa", 4096, None, "good"), ("rsa", 3072, None, "good"),
    ("rsa", 3071, None, "phase_out"), ("rsa", 2048, None, "phase_out"),
    ("rsa", 2047, None, "insufficient"), ("rsa", 1024, None, "insufficient"),
    ("ec", 256, "secp256r1", "good"), ("ec", 384, "secp384r1", "good"), ("ec", 521, "secp521r1", "good"),
    ("ec", 256, "brainpoolP256r1", "good"), ("ec", 384, "brainpoolP384r1", "good"),
    ("ec", 512, "brainpoolP512r1", "good"),
    ("ec", 224, "secp224r1", "phase_out"), ("ec", 192, "secp192r1", "insufficient"),
    ("ed25519", 256, None, "good"), ("ed448", 456, None, "good"), ("dsa", 3072, None, "insufficient"),
])
def test_certificate_keys(key_type, bits, curve, expected):
    assert POLICY.certificate_key(key_type, bits, curve) == expected


@pytest.mark.parametrize("name, expected", [
    ("sha256", "good"), ("sha384", "good"), ("sha512", "good"), ("ed25519", "good"), ("ed448", "good"),
    ("sha224", "phase_out"), ("sha1", "insufficient"), ("md5", "insufficient"), ("unknown", "insufficient"),
    (None, "insufficient"),
])
def test_signature_hashes(name, expected):
    assert POLICY.signature_hash(name) == expected


def oid_scheme(constant: str) -> str | None:
    """The scheme an OID of cryptography's SignatureAlgorithmOID is, from its name: RSA PKCS#1 v1.5, RSA-PSS,
    ECDSA, EdDSA or DSA; None for what the tables leave out (GOST, and the SHA-3 variants, which the Web PKI
    does not allow)."""
    if "_SHA3_" in constant or constant.startswith("GOST"):
        return None
    for prefix, scheme in (("RSA_WITH_", "rsa_pkcs1v15"), ("RSASSA_PSS", "rsa_pss"), ("ECDSA_WITH_", "ecdsa"),
                           ("ED", "eddsa"), ("DSA_WITH_", "dsa")):
        if constant.startswith(prefix):
            return scheme
    raise AssertionError(f"a signature algorithm this test does not know: {constant}")


@pytest.mark.parametrize("constant", [name for name in dir(SignatureAlgorithmOID) if not name.startswith("_")])
def test_signature_algorithm_oids_name_their_scheme(constant):
    oid = getattr(SignatureAlgorithmOID, constant).dotted_string
    expected = oid_scheme(constant)
    assert POLICY.signature_algorithms.get(oid) == expected
    scheme, cls = POLICY.signature_scheme(oid)
    assert cls == ("insufficient" if expected in (None, "dsa") else "good")
    assert scheme == (expected or oid)


@pytest.mark.parametrize("name, expected", [
    ("sha256", "good"), ("sha384", "good"), ("sha512", "good"), ("sha224", "phase_out"), ("sha1", "insufficient"),
    ("md5", "insufficient"), ("sha3-256", "insufficient"),
])
def test_key_exchange_hashes(name, expected):
    assert POLICY.key_exchange_hash(name) == expected


def test_a_signature_algorithm_of_an_unknown_scheme_is_refused(tmp_path):
    broken = tmp_path / "tls.toml"
    broken.write_text(DEFAULT_POLICY.read_text().replace('"1.3.101.112" = "eddsa"', '"1.3.101.112" = "ed25519"'))
    with pytest.raises(ValueError, match="1.3.101.112"):
        read(broken)


def test_worst_class_orders_the_classes():
    assert worst_class(["good", "phase_out", "sufficient"]) == "phase_out"
    assert worst_class(CLASSES) == "insufficient"
    assert worst_class([]) is None


def test_policy_is_versioned_and_read_once():
    assert POLICY.version.startswith("2.1")
    assert load() is POLICY


def test_an_unknown_class_in_the_data_is_refused(tmp_path):
    broken = tmp_path / "tls.toml"
    broken.write_text(DEFAULT_POLICY.read_text().replace('"TLSv1.3" = "good"', '"TLSv1.3" = "great"'))
    with pytest.raises(ValueError, match="great"):
        read(broken)
