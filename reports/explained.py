"""The words every report uses for an explanation ("pas toe of leg uit", storage/explanations.py): the label
"explained" (uitgelegd) that stands beside a failing finding's measured status, the HTML and export fields
that give its reason, who gave it and until when, and why an explanation stopped holding. The reports keep
the measured status; an explanation is shown next to it and never turns a failure into a pass.

The reason and the name are the user's own text: escaped here for HTML; CSV writers (reports.export) and the
terminal (reports.console.safe) escape them as they do scanned text.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

from govscan.model import Text, say, utc_iso

LABEL = Text("uitgelegd", "explained")
ENDED = {
    "expired": Text("verlopen", "expired"),
    "revoked": Text("ingetrokken", "revoked"),
    "evidence": Text("de uitkomst veranderde", "the result changed"),
}


def until(expires: datetime) -> str:
    """The last day an explanation holds: it ends at `expires` (exclusive), so a midnight expiry is the day
    before."""
    return f"{expires - timedelta(microseconds=1):%Y-%m-%d}"


def html(reason: str, by: str, expires: datetime, lang: str) -> str:
    """An explanation under a finding's summary in the HTML reports: the label, who gave it, until when and
    why, escaped (the reason and the name are the user's text)."""
    rest = say(lang, f" door {by}, tot en met {until(expires)}: ", f" by {by}, until {until(expires)} inclusive: ")
    return (f'<p class="explained"><strong class="status-explained">{escape(LABEL.get(lang))}</strong>'
            f"{escape(rest)}{escape(reason)}</p>")


EXPORT_FIELDS = ("explanation", "explained_by", "explanation_expires")


def export_fields(reason: str | None, by: str | None, expires: datetime | None) -> dict[str, str | None]:
    """The fields every export (CSV columns, JSON fields) gives a finding: its explanation's reason, who gave it
    and when it ends (UTC, exclusive); None when none holds."""
    return dict(zip(EXPORT_FIELDS, (reason, by, utc_iso(expires))))
