"""Site lists: what to scan, read from a CSV file (`organisation,type,code,url`) or a plain list of URLs or
host names (one per line, `#` starts a comment).

Every entry is normalised the same way (lower case, IDN to punycode, no trailing dot, `https://host/` when
only a host is given) and de-duplicated by host, because the host is what the checks judge. An IP address,
or a name a browser would read as one (its last label a number: `127.1`, `0x7f.0.0.1`, `2130706433`), is
not a host name and is refused, and so are other schemes than http(s), other ports than 80 and 443, a user
name or password, white space or control characters inside, and over-long URLs, names and labels. A bad row
is reported as `FILE:LINE: reason` and skipped; it never stops the rows after it.

What someone types into the web service or sends to its batch API goes through the same rules
(`parse_request`); a refusal is a `RefusedTarget`, whose `.text` says why in Dutch and English (docs/ssrf.md).
"""
from __future__ import annotations

import csv
import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import idna

from govscan.model import ORGANISATION_TYPES, Organisation, Site, Text
from scanner.addresses import AddressPolicy

CSV_HEADER = ("organisation", "type", "code", "url")

# CBS codes for the organisation types that have an area on the map; other types may use any short code.
AREA_CODES = {
    "gemeente": re.compile(r"GM\d{4}"),
    "provincie": re.compile(r"PV\d{2}"),
    "waterschap": re.compile(r"WS\d{4}"),
}
OTHER_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
# The WHATWG URL standard's "ends in a number checker": a host whose last label is decimal digits, or 0x and
# hex digits, is parsed by browsers as an IPv4 address (127.1, 0x7f.0.0.1 and 2130706433 are 127.0.0.1).
IPV4_NUMBER = re.compile(r"[0-9]+|0x[0-9a-f]*")
DEFAULT_PORTS = {"http": 80, "https": 443}
# Longest URL accepted (what browsers and servers commonly support), host name and label (RFC 1035).
MAX_URL = 2000
MAX_HOST = 253
MAX_LABEL = 63


class RefusedTarget(ValueError):
    """A URL or host name that is not scanned: `text` says why (Dutch and English); str() is the English."""

    def __init__(self, nl: str, en: str):
        super().__init__(en)
        self.text = Text(nl, en)


class TargetsError(Exception):
    """The file as a whole cannot be read (missing, not UTF-8, CSV without its header)."""


MAX_REASON = 200  # characters of a problem message: a 1 MB line is not echoed whole


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    reason: str

    def __post_init__(self):
        if len(self.reason) > MAX_REASON:
            shortened = f"{self.reason[:MAX_REASON]}… ({len(self.reason)} characters)"
            object.__setattr__(self, "reason", shortened)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


def normalise_host(host: str) -> str:
    """Lower case, punycode, no trailing dot; RefusedTarget with the reason when it is not a usable host name."""
    host = host.strip().rstrip(".").lower()
    if not host:
        raise RefusedTarget("lege hostnaam", "empty host name")
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise _ip_address(host, address)
    if len(host) > MAX_HOST:
        raise RefusedTarget(f"een hostnaam van {len(host)} tekens: hoogstens {MAX_HOST}",
                            f"a host name of {len(host)} characters: at most {MAX_HOST}")
    longest = max(len(label) for label in host.split("."))
    if longest > MAX_LABEL:
        raise RefusedTarget(f"een deel van de hostnaam heeft {longest} tekens: hoogstens {MAX_LABEL}",
                            f"a label of the host name has {longest} characters: at most {MAX_LABEL}")
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise RefusedTarget(f"ongeldige hostnaam {host!r}: {exc}", f"invalid host name {host!r}: {exc}") from None
    last = ascii_host.rsplit(".", 1)[-1]
    if IPV4_NUMBER.fullmatch(last):
        raise RefusedTarget(
            f"{ascii_host} eindigt op een getal ({last}), dus browsers lezen het als IPv4-adres: geef de "
            "hostnaam van de site",
            f"{ascii_host} ends in a number ({last}), so browsers read it as an IPv4 address: give the site's "
            "host name")
    if "." not in ascii_host:
        raise RefusedTarget(f"{ascii_host} is geen volledige hostnaam (zoals www.gemeente.nl)",
                            f"{ascii_host} is not a fully qualified host name (such as www.gemeente.nl)")
    return ascii_host


