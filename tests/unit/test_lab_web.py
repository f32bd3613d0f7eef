"""The lab's web side without starting it: nginx configuration, docroots, security.txt, the hostile gzip
bomb and the SMTP dialogue (on a loopback port)."""
from __future__ import annotations

import asyncio
import datetime
import gzip
import re
import smtplib
import ssl
import subprocess
import textwrap
import threading

import pytest

from lab import hostile, pages, pki, plan as lab_plan, scenario, smtp, web
from lab.tls_profiles import SIGALGS

SCENARIO = textwrap.dedent("""\
    name: unit
    organisations:
      - {code: GM9901, name: Gemeente Proefstad, type: gemeente}
    sites:
      - host: www.proefstad.nl
        organisation: GM9901
        session_cookie: true
        pages:
          template: municipality
          params: {trackers: [analytics, pixel, video], banner: first_layer}
      - host: www.legacy.nl
        tls: legacy
        cert: sha1
        port80: closed
        hsts: short
        headers: none
        security_txt: wrong_type
      - host: www.dhe.nl
        tls: dhe
        port80: redirect_other_host
        hsts: malformed
        headers: bad_csp
        security_txt: legacy_path
      - host: www.order.nl
        tls: client_order
        port80: content
        hsts: "max-age=63072000; preload"
        headers: {X-Frame-Options: DENY}
        security_txt: expired
        different_content_on_ipv6: true
      - host: www.nolistener.nl
        ipv6_unreachable: no_listener
        security_txt: no_contact
        pages:
          template: municipality
          params: {statement: {status: B, date: 2026-03-05, where: register_label, register_id: 42}}
      - host: www.cookiebot.nl
        pages:
          template: municipality
          params: {trackers: [analytics], banner: tracks_after_reject, statement: about_page, wcag: violations}
      - host: www.http.nl
        port80: content
        port443: closed
      - host: www.inline.nl
        security_txt: missing
        pages: {inline: {"/": "<p>hallo</p>", "/a/b": "<p>b</p>", "/x.txt": "x"}}
      - host: www.hang.nl
        hostile: hang
      - host: www.loop.nl
        hostile: js_loop
      - host: www.eigen.nl
        headers: [[Content-Security-Policy, "default-src 'self'"], [Content-Security-Policy, "frame-ancestors 'none'"]]
        security_txt:
          text: "Contact: mailto:security@{zone}\\nExpires: {expires}t00:00:00z\\nCanonical: https://{host}/security.txt"
          path: legacy
          content_type: "text/plain; charset=UTF-8"
      - host: www.mail.nl
        records: ["@ MX 10 mail.mail.nl."]
        mail: starttls
        tls: tls13_only
      - host: www.volgers.nl
        session_cookie: django
        pages:
          template: municipality
          params: {trackers: [quantcast, matomo, instagram, widget]}
    """)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("lab")
    plan = lab_plan.build(scenario.loads(SCENARIO, workdir / "unit.yaml"), workdir)
    services = {service.name: service for service in web.services(plan)}
    return plan, services, (workdir / "web" / "nginx.conf").read_text()


def server_block(conf: str, host: str, port: int) -> str:
    """The first server block whose server_name is `host` and that listens on `port`."""
    for block in conf.split("\nserver {")[1:]:
        if re.search(rf"server_name {re.escape(host)}[ ;]", block) and f":{port}" in block.split("server_name")[0]:
            return block.split("\n}")[0]
    raise AssertionError(f"no server block for {host}:{port}")


def test_services_and_ports(built):
    plan, services, _ = built
    assert set(services) == {"nginx", "hostile", "smtp"}
    nginx = services["nginx"]
    assert nginx.argv[0] == "nginx" and nginx.argv[-2:] == ["-g", "daemon off;"]
    proefstad = plan.hosts["www.proefstad.nl"]
    assert (proefstad.ipv4[0], 80) in nginx.ports and (proefstad.ipv6[0], 443) in nginx.ports
    legacy = plan.hosts["www.legacy.nl"]
    assert (legacy.ipv4[0], 443) in nginx.ports and (legacy.ipv4[0], 80) not in nginx.ports
    hang = plan.hosts["www.hang.nl"]
    assert (hang.ipv4[0], 443) in services["hostile"].ports and (hang.ipv4[0], 443) not in nginx.ports
    assert services["hostile"].argv[1:3] == ["-m", "lab.hostile"]
    mail = plan.hosts["mail.mail.nl"]
    assert services["smtp"].ports == [(mail.ipv4[0], 25), (mail.ipv6[0], 25)]


