"""The RPKI probe: for every address of the site's host, of its zone's name servers and of its MX hosts,
the announced route (prefix and origin AS) and the validated ROA payloads (VRPs) that cover it.

Both tables come from files, so the checks work offline and in the lab (docs/rpki.md):

- `[rpki] vrp_file`: the JSON export of a relying-party validator, Routinator (`vrps --format json`) or
  rpki-client (`-j`): `{"roas": [{"asn": "AS64500" or 64500, "prefix": "192.0.2.0/24", "maxLength": 24,
  "ta": ...}]}`;
- `[rpki] routes_file`: announced prefixes and their origin AS, the CAIDA pfx2as text format (`192.0.2.0
  24 64500`, `_` between the origins of a multi-origin prefix, `,` inside an AS set), or one `prefix/length
  AS` per line (a RIPE RIS dump reduced to prefix and origin). An AS set has no single origin: it is given as
  origin `null`, which no VRP matches (RFC 6811 section 2, "NONE").

The files are read and indexed once per run in `setup` (in the run's thread pool), and the last tables are
kept for the next run in this process while the files are unchanged (size and modification time), so the
web service does not read a million lines per check. Reading is bounded: a file larger than `[rpki]
max_file_bytes` is not read (ConfigError, like an unreadable one: the settings point at the wrong file), at
most `max_entries` ROAs and route lines are read (the rest is counted as `cut`, unread), and a malformed
line or ROA is counted and the first few are named, never fatal.

The index (`PrefixIndex`): per address family and prefix length, one sorted list of integer keys
`prefix bits << value bits | value` (the value being the origin AS, or the VRP's maxLength and AS). The
longest match for an address masks it to each length present, longest first, and finds the key range with
`bisect`; the VRPs covering a prefix are the same search at each length up to the prefix's own. About 25
IPv4 and 40 IPv6 lengths occur, so a lookup is a few dozen binary searches. A list of IPv4 routes whose
keys fit 64 bits is kept as `array('Q')`: 8 bytes a route. The maintained libraries were measured first
(one million /24 prefixes, Python 3.11): py-radix 1.1.0 installs from a wheel but took 420 MB and 4.6 s to
build, a tenth of the scanner's memory budget for one table; pytricia 1.3.0 has no wheel (an sdist that
needs a C compiler on every machine). The figures of this index are in the README ("RPKI index").

The probe judges nothing: whether a route is valid, invalid or not found (RFC 6811) is checks/rpki.py's.
"""
from __future__ import annotations

import functools
import json
import os
import socket
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govscan.model import Site
from scanner.config import ConfigError, RpkiSettings
from scanner.probes.base import Probe, ProbeContext

FAMILY_BITS = {4: 32, 6: 128}
AS_BITS = 32
VRP_VALUE_BITS = 40       # maxLength (8 bits) above the AS number (32 bits)
NAMED_PROBLEMS = 5        # malformed lines named in the artifact; the rest are counted
PROBLEM_CHARACTERS = 200  # of each named problem (a malformed line may be long)


def parse_address(text: str) -> tuple[int, int]:
    """(family, integer) of an IPv4 or IPv6 address; ValueError when it is neither."""
    for family, af in ((4, socket.AF_INET), (6, socket.AF_INET6)):
        try:
            return family, int.from_bytes(socket.inet_pton(af, text), "big")
        except OSError:
            continue
    raise ValueError(f"not an IP address: {text!r}")


def parse_prefix(address: str, length: str | int) -> tuple[int, int, int]:
    """(family, length, prefix bits) of a prefix; ValueError when malformed or with host bits set."""
    family, value = parse_address(address)
    bits = FAMILY_BITS[family]
    length = int(length)
    if not 0 <= length <= bits:
        raise ValueError(f"prefix length {length} out of range")
    if value & ((1 << (bits - length)) - 1):
        raise ValueError(f"{address}/{length} has host bits set")
    return family, length, value >> (bits - length)


def show_prefix(family: int, length: int, prefix_bits: int) -> str:
    bits = FAMILY_BITS[family]
    value = prefix_bits << (bits - length) if length else 0
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    return f"{socket.inet_ntop(af, value.to_bytes(bits // 8, 'big'))}/{length}"


def parse_asn(text: str | int) -> int:
    """An AS number from `64500`, `"64500"` or `"AS64500"`; ValueError otherwise. AS 0 is accepted: no route
    comes from it (RFC 7607), so a VRP for AS 0 matches none, and in the index it stands for an AS set."""
    if isinstance(text, bool):
        raise ValueError(f"not an AS number: {text!r}")
    if isinstance(text, str):
        text = text.strip()
        text = text[2:] if text[:2].upper() == "AS" else text
        if not text.isdigit():
            raise ValueError(f"not an AS number: {text!r}")
    asn = int(text)
    if not 0 <= asn < 1 << AS_BITS:
        raise ValueError(f"AS number out of range: {asn}")
    return asn


