"""web.tls.* and web.cert.public_key / web.cert.signature: a passing and a failing case for every rule of the
catalogue, on hand-built `tls` artifacts judged through the registry, and for the certificate checks on chains
made by `cryptography` and described as the tls probe describes them."""
from __future__ import annotations

import pytest

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa

from checks.registry import all_checks, evaluate
from govscan.model import Artifact, Reason, Site, Status
from scanner.probes.tls import certificate_facts
from tests.unit.tls_servers import issued_chain

HOST = "www.noordstad.nl"
ADDRESS = "2001:db8:10::1"
SITE = Site(url=f"https://{HOST}/", host=HOST)
MEASURED_AT = "2026-11-23T10:00:00+00:00"


ECDSA_SHA256 = "1.2.840.10045.4.3.2"
DSA_SHA256 = "2.16.840.1.101.3.4.3.2"


def certificate(subject: str, issuer: str, key_type="ec", key_size=256, curve="secp256r1",
                signature_hash="sha256", signature_algorithm="ecdsa-with-SHA256",
                signature_oid=ECDSA_SHA256) -> dict:
    return {"subject": subject, "issuer": issuer, "self_issued": subject == issuer, "key_type": key_type,
            "key_size": key_size, "curve": curve, "signature_hash": signature_hash,
            "signature_algorithm": signature_algorithm, "signature_oid": signature_oid}


def good() -> dict:
    """A modern server: TLS 1.2 and 1.3, ECDHE-AEAD in server order, good curves, valid staple."""
    return {
        "host": HOST, "address": ADDRESS, "port": 443, "measured_at": MEASURED_AT,
        "protocols": {"TLSv1.3": True, "TLSv1.2": True, "TLSv1.1": False, "TLSv1.0": False, "SSLv3": False,
                      "SSLv2": False},
        "suites": {
            "TLSv1.3": ["TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"],
            "TLSv1.2": ["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"],
        },
        "server_order": {"TLSv1.2": True},
        "key_exchange": {"groups": ["X25519", "secp256r1", "secp384r1"], "groups_measured_on": ["TLSv1.3", "TLSv1.2"],
                         "groups_complete": True,
                         "dh": [],
                         "signature_hashes": {"measured_on": "TLSv1.2", "accepted": ["sha256", "sha384", "sha512"]}},
        "legacy_connection": {"version": "TLSv1.2", "compression": None, "secure_renegotiation": True,
                              "client_renegotiation": False},
        "early_data": {"offered": False, "max_early_data": 0, "accepted": False},
        "certificates": [certificate(f"CN={HOST}", "CN=Lab CA"), certificate("CN=Lab CA", "CN=Lab Root"),
                         certificate("CN=Lab Root", "CN=Lab Root", signature_hash="sha1")],
        "ocsp": {"stapled": True, "parsed": True, "response_status": "SUCCESSFUL", "cert_status": "GOOD",
                 "serial_matches": True, "signature_valid": True, "this_update": "2026-11-23T06:00:00+00:00",
                 "next_update": "2026-11-30T06:00:00+00:00", "der_base64": "MAo="},
        "incomplete": [],
        "handshakes": 26,
    }


def tls12_only(suites: list[str], server_order: bool | None = True) -> dict:
    data = good()
    data["protocols"]["TLSv1.3"] = False
    data["suites"] = {"TLSv1.2": suites}
    data["server_order"] = {"TLSv1.2": server_order}
    data["early_data"] = None
    return data


def judge(check_id: str, data: dict | None = None, *, error: str | None = None):
    artifact = Artifact("tls", 1, ADDRESS, data or {}, error=error, error_detail=error or "")
    return evaluate(all_checks()[check_id], SITE, {}, {ADDRESS: {"tls": artifact}})


def details(finding) -> dict:
    return finding.addresses[0].details


TLS_CHECKS = ["web.tls.version", "web.tls.ciphers", "web.tls.cipher_order", "web.tls.key_exchange",
              "web.tls.compression", "web.tls.renegotiation", "web.tls.zero_rtt", "web.tls.ocsp_stapling",
              "web.cert.public_key", "web.cert.signature"]


@pytest.mark.parametrize("check_id", TLS_CHECKS)
def test_the_good_server_passes_everything(check_id):
    assert judge(check_id, good()).status == Status.PASS


