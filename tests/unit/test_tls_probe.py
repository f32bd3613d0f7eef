"""The tls probe against local `openssl s_server`s serving the lab's TLS profiles on 127.0.0.1 and ::1.

What the probe reports is held against the profile's definition and, for the accepted protocol versions and
suites, against an independent client (nmap's ssl-enum-ciphers). Servers that stall, speak something else
or do not listen give errors, never facts that would fail a site.
"""
from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_parameters
from cryptography.x509 import ocsp

from checks.registry import all_checks, evaluate
from checks.tls_policy import load
from scanner import config
from govscan.model import Artifact, Reason, Site, Status
from scanner.probes.base import ProbeContext, ProbeError
from scanner.probes import tls as tls_probe
from scanner.probes.tls import Endpoint, Evaluation, TlsProbe, ffdhe_prime, hello_retry_group
from scanner.resolver import Resolver
from lab.tls_profiles import PROFILES
from tests.unit.fakedns import LOOPBACK
from tests.unit.tls_servers import (HOST, ca_and_leaf, govscan_sets, issued_chain, nmap_enum, ocsp_response_file,
                                    s_server, s_server_args, self_signed)

HANDSHAKE_BUDGET = 60  # per address; the catalogue asks for well under 100


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls-certs")
    return {"rsa": self_signed(directory, "rsa2048"), "ec": self_signed(directory, "ec256"),
            "sha1": self_signed(directory, "ec256", "sha1")}


def evaluate_endpoint(address: str, port: int, timeout: float = 3.0) -> dict:
    return Evaluation(Endpoint(HOST, address, timeout, time.monotonic() + 60, port), None).run()


def profile_suites(name: str) -> set[str]:
    """The TLS <= 1.2 suites (IANA names) a profile offers with an RSA certificate, from its cipher string."""
    policy = load()
    by_openssl = {openssl: iana for iana, openssl in policy.suite_openssl_names.items()}
    return {by_openssl[c] for c in PROFILES[name].ciphers.split(":") if "ECDSA" not in c}


TLS13 = {"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"}


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
@pytest.mark.parametrize("name", sorted(PROFILES))
def test_profile_versions_and_suites_match_the_profile_and_nmap(certs, name, address):
    profile = PROFILES[name]
    with s_server(address, certs["rsa"], s_server_args(profile)) as port:
        data = evaluate_endpoint(address, port)
        independent = nmap_enum(address, port)
    accepted = {v for v, on in data["protocols"].items() if on}
    assert accepted == {"TLSv1.0" if v == "TLSv1" else v for v in profile.protocols}
    if "TLSv1.2" in accepted:
        assert set(data["suites"]["TLSv1.2"]) == profile_suites(name)
    if "TLSv1.3" in accepted:
        assert set(data["suites"]["TLSv1.3"]) == TLS13
    # The cross-check: an independent client finds the same versions and the same suites.
    assert govscan_sets(data) == independent
    assert data["server_order"].get("TLSv1.2", None) in ({True, None} if profile.server_order else {False})
    assert data["handshakes"] < HANDSHAKE_BUDGET


def test_dhe_profile_reports_the_ffdhe3072_group(certs):
    with s_server("127.0.0.1", certs["rsa"], s_server_args(PROFILES["dhe"])) as port:
        data = evaluate_endpoint("127.0.0.1", port)
    dh = {(d["group"], d["bits"]) for d in data["key_exchange"]["dh"]}
    assert dh == {("ffdhe3072", 3072)}
    assert data["key_exchange"]["groups"] and set(data["key_exchange"]["groups"]) <= {"X25519", "secp256r1",
                                                                                      "secp384r1"}


