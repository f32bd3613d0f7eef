"""Reading an accessibility statement (toegankelijkheidsverklaring): is this page one, which status does it
state, when was it made or last revised, which register entry and research reports does it name.

The Dutch model statement (and the register at toegankelijkheidsverklaring.nl) uses fixed phrases:
"De status van deze website is: B: voldoet gedeeltelijk", "Nalevingsstatus", "[organisatie] verklaart dat
... gedeeltelijk voldoet aan ...", "Deze verklaring is opgesteld op 21 december 2022". Free-form statements
word it their own way, so the status is taken from an explicit status line first and from the compliance
sentence second, and dates are read in both numeric (21-12-2022) and written (21 december 2022) form.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

MONTHS = {name: number for number, name in enumerate(
    ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
     "november", "december"), start=1)}
MONTHS.update({"jan": 1, "feb": 2, "mrt": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
               "okt": 10, "nov": 11, "dec": 12})
ENGLISH_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                  "october", "november", "december")
MONTHS.update({name: number for number, name in enumerate(ENGLISH_MONTHS, start=1)})

STATUS_LABELS = {"A": "voldoet volledig", "B": "voldoet gedeeltelijk", "C": "eerste maatregelen genomen",
                 "D": "voldoet niet"}

# Phrases only a statement uses (the model's fixed text); one is enough to accept a page as a statement.
MARKERS = (
    r"de status van deze (website|app|applicatie) is", r"nalevingsstatus", r"voldoet (volledig|gedeeltelijk)",
    r"(volledig|gedeeltelijk|nog niet|niet) voldoet aan", r"eerste maatregelen genomen", r"gezien en akkoord",
    r"toegankelijkheidsverklaring van", r"compliance status", r"(fully|partially) (conforms|compliant)",
)

# An explicit status line: "De status van deze website is: B", "Status: C - eerste maatregelen genomen",
# the register's "Status B. Voldoet gedeeltelijk" and "status A (voldoet volledig)".
# The status letter itself is matched case-sensitively ("status is a ..." is not status A).
STATUS_LINE = re.compile(
    r"(?i:\b(?:nalevings)?status(?: van deze (?:website|app|applicatie))?(?: is)?)\s*[:\-–]?\s*"
    r"(?i:status\s*)?([ABCD])\b(?![\w-])")
# The compliance sentence, most specific first ("nog niet voldoet" with "eerste maatregelen" is C).
STATUS_PHRASES = (
    ("C", r"eerste maatregelen (?:genomen|getroffen)|first measures"),
    ("B", r"gedeeltelijk voldoe?t|voldoe?t gedeeltelijk|partially (?:conforms|compliant)"),
    ("A", r"volledig voldoe?t|voldoe?t volledig|fully (?:conforms|compliant)"),
    ("D", r"(?:nog )?niet voldoe?t|voldoe?t (?:nog )?niet|does not conform|not compliant|non-compliant"),
)

NUMERIC_DATE = r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})"
WRITTEN_DATE = r"(\d{1,2})\s+(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?\s+(\d{4})"
ISO_DATE = r"(\d{4})-(\d{2})-(\d{2})"
ANY_DATE = re.compile(f"{WRITTEN_DATE}|{NUMERIC_DATE}|{ISO_DATE}", re.I)
# Words that put a date on the statement itself (made, revised, signed), as opposed to research dates.
DATE_KEYS = re.compile(
    r"(opgesteld|herzien|bijgewerkt|geactualiseerd|gewijzigd|aangepast|ondertekend|datum(?: van de)? verklaring|"
    r"laatst(?:e)? (?:update|wijziging)|last (?:updated|reviewed|revised)|prepared on|datum)", re.I)

REGISTER_ID = re.compile(r"toegankelijkheidsverklaring\.nl/register/(\d+)|/files/verklaring/label/[0-9a-f]{32}\.(\d+)\.svg",
                         re.I)
REPORT_WORDS = re.compile(r"onderzoek|rapport|audit|report|toets|evaluatie|inspectie", re.I)


@dataclass
class Statement:
    is_statement: bool
    markers: list[str] = field(default_factory=list)
    status: str | None = None
    status_text: str = ""
    date: dt.date | None = None
    date_text: str = ""
    dates: list[str] = field(default_factory=list)
    register_id: str | None = None
    reports: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"is_statement": self.is_statement, "markers": self.markers, "status": self.status,
                "status_text": self.status_text, "date": self.date.isoformat() if self.date else None,
                "date_text": self.date_text, "dates": self.dates, "register_id": self.register_id,
                "reports": self.reports}


def parse_date(text: str) -> dt.date | None:
    """The first date in `text`: 21-12-2022, 21/12/2022, 21 december 2022, 21 dec. 2022 or 2022-12-21."""
    match = ANY_DATE.search(text)
    return _date(match) if match else None


def _date(match: re.Match) -> dt.date | None:
    g = match.groups()
    try:
        if g[0]:
            return dt.date(int(g[2]), MONTHS[g[1].lower()], int(g[0]))
        if g[3]:
            return dt.date(int(g[5]), int(g[4]), int(g[3]))
        return dt.date(int(g[6]), int(g[7]), int(g[8]))
    except (ValueError, KeyError):
        return None


def find_status(text: str) -> tuple[str | None, str]:
    """(A-D or None, the sentence that says so)."""
    flat = " ".join(text.split())
    match = STATUS_LINE.search(flat)
    if match:
        return match.group(1).upper(), _around(flat, match)
    for status, pattern in STATUS_PHRASES:
        match = re.search(pattern, flat, re.I)
        if match:
            return status, _around(flat, match)
    return None, ""


def find_date(text: str) -> tuple[dt.date | None, str, list[str]]:
    """The statement's date: the latest date that a date word (opgesteld, herzien, ...) points at, or the
    latest date on the page when no date word is found. Also every date seen, as ISO strings."""
    flat = " ".join(text.split())
    keyed: list[tuple[dt.date, str]] = []
    every: list[tuple[dt.date, str]] = []
    previous_end = 0
    for match in ANY_DATE.finditer(flat):
        day = _date(match)
        before = flat[max(previous_end, match.start() - 60):match.start()]  # not past the previous date
        previous_end = match.end()
        if day is None:
            continue
        every.append((day, _around(flat, match)))
        if DATE_KEYS.search(before):
            keyed.append((day, _around(flat, match)))
    chosen = max(keyed or every, default=None, key=lambda item: item[0])
    dates = sorted({d.isoformat() for d, _ in every})
    return (chosen[0], chosen[1], dates) if chosen else (None, "", dates)


def parse(text: str, url: str = "", links: list[dict] | None = None) -> Statement:
    """Read one page. `links` are the page's links ({href, text}) for the register id and research reports."""
    links = links or []
    lowered = " ".join(text.split()).lower()
    markers = [m for m in MARKERS if re.search(m, lowered)]
    register_page = bool(re.search(r"toegankelijkheidsverklaring\.nl/register/\d+", url, re.I))
    status, status_text = find_status(text)
    register_id = None
    for candidate in [url] + [link.get("href", "") for link in links]:
        match = REGISTER_ID.search(candidate)
        if match:
            register_id = match.group(1) or match.group(2)
            break
    is_statement = bool(markers) or (register_page and status is not None)
    date, date_text, dates = find_date(text)
    reports = [{"href": link["href"], "text": link.get("text", "")} for link in links
               if REPORT_WORDS.search(link.get("text", "") + " " + link.get("href", ""))
               and not REGISTER_ID.search(link.get("href", ""))][:10]
    return Statement(is_statement, markers, status if is_statement else None, status_text if is_statement else "",
                     date, date_text, dates, register_id, reports)


def _around(text: str, match: re.Match, width: int = 80) -> str:
    return text[max(0, match.start() - width // 2):match.end() + width // 2].strip()
