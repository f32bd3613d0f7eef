"""Docroots of the lab's web sites: municipal pages from templates, plain, folder and inline pages, the
third-party products (analytics, pixel, video, consent banner, statement register, canary) and the page a
site serves over IPv6 when it differs from IPv4.

Templates live in lab/templates/ and are filled with string.Template; every value put into HTML is
escaped here. Pages are written as `<path>/index.html` so that nginx serves `/nieuws` without a redirect."""
from __future__ import annotations

import datetime
import hashlib
import html
import shutil
from pathlib import Path
from string import Template
from urllib.parse import urlsplit
from typing import Any

TEMPLATES = Path(__file__).resolve().parent / "templates"
MUNICIPALITY = TEMPLATES / "municipality"
THIRD_PARTY = TEMPLATES / "thirdparty"

REGISTER_HOST = "www.toegankelijkheidsverklaring.nl"
# The register is served under both names (the lab plans the apex, with www as its alias).
REGISTER_HOSTS = (REGISTER_HOST, "toegankelijkheidsverklaring.nl")

STATUS_LABELS = {"A": "voldoet volledig", "B": "voldoet gedeeltelijk", "C": "eerste maatregelen genomen",
                 "D": "voldoet niet"}
STATUS_SENTENCES = {
    "A": "volledig voldoet aan de Europese norm EN 301 549 (WCAG 2.1 niveau AA).",
    "B": "gedeeltelijk voldoet aan de Europese norm EN 301 549 (WCAG 2.1 niveau AA). De afwijkingen zijn "
         "hieronder beschreven.",
    "C": "nog niet voldoet aan de Europese norm EN 301 549 (WCAG 2.1 niveau AA). Er zijn eerste maatregelen "
         "genomen om de toegankelijkheid te verbeteren.",
    "D": "niet voldoet aan de Europese norm EN 301 549 (WCAG 2.1 niveau AA).",
}
STATUS_COLOURS = {"A": "#1a7f37", "B": "#3b6e00", "C": "#8a5a00", "D": "#b3261e"}
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")

NEWS = (
    ("nieuwe-openingstijden-milieustraat", "Nieuwe openingstijden milieustraat",
     "Vanaf 1 januari is de milieustraat ook op zaterdagmiddag open."),
    ("subsidie-voor-groene-daken", "Subsidie voor groene daken",
     "Inwoners en ondernemers kunnen subsidie aanvragen voor de aanleg van een groen dak."),
    ("wegwerkzaamheden-centrum", "Wegwerkzaamheden in het centrum",
     "In het centrum wordt de komende weken gewerkt aan de riolering. Verkeer wordt omgeleid."),
)
PRODUCTS = (
    ("paspoort-en-identiteitskaart", "Paspoort of identiteitskaart aanvragen",
     "U vraagt een paspoort of identiteitskaart aan bij de gemeente waar u woont. Maak hiervoor een afspraak."),
    ("afval", "Afval en grofvuil", "Grofvuil kunt u gratis laten ophalen. Maak online een afspraak."),
    ("verhuizing-doorgeven", "Verhuizing doorgeven",
     "Gaat u verhuizen? Geef uw verhuizing uiterlijk 5 dagen na de verhuisdatum door."),
)

# Trackers a cheap browser visit could miss, as scripts from the site itself (its CSP allows no inline
# script or style): a marketing cookie (_uetvid, Microsoft Advertising) set by a timer 3.5 s after the load
# event; Google Analytics loaded only once the visitor scrolls (the script makes the home page taller than
# the window); the DoubleClick pixel only on a subpage (/contact, the 4th in the probe's order).
LATE_COOKIE_JS = ("window.addEventListener('load', function () {\n  setTimeout(function () {\n"
                  "    document.cookie = '_uetvid=' + Date.now() + Math.floor(Math.random() * 1e9) +\n"
                  "      '; max-age=33696000; path=/; SameSite=Lax';\n  }, 3500);\n});\n")
SCROLL_JS = ("document.getElementById('geschiedenis').style.minHeight = '2400px';\n"
             "window.addEventListener('scroll', function load() {\n"
             "  window.removeEventListener('scroll', load);\n"
             "  var script = document.createElement('script');\n  script.async = true;\n  script.src = '{src}';\n"
             "  document.head.appendChild(script);\n});\n")