def test_groups_by_elimination_on_tls12(certs):
    args = ["-min_protocol", "TLSv1.2", "-max_protocol", "TLSv1.2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256",
            "-groups", "secp224r1:X448:secp521r1"]
    with s_server("::1", certs["ec"], args) as port:
        data = evaluate_endpoint("::1", port)
    assert data["key_exchange"]["groups_measured_on"] == ["TLSv1.2"]
    assert set(data["key_exchange"]["groups"]) == {"secp224r1", "X448", "secp521r1"}
    assert data["certificates"][0]["key_type"] == "ec" and data["certificates"][0]["curve"] == "secp256r1"


@pytest.mark.parametrize("server_order", [True, False])
def test_an_ecdsa_only_tls12_server_keeps_its_curve_offered(certs, server_order):
    """TLS 1.2 ECDHE-ECDSA needs the certificate's curve (P-256) in every offer; it is offered last, so a
    server that follows the client's order shows all its curves, and one with its own order shows those it
    prefers to P-256 and is marked incomplete."""
    args = ["-min_protocol", "TLSv1.2", "-max_protocol", "TLSv1.2", "-groups", "X25519:P-256:P-384",
            "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"]
    args += ["-serverpref"] if server_order else []
    with s_server("127.0.0.1", certs["ec"], args) as port:
        kex = evaluate_endpoint("127.0.0.1", port)["key_exchange"]
    if server_order:
        assert (set(kex["groups"]), kex["groups_complete"]) == ({"X25519", "secp256r1"}, False)
    else:
        assert (set(kex["groups"]), kex["groups_complete"]) == ({"X25519", "secp256r1", "secp384r1"}, True)


def test_client_order_is_seen_and_judged(certs):
    with s_server("127.0.0.1", certs["rsa"], s_server_args(PROFILES["client_order"])) as port:
        data = evaluate_endpoint("127.0.0.1", port)
    assert data["server_order"] == {"TLSv1.2": False}
    finding = judge("web.tls.cipher_order", data)
    assert finding.status == Status.FAIL