def test_tls_profiles_in_nginx(built):
    _, _, conf = built
    modern = server_block(conf, "www.proefstad.nl", 443)
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in modern and "ssl_prefer_server_ciphers on;" in modern
    assert "SECLEVEL" not in modern and "ssl_ecdh_curve X25519:prime256v1:secp384r1;" in modern
    assert f"ssl_conf_command SignatureAlgorithms {SIGALGS};" in modern and "SHA224" not in SIGALGS
    legacy = server_block(conf, "www.legacy.nl", 443)
    assert "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;" in legacy and ":@SECLEVEL=0;" in legacy
    assert "SignatureAlgorithms" not in legacy  # OpenSSL's defaults, SHA-1 and SHA-224 included
    assert "ECDHE-RSA-AES128-SHA:" in legacy
    dhe = server_block(conf, "www.dhe.nl", 443)
    assert "ssl_protocols TLSv1.2;" in dhe and "DHE-RSA-AES256-GCM-SHA384" in dhe
    assert f"ssl_dhparam {web.PROFILES['dhe'].dhparam};" in dhe
    assert "ssl_prefer_server_ciphers off;" in server_block(conf, "www.order.nl", 443)


def test_sha1_certificate_lowers_the_security_level():
    assert web.PROFILES["modern"].cipher_string(weak_certificate=True).endswith(":@SECLEVEL=0")
    assert "SECLEVEL" not in web.PROFILES["modern"].cipher_string()


def test_port80_variants(built):
    plan, _, conf = built
    assert "return 301 https://www.proefstad.nl$request_uri;" in server_block(conf, "www.proefstad.nl", 80)
    assert plan.hosts["www.dhe.nl"].aliases == ["dhe.nl"]
    assert "return 301 https://dhe.nl$request_uri;" in server_block(conf, "www.dhe.nl", 80)
    assert "return 301 https://www.dhe.nl$request_uri;" in server_block(conf, "dhe.nl", 443)
    content = server_block(conf, "www.order.nl", 80)
    assert "return 301" not in content and "try_files" in content
    with pytest.raises(AssertionError):
        server_block(conf, "www.legacy.nl", 80)


def test_port443_closed(built):
    plan, services, conf = built
    http_only = plan.hosts["www.http.nl"]
    assert "try_files" in server_block(conf, "www.http.nl", 80)
    assert "return 301" in server_block(conf, "http.nl", 80)
    for name in ("www.http.nl", "http.nl"):
        with pytest.raises(AssertionError):
            server_block(conf, name, 443)
    assert (http_only.ipv4[0], 443) not in services["nginx"].ports
    assert (http_only.ipv4[0], 80) in services["nginx"].ports


def test_response_headers(built):
    _, _, conf = built
    proefstad = server_block(conf, "www.proefstad.nl", 443)
    assert '"Strict-Transport-Security" "max-age=31536000; includeSubDomains" always;' in proefstad
    assert f'"Content-Security-Policy" "{web.GOOD_CSP}"' in proefstad
    assert 'add_header Set-Cookie "PHPSESSID=$request_id; Path=/; Secure; HttpOnly; SameSite=Lax"' in proefstad
    legacy = server_block(conf, "www.legacy.nl", 443)
    assert '"max-age=86400"' in legacy and "X-Frame-Options" not in legacy and "PHPSESSID" not in legacy
    dhe = server_block(conf, "www.dhe.nl", 443)
    assert '"max_age=31536000; includeSubDomains"' in dhe and "'unsafe-inline'" in dhe
    order = server_block(conf, "www.order.nl", 443)
    assert '"max-age=63072000; preload"' in order and '"X-Frame-Options" "DENY"' in order
    assert "Referrer-Policy" not in order
    assert "Strict-Transport-Security" not in server_block(conf, "www.nolistener.nl", 80)
    eigen = server_block(conf, "www.eigen.nl", 443)
    assert eigen.count('add_header "Content-Security-Policy"') == 2 and "frame-ancestors 'none'" in eigen


def test_header_values_are_literal():
    site = {"hsts": 'max-age=1; x="$host"', "headers": {}}
    line = web._add_headers(web.response_headers(site))[0]
    assert line == '    add_header "Strict-Transport-Security" "max-age=1; x=\\"${dollar}host\\"" always;'