# 1x1 transparent GIF: what ad pixels return.
PIXEL_GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")

# Where the trackers of the municipal template come from (docs/scenario.md, "Third parties in the lab").
GTAG_URL = "https://www.googletagmanager.com/gtag/js?id={id}"
GTM_URL = "https://www.googletagmanager.com/gtm.js?id={id}"
PIXEL_URL = "https://ad.doubleclick.net/activity;src={id};type=page;cat=home;ord=1"
VIDEO_URL = "https://www.youtube.com/embed/{id}"
QUANTCAST_URL = "https://secure.quantserve.com/quant.js"
WIDGET_URL = "https://afvalkalender.govscan-lab.com/widget/{id}"
INSTAGRAM_URL = "https://www.instagram.com/p/{id}/embed/"
# Self-hosted Matomo: its script and its tracking endpoint on the site's own host.
MATOMO_SCRIPT, MATOMO_ENDPOINT = "/matomo/matomo.js", "/matomo/matomo.php"
COOKIEBOT_URL = "https://consent.cookiebot.com/uc.js"

# Banner variants in Cookiebot's DOM (ids from consent.cookiebot.com/uc.js); consent platforms rendered the
# way they render their banners (thirdparty/cmp.js, loaded from the platform's host, a "_tracks_after_reject"
# variant ignoring a refusal); the others use the generic Dutch banner of the municipal template.
COOKIEBOT_BANNERS = ("honours_reject", "tracks_after_reject")
CMP_SCRIPTS = {"onetrust": "https://cdn.cookielaw.org/scripttemplates/otSDKStub.js",
               "didomi_tcf": "https://sdk.privacy-center.org/loader.js",
               "usercentrics": "https://app.usercentrics.eu/browser-ui/latest/loader.js",
               "frame": "https://consent.govscan-lab.com/cmp.js"}


def _fill(path: Path, **values: Any) -> str:
    return Template(path.read_text(encoding="utf-8")).substitute(values)


def _write(root: Path, page: str, content: str | bytes) -> None:
    """Write a page: `/` and extension-less paths become index.html files in their folder."""
    relative = page.strip("/")
    target = root / relative if "." in relative.rsplit("/", 1)[-1] else root / relative / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8")


def _digest(text: str, length: int = 10) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def measurement_id(host: str) -> str:
    """A stable Google Analytics measurement id per site (G-XXXXXXXXXX)."""
    return "G-" + _digest(host).upper()


def matomo_cookie_suffix(host: str) -> str:
    """What Matomo appends to its cookie names: the site id (1) and the first four hex digits of the SHA-1 of
    the cookie domain and path."""
    return "1." + hashlib.sha1(f"{host}/".encode()).hexdigest()[:4]


def label_file(register_id: int, host: str) -> str:
    """The register's label image name: `<32 hex>.<id>.svg`, the id readable by a scanner."""
    return f"{hashlib.md5(f'{host}/{register_id}'.encode()).hexdigest()}.{register_id}.svg"


def dutch_dates(iso: str) -> dict[str, str]:
    day = datetime.date.fromisoformat(iso)
    return {"date_iso": iso, "date_short": day.strftime("%d-%m-%Y"),
            "date_long": f"{day.day} {MONTHS[day.month - 1]} {day.year}"}


def statement_values(statement: dict) -> dict[str, str]:
    status = statement["status"]
    return {"status": status, "status_label": STATUS_LABELS[status],
            "status_label_cap": STATUS_LABELS[status].capitalize(),
            "status_sentence": STATUS_SENTENCES[status], **dutch_dates(statement["date"])}


def _place(host: str) -> dict[str, str]:
    """Address details that differ per site, derived from the host so they are stable."""
    number = int(_digest(host, 6), 16)
    city = host.split(".")[-2].capitalize()
    return {"postbus": str(100 + number % 9000), "postcode": f"{1000 + number % 8999} AB", "city": city,
            "area": f"0{10 + number % 89}"}


