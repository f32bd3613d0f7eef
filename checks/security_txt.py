"""security.txt (RFC 9116), per IP address: where it is served, how, and whether it follows the RFC's grammar.

Judged at the moment the file was fetched (the artifact's `fetched_at`), so re-evaluating an old artifact
gives the verdict of that day. Limits come from config/policy/web.toml. Every error and warning names its
line number (0: the file as a whole) and a stable `code`, so the fix can be found in the file.

Where and how it is served:
- `fail` when neither /.well-known/security.txt nor /security.txt answers 200; `warn` when only
  /security.txt does.
- `fail` for a Content-Type other than text/plain; for a charset parameter that is not UTF-8 (compared
  case-insensitively with the names the IANA character-set registry gives UTF-8: `UTF-8` and its alias
  `csUTF8`; no parameter means UTF-8, RFC 2046 4.1.3); for more than `max_bytes`; for bytes that are not
  UTF-8; for a byte order mark (Net-Unicode, RFC 5198).

The grammar (RFC 9116 section 4), line by line. Lines end with LF, optionally preceded by CR and spaces or
tabs (`eol = *WSP [CR] LF`); each `fail`s with its line number:
- every line, the last one included, ends with a line break (`no_final_newline`);
- a line is empty, a comment (`#` in the first column, then only tabs, spaces, visible and non-ASCII
  characters), or a field: a name of printable ASCII other than `:` (RFC 5322 field-name: no spaces, also
  not before the colon), `:`, exactly one space, and a non-empty value (`Contact:mailto:...` fails);
- `Contact`, `Canonical`, `Acknowledgments`, `Encryption`, `Hiring`, `Policy` and `CSAF` hold a URI
  (RFC 3986 section 3: scheme, hier-part, query, fragment; no spaces or non-ASCII); a web URI must begin
  with `https://`, so an `http:` URI fails;
- `Expires` holds an RFC 3339 (5.6) date-time: `YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm|-hh:mm)`, `T` and
  `Z` in either case, every number in range (day within its month, second up to 60); nothing else (no
  space for `T`, no date alone, no offset-less time);
- `Preferred-Languages` holds language tags separated by commas (spaces or tabs around them allowed), each
  well-formed per the RFC 5646 (2.1) Language-Tag grammar (langtag, privateuse or grandfathered), and in
  use: a primary language subtag of 4 to 8 letters is reserved by RFC 5646 2.2.1 and none is registered,
  so `English` or `Invalid` fail where `en`, `NL` or `dut` pass;
- other fields hold RFC 5322 unstructured text (no control characters) and are otherwise ignored, as the
  RFC asks (section 2.4);
- at least one `Contact`; exactly one `Expires`, in the future; at most one `Preferred-Languages`.

A file that starts with `-----BEGIN PGP SIGNED MESSAGE-----` is an OpenPGP cleartext signature (RFC 4880
section 7): one or more `Hash:` armor headers, an empty line, the dash-escaped content (judged line by line as
above), `-----BEGIN PGP SIGNATURE-----`, armor headers, an empty line, base64 data whose CRC-24 checksum
line (when present) matches, `-----END PGP SIGNATURE-----`, and nothing after it. The signature itself is
not verified: govscan cannot know which key to trust. That header anywhere but on line 1 fails.

Warnings (the file is valid, but): `Expires` more than `expires_warn_days` ahead; no `Preferred-Languages`;
a signed file without `Canonical`; `Canonical` fields that do not include the URL the file was fetched from
(the URL asked for or, after redirects, the one that answered), compared after RFC 3986 6.2.2 normalisation
of scheme and host case and the default port.
"""
from __future__ import annotations

import base64
import binascii
import calendar
import datetime as dt
import ipaddress
import re
from urllib.parse import urlsplit

from checks.https import unmeasured
from checks.registry import Facts, check
from checks.web_policy import policy, version
from govscan.model import Reason, Status, Text, Verdict

