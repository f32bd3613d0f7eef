"""The lab's TLS profiles (docs/scenario.md, "TLS profiles"): protocols and OpenSSL cipher strings shared
by nginx (web) and the SMTP server (mail), so a profile means the same thing on port 443 and on port 25.

Two profiles need what nginx refuses to do, so a Python TLS front end (lab/tls_frontend.py) serves
port 443 for them and relays to nginx: `client_renegotiation` (OpenSSL 3 through Python's ssl module, with
client-initiated renegotiation allowed) and `compression` (the lab's own TLS 1.2 with DEFLATE,
lab/deflate_tls.py, since Debian's OpenSSL has no zlib).

The cipher lists name ECDSA and RSA variants so a profile behaves the same whichever key the certificate
has. `@SECLEVEL=0` is added where OpenSSL 3 would otherwise refuse what the profile must offer (TLS 1.0/1.1
signatures, SHA-1 signed certificates).

Every profile but `legacy` signs its key exchange with SHA-256 or stronger only (SIGALGS), as NCSC asks;
OpenSSL's own default also allows SHA-224 (and SHA-1 at security level 0, which `legacy` keeps)."""
from __future__ import annotations

import ctypes
import ssl
from dataclasses import dataclass
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"
FFDHE2048 = TEMPLATES / "ffdhe2048.pem"
FFDHE3072 = TEMPLATES / "ffdhe3072.pem"

# OpenSSL 3's SSL_OP_ALLOW_CLIENT_RENEGOTIATION (Python's ssl module has no name for it).
OP_ALLOW_CLIENT_RENEGOTIATION = 0x100

# Certificate profiles OpenSSL 3 serves only at security level 0 (SHA-1 signature, 1024-bit key).
WEAK_CERTIFICATES = ("sha1", "rsa1024")

# Groups offered for (EC)DHE: all "good" per NCSC; OpenSSL's default list would add ffdhe2048 under TLS 1.3.
GROUPS = "X25519:prime256v1:secp384r1"

# Signature schemes for the key exchange (OpenSSL's SignatureAlgorithms): SHA-256 and stronger, "good" per NCSC.
SIGALGS = ("ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512:rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512:"
           "RSA+SHA256:RSA+SHA384:RSA+SHA512:ed25519:ed448")
# OpenSSL's SSL_CTRL_SET_SIGALGS_LIST (ssl.h): SSL_CTX_set1_sigalgs_list is a macro over SSL_CTX_ctrl.
SSL_CTRL_SET_SIGALGS_LIST = 98

GOOD = ("ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
        "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256")
CBC_SHA1 = "ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"
RSA_KEX = "AES256-GCM-SHA384:AES128-GCM-SHA256"
DHE = "DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256"
CBC_SHA2 = "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384"


@dataclass(frozen=True)
class TlsProfile:
    name: str
    protocols: tuple[str, ...]      # nginx names: TLSv1, TLSv1.1, TLSv1.2, TLSv1.3
    ciphers: str                    # OpenSSL cipher string for TLS <= 1.2
    server_order: bool = True
    dhparam: Path | None = None
    early_data: bool = False        # accept TLS 1.3 0-RTT data on resumed sessions
    frontend: str = ""              # "" (nginx terminates TLS), "renegotiation" or "deflate" (Python front end)
    sigalgs: str = SIGALGS          # key-exchange signature schemes; "" keeps OpenSSL's default list

    def cipher_string(self, weak_certificate: bool = False) -> str:
        """The cipher string with the security level lowered when the profile or certificate needs it."""
        if "TLSv1" in self.protocols or "TLSv1.1" in self.protocols or weak_certificate:
            return self.ciphers + ":@SECLEVEL=0"
        return self.ciphers


PROFILES: dict[str, TlsProfile] = {p.name: p for p in (
    TlsProfile("modern", ("TLSv1.2", "TLSv1.3"), GOOD),
    TlsProfile("tls13_only", ("TLSv1.3",), GOOD),
    TlsProfile("legacy", ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"), f"{GOOD}:{CBC_SHA1}", sigalgs=""),
    TlsProfile("rsa_kex", ("TLSv1.2",), f"{GOOD}:{RSA_KEX}"),
    TlsProfile("dhe", ("TLSv1.2",), f"{GOOD}:{DHE}", dhparam=FFDHE3072),
    TlsProfile("dhe2048", ("TLSv1.2",), f"{GOOD}:{DHE}", dhparam=FFDHE2048),
    TlsProfile("cbc_sha256", ("TLSv1.2",), f"{GOOD}:{CBC_SHA2}"),
    TlsProfile("client_order", ("TLSv1.2",), f"{CBC_SHA2}:{GOOD}", server_order=False),
    TlsProfile("zero_rtt", ("TLSv1.2", "TLSv1.3"), GOOD, early_data=True),
    TlsProfile("client_renegotiation", ("TLSv1.2",), GOOD, frontend="renegotiation"),
    # Fixed by lab/deflate_tls.py, which implements only these: TLS 1.2, ECDHE with AES-128-GCM.
    TlsProfile("compression", ("TLSv1.2",), "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
               frontend="deflate"),
)}

_SSL_VERSIONS = {"TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1,
                 "TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


def server_context(profile: TlsProfile, certificate: str, key: str, weak_certificate: bool = False
                   ) -> ssl.SSLContext:
    """A Python server context with the profile's protocols, suites, order and DH group (for SMTP and the
    renegotiation front end)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_ciphers(profile.cipher_string(weak_certificate))
    ctx.minimum_version = _SSL_VERSIONS[profile.protocols[0]]
    ctx.maximum_version = _SSL_VERSIONS[profile.protocols[-1]]
    ctx.load_cert_chain(certificate, key)
    ctx.set_ecdh_curve("prime256v1")
    if profile.sigalgs:
        set_signature_algorithms(ctx, profile.sigalgs)
    if profile.server_order:
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    else:
        ctx.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    if profile.dhparam:
        ctx.load_dh_params(str(profile.dhparam))
    ctx.options |= ssl.OP_NO_COMPRESSION
    if profile.frontend == "renegotiation":
        ctx.options |= OP_ALLOW_CLIENT_RENEGOTIATION
    else:
        ctx.options |= ssl.OP_NO_RENEGOTIATION
    return ctx


def set_signature_algorithms(ctx: ssl.SSLContext, sigalgs: str) -> None:
    """OpenSSL's SSL_CTX_set1_sigalgs_list on a Python context, whose ssl module has no call for it. The
    SSL_CTX is the first field after the object header of CPython's SSLContext (Modules/_ssl.c); its options
    must read back as `ctx.options`, or that layout is not what this expects and it stops before writing."""
    libssl = ctypes.CDLL(ssl._ssl.__file__)  # the libssl the ssl module is linked with
    libssl.SSL_CTX_get_options.restype = ctypes.c_uint64
    libssl.SSL_CTX_get_options.argtypes = [ctypes.c_void_p]
    libssl.SSL_CTX_ctrl.restype = ctypes.c_long
    libssl.SSL_CTX_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_char_p]
    ssl_ctx = ctypes.c_void_p.from_address(id(ctx) + object.__basicsize__).value
    if libssl.SSL_CTX_get_options(ssl_ctx) != int(ctx.options):
        raise RuntimeError("cannot find the SSL_CTX of a Python SSLContext")
    if libssl.SSL_CTX_ctrl(ssl_ctx, SSL_CTRL_SET_SIGALGS_LIST, 0, sigalgs.encode("ascii")) != 1:
        raise ValueError(f"OpenSSL refused the signature algorithms {sigalgs!r}")