def test_shared_addresses_get_a_closing_default_server(tmp_path):
    plan = lab_plan.build(scenario.loads(SCENARIO, tmp_path / "unit.yaml"), tmp_path)
    plan.hosts["www.legacy.nl"].ipv4 = plan.hosts["www.proefstad.nl"].ipv4
    web.services(plan)
    conf = (tmp_path / "web" / "nginx.conf").read_text()
    address = plan.hosts["www.proefstad.nl"].ipv4[0]
    assert f"    listen {address}:80 default_server;\n    return 444;" in conf
    assert "default_server" not in server_block(conf, "www.proefstad.nl", 80)
    assert conf.count("default_server") == 1


def test_ipv6_variants(built):
    plan, _, conf = built
    no_listener = plan.hosts["www.nolistener.nl"]
    assert no_listener.ipv6 and no_listener.ipv6[0] not in conf
    order = plan.hosts["www.order.nl"]
    v6 = [b for b in conf.split("\nserver {") if f"[{order.ipv6[0]}]:443" in b][0]
    assert f"root {plan.workdir / 'web' / 'www' / 'www.order.nl.ipv6'};" in v6
    assert "Website in onderhoud" in (plan.workdir / "web/www/www.order.nl.ipv6/index.html").read_text()


def test_security_txt_variants(built):
    plan, _, conf = built
    root = plan.workdir / "web" / "www"
    valid = (root / "www.proefstad.nl/.well-known/security.txt").read_text()
    expires = datetime.date.fromisoformat(re.search(r"Expires: (\S+)T", valid).group(1))
    assert 0 < (expires - datetime.date.today()).days < 365
    assert "Contact: mailto:security@proefstad.nl" in valid and "Preferred-Languages: nl, en" in valid
    expired = (root / "www.order.nl/.well-known/security.txt").read_text()
    assert datetime.date.fromisoformat(re.search(r"Expires: (\S+)T", expired).group(1)) < datetime.date.today()
    assert "Contact:" not in (root / "www.nolistener.nl/.well-known/security.txt").read_text()
    assert (root / "www.dhe.nl/security.txt").exists() and not (root / "www.dhe.nl/.well-known").exists()
    assert not (root / "www.inline.nl/.well-known").exists()
    own = (root / "www.eigen.nl/security.txt").read_bytes().decode()
    expires = (datetime.date.today() + datetime.timedelta(days=180)).isoformat()
    assert own == f"Contact: mailto:security@eigen.nl\nExpires: {expires}t00:00:00z\nCanonical: https://www.eigen.nl/security.txt"
    eigen = server_block(conf, "www.eigen.nl", 443)
    assert 'location = /security.txt {' in eigen and 'default_type "text/plain; charset=UTF-8";' in eigen
    wrong = server_block(conf, "www.legacy.nl", 443)
    assert "location = /.well-known/security.txt" in wrong and "default_type text/html;" in wrong


def test_third_parties(built):
    plan, _, conf = built
    assert set(web.THIRD_PARTY_HOSTS) <= set(plan.hosts)
    assert "SameSite=None" in server_block(conf, "ad.doubleclick.net", 443)
    youtube = server_block(conf, "www.youtube.com", 443)
    assert "YSC=" in youtube and "VISITOR_INFO1_LIVE=" in youtube
    register = server_block(conf, "toegankelijkheidsverklaring.nl", 443)
    assert "server_name toegankelijkheidsverklaring.nl www.toegankelijkheidsverklaring.nl;" in register
    root = plan.workdir / "web" / "www" / "toegankelijkheidsverklaring.nl"
    entry = (root / "register/42/index.html").read_text()
    assert "B. Voldoet gedeeltelijk" in entry and "05-03-2026" in entry and "5 maart 2026" in entry
    label = pages.label_file(42, "www.nolistener.nl")
    assert re.fullmatch(r"[0-9a-f]{32}\.42\.svg", label)
    assert (root / "files/verklaring/label" / label).exists()
    site = (plan.workdir / "web/www/www.nolistener.nl/index.html").read_text()
    assert f"https://www.toegankelijkheidsverklaring.nl/files/verklaring/label/{label}" in site
    assert 'href="/toegankelijkheid"' not in site and "/register/42" not in site
    canary = (plan.workdir / "web/www/canary.govscan-lab.com/index.html").read_text()
    assert "https://ad.doubleclick.net/activity" in canary


