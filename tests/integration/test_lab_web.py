"""The lab's web side checked with independent clients, not with govscan: `openssl s_client` for the TLS
profiles, `curl` for redirects, headers and security.txt, and Chromium (Playwright) for cookies set by the
lab's trackers and banners. Each claim here is one the default scenario's expectations rely on."""
from __future__ import annotations

import base64
import calendar
import hashlib
import json
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lab import scenario as lab_scenario

pytestmark = pytest.mark.lab

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def web(lab):
    """The running lab as these tests need it: CA file and each host's addresses (default scenario)."""
    if Path(lab["scenario"]).resolve() != lab_scenario.DEFAULT_SCENARIO.resolve():
        pytest.fail(f"these tests expect the default scenario, the lab runs {lab['scenario']}")
    return Lab(lab["ca_bundle"], lab["hosts"])


class Lab:
    def __init__(self, ca_file: str, hosts: dict[str, dict]):
        self.ca_file = ca_file
        self.hosts = hosts

    def address(self, host: str, family: int = 4) -> str:
        entry = self.hosts[host]
        return (entry["ipv4"] if family == 4 else entry["ipv6"])[0]

    def openssl(self, host: str, *options: str, family: int = 4, port: int = 443, send: str = "") -> str:
        """The s_client transcript of one handshake; with `send`, of that request and the server's answer
        (`-ign_eof` waits until the server closes), else it ends right after the handshake."""
        address = self.address(host, family)
        target = f"[{address}]:{port}" if family == 6 else f"{address}:{port}"
        extra = ["-ign_eof"] if send else []
        result = subprocess.run(["openssl", "s_client", "-connect", target, "-servername", host,
                                 "-CAfile", self.ca_file, *extra, *options], input=send,
                                capture_output=True, text=True, timeout=20)
        return result.stdout + result.stderr

    def renegotiate_then_request(self, host: str) -> str:
        """The s_client transcript of a TLS 1.2 handshake, a client-initiated renegotiation (the command
        'R', which s_client reads only from an open terminal-like input) and a HEAD request after it."""
        process = subprocess.Popen(["openssl", "s_client", "-connect", f"{self.address(host)}:443",
                                    "-servername", host, "-CAfile", self.ca_file, "-tls1_2"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True)
        try:
            for line, pause in (("R\n", 1.0), (f"HEAD / HTTP/1.1\r\nHost: {host}\r\n\r\n", 1.0)):
                time.sleep(pause)
                process.stdin.write(line)
                process.stdin.flush()
            time.sleep(1.0)
        except BrokenPipeError:
            pass  # the server ended the connection after the renegotiation attempt
        return process.communicate(timeout=20)[0]  # closes the input: s_client ends

    def negotiated(self, host: str, *options: str, family: int = 4) -> str | None:
        """'TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384' for a completed handshake, None when it was refused."""
        protocol = cipher = None
        for line in self.openssl(host, *options, family=family).splitlines():
            line = line.strip()
            if line.startswith("New, ") and "(NONE)" not in line:
                # "New, TLSv1.3, Cipher is X": the version here is the suite's, the session's comes below.
                protocol, cipher = line[5:].split(", Cipher is ")
            elif line.startswith("Protocol  :") and cipher:
                protocol = line.split(":", 1)[1].strip()
        return f"{protocol} {cipher}" if cipher else None

    def curl(self, host: str, url: str, *options: str, family: int = 4) -> dict:
        """Status, headers (lower-case names, first value) and body of one request, no redirects followed."""
        address = self.address(host, family)
        resolved = f"[{address}]" if family == 6 else address
        result = subprocess.run(
            ["curl", "-sS", "--max-time", "15", "--cacert", self.ca_file, "--resolve", f"{host}:443:{resolved}",
             "--resolve", f"{host}:80:{resolved}", "-D", "-", *options, url],
            capture_output=True, timeout=30)
        head, _, body = result.stdout.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/") else 0
        return {"status": status, "headers": headers, "body": body.decode("utf-8", "replace"),
                "error": result.stderr.decode()}


# --- TLS profiles (openssl s_client, IPv4 and IPv6) ------------------------------------------------------------

LEGACY = "DEFAULT:@SECLEVEL=0"  # the client side must allow what the legacy profile offers


@pytest.mark.parametrize("family", [4, 6])
@pytest.mark.parametrize("host, offered, refused", [
    ("www.beekdal.nl", ["-tls1_2", "-tls1_3"], ["-tls1", "-tls1_1"]),
    ("www.hoogeveld.nl", ["-tls1_3"], ["-tls1_2", "-tls1_1"]),
    ("www.rivierdal.nl", ["-tls1", "-tls1_1", "-tls1_2", "-tls1_3"], []),
    ("www.zandvoorde.nl", ["-tls1_2"], ["-tls1_3", "-tls1_1"]),
])
def test_protocol_versions(web, host, offered, refused, family):
    for version in offered:
        assert web.negotiated(host, version, "-cipher", LEGACY, family=family), f"{host} refused {version}"
    for version in refused:
        assert web.negotiated(host, version, "-cipher", LEGACY, family=family) is None, \
            f"{host} accepted {version}"


@pytest.mark.parametrize("host, suite, accepted", [
    ("www.beekdal.nl", "ECDHE-ECDSA-AES128-GCM-SHA256", True),
    ("www.beekdal.nl", "ECDHE-ECDSA-AES128-SHA256", False),
    ("www.beekdal.nl", "ECDHE-ECDSA-AES128-SHA", False),
    ("www.rivierdal.nl", "ECDHE-ECDSA-AES128-SHA", True),
    ("www.registers.gov.nl", "AES128-GCM-SHA256", True),
    ("www.zandvoorde.nl", "DHE-RSA-AES256-GCM-SHA384", True),
    ("www.zandvoorde.nl", "AES128-GCM-SHA256", False),
    ("www.molenwijk.nl", "ECDHE-ECDSA-AES128-SHA256", True),
    ("www.molenwijk.nl", "DHE-RSA-AES256-GCM-SHA384", False),
    ("www.eikenrode.nl", "ECDHE-ECDSA-AES128-SHA256", True),
])
def test_cipher_suites(web, host, suite, accepted):
    got = web.negotiated(host, "-tls1_2", "-cipher", f"{suite}:@SECLEVEL=0")
    assert (got == f"TLSv1.2 {suite}") if accepted else got is None, got


def test_dhe_profile_uses_ffdhe3072(web):
    transcript = web.openssl("www.zandvoorde.nl", "-tls1_2", "-cipher", "DHE-RSA-AES256-GCM-SHA384")
    assert "Server Temp Key: DH, 3072 bits" in transcript


def test_dhe2048_profile_uses_a_2048_bit_group(web):
    transcript = web.openssl("www.brugwaard.nl", "-tls1_2", "-cipher", "DHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0")
    assert "Server Temp Key: DH, 2048 bits" in transcript


def test_client_renegotiation_is_allowed_only_behind_the_renegotiation_front_end(web):
    """s_client renegotiates on the command line 'R'; a request sent after it is answered only where the
    server accepted the renegotiation (nginx ends the connection instead)."""
    for host, allowed in (("www.ravensmeer.nl", True), ("www.beekdal.nl", False)):
        transcript = web.renegotiate_then_request(host)
        assert "RENEGOTIATING" in transcript
        assert "Secure Renegotiation IS supported" in transcript
        assert ("HTTP/1.1 200 OK" in transcript) == allowed, (host, transcript[-600:])


@pytest.mark.parametrize("family", [4, 6])
def test_compression_profile_offers_deflate(web, family):
    """nmap's own TLS client (not OpenSSL, which lost compression) lists the compressors a server accepts."""
    address = web.address("www.zilverstrand.nl", family)
    result = subprocess.run(["nmap", "-Pn", "-n", *(["-6"] if family == 6 else []), "-p", "443",
                             "--script", "ssl-enum-ciphers", "--script-args", "tls.servername=www.zilverstrand.nl",
                             address], capture_output=True, text=True, timeout=120)
    assert "DEFLATE" in result.stdout, result.stdout
    assert "TLSv1.2" in result.stdout and "TLSv1.3" not in result.stdout


def test_front_ends_serve_the_site_with_its_headers(web):
    for host in ("www.ravensmeer.nl", "www.zilverstrand.nl"):
        for family in (4, 6):
            response = web.curl(host, f"https://{host}/", family=family)
            assert response["status"] == 200, (host, family, response["error"])
            assert response["headers"]["strict-transport-security"].startswith("max-age=31536000")
            assert "Gemeente" in response["body"]


def test_server_order(web):
    """modern enforces its own order (AES-256 first, whatever the client prefers); client_order follows the
    client, even to a GCM suite although its own list starts with CBC-SHA256."""
    for host, offer, expected in (
            ("www.beekdal.nl", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384",
             "ECDHE-ECDSA-AES256-GCM-SHA384"),
            ("www.eikenrode.nl", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256",
             "ECDHE-ECDSA-AES128-GCM-SHA256"),
            ("www.eikenrode.nl", "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256",
             "ECDHE-ECDSA-AES128-SHA256")):
        chosen = web.negotiated(host, "-tls1_2", "-cipher", offer)
        assert chosen == f"TLSv1.2 {expected}", (host, chosen)


def test_zero_rtt_profile_accepts_early_data(web, tmp_path):
    """Early data needs a resumed TLS 1.3 session: one handshake saves it, the second sends 0-RTT data."""
    session, early = tmp_path / "session.pem", tmp_path / "early.txt"
    for host, accepted in (("www.vroegdal.nl", True), ("www.beekdal.nl", False)):
        request = f"HEAD / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        early.write_text(request)
        # A whole request and answer, so the session ticket (sent after the handshake) is saved.
        web.openssl(host, "-tls1_3", "-sess_out", str(session), send=request)
        transcript = web.openssl(host, "-tls1_3", "-sess_in", str(session), "-early_data", str(early))
        assert ("Early data was accepted" in transcript) == accepted, host


@pytest.mark.parametrize("host, verdict", [
    ("www.beekdal.nl", "Verify return code: 0 (ok)"),
    ("www.bosschenrode.nl", "certificate has expired"),
    ("www.middenland.nl", "self-signed certificate"),
])
def test_certificates(web, host, verdict):
    assert verdict in web.openssl(host, "-tls1_2", "-cipher", LEGACY)


def test_sha1_certificate_is_served(web):
    transcript = web.openssl("www.digitalezaken.gov.nl", "-tls1_2", "-cipher", LEGACY, "-showcerts")
    leaf = x509.load_pem_x509_certificate(_first_pem(transcript))
    assert leaf.signature_hash_algorithm.name == "sha1"


def test_rsa1024_certificate_is_served(web):
    transcript = web.openssl("www.heerdijk.nl", "-tls1_2", "-cipher", LEGACY)
    assert "Server public key is 1024 bit" in transcript


@pytest.mark.parametrize("host, status", [
    ("www.linthorst.nl", "Cert Status: good"),
    ("www.fortwijk.nl", "Cert Status: revoked"),
    ("www.brederode-oost.nl", "Cert Status: good"),
    ("www.beekdal.nl", "OCSP response: no response sent"),
])
def test_ocsp_staples(web, host, status):
    transcript = web.openssl(host, "-status")
    assert status in transcript
    if host == "www.brederode-oost.nl":  # stapled, but past its nextUpdate
        line = next(l for l in transcript.splitlines() if "Next Update:" in l)
        next_update = time.strptime(line.split("Next Update:", 1)[1].strip(), "%b %d %H:%M:%S %Y %Z")
        assert calendar.timegm(next_update) < time.time() - 86400


def _first_pem(text: str) -> bytes:
    start = text.index("-----BEGIN CERTIFICATE-----")
    end = text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    return text[start:end].encode() + b"\n"


def test_smtp_starttls_with_profile(web):
    legacy = web.openssl("mail.rivierdal.nl", "-starttls", "smtp", "-tls1", "-cipher", LEGACY, port=25)
    assert "Protocol  : TLSv1\n" in legacy
    plain = web.openssl("mail.tolhuizen.nl", "-starttls", "smtp", port=25)
    assert "STARTTLS not supported" in plain or "didn't find starttls" in plain.lower()


# --- HTTP (curl) -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("family", [4, 6])
def test_redirects(web, family):
    same = web.curl("www.beekdal.nl", "http://www.beekdal.nl/nieuws", family=family)
    assert (same["status"], same["headers"]["location"]) == (301, "https://www.beekdal.nl/nieuws")
    other = web.curl("www.polderdam.nl", "http://www.polderdam.nl/", family=family)
    assert other["status"] == 301 and other["headers"]["location"].startswith("https://polderdam.nl/")
    back = web.curl("www.polderdam.nl", "https://polderdam.nl/", "--resolve",
                    f"polderdam.nl:443:{web.address('www.polderdam.nl')}")
    assert back["headers"]["location"] == "https://www.polderdam.nl/"
    content = web.curl("www.wadbroek.nl", "http://www.wadbroek.nl/", family=family)
    assert content["status"] == 200 and "Gemeente Wadbroek" in content["body"]
    closed = web.curl("www.heidebos.nl", "http://www.heidebos.nl/", family=family)
    assert closed["status"] == 0 and "Failed to connect" in closed["error"]


@pytest.mark.parametrize("family", [4, 6])
def test_http_only_site(web, family):
    assert web.curl("www.klaverveld.nl", "http://www.klaverveld.nl/", family=family)["status"] == 200
    refused = web.curl("www.klaverveld.nl", "https://www.klaverveld.nl/", family=family)
    assert refused["status"] == 0 and "Failed to connect" in refused["error"]


@pytest.mark.parametrize("host, hsts", [
    ("www.beekdal.nl", "max-age=31536000; includeSubDomains"),
    ("www.vennegoor.nl", "max-age=86400"),
    ("www.sluisdijk.nl", None),
    ("www.terpwerd.nl", "max_age=31536000; includeSubDomains"),
    ("www.duinhout.nl", "max-age=63072000; includeSubDomains; preload"),
    ("www.klokkenveen.nl", "max-age=31536000; includeSubDomains=true"),
    ("www.ganzenwaard.nl", 'max-age=31536000; note="see https://www.ganzenwaard.nl/hsts;v=2"'),
])
def test_hsts(web, host, hsts):
    for family in (4, 6):
        assert web.curl(host, f"https://{host}/", family=family)["headers"].get("strict-transport-security") == hsts


def test_security_headers(web):
    good = web.curl("www.beekdal.nl", "https://www.beekdal.nl/")["headers"]
    assert good["x-frame-options"] == "SAMEORIGIN" and good["x-content-type-options"] == "nosniff"
    assert good["referrer-policy"] == "same-origin" and "base-uri 'self'" in good["content-security-policy"]
    none = web.curl("www.kreekwaarde.nl", "https://www.kreekwaarde.nl/")["headers"]
    assert not {"x-frame-options", "x-content-type-options", "referrer-policy",
                "content-security-policy"} & set(none)
    bad = web.curl("www.oeverland.nl", "https://www.oeverland.nl/")["headers"]
    assert "'unsafe-inline'" in bad["content-security-policy"]
    mapping = web.curl("www.brakel-oost.nl", "https://www.brakel-oost.nl/")["headers"]
    assert mapping["x-frame-options"] == "DENY" and "content-security-policy" not in mapping
    assert "x-frame-options" not in web.curl("www.dubbelbeleid.nl", "https://www.dubbelbeleid.nl/")["headers"]
    raw = subprocess.run(["curl", "-sS", "--cacert", web.ca_file, "--resolve",
                          f"www.dubbelbeleid.nl:443:{web.address('www.dubbelbeleid.nl', 4)}", "-o", "/dev/null", "-D", "-",
                          "https://www.dubbelbeleid.nl/"], capture_output=True, timeout=30).stdout.decode("latin-1")
    assert [line.split(":", 1)[1].strip() for line in raw.split("\r\n")
            if line.lower().startswith("content-security-policy:")] == [
        "default-src 'self'; base-uri 'self'; object-src 'none'", "frame-ancestors 'self'; form-action 'self'"]
    session = web.curl("loket.beekdal.nl", "https://loket.beekdal.nl/")["headers"]
    assert session["set-cookie"].startswith("PHPSESSID=") and "HttpOnly" in session["set-cookie"]


@pytest.mark.parametrize("host, well_known, root, content_type", [
    ("www.beekdal.nl", 200, 404, "text/plain; charset=utf-8"),
    ("www.lageveen.nl", 200, 404, "text/plain; charset=utf-8"),
    ("www.hofstede.nl", 200, 404, "text/plain; charset=utf-8"),
    ("www.vlietland.nl", 200, 404, "text/html; charset=utf-8"),
    ("www.grootebroek-west.nl", 404, 200, None),
    ("www.marswoude.nl", 404, 404, None),
])
def test_security_txt(web, host, well_known, root, content_type):
    at_well_known = web.curl(host, f"https://{host}/.well-known/security.txt")
    assert at_well_known["status"] == well_known
    assert web.curl(host, f"https://{host}/security.txt")["status"] == root
    if content_type:
        assert at_well_known["headers"]["content-type"] == content_type
    body = at_well_known["body"] if well_known == 200 else ""
    if host == "www.beekdal.nl":
        assert "Contact: mailto:" in body and "Preferred-Languages: nl, en" in body
    if host == "www.hofstede.nl":
        assert "Contact:" not in body and "Expires:" in body
    if host == "www.lageveen.nl":
        expires = next(line for line in body.splitlines() if line.startswith("Expires:"))
        assert expires.split()[1] < time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def test_security_txt_given_as_text(web):
    """A scenario's own text is served byte for byte with the Content-Type it names (docs/scenario.md)."""
    own = web.curl("www.lindeoord.nl", "https://www.lindeoord.nl/.well-known/security.txt")
    assert own["headers"]["content-type"] == "text/plain; charset=csUTF8"
    assert own["body"].startswith("Contact: mailto:security@lindeoord.nl\nExpires: ") and "t12:00:00z\n" in own["body"]
    unterminated = web.curl("www.regelrode.nl", "https://www.regelrode.nl/.well-known/security.txt")
    assert unterminated["body"].endswith("Preferred-Languages: nl, en")


def test_different_content_on_ipv6(web):
    host = "www.zevenbergen-noord.nl"
    assert "Gemeente Zevenbergen-Noord" in web.curl(host, f"https://{host}/", family=4)["body"]
    assert "Website in onderhoud" in web.curl(host, f"https://{host}/", family=6)["body"]


def test_ipv6_no_listener(web):
    result = web.curl("www.dijkhuizen.nl", "https://www.dijkhuizen.nl/", "--connect-timeout", "3", family=6)
    assert result["status"] == 0


def test_statement_register(web):
    page = web.curl("toegankelijkheidsverklaring.nl", "https://toegankelijkheidsverklaring.nl/register/7003")
    assert "D. Voldoet niet" in page["body"]
    label = web.curl("www.maasheuvel.nl", "https://www.maasheuvel.nl/")["body"]
    src = label.split('src="https://www.toegankelijkheidsverklaring.nl', 1)[1].split('"', 1)[0]
    assert src.startswith("/files/verklaring/label/") and src.endswith(".7003.svg")
    image = web.curl("toegankelijkheidsverklaring.nl", f"https://toegankelijkheidsverklaring.nl{src}")
    assert image["status"] == 200 and image["headers"]["content-type"].startswith("image/svg+xml")


def test_statement_page(web):
    body = web.curl("www.noorderhaven.nl", "https://www.noorderhaven.nl/toegankelijkheid")["body"]
    assert "De status van deze website is: <strong>C: eerste maatregelen genomen</strong>" in body
    assert "Nalevingsstatus" in body


@pytest.mark.parametrize("host, behaviour", [
    ("www.stilleveen.nl", "hang"), ("www.drieborg.nl", "drip"), ("www.handelsveen.nl", "tls_stall")])
def test_hostile_servers_time_out(web, host, behaviour):
    result = web.curl(host, f"https://{host}/", "--max-time", "3")
    assert result["status"] == 0 and "timed out" in result["error"], behaviour


def test_hostile_servers_with_huge_responses(web):
    loop = web.curl("www.rondeel.nl", "https://www.rondeel.nl/lus/41")
    assert loop["status"] == 302 and loop["headers"]["location"] == "https://www.rondeel.nl/lus/42"
    huge = web.curl("www.grootewaard.nl", "https://www.grootewaard.nl/", "--max-filesize", "1000", "-I")
    assert huge["headers"]["content-length"] == str(1 << 30)
    bomb = web.curl("www.zwaagmeer.nl", "https://www.zwaagmeer.nl/", "-I")
    assert bomb["headers"]["content-encoding"] == "gzip"
    assert int(bomb["headers"]["content-length"]) < 8 << 20


# --- Chromium -------------------------------------------------------------------------------------------------

def spki_hash(pem_file: str) -> str:
    cert = x509.load_pem_x509_certificate(Path(pem_file).read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@contextmanager
def chromium(lab: Lab, profile: Path):
    """A fresh Chromium that allows third-party cookies (Debian's default blocks them), trusts the lab CA
    by its key and resolves every lab host to its lab IPv4 address."""
    from playwright.sync_api import sync_playwright

    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text(json.dumps(
        {"profile": {"block_third_party_cookies": False, "cookie_controls_mode": 0}}))
    intermediate = Path(lab.ca_file).with_name("intermediate.pem")
    keys = ",".join(spki_hash(str(f)) for f in (Path(lab.ca_file), intermediate) if f.exists())
    rules = ", ".join(f"MAP {host} {entry['ipv4'][0]}" for host, entry in lab.hosts.items() if entry["ipv4"])
    rules += ", " + ", ".join(f"MAP {alias} {lab.hosts[host]['ipv4'][0]}" for alias, host in (
        ("polderdam.nl", "www.polderdam.nl"),) if host in lab.hosts)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  f"--host-resolver-rules={rules}", f"--ignore-certificate-errors-spki-list={keys}"])
        try:
            yield context
        finally:
            context.close()


