"""Cells of CSV and XLSX exports that a spreadsheet program cannot run ("CSV injection").

A spreadsheet program reads a cell starting with ``=``, ``+``, ``-`` or ``@`` (and, in a CSV file, after a
tab or carriage return) as a formula: a lead named ``=HYPERLINK("http://…")`` or ``=cmd|' /C calc'!A0``
would run when a salesperson opens the export. Every text cell of every export goes through
:func:`safe_cell`, which puts an apostrophe before such a text — the spreadsheet's own mark of "text, not a
formula", which it shows without the apostrophe. Numbers (a negative amount) stay numbers, and a text that
is only a number or a telephone number (``+84 912 345 678``, ``-12,5``) is kept as it is: it holds no
formula a program could run.
"""

from __future__ import annotations

import re
from typing import Any

from pheu.lib.text import strip_control

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_LIKE = re.compile(r"[+-]?[\d(][\d\s().,/-]*")


def safe_text(value: str) -> str:
    """``value`` as a cell's text: control characters removed (no XLSX cell may hold them), and an
    apostrophe before a text a spreadsheet program would read as a formula."""
    value = strip_control(value)
    if value.startswith(FORMULA_STARTS) and not _NUMBER_LIKE.fullmatch(value):
        return "'" + value
    return value


def safe_cell(value: Any) -> Any:
    """:func:`safe_text` for a text, any other value (number, date, None) as it is."""
    return safe_text(value) if isinstance(value, str) else value