WELL_KNOWN, LEGACY = "/.well-known/security.txt", "/security.txt"
SUMMARY_PROBLEMS = 5  # problems named in the one-line summary; the details list more
PGP_BEGIN, PGP_SIGNATURE, PGP_END = ("-----BEGIN PGP SIGNED MESSAGE-----", "-----BEGIN PGP SIGNATURE-----",
                                     "-----END PGP SIGNATURE-----")

# --- the grammars RFC 9116 imports --------------------------------------------------------------------------

FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")                       # RFC 5322 3.6.8 ftext
NOT_COMMENT_TEXT = re.compile("[^\t\x20-\x7e\x80-\U000FFFFF]")          # RFC 9116 comment
NOT_UNSTRUCTURED = re.compile("[^\t\x20-\x7e\x80-\U0010FFFF]")          # RFC 5322 3.2.5 with RFC 6532

# RFC 3986 section 3, built from its ABNF. An IP-literal is checked apart (IPv6address or IPvFuture).
_UNRESERVED, _SUB_DELIMS, _PCT = r"A-Za-z0-9\-._~", r"!$&'()*+,;=", r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_SEGMENTS = rf"(?:/{_PCHAR}*)*"
_AUTHORITY = (rf"(?:(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*@)?"
              rf"(?P<host>\[[^\]]*\]|(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*)(?::[0-9]*)?")
URI = re.compile(rf"[A-Za-z][A-Za-z0-9+\-.]*:"
                 rf"(?://{_AUTHORITY}{_SEGMENTS}|/(?:{_PCHAR}+{_SEGMENTS})?|{_PCHAR}+{_SEGMENTS}|)"
                 rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?")
_TOKEN = r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+"                                  # RFC 2045 token
HASH_HEADER = re.compile(rf"Hash: {_TOKEN}(?:,{_TOKEN})*")                # RFC 9116 hash-header
ARMOR_HEADER = re.compile(rf"{_TOKEN}: [\x20-\x7e\t]*")                    # RFC 9116 armor-keys
IP_FUTURE = re.compile(rf"v[0-9A-Fa-f]+\.[{_UNRESERVED}{_SUB_DELIMS}:]+")

# RFC 3339 5.6 date-time; "T" and "Z" may be lower case (5.6, NOTE).
DATE_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))")

# RFC 5646 2.1 Language-Tag (case-insensitive).
_LANGTAG = (r"(?P<language>[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})(?:-[a-z]{4})?(?:-(?:[a-z]{2}|[0-9]{3}))?"
            r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*(?:-x(?:-[a-z0-9]{1,8})+)?")
_PRIVATEUSE = r"x(?:-[a-z0-9]{1,8})+"
_GRANDFATHERED = ("en-gb-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn|"
                  "i-tao|i-tay|i-tsu|sgn-be-fr|sgn-be-nl|sgn-ch-de|art-lojban|cel-gaulish|no-bok|no-nyn|"
                  "zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang")
LANGUAGE_TAG = re.compile(rf"{_GRANDFATHERED}|{_PRIVATEUSE}|{_LANGTAG}", re.IGNORECASE | re.ASCII)

# Fields RFC 9116 (and its IANA registry: CSAF) defines with a URI value.
URI_FIELDS = ("acknowledgments", "canonical", "contact", "csaf", "encryption", "hiring", "policy")


def is_uri(value: str) -> bool:
    """RFC 3986 section 3 `URI`."""
    match = URI.fullmatch(value)
    if not match:
        return False
    host = match.group("host") or ""
    if host.startswith("["):
        inner = host[1:-1]
        if IP_FUTURE.fullmatch(inner):
            return True
        try:
            return "%" not in inner and bool(ipaddress.IPv6Address(inner))
        except ValueError:
            return False
    return True


def parse_date_time(value: str) -> dt.datetime | None:
    """An RFC 3339 date-time as an aware datetime (a leap second read as :59), or None."""
    match = DATE_TIME.fullmatch(value)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(max(year, 1), month)[1] and hour <= 23
            and minute <= 59 and second <= 60):
        return None
    if match.group(8):
        offset = dt.timedelta(0)
    else:
        off_hour, off_minute = int(match.group(10)), int(match.group(11))
        if off_hour > 23 or off_minute > 59:
            return None
        offset = dt.timedelta(hours=off_hour, minutes=off_minute) * (-1 if match.group(9) == "-" else 1)
    return dt.datetime(max(year, 1), month, day, hour, minute, min(second, 59), tzinfo=dt.timezone(offset))


