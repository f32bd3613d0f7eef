"""The lab's TLS profiles (docs/scenario.md, "TLS profiles"): protocols and OpenSSL cipher strings shared
by nginx (web) and the SMTP server (mail), so a profile means the same thing on port 443 and on port 25.

Two profiles need what nginx refuses to do, so a Python TLS front end (lab/tls_frontend.py) serves
port 443 for them and relays to nginx: `client_renegotiation` (OpenSSL 3 through Python's ssl module, with
client-initiated renegotiation allowed) and `compression` (the lab's own TLS 1.2 with DEFLATE,
lab/deflate_tls.py, since Debian's OpenSSL has no zlib).

The cipher lists name ECDSA and RSA variants so a profile behaves the same whichever key the certificate
has. `@SECLEVEL=0` is added where OpenSSL 3 would otherwise refuse what the profile must offer (TLS 1.0/1.1
signatures, SHA-1 signed certificates)."""
from __future__ import annotations

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

    def cipher_string(self, weak_certificate: bool = False) -> str:
        """The cipher string with the security level lowered when the profile or certificate needs it."""
        if "TLSv1" in self.protocols or "TLSv1.1" in self.protocols or weak_certificate:
            return self.ciphers + ":@SECLEVEL=0"
        return self.ciphers


PROFILES: dict[str, TlsProfile] = {p.name: p for p in (
    TlsProfile("modern", ("TLSv1.2", "TLSv1.3"), GOOD),
    TlsProfile("tls13_only", ("TLSv1.3",), GOOD),
    TlsProfile("legacy", ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"), f"{GOOD}:{CBC_SHA1}"),
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
