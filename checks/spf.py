"""SPF (RFC 7208): the record grammar, and check_host() as it goes for a sender the record does not list.

govscan judges a domain's policy, not one message. It evaluates check_host() (RFC 7208 section 4) for mail
from postmaster@<domain>, announced with HELO <domain>, sent from an address that no ip4, ip6, a, mx or ptr
mechanism of the tree lists: any address a forger would use. The result is the policy's answer to a forger:
`fail` (-all) and `softfail` (~all) protect the domain, `neutral` and `pass` do not, `none` means there is no
policy, and `permerror` or `temperror` mean that receivers cannot apply it at all.

The same evaluation runs twice. In the mail probe (scanner/probes/mail.py) it is driven against live DNS: it
yields every DNS query it needs (`Query`), the probe sends back the answer and keeps it, and asks each query
once. In mail.spf (checks/mail.py) it runs again over the stored answers (`evaluate`), so the verdict comes
from the facts alone and a changed rule can be applied to an old scan. Its limits are therefore the probe's
bounds too: however the includes branch, repeat or loop, one evaluation asks at most 21 queries (the
domain's TXT records, then one for each of at most 10 lookup terms, two for an `a`: A and AAAA).

What is implemented, by section of RFC 7208:

- 4.5 record selection: the TXT records (strings joined without a separator, 3.3) that begin with `v=spf1`,
  in any case, followed by a space or the end. None gives `none`, more than one `permerror`.
- 4.6 and 12, the grammar: a record is parsed whole before anything of it is evaluated, and any fault is a
  `permerror` whose reason names the term and the rule. Terms are separated by spaces and consist of visible
  ASCII only. A term is a modifier when it starts with `name=`, else a directive: an optional qualifier and
  one of the eight mechanisms with exactly the arguments section 5 gives it. An ip4-network is four decimal
  numbers 0-255 without leading zeros, an ip6-network an RFC 4291 address; a prefix length has no leading
  zero and is at most 32 (IPv4) or 128 (IPv6). A domain-spec is a macro-string that ends in `.toplabel` (a
  label that is not all digits and neither starts nor ends with a dash) or in a macro. `redirect` and `exp`
  appear at most once each (6); unknown modifiers are ignored but need a valid macro-string.
- 4.6.4, the limits, counted over the whole evaluation tree however it branches or repeats: at most 10
  terms that cost a DNS lookup (include, a, mx, ptr, exists, redirect; the 11th is a `permerror` before its
  query is sent), at most 2 void lookups (a term whose query is answered NXDOMAIN or without records;
  counted for IPv4 and for IPv6 senders separately, since `a` asks for A records for one and AAAA for the
  other), at most 10 MX records for an `mx`. A domain that includes or redirects to a domain that is still
  being evaluated loops: `permerror`. A shared include ("diamond") is evaluated again each time, as receivers
  do, and its lookups count again, but it is fetched once.
- 5, the mechanisms, in order until one matches: `all` matches; `include` matches when the included
  domain's result is `pass` (`none` or `permerror` there is a `permerror`, `temperror` a `temperror`);
  `exists` matches when its name has an A record; ip4, ip6, a, mx and ptr do not match this sender.
  Mechanisms after `all` are not evaluated, and neither is `redirect` when there is an `all` (6.1).
- 6, the modifiers: `redirect` is followed when no mechanism matched; a target without an SPF record is a
  `permerror`. `exp` only explains a fail to a sender and is not fetched.
- 7, the macros: a target is expanded with %{d} (the domain being evaluated), %{o} and %{h} (the domain
  itself: the sender postmaster@<domain> with HELO <domain>), with their transformers (a number of parts,
  `r`, delimiters), URL escaping for upper-case letters, %%, %_ and %-; the trailing dot is dropped and a
  name over 253 characters loses labels on the left. A name that cannot be looked up (an empty label, or
  one over 63 characters) is a `permerror`.

Any DNS error or timeout is a `temperror`. Not evaluated, and said so in the outcome's `notes` rather than
guessed: a target that needs the sender's address or local part (%{i}, %{p}, %{v}, %{s}, %{l}), whose term
counts its lookup but is not followed, and `ptr`, which needs the sender's address (and which 5.5 asks
not to use). A `redirect` to such a target leaves the result `unknown`.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Generator
from urllib.parse import quote

from govscan.model import Text

MAX_LOOKUPS = 10  # 4.6.4: terms that cost a DNS lookup, per evaluation
MAX_VOID_LOOKUPS = 2  # 4.6.4: lookups answered NXDOMAIN or without records
MAX_MX_RECORDS = 10  # 4.6.4: MX records one `mx` may look at
MAX_NAME_LENGTH = 253  # 7.3: longer expanded names lose labels on the left
SHOWN_CHARACTERS = 80  # of a term or value quoted in a reason

MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
RESULTS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
DOMAIN_MACRO_LETTERS = "slodiphv"  # 7.3: c, r and t only in exp text
MACRO_LETTERS = DOMAIN_MACRO_LETTERS + "crt"
SENDERS = {"IPv4": "A", "IPv6": "AAAA"}  # an `a` asks for the sender's own address type
ARGUMENTS = {"include": "include:<domain>", "exists": "exists:<domain>", "ptr": "ptr[:<domain>]",
             "a": "a[:<domain>][/<prefix>][//<prefix>]", "mx": "mx[:<domain>][/<prefix>][//<prefix>]",
             "ip4": "ip4:<IPv4 address>[/<prefix>]", "ip6": "ip6:<IPv6 address>[/<prefix>]"}

MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*)=(.*)", re.S)
DIRECTIVE = re.compile(r"([+?~-]?)([A-Za-z][A-Za-z0-9]*)(.*)", re.S)
MACRO = re.compile(r"%(?:\{([A-Za-z])([0-9]*)([rR]?)([.+,/_=-]*)\}|[%_-])")
DOMAIN_AND_CIDR = re.compile(r"(?::(.*?))?(/[0-9]+)?(//[0-9]+)?", re.S)  # a, mx
QNUM = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
IP4_NETWORK = re.compile(rf"{QNUM}(?:\.{QNUM}){{3}}")
IP6_CHARACTERS = re.compile(r"[0-9A-Fa-f:.]+")
TOPLABEL = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9]")


def shown(text: str) -> str:
    """A term or value as a reason quotes it: invisible and non-ASCII characters escaped, long ones cut."""
    visible = "".join(c if " " <= c <= "~" else f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}"
                      for c in text[:SHOWN_CHARACTERS])
    return visible + ("..." if len(text) > SHOWN_CHARACTERS else "")


class SpfError(Exception):
    """An evaluation that ends in an error result: `text` says why, in Dutch and English."""

    def __init__(self, nl: str, en: str):
        super().__init__(en)
        self.text = Text(nl, en)


class PermError(SpfError):
    """The policy cannot be applied (RFC 7208 2.6.7)."""

    def within(self, domain: str) -> PermError:
        return PermError(f"in het SPF-record van {domain}: {self.text.nl}",
                         f"in the SPF record of {domain}: {self.text.en}")


class TempError(SpfError):
    """A DNS error or timeout (RFC 7208 2.6.6)."""


# --- the grammar --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mechanism:
    text: str  # as written
    qualifier: str  # + - ~ ?
    name: str  # lower case
    target: tuple | None = None  # the domain-spec's macro_parts (include, a, mx, ptr, exists), if given


@dataclass(frozen=True)
class Record:
    mechanisms: tuple[Mechanism, ...]
    redirect: tuple | None  # the redirect modifier's macro_parts
    redirect_text: str = ""


def is_spf_record(text: str) -> bool:
    """4.5: begins with the version `v=spf1` (any case), ended by a space or the end of the record."""
    return text[:6].lower() == "v=spf1" and text[6:7] in ("", " ")


def spf_records(texts: list[str]) -> list[str]:
    return [text for text in texts if is_spf_record(text)]


def parse(record: str) -> Record:
    """The mechanisms and modifiers of one SPF record (the ABNF of section 12), or PermError for its first
    fault."""
    mechanisms: list[Mechanism] = []
    modifiers: dict[str, tuple[str, tuple]] = {}
    for term in filter(None, record.split(" ")[1:]):
        invalid = next((c for c in term if not "!" <= c <= "~"), None)
        if invalid is not None:
            raise PermError(f"'{shown(term)}' bevat het teken U+{ord(invalid):04X}; een term bestaat uit zichtbare "
                            "ASCII-tekens en termen worden door spaties gescheiden",
                            f"'{shown(term)}' contains the character U+{ord(invalid):04X}; a term consists of "
                            "visible ASCII characters and terms are separated by spaces")
        modifier = MODIFIER.fullmatch(term)
        if modifier is None:
            mechanisms.append(parse_mechanism(term))
            continue
        name, value = modifier[1].lower(), modifier[2]
        if name in ("redirect", "exp"):
            if name in modifiers:
                raise PermError(f"het record heeft {name}= meer dan eens (RFC 7208 6)",
                                f"the record has {name}= more than once (RFC 7208 6)")
            modifiers[name] = (term, domain_spec(value, term))
        else:
            macro_parts(value, MACRO_LETTERS, term)  # unknown modifiers are ignored, but must parse (6)
    redirect_text, redirect = modifiers.get("redirect", ("", None))
    return Record(tuple(mechanisms), redirect, redirect_text)


def parse_mechanism(term: str) -> Mechanism:
    directive = DIRECTIVE.fullmatch(term)
    if directive is None:
        raise PermError(f"'{shown(term)}' is geen mechanisme en geen modifier",
                        f"'{shown(term)}' is neither a mechanism nor a modifier")
    qualifier, name, rest = directive[1] or "+", directive[2].lower(), directive[3]
    if name not in MECHANISMS:
        hint_nl = f" ({name} is een modifier: {name}=...)" if name in ("redirect", "exp") else ""
        hint_en = f" ({name} is a modifier: {name}=...)" if name in ("redirect", "exp") else ""
        where = "" if term.lstrip("+-~?") == name else f" in '{shown(term)}'"
        raise PermError(f"onbekend mechanisme '{shown(name)}'{where}{hint_nl}",
                        f"unknown mechanism '{shown(name)}'{where}{hint_en}")
    if name == "all":
        if rest:
            raise PermError(f"'{shown(term)}': all heeft geen argument", f"'{shown(term)}': all takes no argument")
        return Mechanism(term, qualifier, name)
    if name in ("ip4", "ip6"):
        check_network(name, rest, term)
        return Mechanism(term, qualifier, name)
    if name in ("a", "mx"):
        parts = DOMAIN_AND_CIDR.fullmatch(rest)
        if parts is None:
            raise wrong_form(name, term)
        spec, ip4_prefix, ip6_prefix = parts.groups()
        if ip4_prefix:
            check_prefix(ip4_prefix[1:], 32, term)
        if ip6_prefix:
            check_prefix(ip6_prefix[2:], 128, term)
    elif rest.startswith(":"):
        spec = rest[1:]
    elif rest or name != "ptr":  # include and exists need a domain; ptr takes nothing else
        raise wrong_form(name, term)
    else:
        spec = None
    return Mechanism(term, qualifier, name, None if spec is None else domain_spec(spec, term))


def wrong_form(name: str, term: str) -> PermError:
    return PermError(f"'{shown(term)}': de vorm is {ARGUMENTS[name]}",
                     f"'{shown(term)}': the form is {ARGUMENTS[name]}")


def check_network(name: str, rest: str, term: str) -> None:
    """5.6: ip4-network or ip6-network, with an optional prefix length."""
    if not rest.startswith(":") or len(rest) == 1:
        raise wrong_form(name, term)
    network, slash, prefix = rest[1:].partition("/")
    if name == "ip4":
        valid = IP4_NETWORK.fullmatch(network) is not None
    else:
        try:
            valid = IP6_CHARACTERS.fullmatch(network) is not None and bool(ipaddress.IPv6Address(network))
        except ValueError:
            valid = False
    if not valid:
        kind, rule_nl, rule_en = (("IPv4", " (vier getallen 0-255 zonder voorloopnullen)",
                                   " (four numbers 0-255 without leading zeros)") if name == "ip4"
                                  else ("IPv6", "", ""))
        raise PermError(f"'{shown(network)}' in '{shown(term)}' is geen {kind}-adres{rule_nl}",
                        f"'{shown(network)}' in '{shown(term)}' is not an {kind} address{rule_en}")
    if slash:
        check_prefix(prefix, 32 if name == "ip4" else 128, term)


def check_prefix(digits: str, maximum: int, term: str) -> None:
    """ip4-cidr-length and ip6-cidr-length: digits without a leading zero, at most `maximum`."""
    if not digits.isascii() or not digits.isdigit():
        raise PermError(f"'{shown(term)}': '/{shown(digits)}' is geen prefixlengte",
                        f"'{shown(term)}': '/{shown(digits)}' is not a prefix length")
    if len(digits) > 1 and digits[0] == "0":
        raise PermError(f"'{shown(term)}': prefixlengte /{shown(digits)} heeft een voorloopnul",
                        f"'{shown(term)}': prefix length /{shown(digits)} has a leading zero")
    if int(digits) > maximum:
        raise PermError(f"'{shown(term)}': prefixlengte /{shown(digits)} is groter dan {maximum}",
                        f"'{shown(term)}': prefix length /{shown(digits)} is over {maximum}")


def macro_parts(spec: str, letters: str, term: str) -> tuple:
    """A macro-string (7.1) as its literal text and macro-expand matches; PermError for a '%' that starts no
    macro, a letter not allowed here, or a zero number of parts."""
    parts: list = []
    i = 0
    while i < len(spec):
        if spec[i] != "%":
            end = spec.find("%", i)
            end = len(spec) if end < 0 else end
            parts.append(spec[i:end])
            i = end
            continue
        macro = MACRO.match(spec, i)
        if macro is None:
            raise PermError(f"'{shown(term)}': '{shown(spec[i:i + 6])}' is geen macro (%{{letter}}, %%, %_ of %-)",
                            f"'{shown(term)}': '{shown(spec[i:i + 6])}' is not a macro (%{{letter}}, %%, %_ or %-)")
        letter, digits = macro[1], macro[2]
        if letter is not None and letter.lower() not in letters:
            raise PermError(f"'{shown(term)}': %{{{letter}}} is hier geen macroletter (s, l, o, d, i, p, h, v; c, r "
                            "en t alleen in exp-tekst)",
                            f"'{shown(term)}': %{{{letter}}} is not a macro letter here (s, l, o, d, i, p, h, v; c, r "
                            "and t only in exp text)")
        if digits and int(digits) == 0:
            raise PermError(f"'{shown(term)}': het aantal delen in {macro[0]} mag geen 0 zijn",
                            f"'{shown(term)}': the number of parts in {macro[0]} must not be 0")
        parts.append(macro)
        i = macro.end()
    return tuple(parts)


def domain_spec(spec: str, term: str) -> tuple:
    """7.1: domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] ) / macro-expand."""
    if not spec:
        raise PermError(f"'{shown(term)}' noemt geen domein", f"'{shown(term)}' names no domain")
    parts = macro_parts(spec, DOMAIN_MACRO_LETTERS, term)
    if isinstance(parts[-1], str):
        tail = parts[-1][:-1] if parts[-1].endswith(".") else parts[-1]
        _, dot, toplabel = tail.rpartition(".")
        if not dot or TOPLABEL.fullmatch(toplabel) is None:
            raise PermError(f"'{shown(term)}': '{shown(spec)}' eindigt niet op een topniveaulabel (niet alleen "
                            "cijfers, geen streepje vooraan of achteraan) of een macro (RFC 7208 7.1)",
                            f"'{shown(term)}': '{shown(spec)}' does not end in a top-level label (not all digits, "
                            "no dash at either end) or a macro (RFC 7208 7.1)")
    return parts


def expand(parts: tuple, domain: str, own: str) -> str | None:
    """7.3: the macro-string with %{d} = `domain`, %{o} = %{h} = `own`; None when it needs the sender's address
    or local part."""
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        if part[1] is None:
            out.append({"%%": "%", "%_": " ", "%-": "%20"}[part[0]])
            continue
        letter, digits, reverse, delimiters = part.groups()
        value = {"d": domain, "o": own, "h": own}.get(letter.lower())
        if value is None:
            return None
        pieces = re.split("[" + re.escape(delimiters or ".") + "]", value)
        if reverse:
            pieces.reverse()
        if digits:
            pieces = pieces[-int(digits):]
        value = ".".join(pieces)
        out.append(quote(value, safe="") if letter.isupper() else value)
    return "".join(out)


def needed_letters(parts: tuple) -> str:
    return ", ".join(sorted({f"%{{{p[1].lower()}}}" for p in parts
                             if not isinstance(p, str) and p[1] and p[1].lower() not in "doh"}))


def target_name(expanded: str, term: str) -> str:
    """The name to look up (7.3): without the trailing dot, labels dropped on the left past 253 characters."""
    name = expanded[:-1] if expanded.endswith(".") else expanded
    while len(name) > MAX_NAME_LENGTH and "." in name:
        name = name.split(".", 1)[1]
    if len(name) > MAX_NAME_LENGTH or any(not 0 < len(label) <= 63 for label in name.split(".")):
        raise PermError(f"'{shown(term)}': '{shown(name)}' is geen domeinnaam (labels van 1 tot 63 tekens)",
                        f"'{shown(term)}': '{shown(name)}' is not a domain name (labels of 1 to 63 characters)")
    return name.lower()


# --- the evaluation -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Query:
    """One DNS question: `type` TXT, A, AAAA or MX; `name` in lower case without the final dot. Its answer is
    {"rcode": "NOERROR" | "NXDOMAIN", "records": [...]} (TXT strings joined, MX host names, addresses), or
    {"error": why}."""

    type: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.type} {self.name}"


@dataclass(frozen=True)
class Outcome:
    """What the unlisted sender gets (RFC 7208 2.6, or `unknown`), from which term of which domain's record
    (`term` None: the default neutral, or an error), and the evaluation's costs and records."""

    result: str
    term: str | None
    where: str
    reason: Text | None
    lookups: int
    void_lookups: dict[str, int]
    records: dict[str, str]  # every SPF record evaluated, by domain
    notes: list[str]


