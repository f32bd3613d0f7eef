"""Site lists: what to scan, read from a CSV file (`organisation,type,code,url`) or a plain list of URLs or
host names (one per line, `#` starts a comment).

Every entry is normalised the same way (lower case, IDN to punycode, no trailing dot, `https://host/` when
only a host is given) and de-duplicated by host, because the host is what the checks judge. An IP address,
or a name a browser would read as one (its last label a number: `127.1`, `0x7f.0.0.1`, `2130706433`), is
not a host name and is refused. A bad row is reported as `FILE:LINE: reason` and skipped; it never stops the
rows after it.
"""
from __future__ import annotations

import csv
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import idna

from govscan.model import ORGANISATION_TYPES, Organisation, Site

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
    """Lower case, punycode, no trailing dot; ValueError with the reason when it is not a usable host name."""
    host = host.strip().rstrip(".").lower()
    if not host:
        raise ValueError("empty host name")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise ValueError(f"{host} is an IP address, not a host name")
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"invalid host name {host!r}: {exc}") from None
    last = ascii_host.rsplit(".", 1)[-1]
    if IPV4_NUMBER.fullmatch(last):
        raise ValueError(f"{ascii_host} ends in a number ({last}), so browsers read it as an IPv4 address: "
                         "give the site's host name")
    if "." not in ascii_host:
        raise ValueError(f"{ascii_host} is not a fully qualified host name")
    return ascii_host


def parse_target(text: str, organisation: Organisation | None = None) -> Site:
    """One URL or host name as a Site; ValueError with the reason when it cannot be scanned."""
    text = text.strip()
    if not text:
        raise ValueError("empty URL")
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"unsupported scheme {scheme!r} (use http or https)")
    if parts.username is not None or parts.password is not None:
        raise ValueError("a URL with a user name or password is not scanned")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"invalid port in {text!r}") from None
    if port is not None and port != DEFAULT_PORTS[scheme]:
        raise ValueError(f"port {port}: only the standard ports are scanned")
    host = normalise_host(parts.hostname or "")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Site(url=f"{scheme}://{host}{path}", host=host, organisation=organisation)


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