class PrefixIndex:
    """Prefixes with integer values (several per prefix allowed), for longest-prefix match and for the
    prefixes covering a prefix. `add` while building, then `freeze` once; see the module docstring."""

    def __init__(self, value_bits: int):
        self.value_bits = value_bits
        self.keys: dict[tuple[int, int], Any] = {}        # (family, length) -> sorted keys
        self.lengths: dict[int, list[int]] = {4: [], 6: []}  # per family, longest first

    def add(self, family: int, length: int, prefix_bits: int, value: int) -> None:
        self.keys.setdefault((family, length), []).append(prefix_bits << self.value_bits | value)

    def freeze(self) -> "PrefixIndex":
        for where, keys in self.keys.items():
            keys = self.keys[where] = sorted(set(keys))  # a route or VRP listed twice counts once
            try:
                self.keys[where] = array("Q", keys)
            except OverflowError:  # IPv6, or VRPs: keys wider than 64 bits stay a list of ints
                pass
        for family in self.lengths:
            self.lengths[family] = sorted((length for f, length in self.keys if f == family), reverse=True)
        return self

    def _at(self, family: int, length: int, prefix_bits: int) -> list[int]:
        """The values stored for exactly this prefix."""
        keys = self.keys[(family, length)]
        low = prefix_bits << self.value_bits
        i = bisect_left(keys, low)
        mask = (1 << self.value_bits) - 1
        found = []
        while i < len(keys) and keys[i] >> self.value_bits == prefix_bits:
            found.append(keys[i] & mask)
            i += 1
        return found

    def longest_match(self, family: int, address: int) -> tuple[int, int, list[int]] | None:
        """(length, prefix bits, values) of the most specific prefix holding the address, or None."""
        bits = FAMILY_BITS[family]
        for length in self.lengths[family]:
            values = self._at(family, length, address >> (bits - length))
            if values:
                return length, address >> (bits - length), values
        return None

    def covering(self, family: int, length: int, prefix_bits: int) -> list[tuple[int, int, int]]:
        """(length, prefix bits, value) of every stored prefix equal to or less specific than this one."""
        found = []
        for stored in reversed(self.lengths[family]):
            if stored > length:
                break
            bits = prefix_bits >> (length - stored)
            found += [(stored, bits, value) for value in self._at(family, stored, bits)]
        return found


@dataclass
class Loaded:
    """What reading one file gave: how many entries were kept, cut by `max_entries`, or malformed."""

    path: str
    entries: int = 0
    cut: int = 0
    malformed: int = 0
    problems: list[str] = field(default_factory=list)

    def bad(self, where: str, why: str) -> None:
        self.malformed += 1
        if len(self.problems) < NAMED_PROBLEMS:
            self.problems.append(f"{where}: {why[:PROBLEM_CHARACTERS]}")

    def full(self, limit: int) -> bool:
        """Whether `limit` entries are kept already; the entry at hand is then counted as cut, unread."""
        if self.entries < limit:
            return False
        self.cut += 1
        return True

    def to_dict(self) -> dict:
        return {"path": self.path, "entries": self.entries, "cut": self.cut, "malformed": self.malformed,
                "problems": self.problems}