def language_tag_problem(tag: str) -> str | None:
    """Why `tag` is not a usable RFC 5646 language tag (in English), or None when it is one."""
    match = LANGUAGE_TAG.fullmatch(tag)
    if not match:
        return "not a language tag (RFC 5646)"
    if match.group("language") and len(match.group("language").split("-")[0]) >= 4:
        return "its primary language subtag of 4 to 8 letters is reserved (RFC 5646 2.2.1): none is registered"
    return None


# --- problems -----------------------------------------------------------------------------------------------

class Problems:
    """Errors (the file fails) and warnings, each with a line number (0: the file as a whole) and a code."""

    def __init__(self):
        self.errors: list[dict] = []
        self.warnings: list[dict] = []

    def error(self, line: int, code: str, nl: str, en: str) -> None:
        self.errors.append({"line": line, "code": code, "nl": nl, "en": en})

    def warn(self, line: int, code: str, nl: str, en: str) -> None:
        self.warnings.append({"line": line, "code": code, "nl": nl, "en": en})


def _at(number: int) -> tuple[str, str]:
    return f"regel {number}", f"line {number}"


# --- the file -----------------------------------------------------------------------------------------------

def _lines(text: str) -> list[tuple[int, str]]:
    """(number, content) of every line, without its end of line (`*WSP [CR] LF`)."""
    raw = text.split("\n")
    if raw[-1] == "":
        raw.pop()
    return [(number, (line[:-1] if line.endswith("\r") else line).rstrip(" \t"))
            for number, line in enumerate(raw, start=1)]


def _unsign(lines: list[tuple[int, str]], problems: Problems) -> list[tuple[int, str]]:
    """The content lines of an OpenPGP cleartext-signed file (dash-escaping undone), checking its armor."""
    index, content = 1, []
    hashes = 0
    while index < len(lines) and lines[index][1]:
        number, line = lines[index]
        if HASH_HEADER.fullmatch(line):
            hashes += 1
        else:
            problems.error(number, "pgp_header", f"regel {number} is geen 'Hash:'-kopregel van de ondertekening",
                           f"line {number} is not a 'Hash:' armor header of the signature")
        index += 1
    if not hashes:
        problems.error(1, "pgp_header", "de ondertekening heeft geen 'Hash:'-kopregel",
                       "the signed message has no 'Hash:' armor header")
    index += 1  # the empty line
    while index < len(lines) and lines[index][1] != PGP_SIGNATURE:
        number, line = lines[index]
        content.append((number, line[2:] if line.startswith("- ") else line))
        index += 1
    if index >= len(lines):
        problems.error(0, "pgp_signature", f"het bestand is ondertekend maar {PGP_SIGNATURE} ontbreekt",
                       f"the file is signed but {PGP_SIGNATURE} is missing")
        return content
    _check_signature_block(lines, index + 1, problems)
    return content