def _ip_address(text: str, address) -> RefusedTarget:
    """The refusal of an IP address given where a host name belongs, saying what the address is when the
    address policy never scans it (scanner/addresses.py)."""
    why = AddressPolicy().refusal(address)
    if why is None:
        return RefusedTarget(f"{text} is een IP-adres, geen hostnaam: geef de hostnaam van de site",
                             f"{text} is an IP address, not a host name: give the site's host name")
    return RefusedTarget(
        f"{text} is een IP-adres, geen hostnaam. Adressen als dit ({why}) worden nooit gecontroleerd: geef de "
        "hostnaam van de site",
        f"{text} is an IP address, not a host name. Addresses like this ({why}) are never scanned: give the "
        "site's host name")


def parse_target(text: str, organisation: Organisation | None = None) -> Site:
    """One URL or host name as a Site; RefusedTarget (a ValueError) with the reason when it is not scanned."""
    text = text.strip()
    if not text:
        raise RefusedTarget("lege URL", "empty URL")
    if len(text) > MAX_URL:
        raise RefusedTarget(f"een URL van {len(text)} tekens: hoogstens {MAX_URL}",
                            f"a URL of {len(text)} characters: at most {MAX_URL}")
    odd = next((c for c in text if c.isspace() or unicodedata.category(c) in ("Cc", "Cf")), None)
    if odd is not None:
        raise RefusedTarget(f"witruimte of een stuurteken ({ord(odd):#06x}) in de URL",
                            f"white space or a control character ({ord(odd):#06x}) inside the URL")
    if "://" not in text:
        text = "https://" + (f"[{text}]" if _is_ipv6(text) else text)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise RefusedTarget(f"schema {scheme!r} wordt niet ondersteund (gebruik http of https)",
                            f"unsupported scheme {scheme!r} (use http or https)")
    if parts.username is not None or parts.password is not None:
        raise RefusedTarget("een URL met een gebruikersnaam of wachtwoord wordt niet gecontroleerd",
                            "a URL with a user name or password is not scanned")
    try:
        port = parts.port
    except ValueError:
        raise RefusedTarget(f"ongeldige poort in {text!r}", f"invalid port in {text!r}") from None
    if port is not None and port != DEFAULT_PORTS[scheme]:
        raise RefusedTarget(f"poort {port}: alleen de standaardpoorten (80 en 443) worden gecontroleerd",
                            f"port {port}: only the standard ports are scanned (80 and 443)")
    host = normalise_host(parts.hostname or "")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Site(url=f"{scheme}://{host}{path}", host=host, organisation=organisation)


def parse_request(text) -> Site:
    """What someone asks the web service or its batch API to check: a host name or an http(s) URL, by the
    rules of a site list (`parse_target`). RefusedTarget, with `.text` for the person, when it is not
    checked; anything but a string is refused too (a batch request's JSON may hold a number or null)."""
    if not isinstance(text, str):
        raise RefusedTarget("geef een hostnaam of een http(s)-URL", "give a host name or an http(s) URL")
    return parse_target(text)


def _is_ipv6(text: str) -> bool:
    """Whether `text` is a bare IPv6 address, which needs brackets in a URL."""
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def parse_organisation(name: str, type_: str, code: str) -> Organisation | None:
    """The organisation of a CSV row; None when all three fields are empty (a site of no known organisation)."""
    name = " ".join(name.split())  # a name quoted over several lines is one line
    type_ = type_.strip().lower()
    code = code.strip()
    if not (name or type_ or code):
        return None
    if not name:
        raise ValueError("organisation name is empty")
    if type_ not in ORGANISATION_TYPES:
        raise ValueError(f"unknown organisation type {type_!r} (one of: {', '.join(ORGANISATION_TYPES)})")
    if code:
        pattern = AREA_CODES.get(type_, OTHER_CODE)
        code = code.upper() if type_ in AREA_CODES else code
        if not pattern.fullmatch(code):
            expected = {"gemeente": "GM0363", "provincie": "PV27", "waterschap": "WS0155"}.get(type_, "ABC-12")
            raise ValueError(f"invalid code {code!r} for a {type_} (expected a code like {expected})")
    return Organisation(name=name, type=type_, code=code)