def bounded(path: Path, setting: str, limit: RpkiSettings) -> None:
    """ConfigError when the file cannot be read or is larger than `max_file_bytes`."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ConfigError(f"[rpki] {setting}: cannot read {path}: {exc.strerror}") from None
    if size > limit.max_file_bytes:
        raise ConfigError(f"[rpki] {setting}: {path} has {size} bytes, more than [rpki] max_file_bytes "
                          f"({limit.max_file_bytes})")


def read_routes(path: Path, limit: RpkiSettings) -> tuple[PrefixIndex, Loaded]:
    """The routes file as an index of prefix -> origin AS (0 for an AS set: no single origin)."""
    bounded(path, "routes_file", limit)
    index, loaded = PrefixIndex(AS_BITS), Loaded(str(path))
    try:
        with open(path, encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                fields = line.split("#", 1)[0].split()
                if not fields or loaded.full(limit.max_entries):
                    continue
                try:
                    if len(fields) == 3:
                        family, length, bits = parse_prefix(fields[0], fields[1])
                    elif len(fields) == 2 and "/" in fields[0]:
                        family, length, bits = parse_prefix(*fields[0].split("/", 1))
                    else:
                        raise ValueError("expected 'address length AS' or 'prefix/length AS'")
                    origins = [0 if "," in token else parse_asn(token) for token in fields[-1].split("_")]
                except ValueError as exc:
                    loaded.bad(f"line {number}", str(exc))
                    continue
                loaded.entries += 1
                for origin in dict.fromkeys(origins):
                    index.add(family, length, bits, origin)
    except OSError as exc:
        raise ConfigError(f"[rpki] routes_file: cannot read {path}: {exc.strerror}") from None
    return index.freeze(), loaded


def read_vrps(path: Path, limit: RpkiSettings) -> tuple[PrefixIndex, Loaded]:
    """The VRP file as an index of prefix -> maxLength << 32 | AS."""
    bounded(path, "vrp_file", limit)
    try:
        with open(path, "rb") as fh:
            document = json.load(fh)
    except OSError as exc:
        raise ConfigError(f"[rpki] vrp_file: cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"[rpki] vrp_file: {path} is not JSON: {exc}") from None
    roas = document.get("roas") if isinstance(document, dict) else None
    if not isinstance(roas, list):
        raise ConfigError(f"[rpki] vrp_file: {path} has no list 'roas' (a Routinator or rpki-client JSON export)")
    index, loaded = PrefixIndex(VRP_VALUE_BITS), Loaded(str(path))
    for number, roa in enumerate(roas):
        if loaded.full(limit.max_entries):
            continue
        try:
            if not isinstance(roa, dict) or not isinstance(roa.get("prefix"), str) or "/" not in roa["prefix"]:
                raise ValueError("expected an object with a prefix 'address/length'")
            family, length, bits = parse_prefix(*roa["prefix"].split("/", 1))
            asn = parse_asn(roa.get("asn"))
            max_length = roa.get("maxLength", length)
            if isinstance(max_length, bool) or not isinstance(max_length, int) \
                    or not length <= max_length <= FAMILY_BITS[family]:
                raise ValueError(f"maxLength {max_length!r} is not between {length} and {FAMILY_BITS[family]}")
        except (ValueError, TypeError) as exc:
            loaded.bad(f"roas[{number}]", str(exc))
            continue
        loaded.entries += 1
        index.add(family, length, bits, max_length << AS_BITS | asn)
    return index.freeze(), loaded


@dataclass
class RpkiTables:
    routes: PrefixIndex
    vrps: PrefixIndex
    files: dict[str, dict]     # "vrp_file" / "routes_file" -> Loaded.to_dict()

    def lookup(self, address: str) -> dict[str, Any]:
        """The announced route holding the address (its prefix and origins, None for an AS set) and the
        VRPs covering that prefix; `route` None when no announced prefix holds it."""
        family, value = parse_address(address)
        found = self.routes.longest_match(family, value)
        if found is None:
            return {"route": None, "vrps": []}
        length, bits, origins = found
        covering = self.vrps.covering(family, length, bits)
        vrps = [{"prefix": show_prefix(family, vrp_length, vrp_bits), "max_length": packed >> AS_BITS,
                 "asn": packed & ((1 << AS_BITS) - 1)} for vrp_length, vrp_bits, packed in covering]
        return {"route": {"prefix": show_prefix(family, length, bits),
                          "origins": [origin or None for origin in origins]}, "vrps": vrps}


def _file_key(path: Path) -> tuple:
    try:
        stat = path.stat()
        return str(path.resolve()), stat.st_size, stat.st_mtime_ns
    except OSError:
        return str(path), None, None


@functools.lru_cache(maxsize=1)
def _load(vrp_key: tuple, routes_key: tuple, max_file_bytes: int, max_entries: int) -> RpkiTables:
    limit = RpkiSettings(max_file_bytes=max_file_bytes, max_entries=max_entries)
    vrps, vrp_file = read_vrps(Path(vrp_key[0]), limit)
    routes, routes_file = read_routes(Path(routes_key[0]), limit)
    return RpkiTables(routes, vrps, {"vrp_file": vrp_file.to_dict(), "routes_file": routes_file.to_dict()})


def load_tables(settings: RpkiSettings) -> RpkiTables | None:
    """Both files read and indexed (the last tables again while the files and bounds are unchanged); None
    when either is not configured."""
    if not settings.vrp_file or not settings.routes_file:
        return None
    return _load(_file_key(Path(settings.vrp_file)), _file_key(Path(settings.routes_file)),
                 settings.max_file_bytes, settings.max_entries)


def addresses_to_look_up(prior: dict) -> list[str]:
    """The host's addresses (dns), its zone's name servers' (nameservers) and its MX hosts' (mail), from
    whichever of those artifacts the run collected."""
    data = {name: artifact.data for name, artifact in prior.items() if artifact.ok}
    holders = [data["dns"]] if "dns" in data else []
    holders += data.get("nameservers", {}).get("nameservers", []) + data.get("mail", {}).get("mx_hosts", [])
    found = [address for holder in holders for address in holder.get("ipv4", []) + holder.get("ipv6", [])]
    return list(dict.fromkeys(found))


class RpkiProbe(Probe):
    name = "rpki"
    version = 1
    after = ("nameservers", "mail")

    def __init__(self):
        self.tables: RpkiTables | None = None

    async def setup(self, ctx: ProbeContext) -> None:
        self.tables = await ctx.in_thread(load_tables, ctx.settings.rpki)

    async def collect(self, ctx: ProbeContext, site: Site, address, prior) -> dict[str, Any]:
        settings = ctx.settings.rpki
        if self.tables is None:
            return {"configured": False,
                    "missing": [name for name in ("vrp_file", "routes_file") if not getattr(settings, name)]}
        lookups = {}
        for found in addresses_to_look_up(prior):
            try:
                lookups[found] = self.tables.lookup(found)
            except ValueError:  # not an address: the artifacts hold only what the resolver parsed
                continue
        return {"configured": True, "files": self.tables.files, "lookups": lookups}