@pytest.mark.parametrize("check_id", TLS_CHECKS)
@pytest.mark.parametrize("reason", [Reason.TIMEOUT, Reason.TLS])
def test_an_unmeasured_address_is_an_error_not_a_fail(check_id, reason):
    finding = judge(check_id, error=reason)
    assert finding.status == Status.ERROR
    assert finding.reason == reason


@pytest.mark.parametrize("check_id", TLS_CHECKS)
def test_checks_are_per_address_with_the_catalogues_level(check_id):
    registered = all_checks()[check_id]
    assert registered.per_address
    assert registered.level == ("informational" if check_id == "web.tls.ocsp_stapling" else "required")


# --- web.tls.version ----------------------------------------------------------------------------------------

def test_version_tls12_only_passes():
    finding = judge("web.tls.version", tls12_only(["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]))
    assert finding.status == Status.PASS
    assert details(finding)["protocols"] == [{"name": "TLSv1.2", "class": "sufficient"}]


@pytest.mark.parametrize("old", ["TLSv1.1", "TLSv1.0", "SSLv3", "SSLv2"])
def test_version_worst_accepted_protocol_fails(old):
    data = good()
    data["protocols"][old] = True
    finding = judge("web.tls.version", data)
    assert finding.status == Status.FAIL
    assert {"name": old, "class": "insufficient"} in details(finding)["protocols"]
    assert old in finding.summary.en


# --- web.tls.ciphers ----------------------------------------------------------------------------------------

def test_ciphers_list_every_accepted_suite_with_class_and_versions():
    finding = judge("web.tls.ciphers", good())
    suites = {s["name"]: s for s in details(finding)["suites"]}
    assert suites["TLS_AES_256_GCM_SHA384"] == {"name": "TLS_AES_256_GCM_SHA384", "class": "good",
                                                "versions": ["TLSv1.3"]}
    assert suites["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]["class"] == "sufficient"
    assert len(suites) == 6


@pytest.mark.parametrize("suite", ["TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"])
def test_ciphers_phase_out_suite_warns(suite):
    finding = judge("web.tls.ciphers", tls12_only(["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", suite]))
    assert finding.status == Status.WARN
    assert suite in finding.summary.en


@pytest.mark.parametrize("suite", ["TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
                                   "TLS_RSA_WITH_3DES_EDE_CBC_SHA"])
def test_ciphers_insufficient_suite_fails_and_is_listed_first(suite):
    data = tls12_only(["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", suite])
    finding = judge("web.tls.ciphers", data)
    assert finding.status == Status.FAIL
    assert details(finding)["suites"][0] == {"name": suite, "class": "insufficient", "versions": ["TLSv1.2"]}


def test_ciphers_say_when_the_probe_cut_a_list_short():
    data = good()
    data["incomplete"] = ["TLSv1.0 suites"]
    assert details(judge("web.tls.ciphers", data))["incomplete"] == ["TLSv1.0 suites"]
    assert "incomplete" not in details(judge("web.tls.ciphers", good()))


# --- web.tls.cipher_order -----------------------------------------------------------------------------------

def test_cipher_order_not_applicable_for_tls13_only():
    data = good()
    data["protocols"]["TLSv1.2"] = False
    data["suites"] = {"TLSv1.3": data["suites"]["TLSv1.3"]}
    data["server_order"] = {}
    assert judge("web.tls.cipher_order", data).status == Status.NOT_APPLICABLE


def test_cipher_order_fails_when_the_client_decides():
    finding = judge("web.tls.cipher_order", tls12_only(["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                                                        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"], False))
    assert finding.status == Status.FAIL
    assert "client" in finding.summary.en


def test_cipher_order_passes_with_good_before_phase_out():
    data = tls12_only(["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"])
    assert judge("web.tls.cipher_order", data).status == Status.PASS


def test_cipher_order_fails_when_phase_out_is_preferred():
    data = tls12_only(["TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"])
    finding = judge("web.tls.cipher_order", data)
    assert finding.status == Status.FAIL
    assert details(finding)["versions"][0]["preferred_over_acceptable"] == "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"


def test_cipher_order_passes_with_a_single_suite():
    assert judge("web.tls.cipher_order", tls12_only(["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"], None)).status \
        == Status.PASS


# --- web.tls.key_exchange -----------------------------------------------------------------------------------

def test_key_exchange_lists_groups_with_class():
    finding = judge("web.tls.key_exchange", good())
    assert {"name": "X25519", "class": "good"} in details(finding)["items"]


def test_key_exchange_phase_out_curve_warns():
    data = good()
    data["key_exchange"]["groups"].append("secp224r1")
    assert judge("web.tls.key_exchange", data).status == Status.WARN


def test_key_exchange_ffdhe3072_warns():
    data = tls12_only(["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"])
    data["key_exchange"]["dh"] = [{"type": "DH", "group": "ffdhe3072", "bits": 3072,
                                   "suite": "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"}]
    finding = judge("web.tls.key_exchange", data)
    assert finding.status == Status.WARN
    assert {"name": "ffdhe3072", "class": "phase_out", "suite": "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"} \
        in details(finding)["items"]


@pytest.mark.parametrize("dh", [
    {"type": "DH", "group": "ffdhe2048", "bits": 2048},
    {"type": "DH", "group": None, "bits": 4096},  # custom parameters, however large
    {"type": "DH", "group": None, "bits": 1024},
    {"type": "DH", "group": None, "bits": None, "too_small": True},
])
def test_key_exchange_weak_or_custom_dh_fails(dh):
    data = good()
    data["key_exchange"]["dh"] = [dict(dh, suite="TLS_DHE_RSA_WITH_AES_128_GCM_SHA256")]
    assert judge("web.tls.key_exchange", data).status == Status.FAIL


@pytest.mark.parametrize("group", ["secp192r1", "secp256k1", "sect571r1"])
def test_key_exchange_other_curve_fails(group):
    data = good()
    data["key_exchange"]["groups"].append(group)
    assert judge("web.tls.key_exchange", data).status == Status.FAIL


def test_key_exchange_not_applicable_without_ephemeral_key_exchange():
    data = tls12_only(["TLS_RSA_WITH_AES_256_GCM_SHA384"])
    data["key_exchange"] = {"groups": [], "groups_measured_on": [], "groups_complete": True, "dh": [],
                            "signature_hashes": {"measured_on": None, "accepted": []}}
    assert judge("web.tls.key_exchange", data).status == Status.NOT_APPLICABLE


def test_key_exchange_signature_hashes_of_sha256_and_stronger_pass():
    finding = judge("web.tls.key_exchange", good())
    assert finding.status == Status.PASS
    assert details(finding)["signature_hashes"] == {
        "measured_on": "TLSv1.2", "accepted": [{"name": "SHA-256", "class": "good"},
                                               {"name": "SHA-384", "class": "good"},
                                               {"name": "SHA-512", "class": "good"}]}
    assert "SHA-256" in finding.summary.en


def test_key_exchange_signed_with_sha224_warns():
    data = good()
    data["key_exchange"]["signature_hashes"]["accepted"].insert(0, "sha224")
    finding = judge("web.tls.key_exchange", data)
    assert finding.status == Status.WARN
    assert finding.summary.en == "Key-exchange groups and signature hashes of class 'phase out' accepted: SHA-224."


@pytest.mark.parametrize("weak", ["sha1", "md5"])
def test_key_exchange_signed_with_sha1_fails(weak):
    data = good()
    data["key_exchange"]["signature_hashes"]["accepted"] = [weak, "sha224", "sha256"]
    finding = judge("web.tls.key_exchange", data)
    assert finding.status == Status.FAIL
    assert finding.summary.en.endswith(f"of class 'insufficient' accepted: {'SHA-1' if weak == 'sha1' else 'md5'}.")


def test_key_exchange_of_tls13_only_has_no_hash_to_judge():
    data = good()
    data["key_exchange"]["signature_hashes"] = {"measured_on": None, "accepted": []}
    finding = judge("web.tls.key_exchange", data)
    assert finding.status == Status.PASS
    assert details(finding)["signature_hashes"] == {"measured_on": None, "accepted": []}


def test_key_exchange_on_facts_without_signature_hashes_says_scan_again():
    data = good()
    del data["key_exchange"]["signature_hashes"]
    finding = judge("web.tls.key_exchange", data)
    assert finding.status == Status.ERROR
    assert "scan again" in finding.addresses[0].summary.en


# --- web.tls.compression ------------------------------------------------------------------------------------

def test_compression_on_fails():
    data = good()
    data["legacy_connection"]["compression"] = "zlib compression"
    assert judge("web.tls.compression", data).status == Status.FAIL


def test_compression_tls13_only_passes():
    data = good()
    data["protocols"]["TLSv1.2"] = False
    data["legacy_connection"] = None
    assert judge("web.tls.compression", data).status == Status.PASS


@pytest.mark.parametrize("check_id", ["web.tls.compression", "web.tls.renegotiation"])
def test_legacy_facts_unmeasured_is_an_error(check_id):
    data = good()
    data["legacy_connection"] = None
    finding = judge(check_id, data)
    assert finding.status == Status.ERROR
    assert finding.reason == Reason.TLS


# --- web.tls.renegotiation ----------------------------------------------------------------------------------

def test_renegotiation_without_secure_renegotiation_fails():
    data = good()
    data["legacy_connection"]["secure_renegotiation"] = False
    assert judge("web.tls.renegotiation", data).status == Status.FAIL


def test_renegotiation_client_initiated_warns():
    data = good()
    data["legacy_connection"]["client_renegotiation"] = True
    assert judge("web.tls.renegotiation", data).status == Status.WARN


def test_renegotiation_tls13_only_passes():
    data = good()
    data["protocols"]["TLSv1.2"] = False
    data["legacy_connection"] = None
    assert judge("web.tls.renegotiation", data).status == Status.PASS


# --- web.tls.zero_rtt ---------------------------------------------------------------------------------------

def test_zero_rtt_accepted_fails():
    data = good()
    data["early_data"] = {"offered": True, "max_early_data": 16384, "accepted": True}
    assert judge("web.tls.zero_rtt", data).status == Status.FAIL


def test_zero_rtt_offered_but_refused_passes():
    data = good()
    data["early_data"] = {"offered": True, "max_early_data": 16384, "accepted": False}
    assert judge("web.tls.zero_rtt", data).status == Status.PASS


def test_zero_rtt_without_tls13_passes():
    assert judge("web.tls.zero_rtt", tls12_only(["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"])).status == Status.PASS


# --- web.tls.ocsp_stapling ----------------------------------------------------------------------------------

def test_ocsp_not_stapled_is_info():
    data = good()
    data["ocsp"] = {"stapled": False}
    assert judge("web.tls.ocsp_stapling", data).status == Status.INFO


@pytest.mark.parametrize("change", [
    {"cert_status": "REVOKED"},
    {"serial_matches": False},
    {"signature_valid": False},
    {"next_update": "2026-11-22T06:00:00+00:00"},
    {"this_update": "2026-11-24T06:00:00+00:00"},
    {"response_status": "TRY_LATER"},
    {"parsed": False},
])
def test_ocsp_stapled_but_invalid_fails(change):
    data = good()
    data["ocsp"].update(change)
    finding = judge("web.tls.ocsp_stapling", data)
    assert finding.status == Status.FAIL
    assert details(finding)["problems"]
    assert "der_base64" not in details(finding)


# --- web.cert.public_key ------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", [
    {"key_type": "rsa", "key_size": 3072, "curve": None},
    {"key_type": "rsa", "key_size": 4096, "curve": None},
    {"key_type": "ec", "key_size": 384, "curve": "secp384r1"},
    {"key_type": "ec", "key_size": 256, "curve": "brainpoolP256r1"},
    {"key_type": "ed25519", "key_size": 256, "curve": None},
])
def test_public_key_good_passes(key):
    data = good()
    data["certificates"][0].update(key)
    assert judge("web.cert.public_key", data).status == Status.PASS


@pytest.mark.parametrize("key", [
    {"key_type": "rsa", "key_size": 2048, "curve": None},
    {"key_type": "ec", "key_size": 224, "curve": "secp224r1"},
])
def test_public_key_phase_out_warns(key):
    data = good()
    data["certificates"][0].update(key)
    finding = judge("web.cert.public_key", data)
    assert finding.status == Status.WARN
    assert details(finding)["certificates"][0]["class"] == "phase_out"


@pytest.mark.parametrize("key", [
    {"key_type": "rsa", "key_size": 1024, "curve": None},
    {"key_type": "ec", "key_size": 192, "curve": "secp192r1"},
    {"key_type": "dsa", "key_size": 2048, "curve": None},
])
def test_public_key_smaller_fails(key):
    data = good()
    data["certificates"][0].update(key)
    assert judge("web.cert.public_key", data).status == Status.FAIL


def test_public_key_without_certificate_is_an_error():
    data = good()
    data["certificates"] = []
    assert judge("web.cert.public_key", data).status == Status.ERROR


@pytest.mark.parametrize("key, status", [
    ({"key_type": "rsa", "key_size": 2048, "curve": None}, Status.WARN),
    ({"key_type": "rsa", "key_size": 1024, "curve": None}, Status.FAIL),
    ({"key_type": "dsa", "key_size": 2048, "curve": None}, Status.FAIL),
])
def test_public_key_of_an_intermediate_counts_and_is_named(key, status):
    data = good()
    data["certificates"][1].update(key)
    finding = judge("web.cert.public_key", data)
    assert finding.status == status
    assert [(c["position"], c["role"], c["subject"]) for c in details(finding)["certificates"]] == [
        (1, "leaf", f"CN={HOST}"), (2, "intermediate", "CN=Lab CA")]
    assert "in certificate 2 (intermediate, CN=Lab CA)" in finding.summary.en
    assert "in certificaat 2 (tussencertificaat, CN=Lab CA)" in finding.summary.nl


def test_public_key_ignores_the_served_root():
    data = good()
    data["certificates"][2].update(key_type="rsa", key_size=1024, curve=None)
    finding = judge("web.cert.public_key", data)
    assert finding.status == Status.PASS
    assert len(details(finding)["certificates"]) == 2


# --- web.cert.signature -------------------------------------------------------------------------------------

def test_signature_ignores_the_served_root():
    finding = judge("web.cert.signature", good())  # the root in good() is SHA-1 self-signed
    assert finding.status == Status.PASS
    assert [c["subject"] for c in details(finding)["certificates"]] == [f"CN={HOST}", "CN=Lab CA"]


def test_signature_eddsa_passes():
    data = good()
    data["certificates"][0].update(signature_hash=None, signature_algorithm="ed25519", signature_oid="1.3.101.112")
    assert judge("web.cert.signature", data).status == Status.PASS


@pytest.mark.parametrize("oid, hash_name", [
    ("1.2.840.113549.1.1.11", "sha256"),  # sha256WithRSAEncryption
    ("1.2.840.113549.1.1.10", "sha384"),  # RSASSA-PSS
    ("1.2.840.10045.4.3.4", "sha512"),    # ecdsa-with-SHA512
])
def test_signature_rsa_or_ecdsa_with_sha2_passes(oid, hash_name):
    data = good()
    data["certificates"][1].update(signature_oid=oid, signature_hash=hash_name)
    assert judge("web.cert.signature", data).status == Status.PASS


@pytest.mark.parametrize("index", [0, 1])
@pytest.mark.parametrize("oid", ["1.2.840.10040.4.3", "2.16.840.1.101.3.4.3.1", DSA_SHA256, "2.16.840.1.101.3.4.3.4"])
def test_signature_dsa_fails_whatever_its_hash(index, oid):
    data = good()
    data["certificates"][index].update(signature_oid=oid, signature_hash="sha256")
    finding = judge("web.cert.signature", data)
    assert finding.status == Status.FAIL
    failing = details(finding)["certificates"][index]
    assert (failing["scheme"], failing["scheme_class"], failing["hash_class"]) == ("dsa", "insufficient", "good")
    assert f"DSA SHA-256 in certificate {index + 1}" in finding.summary.en


def test_signature_of_an_algorithm_the_tables_do_not_name_fails():
    data = good()
    data["certificates"][0].update(signature_oid="1.2.643.7.1.1.3.2", signature_hash="unknown")  # GOST R 34.10-2012
    finding = judge("web.cert.signature", data)
    assert finding.status == Status.FAIL
    assert details(finding)["certificates"][0]["scheme"] == "1.2.643.7.1.1.3.2"


def test_signature_on_facts_without_the_algorithm_oid_says_scan_again():
    data = good()
    del data["certificates"][1]["signature_oid"]
    finding = judge("web.cert.signature", data)
    assert finding.status == Status.ERROR
    assert "scan again" in finding.summary.en


def test_signature_sha224_warns():
    data = good()
    data["certificates"][1]["signature_hash"] = "sha224"
    assert judge("web.cert.signature", data).status == Status.WARN


@pytest.mark.parametrize("index, hash_name", [(0, "sha1"), (1, "sha1"), (0, "md5"), (1, "unknown")])
def test_signature_sha1_or_md5_below_the_root_fails(index, hash_name):
    data = good()
    data["certificates"][index]["signature_hash"] = hash_name
    finding = judge("web.cert.signature", data)
    assert finding.status == Status.FAIL
    assert details(finding)["certificates"][index]["class"] == "insufficient"


def test_signature_of_a_self_signed_leaf_counts():
    data = good()
    data["certificates"] = [certificate(f"CN={HOST}", f"CN={HOST}", signature_hash="sha1")]
    assert judge("web.cert.signature", data).status == Status.FAIL


# --- certificates made by `cryptography`, described as the tls probe describes them -------------------------

@pytest.fixture(scope="module")
def chains(tmp_path_factory) -> dict:
    directory = tmp_path_factory.mktemp("chains")
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
    return {"dsa": issued_chain(directory, dsa.generate_private_key(key_size=2048), "dsa"),
            "rsa2048": issued_chain(directory, rsa.generate_private_key(65537, 2048), "rsa2048"),
            "ecdsa": issued_chain(directory, ec.generate_private_key(ec.SECP384R1()), "ecdsa"),
            "pss": issued_chain(directory, rsa.generate_private_key(65537, 3072), "pss", leaf_padding=pss)}


def served(chain: dict) -> dict:
    """The good server, serving `chain` (leaf, intermediate and root) as the probe describes it."""
    data = good()
    data["certificates"] = [certificate_facts(cert) for cert in chain["certificates"]]
    return data


def test_a_dsa_intermediate_fails_both_certificate_checks(chains):
    data = served(chains["dsa"])
    signature, key = judge("web.cert.signature", data), judge("web.cert.public_key", data)
    assert (signature.status, key.status) == (Status.FAIL, Status.FAIL)
    # The intermediate signs the leaf with DSA; the intermediate's own key is DSA.
    assert [(c["position"], c["scheme"], c["class"]) for c in details(signature)["certificates"]] == [
        (1, "dsa", "insufficient"), (2, "ecdsa", "good")]
    assert [(c["name"], c["class"]) for c in details(key)["certificates"]] == [
        ("EC secp256r1", "good"), ("DSA-2048", "insufficient")]
    assert "DSA-2048 in certificate 2 (intermediate, CN=govscan test intermediate dsa)" in key.summary.en
    assert f"DSA SHA-256 in certificate 1 (leaf, CN={HOST})" in signature.summary.en


def test_an_rsa2048_intermediate_makes_the_key_check_warn(chains):
    data = served(chains["rsa2048"])
    finding = judge("web.cert.public_key", data)
    assert finding.status == Status.WARN
    assert finding.summary.en == ("Keys of class 'phase out': RSA-2048 in certificate 2 (intermediate, "
                                  "CN=govscan test intermediate rsa2048).")
    assert judge("web.cert.signature", data).status == Status.PASS  # RSA PKCS#1 v1.5 with SHA-256


@pytest.mark.parametrize("name", ["ecdsa", "pss"])
def test_an_ecdsa_or_rsa_pss_chain_passes(chains, name):
    data = served(chains[name])
    assert judge("web.cert.public_key", data).status == Status.PASS
    finding = judge("web.cert.signature", data)
    assert finding.status == Status.PASS
    assert details(finding)["certificates"][0]["scheme"] == ("ecdsa" if name == "ecdsa" else "rsa_pss")


def test_findings_are_bilingual_and_carry_the_policy_version():
    finding = judge("web.tls.ciphers", good())
    assert finding.summary.nl != finding.summary.en
    assert details(finding)["policy"].startswith("2.1")
