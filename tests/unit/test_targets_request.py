"""What someone types into the web service or its batch API (scanner.targets.parse_request): a host name or an
http(s) URL is checked; anything else is refused with a reason in Dutch and English, before any DNS query."""
import pytest

from govscan.model import Text
from scanner.targets import RefusedTarget, parse_request


@pytest.mark.parametrize("text, url", [
    ("www.gemeente.nl", "https://www.gemeente.nl/"),
    ("  Gemeente.NL.  ", "https://gemeente.nl/"),
    ("http://www.gemeente.nl:80/contact?x=1#top", "http://www.gemeente.nl/contact?x=1"),
    ("https://www.gemeente.nl:443", "https://www.gemeente.nl/"),
    ("gemeente-süd.nl", "https://xn--gemeente-sd-2hb.nl/"),
])
def test_a_host_name_or_http_url_is_accepted(text, url):
    assert parse_request(text).url == url


@pytest.mark.parametrize("text, en, nl", [
    ("127.0.0.1", "127.0.0.1 is an IP address, not a host name. Addresses like this (loopback (127.0.0.0/8)) "
                  "are never scanned: give the site's host name", "worden nooit gecontroleerd"),
    ("[::1]", "::1 is an IP address, not a host name. Addresses like this (loopback (::1/128))", "hostnaam"),
    ("::1", "::1 is an IP address", "IP-adres"),
    ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1 is an IP address, not a host name. Addresses like this "
                                   "(loopback (127.0.0.0/8))", "IP-adres"),
    ("169.254.169.254", "Addresses like this (a cloud metadata address) are never scanned", "nooit"),
    ("https://10.0.0.1/", "Addresses like this (private use (10.0.0.0/8)) are never scanned", "nooit"),
    ("8.8.8.8", "8.8.8.8 is an IP address, not a host name: give the site's host name", "geen hostnaam"),
    ("2130706433", "ends in a number (2130706433), so browsers read it as an IPv4 address", "eindigt op een getal"),
    ("http://0x7f.1/", "ends in a number (1)", "getal"),
    ("localhost", "localhost is not a fully qualified host name", "geen volledige hostnaam"),
    ("user:pass@www.gemeente.nl", "a URL with a user name or password is not scanned", "gebruikersnaam"),
    ("https://user@www.gemeente.nl/", "user name or password", "wachtwoord"),
    ("ftp://www.gemeente.nl/", "unsupported scheme 'ftp' (use http or https)", "gebruik http of https"),
    ("javascript:alert(1)", "invalid port", "ongeldige poort"),  # read as https://javascript:alert(1)
    ("www.gemeente.nl:8080", "port 8080: only the standard ports are scanned (80 and 443)", "poort 8080"),
    ("https://www.gemeente.nl:80/", "port 80: only the standard ports", "standaardpoorten"),
    ("a" * 300 + ".nl", "a host name of 303 characters: at most 253", "303 tekens"),
    ("www." + "a" * 64 + ".nl", "a label of the host name has 64 characters: at most 63", "64 tekens"),
    ("https://www.gemeente.nl/" + "a" * 2000, "a URL of 2024 characters: at most 2000", "2024 tekens"),
    ("www.gemeente.nl\nHost: intern", "white space or a control character (0x000a) inside the URL", "stuurteken"),
    ("www.gemeente.nl/\x00", "control character (0x0000)", "witruimte"),
    ("www.ge\u200bmeente.nl", "control character (0x200b)", "witruimte"),
    ("", "empty URL", "lege URL"),
    ("   ", "empty URL", "lege URL"),
    ("https:///pad", "empty host name", "lege hostnaam"),
    (None, "give a host name or an http(s) URL", "geef een hostnaam"),
    (12, "give a host name or an http(s) URL", "geef een hostnaam"),
])
def test_anything_else_is_refused_with_a_reason_in_dutch_and_english(text, en, nl):
    with pytest.raises(RefusedTarget) as refused:
        parse_request(text)
    assert isinstance(refused.value, ValueError) and isinstance(refused.value.text, Text)
    assert en in refused.value.text.en and en in str(refused.value)
    assert nl in refused.value.text.nl and refused.value.text.get("nl") != refused.value.text.get("en")


def test_a_refusal_never_echoes_a_long_input_whole():
    with pytest.raises(RefusedTarget) as refused:
        parse_request("www." + "x" * 100_000 + ".nl")
    assert len(refused.value.text.en) < 100 and len(refused.value.text.nl) < 100


@pytest.mark.parametrize("text, host", [
    ("https://www.gemeente.nl#@127.0.0.1", "www.gemeente.nl"),   # what follows # is a fragment, as in browsers
    ("https://www.gemeente.nl?@127.0.0.1", "www.gemeente.nl"),   # ... and after ? a query
    ("https://127.0.0.1.nip.io/", "127.0.0.1.nip.io"),           # a name: judged by its addresses when scanned
])
def test_the_host_is_the_one_a_browser_would_visit(text, host):
    assert parse_request(text).host == host


@pytest.mark.parametrize("text", [
    "https://%31%32%37.0.0.1/",          # percent-encoded digits, which browsers decode to 127.0.0.1
    "https://127.0.0.1%2f@www.gemeente.nl/",
    "https://www.gemeente.nl\\@127.0.0.1/",  # browsers read \ as /, Python as part of the user name
    "https://127.0.0.1\\www.gemeente.nl/",
    "https://127.0.0.1#@www.gemeente.nl/",
    "https://0177.0.0.1/",
])
def test_urls_that_parsers_read_differently_are_refused(text):
    with pytest.raises(RefusedTarget):
        parse_request(text)