def test_server_order_yields_the_preference_order(certs):
    args = ["-min_protocol", "TLSv1.2", "-max_protocol", "TLSv1.2", "-serverpref", "-cipher",
            "ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305"]
    with s_server("127.0.0.1", certs["rsa"], args) as port:
        data = evaluate_endpoint("127.0.0.1", port)
    assert data["server_order"] == {"TLSv1.2": True}
    assert data["suites"]["TLSv1.2"] == ["TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
                                         "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                                         "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"]
    assert judge("web.tls.cipher_order", data).status == Status.FAIL  # phase-out preferred over good


def test_modern_server_facts_and_judgement(certs):
    with s_server("::1", certs["rsa"], s_server_args(PROFILES["modern"])) as port:
        data = evaluate_endpoint("::1", port)
    assert data["legacy_connection"] == {"version": "TLSv1.2", "compression": None, "secure_renegotiation": True,
                                         "client_renegotiation": False}
    assert data["early_data"]["accepted"] is False
    assert data["ocsp"] == {"stapled": False}
    assert data["certificates"][0]["key_type"] == "rsa" and data["certificates"][0]["key_size"] == 2048
    statuses = {check: judge(check, data).status for check in (
        "web.tls.version", "web.tls.ciphers", "web.tls.cipher_order", "web.tls.key_exchange",
        "web.tls.compression", "web.tls.renegotiation", "web.tls.zero_rtt", "web.tls.ocsp_stapling",
        "web.cert.public_key", "web.cert.signature")}
    assert statuses == {"web.tls.version": Status.PASS, "web.tls.ciphers": Status.PASS,
                        "web.tls.cipher_order": Status.PASS, "web.tls.key_exchange": Status.PASS,
                        "web.tls.compression": Status.PASS, "web.tls.renegotiation": Status.PASS,
                        "web.tls.zero_rtt": Status.PASS, "web.tls.ocsp_stapling": Status.INFO,
                        "web.cert.public_key": Status.WARN, "web.cert.signature": Status.PASS}


def test_sha1_certificate_fails_the_signature_check(certs):
    args = s_server_args(PROFILES["modern"])
    args[args.index("-cipher") + 1] += ":@SECLEVEL=0"
    with s_server("127.0.0.1", certs["sha1"], args) as port:
        data = evaluate_endpoint("127.0.0.1", port)
    assert data["certificates"][0]["signature_hash"] == "sha1"
    assert judge("web.cert.signature", data).status == Status.FAIL


# --- the hash of the key-exchange signature -----------------------------------------------------------------

def without_sigalgs(args: list[str]) -> list[str]:
    """s_server options with OpenSSL's default signature schemes instead of the profile's."""
    at = args.index("-sigalgs")
    return args[:at] + args[at + 2:]


@pytest.mark.parametrize("key", ["ec", "rsa"])
def test_a_server_that_signs_with_sha256_and_stronger_only_passes(certs, key):
    with s_server("127.0.0.1", certs[key], s_server_args(PROFILES["modern"])) as port:
        data = evaluate_endpoint("127.0.0.1", port)
    assert data["key_exchange"]["signature_hashes"] == {"measured_on": "TLSv1.2",
                                                        "accepted": ["sha256", "sha384", "sha512"]}
    assert judge("web.tls.key_exchange", data).status == Status.PASS


def test_openssls_default_signature_schemes_include_sha224_which_warns(certs):
    with s_server("127.0.0.1", certs["ec"], without_sigalgs(s_server_args(PROFILES["modern"]))) as port:
        data = evaluate_endpoint("127.0.0.1", port)
    assert data["key_exchange"]["signature_hashes"]["accepted"] == ["sha224", "sha256", "sha384", "sha512"]
    finding = judge("web.tls.key_exchange", data)
    assert finding.status == Status.WARN
    assert finding.summary.en.endswith("of class 'phase out' accepted: SHA-224.")


def test_a_server_that_signs_with_sha1_fails(certs):
    """The legacy profile keeps OpenSSL's default schemes at security level 0, where SHA-1 is allowed."""
    with s_server("127.0.0.1", certs["rsa"], s_server_args(PROFILES["legacy"])) as port:
        data = evaluate_endpoint("127.0.0.1", port)
    assert data["key_exchange"]["signature_hashes"]["accepted"][0] == "sha1"
    finding = judge("web.tls.key_exchange", data)
    assert finding.status == Status.FAIL
    assert finding.summary.en.endswith("of class 'insufficient' accepted: SHA-1.")


def test_the_signature_hash_is_not_measured_without_tls12(certs):
    with s_server("127.0.0.1", certs["ec"], s_server_args(PROFILES["tls13_only"])) as port:
        data = evaluate_endpoint("127.0.0.1", port)
    assert data["key_exchange"]["signature_hashes"] == {"measured_on": None, "accepted": []}
    assert judge("web.tls.key_exchange", data).status == Status.PASS


# --- the served chain, certificate by certificate ----------------------------------------------------------

@pytest.fixture(scope="module")
def chains(tmp_path_factory) -> dict:
    directory = tmp_path_factory.mktemp("tls-chains")
    return {"dsa": issued_chain(directory, dsa.generate_private_key(key_size=2048), "dsa"),
            "rsa2048": issued_chain(directory, rsa.generate_private_key(65537, 2048), "rsa2048"),
            "ecdsa": issued_chain(directory, ec.generate_private_key(ec.SECP384R1()), "ecdsa")}


@pytest.mark.parametrize("name, key_status, signature_status", [
    ("dsa", Status.FAIL, Status.FAIL), ("rsa2048", Status.WARN, Status.PASS), ("ecdsa", Status.PASS, Status.PASS)])
def test_every_served_certificate_below_the_root_is_judged(chains, name, key_status, signature_status):
    chain = chains[name]
    args = s_server_args(PROFILES["modern"]) + ["-cert_chain", str(chain["chain_file"])]
    with s_server("127.0.0.1", chain["files"], args) as port:
        data = evaluate_endpoint("127.0.0.1", port)
    assert [c["subject"] for c in data["certificates"]] == [f"CN={HOST}", f"CN=govscan test intermediate {name}"]
    assert judge("web.cert.public_key", data).status == key_status
    assert judge("web.cert.signature", data).status == signature_status


def test_early_data_accepted_is_seen(certs):
    with s_server("127.0.0.1", certs["ec"], ["-min_protocol", "TLSv1.3", "-early_data"], www=False) as port:
        data = evaluate_endpoint("127.0.0.1", port)
    assert data["early_data"]["offered"] is True
    assert data["early_data"]["accepted"] is True
    assert judge("web.tls.zero_rtt", data).status == Status.FAIL


@pytest.mark.parametrize("bits", [2048, 3072, 4096, 6144, 8192])
def test_ffdhe_primes_are_rfc7919s(bits):
    """The computed primes equal the ones OpenSSL ships for the named groups."""
    pem = subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", f"group:ffdhe{bits}"],
                         capture_output=True, check=True).stdout
    assert load_pem_parameters(pem).parameter_numbers().p == ffdhe_prime(bits)