def cookie_names(context) -> dict[str, str]:
    return {c["name"]: c["domain"] for c in context.cookies()}


def test_tracker_cookies_in_chromium(web, tmp_path):
    """Analytics (_ga from JavaScript, first party, plus a collect request), the pixel's third-party IDE
    cookie, the video embed's cookies in its own frame, and the session cookie, all without interaction."""
    with chromium(web, tmp_path / "profile") as context:
        page = context.new_page()
        requests = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto("https://www.ooststellingwaard.nl/", wait_until="load")
        page.wait_for_timeout(2000)
        cookies = cookie_names(context)
    measurement = [name for name in cookies if name.startswith("_ga_")]
    assert cookies.get("_ga") == ".ooststellingwaard.nl" and cookies.get("_gid") == ".ooststellingwaard.nl"
    assert len(measurement) == 1
    assert cookies.get("IDE") == ".doubleclick.net"
    assert cookies.get("YSC") == ".youtube.com" and cookies.get("VISITOR_INFO1_LIVE") == ".youtube.com"
    assert cookies.get("PHPSESSID") == "www.ooststellingwaard.nl"
    assert any(url.startswith("https://www.google-analytics.com/g/collect?") for url in requests)


def test_canary_sets_a_third_party_cookie(web, tmp_path):
    with chromium(web, tmp_path / "profile") as context:
        context.new_page().goto("https://canary.govscan-lab.com/", wait_until="load")
        assert cookie_names(context).get("IDE") == ".doubleclick.net"