def test_municipal_pages_and_gated_trackers(built):
    plan, _, _ = built
    root = plan.workdir / "web" / "www" / "www.proefstad.nl"
    home = (root / "index.html").read_text()
    assert "Toegankelijkheid</a>" in home and 'id="cookiebanner"' in home and "Accepteren" in home
    gtag = pages.GTAG_URL.format(id=pages.measurement_id("www.proefstad.nl"))
    assert f'<script type="text/plain" data-cookieconsent="statistics" src="{gtag}">' in home
    assert 'data-cookieblock-src="https://ad.doubleclick.net/activity' in home
    assert 'data-cookieblock-src="https://www.youtube.com/embed/' in home and "<iframe" not in home
    for page in ("nieuws", "contact", "producten/afval", "bestuur", "toegankelijkheid"):
        assert (root / page / "index.html").exists(), page
    statement = (root / "toegankelijkheid/index.html").read_text()
    assert "De status van deze website is: <strong>A: voldoet volledig</strong>" in statement
    assert "Nalevingsstatus" in statement and "onderzoeksrapport" in statement


def test_banner_and_statement_variants(built):
    plan, _, _ = built
    root = plan.workdir / "web" / "www" / "www.cookiebot.nl"
    home = (root / "index.html").read_text()
    assert 'src="https://consent.cookiebot.com/uc.js"' in home and 'data-lab-variant="tracks_after_reject"' in home
    statement = (root / "toegankelijkheid/index.html").read_text()
    assert "Toegankelijkheid" in statement and "De status van deze website is" not in statement
    assert '<img src="/img/gemeentehuis.svg" width="320" height="180">' in home and "muted-notice" in home
    loop = (plan.workdir / "web/www/www.loop.nl/js/loop.js").read_text()
    assert "while (true) {}" in loop


def test_tracks_before_click_loads_trackers_directly():
    municipality = pages.Municipality("www.x.nl", {"name": "X", "trackers": ["analytics", "pixel"],
                                                   "banner": "tracks_before_click", "statement": "none",
                                                   "wcag": "clean"})
    head, body = municipality.tracker_markup()
    assert head.startswith('<script async src="https://www.googletagmanager.com/gtag/js?id=G-')
    assert body.startswith('<img src="https://ad.doubleclick.net/activity')
    assert "Weigeren" in municipality.banner_markup()[1]


def test_cookie_trackers_of_other_platforms(built):
    """Quantcast's script and self-hosted Matomo set first-party cookies from JavaScript; the Instagram post and
    the waste calendar are frames whose responses set third-party cookies; the site's own Django sessionid."""
    plan, _, conf = built
    root = plan.workdir / "web" / "www"
    home = (root / "www.volgers.nl/index.html").read_text()
    assert '<script async src="https://secure.quantserve.com/quant.js"></script>' in home
    assert '<script async src="/matomo/matomo.js"></script>' in home
    assert re.search(r'<iframe src="https://www.instagram.com/p/[0-9a-f]{11}/embed/" title="Instagram: ', home)
    assert re.search(r'<iframe src="https://afvalkalender.govscan-lab.com/widget/[0-9a-f]{8}" title="Afvalkalender"',
                     home)
    matomo = (root / "www.volgers.nl/matomo/matomo.js").read_text()
    suffix = pages.matomo_cookie_suffix("www.volgers.nl")
    assert re.fullmatch(r"1\.[0-9a-f]{4}", suffix) and f"var suffix = '{suffix}';" in matomo
    assert "'/matomo/matomo.php?idsite=1" in matomo and "domain=" not in matomo and "$" not in matomo
    assert "__qca=" in (root / "secure.quantserve.com/quant.js").read_text()
    site = server_block(conf, "www.volgers.nl", 443)
    assert "location = /matomo/matomo.php {" in site and "return 204;" in site
    assert 'add_header Set-Cookie "sessionid=$request_id; Max-Age=1209600; Path=/; Secure; HttpOnly;' in site
    assert "matomo.php" not in server_block(conf, "www.proefstad.nl", 443)
    instagram = server_block(conf, "www.instagram.com", 443)
    assert "location ^~ /p/ {" in instagram
    assert "sessionid=$request_id; Max-Age=31536000; Domain=.instagram.com;" in instagram
    calendar = server_block(conf, "afvalkalender.govscan-lab.com", 443)
    assert "akw_bezoeker=$request_id; Max-Age=31536000; Path=/; Secure; SameSite=None" in calendar
    assert "Domain=" not in calendar.split("akw_bezoeker")[1].split("\n")[0]
    for host in ("secure.quantserve.com", "www.instagram.com", "afvalkalender.govscan-lab.com"):
        assert f"https://{host}" in web.GOOD_CSP