class Municipality:
    """The `municipality` template: home, news, products, governance, contact, privacy, cookies, search and
    the accessibility page, with trackers, a banner, a statement and WCAG variants from the params."""

    def __init__(self, host: str, params: dict):
        self.host = host
        self.params = params
        self.name = html.escape(params["name"])
        self.common = {"name": self.name, "host": host, **_place(host)}

    # --- trackers and banner ---

    def _gated(self) -> bool:
        """Whether trackers wait for the banner (all banners but tracks_before_click)."""
        return self.params["banner"] not in ("none", "tracks_before_click")

    def _script(self, url: str, category: str) -> str:
        if self._gated():
            return f'<script type="text/plain" data-cookieconsent="{category}" src="{html.escape(url)}"></script>'
        return f'<script async src="{html.escape(url)}"></script>'

    def _pixel(self, url: str) -> str:
        if self._gated():
            return (f'<img data-cookieblock-src="{html.escape(url)}" data-cookieconsent="marketing" alt="" '
                    'width="1" height="1">')
        return f'<img src="{html.escape(url)}" alt="" width="1" height="1">'

    def _frame(self, url: str, title: str, size: tuple[int, int], category: str, waiting: str) -> str:
        """An embedded frame, or behind a banner a placeholder until consent, as consent tools show one (the
        banner script swaps in the frame); `waiting` says in the placeholder what the visitor does not see."""
        url, (width, height) = html.escape(url), size
        if self._gated():
            return (f'<div class="embed-placeholder" data-cookieconsent="{category}" data-cookieblock-src="{url}"'
                    f' data-title="{title}" data-width="{width}" data-height="{height}"><p>{waiting} ziet u pas als'
                    " u cookies accepteert.</p></div>")
        return f'<iframe src="{url}" title="{title}" width="{width}" height="{height}" allowfullscreen></iframe>'

    def tracker_markup(self) -> tuple[str, str]:
        """(head, home page extra) for the configured trackers."""
        trackers = self.params["trackers"]
        head, body = [], []
        if "analytics" in trackers:
            head.append(self._script(GTAG_URL.format(id=measurement_id(self.host)), "statistics"))
        if "matomo" in trackers:
            head.append(self._script(MATOMO_SCRIPT, "statistics"))
        if "delayed_cookie" in trackers:
            head.append(self._script(GTM_URL.format(id="GTM-" + _digest(self.host, 7).upper()), "marketing"))
        if "quantcast" in trackers:
            head.append(self._script(QUANTCAST_URL, "marketing"))
        if "pixel" in trackers:
            body.append(self._pixel(PIXEL_URL.format(id=_digest(self.host, 8))))
        if "late_cookie" in trackers:
            head.append('<script src="/js/laat.js"></script>')
        if "scroll_analytics" in trackers:
            body.append('<section id="geschiedenis" aria-labelledby="geschiedenis-kop"><h2 id="geschiedenis-kop">'
                        "Geschiedenis</h2><p>De gemeente heeft een lange geschiedenis.</p></section>"
                        '<script src="/js/scrollen.js"></script>')
        if "video" in trackers:
            video = self._frame(VIDEO_URL.format(id=_digest(self.host, 11)), f"Video: welkom in {self.name}",
                                (560, 315), "marketing", "Deze video van YouTube")
            body.append(f'<section aria-labelledby="video-kop"><h2 id="video-kop">Video</h2>{video}</section>')
        if "instagram" in trackers:
            post = self._frame(INSTAGRAM_URL.format(id=_digest(self.host, 11)), f"Instagram: {self.name}",
                               (400, 480), "marketing", "Dit bericht van Instagram")
            body.append(f'<section aria-labelledby="instagram-kop"><h2 id="instagram-kop">Volg ons</h2>{post}'
                        "</section>")
        if "widget" in trackers:
            calendar = self._frame(WIDGET_URL.format(id=_digest(self.host, 8)), "Afvalkalender", (400, 240),
                                   "preferences", "De afvalkalender")
            body.append(f'<section aria-labelledby="afval-kop"><h2 id="afval-kop">Afvalkalender</h2>{calendar}'
                        "</section>")
        return "\n".join(head), "\n".join(body)

    def banner_markup(self) -> tuple[str, str, str]:
        """(head, banner HTML, end of body) for the banner variant."""
        banner = self.params["banner"]
        if banner == "none":
            return "", "", ""
        platform = banner.removesuffix("_tracks_after_reject")
        if platform in CMP_SCRIPTS:
            variant = "tracks_after_reject" if banner.endswith("_tracks_after_reject") else "honours_reject"
            return (f'<script src="{CMP_SCRIPTS[platform]}" data-lab-platform="{platform.removesuffix("_tcf")}"'
                    f' data-lab-variant="{variant}"></script>'), "", ""
        if banner in COOKIEBOT_BANNERS:
            variant = f' data-lab-variant="{banner}"'
            script = (f'<script id="Cookiebot" src="{COOKIEBOT_URL}" data-cbid="{_digest(self.host, 32)}"'
                      f' data-blockingmode="manual"{variant}></script>')
            return script, "", ""
        layer = "banner_second_layer.html" if banner == "second_layer" else "banner_first_layer.html"
        activate_on = "accept reject" if banner == "tracks_after_reject" else "accept"
        delay = 3000 if banner == "first_layer_delayed" else 0  # shown three seconds after the page loads
        return "", _fill(MUNICIPALITY / layer, activate_on=activate_on, delay=delay), \
            '<script src="/js/cookiebanner.js"></script>'

    # --- statement ---

    def statement_links(self) -> tuple[str, str]:
        """(footer list items, footer extra) pointing to the statement, per `statement` param."""
        statement = self.params["statement"]
        if statement == "none":
            return "", ""
        if statement == "about_page" or statement["where"] == "page":
            return '        <li><a href="/toegankelijkheid">Toegankelijkheid</a></li>', ""
        register_id = statement["register_id"]
        if statement["where"] == "register_link":
            return (f'        <li><a href="https://{REGISTER_HOST}/register/{register_id}">Toegankelijkheid</a>'
                    "</li>"), ""
        return "", (f'      <p class="register-label"><img src="https://{REGISTER_HOST}/files/verklaring/label/'
                    f'{label_file(register_id, self.host)}" alt="Toegankelijkheidslabel van {self.name}" '
                    'width="120" height="60"></p>')

    # --- pages ---

    def page(self, title: str, main: str, head: str = "", banner: str = "", body_end: str = "") -> str:
        links, extra = self.statement_links()
        return _fill(MUNICIPALITY / "layout.html", title=html.escape(title), main=main, head=head, banner=banner,
                     body_end=body_end, footer_links=links, footer_extra=extra, **self.common)

    def render(self, root: Path, hostile: str = "none") -> None:
        tracker_head, tracker_body = self.tracker_markup()
        banner_head, banner, banner_end = self.banner_markup()
        head = "\n".join(part for part in (banner_head, tracker_head) if part)
        end = [banner_end] if banner_end else []
        if hostile == "js_loop":
            end.append('<script src="/js/loop.js"></script>')
            _write(root, "/js/loop.js", "window.addEventListener('load', function () {\n"
                                        "  setTimeout(function () { while (true) {} }, 0);\n});\n")
        if hostile == "js_dialogs":
            end.append('<script src="/js/dialogs.js"></script>')
            _write(root, "/js/dialogs.js", "window.addEventListener('load', function () {\n"
                                           "  setTimeout(function () {\n"
                                           "    while (true) {\n"
                                           "      alert('Let op: belangrijke melding');\n"
                                           "      confirm('Wilt u doorgaan?');\n    }\n  }, 0);\n});\n")
        body_end = "\n".join(end)
        wcag = self.params["wcag"]
        news_items = "\n".join(f'    <li><a href="/nieuws/{slug}">{headline}</a></li>' for slug, headline, _ in NEWS)
        home_extra = [tracker_body]
        if wcag == "violations":
            home_extra.append(
                '<section aria-labelledby="gemeentehuis-kop"><h2 id="gemeentehuis-kop">Het gemeentehuis</h2>\n'
                '<img src="/img/gemeentehuis.svg" width="320" height="180">\n'
                '<p class="muted-notice">Het gemeentehuis is op maandag gesloten.</p>\n'
                '<a href="/nieuws"><span class="icon"></span></a>\n'
                '<form action="/zoeken" method="get"><input type="text" name="postcode">'
                '<button type="submit">Zoek uw afvalkalender</button></form></section>')
            _write(root, "/img/gemeentehuis.svg", _GEBOUW_SVG)
        if wcag == "iframe_violation":
            home_extra.append('<iframe src="/widget/afvalkalender" title="Afvalkalender" width="400" height="200">'
                              "</iframe>")
            _write(root, "/widget/afvalkalender", _fill(TEMPLATES / "plain.html", lang="nl", title="Afvalkalender",
                                                        body='<p>Ophaaldagen in uw wijk:</p>\n'
                                                             '<img src="/img/kalender.svg" width="200" height="100">'))
            _write(root, "/img/kalender.svg", _GEBOUW_SVG)
        home = _fill(MUNICIPALITY / "home.html", news_items=news_items, extra="\n".join(home_extra), **self.common)
        _write(root, "/", self.page("Home", home, head, banner, body_end))
        _write(root, "/nieuws", self.page("Nieuws", _fill(MUNICIPALITY / "news.html", news_items=news_items),
                                          head, banner, body_end))
        for index, (slug, headline, body) in enumerate(NEWS):
            published = dutch_dates((datetime.date(2026, 10, 1) + datetime.timedelta(days=7 * index)).isoformat())
            _write(root, f"/nieuws/{slug}", self.page(headline, _fill(
                MUNICIPALITY / "news_item.html", headline=headline, body=body, published=published["date_long"]),
                head, banner, body_end))
        _write(root, "/producten", self.page("Producten en diensten", _fill(MUNICIPALITY / "products.html",
                                                                          **self.common), head, banner, body_end))
        for slug, headline, body in PRODUCTS:
            _write(root, f"/producten/{slug}", self.page(headline, _fill(
                MUNICIPALITY / "product.html", headline=headline, body=body), head, banner, body_end))
        _write(root, "/bestuur", self.page("Bestuur en organisatie", _fill(
            MUNICIPALITY / "bestuur.html", extra="", **self.common), head, banner, body_end))
        contact_end = body_end
        if "subpage_pixel" in self.params["trackers"]:
            contact_end += "\n" + self._pixel(PIXEL_URL.format(id=_digest(self.host, 8)))
        _write(root, "/contact", self.page("Contact", _fill(MUNICIPALITY / "contact.html", form_extra="",
                                                            **self.common), head, banner, contact_end))
        for path, title, text in (
                ("/privacy", "Privacyverklaring", f"{self.name} gaat zorgvuldig om met uw persoonsgegevens."),
                ("/cookies", "Cookies", "Deze website gebruikt alleen cookies die nodig zijn om de website te "
                                        "laten werken, tenzij u toestemming geeft voor andere cookies."),
                ("/zoeken", "Zoeken", "Er zijn geen zoekresultaten gevonden.")):
            _write(root, path, self.page(title, _fill(MUNICIPALITY / "text.html", headline=title,
                                                      body=f"<p>{text}</p>"), head, banner, body_end))
        statement = self.params["statement"]
        if statement == "about_page":
            _write(root, "/toegankelijkheid", self.page("Toegankelijkheid", _fill(
                MUNICIPALITY / "about_accessibility.html", **self.common), head, banner, body_end))
        elif statement != "none" and statement["where"] == "page":
            _write(root, "/toegankelijkheid", self.page("Toegankelijkheidsverklaring", _fill(
                MUNICIPALITY / "statement.html", **self.common, **statement_values(statement)),
                head, banner, body_end))
        _write(root, "/css/style.css", (MUNICIPALITY / "style.css").read_text())
        _write(root, "/js/cookiebanner.js", (MUNICIPALITY / "cookiebanner.js").read_text())
        if "late_cookie" in self.params["trackers"]:
            _write(root, "/js/laat.js", LATE_COOKIE_JS)
        if "scroll_analytics" in self.params["trackers"]:
            _write(root, "/js/scrollen.js", SCROLL_JS.replace("{src}", GTAG_URL.format(id=measurement_id(self.host))))
        if "matomo" in self.params["trackers"]:
            _write(root, MATOMO_SCRIPT, _fill(MUNICIPALITY / "matomo.js", suffix=matomo_cookie_suffix(self.host),
                                              endpoint=MATOMO_ENDPOINT))
        _write(root, "/img/logo.svg", _fill(MUNICIPALITY / "logo.svg", name=self.name))


