"""Exports of lead lists to CSV (streamed) and XLSX (openpyxl write-only), in constant memory.

The columns are the importable fields (``mapping.FIELDS``) under their labels in the active language, and
the values are written as the import reads them back (relations by name, the salesperson by login,
country by ISO code, choices by label), so an export imports again unchanged — but for a text that a
spreadsheet program would run as a formula, which gets an apostrophe before it (``pheu.lib.spreadsheet``).
Callers pass a queryset already narrowed to what the user may see (``visible_to``) and filtered
(``LeadFilterSet``).
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.db.models import QuerySet

from pheu.imports.mapping import FIELDS, field_label
from pheu.leads.models import Lead
from pheu.lib.spreadsheet import safe_cell

CHUNK = 2000
_RELATED = ("team", "user", "stage", "campaign", "source", "medium")


def headers() -> list[str]:
    return [field_label(name) for name in FIELDS]


def _cell(lead: Lead, name: str) -> Any:
    if name == "tags":
        return ", ".join(tag.name for tag in lead.tags.all())
    if name == "country":
        return lead.country_id or ""
    if name == "user":
        return lead.user.username if lead.user else ""
    if name in _RELATED:
        related = getattr(lead, name)
        return related.name if related else ""
    if name in ("type", "rating", "customer_type", "priority"):
        value = getattr(lead, name)
        return str(getattr(lead, f"get_{name}_display")()) if value not in ("", None) else ""
    value = getattr(lead, name)
    return "" if value is None else value


def rows(queryset: QuerySet[Lead]) -> Iterator[list[Any]]:
    """The rows of ``queryset`` (in its order), read in chunks with their relations and tags."""
    leads = queryset.select_related(*_RELATED).prefetch_related("tags")
    for lead in leads.iterator(chunk_size=CHUNK):
        yield [_cell(lead, name) for name in FIELDS]


def _text(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_chunks(queryset: QuerySet[Lead]) -> Iterator[str]:
    """The CSV text, piece by piece (UTF-8 with a BOM, so that spreadsheet programs read it as UTF-8)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(headers())
    for row in rows(queryset):
        yield writer.writerow([_text(safe_cell(value)) for value in row])


def write_csv(queryset: QuerySet[Lead], out: IO[str]) -> int:
    count = -1  # the header is not a record
    for chunk in csv_chunks(queryset):
        out.write(chunk)
        count += 1
    return max(count, 0)


def write_xlsx(queryset: QuerySet[Lead], out: IO[bytes]) -> int:
    """Write an XLSX workbook to ``out``; returns the number of records."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    bold = None
    header_cells = []
    for text in headers():
        cell = WriteOnlyCell(sheet, value=text)
        if bold is None:
            from openpyxl.styles import Font

            bold = Font(bold=True)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    for row in rows(queryset):
        sheet.append([float(v) if isinstance(v, Decimal) else safe_cell(v) for v in row])
        count += 1
    with tempfile.TemporaryFile() as buffer:
        book.save(buffer)
        buffer.seek(0)
        while chunk := buffer.read(1024 * 1024):
            out.write(chunk)
    return count
