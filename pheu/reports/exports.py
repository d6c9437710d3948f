"""A report's tables as CSV and XLSX: the same rows, columns and totals as its page, headers in the reader's
language. Money and rates are numbers (a spreadsheet sums them); a row that the page leaves empty is empty."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _

from pheu.lib.spreadsheet import safe_cell, safe_text
from pheu.reports.facts import Column, Report, Table


def cell(column: Column, value: Any) -> Any:
    """A value as an export writes it: numbers stay numbers, yes/no in words, nothing as empty, a text
    (a team's, a person's, a source's name…) never a formula (``pheu.lib.spreadsheet``)."""
    if value is None:
        return ""
    if column.kind == "yesno":
        return _("yes") if value else _("no")
    return safe_cell(str(value) if isinstance(value, Promise) else value)


def _rows(table: Table) -> list[list[Any]]:
    rows = [[safe_text(str(column.label)) for column in table.columns]]
    rows += [
        [cell(c, v) for c, v in zip(table.columns, table.values(row), strict=True)] for row in table.rows
    ]
    totals = table.total_values()
    if totals is not None and table.rows:
        rows.append([cell(c, v) for c, v in zip(table.columns, totals, strict=True)])
    return rows


def _text(value: Any) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def report_csv(report: Report) -> str:
    """The tables one after the other, each under its title, separated by an empty line (UTF-8 with a BOM, so
    that spreadsheet programs read it as UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for index, table in enumerate(report.tables):
        if index:
            writer.writerow([])
        if len(report.tables) > 1:
            writer.writerow([safe_text(str(table.title))])
        writer.writerows([[_text(value) for value in row] for row in _rows(table)])
    return "\ufeff" + out.getvalue()


def report_xlsx(report: Report) -> bytes:
    """One sheet per table, its header bold."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for table in report.tables:
        title = "".join(ch for ch in str(table.title) if ch not in "[]:*?/\\")[:31] or table.name
        sheet = book.create_sheet(title)
        for index, row in enumerate(_rows(table)):
            sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
            if index == 0:
                for c in sheet[1]:
                    c.font = bold
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