_GEBOUW_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180" viewBox="0 0 320 180">'
               '<rect width="320" height="180" fill="#d9e4ef"/><rect x="100" y="50" width="120" height="130" '
               'fill="#0b4f8a"/></svg>\n')


def render_site(site: dict, root: Path) -> None:
    """Write the docroot of a scenario site (pages: template, folder or inline)."""
    pages = site["pages"]
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    if "folder" in pages:
        shutil.copytree(pages["folder"], root, dirs_exist_ok=True)
    elif "inline" in pages:
        for path, content in pages["inline"].items():
            _write(root, path, content)
    elif pages["template"] == "plain":
        params = pages["params"]
        _write(root, "/", _fill(TEMPLATES / "plain.html", lang="nl", title=html.escape(params["title"]),
                                body=params["body"]))
    else:
        Municipality(site["host"], pages["params"]).render(root, site.get("hostile", "none"))


def render_ipv6_variant(site: dict, root: Path) -> None:
    """The other page a site with `different_content_on_ipv6` serves over IPv6: an old maintenance page."""
    if root.exists():
        shutil.rmtree(root)
    _write(root, "/", _fill(TEMPLATES / "plain.html", lang="nl", title="Website in onderhoud",
                            body="<p>Deze website wordt vernieuwd. Probeer het later opnieuw.</p>\n"
                                 "<p>Server: ipv6-legacy-01</p>"))