def parse_organisation_code(code: str) -> str:
    """An organisation code as someone names it outside a site list (`govscan notify add --org`): a CBS area
    code in any case (GM0363, PV27, WS0155; upper-cased, as the site lists keep them) or another short code
    as it is. RefusedTarget when it is neither."""
    code = code.strip()
    if any(pattern.fullmatch(code.upper()) for pattern in AREA_CODES.values()):
        return code.upper()
    if OTHER_CODE.fullmatch(code):
        return code
    shown = code[:40]
    raise RefusedTarget(f"{shown!r} is geen organisatiecode (zoals GM0363, PV27, WS0155)",
                        f"{shown!r} is not an organisation code (such as GM0363, PV27, WS0155)")


def _strip_comment(line: str) -> str:
    """Drop a `#` comment: at the start of the line or after white space (a URL fragment stays)."""
    if line.lstrip().startswith("#"):
        return ""
    match = re.search(r"\s#", line)
    return line[: match.start()] if match else line


def _is_csv(lines: list[str], path: str) -> bool:
    for line in lines:
        content = _strip_comment(line).strip()
        if content:
            fields = tuple(f.strip().lower() for f in content.split(","))
            return fields == CSV_HEADER or path.lower().endswith(".csv")
    return path.lower().endswith(".csv")


def _csv_rows(lines: list[str]):
    """(line number, fields or csv.Error) per CSV record; a quoted field may span lines (the record's first
    line is its number), and lines holding only a comment or nothing are skipped."""
    kept = [(number, line) for number, line in enumerate(lines, start=1)
            if line.strip() and not line.lstrip().startswith("#")]
    reader = csv.reader(line + "\n" for _, line in kept)
    while True:
        first = reader.line_num
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield kept[min(first, len(kept) - 1)][0], exc
            continue
        yield kept[first][0], fields


def parse_lines(lines: list[str], name: str) -> tuple[list[Site], list[Problem]]:
    """Sites and problems from the lines of a site list; `name` is used in the problem messages."""
    sites: list[Site] = []
    problems: list[Problem] = []
    first_line: dict[str, int] = {}
    if _is_csv(lines, name):
        entries = _csv_rows(lines)
    else:
        entries = ((number, _strip_comment(line).strip()) for number, line in enumerate(lines, start=1))
    header_seen = False

    for number, entry in entries:
        if not entry:
            continue
        try:
            if isinstance(entry, csv.Error):
                raise ValueError(f"not a CSV row: {entry}")
            if isinstance(entry, list):
                fields = entry
                if not header_seen:
                    if tuple(f.strip().lower() for f in fields) != CSV_HEADER:
                        raise TargetsError(f"{name}:{number}: a CSV site list starts with the header "
                                           f"{','.join(CSV_HEADER)}")
                    header_seen = True
                    continue
                if len(fields) != len(CSV_HEADER):
                    raise ValueError(f"expected {len(CSV_HEADER)} columns ({','.join(CSV_HEADER)}), "
                                     f"found {len(fields)}")
                organisation = parse_organisation(*fields[:3])
                site = parse_target(fields[3], organisation)
            else:
                site = parse_target(entry)
        except ValueError as exc:
            problems.append(Problem(name, number, str(exc)))
            continue
        if site.host in first_line:
            problems.append(Problem(name, number, f"{site.host} is already listed on line "
                                                  f"{first_line[site.host]}; skipped"))
            continue
        first_line[site.host] = number
        sites.append(site)
    return sites, problems


def load(path: str | Path) -> tuple[list[Site], list[Problem]]:
    """Read a site list file (CSV or plain list, detected from the header or the `.csv` extension)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TargetsError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise TargetsError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise TargetsError(f"{path}: {exc.strerror}") from None
    return parse_lines(text.splitlines(), str(path))
