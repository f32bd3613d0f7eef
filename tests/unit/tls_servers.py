"""Local TLS servers for the tls probe's tests, and an independent client to hold its findings against.

`openssl s_server` (the system's OpenSSL 3, not nassl) serves the lab's TLS profiles (lab/tls_profiles.py)
on 127.0.0.1 or ::1; each server is started and stopped by its own PID. `nmap --script ssl-enum-ciphers`
(Debian's nmap, its own TLS implementation in Lua) is the independent client for the cross-check.
"""
from __future__ import annotations

import asyncio
import datetime
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from lab.tls_profiles import GROUPS, TlsProfile

HOST = "www.noordstad.nl"
# nmap names the TLS 1.3 suites after their pre-RFC drafts (TLS_AKE_WITH_...).
NMAP_TLS13 = {"TLS_AKE_WITH_AES_128_GCM_SHA256": "TLS_AES_128_GCM_SHA256",
              "TLS_AKE_WITH_AES_256_GCM_SHA384": "TLS_AES_256_GCM_SHA384",
              "TLS_AKE_WITH_CHACHA20_POLY1305_SHA256": "TLS_CHACHA20_POLY1305_SHA256",
              "TLS_AKE_WITH_AES_128_CCM_SHA256": "TLS_AES_128_CCM_SHA256",
              "TLS_AKE_WITH_AES_128_CCM_8_SHA256": "TLS_AES_128_CCM_8_SHA256"}
NMAP_VERSIONS = {"TLSv1.0": "TLSv1.0", "TLSv1.1": "TLSv1.1", "TLSv1.2": "TLSv1.2", "TLSv1.3": "TLSv1.3",
                 "SSLv3": "SSLv3"}


def self_signed(directory: Path, key_kind: str = "rsa2048", hash_name: str = "sha256") -> tuple[Path, Path]:
    """A throwaway certificate for HOST: (certificate, key) PEM files. Made with the openssl command, which
    (unlike cryptography) still signs with SHA-1 when asked."""
    paths = directory / f"{key_kind}-{hash_name}.crt", directory / f"{key_kind}-{hash_name}.key"
    key = ["-newkey", "rsa:2048"] if key_kind == "rsa2048" else ["-newkey", "ec", "-pkeyopt",
                                                                 "ec_paramgen_curve:P-256"]
    subprocess.run(["openssl", "req", "-x509", *key, f"-{hash_name}", "-days", "7", "-nodes", "-subj",
                    f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}", "-keyout", str(paths[1]),
                    "-out", str(paths[0])], check=True, capture_output=True)
    return paths


