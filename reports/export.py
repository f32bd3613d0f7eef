"""CSV files for people's spreadsheets. Scanned text is hostile: a cell that starts with `=`, `+`, `-`, `@`,
a tab or a carriage return is a formula to Excel and LibreOffice (an MX name `=HYPERLINK(...)` would run when
the export is opened), so such a cell is written with a leading `'`, as OWASP advises. Every CSV writer of
govscan goes through `csv_writer`."""
from __future__ import annotations

import csv

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A cell as written: text that a spreadsheet would read as a formula gets a leading `'`; numbers stay."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeWriter:
    def __init__(self, fh, **options):
        self._writer = csv.writer(fh, **options)

    def writerow(self, row) -> None:
        self._writer.writerow([spreadsheet_safe(cell) for cell in row])


def csv_writer(fh, **options) -> SafeWriter:
    """`csv.writer` whose cells are made safe for spreadsheets."""
    return SafeWriter(fh, **options)
