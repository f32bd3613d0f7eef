"""The web service's report of one site (reports/check_report.py): the summary and what to fix first, each
failing check with what was found, the norm, how to fix it and its addresses, the rest collapsed; Dutch and
English; every scanned string escaped, and no inline styles or scripts for the Content-Security-Policy."""
from __future__ import annotations

import re
from html.parser import HTMLParser

from govscan.model import AddressResult, Status, Text
from reports import check_report
from reports.site_report import SiteReport
from tests.unit.test_site_report import CATALOGUE, example, finding

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'><b style=\"x\">bold</b>&amp;"


class Outline(HTMLParser):
    """The elements, attributes and text of a rendered page, as a browser would parse them."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.headings: list[tuple[int, str]] = []
        self.text: list[str] = []
        self._heading: int | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = int(tag[1])
            self.headings.append((self._heading, ""))

    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = None

    def handle_data(self, data):
        self.text.append(data)
        if self._heading is not None:
            level, text = self.headings[-1]
            self.headings[-1] = (level, text + data)


def test_opens_with_the_summary_then_what_to_fix_first_and_the_rest_collapsed():
    html = check_report.render(example(), CATALOGUE, "en")
    outline = Outline(html)
    assert "".join(outline.text).lstrip().startswith("Required checks failing: 2; warning: 1; not measured: 1.")
    assert [h for h in outline.headings if h[0] == 2] == [
        (2, "Fix first: required checks that fail (2)"), (2, "Warnings (3)"), (2, "Not measured (1)"),
        (2, "The rest (2)")]
    order = [html.index(s) for s in ("Title web.https.hsts", "Title web.ipv6.address", "Title web.https.caa",
                                     "Title web.tls.cipher_order", "<details>", "Title web.dns.ok")]
    assert order == sorted(order)
    assert html.count("<details>") == 1 and html.index("<details>") > html.index("The rest")


def test_a_failing_check_shows_what_was_found_the_norm_the_fix_and_each_address():
    html = check_report.render(example(), CATALOGUE, "en")
    hsts = html[html.index('id="check-web.https.hsts"'):html.index('id="check-web.ipv6.address"')]
    assert "HSTS te kort" in hsts and "<dt>Norm</dt><dd><p>Norm of web.https.hsts</p>" in hsts
    assert "<dt>How to fix</dt><dd><p>Fix web.https.hsts.</p>" in hsts
    assert "<caption>Title web.https.hsts: per IP address</caption>" in hsts
    assert re.search(r'<th scope="row">192\.0\.2\.2</th><td><strong class="status-fail">fail</strong></td>'
                     r"<td>max-age=60<ul class=\"govscan-evidence\"><li><code>header: max-age=60</code>", hsts)
    assert "required" in hsts  # the level, in words
    not_measured = html[html.index('id="check-web.tls.cipher_order"'):]
    assert "(timeout)" in not_measured.split("</article>")[0]
    assert "Fix web.tls.cipher_order." not in html  # an error has nothing to fix yet


def test_headings_in_order_tables_with_captions_and_scope_status_in_words():
    outline = Outline(check_report.render(example(), CATALOGUE, "nl"))
    levels = [1] + [level for level, _ in outline.headings]  # under the page's h1
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:])), levels
    tables = [attrs for tag, attrs in outline.tags if tag == "table"]
    assert tables and len([t for t, _ in outline.tags if t == "caption"]) == len(tables)
    assert all(attrs.get("scope") in ("col", "row") for tag, attrs in outline.tags if tag == "th")
    statuses = [attrs["class"] for tag, attrs in outline.tags if tag == "strong" and "class" in attrs]
    assert set(statuses) == {"status-fail", "status-warn", "status-error", "status-pass", "status-other"}
    assert {"voldoet niet", "waarschuwing", "niet gemeten", "voldoet", "info"} <= set(outline.text)


def test_dutch_by_default_and_english():
    dutch = check_report.render(example(), CATALOGUE, "nl")
    assert "Eerst oplossen: verplichte controles die niet voldoen (2)" in dutch
    assert "<dt>Gevonden</dt>" in dutch and "<dt>Oplossing</dt><dd><p>Los web.https.hsts op.</p>" in dutch
    assert "Titel web.https.hsts" in dutch and "Toon de 2 andere controles" in dutch and "verplicht" in dutch
    english = check_report.render(example(), CATALOGUE, "en")
    assert "Show the 2 other checks" in english and "Titel" not in english


def test_every_scanned_string_is_escaped_and_there_are_no_inline_styles_or_scripts():
    hostile_text = Text(HOSTILE, HOSTILE)
    report = SiteReport(f"https://www.example.nl/{HOSTILE}", "www.example.nl", [
        finding("web.https.hsts", Status.FAIL, HOSTILE, details={HOSTILE: HOSTILE, "list": [HOSTILE]},
                reason=HOSTILE,
                addresses=[AddressResult(HOSTILE, Status.FAIL, hostile_text, {"header": HOSTILE}, HOSTILE)]),
        finding("web.tls.cipher_order", Status.ERROR, HOSTILE, reason=HOSTILE),
        finding(HOSTILE, Status.PASS, HOSTILE),
    ], {"ipv4": [HOSTILE]})
    for lang in ("nl", "en"):
        html = check_report.render(report, CATALOGUE, lang)
        outline = Outline(html)
        assert not [tag for tag, _ in outline.tags if tag in ("script", "img", "b", "style")]
        assert not [attrs for _, attrs in outline.tags if {"style", "onerror"} & set(attrs)]
        assert all(not name.startswith("on") for _, attrs in outline.tags for name in attrs)
        assert "<script>alert(1)</script>" in "".join(outline.text)  # shown as text, as it was sent