def _check_signature_block(lines: list[tuple[int, str]], index: int, problems: Problems) -> None:
    """Armor headers, an empty line, base64 data with an optional CRC-24 line, the end line, nothing after."""
    while index < len(lines) and ARMOR_HEADER.fullmatch(lines[index][1]):
        index += 1
    if index < len(lines) and not lines[index][1]:
        index += 1  # the empty line after the armor headers
    data, checksum = [], None
    while index < len(lines) and lines[index][1] != PGP_END:
        number, line = lines[index]
        if re.fullmatch(r"=[A-Za-z0-9+/]{4}", line) and checksum is None:
            checksum = line[1:]
        elif re.fullmatch(r"[A-Za-z0-9+/=]+", line) and checksum is None:
            data.append(line)
        else:
            problems.error(number, "pgp_signature", f"regel {number} hoort niet in het ondertekeningsblok",
                           f"line {number} does not belong in the signature block")
            return
        index += 1
    if index >= len(lines):
        problems.error(0, "pgp_signature", f"{PGP_END} ontbreekt", f"{PGP_END} is missing")
        return
    try:
        signature = base64.b64decode("".join(data), validate=True)
        if checksum is not None and base64.b64decode(checksum) != _crc24(signature).to_bytes(3, "big"):
            raise ValueError("checksum")
    except (binascii.Error, ValueError):
        problems.error(lines[index][0], "pgp_signature", "de base64-gegevens van de ondertekening zijn beschadigd",
                       "the base64 data of the signature is damaged")
    if index + 1 < len(lines):
        number = lines[index + 1][0]
        problems.error(number, "after_signature", f"na {PGP_END} mag niets meer staan (regel {number})",
                       f"nothing may follow {PGP_END} (line {number})")


def _crc24(data: bytes) -> int:
    """The CRC-24 of OpenPGP ASCII armor (RFC 4880 6.1)."""
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def parse(text: str, now: dt.datetime, urls: list[str], problems: Problems) -> dict:
    """Check a security.txt's text against RFC 9116's grammar and rules; `urls` are the URLs the file was
    fetched from (for Canonical). Returns the fields found (lower-case name -> values) and whether it is
    signed."""
    if text.startswith("\ufeff"):
        problems.error(1, "bom", "het bestand begint met een byte order mark (BOM)",
                       "the file begins with a byte order mark (BOM)")
        text = text[1:]
    lines = _lines(text)
    if text and not text.endswith("\n"):
        number = len(lines)
        problems.error(number, "no_final_newline", f"de laatste regel ({number}) eindigt niet met een regeleinde",
                       f"the last line ({number}) does not end with a line break")
    signed = bool(lines) and lines[0][1] == PGP_BEGIN
    if signed:
        lines = _unsign(lines, problems)
    fields: dict[str, list[tuple[int, str]]] = {}
    for number, line in lines:
        found = _parse_line(number, line, problems)
        if found:
            fields.setdefault(found[0], []).append((number, found[1]))
    _check_fields(fields, now, urls, signed, problems)
    return {"fields": {name: [value for _, value in found] for name, found in fields.items()}, "signed": signed}


def _parse_line(number: int, line: str, problems: Problems) -> tuple[str, str] | None:
    """A field's (lower-case name, value) after checking its value's grammar; None for other lines."""
    nl_at, en_at = _at(number)
    if not line:
        return None
    if line.startswith("#"):
        if NOT_COMMENT_TEXT.search(line):
            problems.error(number, "invalid_comment", f"het commentaar op {nl_at} bevat een stuurteken",
                           f"the comment on {en_at} contains a control character")
        return None
    if line == PGP_BEGIN:
        problems.error(number, "pgp_header", f"{PGP_BEGIN} moet op regel 1 staan, niet op {nl_at}",
                       f"{PGP_BEGIN} must be on line 1, not on {en_at}")
        return None
    name, colon, rest = line.partition(":")
    if not colon:
        problems.error(number, "invalid_line", f"{nl_at} is geen veld ('Naam: waarde') en geen commentaar",
                       f"{en_at} is neither a field ('Name: value') nor a comment")
        return None
    if not FIELD_NAME.fullmatch(name):
        reason = ("de veldnaam is leeg", "the field name is empty") if not name else (
            f"de veldnaam {name!r} bevat spaties of tekens die niet mogen",
            f"the field name {name!r} contains spaces or characters that are not allowed")
        problems.error(number, "invalid_name", f"{nl_at}: {reason[0]}", f"{en_at}: {reason[1]}")
        return None
    if not rest:
        problems.error(number, "no_value", f"{name} op {nl_at} heeft geen waarde", f"{name} on {en_at} has no value")
        return None
    if not rest.startswith(" "):
        problems.error(number, "no_space", f"na '{name}:' moet een spatie staan ({nl_at})",
                       f"'{name}:' must be followed by a space ({en_at})")
    value, key = rest[1:] if rest.startswith(" ") else rest, name.lower()
    if key in URI_FIELDS:
        _check_uri(number, name, value, problems)
    elif key == "preferred-languages":
        _check_languages(number, value, problems)
    elif key != "expires" and NOT_UNSTRUCTURED.search(value):
        problems.error(number, "invalid_value", f"{name} op {nl_at} bevat een stuurteken",
                       f"{name} on {en_at} contains a control character")
    return key, value


