"""Factories for import tests: real files written to a temporary directory."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pheu.imports.choices import ImportKind
from pheu.imports.models import Import
from pheu.imports.services import import_file


def write_csv(
    path: Path, rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8", delimiter: str = ","
) -> Path:
    """Write ``rows`` (header first) as a CSV file in ``encoding`` (e.g. "utf-8-sig", "utf-16", "cp1258")."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    text = buffer.getvalue()
    if encoding == "cp1258":
        text = "".join(_windows_1258(char) for char in text)
    path.write_bytes(text.encode(encoding))
    return path


_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def _windows_1258(char: str) -> str:
    """A character as Windows-1258 writes it: precomposed when the code page has it, else the letter
    (with its circumflex, breve or horn) followed by a combining tone mark."""
    try:
        char.encode("cp1258")
        return char
    except UnicodeEncodeError:
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_MARKS))
        return base + "".join(c for c in parts if c in _TONE_MARKS)


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def make_import(path: Path, *, actor: Any = None, kind: str = ImportKind.LEADS, **kw: Any) -> Import:
    """Run an import of ``path`` now, as the command line does."""
    return import_file(actor=actor, path=path, kind=kind, **kw)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return "<time>"
    if isinstance(value, date):
        return value.isoformat()
    return value


def stored_fields(lead: Any) -> dict[str, Any]:
    """Every stored field of ``lead`` but its id, comparable between two imports of one file: relations by
    name, times as a placeholder; with its tags and score."""
    row: dict[str, Any] = {}
    for field in type(lead)._meta.concrete_fields:
        if field.primary_key:
            continue
        value = getattr(lead, field.attname)
        if field.is_relation and value is not None:
            value = str(getattr(lead, field.name))
        row[field.attname] = _plain(value)
    row["tags"] = sorted(lead.tags.values_list("name", flat=True))
    row["score"] = lead.score_row.score
    return row
