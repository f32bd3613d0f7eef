"""The frame of every page, published (`govscan publish`) or served (`govscan serve`): one HTML document in
the NL Design System's look (the Utrecht component CSS with the NL Design System's open "voorbeeld" theme,
vendored in reports/static/ by `make update-nlds`, plus our own govscan.css), semantic landmarks, a skip
link and colours with at least 4.5:1 contrast (WCAG 2.1 AA).

The styles are linked, never inline, and pages carry no scripts and no `style` attributes, so the service can
send `Content-Security-Policy: default-src 'self'` without `unsafe-inline`; nothing is fetched from elsewhere,
so the pages track nobody and a published copy works offline. `static` is where the stylesheets are: relative
for published pages (`static/`, `../static/`), absolute for the service.
"""
from __future__ import annotations

from functools import cache
from html import escape
from pathlib import Path

from govscan.model import say

STATIC_DIR = Path(__file__).parent / "static"
# Theme first (the custom properties), then the components, the look of plain HTML, and our own additions.
STYLESHEETS = ("voorbeeld-theme.css", "utrecht-components.css", "utrecht-html.css", "govscan.css")


@cache
def static_files() -> dict[str, bytes]:
    """Every file of reports/static/ (the stylesheets, their licence and source), by name."""
    return {path.name: path.read_bytes() for path in sorted(STATIC_DIR.iterdir()) if path.is_file()}


def page(title: str, body: str, *, lang: str = "nl", nav: list[tuple[str, str]] = (), footer: str = "",
         static: str = "static/") -> str:
    """A complete HTML page. `nav` is (href, label) pairs; `body` and `footer` are trusted HTML; `static` is
    the href of the folder holding the files of `static_files()`, ending in "/"."""
    skip = say(lang, "Naar de inhoud", "Skip to content")
    nav_label = say(lang, "Hoofdmenu", "Main menu")
    links = "".join(f'<li class="utrecht-nav-list__item"><a class="utrecht-nav-list__link utrecht-link" '
                    f'href="{escape(href)}">{escape(label)}</a></li>' for href, label in nav)
    nav_html = (f'<nav class="utrecht-nav-bar" aria-label="{nav_label}"><div class="utrecht-nav-bar__content">'
                f'<ul class="utrecht-nav-list">{links}</ul></div></nav>\n') if nav else ""
    sheets = "".join(f'<link rel="stylesheet" href="{escape(static + name)}">\n' for name in STYLESHEETS)
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="referrer" content="no-referrer">\n'
        f"<title>{escape(title)}</title>\n{sheets}</head>\n"
        f'<body class="voorbeeld-theme utrecht-document govscan">\n'
        f'<a class="utrecht-skip-link utrecht-skip-link--visible-on-focus" href="#main">{skip}</a>\n'
        f'<div class="utrecht-page-layout">\n'
        f'<header class="utrecht-page-header"><div class="utrecht-page-header__content">'
        f'<p class="govscan-brand">govscan</p></div></header>\n'
        f"{nav_html}"
        f'<div class="utrecht-page-body"><div class="utrecht-page-body__content">'
        f'<main id="main" class="utrecht-html">\n<h1>{escape(title)}</h1>\n{body}\n</main></div></div>\n'
        f'<footer class="utrecht-page-footer"><div class="utrecht-page-footer__content utrecht-html">{footer}'
        f"</div></footer>\n</div>\n</body>\n</html>\n"
    )