def _check_uri(number: int, name: str, value: str, problems: Problems) -> None:
    nl_at, en_at = _at(number)
    if not is_uri(value):
        problems.error(number, "not_uri", f"{name} op {nl_at} is geen URI (RFC 3986): {value!r}",
                       f"{name} on {en_at} is not a URI (RFC 3986): {value!r}")
    elif value.lower().startswith("http:"):
        problems.error(number, "not_https", f"{name} op {nl_at} is een webadres zonder https://: {value!r}",
                       f"{name} on {en_at} is a web URI that does not begin with https://: {value!r}")


def _check_languages(number: int, value: str, problems: Problems) -> None:
    for tag in value.split(","):
        tag = tag.strip(" \t")
        reason = language_tag_problem(tag)
        if reason:
            problems.error(number, "invalid_language",
                           f"Preferred-Languages op regel {number}: {tag!r} is geen bruikbare taalcode (RFC 5646); "
                           "gebruik bijvoorbeeld nl of en",
                           f"Preferred-Languages on line {number}: {tag!r} is {reason}; use a code such as nl or en")


def _check_fields(fields: dict, now: dt.datetime, urls: list[str], signed: bool, problems: Problems) -> None:
    if not fields.get("contact"):
        problems.error(0, "no_contact", "er is geen Contact-veld", "there is no Contact field")
    expires = fields.get("expires", [])
    if not expires:
        problems.error(0, "no_expires", "er is geen Expires-veld", "there is no Expires field")
    for number, _ in expires[1:]:
        problems.error(number, "multiple_expires", f"Expires staat er meer dan eens (regel {number})",
                       f"Expires appears more than once (line {number})")
    if expires:
        _check_expires(*expires[0], now, problems)
    languages = fields.get("preferred-languages", [])
    for number, _ in languages[1:]:
        problems.error(number, "multiple_languages", f"Preferred-Languages staat er meer dan eens (regel {number})",
                       f"Preferred-Languages appears more than once (line {number})")
    if not languages:
        problems.warn(0, "no_languages", "Preferred-Languages ontbreekt", "Preferred-Languages is missing")
    canonical = fields.get("canonical", [])
    if signed and not canonical:
        problems.warn(0, "no_canonical", "het bestand is ondertekend maar heeft geen Canonical-veld",
                      "the file is signed but has no Canonical field")
    fetched = {_normal_url(url) for url in urls}
    if canonical and urls and not fetched & {_normal_url(value) for _, value in canonical}:
        problems.warn(canonical[0][0], "canonical_mismatch",
                      f"geen Canonical-veld noemt het adres waar het bestand stond ({urls[-1]})",
                      f"no Canonical field names the URL the file was fetched from ({urls[-1]})")