def register_entries(sites: list[dict], organisations: dict) -> dict[int, dict]:
    """register_id -> what the register shows, for every site whose statement lives in the register."""
    entries = {}
    for site in sites:
        pages = site["pages"]
        statement = pages.get("params", {}).get("statement") if pages.get("template") == "municipality" else None
        if isinstance(statement, dict) and statement.get("register_id") is not None:
            org = organisations.get(site.get("organisation") or "")
            entries[statement["register_id"]] = {
                "host": site["host"], "statement": statement,
                "organisation": org["name"] if org else pages["params"]["name"]}
    return entries


def render_third_party(host: str, root: Path, register: dict[int, dict]) -> None:
    """Write the docroot of a third-party lab host."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    if host == "www.googletagmanager.com":
        _write(root, "/gtag.js", (THIRD_PARTY / "gtag.js").read_text())
    elif host == "consent.cookiebot.com":
        _write(root, "/uc.js", (THIRD_PARTY / "uc.js").read_text())
    elif host in {urlsplit(url).hostname for url in CMP_SCRIPTS.values()}:
        for url in CMP_SCRIPTS.values():
            if urlsplit(url).hostname == host:
                _write(root, urlsplit(url).path, (THIRD_PARTY / "cmp.js").read_text())
        if host == "consent.govscan-lab.com":
            _write(root, "/frame.html", (THIRD_PARTY / "cmp-frame.html").read_text())
            _write(root, "/frame.js", (THIRD_PARTY / "cmp-frame.js").read_text())
    elif host == "ad.doubleclick.net":
        _write(root, "/pixel.gif", PIXEL_GIF)
    elif host == "www.youtube.com":
        _write(root, "/embed.html", (THIRD_PARTY / "youtube-embed.html").read_text())
    elif host == "canary.govscan-lab.com":
        _write(root, "/", (THIRD_PARTY / "canary.html").read_text())
    elif host == "secure.quantserve.com":
        _write(root, "/quant.js", (THIRD_PARTY / "quant.js").read_text())
    elif host == "www.instagram.com":
        _write(root, "/embed.html", (THIRD_PARTY / "instagram-embed.html").read_text())
    elif host == "afvalkalender.govscan-lab.com":
        _write(root, "/widget.html", (THIRD_PARTY / "afvalkalender.html").read_text())
    elif host in REGISTER_HOSTS:
        items = []
        for register_id, entry in sorted(register.items()):
            values = {**statement_values(entry["statement"]), "host": entry["host"],
                      "organisation": html.escape(entry["organisation"]),
                      "label_file": label_file(register_id, entry["host"])}
            _write(root, f"/register/{register_id}", _fill(THIRD_PARTY / "register.html", **values))
            _write(root, f"/files/verklaring/label/{values['label_file']}",
                   _fill(THIRD_PARTY / "label.svg", status=values["status"],
                         colour=STATUS_COLOURS[values["status"]]))
            items.append(f'<li><a href="/register/{register_id}">{values["organisation"]}</a></li>')
        _write(root, "/", _fill(THIRD_PARTY / "register-index.html", entries="\n".join(items)))
    else:
        _write(root, "/", _fill(TEMPLATES / "plain.html", lang="en", title=host, body=""))
