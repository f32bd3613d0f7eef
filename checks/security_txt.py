"""security.txt (RFC 9116), per IP address: where it is served, how, and whether its fields are valid.

Judged at the moment the file was fetched (the artifact's `fetched_at`), so re-evaluating an old artifact
gives the verdict of that day. Limits come from config/policy/web.toml. Every error and warning names its
line number, so the fix can be found in the file.
"""
from __future__ import annotations

import base64
import datetime as dt
import re

from checks.https import unmeasured
from checks.registry import Facts, check
from checks.web_policy import policy, version
from govscan.model import Reason, Status, Text, Verdict

WELL_KNOWN, LEGACY = "/.well-known/security.txt", "/security.txt"
FIELD = re.compile(r"^([A-Za-z0-9-]+):[ \t]*(.*?)[ \t]*$")
PGP_BEGIN, PGP_SIGNATURE = "-----BEGIN PGP SIGNED MESSAGE-----", "-----BEGIN PGP SIGNATURE-----"


class Problems:
    """Errors (the file fails) and warnings, each with a line number (0: the file as a whole)."""

    def __init__(self):
        self.errors: list[dict] = []
        self.warnings: list[dict] = []

    def error(self, line: int, nl: str, en: str) -> None:
        self.errors.append({"line": line, "nl": nl, "en": en})

    def warn(self, line: int, nl: str, en: str) -> None:
        self.warnings.append({"line": line, "nl": nl, "en": en})


def _content_lines(text: str) -> tuple[list[tuple[int, str]], bool]:
    """The (line number, text) pairs to parse, and whether the file is PGP-signed (then only the signed
    part counts, with its dash-escaping undone)."""
    lines = list(enumerate(text.splitlines(), start=1))
    if not lines or lines[0][1].strip() != PGP_BEGIN:
        return lines, False
    content, in_header = [], True
    for number, line in lines[1:]:
        if in_header:  # armor headers ("Hash: SHA256") up to the first empty line
            in_header = bool(line.strip())
            continue
        if line.strip() == PGP_SIGNATURE:
            break
        content.append((number, line[2:] if line.startswith("- ") else line))
    return content, True


def parse(text: str, now: dt.datetime, problems: Problems) -> dict:
    """Check the fields of a security.txt; returns the fields found (name -> [(line, value)])."""
    rules = policy()["security_txt"]
    lines, signed = _content_lines(text)
    fields: dict[str, list[tuple[int, str]]] = {}
    for number, line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = FIELD.match(line)
        if not match:
            problems.error(number, f"regel {number} is geen veld ('Naam: waarde') en geen commentaar",
                           f"line {number} is neither a field ('Name: value') nor a comment")
            continue
        fields.setdefault(match.group(1).lower(), []).append((number, match.group(2)))

    contacts = fields.get("contact", [])
    if not contacts:
        problems.error(0, "er is geen Contact-veld", "there is no Contact field")
    for number, value in contacts:
        if not value.lower().startswith(tuple(rules["contact_schemes"])):
            problems.error(number, f"Contact op regel {number} is geen mailto:-, tel:- of https://-adres: {value!r}",
                           f"Contact on line {number} is not a mailto:, tel: or https:// URI: {value!r}")

    expires = fields.get("expires", [])
    if not expires:
        problems.error(0, "er is geen Expires-veld", "there is no Expires field")
    for number, _ in expires[1:]:
        problems.error(number, f"Expires staat er meer dan eens (regel {number})",
                       f"Expires appears more than once (line {number})")
    if expires:
        _check_expires(*expires[0], now, problems)

    for number, _ in fields.get("preferred-languages", [])[1:]:
        problems.error(number, f"Preferred-Languages staat er meer dan eens (regel {number})",
                       f"Preferred-Languages appears more than once (line {number})")
    if "preferred-languages" not in fields:
        problems.warn(0, "Preferred-Languages ontbreekt", "Preferred-Languages is missing")
    if signed and "canonical" not in fields:
        problems.warn(0, "het bestand is ondertekend maar heeft geen Canonical-veld",
                      "the file is signed but has no Canonical field")
    return {"fields": {name: [value for _, value in found] for name, found in fields.items()}, "signed": signed}


