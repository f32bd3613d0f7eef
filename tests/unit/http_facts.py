"""Hand-built `http` probe artifacts (the shape scanner/probes/http.py records) for the check tests: a
well-configured address to start from, and a way to judge one check through the registry."""
from __future__ import annotations

import base64
import copy

from checks.registry import all_checks, evaluate
from govscan.model import Artifact, Finding, Site

HOST = "www.test.nl"
ADDRESS = "198.51.100.10"
SITE = Site(url=f"https://{HOST}/", host=HOST)
FETCHED_AT = "2026-11-23T10:00:00+00:00"
GOOD_CSP = ("default-src 'self'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'; "
            "img-src 'self' data:")
GOOD_HEADERS = [
    ["Content-Type", "text/html; charset=utf-8"],
    ["Strict-Transport-Security", "max-age=31536000; includeSubDomains"],
    ["X-Frame-Options", "DENY"],
    ["X-Content-Type-Options", "nosniff"],
    ["Referrer-Policy", "no-referrer"],
    ["Content-Security-Policy", GOOD_CSP],
]
GOOD_SECURITY_TXT = ("# security contact\nContact: mailto:security@test.nl\nContact: https://test.nl/meld\n"
                     "Expires: 2027-06-01T00:00:00Z\nPreferred-Languages: nl, en\n")


def security_txt_file(text: str | bytes, *, path="/.well-known/security.txt", status=200,
                      content_type="text/plain; charset=utf-8") -> dict:
    raw = text.encode() if isinstance(text, str) else text
    media, _, params = content_type.partition(";")
    charset = params.split("=", 1)[1].strip() if "=" in params else None
    return {"url": f"https://{HOST}{path}", "status": status, "content_type": content_type,
            "media_type": media.strip(), "charset": charset, "location": None, "bytes": len(raw),
            "too_large": False, "body_base64": base64.b64encode(raw).decode() if status == 200 else ""}


def good() -> dict:
    """An address that meets every rule."""
    return copy.deepcopy({
        "host": HOST, "address": ADDRESS, "fetched_at": FETCHED_AT, "ports": {"https": 443, "http": 80},
        "tcp443": {"open": True},
        "tls": {"ok": True, "version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384", "alpn": "http/1.1"},
        "certificates": [
            {"subject": f"CN={HOST}", "issuer": "CN=Lab Intermediate", "sans": [HOST, "test.nl"],
             "not_before": "2026-10-01T00:00:00+00:00", "not_after": "2027-01-01T00:00:00+00:00",
             "self_issued": False, "key_type": "ec", "key_size": 256, "signature_hash": "sha256"},
            {"subject": "CN=Lab Intermediate", "issuer": "CN=Lab Root", "sans": [],
             "not_before": "2026-01-01T00:00:00+00:00", "not_after": "2030-01-01T00:00:00+00:00",
             "self_issued": False, "key_type": "ec", "key_size": 384, "signature_hash": "sha384"}],
        "cert_verification": {"validated": True, "error": None,
                              "chain": [f"CN={HOST}", "CN=Lab Intermediate", "CN=Lab Root"]},
        "https": {"url": f"https://{HOST}/", "status": 200, "headers": GOOD_HEADERS, "location": None},
        "security_txt": {"/.well-known/security.txt": security_txt_file(GOOD_SECURITY_TXT)},
        "redirects": {"hops": [{"url": f"https://{HOST}/", "status": 200, "location": None,
                                "headers": GOOD_HEADERS}],
                      "stopped": None, "final_url": f"https://{HOST}/", "final_host": HOST},
        "tcp80": {"open": True},
        "http": {"url": f"http://{HOST}/", "status": 301, "location": f"https://{HOST}/",
                 "headers": [["Location", f"https://{HOST}/"]]},
    })


def with_headers(data: dict, headers: list[list[str]]) -> dict:
    """The front page (which does not redirect) answering with these headers."""
    data["https"]["headers"] = headers
    data["redirects"]["hops"][0]["headers"] = headers
    return data


def judge(check_id: str, data: dict | None = None, *, error: str | None = None, site: Site = SITE) -> Finding:
    """One check on one address, through the registry (so gating on failed artifacts is exercised)."""
    artifact = Artifact("http", 1, ADDRESS, data or {}, error=error, error_detail=error or "")
    return evaluate(all_checks()[check_id], site, {}, {ADDRESS: {"http": artifact}})