def test_banners_gate_trackers(web, tmp_path):
    """first_layer: nothing before a click, trackers after Accepteren; Cookiebot tracks_after_reject: the
    trackers load after Weigeren; second_layer: Weigeren only after Instellingen, the video after accept."""
    with chromium(web, tmp_path / "a") as context:
        page = context.new_page()
        page.goto("https://www.weidebeek.nl/", wait_until="load")
        page.wait_for_timeout(1000)
        assert "_ga" not in cookie_names(context)
        page.get_by_role("button", name="Accepteren").click()
        page.wait_for_timeout(1500)
        assert {"_ga", "IDE"} <= set(cookie_names(context))
    with chromium(web, tmp_path / "b") as context:
        page = context.new_page()
        page.goto("https://www.hunzedal.nl/", wait_until="load")
        page.locator("#CybotCookiebotDialogBodyButtonDecline").click()
        page.wait_for_timeout(1500)
        assert {"_ga", "IDE", "CookieConsent"} <= set(cookie_names(context))
    with chromium(web, tmp_path / "c") as context:
        page = context.new_page()
        page.goto("https://www.kloosterzande-noord.nl/", wait_until="load")
        assert not page.get_by_role("button", name="Weigeren").is_visible()
        page.get_by_role("button", name="Instellingen").click()
        page.get_by_role("button", name="Weigeren").click()
        page.wait_for_timeout(1500)
        assert "_ga" not in cookie_names(context) and "YSC" not in cookie_names(context)
    with chromium(web, tmp_path / "d") as context:
        page = context.new_page()
        page.goto("https://www.kloosterzande-noord.nl/", wait_until="load")
        page.get_by_role("button", name="Accepteren").click()
        page.wait_for_timeout(1500)
        assert {"_ga", "YSC", "VISITOR_INFO1_LIVE"} <= set(cookie_names(context))