# --- what cannot be measured ------------------------------------------------------------------------------

class SilentServer:
    """Accepts TCP connections and then says nothing (a stalled handshake), or `reply` and closes."""

    def __init__(self, address: str, reply: bytes | None = None):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((address, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.held: list[socket.socket] = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.reply is None:
                self.held.append(conn)
            else:
                try:
                    conn.recv(4096)
                    conn.sendall(self.reply)
                finally:
                    conn.close()

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_a_stalling_server_is_a_timeout(address):
    server = SilentServer(address)
    try:
        with pytest.raises(ProbeError) as caught:
            evaluate_endpoint(address, server.port, timeout=1)
    finally:
        server.close()
    assert caught.value.reason == Reason.TIMEOUT


def test_a_server_speaking_http_is_a_tls_error():
    server = SilentServer("127.0.0.1", b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    try:
        with pytest.raises(ProbeError) as caught:
            evaluate_endpoint("127.0.0.1", server.port, timeout=2)
    finally:
        server.close()
    assert caught.value.reason == Reason.TLS


def test_a_closed_port_is_a_connect_error():
    server = SilentServer("127.0.0.1")
    port = server.port
    server.close()
    with pytest.raises(ProbeError) as caught:
        evaluate_endpoint("127.0.0.1", port)
    assert caught.value.reason == Reason.CONNECT


# --- through the probe interface and the registry ---------------------------------------------------------

def judge(check_id: str, data: dict | None = None, error: str | None = None):
    artifact = Artifact("tls", 1, "127.0.0.1", data or {}, error=error, error_detail=error or "")
    return evaluate(all_checks()[check_id], Site(f"https://{HOST}/", HOST), {}, {"127.0.0.1": {"tls": artifact}})


def test_probe_collect_counts_handshakes_and_a_stall_becomes_an_error_artifact(certs):
    settings = config.load(overrides={"scan": {"connect_timeout": 1.0, "allowed_networks": LOOPBACK}})
    ctx = ProbeContext(settings=settings, resolver=Resolver(settings.dns))
    probe = TlsProbe()
    site = Site(f"https://{HOST}/", HOST)
    with s_server("::1", certs["ec"], s_server_args(PROFILES["tls13_only"])) as port:
        probe.port = port
        data = asyncio.run(probe.collect(ctx, site, "::1", {}))
    assert data["protocols"]["TLSv1.3"] and not data["protocols"]["TLSv1.2"]
    assert ctx.counters.values["tls_handshakes"] == data["handshakes"]
    assert judge("web.tls.cipher_order", data).status == Status.NOT_APPLICABLE

    server = SilentServer("127.0.0.1")
    probe.port = server.port
    try:
        with pytest.raises(ProbeError):
            asyncio.run(probe.collect(ctx, site, "127.0.0.1", {}))
    finally:
        server.close()


# --- OCSP stapling ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ocsp_pki(tmp_path_factory):
    return ca_and_leaf(tmp_path_factory.mktemp("tls-ocsp"))


def stapled(pki: dict, response: Path) -> dict:
    args = s_server_args(PROFILES["modern"]) + ["-cert_chain", str(pki["ca_file"]), "-status_file", str(response)]
    with s_server("127.0.0.1", pki["files"], args) as port:
        return evaluate_endpoint("127.0.0.1", port)


def test_a_valid_staple_passes(ocsp_pki, tmp_path):
    data = stapled(ocsp_pki, ocsp_response_file(tmp_path / "good.der", ocsp_pki))
    assert data["ocsp"]["stapled"] and data["ocsp"]["cert_status"] == "GOOD"
    assert data["ocsp"]["serial_matches"] and data["ocsp"]["signature_valid"]
    assert judge("web.tls.ocsp_stapling", data).status == Status.PASS


@pytest.mark.parametrize("kind, problem", [("revoked", "certificate status REVOKED"),
                                           ("stale", "expired (next_update passed)"),
                                           ("other_ca", "signature does not verify")])
def test_an_invalid_staple_fails(ocsp_pki, tmp_path, kind, problem):
    if kind == "revoked":
        response = ocsp_response_file(tmp_path / "r.der", ocsp_pki, status=ocsp.OCSPCertStatus.REVOKED)
    elif kind == "stale":
        response = ocsp_response_file(tmp_path / "s.der", ocsp_pki, age_days=3)
    else:  # signed by a CA that did not issue the leaf
        response = ocsp_response_file(tmp_path / "o.der", ocsp_pki, signer=ca_and_leaf(tmp_path))
    data = stapled(ocsp_pki, response)
    assert data["ocsp"]["stapled"]
    finding = judge("web.tls.ocsp_stapling", data)
    assert finding.status == Status.FAIL
    assert finding.addresses[0].details["problems"] == [problem]


def test_enumerations_stop_at_the_budget_and_say_so(certs, monkeypatch):
    monkeypatch.setattr(tls_probe, "ENUMERATION_BUDGET", 12)
    with s_server("127.0.0.1", certs["rsa"], s_server_args(PROFILES["legacy"])) as port:
        data = evaluate_endpoint("127.0.0.1", port)
    assert "TLSv1.0 suites" in data["incomplete"]
    assert data["handshakes"] < 12 + 10
    assert set(data["suites"]["TLSv1.3"]) == TLS13  # the newest versions come first


def test_client_initiated_renegotiation_is_seen_when_allowed(certs):
    """(The other side of the legacy connection, compression, needs the lab's own TLS server, since
    Debian's OpenSSL 3 is built without zlib: tests/unit/test_deflate_tls.py.)"""
    args = ["-min_protocol", "TLSv1.2", "-max_protocol", "TLSv1.2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256",
            "-client_renegotiation"]
    with s_server("::1", certs["rsa"], args) as port:
        data = evaluate_endpoint("::1", port)
    assert data["legacy_connection"]["client_renegotiation"] is True
    assert judge("web.tls.renegotiation", data).status == Status.WARN


def test_ffdhe_groups_in_tls13_are_found_with_hand_made_hellos(certs):
    """OpenSSL 3's default groups include ffdhe2048-8192 under TLS 1.3: the server accepts ffdhe2048
    (insufficient) when a client offers only that, which key_exchange must see."""
    with s_server("::1", certs["ec"], ["-min_protocol", "TLSv1.3"]) as port:
        data = evaluate_endpoint("::1", port)
    assert {"ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"} <= set(data["key_exchange"]["groups"])
    finding = judge("web.tls.key_exchange", data)
    assert finding.status == Status.FAIL and "ffdhe2048" in finding.summary.en


@pytest.mark.parametrize("record", [b"", b"\x15\x03\x03\x00\x02\x02\x28", b"HTTP/1.1 400 Bad Request\r\n\r\n"])
def test_anything_but_a_hello_retry_request_selects_no_group(record):
    assert hello_retry_group(record) is None