def _normal_url(url: str) -> str:
    """Scheme and host in lower case, without the scheme's default port (RFC 3986 6.2.2, 6.2.3)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    netloc = (parts.hostname or "") + ("" if port in (None, {"https": 443, "http": 80}.get(scheme)) else f":{port}")
    return parts._replace(scheme=scheme, netloc=netloc, path=parts.path or "/").geturl()


def _check_expires(number: int, value: str, now: dt.datetime, problems: Problems) -> None:
    expires = parse_date_time(value)
    if expires is None:
        problems.error(number, "invalid_expires",
                       f"Expires op regel {number} is geen datum-tijd volgens RFC 3339: {value!r}",
                       f"Expires on line {number} is not an RFC 3339 date-time: {value!r}")
        return
    if expires <= now:
        problems.error(number, "expired", f"het bestand is verlopen op {expires:%Y-%m-%d} (regel {number})",
                       f"the file expired on {expires:%Y-%m-%d} (line {number})")
    elif expires - now > dt.timedelta(days=policy()["security_txt"]["expires_warn_days"]):
        problems.warn(number, "expires_far", f"Expires ligt meer dan een jaar vooruit (regel {number})",
                      f"Expires is more than a year ahead (line {number})")


def judge_file(found: dict, now: dt.datetime) -> tuple[Problems, dict]:
    """How the file is served (type, charset, size, encoding), then its content."""
    problems = Problems()
    rules = policy()["security_txt"]
    if found.get("media_type") != "text/plain":
        problems.error(0, "content_type", f"Content-Type is {found.get('content_type')!r}, niet text/plain",
                       f"Content-Type is {found.get('content_type')!r}, not text/plain")
    charset = found.get("charset")
    if charset is not None and charset.lower() not in rules["utf8_charsets"]:
        problems.error(0, "charset", f"de tekenset is {charset}, niet utf-8", f"the charset is {charset}, not utf-8")
    if found.get("too_large") or found.get("bytes", 0) > rules["max_bytes"]:
        problems.error(0, "too_large", f"het bestand is groter dan {rules['max_bytes']} bytes",
                       f"the file is larger than {rules['max_bytes']} bytes")
    raw = base64.b64decode(found.get("body_base64", ""))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        problems.error(line, "not_utf8", f"regel {line} is geen geldige UTF-8", f"line {line} is not valid UTF-8")
        text = raw.decode("utf-8", errors="replace")
    urls = [*found.get("redirected_from", [])[:1], found["url"]] if found.get("url") else []
    content = parse(text, now, urls, problems)
    return problems, content


@check("web.security_txt", level="required", family="security_txt", requires=("http",), per_address=True,
       version=2, norm="Pas toe of leg uit (Forum Standaardisatie, sinds mei 2023); RFC 9116",
       title=("security.txt", "security.txt"),
       advice=("Publiceer https://host/.well-known/security.txt als text/plain (UTF-8) met ten minste één "
               "'Contact: ' (mailto: of https://), precies één 'Expires: ' binnen het komende jaar "
               "(bijvoorbeeld 2027-06-01T00:00:00Z), 'Preferred-Languages: nl, en' en, als u het bestand "
               "ondertekent, 'Canonical: ' met het adres van het bestand. Zet na elke dubbele punt één spatie en "
               "sluit elke regel, ook de laatste, af met een regeleinde. Vernieuw Expires op tijd.",
               "Publish https://host/.well-known/security.txt as text/plain (UTF-8) with at least one 'Contact: ' "
               "(mailto: or https://), exactly one 'Expires: ' within the coming year (for example "
               "2027-06-01T00:00:00Z), 'Preferred-Languages: nl, en' and, when you sign the file, 'Canonical: ' with "
               "the file's URL. Put one space after each colon and end every line, the last one included, with a "
               "line break. Renew Expires in time."))
def security_txt(facts: Facts) -> Verdict:
    """/.well-known/security.txt when it answers 200, else /security.txt; judged as of the time it was fetched,
    against the RFC 9116 grammar line by line. Limits: [security_txt] of config/policy/web.toml.
    Fail: neither path answers 200; a Content-Type other than text/plain; a charset parameter other than UTF-8
    (`utf8_charsets`: utf-8, csUTF8, any case); more than `max_bytes` (102400); bytes that are not UTF-8; a byte
    order mark; a last line without a line break; a line that is neither empty, a comment nor a field
    `Name: value` (a space after the colon); a URI field (Contact, Canonical, Acknowledgments, Encryption, Hiring,
    Policy, CSAF) that is not an RFC 3986 URI, or is an http: URI; an Expires that is not an RFC 3339 date-time or
    is not after the fetch; Preferred-Languages tags that are not well-formed RFC 5646 or have a 4-8 letter
    primary subtag; control characters in a comment or another field; no Contact; no or more than one Expires;
    more than one Preferred-Languages; an OpenPGP cleartext frame that breaks RFC 4880 7 (the signature itself is
    not verified).
    Warn: no error, but only /security.txt answers 200; Expires more than `expires_warn_days` (365) ahead; no
    Preferred-Languages; a signed file without Canonical; Canonical fields none of which is the URL fetched (asked
    for, or answered after redirects; scheme, host case and default port normalised).
    Pass: no error and no warning.
    Error: no HTTPS response on this address, or /.well-known/security.txt timed out and /security.txt gave no 200.
    """
    http = facts["http"]
    missing = unmeasured(http)
    if missing:
        return missing
    files = http.get("security_txt", {})
    well_known, legacy = files.get(WELL_KNOWN, {}), files.get(LEGACY, {})
    found, path = (well_known, WELL_KNOWN) if well_known.get("status") == 200 else (legacy, LEGACY)
    served = {p: {"status": f.get("status"), "content_type": f.get("content_type"), "error": f.get("error")}
              for p, f in files.items()}
    if found.get("status") != 200:
        if well_known.get("error") == Reason.TIMEOUT:
            return Verdict(Status.ERROR, Text(f"security.txt niet gemeten: {well_known.get('detail')}",
                                              f"security.txt not measured: {well_known.get('detail')}"),
                           {"served": served}, reason=Reason.TIMEOUT)
        return Verdict(Status.FAIL, Text(f"Geen security.txt op {WELL_KNOWN} (status {well_known.get('status')}).",
                                         f"No security.txt at {WELL_KNOWN} (status {well_known.get('status')})."),
                       {"served": served, "policy": version()})

    problems, content = judge_file(found, dt.datetime.fromisoformat(http["fetched_at"]))
    if path == LEGACY:
        problems.warn(0, "legacy_path", f"het bestand staat alleen op {LEGACY}, niet op {WELL_KNOWN}",
                      f"the file is only at {LEGACY}, not at {WELL_KNOWN}")
    listed = policy()["security_txt"]["max_problems_listed"]
    details = {"url": found.get("url"), "path": path, "served": served, "errors": problems.errors[:listed],
               "warnings": problems.warnings[:listed], "error_count": len(problems.errors),
               "warning_count": len(problems.warnings), **content, "policy": version()}
    if problems.errors:
        return Verdict(Status.FAIL, Text("security.txt is ongeldig: " + _summary(problems.errors, "nl"),
                                         "security.txt is invalid: " + _summary(problems.errors, "en")), details)
    if problems.warnings:
        return Verdict(Status.WARN, Text("security.txt is geldig, maar: " + _summary(problems.warnings, "nl"),
                                         "security.txt is valid, but: " + _summary(problems.warnings, "en")), details)
    return Verdict(Status.PASS, Text("security.txt is aanwezig en geldig.", "security.txt is present and valid."),
                   details)


def _summary(found: list[dict], lang: str) -> str:
    """The first problems in a line for people; a hostile file can have thousands."""
    shown = SUMMARY_PROBLEMS
    more = len(found) - shown
    tail = ("" if more <= 0 else f"; en nog {more}" if lang == "nl" else f"; and {more} more")
    return "; ".join(p[lang] for p in found[:shown]) + tail
