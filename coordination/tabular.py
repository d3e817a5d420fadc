"""The one writer every CSV and XLSX download goes through.

A spreadsheet treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and,
in some programs, tab or carriage return) as a formula: a lot note
``=HYPERLINK("http://evil.example","click")`` typed by one user becomes a link
in a colleague's Excel. OWASP's rule is to prefix such text with a single
quote, which Excel shows as plain text; numbers (a negative balance) are data,
not text, and pass unchanged. XLSX text cells are also written with the string
type, so openpyxl can never store one as a formula whatever it holds.

Keeping the rule here, not at each export, is what makes a new export safe by
default: ``tests/test_exports_safe.py`` walks every CSV/XLSX route.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run, prefixed with ``'``; everything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _row(values: Iterable[Any]) -> list[Any]:
    return [neutralise(v) for v in values]


class CsvStream:
    """Rows written one page at a time, each page drained as text (for streamed downloads)."""

    def __init__(self) -> None:
        self._buf = io.StringIO()
        self._writer = csv.writer(self._buf)

    def write(self, rows: Iterable[Sequence[Any]]) -> str:
        """Write rows and hand back the CSV text they made (the buffer starts empty again)."""
        self._writer.writerows(_row(r) for r in rows)
        text = self._buf.getvalue()
        self._buf.seek(0)
        self._buf.truncate()
        return text


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """A whole CSV file, UTF-8 with a byte-order mark so Excel reads Chinese text right."""
    return CsvStream().write(rows).encode("utf-8-sig")


def xlsx_bytes(rows: Iterable[Sequence[Any]], sheet: str) -> bytes:
    """A one-sheet workbook; text cells are strings (type ``s``), never formulas."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    ws = book.create_sheet(title=sheet[:31])
    for line in rows:
        cells = []
        for value in _row(line):
            c = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                c.data_type = "s"
            cells.append(c)
        ws.append(cells)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
