from __future__ import annotations

from enum import StrEnum

from pheu.core.exceptions import PheuError


class ImportsError(PheuError):
    """A file cannot be imported, or an import cannot be run or reverted, as asked."""

    class Code(StrEnum):
        INVALID = "invalid"
        UNREADABLE = "unreadable"  # not CSV/XLSX, or no header row
        NO_NAME_COLUMN = "no_name_column"
        NOT_RUNNABLE = "not_runnable"
        NOT_REVERTIBLE = "not_revertible"
        TOUCHED = "touched"  # records changed since the import: no revert
        FORBIDDEN = "forbidden"
