"""The browser probe's pure helpers: registrable domains, subpage sampling and where to look for a statement."""
import os

from scanner.config import Settings
from scanner.domains import registrable_domain
from scanner.probes.browser import (MB_PER_SITE, WAIT_PER_CPU_SECOND, same_site_links, sites_at_once,
                                    statement_candidates)

FRONT = "https://www.gemeente.nl/"


def link(href: str, text: str = "", footer: bool = False, images=()) -> dict:
    return {"href": href, "text": text, "footer": footer, "images": list(images)}


def test_registrable_domain():
    assert registrable_domain("www.gemeente.nl") == "gemeente.nl"
    assert registrable_domain(".doubleclick.net") == "doubleclick.net"
    assert registrable_domain("a.b.example.co.uk") == "example.co.uk"
    assert registrable_domain("192.0.2.10") == "192.0.2.10"


def test_same_site_links_are_deterministic_and_skip_files_other_hosts_and_fragments():
    links = [link("https://www.gemeente.nl/nieuws/item-1"), link("https://www.gemeente.nl/afval"),
             link("https://www.gemeente.nl/afval#top"), link("https://www.gemeente.nl/rapport.pdf"),
             link("https://other.nl/x"), link("mailto:info@gemeente.nl"), link(FRONT),
             link("https://www.gemeente.nl/contact")]
    assert same_site_links(FRONT, links) == ["https://www.gemeente.nl/afval", "https://www.gemeente.nl/contact",
                                             "https://www.gemeente.nl/nieuws/item-1"]
    assert same_site_links(FRONT, list(reversed(links))) == same_site_links(FRONT, links)


def test_statement_candidates_in_the_order_a_person_looks():
    links = [link("https://www.gemeente.nl/over/toegankelijkheid", "Toegankelijkheid"),
             link("https://www.gemeente.nl/toegankelijkheidsverklaring", "Toegankelijkheidsverklaring", footer=True),
             link("https://www.toegankelijkheidsverklaring.nl/register/1234", "Bekijk onze verklaring")]
    found = statement_candidates(FRONT, links, [])
    assert [(c["url"], c["via"]) for c in found] == [
        ("https://www.toegankelijkheidsverklaring.nl/register/1234", "register_link"),
        ("https://www.gemeente.nl/toegankelijkheidsverklaring", "footer_link"),
        ("https://www.gemeente.nl/over/toegankelijkheid", "link"),
        ("https://www.gemeente.nl/toegankelijkheid", "common_path"),
        ("https://www.gemeente.nl/toegankelijkheidsverklaringen", "common_path"),
    ]


def test_unlinked_register_label_image_gives_the_register_entry():
    label = "https://www.toegankelijkheidsverklaring.nl/files/verklaring/label/0123456789abcdef0123456789abcdef.7002.svg"
    found = statement_candidates(FRONT, [], [{"src": label, "linked": False}])
    assert found[0] == {"url": "https://www.toegankelijkheidsverklaring.nl/register/7002", "via": "register_label",
                        "text": ""}


def test_linked_register_label_image_uses_the_link():
    label = "https://www.toegankelijkheidsverklaring.nl/files/verklaring/label/0123456789abcdef0123456789abcdef.55.svg"
    links = [link("https://www.toegankelijkheidsverklaring.nl/register/55", "", images=[label])]
    found = statement_candidates(FRONT, links, [{"src": label, "linked": True}])
    assert found[0]["via"] == "register_label" and found[0]["url"].endswith("/register/55")


def test_sites_at_once_from_the_setting_the_cores_and_the_memory_budget():
    settings = Settings()
    cores = len(os.sched_getaffinity(0))
    settings.browser.concurrency = 3
    assert sites_at_once(settings) == 3
    settings.browser.concurrency = 0
    settings.browser.memory_mb = 100_000  # the cores decide: they are kept busy while visits wait
    assert sites_at_once(settings) == round(cores * WAIT_PER_CPU_SECOND)
    settings.browser.memory_mb = 4 * MB_PER_SITE + 10  # memory decides
    assert sites_at_once(settings) == min(4, round(cores * WAIT_PER_CPU_SECOND))
    settings.browser.memory_mb = 10  # never none
    assert sites_at_once(settings) == 1