@dataclass
class Walk:
    """One evaluation: one lookup counter, the void lookups per sender family and the domains being evaluated
    (for loops), for the whole tree."""

    domain: str
    lookups: int = 0
    voids: dict[str, list[str]] = field(default_factory=lambda: {family: [] for family in SENDERS})
    records: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    chain: list[str] = field(default_factory=list)

    def ask(self, query: Query) -> Generator[Query, dict, dict]:
        answer = yield query
        if "error" in answer or answer["rcode"] not in ("NOERROR", "NXDOMAIN"):
            why = answer.get("error") or answer["rcode"]
            raise TempError(f"de DNS-opvraging {query.key} mislukte: {why}",
                            f"the DNS lookup {query.key} failed: {why}")
        return answer

    def check_host(self, domain: str) -> Generator[Query, dict, tuple[str, str | None, str]]:
        """(result, deciding term, domain of its record) of `domain`'s policy for the unlisted sender."""
        records = spf_records((yield from self.ask(Query("TXT", domain)))["records"])
        if not records:
            return "none", None, domain
        if len(records) > 1:
            raise PermError(f"{domain} heeft {len(records)} SPF-records; er mag er één zijn",
                            f"{domain} has {len(records)} SPF records; there must be one")
        try:
            record = parse(records[0])
        except PermError as error:
            raise error.within(domain) from None
        self.records.setdefault(domain, records[0])
        self.chain.append(domain)
        try:
            for mechanism in record.mechanisms:  # `all` always matches: what follows it is never reached
                if (yield from self.matches(mechanism, domain)):
                    return RESULTS[mechanism.qualifier], mechanism.text, domain
            if record.redirect is None:
                return "neutral", None, domain
            return (yield from self.redirect(record, domain))
        finally:
            self.chain.pop()

    def count(self, term: str, domain: str) -> None:
        """One more term that costs a DNS lookup; the 11th is refused (and not counted as made)."""
        if self.lookups == MAX_LOOKUPS:
            raise PermError(f"meer dan {MAX_LOOKUPS} DNS-opvragingen (include, a, mx, ptr, exists, redirect): de "
                            f"{MAX_LOOKUPS + 1}e is '{shown(term)}' in het record van {domain}",
                            f"more than {MAX_LOOKUPS} DNS lookups (include, a, mx, ptr, exists, redirect): number "
                            f"{MAX_LOOKUPS + 1} is '{shown(term)}' in the record of {domain}")
        self.lookups += 1

    def target(self, parts: tuple | None, term: str, domain: str) -> str | None:
        """The name a term looks up, or None (noted) when it needs what only a real sender gives."""
        if parts is None:
            return domain
        expanded = expand(parts, domain, self.domain)
        if expanded is None:
            self.notes.append(f"'{shown(term)}' in the record of {domain} depends on the sender "
                              f"({needed_letters(parts)}): not evaluated")
            return None
        return target_name(expanded, term)

    def lookup(self, query: Query, term: str, families) -> Generator[Query, dict, list[str]]:
        """The records of a term's query; a void answer counts against the senders of `families`."""
        answer = yield from self.ask(query)
        if not answer["records"]:
            found = "NXDOMAIN" if answer["rcode"] == "NXDOMAIN" else f"no {query.type}"
            for family in families:
                self.voids[family].append(f"{term} ({found})")
                if len(self.voids[family]) > MAX_VOID_LOOKUPS:
                    voids = ", ".join(shown(v) for v in self.voids[family])
                    raise PermError(f"meer dan {MAX_VOID_LOOKUPS} lege opvragingen (NXDOMAIN of geen records) voor "
                                    f"afzenders over {family}: {voids}",
                                    f"more than {MAX_VOID_LOOKUPS} void lookups (NXDOMAIN or no records) for senders "
                                    f"over {family}: {voids}")
        return answer["records"]

    def matches(self, mechanism: Mechanism, domain: str) -> Generator[Query, dict, bool]:
        name, term = mechanism.name, mechanism.text
        if name == "all":
            return True
        if name in ("ip4", "ip6"):
            return False
        self.count(term, domain)
        target = self.target(mechanism.target, term, domain)
        if target is None:
            return False
        if name == "ptr":
            self.notes.append(f"'{shown(term)}' in the record of {domain} depends on the sender's address: not "
                              "evaluated (RFC 7208 5.5: ptr should not be used)")
            return False
        if name == "include":
            return (yield from self.follow(target, term, domain))[0] == "pass"
        if name == "exists":
            return bool((yield from self.lookup(Query("A", target), term, SENDERS)))
        if name == "a":
            for family, rtype in SENDERS.items():
                yield from self.lookup(Query(rtype, target), term, (family,))
            return False
        exchanges = yield from self.lookup(Query("MX", target), term, SENDERS)
        if len(exchanges) > MAX_MX_RECORDS:
            raise PermError(f"'{shown(term)}': {target} heeft {len(exchanges)} MX-records, meer dan {MAX_MX_RECORDS}",
                            f"'{shown(term)}': {target} has {len(exchanges)} MX records, more than {MAX_MX_RECORDS}")
        return False

    def follow(self, target: str, term: str, domain: str) -> Generator[Query, dict, tuple[str, str | None, str]]:
        """The outcome of an include or redirect target (5.2, 6.1): its own check_host()."""
        if target in self.chain:
            raise PermError(f"'{shown(term)}' in het record van {domain} verwijst naar {target}, dat al wordt "
                            "geëvalueerd: een lus",
                            f"'{shown(term)}' in the record of {domain} leads back to {target}, which is already "
                            "being evaluated: a loop")
        found = yield from self.check_host(target)
        if found[0] == "none":
            raise PermError(f"'{shown(term)}' in het record van {domain}: {target} heeft geen SPF-record",
                            f"'{shown(term)}' in the record of {domain}: {target} has no SPF record")
        return found

    def redirect(self, record: Record, domain: str) -> Generator[Query, dict, tuple[str, str | None, str]]:
        self.count(record.redirect_text, domain)
        target = self.target(record.redirect, record.redirect_text, domain)
        if target is None:
            return "unknown", record.redirect_text, domain
        return (yield from self.follow(target, record.redirect_text, domain))


def records_at(domain: str, answers: dict[str, dict]) -> list[str]:
    """The SPF records among the domain's own TXT records, as collected."""
    return spf_records(answers.get(Query("TXT", domain.lower().rstrip(".")).key, {}).get("records", []))


def evaluation(domain: str) -> Generator[Query, dict, Outcome]:
    """check_host() of `domain` for the unlisted sender: yields each DNS query, is sent its answer, returns
    the outcome."""
    walk = Walk(domain.lower().rstrip("."))
    reason = None
    try:
        result, term, where = yield from walk.check_host(walk.domain)
    except SpfError as error:
        result = "permerror" if isinstance(error, PermError) else "temperror"
        term, where, reason = None, walk.domain, error.text
    return Outcome(result, term, where, reason, walk.lookups, {f: len(v) for f, v in walk.voids.items()},
                   walk.records, walk.notes)


def evaluate(domain: str, answers: dict[str, dict]) -> Outcome:
    """The evaluation over stored answers; a query without one is a `temperror` (not collected)."""
    steps = evaluation(domain)
    query = next(steps)
    while True:
        answer = answers.get(query.key, {"error": "not collected (a scan by an older govscan)"})
        try:
            query = steps.send(answer)
        except StopIteration as done:
            return done.value