def test_delayed_cookie(web, tmp_path):
    with chromium(web, tmp_path / "profile") as context:
        page = context.new_page()
        page.goto("https://www.waterschapdelagepolders.nl/", wait_until="load")
        assert "_gcl_au" not in cookie_names(context)
        page.wait_for_timeout(4000)
        assert cookie_names(context).get("_gcl_au") == ".waterschapdelagepolders.nl"


AXE = Path(__file__).resolve().parents[2] / "scanner" / "probes" / "browser_js" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(context, url: str) -> dict[str, set[str]]:
    """Rule ids axe-core (WCAG 2.1 A/AA tags) reports per frame URL of a loaded page."""
    page = context.new_page()
    page.goto(url, wait_until="load")
    page.wait_for_timeout(1000)
    found = {}
    for frame in page.frames:
        frame.evaluate(AXE.read_text())
        result = frame.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, iframes: false})",
                                WCAG_TAGS)
        found[frame.url] = {violation["id"] for violation in result["violations"]}
    page.close()
    return found


def test_wcag_variants_under_axe(web, tmp_path):
    """Clean pages (with banners, trackers and third-party frames) have no WCAG 2.1 A/AA violation; the
    violations variant has the four declared ones; the iframe variant has one, only inside its frame."""
    with chromium(web, tmp_path / "profile") as context:
        for url in ("https://www.beekdal.nl/", "https://www.beekdal.nl/contact",
                    "https://www.beekdal.nl/toegankelijkheid", "https://www.ooststellingwaard.nl/",
                    "https://www.weidebeek.nl/", "https://www.hunzedal.nl/", "https://www.kloosterzande-noord.nl/",
                    "https://www.ministerie-digitalezaken.nl/toegankelijkheid"):
            found = axe_violations(context, url)
            assert not any(found.values()), (url, found)
        violations = axe_violations(context, "https://www.gaasterdam.nl/")
        assert violations["https://www.gaasterdam.nl/"] == {"image-alt", "color-contrast", "label", "link-name"}
        framed = axe_violations(context, "https://www.bollenveen.nl/")
        assert framed == {"https://www.bollenveen.nl/": set(),
                          "https://www.bollenveen.nl/widget/afvalkalender": {"image-alt"}}
