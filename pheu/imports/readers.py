"""Reading import files as rows of text, in constant memory.

CSV: the encoding is detected (UTF-8 with or without BOM, UTF-16 by its BOM or its zero bytes, otherwise
Windows-1258, the Vietnamese Windows code page) and the delimiter sniffed (``,``, ``;``, tab or ``|``).
Windows-1258 writes most Vietnamese letters as a base letter plus a combining tone mark, so its text is
recomposed (NFC), as every other source gives it. XLSX: the first sheet, read with openpyxl's read-only
(streaming) mode. The first non-empty row is the header; row numbers are the spreadsheet's (header = 1).
"""

from __future__ import annotations

import codecs
import csv
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from pheu.imports.exceptions import ImportsError
from pheu.imports.reasons import Reason
from pheu.lib.text import strip_control

SAMPLE_BYTES = 256 * 1024
MAX_LINE = 1024 * 1024  # characters of one line of a CSV file: memory stays bounded whatever the file
DELIMITERS = ",;\t|"

Cell = str | int | float | date | datetime | None


@dataclass(frozen=True)
class FileInfo:
    format: str  # "csv" | "xlsx"
    encoding: str = ""
    delimiter: str = ""


def _unreadable(reason: Reason) -> ImportsError:
    message = str(reason)
    return ImportsError(
        message, code=ImportsError.Code.UNREADABLE, field_errors={"file": [message]}, reason=reason
    )


def detect_encoding(sample: bytes) -> str:
    """The encoding of a CSV file from its first bytes (see the module's docstring)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = sample[:4096]
    if head and head.count(0) * 4 >= len(head):  # ASCII text in UTF-16 without a BOM
        even_zeros = head[0::2].count(0)
        return "utf-16-be" if even_zeros > head[1::2].count(0) else "utf-16-le"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is still UTF-8.
        if exc.start < len(sample) - 3:
            return "cp1258"
    return "utf-8"


def is_xlsx(path: Path) -> bool:
    return zipfile.is_zipfile(path)


def sniff(path: Path) -> FileInfo:
    """Detect the file's format, and for CSV its encoding and delimiter."""
    if is_xlsx(path):
        return FileInfo(format="xlsx")
    with open(path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if not sample.strip():
        raise _unreadable(Reason("empty_file"))
    encoding = detect_encoding(sample)
    text = sample.decode(encoding, errors="ignore")
    if len(sample) == SAMPLE_BYTES and "\n" in text:
        text = text[: text.rindex("\n")]  # whole lines only
    try:
        delimiter = csv.Sniffer().sniff(text, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = text.split("\n", 1)[0]
        delimiter = max(DELIMITERS, key=first.count) if any(d in first for d in DELIMITERS) else ","
    return FileInfo(format="csv", encoding=encoding, delimiter=delimiter)


def _nfc(row: list[str]) -> list[str]:
    return [unicodedata.normalize("NFC", cell) for cell in row]


def _lines(handle: Any) -> Iterator[str]:
    """The file's lines without control characters (``strip_control``: PostgreSQL stores no NUL), each read
    up to ``MAX_LINE`` characters: a longer one (a binary file, one without line breaks) is an error, not a
    line read whole into memory."""
    number = 0
    while line := handle.readline(MAX_LINE + 1):
        number += 1
        if len(line) > MAX_LINE:
            raise _unreadable(Reason("line_too_long", {"line": number, "max": f"{MAX_LINE:,}"}))
        yield strip_control(line)


def _csv_rows(path: Path, info: FileInfo) -> Iterator[tuple[int, list[Cell]]]:
    recompose = info.encoding == "cp1258"
    with open(path, encoding=info.encoding, newline="") as handle:
        reader = csv.reader(_lines(handle), delimiter=info.delimiter)
        try:
            for row in reader:
                yield reader.line_num, (_nfc(row) if recompose else row)  # type: ignore[misc]
        except UnicodeDecodeError as exc:
            raise _unreadable(
                Reason("wrong_encoding", {"encoding": info.encoding, "row": reader.line_num})
            ) from exc
        except csv.Error as exc:
            raise _unreadable(
                Reason("unreadable_row", {"row": reader.line_num + 1, "error": str(exc)})
            ) from exc


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Cell]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign zip file
        raise _unreadable(Reason("not_a_spreadsheet")) from exc
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_cell(value) for value in values]
    finally:
        book.close()


def _cell(value: Any) -> Cell:
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    return value


def _blank(row: list[Cell]) -> bool:
    try:  # a row of texts (every CSV row): blank when all of it is white space
        return not "".join(row).strip()  # type: ignore[arg-type]  # a TypeError otherwise
    except TypeError:  # numbers, dates or empty cells of a spreadsheet
        return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row)


@contextmanager
def open_rows(path: Path, info: FileInfo) -> Iterator[tuple[list[str], Iterator[tuple[int, list[Cell]]]]]:
    """``(headers, rows)``: the header texts and an iterator of ``(row number, cells)`` after it (blank
    rows skipped). Raises :class:`ImportsError` when there is no header row."""
    rows = _xlsx_rows(path) if info.format == "xlsx" else _csv_rows(path, info)
    try:
        for _number, row in rows:
            if not _blank(row):
                headers = ["" if cell is None else str(cell).strip() for cell in row]
                break
        else:
            raise _unreadable(Reason("no_header_row"))
        yield headers, ((number, row) for number, row in rows if not _blank(row))
    finally:
        close = getattr(rows, "close", None)
        if close:
            close()


__all__ = ["FileInfo", "detect_encoding", "open_rows", "sniff"]
