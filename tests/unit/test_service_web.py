"""The web service's rules that need no server: whom it believes about the client (proxy headers only from
trusted proxies), and the progress per family it shows while a site is scanned."""
from govscan.model import Artifact
from scanner.service.jobs import FamilyProgress
from scanner.service.web import forwarded, href, networks

TRUSTED = networks(["10.0.0.5", "2001:db8:ff::/48"])


def test_proxy_headers_from_an_untrusted_peer_are_ignored():
    headers = {"x-forwarded-for": "192.0.2.1", "x-forwarded-proto": "https"}
    assert forwarded("198.51.100.7", "http", headers, TRUSTED) == ("198.51.100.7", "http")
    assert forwarded("198.51.100.7", "http", headers, []) == ("198.51.100.7", "http")


def test_behind_a_trusted_proxy_the_client_is_the_last_untrusted_address():
    # What the client wrote itself (the left part) cannot be told from the truth: it is not believed.
    headers = {"x-forwarded-for": "1.2.3.4, 203.0.113.9, 2001:db8:ff::1", "x-forwarded-proto": "https"}
    assert forwarded("10.0.0.5", "http", headers, TRUSTED) == ("203.0.113.9", "https")
    assert forwarded("10.0.0.5", "http", {}, TRUSTED) == ("10.0.0.5", "http")
    assert forwarded("10.0.0.5", "http", {"x-forwarded-proto": "gopher"}, TRUSTED) == ("10.0.0.5", "http")


def test_links_keep_the_language():
    assert href("/check/3", "nl") == "/check/3"
    assert href("/check/3", "en") == "/check/3?lang=en"
    assert href("/x?a=1", "en") == "/x?a=1&lang=en"


def test_progress_per_family_counts_measurements_per_address_once_the_addresses_are_known():
    progress = FamilyProgress({"https": {"dns", "http"}, "mail": {"mail"}}, {"http"}, {"dns": 1, "mail": 1})
    assert progress.families()["https"] == {"done": 0, "total": None, "busy": False, "finished": False}
    progress.began("dns")
    assert progress.families()["https"] == {"done": 0, "total": None, "busy": True, "finished": False}
    progress.measured("dns", Artifact("dns", 1, "www.x.nl", {"ipv4": ["192.0.2.1"], "ipv6": ["2001:db8::1"]}))
    assert progress.families()["https"] == {"done": 1, "total": 3, "busy": False, "finished": False}
    for address in ("192.0.2.1", "2001:db8::1"):
        progress.began("http")
        progress.measured("http", Artifact("http", 1, address, {}))
    assert progress.families() == {"https": {"done": 3, "total": 3, "busy": False, "finished": True},
                                   "mail": {"done": 0, "total": 1, "busy": False, "finished": False}}


def test_a_site_without_addresses_has_nothing_to_measure_per_address():
    progress = FamilyProgress({"https": {"dns", "http"}}, {"http"}, {"dns": 1})
    progress.measured("dns", Artifact("dns", 1, "www.x.nl", error="nxdomain"))
    assert progress.families()["https"] == {"done": 1, "total": 1, "busy": False, "finished": True}