def free_port(address: str) -> int:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def wait_listening(address: str, port: int, proc: subprocess.Popen, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"openssl s_server exited: {proc.stderr.read().decode(errors='replace')}")
        try:
            with socket.create_connection((address, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on [{address}]:{port}")


def s_server_args(profile: TlsProfile) -> list[str]:
    """The s_server options that make it serve a lab profile (nginx's directives, in openssl's words)."""
    args = ["-min_protocol", profile.protocols[0], "-max_protocol", profile.protocols[-1],
            "-cipher", profile.cipher_string(), "-groups", GROUPS]
    if profile.server_order:
        args.append("-serverpref")
    if profile.sigalgs:
        args += ["-sigalgs", profile.sigalgs]
    if profile.dhparam:
        args += ["-dhparam", str(profile.dhparam)]
    return args


@contextmanager
def s_server(address: str, certificate: tuple[Path, Path], args: list[str], www: bool = True):
    """`openssl s_server` on a free port of `address`; yields the port, stops the server by its PID.
    `www=False` for options that exclude its web mode (-early_data); stdin stays open either way."""
    port = free_port(address)
    where = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    proc = subprocess.Popen(["openssl", "s_server", "-accept", where, "-cert", str(certificate[0]),
                             "-key", str(certificate[1]), *(["-www"] if www else []), "-quiet", *args],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_listening(address, port, proc)
        yield port
    finally:
        proc.stdin.close()
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def nmap_enum(address: str, port: int, servername: str = HOST, extra: list[str] | None = None
              ) -> dict[str, set[str]]:
    """Accepted suites per protocol version as nmap's ssl-enum-ciphers finds them (IANA names)."""
    cmd = ["nmap", "-Pn", "-n", "-p", str(port), "--script", "ssl-enum-ciphers",
           "--script-args", f"tls.servername={servername}", "-oX", "-", *(extra or []), address]
    if ":" in address:
        cmd.insert(1, "-6")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True).stdout
    found: dict[str, set[str]] = {}
    script = ET.fromstring(out).find(".//script[@id='ssl-enum-ciphers']")
    if script is None:
        return found
    for table in script.findall("table"):
        version = NMAP_VERSIONS.get(table.get("key"))
        if version is None:
            continue
        ciphers = table.find("table[@key='ciphers']")
        names = {elem.text for elem in ciphers.iter("elem") if elem.get("key") == "name"} if ciphers is not None \
            else set()
        found[version] = {NMAP_TLS13.get(n, n) for n in names}
    return found


def govscan_sets(data: dict) -> dict[str, set[str]]:
    """The tls artifact's accepted suites per version, in the shape of nmap_enum()."""
    return {version: set(suites) for version, suites in data["suites"].items()
            if data["protocols"].get(version) and version in NMAP_VERSIONS}


def ca_and_leaf(directory: Path) -> dict:
    """A CA and a leaf for HOST that it issued (EC P-256, SHA-256): the files s_server needs (the CA goes in
    -cert_chain, so the served chain has the issuer) and the objects an OCSP response is built from."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "govscan test OCSP CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=7))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
            .issuer_name(ca_name).public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert, key, ca_file = directory / "ocsp-leaf.pem", directory / "ocsp-leaf.key", directory / "ocsp-ca.pem"
    cert.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return {"files": (cert, key), "ca_file": ca_file, "ca": ca, "ca_key": ca_key, "leaf": leaf}


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def issued_chain(directory: Path, intermediate_key, name: str, leaf_padding=None) -> dict:
    """A root (EC P-256), an intermediate with `intermediate_key` that the root signs (ECDSA, SHA-256), and a leaf
    for HOST (EC P-256) that the intermediate signs with SHA-256: with DSA, RSA (PKCS#1 v1.5, or `leaf_padding`)
    or ECDSA, as its key is. The files s_server needs (-cert, -key, and -cert_chain for the intermediate) and
    the certificates, leaf first. `name` tells chains apart in `directory`."""
    now = datetime.datetime.now(datetime.timezone.utc)
    root_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def issue(subject: str, issuer: str, public_key, signing_key, ca: bool, **sign) -> x509.Certificate:
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                   .public_key(public_key).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=7))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        return builder.sign(signing_key, hashes.SHA256(), **sign)

    root_name, intermediate_name = f"govscan test root {name}", f"govscan test intermediate {name}"
    root = issue(root_name, root_name, root_key.public_key(), root_key, True)
    intermediate = issue(intermediate_name, root_name, intermediate_key.public_key(), root_key, True)
    leaf = issue(HOST, intermediate_name, leaf_key.public_key(), intermediate_key, False,
                 **({"rsa_padding": leaf_padding} if leaf_padding else {}))
    cert, key, chain = directory / f"{name}-leaf.pem", directory / f"{name}-leaf.key", directory / f"{name}-chain.pem"
    cert.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(_pem_key(leaf_key))
    chain.write_bytes(intermediate.public_bytes(serialization.Encoding.PEM))
    return {"files": (cert, key), "chain_file": chain, "certificates": [leaf, intermediate, root]}


def ocsp_response_file(path: Path, pki: dict, *, status=ocsp.OCSPCertStatus.GOOD, age_days: float = 0,
                       signer: dict | None = None) -> Path:
    """A DER OCSP response about the leaf, signed by its CA (or by `signer`'s), for s_server's -status_file.
    `age_days` moves this_update and next_update into the past (a stale response when > 1)."""
    signer = signer or pki
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=age_days)
    revoked = status == ocsp.OCSPCertStatus.REVOKED
    single = ocsp.OCSPResponseBuilder().add_response(
        cert=pki["leaf"], issuer=pki["ca"], algorithm=hashes.SHA256(), cert_status=status,
        this_update=now - datetime.timedelta(hours=1), next_update=now + datetime.timedelta(days=1),
        revocation_time=now - datetime.timedelta(days=1) if revoked else None,
        revocation_reason=None).responder_id(ocsp.OCSPResponderEncoding.HASH, signer["ca"])
    path.write_bytes(single.sign(signer["ca_key"], hashes.SHA256()).public_bytes(serialization.Encoding.DER))
    return path


@contextmanager
def background_loop():
    """An event loop running on its own thread, for servers under test while the clients block. On exit the
    connection handlers still running (a test left a connection open) are cancelled and the loop closed."""
    event_loop = asyncio.new_event_loop()
    thread = threading.Thread(target=event_loop.run_forever, daemon=True)
    thread.start()
    try:
        yield event_loop
    finally:
        async def cancel_leftovers():
            tasks = asyncio.all_tasks() - {asyncio.current_task()}
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.run_coroutine_threadsafe(cancel_leftovers(), event_loop).result(10)
        event_loop.call_soon_threadsafe(event_loop.stop)
        thread.join()
        event_loop.close()