def _check_expires(number: int, value: str, now: dt.datetime, problems: Problems) -> None:
    try:
        expires = dt.datetime.fromisoformat(value)
        if "T" not in value.upper() or expires.tzinfo is None:
            raise ValueError
    except ValueError:
        problems.error(number, f"Expires op regel {number} is geen datum-tijd volgens RFC 3339: {value!r}",
                       f"Expires on line {number} is not an RFC 3339 date-time: {value!r}")
        return
    if expires <= now:
        problems.error(number, f"het bestand is verlopen op {expires:%Y-%m-%d} (regel {number})",
                       f"the file expired on {expires:%Y-%m-%d} (line {number})")
    elif expires - now > dt.timedelta(days=policy()["security_txt"]["expires_warn_days"]):
        problems.warn(number, f"Expires ligt meer dan een jaar vooruit (regel {number})",
                      f"Expires is more than a year ahead (line {number})")


def judge_file(found: dict, now: dt.datetime) -> tuple[Problems, dict]:
    """How the file is served (type, charset, size, encoding), then its content."""
    problems = Problems()
    limit = policy()["security_txt"]["max_bytes"]
    if found.get("media_type") != "text/plain":
        problems.error(0, f"Content-Type is {found.get('content_type')!r}, niet text/plain",
                       f"Content-Type is {found.get('content_type')!r}, not text/plain")
    if found.get("charset") not in (None, "utf-8"):
        problems.error(0, f"de tekenset is {found['charset']}, niet utf-8", f"the charset is {found['charset']}, not utf-8")
    if found.get("too_large") or found.get("bytes", 0) > limit:
        problems.error(0, f"het bestand is groter dan {limit} bytes", f"the file is larger than {limit} bytes")
    raw = base64.b64decode(found.get("body_base64", ""))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        problems.error(line, f"regel {line} is geen geldige UTF-8", f"line {line} is not valid UTF-8")
        text = raw.decode("utf-8", errors="replace")
    content = parse(text, now, problems)
    return problems, content


@check("web.security_txt", level="required", family="security_txt", requires=("http",), per_address=True,
       norm="Pas toe of leg uit (Forum Standaardisatie, sinds mei 2023); RFC 9116",
       title=("security.txt", "security.txt"),
       advice=("Publiceer https://host/.well-known/security.txt als text/plain (UTF-8) met ten minste één "
               "'Contact:' (mailto: of https://), precies één 'Expires:' binnen het komende jaar, "
               "'Preferred-Languages: nl, en' en, als u het bestand ondertekent, 'Canonical:'. Vernieuw Expires "
               "op tijd.",
               "Publish https://host/.well-known/security.txt as text/plain (UTF-8) with at least one 'Contact:' "
               "(mailto: or https://), exactly one 'Expires:' within the coming year, 'Preferred-Languages: nl, "
               "en' and, when you sign the file, 'Canonical:'. Renew Expires in time."))
def security_txt(facts: Facts) -> Verdict:
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
        problems.warn(0, f"het bestand staat alleen op {LEGACY}, niet op {WELL_KNOWN}",
                      f"the file is only at {LEGACY}, not at {WELL_KNOWN}")
    details = {"url": found.get("url"), "path": path, "served": served, "errors": problems.errors,
               "warnings": problems.warnings, **content, "policy": version()}
    if problems.errors:
        return Verdict(Status.FAIL, Text("security.txt is ongeldig: " + "; ".join(e["nl"] for e in problems.errors),
                                         "security.txt is invalid: " + "; ".join(e["en"] for e in problems.errors)),
                       details)
    if problems.warnings:
        return Verdict(Status.WARN, Text("security.txt is geldig, maar: " + "; ".join(w["nl"] for w in problems.warnings),
                                         "security.txt is valid, but: " + "; ".join(w["en"] for w in problems.warnings)),
                       details)
    return Verdict(Status.PASS, Text("security.txt is aanwezig en geldig.", "security.txt is present and valid."),
                   details)
