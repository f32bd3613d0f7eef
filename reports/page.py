"""The frame of every published page: one self-contained HTML document with inline CSS, no scripts, no
external resources (so no tracking and nothing fetched from elsewhere), semantic landmarks, a skip link and
colours with at least 4.5:1 contrast (WCAG 2.1 AA)."""
from __future__ import annotations

from html import escape

from govscan.model import say

CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1a1a1a;
       background: #fff; line-height: 1.5; }
a { color: #0b4f9c; }
a:focus, summary:focus { outline: 3px solid #b35900; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; }
header, main, footer { padding: 0 1.5rem; max-width: 80rem; margin: 0 auto; }
header { border-bottom: 1px solid #767676; }
header nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1rem; }
footer { border-top: 1px solid #767676; margin-top: 2rem; font-size: .9rem; color: #3d3d3d; }
table { border-collapse: collapse; margin: 1rem 0; }
caption { text-align: left; font-weight: bold; padding: .25rem 0; }
th, td { border: 1px solid #767676; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.map-layout { display: flex; flex-wrap: wrap; gap: 2rem; align-items: flex-start; }
.map-layout figure { margin: 0; flex: 1 1 28rem; max-width: 40rem; }
.map-layout svg { width: 100%; height: auto; }
.legend { list-style: none; padding: 0; }
.legend li { display: flex; align-items: center; gap: .5rem; }
.legend svg.swatch { width: 1.5rem; height: 1.5rem; flex: none; }
.status-fail { color: #8c1c13; font-weight: bold; }
.status-warn { color: #7a4a00; }
.status-pass { color: #00603f; }
.status-error, .status-other { color: #3d3d3d; }
.chart svg { width: 100%; max-width: 48rem; height: auto; }
"""


def page(title: str, body: str, *, lang: str = "nl", nav: list[tuple[str, str]] = (),
         footer: str = "") -> str:
    """A complete HTML page. `nav` is (href, label) pairs; `body` and `footer` are trusted HTML."""
    skip = say(lang, "Naar de inhoud", "Skip to content")
    nav_label = say(lang, "Hoofdmenu", "Main menu")
    links = "".join(f'<li><a href="{escape(href)}">{escape(label)}</a></li>' for href, label in nav)
    nav_html = f'<nav aria-label="{nav_label}"><ul>{links}</ul></nav>' if nav else ""
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="referrer" content="no-referrer">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f'<a class="skip" href="#main">{skip}</a>\n'
        f"<header><p><strong>govscan</strong></p>{nav_html}</header>\n"
        f'<main id="main">\n<h1>{escape(title)}</h1>\n{body}\n</main>\n'
        f"<footer>{footer}</footer>\n</body>\n</html>\n"
    )
