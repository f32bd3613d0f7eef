"""DMARC (RFC 7489): which policy record applies to a mail domain (6.6.3), and what it asks (6.3, 6.4).

Discovery (6.6.3), over the TXT records the mail probe collected at `_dmarc.<domain>` and at
`_dmarc.<organisational domain>`:

- a DMARC record is a TXT record that begins, without leading whitespace, with the version tag of 6.4:
  `v`, optional spaces or tabs, `=`, optional spaces or tabs, exactly `DMARC1`, then `;` or the end. Other
  TXT records at the name are discarded (a record with a leading space is discarded, not repaired);
- exactly one DMARC record at `_dmarc.<domain>` applies; more than one means receivers apply no DMARC;
- none at `_dmarc.<domain>` (NXDOMAIN, or no DMARC record among the TXT records): the record at
  `_dmarc.<organisational domain>` applies, by the same rules. The organisational domain is the public
  suffix list's registrable domain (3.2), private section included: `gov.nl` is a public suffix, so
  `x.gov.nl` is its own organisational domain and `_dmarc.gov.nl` never speaks for it;
- a DNS error or timeout is no answer: discovery stops there (`DnsError`).

The record (6.3, 6.4, with the tag-list of DKIM, RFC 6376 3.2, which 6.3 refers to). These make it invalid,
so that receivers apply no policy (or at most p=none, 6.6.3):
- a tag that is not `name=value` (a name of a letter followed by letters, digits or `_`; a value of visible
  characters other than `;`, possibly with spaces or tabs inside), or an empty tag between two `;`;
- a tag that appears twice (names compared case-insensitively);
- no `p`, a `p` that does not directly follow `v` (6.3: "MUST appear in that order", the ABNF puts it
  second), a `p` or an `sp` that is not none, quarantine or reject (any case).
Other registered tags with a value outside their grammar (adkim, aspf, fo, pct, rf, ri, rua, ruf, and
DMARCbis's np and t) are ignored by receivers, who use the default (6.3): they are reported as notes, as are
unknown tags.

The policy that applies to mail from the domain is `p`, or `sp` when the record was found at the
organisational domain and has one (6.3: sp is the policy for its subdomains).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from checks.spf import shown
from govscan.model import Text

POLICIES = ("none", "quarantine", "reject")
VERSION = re.compile(r"[vV][ \t]*=[ \t]*DMARC1[ \t]*(?:;|$)")
TAG = re.compile(r"([A-Za-z][A-Za-z0-9_]*)[ \t]*=[ \t]*(.*)", re.S)
VALUE = re.compile(r"[!-:<-~]+(?:[ \t]+[!-:<-~]+)*")
URI = r"[A-Za-z][A-Za-z0-9+.-]*:[^\s,!;]+(?:![0-9]+[kmgtKMGT]?)?"  # RFC 3986 scheme ":" ..., optional size limit
KEYWORD = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"  # RFC 5321 Keyword
OPTIONAL_TAGS = {  # 6.4 (np and t: DMARCbis), each value's grammar
    "adkim": r"[rs]", "aspf": r"[rs]",
    "fo": r"[01ds](?:[ \t]*:[ \t]*[01ds])*",
    "pct": r"[0-9]{1,3}",
    "rf": rf"{KEYWORD}(?:[ \t]*:[ \t]*{KEYWORD})*",
    "ri": r"[0-9]+",
    "rua": rf"{URI}(?:[ \t]*,[ \t]*{URI})*", "ruf": rf"{URI}(?:[ \t]*,[ \t]*{URI})*",
    "np": "none|quarantine|reject", "t": r"[yn]",
}


def is_dmarc_record(text: str) -> bool:
    return VERSION.match(text) is not None


class DnsError(Exception):
    """The TXT lookup of a `_dmarc` name failed: no answer, so no verdict (6.6.3: a transient error)."""


class Invalid(Exception):
    """The record breaks 6.3/6.4 so that receivers apply no policy: `text` says how."""

    def __init__(self, nl: str, en: str):
        super().__init__(en)
        self.text = Text(nl, en)


@dataclass
class Discovery:
    name: str  # the _dmarc name whose record applies, or the first one asked
    records: list[str]  # the DMARC records there
    at_organisational_domain: bool = False
    discarded: list[str] = field(default_factory=list)  # TXT records at the names asked that are not DMARC


def discover(domain: str, organisational: str, answers: dict[str, dict]) -> Discovery:
    """The DMARC records that apply to `domain` (6.6.3), from the answers at its _dmarc names."""
    first = f"_dmarc.{domain}"
    discarded: list[str] = []
    for where in dict.fromkeys((domain, organisational)):
        name = f"_dmarc.{where}"
        answer = answers.get(name, {"error": "not collected (a scan by an older govscan)"})
        if "error" in answer:
            raise DnsError(f"{name}: {answer['error']}")
        records = [text for text in answer["records"] if is_dmarc_record(text)]
        discarded += [text for text in answer["records"] if not is_dmarc_record(text)]
        if records:
            return Discovery(name, records, name != first, discarded)
    return Discovery(first, [], False, discarded)


@dataclass
class Policy:
    tags: dict[str, str]  # lower-case names, values as written
    notes: list[str]

    def value(self, tag: str) -> str | None:
        value = self.tags.get(tag)
        return value.lower() if value is not None else None


def parse(record: str) -> Policy:
    """The tags of one DMARC record, or Invalid for the first fault that voids it."""
    pieces = record.split(";")
    if len(pieces) > 1 and not pieces[-1].strip(" \t"):
        pieces.pop()  # one final ";" is allowed
    tags: dict[str, str] = {}
    for piece in pieces:
        spec = piece.strip(" \t")
        if not spec:
            raise Invalid("een lege tag tussen twee ';'", "an empty tag between two ';'")
        tag = TAG.fullmatch(spec)
        if tag is None or (tag[2] and VALUE.fullmatch(tag[2]) is None):
            raise Invalid(f"'{shown(spec)}' is geen tag (naam=waarde, met zichtbare tekens)",
                          f"'{shown(spec)}' is not a tag (name=value, in visible characters)")
        name = tag[1].lower()
        if name in tags:
            raise Invalid(f"de tag {name} staat er meer dan eens in", f"the tag {name} appears more than once")
        tags[name] = tag[2]
    if "p" not in tags:
        raise Invalid("de tag p (het beleid) ontbreekt", "the tag p (the policy) is missing")
    if list(tags)[1] != "p":
        raise Invalid("p moet direct na v=DMARC1 komen", "p must directly follow v=DMARC1")
    for name in ("p", "sp"):
        if name in tags and tags[name].lower() not in POLICIES:
            raise Invalid(f"{name}={shown(tags[name])} is niet none, quarantine of reject",
                          f"{name}={shown(tags[name])} is not none, quarantine or reject")
    notes = [f"{name}={shown(value)} is not valid: receivers ignore it and use the default (RFC 7489 6.3)"
             for name, value in tags.items() if name in OPTIONAL_TAGS
             and (re.fullmatch(OPTIONAL_TAGS[name], value, re.I) is None or name == "pct" and int(value) > 100)]
    unknown = [name for name in tags if name not in OPTIONAL_TAGS and name not in ("v", "p", "sp")]
    if unknown:
        notes.append(f"unknown tags are ignored (RFC 7489 6.3): {shown(', '.join(unknown))}")
    return Policy(tags, notes)