def test_embedded_posts_and_widgets_wait_for_consent_behind_a_banner():
    municipality = pages.Municipality("www.x.nl", {"name": "X", "trackers": ["quantcast", "instagram", "widget"],
                                                   "banner": "first_layer", "statement": "none", "wcag": "clean"})
    head, body = municipality.tracker_markup()
    assert head == ('<script type="text/plain" data-cookieconsent="marketing" '
                    'src="https://secure.quantserve.com/quant.js"></script>')
    assert "<iframe" not in body
    assert 'data-cookieconsent="marketing" data-cookieblock-src="https://www.instagram.com/p/' in body
    assert 'data-cookieconsent="preferences" data-cookieblock-src="https://afvalkalender.govscan-lab.com/' in body


def test_inline_pages(built):
    plan, _, _ = built
    root = plan.workdir / "web" / "www" / "www.inline.nl"
    assert (root / "index.html").read_text() == "<p>hallo</p>"
    assert (root / "a/b/index.html").read_text() == "<p>b</p>"
    assert (root / "x.txt").read_text() == "x"


def test_nginx_accepts_the_default_scenario(tmp_path):
    """`nginx -t` on the default scenario's full configuration, with the lab PKI's certificates. nginx -t
    binds the listen addresses, so it runs in a throwaway network namespace that allows non-local binds."""
    plan = lab_plan.build(scenario.load(scenario.DEFAULT_SCENARIO), tmp_path)
    pki.build(plan)
    nginx = next(s for s in web.services(plan) if s.name == "nginx")
    command = "sysctl -qw net.ipv4.ip_nonlocal_bind=1 net.ipv6.ip_nonlocal_bind=1 && exec \"$@\""
    result = subprocess.run(["unshare", "--net", "sh", "-c", command, "sh", *nginx.argv[:5], "-t"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("blocks", [1, 8])
def test_gzip_bomb_is_a_valid_gzip_stream(monkeypatch, blocks):
    monkeypatch.setattr(hostile, "BOMB_BLOCKS", blocks)
    head, block, tail = hostile.gzip_bomb()
    body = head + block * (hostile.BOMB_BLOCKS - 1) + tail
    assert gzip.decompress(body) == bytes(blocks * hostile.BOMB_BLOCK)  # checks the CRC and size trailer
    assert len(body) < blocks * 1100 + 100


@pytest.fixture(scope="module")
def mail_server(built, tmp_path_factory):
    """The SMTP server of www.mail.nl (tls13_only) on a loopback port, in a thread."""
    plan, _, _ = built
    pki.build(plan)
    host = plan.hosts["mail.mail.nl"]
    server = smtp.Smtp({"host": host.host, "mode": "starttls", "tls": "tls13_only", "chain": str(host.chain_file),
                        "key": str(host.key_file)})
    loop = asyncio.new_event_loop()
    started = threading.Event()
    state = {}

    async def run():
        state["stop"] = asyncio.Event()
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        state["port"] = listener.sockets[0].getsockname()[1]
        started.set()
        await state["stop"].wait()
        listener.close()

    thread = threading.Thread(target=lambda: loop.run_until_complete(run()), daemon=True)
    thread.start()
    started.wait(10)
    yield plan, state["port"]
    loop.call_soon_threadsafe(state["stop"].set)
    thread.join(10)


def test_smtp_starttls(mail_server):
    plan, port = mail_server
    context = ssl.create_default_context(cafile=str(plan.ca_file))
    context.check_hostname = False
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        code, _ = client.ehlo("scanner.example")
        assert code == 250 and client.has_extn("starttls")
        client.starttls(context=context)
        assert client.sock.version() == "TLSv1.3"
        client.ehlo("scanner.example")
        assert not client.has_extn("starttls")


def test_smtp_refuses_tls12_for_tls13_only(mail_server):
    plan, port = mail_server
    context = ssl.create_default_context(cafile=str(plan.ca_file))
    context.check_hostname = False
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("scanner.example")
        with pytest.raises(ssl.SSLError):
            client.starttls(context=context)


def test_a_dripping_mail_server_greets_without_end(monkeypatch):
    """mail: drip: 220- lines, one after the other, none the last (the drip made fast for the test)."""
    monkeypatch.setattr(smtp, "DRIP_INTERVAL", 0)

    async def read_greeting() -> list[bytes]:
        server = await asyncio.start_server(smtp.Smtp({"host": "mail.druppel.nl", "mode": "drip"}).handle,
                                            "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
        lines = [await reader.readline() for _ in range(50)]
        writer.close()
        server.close()
        return lines
    assert asyncio.run(read_greeting()) == [smtp.DRIP_LINE] * 50
